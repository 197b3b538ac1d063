/// @file
/// aigc: a CSV log of scalars, one row per step or epoch, flushed row by row.
#pragma once

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include "aigc/core/error.hpp"

namespace aigc {

/// Which rows of an earlier run's log a resumed CsvLog keeps: those whose `column` is <= `up_to`.
struct CsvKeep {
  std::string column;  ///< e.g. "step"
  double up_to = 0;    ///< the resumed run's last value of that column
};

/// Writes a header of column names, then rows of numbers (the shortest text that reads back to
/// the same double; nan and inf as such). Each row is flushed, so a crash loses at most one row.
class CsvLog {
 public:
  /// Creates (or truncates) the file at `path` and writes the header of `columns`. With `keep`,
  /// continues the log of a resumed run instead: an existing file at `path` must have the header
  /// of `columns`; its rows whose `keep->column` is <= `keep->up_to` are kept (the rows past the
  /// resumed point, and a torn last line, are dropped, so the run writes them again) and new rows
  /// are appended; a missing file is created.
  CsvLog(const std::string& path, std::vector<std::string> columns,
         const std::optional<CsvKeep>& keep = std::nullopt)
      : path_(path), columns_(std::move(columns)) {
    const std::string header = header_line();
    std::string text;
    if (keep) {
      std::ifstream earlier(path, std::ios::binary);
      text.assign(std::istreambuf_iterator<char>(earlier), std::istreambuf_iterator<char>());
    }
    if (text.empty()) {
      open("w");
      write_line(header);
      return;
    }
    const std::string kept = rows_kept(text, header, *keep);
    replace_file(header + "\n" + kept);
    open("a");
    for (std::size_t at = 0; at < kept.size();) {
      const std::size_t eol = kept.find('\n', at);
      std::vector<double> row;
      for (const char* p = kept.c_str() + at;; ++p) {
        char* end = nullptr;
        row.push_back(std::strtod(p, &end));
        p = end;
        if (*p != ',') break;
      }
      kept_rows_.push_back(std::move(row));
      at = eol + 1;
    }
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
  /// The rows an earlier run's log kept on resuming (none for a new log), e.g. to redraw a plot.
  const std::vector<std::vector<double>>& kept_rows() const { return kept_rows_; }

 private:
  // The rows of an earlier log's `text` whose `keep.column` is <= `keep.up_to`; a torn last line
  // (a crash mid-write) is dropped.
  std::string rows_kept(const std::string& text, const std::string& header,
                        const CsvKeep& keep) const {
    const auto key = std::find(columns_.begin(), columns_.end(), keep.column);
    if (key == columns_.end())
      throw ArgumentError(path_ + ": no column '" + keep.column + "' to resume the log by");
    const std::size_t end_of_header = std::min(text.find('\n'), text.size());
    if (text.substr(0, end_of_header) != header) {
      throw FileError(path_ + ": its header '" +
                      text.substr(0, std::min<std::size_t>(end_of_header, 200)) +
                      "' is not this log's '" + header + "'; cannot resume it");
    }
    std::string kept;
    const auto column = static_cast<std::size_t>(key - columns_.begin());
    for (std::size_t at = end_of_header + 1; at < text.size();) {
      const std::size_t eol = text.find('\n', at);
      if (eol == std::string::npos) break;
      const std::string line = text.substr(at, eol - at);
      at = eol + 1;
      std::size_t field = 0;
      for (std::size_t c = 0; c < column && field != std::string::npos; ++c) {
        field = line.find(',', field);
        if (field != std::string::npos) ++field;
      }
      if (field == std::string::npos) continue;  // too few fields: not a row of this log
      if (std::strtod(line.c_str() + field, nullptr) <= keep.up_to) kept += line + "\n";
    }
    return kept;
  }

  // Writes `text` beside the file and renames it over it: a crash leaves the old or the new log.
  void replace_file(const std::string& text) const {
    const std::string tmp = path_ + ".tmp";
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      out << text;
      out.flush();
      if (!out) throw FileError(tmp + ": cannot write (" + std::strerror(errno) + ")");
    }
    if (std::rename(tmp.c_str(), path_.c_str()) != 0)
      throw FileError(path_ + ": cannot replace (" + std::strerror(errno) + ")");
  }

  std::string header_line() const {
    if (columns_.empty()) throw ArgumentError(path_ + ": a CSV log needs at least one column");
    std::string header;
    for (std::size_t i = 0; i < columns_.size(); ++i) {
      if (columns_[i].find_first_of(",\"\n") != std::string::npos) {
        throw ArgumentError(path_ + ": column name '" + columns_[i] +
                            "' holds a comma, quote or newline");
      }
      header += (i ? "," : "") + columns_[i];
    }
    return header;
  }

  void open(const char* mode) {
    file_ = std::fopen(path_.c_str(), mode);
    if (!file_) throw FileError(path_ + ": cannot open for writing (" + std::strerror(errno) + ")");
  }

  void write_line(const std::string& line) {
    if (std::fputs(line.c_str(), file_) < 0 || std::fputc('\n', file_) == EOF ||
        std::fflush(file_) != 0) {
      throw FileError(path_ + ": cannot write (" + std::strerror(errno) + ")");
    }
  }

  std::string path_;
  std::vector<std::string> columns_;
  std::FILE* file_ = nullptr;
  std::vector<std::vector<double>> kept_rows_;
};

}  // namespace aigc
