// Reading WARC files back: one record at a known place (what the crawl database points at), a
// whole .warc.gz member by member (indexing, checks), and the HTTP message inside a record.
//
// Records are read from .warc.gz files holding one gzip member per record, as WarcArchive writes
// them (WARC/1.0 and 1.1 are both accepted). Threads: the functions are safe anywhere; a
// WarcFileReader is used by one thread at a time.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/fd.h"
#include "util/result.h"
#include "warc/warc_record.h"

namespace fanout {

struct WarcRecordRead {
  std::vector<WarcField> fields;  // in file order, Content-Length included
  std::string block;
  // The first field named `name`, compared case-insensitively; "" if absent.
  std::string Field(std::string_view name) const;
};

// Parses one uncompressed record ("WARC/1.1\r\n" fields, block, "\r\n\r\n").
// Errors: Corruption when it is not one.
Result<WarcRecordRead> ParseWarcRecord(std::string_view bytes);

// Reads and parses the one gzip member at [offset, offset + length) of `path` (pread, zlib).
// Errors: IOError when the file cannot be read; Corruption when the range is not one whole
// member holding one record.
Result<WarcRecordRead> ReadWarcRecordAt(const std::string& path, uint64_t offset, uint64_t length);

// Walks a .warc.gz member by member. A torn last member (kill -9 mid-write, a cut file) ends the
// walk with torn() true instead of an error; a corrupt member with more data after it is an
// error Status. Move-only (it owns the file descriptor).
class WarcFileReader {
 public:
  static Result<WarcFileReader> Open(const std::string& path);

  WarcFileReader(WarcFileReader&& other) noexcept = default;
  WarcFileReader& operator=(WarcFileReader&& other) noexcept = default;
  WarcFileReader(const WarcFileReader&) = delete;
  WarcFileReader& operator=(const WarcFileReader&) = delete;

  struct Entry {
    uint64_t offset = 0, length = 0;  // the member's place in the file
    WarcRecordRead record;
  };
  // The next record, or nullopt at the end of the file (or at a torn tail: see torn()).
  Result<std::optional<Entry>> Next();
  // True once Next() met a last member cut short.
  bool torn() const { return torn_; }

 private:
  WarcFileReader(UniqueFd fd, uint64_t size, std::string path)
      : fd_(std::move(fd)), size_(size), path_(std::move(path)) {}

  UniqueFd fd_;
  uint64_t size_ = 0;
  uint64_t offset_ = 0;
  bool torn_ = false;
  std::string path_;
};

// The parts of an HTTP message block (application/http): start line, header fields as sent, and
// the entity (transfer framing and content coding as received). Views into the block.
struct HttpMessageView {
  std::string_view start_line;
  std::vector<std::pair<std::string_view, std::string_view>> headers;
  std::string_view body;
  // The first header named `name`, compared case-insensitively; "" if absent.
  std::string_view Header(std::string_view name) const;
};

// Errors: Corruption when the block has no complete head (start line, headers, empty line).
Result<HttpMessageView> ParseHttpMessage(std::string_view block);

}  // namespace fanout
