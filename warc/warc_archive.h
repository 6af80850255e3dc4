// WarcArchive: writes a crawl's HTTP transfers into rotating WARC/1.1 files, one gzip member per
// record (PREFIX-YYYYMMDDhhmmss-NNNNN.warc.gz, each opening with its warcinfo record).
//
// The work is split so that the expensive part runs in parallel and the file sees whole records:
//   Prepare()      CPU only: builds an exchange's request and response (or revisit) records,
//                  digests them and compresses each into its own gzip member -> a WarcBatch;
//   AddMetadata()  CPU only: adds a metadata record (via, hops, outlinks) to a batch;
//   Write()        appends a batch's members with one pwritev(2), rotating the file first when
//                  the batch would take it past max_size.
// A batch is written whole or not at all: after a failed write the file is cut back to where the
// batch began, and the archive stays failed (every later Write returns the same error), so a
// reader never meets a torn record that the archive reported as written. Bytes are in the kernel
// when Write returns (nothing is buffered in user space); Close() fdatasyncs them.
//
// Deduplication (WARC 1.1 "identical payload digest" revisits): a response whose payload digest
// equals one this archive already wrote, or one taught with Remember(), becomes a revisit record
// whose block is the HTTP head only. Empty and truncated payloads are never deduplicated.
//
// Threads: every method may be called from any thread. Prepare and AddMetadata run in parallel
// (they take short locks for the dedup table and the compressor pool only); Write and the file
// rotation are serialised under one mutex.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "util/fd.h"
#include "util/result.h"
#include "warc/gzip_member.h"
#include "warc/warc_record.h"

namespace fanout {

// One HTTP transfer, as received. The views need only outlive the Prepare() call.
struct WarcExchange {
  std::string_view target_uri;
  std::chrono::system_clock::time_point date;  // when the request went out
  std::string_view ip;                          // remote address ("" unknown: field omitted)
  std::string_view request_head;   // request line + headers as sent, ending "\r\n\r\n"
  std::string_view response_head;  // status line + headers as received, ending "\r\n\r\n"
  std::string_view body;           // entity as received: chunked framing and Content-Encoding kept
  std::string_view truncated;      // "" or "length" / "time" / "disconnect" -> WARC-Truncated
};

// A metadata record about a page's response (Heritrix's model).
struct WarcMetadata {
  std::string via;               // the page that linked to it ("" none)
  int hops_from_seed = 0;
  double fetch_seconds = 0;      // written as fetchTimeMs
  std::vector<std::string> outlinks;
  std::vector<WarcField> fields;  // any other "name: value" lines, after the outlinks
};

struct WarcOptions {
  std::string prefix;             // files are PREFIX-YYYYMMDDhhmmss-NNNNN.warc.gz (UTC time the file was opened)
  uint64_t max_size = 1ull << 30; // rotate before a write that would take the file past this
                                  // (a file always gets at least one batch)
  int gzip_level = 6;
  int first_serial = 0;           // NNNNN of the first file (NextWarcSerial(prefix) on --resume)
  std::string software;           // "fanout/0.1.0"
  int64_t run_id = 0;
  std::string options_json;       // the crawl's options, written into every warcinfo
};

// Where a written response (or revisit) record is: its gzip member is [offset, offset + length)
// of `file` (an absolute path), which ReadWarcRecordAt reads back.
struct WarcLocation {
  std::string file;
  uint64_t offset = 0, length = 0;
  std::string payload_digest;
  bool revisit = false;
  std::string record_id;
  std::string date;  // its WARC-Date, as written
};

// The records of one exchange, compressed, not yet written. Move-only in practice (it holds the
// compressed members); only WarcArchive looks inside.
struct WarcBatch {
  const std::string& record_id() const { return response_id_; }  // the response's or revisit's
  const std::string& payload_digest() const { return payload_digest_; }
  bool revisit() const { return revisit_; }
  // Compressed bytes the batch will add to the file.
  uint64_t size() const;

 private:
  friend class WarcArchive;
  struct Member {
    std::string text;         // the serialised record, kept to restamp WARC-Warcinfo-ID after a rotation
    size_t warcinfo_at = 0;   // where in `text` the WARC-Warcinfo-ID value starts
    std::string warcinfo_id;  // the one `gz` was compressed with
    std::string gz;
  };
  std::vector<Member> members_;
  size_t response_index_ = 0;
  std::string response_id_, payload_digest_, target_uri_, date_;
  uint64_t payload_bytes_ = 0;
  bool revisit_ = false;
  bool dedupable_ = false;  // a complete, non-empty payload: Write teaches it to the dedup table
};

struct WarcStats {
  // records counts every record written, warcinfo included; payload_bytes the entities of the
  // response records (de-chunked), revisits not counted; bytes_written the files' total size.
  uint64_t files = 0, records = 0, revisits = 0, bytes_written = 0, payload_bytes = 0;
  double write_seconds = 0;  // wall time inside write, rotation and sync calls
};

class WarcArchive {
 public:
  // Opens (O_CREAT|O_EXCL: never clobbers) the first file and writes its warcinfo now, so an
  // unwritable prefix fails before anything is fetched. Errors: IOError naming the file and the
  // errno text; InvalidArgument for an empty prefix.
  static Result<std::unique_ptr<WarcArchive>> Open(WarcOptions options);

