// GzipMemberWriter: compresses one buffer into one complete gzip member (RFC 1952), appended to
// an output string. A .warc.gz is such members end to end, one per record, so a reader can start
// at any record's offset; `zcat` and zlib still read the whole file as one stream.
//
// The libdeflate compressor (hundreds of kB of state at the higher levels) is allocated once per
// writer and reused for every member. Threads: one writer per thread at a time; use several
// writers (or a pool) to compress in parallel.
#pragma once

#include <memory>
#include <string>
#include <string_view>

struct libdeflate_compressor;

namespace fanout {

class GzipMemberWriter {
 public:
  // `level` 1 (fastest) .. 9 (smallest); values outside are clamped. libdeflate's 10..12 are
  // not offered: they cost many times the CPU for a few per cent.
  explicit GzipMemberWriter(int level);

  int level() const { return level_; }

  // Appends the gzip member holding exactly `in` to `out`.
  void Append(std::string_view in, std::string& out);

 private:
  struct Free {
    void operator()(libdeflate_compressor* c) const;
  };
  int level_;
  std::unique_ptr<libdeflate_compressor, Free> compressor_;
};

}  // namespace fanout
