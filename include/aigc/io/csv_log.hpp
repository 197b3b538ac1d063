/// @file
/// aigc: a CSV log of scalars, one row per step or epoch, flushed row by row.
#pragma once

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <initializer_list>
#include <string>
#include <vector>

#include "aigc/core/error.hpp"

namespace aigc {

/// Writes a header of column names, then rows of numbers (the shortest text that reads back to
/// the same double; nan and inf as such). Each row is flushed, so a crash loses at most one row.
class CsvLog {
 public:
  /// Creates (or truncates) the file at `path` and writes the header of `columns`.
  CsvLog(const std::string& path, std::vector<std::string> columns)
      : path_(path), columns_(std::move(columns)) {
    if (columns_.empty()) throw ArgumentError(path + ": a CSV log needs at least one column");
    file_ = std::fopen(path.c_str(), "w");
    if (!file_) throw FileError(path + ": cannot open for writing (" + std::strerror(errno) + ")");
    std::string header;
    for (std::size_t i = 0; i < columns_.size(); ++i) {
      if (columns_[i].find_first_of(",\"\n") != std::string::npos) {
        throw ArgumentError(path + ": column name '" + columns_[i] +
                            "' holds a comma, quote or newline");
      }
      header += (i ? "," : "") + columns_[i];
    }
    write_line(header);
  }
  CsvLog(const CsvLog&) = delete;
  CsvLog& operator=(const CsvLog&) = delete;
  ~CsvLog() {
    if (file_) std::fclose(file_);
  }

  /// One row; as many values as columns.
  void row(std::initializer_list<double> values) { row(std::vector<double>(values)); }
  /// One row; as many values as columns.
  void row(const std::vector<double>& values) {
    if (values.size() != columns_.size()) {
      throw ArgumentError(path_ + ": a row of " + std::to_string(values.size()) + " values for " +
                          std::to_string(columns_.size()) + " columns");
    }
    std::string line;
    char buf[64];
    for (std::size_t i = 0; i < values.size(); ++i) {
      if (i) line += ',';
      line.append(buf, std::to_chars(buf, buf + sizeof buf, values[i]).ptr);
    }
    write_line(line);
  }

  /// The file's path.
  const std::string& path() const { return path_; }
  /// The column names.
  const std::vector<std::string>& columns() const { return columns_; }

 private:
  void write_line(const std::string& line) {
    if (std::fputs(line.c_str(), file_) < 0 || std::fputc('\n', file_) == EOF ||
        std::fflush(file_) != 0) {
      throw FileError(path_ + ": cannot write (" + std::strerror(errno) + ")");
    }
  }

  std::string path_;
  std::vector<std::string> columns_;
  std::FILE* file_ = nullptr;
};

}  // namespace aigc
