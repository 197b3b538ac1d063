/// @file
/// aigc's core room: tensors, parameters, modules, RNG, errors, configs. Includes every header of
/// include/aigc/core/.
#pragma once

#include "aigc/core/activation.hpp"
#include "aigc/core/buffer.hpp"
#include "aigc/core/config.hpp"
#include "aigc/core/error.hpp"
#include "aigc/core/module.hpp"
#include "aigc/core/param.hpp"
#include "aigc/core/process_group.hpp"
#include "aigc/core/rng.hpp"
#include "aigc/core/state.hpp"
#include "aigc/core/tensor.hpp"