  ~WarcArchive();  // Close(), errors ignored
  WarcArchive(const WarcArchive&) = delete;
  WarcArchive& operator=(const WarcArchive&) = delete;

  // CPU only, no I/O: the exchange's request record and its response record, or a revisit when
  // the payload was archived before. Each record gets WARC-Warcinfo-ID of the file it lands in
  // (Write re-compresses the few members prepared before a rotation that landed after it).
  WarcBatch Prepare(const WarcExchange& exchange);

  // Adds a metadata record (application/warc-fields, WARC-Concurrent-To the batch's response, the
  // same target URI and date): "via: URL", "hopsFromSeed: N", "fetchTimeMs: N", one
  // "outlink: URL" per link, then `metadata.fields`.
  void AddMetadata(WarcBatch& batch, const WarcMetadata& metadata);

  // Appends the batch to the current file in one pwritev(2), after rotating when needed. Returns
  // where the response (or revisit) record is. REQUIRES: `batch` came from this archive's Prepare.
  // Errors: IOError "archive PATH: strerror" (ENOSPC,
  // EFBIG...); the file is cut back to where the batch began and every later Write fails the
  // same way. After Close(): IOError.
  Result<WarcLocation> Write(WarcBatch batch);

  // Teaches the dedup table a payload archived earlier in the run (a resumed crawl); later
  // revisits of it name this URI and date, and no WARC-Refers-To (the record ID is not known).
  void Remember(std::string payload_digest, std::string target_uri, std::string warc_date);

  // fdatasync + close of the current file. Idempotent. Returns the first error met, or the
  // archive's failure.
  Status Close();

  std::vector<std::string> files() const;  // every file opened, in order (absolute paths)
  WarcStats stats() const;

 private:
  explicit WarcArchive(WarcOptions options);

  // Opens file number `serial` and writes its warcinfo. REQUIRES: mu_ held.
  Status OpenFile(int serial);
  Status CloseFile();  // REQUIRES: mu_ held
  std::string CurrentWarcinfoId() const;
  // The compressor pool: a writer per concurrent Prepare, reused.
  std::unique_ptr<GzipMemberWriter> TakeCompressor();
  void GiveBack(std::unique_ptr<GzipMemberWriter> writer);
  void Compress(WarcBatch::Member& member);
  void AddMember(WarcBatch& batch, std::vector<WarcField> fields, const std::vector<std::string_view>& block);

  struct Seen {  // a payload already archived: "uri\ndate\nrecord-id" in one allocation
    std::string packed;
  };
  using DigestKey = std::array<unsigned char, 20>;  // a SHA-1's raw bytes
  struct DigestHash {
    size_t operator()(const DigestKey& key) const;
  };

  const WarcOptions options_;
  const std::string hostname_;

  mutable std::mutex mu_;  // the file, its rotation and the stats
  UniqueFd fd_;                     // GUARDED_BY(mu_): the current file
  int serial_ = 0;                  // GUARDED_BY(mu_)
  uint64_t size_ = 0;               // GUARDED_BY(mu_): bytes in the current file
  uint64_t batches_in_file_ = 0;    // GUARDED_BY(mu_)
  std::vector<std::string> files_;  // GUARDED_BY(mu_)
  Status failed_;                   // GUARDED_BY(mu_)
  bool closed_ = false;             // GUARDED_BY(mu_)
  Status close_status_;             // GUARDED_BY(mu_): what Close() returned
  WarcStats stats_;                 // GUARDED_BY(mu_)

  mutable std::mutex id_mu_;  // read by Prepare on any thread, changed on rotation
  std::string warcinfo_id_;   // GUARDED_BY(id_mu_): the current file's warcinfo record ID

  std::mutex dedup_mu_;
  // Keyed by the digest's 20 raw bytes, not its 37-character text, to keep a large run's table small.
  std::unordered_map<DigestKey, Seen, DigestHash> seen_;  // GUARDED_BY(dedup_mu_)

  std::mutex pool_mu_;
  std::vector<std::unique_ptr<GzipMemberWriter>> pool_;  // GUARDED_BY(pool_mu_)
};

// The serial after the highest PREFIX-<14 digits>-<5 digits>.warc.gz in PREFIX's directory
// (0 when there is none, or the directory cannot be read).
int NextWarcSerial(const std::string& prefix);

}  // namespace fanout
