/// @file
/// aigc: exceptions. Every error says which file, tensor or flag is at fault.
#pragma once

#include <stdexcept>
#include <string>

namespace aigc {

/// Base of every exception aigc throws.
class Error : public std::runtime_error {
 public:
  /// An error whose message is `what`.
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

/// Two tensors whose shapes do not fit together; the message names both shapes.
class ShapeError : public Error {
 public:
  using Error::Error;  ///< Error(what): an error whose message is `what`.
};

/// A file that cannot be opened, read, written, or whose contents are malformed.
class FileError : public Error {
 public:
  using Error::Error;  ///< Error(what): an error whose message is `what`.
};

/// A bad argument or flag value (zero sizes, negative rates, unknown names).
class ArgumentError : public Error {
 public:
  using Error::Error;  ///< Error(what): an error whose message is `what`.
};

/// A non-finite loss or gradient during training.
class NumericError : public Error {
 public:
  using Error::Error;  ///< Error(what): an error whose message is `what`.
};

}  // namespace aigc
