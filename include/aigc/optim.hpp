/// @file
/// aigc's optim room: SGD, Adam. Includes every header of include/aigc/optim/.
#pragma once

#include "aigc/optim/adam.hpp"
#include "aigc/optim/ema.hpp"
#include "aigc/optim/optimizer.hpp"
#include "aigc/optim/schedule.hpp"
#include "aigc/optim/sgd.hpp"
