// OutputFile: where a command writes a report it was given a path for (--report, --json, --csv,
// --html, --output): that file, or standard output when the path is "-", as everywhere.
//
// The file is created (or truncated) by Open, so a path that cannot be written is found before the
// work, not after it; Close flushes and says whether everything was written. A command whose
// report goes to standard output prints its own text (a summary, a table) to stderr instead, so
// that what it pipes is the report alone: IsStdout tells it.
//
// Thread rules: one thread.
#pragma once

#include <fstream>
#include <iostream>
#include <ostream>
#include <string>

#include "util/result.h"
#include "util/status.h"

namespace fanout::cli {

class OutputFile {
 public:
  // Errors: kUnavailable naming the path and `what` (e.g. "--report") when it cannot be created.
  static Result<OutputFile> Open(const std::string& path, const std::string& what);

  static bool IsStdout(const std::string& path) { return path == "-"; }

  std::ostream& stream() { return IsStdout(path_) ? std::cout : file_; }

  // Flushes; kUnavailable if anything could not be written (a full disk, a closed pipe).
  Status Close();

 private:
  OutputFile(std::string path, std::string what) : path_(std::move(path)), what_(std::move(what)) {}
  std::string path_, what_;
  std::ofstream file_;
};

}  // namespace fanout::cli
