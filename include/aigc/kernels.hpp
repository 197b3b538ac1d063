/// @file
/// aigc's kernels room: the performance core (aigc::kernels): GEMM, im2col, elementwise, thread
/// pool. Includes every header of include/aigc/kernels/.
#pragma once

#include "aigc/kernels/augment.hpp"
#include "aigc/kernels/batchnorm.hpp"
#include "aigc/kernels/conditioning.hpp"
#include "aigc/kernels/dropout.hpp"
#include "aigc/kernels/elementwise.hpp"
#include "aigc/kernels/gemm.hpp"
#include "aigc/kernels/gemm_bf16.hpp"
#include "aigc/kernels/gemm_col2im.hpp"
#include "aigc/kernels/im2col.hpp"
#include "aigc/kernels/im2col_gemm.hpp"
#include "aigc/kernels/image_rows.hpp"
#include "aigc/kernels/losses.hpp"
#include "aigc/kernels/partition.hpp"
#include "aigc/kernels/scratch.hpp"
#include "aigc/kernels/simd.hpp"
#include "aigc/kernels/softmax.hpp"
#include "aigc/kernels/thread_pool.hpp"
#include "aigc/kernels/threads.hpp"
#include "aigc/kernels/update.hpp"
