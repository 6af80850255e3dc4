#include "warc/warc_archive.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>
#include <system_error>

#include "util/ascii.h"
#include "util/http_body.h"

namespace fanout {
namespace {

constexpr std::string_view kWarcinfoField = "WARC-Warcinfo-ID";

std::string ErrnoText(int error) { return std::error_code(error, std::generic_category()).message(); }

Status FileError(const std::string& path, int error) { return Status::IOError("archive " + path + ": " + ErrnoText(error)); }

// A value bound for a WARC field or a warc-fields line: a CR or LF in it would end the line and let
// the rest pass for fields of its own, so they go out percent-encoded, as a URI would carry them.
std::string FieldValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\r') {
      out += "%0D";
    } else if (c == '\n') {
      out += "%0A";
    } else {
      out += c;
    }
  }
  return out;
}

// The value of header `name` in an HTTP head ("" when absent); the start line is skipped.
std::string_view HeadValue(std::string_view head, std::string_view name) {
  size_t pos = head.find('\n');
  while (pos != std::string_view::npos && pos + 1 < head.size()) {
    const size_t start = pos + 1;
    const size_t end = head.find('\n', start);
    std::string_view line = head.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) break;
    const size_t colon = line.find(':');
    if (colon != std::string_view::npos && EqualsIgnoreCase(line.substr(0, colon), name)) {
      std::string_view value = line.substr(colon + 1);
      while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
      while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
      return value;
    }
    pos = end;
  }
  return {};
}

std::optional<std::array<unsigned char, 20>> DecodeSha1(std::string_view digest) {
  constexpr std::string_view kPrefix = "sha1:";
  if (digest.size() != kPrefix.size() + 32 || digest.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  digest.remove_prefix(kPrefix.size());
  std::array<unsigned char, 20> out{};
  uint64_t buffer = 0;
  int bits = 0;
  size_t n = 0;
  for (char c : digest) {
    int v;
    if (c >= 'A' && c <= 'Z') {
      v = c - 'A';
    } else if (c >= '2' && c <= '7') {
      v = c - '2' + 26;
    } else {
      return std::nullopt;
    }
    buffer = (buffer << 5) | static_cast<uint64_t>(v);
    bits += 5;
    if (bits >= 8) {
      out[n++] = static_cast<unsigned char>(buffer >> (bits - 8));
      bits -= 8;
    }
  }
  return out;
}

std::string FileTimestamp(std::chrono::system_clock::time_point t) {
  const time_t tt = std::chrono::system_clock::to_time_t(t);
  struct tm tm {};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d%02d%02d%02d%02d%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                tm.tm_min, tm.tm_sec);
  return buf;
}

std::string Hostname() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "localhost";
  return buf;
}

// Writes every byte of `iov` at `offset`, resuming after short writes (a file size limit gives one
// short write before EFBIG). Returns 0 or the errno that stopped it.
int WriteAll(int fd, uint64_t offset, std::vector<iovec> iov) {
  size_t first = 0;
  while (first < iov.size()) {
    const int count = static_cast<int>(std::min<size_t>(iov.size() - first, IOV_MAX));
    const ssize_t n = pwritev(fd, iov.data() + first, count, static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) return EIO;
    offset += static_cast<uint64_t>(n);
    size_t left = static_cast<size_t>(n);
    while (first < iov.size() && left >= iov[first].iov_len) {
      left -= iov[first].iov_len;
      ++first;
    }
    if (left > 0) {
      iov[first].iov_base = static_cast<char*>(iov[first].iov_base) + left;
      iov[first].iov_len -= left;
    }
  }
  return 0;
}

std::string SerialText(int serial) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%05d", serial);
  return buf;
}

}  // namespace

uint64_t WarcBatch::size() const {
  uint64_t total = 0;
  for (const Member& m : members_) total += m.gz.size();
  return total;
}

size_t WarcArchive::DigestHash::operator()(const DigestKey& key) const {
  size_t h;  // a SHA-1 is already uniform: its first bytes are a good hash
  std::memcpy(&h, key.data(), sizeof h);
  return h;
}

