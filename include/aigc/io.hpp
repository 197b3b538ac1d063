/// @file
/// aigc's io room: checkpoints, model files, PNG grids, CSV, TensorBoard, plots, progress. Includes
/// every header of include/aigc/io/.
#pragma once

#include "aigc/io/checkpoint.hpp"
#include "aigc/io/csv_log.hpp"
#include "aigc/io/grids.hpp"
#include "aigc/io/image_folder.hpp"
#include "aigc/io/model_file.hpp"
#include "aigc/io/plot.hpp"
#include "aigc/io/png.hpp"
#include "aigc/io/progress.hpp"
#include "aigc/io/tensorboard.hpp"
