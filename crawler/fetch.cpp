#include "crawler/fetch.h"

#include <algorithm>

#include "util/ascii.h"
#include "util/http_body.h"

namespace fanout {
namespace {

// Headers a crawler acts on; the rest are not kept, to keep a page's memory small.
constexpr std::string_view kKeptHeaders[] = {
    "content-type", "content-length", "content-encoding", "location",  "retry-after",
    "last-modified", "etag",          "x-robots-tag",     "server",    "content-language",
    "transfer-encoding",
};

double Seconds(CURL* easy, CURLINFO info) {
  curl_off_t us = 0;
  curl_easy_getinfo(easy, info, &us);
  return static_cast<double>(us) / 1e6;
}

const char* HttpVersionName(long v) {
  switch (v) {
    case CURL_HTTP_VERSION_1_0: return "1.0";
    case CURL_HTTP_VERSION_1_1: return "1.1";
    case CURL_HTTP_VERSION_2_0: return "2";
    case CURL_HTTP_VERSION_3: return "3";
    default: return "";
  }
}

size_t OnBody(char* data, size_t, size_t n, void* arg) {
  auto* state = static_cast<TransferState*>(arg);
  std::string& body = state->response.body;
  try {
    size_t room = state->request.max_bytes - std::min(state->request.max_bytes, body.size());
    if (n > room) {
      body.append(data, room);
      state->response.truncated = true;
      return 0;  // aborts the transfer (CURLE_WRITE_ERROR), which CollectTransfer reads as truncation
    }
    body.append(data, n);
    return n;
  } catch (...) {  // no exception may cross into curl
    return CURL_WRITEFUNC_ERROR;
  }
}

size_t OnHeader(char* data, size_t, size_t n, void* arg) {
  auto* state = static_cast<TransferState*>(arg);
  try {
    std::string_view line(data, n);
    if (line.substr(0, 5) == "HTTP/") {  // a new response (after a redirect or a 100): start over
      state->response.headers.clear();
      state->head_done = false;
      if (state->record) state->response.response_head.assign(line);
      return n;
    }
    if (state->head_done) return n;  // a chunked body's trailer: it stays in the body as received
    if (line == "\r\n" || line == "\n") state->head_done = true;
    if (state->record) state->response.response_head.append(line);
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) return n;
    std::string name(line.substr(0, colon));
    AsciiLowerInPlace(name);
    if (name == "content-length" && state->response.body.empty()) {
      // The body's room at once: grown by doubling, a 6 MB page would hold 8 MB (never past
      // max_bytes; the body is taken as sent, so the length is its size).
      const std::string_view digits = line.substr(colon + 1);
      size_t length = 0;
      for (char c : digits) {
        if (c >= '0' && c <= '9') length = std::min(length * 10 + static_cast<size_t>(c - '0'), state->request.max_bytes);
      }
      state->response.body.reserve(length);
    }
    if (std::find(std::begin(kKeptHeaders), std::end(kKeptHeaders), name) == std::end(kKeptHeaders)) return n;
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) value.remove_suffix(1);
    state->response.headers[name] = std::string(value);
    return n;
  } catch (...) {
    return CURL_WRITEFUNC_ERROR;
  }
}

// With CURLOPT_VERBOSE, curl hands over each request's header block as it sends it.
int OnDebug(CURL*, curl_infotype type, char* data, size_t n, void* arg) {
  if (type != CURLINFO_HEADER_OUT) return 0;
  try {
    static_cast<TransferState*>(arg)->response.request_head.assign(data, n);
  } catch (...) {  // no exception may cross into curl; the archive then lacks the request
  }
  return 0;
}

int OnProgress(void* abort, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return static_cast<const std::atomic<bool>*>(abort)->load(std::memory_order_relaxed) ? 1 : 0;
}

}  // namespace