WarcArchive::WarcArchive(WarcOptions options) : options_(std::move(options)), hostname_(Hostname()) {}

WarcArchive::~WarcArchive() { (void)Close(); }

Result<std::unique_ptr<WarcArchive>> WarcArchive::Open(WarcOptions options) {
  if (options.prefix.empty()) return Status::InvalidArgument("archive: the WARC prefix is empty");
  std::error_code ec;
  const std::filesystem::path absolute = std::filesystem::absolute(options.prefix, ec);
  if (ec) return Status::IOError("archive " + options.prefix + ": " + ec.message());
  options.prefix = absolute.lexically_normal().string();
  std::unique_ptr<WarcArchive> archive(new WarcArchive(std::move(options)));
  std::lock_guard lock(archive->mu_);
  FANOUT_RETURN_IF_ERROR(archive->OpenFile(archive->options_.first_serial));
  return archive;
}

std::string WarcArchive::CurrentWarcinfoId() const {
  std::lock_guard lock(id_mu_);
  return warcinfo_id_;
}

std::unique_ptr<GzipMemberWriter> WarcArchive::TakeCompressor() {
  {
    std::lock_guard lock(pool_mu_);
    if (!pool_.empty()) {
      auto writer = std::move(pool_.back());
      pool_.pop_back();
      return writer;
    }
  }
  return std::make_unique<GzipMemberWriter>(options_.gzip_level);
}

void WarcArchive::GiveBack(std::unique_ptr<GzipMemberWriter> writer) {
  std::lock_guard lock(pool_mu_);
  pool_.push_back(std::move(writer));
}

void WarcArchive::Compress(WarcBatch::Member& member) {
  auto writer = TakeCompressor();
  member.gz.clear();
  writer->Append(member.text, member.gz);
  GiveBack(std::move(writer));
}

void WarcArchive::AddMember(WarcBatch& batch, std::vector<WarcField> fields, const std::vector<std::string_view>& block) {
  WarcBatch::Member m;
  AppendWarcRecord(fields, block, m.text);
  const std::string needle = "\r\n" + std::string(kWarcinfoField) + ": ";
  const size_t at = m.text.find(needle);
  m.warcinfo_at = at + needle.size();
  m.warcinfo_id = m.text.substr(m.warcinfo_at, m.text.find("\r\n", m.warcinfo_at) - m.warcinfo_at);
  Compress(m);
  batch.members_.push_back(std::move(m));
}

