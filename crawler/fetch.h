// One HTTP transfer, as every crawl mode makes it: the request and response (FetchRequest,
// FetchResponse), and ConfigureTransfer / CollectTransfer, the one place a transfer's curl options
// are set and its answer read, so that all modes fetch alike. Two ways to drive it:
//   - Fetcher and FetchOp (async): `co_await fetcher.Fetch(request)` runs the transfer on the loop's
//     curl multi handle and resumes the coroutine, on the loop thread, when curl reports it done;
//   - BlockingFetcher (sync, threads): one blocking transfer at a time on the calling thread, its
//     threads sharing DNS, TLS sessions and (over HTTP/1.1) connections through a SharedCurlCache.
//
// The FetchOp awaiter lives in the awaiting coroutine's frame across the suspension, so its
// address is stable: it is the transfer's CURLOPT_PRIVATE, its write callback's target and its
// error buffer. The easy handle comes from the Fetcher's pool (reused, so are its connections,
// which live in the multi handle's cache) and goes back after the transfer. If the awaiting task
// is destroyed mid-transfer, ~FetchOp removes the handle from the multi handle first.
//
// Callers bound concurrency themselves (see AsyncSemaphore): Fetch() adds the transfer at once,
// so curl's own pending queue stays empty and its timeouts measure the transfer, not a wait.
//
// Threads: a Fetcher and its FetchOps, the loop thread only; a BlockingFetcher, its one thread at a
// time; a SharedCurlCache, any thread (it locks).
#pragma once

#include <curl/curl.h>

#include <atomic>
#include <chrono>
#include <coroutine>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "crawler/curl_handles.h"
#include "crawler/event_loop.h"

namespace fanout {

struct FetchRequest {
  std::string url;
  long timeout_ms = 30000;          // the whole transfer, redirects included
  long connect_timeout_ms = 10000;
  size_t max_bytes = 10 << 20;      // body cap: the transfer is aborted past it
  long max_redirects = 10;          // 0: do not follow redirects
  long low_speed_bytes = 0;         // slower than this many bytes/s...
  long low_speed_seconds = 0;       // ...for this many seconds: cut as a timeout (0: never)
  // Keep the connection for another request (the crawl says no when the host has nothing more
  // queued: an idle connection would only sit in libcurl's cache, which it walks per transfer).
  bool keep_alive = true;
  // Where to connect: the address fanout's own lookup found for the URL's host (host_lookups.h),
  // so that curl resolves nothing; "" to let curl connect as the URL (or --connect-to) says.
  std::string connect_address = {};
};

// Where a transfer's time went, in seconds (the final request's phases; redirects separately).
struct FetchTimings {
  double dns = 0, connect = 0, tls = 0, first_byte = 0, transfer = 0, redirect = 0, total = 0;
  double request_sent = 0;  // from the start to the final request going out (CURLINFO_PRETRANSFER_TIME)
};

struct FetchResponse {
  int curl_code = 0;            // CURLcode; 0 when the transfer completed
  std::string error;            // curl's message when curl_code != 0
  long status = 0;              // HTTP status of the final response, 0 if none
  std::string effective_url;    // after redirects
  std::string content_type;
  std::map<std::string, std::string> headers;  // the final response's, names lower-cased; see kKeptHeaders
  // The entity as received: curl decodes nothing, so chunked framing (when `chunked`) and the
  // Content-Encoding are still on it until DecodeBody (page_content.h) takes them off, off the loop.
  std::string body;
  bool chunked = false;         // sent with Transfer-Encoding: chunked, the framing still in `body`
  bool decoded = false;         // DecodeBody has run: `body` is the representation itself
  bool truncated = false;       // the body reached max_bytes and the transfer was cut there
  std::string dns_error_kind;   // the host's name did not resolve: "dns-nxdomain", ... (no transfer made)
  long redirects = 0;
  long new_connections = 0;     // CURLINFO_NUM_CONNECTS: 0 means a kept-alive connection was reused
  std::string http_version;     // "1.0", "1.1", "2", "3"
  long tls_verify_result = 0;   // CURLINFO_SSL_VERIFYRESULT: an X509_V_ERR_* code, 0 when verified or not TLS
  FetchTimings timings;
  // The exchange as it went over the wire, for the archive (FetcherOptions::record_exchange):
  std::string request_head;     // the last request's line and header fields, as sent
  std::string response_head;    // the final response's status line and header fields, as received
  std::string remote_ip;        // the server's address
  std::chrono::system_clock::time_point started_at{};  // when the transfer began

