#include "cli/output_file.h"

#include <iostream>

namespace fanout::cli {

Result<OutputFile> OutputFile::Open(const std::string& path, const std::string& what) {
  OutputFile out(path, what);
  if (IsStdout(path)) return out;
  out.file_.open(path, std::ios::binary | std::ios::trunc);
  if (!out.file_) return Status::Unavailable("cannot write " + what + " file '" + path + "'");
  return out;
}

Status OutputFile::Close() {
  std::ostream& s = stream();
  s.flush();
  const bool ok = static_cast<bool>(s);
  if (!IsStdout(path_)) file_.close();
  if (!ok) return Status::Unavailable("cannot write " + what_ + (IsStdout(path_) ? " to standard output" : " file '" + path_ + "'"));
  return Status::Ok();
}

}  // namespace fanout::cli
