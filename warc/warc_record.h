// WARC records as values, and the pure functions that turn them into bytes (WARC/1.1, IIPC).
//
// A WarcRecord is a record before serialisation: its named fields, WARC-Type first, and its block.
// SerializeWarcRecord adds Content-Length itself, so the length can never disagree with the block.
// Digests are SHA-1 written "sha1:" + RFC 4648 base32, the form WARC tools (warcio, pywb, Heritrix,
// wget) write and verify.
//
// Threads: everything here is safe to call from any thread; a Sha1 object is used by one at a time.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace fanout {

struct WarcField {
  std::string name, value;
};

struct WarcRecord {
  std::vector<WarcField> fields;  // WARC-Type first; Content-Length is added by SerializeWarcRecord
  std::string block;
};

// "WARC/1.1\r\n", each field as "Name: value\r\n", "Content-Length: N\r\n\r\n", the block, "\r\n\r\n".
// REQUIRES: no field name or value holds CR or LF (the caller's values go out as they are).
std::string SerializeWarcRecord(const WarcRecord& record);

// As SerializeWarcRecord for a block given in pieces (an HTTP head and its body), without first
// joining them: the record's bytes are appended to `out`.
void AppendWarcRecord(const std::vector<WarcField>& fields, const std::vector<std::string_view>& block,
                      std::string& out);

// A fresh "<urn:uuid:xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx>" (random, version 4), from OpenSSL's
// CSPRNG, which is thread- and fork-safe: a forked child never repeats its parent's IDs.
std::string NewWarcRecordId();

// `t` in UTC as "2026-12-02T06:07:10.123456Z": microseconds, which WARC 1.1 allows (W3C-ISO8601).
std::string WarcDate(std::chrono::system_clock::time_point t);

// "sha1:" + the base32 (uppercase, unpadded: 32 characters) SHA-1 of `data`.
std::string Sha1Digest(std::string_view data);

// Incremental SHA-1, for data that comes in pieces; Finish() gives the same form as Sha1Digest.
// Move-only (it owns an OpenSSL digest context).
class Sha1 {
 public:
  Sha1();
  ~Sha1();
  Sha1(Sha1&&) noexcept;
  Sha1& operator=(Sha1&&) noexcept;
  Sha1(const Sha1&) = delete;
  Sha1& operator=(const Sha1&) = delete;

  void Update(std::string_view data);
  // The digest of everything Update()d since construction or the last Finish(), which starts over.
  std::string Finish();

 private:
  struct Context;
  std::unique_ptr<Context> ctx_;
};

// RFC 4648 base32 of `bytes`, uppercase, without '=' padding (20 bytes make 32 characters).
std::string Base32(std::string_view bytes);

}  // namespace fanout
