/// @file
/// aigc's training room: fit: the training loop with logs and checkpoints. Includes every header of
/// include/aigc/training/.
#pragma once

#include "aigc/training/checkpoints.hpp"
#include "aigc/training/fit.hpp"
#include "aigc/training/log.hpp"
