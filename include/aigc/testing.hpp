/// @file
/// aigc's testing room: the finite-difference gradient checker. Includes every header of
/// include/aigc/testing/.
#pragma once

#include "aigc/testing/gradcheck.hpp"