WarcBatch WarcArchive::Prepare(const WarcExchange& exchange) {
  WarcBatch batch;
  batch.target_uri_ = FieldValue(exchange.target_uri);
  batch.date_ = WarcDate(exchange.date);
  batch.response_id_ = NewWarcRecordId();
  const std::string request_id = NewWarcRecordId();
  const std::string warcinfo_id = CurrentWarcinfoId();

  // The payload digest is of the entity with its transfer framing removed and its content coding
  // kept: what warcio and pywb recompute to verify and deduplicate.
  Sha1 payload;
  uint64_t payload_bytes = 0;
  if (IsChunked(HeadValue(exchange.response_head, "Transfer-Encoding"))) {
    // A body cut short (or with broken framing) gives the entity as far as its framing goes.
    for (std::string_view piece : SplitChunks(exchange.body).pieces) {
      payload.Update(piece);
      payload_bytes += piece.size();
    }
  } else {
    payload.Update(exchange.body);
    payload_bytes = exchange.body.size();
  }
  batch.payload_digest_ = payload.Finish();
  batch.payload_bytes_ = payload_bytes;
  // A truncated payload is not the resource: it neither stands in for a later full copy nor is
  // replaced by a pointer to one.
  batch.dedupable_ = payload_bytes > 0 && exchange.truncated.empty();

  std::optional<std::string> seen;  // "uri\ndate\nid" of the first copy
  if (batch.dedupable_) {
    if (auto key = DecodeSha1(batch.payload_digest_)) {
      std::lock_guard lock(dedup_mu_);
      auto it = seen_.find(*key);
      if (it != seen_.end()) seen = it->second.packed;
    }
  }
  batch.revisit_ = seen.has_value();

  auto common = [&](std::string_view type, const std::string& id) {
    std::vector<WarcField> f;
    f.reserve(14);
    f.push_back({"WARC-Type", std::string(type)});
    f.push_back({"WARC-Record-ID", id});
    f.push_back({std::string(kWarcinfoField), warcinfo_id});
    f.push_back({"WARC-Date", batch.date_});
    f.push_back({"WARC-Target-URI", batch.target_uri_});
    if (!exchange.ip.empty()) f.push_back({"WARC-IP-Address", FieldValue(exchange.ip)});
    return f;
  };

  std::vector<WarcField> request = common("request", request_id);
  request.push_back({"WARC-Concurrent-To", batch.response_id_});
  request.push_back({"WARC-Block-Digest", Sha1Digest(exchange.request_head)});
  request.push_back({"Content-Type", "application/http;msgtype=request"});
  AddMember(batch, std::move(request), {exchange.request_head});

  std::vector<WarcField> response = common(batch.revisit_ ? "revisit" : "response", batch.response_id_);
  if (batch.revisit_) {
    const std::string& packed = *seen;
    const size_t a = packed.find('\n');
    const size_t b = packed.find('\n', a + 1);
    const std::string refers_id = packed.substr(b + 1);
    if (!refers_id.empty()) response.push_back({"WARC-Refers-To", refers_id});
    response.push_back({"WARC-Refers-To-Target-URI", packed.substr(0, a)});
    response.push_back({"WARC-Refers-To-Date", packed.substr(a + 1, b - a - 1)});
    response.push_back({"WARC-Profile", "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"});
    response.push_back({"WARC-Block-Digest", Sha1Digest(exchange.response_head)});
  } else {
    Sha1 block;
    block.Update(exchange.response_head);
    block.Update(exchange.body);
    response.push_back({"WARC-Block-Digest", block.Finish()});
  }
  response.push_back({"WARC-Payload-Digest", batch.payload_digest_});
  if (!exchange.truncated.empty()) response.push_back({"WARC-Truncated", FieldValue(exchange.truncated)});
  response.push_back({"Content-Type", "application/http;msgtype=response"});
  batch.response_index_ = batch.members_.size();
  if (batch.revisit_) {
    AddMember(batch, std::move(response), {exchange.response_head});
  } else {
    AddMember(batch, std::move(response), {exchange.response_head, exchange.body});
  }
  return batch;
}

void WarcArchive::AddMetadata(WarcBatch& batch, const WarcMetadata& metadata) {
  std::string block;
  block.reserve(64 + metadata.outlinks.size() * 80);
  auto line = [&block](std::string_view name, std::string_view value) {
    block += name;
    block += ": ";
    block += FieldValue(value);
    block += "\r\n";
  };
  if (!metadata.via.empty()) line("via", metadata.via);
  line("hopsFromSeed", std::to_string(metadata.hops_from_seed));
  line("fetchTimeMs", std::to_string(std::llround(metadata.fetch_seconds * 1000)));
  for (const std::string& link : metadata.outlinks) line("outlink", link);
  for (const WarcField& f : metadata.fields) line(FieldValue(f.name), f.value);

  std::vector<WarcField> fields;
  fields.push_back({"WARC-Type", "metadata"});
  fields.push_back({"WARC-Record-ID", NewWarcRecordId()});
  fields.push_back({std::string(kWarcinfoField), CurrentWarcinfoId()});
  fields.push_back({"WARC-Date", batch.date_});
  fields.push_back({"WARC-Target-URI", batch.target_uri_});
  fields.push_back({"WARC-Concurrent-To", batch.response_id_});
  fields.push_back({"WARC-Block-Digest", Sha1Digest(block)});
  fields.push_back({"Content-Type", "application/warc-fields"});
  AddMember(batch, std::move(fields), {block});
}