Fetcher::Fetcher(EventLoop& loop, FetcherOptions options) : loop_(loop), options_(std::move(options)) {
  share_.reset(curl_share_init());
  // One thread uses these handles, so the share needs no lock callbacks.
  curl_share_setopt(share_.get(), CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
  curl_share_setopt(share_.get(), CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
}

Fetcher::~Fetcher() = default;

CurlEasy Fetcher::TakeEasy() {
  if (idle_.empty()) return CurlEasy(curl_easy_init());
  CurlEasy easy = std::move(idle_.back());
  idle_.pop_back();
  return easy;
}

void Fetcher::ReturnEasy(CurlEasy easy) {
  curl_easy_reset(easy.get());
  idle_.push_back(std::move(easy));
}

void Fetcher::CountInFlight(int delta) {
  stats_.in_flight = static_cast<size_t>(static_cast<long>(stats_.in_flight) + delta);
  stats_.max_in_flight = std::max(stats_.max_in_flight, stats_.in_flight);
  if (delta > 0) ++stats_.transfers;
}

FetcherStats Fetcher::stats() const { return stats_; }

std::shared_ptr<curl_slist> MakeSlist(const std::vector<std::string>& entries) {
  curl_slist* list = nullptr;
  for (const std::string& e : entries) list = curl_slist_append(list, e.c_str());
  return list != nullptr ? std::shared_ptr<curl_slist>(list, curl_slist_free_all) : nullptr;
}

// Debian's (and most distributions') directory of hashed CA certificates.
constexpr const char* kSystemCaPath = "/etc/ssl/certs";

void ConfigureTransfer(CURL* e, TransferState& state, const FetcherOptions& options, CURLSH* share) {
  const FetchRequest& request = state.request;
  curl_easy_setopt(e, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &OnBody);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, &state);
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &OnHeader);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, &state);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, state.errbuf);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  if (!request.keep_alive) curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
  // libcurl's DNS cache is a short hash list that it prunes of stale entries on every lookup: a
  // cost per new connection that grows with the hosts resolved within its timeout (60 s by
  // default: every host of a fast crawl of many). A connection is resolved once and then reused,
  // so the crawl keeps no DNS cache beyond it.
  curl_easy_setopt(e, CURLOPT_DNS_CACHE_TIMEOUT, 0L);
  if (share) curl_easy_setopt(e, CURLOPT_SHARE, share);
  curl_easy_setopt(e, CURLOPT_USERAGENT, options.user_agent.c_str());
  if (!request.connect_address.empty()) {
    // Any host, any port (the transfer asks for one URL: curl follows no redirect itself), to the
    // address looked up. It replaces --connect-to's rules, which did not cover this host.
    const bool v6 = request.connect_address.find(':') != std::string::npos;
    const std::string rule = "::" + (v6 ? "[" + request.connect_address + "]" : request.connect_address) + ":";
    state.connect_to.reset(curl_slist_append(nullptr, rule.c_str()));
    curl_easy_setopt(e, CURLOPT_CONNECT_TO, state.connect_to.get());
  } else if (options.connect_to) {
    curl_easy_setopt(e, CURLOPT_CONNECT_TO, options.connect_to.get());
  }
  // The body arrives as sent, for the archive to keep it so; the crawl decodes it (DecodeBody).
  curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, kAcceptEncoding);
  curl_easy_setopt(e, CURLOPT_HTTP_CONTENT_DECODING, 0L);
  curl_easy_setopt(e, CURLOPT_HTTP_TRANSFER_DECODING, 0L);
  state.record = options.record_exchange;
  if (options.record_exchange) {
    curl_easy_setopt(e, CURLOPT_VERBOSE, 1L);
    curl_easy_setopt(e, CURLOPT_DEBUGFUNCTION, &OnDebug);
    curl_easy_setopt(e, CURLOPT_DEBUGDATA, &state);
    state.response.started_at = std::chrono::system_clock::now();
  }
  if (options.abort != nullptr) {
    curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, &OnProgress);
    curl_easy_setopt(e, CURLOPT_XFERINFODATA, const_cast<std::atomic<bool>*>(options.abort));
  }
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, request.timeout_ms);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, request.connect_timeout_ms);
  if (request.low_speed_seconds > 0) {  // a server that dribbles: cut it well before --timeout
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, request.low_speed_bytes);
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, request.low_speed_seconds);
  }
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, request.max_redirects > 0 ? 1L : 0L);
  curl_easy_setopt(e, CURLOPT_MAXREDIRS, request.max_redirects);
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  // The one place TLS trust is decided, for all three modes. CURLOPT_CAINFO alone would replace
  // the bundle, so the given file goes in CAINFO while the system's hashed directory stays in
  // CAPATH: both are trusted.
  if (!options.ca_file.empty()) {
    curl_easy_setopt(e, CURLOPT_CAINFO, options.ca_file.c_str());
    curl_easy_setopt(e, CURLOPT_CAPATH, kSystemCaPath);
  }
  if (!options.verify_tls) {
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  if (options.http2) {
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_2TLS);
    // Over TLS, wait to multiplex on a connection being set up rather than open another one;
    // plain http cannot multiplex, and waiting there would only serialise connection set-up.
    if (request.url.rfind("https:", 0) == 0) curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
  } else {
    // Said, not left to the default: since 7.62 curl's default is 2TLS, which offers h2 by ALPN.
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
  }
}