  // True when the transfer delivered a response (of any status); a truncated body counts.
  bool ok() const { return curl_code == 0 || truncated; }
};

struct FetcherOptions {
  std::string user_agent = "fanout";
  bool http2 = true;  // negotiate HTTP/2 (and multiplex) where the server offers it
  // TLS peers are verified against the system's CAs; ca_file is trusted besides them (see
  // ConfigureTransfer for what "besides" means), and verify_tls = false trusts any peer.
  std::string ca_file = {};
  bool verify_tls = true;
  // When set and true, transfers stop within about a second with CURLE_ABORTED_BY_CALLBACK (the
  // second Ctrl-C). Read from curl's progress callback, on whichever thread runs the transfer.
  const std::atomic<bool>* abort = nullptr;
  // curl's CONNECT_TO list ("HOST:PORT:CONNECT-TO-HOST:CONNECT-TO-PORT", empty parts match all):
  // where to connect instead of the URL's host, the Host header kept (--connect-to).
  std::shared_ptr<curl_slist> connect_to = nullptr;
  // Keep the request and response heads and the server's address (FetchResponse), as an archive
  // needs them; it costs curl's debug callback on every transfer.
  bool record_exchange = false;
};

// A curl_slist of `entries` that lives as long as its last owner (nullptr for none).
std::shared_ptr<curl_slist> MakeSlist(const std::vector<std::string>& entries);

struct FetcherStats {
  uint64_t transfers = 0;
  size_t in_flight = 0;
  size_t max_in_flight = 0;
};

class FetchOp;

// What one transfer reads and writes, whichever way it is driven (multi handle or blocking).
struct TransferState {
  FetchRequest request;
  FetchResponse response;
  char errbuf[CURL_ERROR_SIZE] = {};
  bool record = false;     // FetcherOptions::record_exchange
  bool head_done = false;  // the final response's header fields have ended
  std::unique_ptr<curl_slist, void (*)(curl_slist*)> connect_to{nullptr, curl_slist_free_all};  // request.connect_address's rule
};

// Sets every option of a fanout transfer on `easy`: the one place they are chosen, so that all
// crawl modes fetch alike. `share` may be null.
void ConfigureTransfer(CURL* easy, TransferState& state, const FetcherOptions& options, CURLSH* share);
// Fills state.response from `easy` once the transfer has ended with `result`.
void CollectTransfer(CURL* easy, CURLcode result, TransferState& state);

// A curl share handle for easy handles used from several threads at once (the threads mode):
// DNS cache, TLS sessions and, when `connections` (only for transfers that cannot multiplex:
// HTTP/1.1), the connection cache, each under its own mutex.
class SharedCurlCache {
 public:
  explicit SharedCurlCache(bool connections);
  ~SharedCurlCache();
  SharedCurlCache(const SharedCurlCache&) = delete;
  SharedCurlCache& operator=(const SharedCurlCache&) = delete;
  CURLSH* get() const { return share_.get(); }

 private:
  static void Lock(CURL*, curl_lock_data data, curl_lock_access, void* self);
  static void Unlock(CURL*, curl_lock_data data, void* self);
  std::mutex locks_[CURL_LOCK_DATA_LAST];
  CurlShare share_;
};

// One blocking transfer at a time on the calling thread, with its own easy handle (kept, so its
// connection is reused): the sync and threads crawl modes.
class BlockingFetcher {
 public:
  BlockingFetcher(FetcherOptions options, CURLSH* share);
  FetchResponse Fetch(FetchRequest request);

 private:
  FetcherOptions options_;
  CURLSH* share_;
  CurlEasy easy_;
};

class Fetcher {
 public:
  Fetcher(EventLoop& loop, FetcherOptions options);
  ~Fetcher();
  Fetcher(const Fetcher&) = delete;
  Fetcher& operator=(const Fetcher&) = delete;

  FetchOp Fetch(FetchRequest request);
  FetcherStats stats() const;

 private:
  friend class FetchOp;
  CurlEasy TakeEasy();
  void ReturnEasy(CurlEasy easy);
  void CountInFlight(int delta);

  EventLoop& loop_;
  FetcherOptions options_;
  CurlShare share_;
  std::vector<CurlEasy> idle_;
  FetcherStats stats_;
};

class FetchOp final : public CurlTransfer {
 public:
  FetchOp(Fetcher& fetcher, FetchRequest request) : fetcher_(fetcher) { state_.request = std::move(request); }
  FetchOp(const FetchOp&) = delete;
  FetchOp& operator=(const FetchOp&) = delete;
  ~FetchOp();

  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h);
  FetchResponse await_resume() { return std::move(state_.response); }

  void OnDone(CURLcode result) override;

 private:
  Fetcher& fetcher_;
  TransferState state_;
  CurlEasy easy_;
  std::coroutine_handle<> waiter_;
  bool registered_ = false;
};

inline FetchOp Fetcher::Fetch(FetchRequest request) { return FetchOp(*this, std::move(request)); }

}  // namespace fanout
