/// @file
/// aigc's export room: the model in formats of other engines (ONNX), each with a CMake target of
/// its own (aigc::onnx). Not included by aigc.hpp.
#pragma once

#include "aigc/export/onnx.hpp"