void CollectTransfer(CURL* e, CURLcode result, TransferState& state) {
  FetchResponse& r = state.response;
  r.curl_code = result;
  if (result == CURLE_WRITE_ERROR && r.truncated) r.curl_code = CURLE_OK;  // our cap, not a failure
  if (r.curl_code != CURLE_OK) r.error = state.errbuf[0] ? state.errbuf : curl_easy_strerror(result);
  curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &r.status);
  char* url = nullptr;
  curl_easy_getinfo(e, CURLINFO_EFFECTIVE_URL, &url);
  if (url) r.effective_url = url;
  char* type = nullptr;
  curl_easy_getinfo(e, CURLINFO_CONTENT_TYPE, &type);
  if (type) r.content_type = type;
  if (auto it = r.headers.find("transfer-encoding"); it != r.headers.end()) r.chunked = IsChunked(it->second);
  if (state.record) {
    char* ip = nullptr;
    curl_easy_getinfo(e, CURLINFO_PRIMARY_IP, &ip);
    if (ip) r.remote_ip = ip;
  }
  curl_easy_getinfo(e, CURLINFO_REDIRECT_COUNT, &r.redirects);
  curl_easy_getinfo(e, CURLINFO_NUM_CONNECTS, &r.new_connections);
  long version = 0;
  curl_easy_getinfo(e, CURLINFO_HTTP_VERSION, &version);
  r.http_version = HttpVersionName(version);
  curl_easy_getinfo(e, CURLINFO_SSL_VERIFYRESULT, &r.tls_verify_result);

  // curl's times are cumulative from the start of the final request (redirects apart).
  const double lookup = Seconds(e, CURLINFO_NAMELOOKUP_TIME_T);
  const double connect = Seconds(e, CURLINFO_CONNECT_TIME_T);
  const double app = Seconds(e, CURLINFO_APPCONNECT_TIME_T);
  const double start = Seconds(e, CURLINFO_STARTTRANSFER_TIME_T);
  const double total = Seconds(e, CURLINFO_TOTAL_TIME_T);
  FetchTimings& t = r.timings;
  t.redirect = Seconds(e, CURLINFO_REDIRECT_TIME_T);
  t.request_sent = t.redirect + Seconds(e, CURLINFO_PRETRANSFER_TIME_T);
  t.total = total;
  t.dns = lookup;
  t.connect = std::max(0.0, connect - lookup);
  t.tls = app > 0 ? std::max(0.0, app - connect) : 0;
  // On a reused connection curl reports connect (and TLS) as 0 but still a lookup time: the
  // request starts after whichever of them came last.
  const double ready = std::max({lookup, connect, app});
  t.first_byte = start > 0 ? std::max(0.0, start - ready) : 0;
  t.transfer = start > 0 ? std::max(0.0, total - t.redirect - start) : 0;
}

