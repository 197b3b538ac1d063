/// @file
/// aigc's losses room: BCE, MSE, cross-entropy, Gaussian KL, GAN objectives. Includes every header
/// of include/aigc/losses/.
#pragma once

#include "aigc/losses/bce.hpp"
#include "aigc/losses/cross_entropy.hpp"
#include "aigc/losses/gan.hpp"
#include "aigc/losses/gaussian_kl.hpp"
#include "aigc/losses/mse.hpp"
#include "aigc/losses/r1.hpp"
#include "aigc/losses/reduction.hpp"
