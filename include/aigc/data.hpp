/// @file
/// aigc's data room: IDX files, image folders, byte data sets, the seeded loader. Includes every
/// header of include/aigc/data/.
#pragma once

#include "aigc/data/byte_dataset.hpp"
#include "aigc/data/dataset.hpp"
#include "aigc/data/idx.hpp"
#include "aigc/data/idx_writer.hpp"
#include "aigc/data/image_decode.hpp"
#include "aigc/data/image_folder.hpp"
#include "aigc/data/loader.hpp"
