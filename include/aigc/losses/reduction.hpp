/// @file
/// aigc: how a loss reduces over elements.
#pragma once

namespace aigc {

/// sum: the sum over all elements; mean: the sum divided by the number of elements.
enum class Reduction { sum, mean };

}  // namespace aigc
