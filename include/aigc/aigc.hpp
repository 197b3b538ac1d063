/// @file
/// aigc: the umbrella header. Includes every public header of the library, room by room, but those
/// of export/, which need a dependency of their own (aigc/export/onnx.hpp: the target aigc::onnx).
/// A program that needs one room includes that room's header (`<aigc/layers.hpp>`) or single
/// headers
/// (`<aigc/layers/dense.hpp>`) and parses less.
#pragma once

#include "aigc/core.hpp"
#include "aigc/data.hpp"
#include "aigc/io.hpp"
#include "aigc/kernels.hpp"
#include "aigc/layers.hpp"
#include "aigc/losses.hpp"
#include "aigc/metrics.hpp"
#include "aigc/models.hpp"
#include "aigc/optim.hpp"
#include "aigc/testing.hpp"
#include "aigc/training.hpp"
#include "aigc/version.hpp"
