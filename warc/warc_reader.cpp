#include "util/ascii.h"
#include "warc/warc_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <system_error>

namespace fanout {
namespace {

std::string_view TrimSpace(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string ErrnoText(int error) { return std::error_code(error, std::generic_category()).message(); }

// A zlib inflate stream for gzip members, ended when it goes out of scope.
class Inflater {
 public:
  Inflater() { ok_ = inflateInit2(&zs_, 16 + MAX_WBITS) == Z_OK; }
  ~Inflater() {
    if (ok_) inflateEnd(&zs_);
  }
  Inflater(const Inflater&) = delete;
  Inflater& operator=(const Inflater&) = delete;
  bool ok() const { return ok_; }
  z_stream* get() { return &zs_; }

 private:
  z_stream zs_{};
  bool ok_ = false;
};

enum class MemberEnd { kComplete, kCutShort, kCorrupt, kReadError };

struct Member {
  MemberEnd end = MemberEnd::kCorrupt;
  uint64_t length = 0;  // compressed bytes the member took
  std::string data;
  int error = 0;        // errno for kReadError
};

// Inflates the one gzip member starting at `offset`, reading at most `limit` bytes of the file.
Member InflateMember(int fd, uint64_t offset, uint64_t limit) {
  Member m;
  Inflater inflater;
  if (!inflater.ok()) return m;
  z_stream* zs = inflater.get();
  std::string in(std::min<uint64_t>(limit, 1 << 16), '\0');
  m.data.resize(std::max<size_t>(4096, in.size() * 4));
  zs->next_out = reinterpret_cast<Bytef*>(m.data.data());
  zs->avail_out = static_cast<uInt>(m.data.size());
  uint64_t read = 0;
  for (;;) {
    if (zs->avail_out == 0) {
      const size_t used = m.data.size();
      m.data.resize(used * 2);
      zs->next_out = reinterpret_cast<Bytef*>(m.data.data() + used);
      zs->avail_out = static_cast<uInt>(m.data.size() - used);
    }
    if (zs->avail_in == 0 && read < limit) {
      const size_t want = std::min<uint64_t>(in.size(), limit - read);
      const ssize_t n = ::pread(fd, in.data(), want, static_cast<off_t>(offset + read));
      if (n < 0) {
        if (errno == EINTR) continue;
        m.end = MemberEnd::kReadError;
        m.error = errno;
        return m;
      }
      if (n == 0) {
        limit = read;  // the file is shorter than it was a moment ago
      } else {
        read += static_cast<uint64_t>(n);
        zs->next_in = reinterpret_cast<Bytef*>(in.data());
        zs->avail_in = static_cast<uInt>(n);
      }
    }
    const int ret = inflate(zs, Z_NO_FLUSH);
    if (ret == Z_STREAM_END) {
      m.end = MemberEnd::kComplete;
      m.length = zs->total_in;
      m.data.resize(zs->total_out);
      return m;
    }
    // Z_BUF_ERROR: no progress. With output room and no input left, the member needs bytes the
    // range does not have.
    if (ret == Z_BUF_ERROR && zs->avail_in == 0 && read == limit && zs->avail_out > 0) {
      m.end = MemberEnd::kCutShort;
      m.data.clear();
      return m;
    }
    if (ret != Z_OK && ret != Z_BUF_ERROR) return m;  // Z_DATA_ERROR and the like: not gzip
  }
}

Status MemberStatus(const Member& m, const std::string& path, uint64_t offset) {
  const std::string where = path + " at offset " + std::to_string(offset);
  switch (m.end) {
    case MemberEnd::kComplete:
      return Status::Ok();
    case MemberEnd::kCutShort:
      return Status::Corruption(where + ": gzip member cut short");
    case MemberEnd::kCorrupt:
      return Status::Corruption(where + ": not a gzip member");
    case MemberEnd::kReadError:
      return Status::IOError(where + ": " + ErrnoText(m.error));
  }
  return Status::Ok();
}

}  // namespace

std::string WarcRecordRead::Field(std::string_view name) const {
  for (const WarcField& f : fields) {
    if (EqualsIgnoreCase(f.name, name)) return f.value;
  }
  return {};
}

Result<WarcRecordRead> ParseWarcRecord(std::string_view bytes) {
  const size_t version_end = bytes.find("\r\n");
  if (bytes.substr(0, 5) != "WARC/" || version_end == std::string_view::npos) {
    return Status::Corruption("not a WARC record: no WARC/ version line");
  }
  WarcRecordRead record;
  size_t pos = version_end + 2;
  bool have_length = false;
  uint64_t length = 0;
  for (;;) {
    const size_t eol = bytes.find("\r\n", pos);
    if (eol == std::string_view::npos) return Status::Corruption("WARC record header has no end");
    const std::string_view line = bytes.substr(pos, eol - pos);
    pos = eol + 2;
    if (line.empty()) break;
    if (line.front() == ' ' || line.front() == '\t') {  // a folded continuation of the last field
      if (record.fields.empty()) return Status::Corruption("WARC record header starts with a continuation line");
      record.fields.back().value += ' ';
      record.fields.back().value += TrimSpace(line);
      continue;
    }
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      return Status::Corruption("WARC record header line without a name: " + std::string(line.substr(0, 80)));
    }
    record.fields.push_back({std::string(TrimSpace(line.substr(0, colon))), std::string(TrimSpace(line.substr(colon + 1)))});
    if (EqualsIgnoreCase(record.fields.back().name, "Content-Length")) {
      const std::string& v = record.fields.back().value;
      auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), length);
      if (ec != std::errc() || end != v.data() + v.size()) return Status::Corruption("bad WARC Content-Length: " + v);
      have_length = true;
    }
  }
  if (!have_length) return Status::Corruption("WARC record has no Content-Length");
  if (bytes.size() - pos < length) return Status::Corruption("WARC record block is shorter than its Content-Length");
  record.block.assign(bytes.substr(pos, length));
  if (bytes.substr(pos + length, 4) != "\r\n\r\n") return Status::Corruption("WARC record does not end in CRLF CRLF");
  return record;
}