Status WarcArchive::OpenFile(int serial) {
  const auto now = std::chrono::system_clock::now();
  const std::string path = options_.prefix + "-" + FileTimestamp(now) + "-" + SerialText(serial) + ".warc.gz";
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (!fd) return FileError(path, errno);

  std::string block;
  auto line = [&block](std::string_view name, std::string_view value) {
    block += name;
    block += ": ";
    block += FieldValue(value);
    block += "\r\n";
  };
  line("software", options_.software.empty() ? "fanout" : options_.software);
  line("format", "WARC File Format 1.1");
  line("conformsTo", "http://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/");
  line("isPartOf", "fanout-run-" + std::to_string(options_.run_id));
  line("run", std::to_string(options_.run_id));
  line("hostname", hostname_);
  line("fanout-options", options_.options_json);

  const std::string id = NewWarcRecordId();
  const std::string filename = std::filesystem::path(path).filename().string();
  std::vector<WarcField> fields = {{"WARC-Type", "warcinfo"},
                                   {"WARC-Record-ID", id},
                                   {"WARC-Date", WarcDate(now)},
                                   {"WARC-Filename", filename},
                                   {"WARC-Block-Digest", Sha1Digest(block)},
                                   {"Content-Type", "application/warc-fields"}};
  std::string text;
  AppendWarcRecord(fields, {block}, text);
  std::string gz;
  auto writer = TakeCompressor();
  writer->Append(text, gz);
  GiveBack(std::move(writer));

  if (const int error = WriteAll(fd.get(), 0, {iovec{gz.data(), gz.size()}}); error != 0) {
    fd.reset();
    ::unlink(path.c_str());  // ours (O_EXCL), and holding no whole record
    return FileError(path, error);
  }
  fd_ = std::move(fd);
  serial_ = serial;
  size_ = gz.size();
  batches_in_file_ = 0;
  files_.push_back(path);
  {
    std::lock_guard lock(id_mu_);
    warcinfo_id_ = id;
  }
  ++stats_.files;
  ++stats_.records;
  stats_.bytes_written += gz.size();
  return Status::Ok();
}

Status WarcArchive::CloseFile() {
  if (!fd_) return Status::Ok();
  Status status;
  if (::fdatasync(fd_.get()) != 0) status = FileError(files_.back(), errno);
  if (const int error = fd_.close(); error != 0 && status.ok()) status = FileError(files_.back(), error);
  return status;
}

Result<WarcLocation> WarcArchive::Write(WarcBatch batch) {
  std::unique_lock lock(mu_);
  for (;;) {
    if (!failed_.ok()) return failed_;
    if (closed_) return Status::IOError("archive " + files_.back() + ": closed");
    if (batches_in_file_ > 0 && size_ + batch.size() > options_.max_size) {
      const auto t0 = std::chrono::steady_clock::now();
      Status st = CloseFile();
      if (st.ok()) st = OpenFile(serial_ + 1);
      stats_.write_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (!st.ok()) {
        failed_ = st;
        return st;
      }
    }
    // Members compressed before a rotation name the old file's warcinfo: restamp them (IDs all
    // have one length, so only those bytes change) and compress again, outside the lock.
    const std::string id = CurrentWarcinfoId();
    std::vector<WarcBatch::Member*> stale;
    for (WarcBatch::Member& m : batch.members_) {
      if (m.warcinfo_id != id) stale.push_back(&m);
    }
    if (stale.empty()) break;
    lock.unlock();
    for (WarcBatch::Member* m : stale) {
      m->text.replace(m->warcinfo_at, m->warcinfo_id.size(), id);
      m->warcinfo_id = id;
      Compress(*m);
    }
    lock.lock();
  }

  std::vector<iovec> iov;
  iov.reserve(batch.members_.size());
  uint64_t offset = size_;
  WarcLocation location;
  for (size_t i = 0; i < batch.members_.size(); ++i) {
    std::string& gz = batch.members_[i].gz;
    if (i == batch.response_index_) {
      location.offset = offset;
      location.length = gz.size();
    }
    offset += gz.size();
    iov.push_back(iovec{gz.data(), gz.size()});
  }
  const uint64_t start = size_;
  const uint64_t total = offset - start;
  const auto t0 = std::chrono::steady_clock::now();
  const int error = WriteAll(fd_.get(), start, std::move(iov));
  if (error != 0) {
    // Cut the partial batch off so the file ends on a whole record; if even that fails, the
    // reader's torn-tail rule still holds for whatever is left.
    while (::ftruncate(fd_.get(), static_cast<off_t>(start)) != 0 && errno == EINTR) {
    }
    failed_ = FileError(files_.back(), error);
    return failed_;
  }
  stats_.write_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  size_ += total;
  ++batches_in_file_;
  stats_.records += batch.members_.size();
  stats_.bytes_written += total;
  if (batch.revisit_) {
    ++stats_.revisits;
  } else {
    stats_.payload_bytes += batch.payload_bytes_;
  }
  location.file = files_.back();
  lock.unlock();

  location.payload_digest = batch.payload_digest_;
  location.revisit = batch.revisit_;
  location.record_id = batch.response_id_;
  location.date = batch.date_;
  if (batch.dedupable_ && !batch.revisit_) {
    if (auto key = DecodeSha1(batch.payload_digest_)) {
      std::string packed = batch.target_uri_ + "\n" + batch.date_ + "\n" + batch.response_id_;
      std::lock_guard dedup(dedup_mu_);
      seen_.try_emplace(*key, Seen{std::move(packed)});  // the first copy stays the one referred to
    }
  }
  return location;
}

