/// @file
/// aigc's layers room: Dense, Conv2d, ConvTranspose2d, BatchNorm, activations, Sequential,
/// conditioning. Includes every header of include/aigc/layers/.
#pragma once

#include "aigc/layers/activation.hpp"
#include "aigc/layers/batchnorm.hpp"
#include "aigc/layers/conditioning.hpp"
#include "aigc/layers/conv2d.hpp"
#include "aigc/layers/conv_transpose2d.hpp"
#include "aigc/layers/dense.hpp"
#include "aigc/layers/diff_augment.hpp"
#include "aigc/layers/dropout.hpp"
#include "aigc/layers/module_tree.hpp"
#include "aigc/layers/precision.hpp"
#include "aigc/layers/reshape.hpp"
#include "aigc/layers/sequential.hpp"
#include "aigc/layers/spectral_norm.hpp"