Result<WarcRecordRead> ReadWarcRecordAt(const std::string& path, uint64_t offset, uint64_t length) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return Status::IOError(path + ": " + ErrnoText(errno));
  Member m = InflateMember(fd.get(), offset, length);
  FANOUT_RETURN_IF_ERROR(MemberStatus(m, path, offset));
  if (m.length != length) {
    return Status::Corruption(path + " at offset " + std::to_string(offset) + ": the gzip member is " +
                              std::to_string(m.length) + " bytes, not " + std::to_string(length));
  }
  Result<WarcRecordRead> record = ParseWarcRecord(m.data);
  if (!record.ok()) return record.status().Annotated(path + " at offset " + std::to_string(offset));
  return record;
}

Result<WarcFileReader> WarcFileReader::Open(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return Status::IOError(path + ": " + ErrnoText(errno));
  struct stat st {};
  // The message is built before `fd` closes, so errno is still fstat's.
  if (::fstat(fd.get(), &st) != 0) return Status::IOError(path + ": " + ErrnoText(errno));
  return WarcFileReader(std::move(fd), static_cast<uint64_t>(st.st_size), path);
}

Result<std::optional<WarcFileReader::Entry>> WarcFileReader::Next() {
  if (offset_ >= size_) return std::optional<Entry>();
  Member m = InflateMember(fd_.get(), offset_, size_ - offset_);
  if (m.end == MemberEnd::kCutShort) {
    // Only the last member can run into the end of the file: this is the tail a kill -9 or a cut
    // copy leaves, and everything before it was whole.
    torn_ = true;
    offset_ = size_;
    return std::optional<Entry>();
  }
  FANOUT_RETURN_IF_ERROR(MemberStatus(m, path_, offset_));
  Result<WarcRecordRead> record = ParseWarcRecord(m.data);
  if (!record.ok()) return record.status().Annotated(path_ + " at offset " + std::to_string(offset_));
  Entry entry{offset_, m.length, std::move(record).value()};
  offset_ += m.length;
  return std::optional<Entry>(std::move(entry));
}

std::string_view HttpMessageView::Header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (EqualsIgnoreCase(n, name)) return v;
  }
  return {};
}

Result<HttpMessageView> ParseHttpMessage(std::string_view block) {
  HttpMessageView view;
  const size_t head_end = block.find("\r\n\r\n");
  if (head_end == std::string_view::npos) return Status::Corruption("HTTP message has no end of head");
  const std::string_view head = block.substr(0, head_end + 2);  // each line keeps its CRLF
  view.body = block.substr(head_end + 4);
  size_t pos = head.find("\r\n");
  view.start_line = head.substr(0, pos);
  if (view.start_line.empty()) return Status::Corruption("HTTP message has no start line");
  pos += 2;
  while (pos < head.size()) {
    const size_t eol = head.find("\r\n", pos);
    const std::string_view line = head.substr(pos, eol - pos);
    pos = eol + 2;
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;  // obs-fold or junk: not a field of its own
    view.headers.emplace_back(line.substr(0, colon), TrimSpace(line.substr(colon + 1)));
  }
  return view;
}

}  // namespace fanout