void WarcArchive::Remember(std::string payload_digest, std::string target_uri, std::string warc_date) {
  auto key = DecodeSha1(payload_digest);
  if (!key) return;  // not a digest this archive writes: it could never match
  std::string packed = FieldValue(target_uri) + "\n" + FieldValue(warc_date) + "\n";
  std::lock_guard lock(dedup_mu_);
  seen_.try_emplace(*key, Seen{std::move(packed)});
}

Status WarcArchive::Close() {
  std::lock_guard lock(mu_);
  if (closed_) return close_status_;
  const auto t0 = std::chrono::steady_clock::now();
  close_status_ = CloseFile();
  stats_.write_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (close_status_.ok()) close_status_ = failed_;
  closed_ = true;
  return close_status_;
}

std::vector<std::string> WarcArchive::files() const {
  std::lock_guard lock(mu_);
  return files_;
}

WarcStats WarcArchive::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

int NextWarcSerial(const std::string& prefix) {
  std::error_code ec;
  const std::filesystem::path path = std::filesystem::absolute(prefix, ec).lexically_normal();
  if (ec) return 0;
  const std::string base = path.filename().string();
  const std::filesystem::path dir = path.parent_path();
  int next = 0;
  for (auto it = std::filesystem::directory_iterator(dir, ec); !ec && it != std::filesystem::directory_iterator();
       it.increment(ec)) {
    const std::string name = it->path().filename().string();
    // BASE-<14 digits>-<5 or more digits>.warc.gz
    constexpr std::string_view kSuffix = ".warc.gz";
    if (name.size() < base.size() + 1 + 14 + 1 + 5 + kSuffix.size()) continue;
    if (name.compare(0, base.size(), base) != 0 || name[base.size()] != '-') continue;
    if (name.compare(name.size() - kSuffix.size(), kSuffix.size(), kSuffix) != 0) continue;
    const std::string_view rest =
        std::string_view(name).substr(base.size() + 1, name.size() - base.size() - 1 - kSuffix.size());
    auto digits = [](std::string_view s) {
      return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
    };
    if (rest.size() < 14 + 1 + 5 || rest[14] != '-' || !digits(rest.substr(0, 14)) || !digits(rest.substr(15))) continue;
    if (rest.size() - 15 > 9) continue;  // not a serial this archive could have written
    const int serial = std::stoi(std::string(rest.substr(15)));
    next = std::max(next, serial + 1);
  }
  return next;
}

}  // namespace fanout
