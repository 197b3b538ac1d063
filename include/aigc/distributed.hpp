/// @file
/// aigc's distributed room: data-parallel training over MPI. Needs MPI: link aigc::mpi (not
/// part of aigc/aigc.hpp). Includes every header of include/aigc/distributed/.
#pragma once

#include "aigc/distributed/mpi.hpp"
