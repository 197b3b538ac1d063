/// @file
/// aigc's metrics room: ELBO, Fréchet distance. Includes every header of include/aigc/metrics/.
#pragma once

#include "aigc/metrics/elbo.hpp"
#include "aigc/metrics/frechet.hpp"