void FetchOp::await_suspend(std::coroutine_handle<> h) {
  waiter_ = h;
  easy_ = fetcher_.TakeEasy();
  ConfigureTransfer(easy_.get(), state_, fetcher_.options_, fetcher_.share_.get());
  fetcher_.loop_.PrepareTransfer(easy_.get());
  curl_easy_setopt(easy_.get(), CURLOPT_PRIVATE, static_cast<CurlTransfer*>(this));
  CURLMcode rc = curl_multi_add_handle(fetcher_.loop_.multi(), easy_.get());
  if (rc != CURLM_OK) {
    state_.response.curl_code = CURLE_FAILED_INIT;
    state_.response.error = curl_multi_strerror(rc);
    fetcher_.ReturnEasy(std::move(easy_));
    fetcher_.loop_.Schedule(h);
    return;
  }
  registered_ = true;
  fetcher_.CountInFlight(+1);
}

void FetchOp::OnDone(CURLcode result) {
  CollectTransfer(easy_.get(), result, state_);
  curl_multi_remove_handle(fetcher_.loop_.multi(), easy_.get());
  registered_ = false;
  fetcher_.CountInFlight(-1);
  fetcher_.ReturnEasy(std::move(easy_));
  fetcher_.loop_.Schedule(waiter_);
}

FetchOp::~FetchOp() {
  if (registered_) {  // the awaiting task was destroyed mid-transfer
    curl_multi_remove_handle(fetcher_.loop_.multi(), easy_.get());
    fetcher_.CountInFlight(-1);
  }
  if (easy_) fetcher_.ReturnEasy(std::move(easy_));
}

SharedCurlCache::SharedCurlCache(bool connections) : share_(curl_share_init()) {
  curl_share_setopt(share_.get(), CURLSHOPT_LOCKFUNC, &SharedCurlCache::Lock);
  curl_share_setopt(share_.get(), CURLSHOPT_UNLOCKFUNC, &SharedCurlCache::Unlock);
  curl_share_setopt(share_.get(), CURLSHOPT_USERDATA, this);
  curl_share_setopt(share_.get(), CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
  curl_share_setopt(share_.get(), CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  // With the connection cache shared, curl 7.88 put transfers of several threads on one HTTP/2
  // connection, and they stalled until their timeouts: libcurl does not run one connection's
  // streams on several threads. Connections are shared only where nothing multiplexes.
  if (connections) curl_share_setopt(share_.get(), CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
}

SharedCurlCache::~SharedCurlCache() = default;

void SharedCurlCache::Lock(CURL*, curl_lock_data data, curl_lock_access, void* self) {
  static_cast<SharedCurlCache*>(self)->locks_[data].lock();
}

void SharedCurlCache::Unlock(CURL*, curl_lock_data data, void* self) {
  static_cast<SharedCurlCache*>(self)->locks_[data].unlock();
}

BlockingFetcher::BlockingFetcher(FetcherOptions options, CURLSH* share)
    : options_(std::move(options)), share_(share), easy_(curl_easy_init()) {
  EnsureCurlGlobalInit();
}

FetchResponse BlockingFetcher::Fetch(FetchRequest request) {
  TransferState state;
  state.request = std::move(request);
  curl_easy_reset(easy_.get());  // options go; the connection (in the handle or the share) stays
  ConfigureTransfer(easy_.get(), state, options_, share_);
  CURLcode result = curl_easy_perform(easy_.get());
  CollectTransfer(easy_.get(), result, state);
  return std::move(state.response);
}

}  // namespace fanout
