#include "warc/warc_record.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <time.h>

#include <cstdio>
#include <random>

namespace fanout {
namespace {

// SHA-1 fetched once: in OpenSSL 3 EVP_sha1() makes every EVP_DigestInit_ex look the algorithm up
// again under a lock, which parallel Prepare() calls would queue on.
const EVP_MD* Sha1Md() {
  static EVP_MD* md = EVP_MD_fetch(nullptr, "SHA1", nullptr);
  return md != nullptr ? md : EVP_sha1();
}

std::string DigestString(const unsigned char* bytes, unsigned int size) {
  return "sha1:" + Base32(std::string_view(reinterpret_cast<const char*>(bytes), size));
}

}  // namespace

void AppendWarcRecord(const std::vector<WarcField>& fields, const std::vector<std::string_view>& block,
                      std::string& out) {
  size_t block_size = 0;
  size_t head_size = 40;
  for (std::string_view piece : block) block_size += piece.size();
  for (const WarcField& f : fields) head_size += f.name.size() + f.value.size() + 4;
  out.reserve(out.size() + head_size + block_size + 4);
  out += "WARC/1.1\r\n";
  for (const WarcField& f : fields) {
    out += f.name;
    out += ": ";
    out += f.value;
    out += "\r\n";
  }
  out += "Content-Length: ";
  out += std::to_string(block_size);
  out += "\r\n\r\n";
  for (std::string_view piece : block) out += piece;
  out += "\r\n\r\n";
}

std::string SerializeWarcRecord(const WarcRecord& record) {
  std::string out;
  AppendWarcRecord(record.fields, {record.block}, out);
  return out;
}

std::string NewWarcRecordId() {
  unsigned char b[16];
  if (RAND_bytes(b, sizeof b) != 1) {
    // Only when OpenSSL cannot seed itself; the ID must still be unique, not secret.
    thread_local std::mt19937_64 gen{std::random_device{}()};
    for (unsigned char& c : b) c = static_cast<unsigned char>(gen());
  }
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);  // version 4
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);  // RFC 4122 variant
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id = "<urn:uuid:";
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) id += '-';
    id += kHex[b[i] >> 4];
    id += kHex[b[i] & 0xf];
  }
  id += '>';
  return id;
}

std::string WarcDate(std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  const auto us = duration_cast<microseconds>(t.time_since_epoch()).count();
  int64_t secs = us / 1000000;
  int64_t frac = us % 1000000;
  if (frac < 0) {  // before 1970: floor, not truncate
    frac += 1000000;
    --secs;
  }
  const time_t tt = static_cast<time_t>(secs);
  struct tm tm {};
  gmtime_r(&tt, &tm);
  char buf[80];  // room for any year, which keeps -Wformat-truncation quiet
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<long long>(frac));
  return buf;
}

std::string Base32(std::string_view bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  std::string out;
  out.reserve((bytes.size() * 8 + 4) / 5);
  uint32_t buffer = 0;
  int bits = 0;
  for (unsigned char c : bytes) {
    buffer = (buffer << 8) | c;
    bits += 8;
    while (bits >= 5) {
      out += kAlphabet[(buffer >> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += kAlphabet[(buffer << (5 - bits)) & 31];
  return out;
}

std::string Sha1Digest(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(data.data(), data.size(), md, &size, Sha1Md(), nullptr);
  return DigestString(md, size);
}

struct Sha1::Context {
  struct Free {
    void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
  };
  std::unique_ptr<EVP_MD_CTX, Free> ctx{EVP_MD_CTX_new()};
};

Sha1::Sha1() : ctx_(std::make_unique<Context>()) { EVP_DigestInit_ex(ctx_->ctx.get(), Sha1Md(), nullptr); }
Sha1::~Sha1() = default;
Sha1::Sha1(Sha1&&) noexcept = default;
Sha1& Sha1::operator=(Sha1&&) noexcept = default;

void Sha1::Update(std::string_view data) { EVP_DigestUpdate(ctx_->ctx.get(), data.data(), data.size()); }

std::string Sha1::Finish() {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_DigestFinal_ex(ctx_->ctx.get(), md, &size);
  EVP_DigestInit_ex(ctx_->ctx.get(), Sha1Md(), nullptr);
  return DigestString(md, size);
}

}  // namespace fanout
