#include "testsite/server.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <event2/thread.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <csignal>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <deque>
#include <fstream>
#include <map>
#include <unordered_map>
#include <condition_variable>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <thread>
#include <unordered_set>

#include "testsite/content_encoder.h"
#include "testsite/net_namespace.h"
#include "testsite/static_files.h"
#include "testsite/traps.h"
#include "util/ascii.h"

namespace fanout::testsite {
namespace {

using Clock = std::chrono::steady_clock;

struct EventBaseDeleter {
  void operator()(event_base* b) const { event_base_free(b); }
};
struct EvhttpDeleter {
  void operator()(evhttp* h) const { evhttp_free(h); }
};
struct EventDeleter {
  void operator()(event* e) const { event_free(e); }
};
using EventPtr = std::unique_ptr<event, EventDeleter>;
struct SslCtxDeleter {
  void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
};
using SslCtxPtr = std::unique_ptr<SSL_CTX, SslCtxDeleter>;

std::string OpenSslError() {
  char text[256] = "unknown error";
  if (unsigned long code = ERR_get_error(); code != 0) ERR_error_string_n(code, text, sizeof text);
  ERR_clear_error();
  return text;
}

Result<SslCtxPtr> TlsContext(const std::string& cert, const std::string& key) {
  SslCtxPtr ctx(SSL_CTX_new(TLS_server_method()));
  if (!ctx) return Status::IOError("cannot set up TLS: " + OpenSslError());
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), cert.c_str()) != 1) {
    return Status::IOError("cannot read --tls-cert '" + cert + "': " + OpenSslError());
  }
  if (SSL_CTX_use_PrivateKey_file(ctx.get(), key.c_str(), SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_check_private_key(ctx.get()) != 1) {
    return Status::IOError("cannot use --tls-key '" + key + "': " + OpenSslError());
  }
  // Clients resume sessions from this cache (TLS 1.2 ids; TLS 1.3 tickets work without it).
  SSL_CTX_set_session_id_context(ctx.get(), reinterpret_cast<const unsigned char*>("fanout"), 6);
  return ctx;
}

// evhttp asks for each accepted connection's bufferevent; over TLS it is an OpenSSL one that
// evhttp then drives like a plain socket, so latency and faults apply unchanged.
bufferevent* TlsBufferevent(event_base* base, void* ctx) {
  SSL* ssl = SSL_new(static_cast<SSL_CTX*>(ctx));
  if (ssl == nullptr) return nullptr;
  // Owns ssl from here on (freed with the bufferevent, BEV_OPT_CLOSE_ON_FREE).
  return bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
}

constexpr std::string_view kDefaultRobots = "User-agent: *\nDisallow:\n";

// Loopback, or any address inside a network namespace apart from the initial one: tests and
// benchmarks must never reach another machine, and off loopback only such a namespace ensures it.
// `loopback` says which it is.
Result<sockaddr_storage> BindAddress(const std::string& host, uint16_t port, socklen_t& len, bool& loopback) {
  sockaddr_storage ss{};
  std::string h = host == "localhost" ? "127.0.0.1" : host;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
  if (inet_pton(AF_INET, h.c_str(), &v4->sin_addr) == 1) {
    loopback = (ntohl(v4->sin_addr.s_addr) >> 24) == 127;
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    len = sizeof(sockaddr_in);
  } else if (inet_pton(AF_INET6, h.c_str(), &v6->sin6_addr) == 1) {
    loopback = IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr);
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    len = sizeof(sockaddr_in6);
  } else {
    return Status::InvalidArgument("--host '" + host + "' is not an IP address (use 127.0.0.1 or ::1)");
  }
  if (!loopback) {
    if (Status own = InOwnNetNamespace(); !own.ok()) {
      return Status::InvalidArgument("--host " + host +
                                     " is not a loopback address, and fanout serve binds others only inside a network "
                                     "namespace of its own (ip netns exec), where no other machine can reach it: " +
                                     own.message() + "; use 127.0.0.1 or ::1");
    }
  }
  return ss;
}

// Thousands of connections need thousands of descriptors; the soft limit is often 1024.
void RaiseDescriptorLimit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = std::min<rlim_t>(rl.rlim_max, 65536);
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}

std::string ReadFile(const std::string& path, bool& ok) {
  std::ifstream in(path, std::ios::binary);
  ok = static_cast<bool>(in);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string StatusPage(int code) {
  const char* phrase = code == 404   ? "Not Found"
                       : code == 403 ? "Forbidden"
                       : code == 400 ? "Bad Request"
                       : code == 421 ? "Misdirected Request"
                       : code == 503 ? "Service Unavailable"
                                     : "";
  std::string title = std::to_string(code) + (*phrase ? std::string(" ") + phrase : "");
  return "<!DOCTYPE html>\n<html><head><title>" + title + "</title></head><body><h1>" + title +
         "</h1><p>fanout serve</p></body></html>\n";
}

std::string HugeBody(uint64_t bytes) {
  std::string body = "<!DOCTYPE html>\n<html><head><title>A huge page</title></head><body><p>";
  const std::string_view tail = "</p></body></html>\n";
  const std::string_view line = "This page is much larger than any sensible crawler should keep. ";
  while (body.size() + tail.size() < bytes) {
    body.append(line.substr(0, std::min<size_t>(line.size(), bytes - tail.size() - body.size())));
  }
  body += tail;
  return body;
}

std::string_view QueryValue(std::string_view query, std::string_view key) {
  size_t pos = 0;
  while (pos <= query.size()) {
    size_t end = query.find('&', pos);
    if (end == std::string_view::npos) end = query.size();
    std::string_view pair = query.substr(pos, end - pos);
    if (pair.size() > key.size() && pair.substr(0, key.size()) == key && pair[key.size()] == '=') {
      return pair.substr(key.size() + 1);
    }
    pos = end + 1;
  }
  return {};
}

// One host's counters. Small, because a web may have 100,000 hosts; a host without requests
// allocates nothing.
struct HostCounters {
  uint32_t requests = 0;
  uint32_t pages = 0;
  uint32_t robots_fetches = 0;
  uint32_t cross_redirects = 0;
  uint32_t in_flight = 0;
  uint32_t max_in_flight = 0;
  int64_t last_arrival_ns = -1;  // since the server started; -1: none since the last reset
  int64_t min_gap_ns = -1;       // -1: fewer than two arrivals
  std::vector<std::pair<int, uint32_t>> by_status;  // a handful of codes: a map would cost more
};

constexpr size_t kRobotsKinds = 5;  // HostRobots::Kind's values

// One listening address's counters; a handful of addresses, so plain 64-bit counters.
struct AddressCounters {
  uint64_t requests = 0;
  uint64_t misdirected = 0;
  uint64_t in_flight = 0;
  uint64_t max_in_flight = 0;
  int64_t last_arrival_ns = -1;
  int64_t min_gap_ns = -1;
  std::map<int, uint64_t> by_status;
};

// An address the server listens on.
struct Listening {
  std::string address;      // as printed: "127.0.0.1", "fd00:204::10"
  sockaddr_storage addr{};  // its port as bound
};

bool SameAddress(const sockaddr_storage& a, const sockaddr_storage& b) {
  if (a.ss_family != b.ss_family) return false;
  if (a.ss_family == AF_INET) {
    return reinterpret_cast<const sockaddr_in&>(a).sin_addr.s_addr ==
           reinterpret_cast<const sockaddr_in&>(b).sin_addr.s_addr;
  }
  return a.ss_family == AF_INET6 && IN6_ARE_ADDR_EQUAL(&reinterpret_cast<const sockaddr_in6&>(a).sin6_addr,
                                                       &reinterpret_cast<const sockaddr_in6&>(b).sin6_addr);
}

bool IsWildcard(const sockaddr_storage& a) {
  if (a.ss_family == AF_INET) return reinterpret_cast<const sockaddr_in&>(a).sin_addr.s_addr == htonl(INADDR_ANY);
  return a.ss_family == AF_INET6 && IN6_IS_ADDR_UNSPECIFIED(&reinterpret_cast<const sockaddr_in6&>(a).sin6_addr);
}

// The same gap bookkeeping for a host and an address: the shortest time between two arrivals.
template <typename Counters>
void CountArrival(Counters& c, int64_t now_ns) {
  if (c.last_arrival_ns >= 0) {
    const int64_t gap = now_ns - c.last_arrival_ns;
    c.min_gap_ns = c.min_gap_ns < 0 ? gap : std::min<int64_t>(c.min_gap_ns, gap);
  }
  c.last_arrival_ns = now_ns;
}

// A web's host names are lower case letters, digits and hyphens, in dot-separated labels.
bool ValidDomain(std::string_view d) {
  if (d.empty() || d.size() > 200 || d.front() == '.' || d.back() == '.' || d.find("..") != std::string_view::npos) {
    return false;
  }
  return std::all_of(d.begin(), d.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.'; });
}

}  // namespace

// One request between arrival and answer. Owned by the server's pending set; freed on answer.
struct PendingReply {
  enum class Action { kSend, kSlow, kChunked, kReset };

  SiteServer::Impl* server = nullptr;
  evhttp_request* req = nullptr;
  EventPtr timer;
  Action action = Action::kSend;
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  int64_t host = -1;        // a web's host the request is for; -1 without a web (or for a Host not of the web)
  int address = -1;         // the listening address it arrived on (Impl::listening); -1 if none matched
  bool robots_txt = false;  // a request for /robots.txt
  bool cross_redirect = false;
  size_t sent = 0;          // kSlow: body bytes written so far
  int64_t bytes_per_sec = 0;
  LogEntry entry;
};

class SiteServer::Impl {
 public:
  ServerOptions options;
  std::optional<SyntheticSite> own_site;  // a single synthetic site ...
  std::optional<SyntheticWeb> web;        // ... or a web of them
  const SyntheticSite* site = nullptr;    // the pages of either
  std::array<uint64_t, kRobotsKinds> robots_kinds{};  // a web's hosts by robots.txt kind; const
  std::string root_real;
  bool follow_symlinks = false;
  std::optional<std::string> robots;  // explicit robots.txt content
  std::string url;                     // with trailing '/'
  std::string base;                    // without it, for absolute links
  uint16_t port = 0;
  std::vector<Listening> listening;    // in the order given; const after Create
  std::vector<std::string> addresses;  // listening's addresses, for addresses()

  std::unique_ptr<event_base, EventBaseDeleter> base_loop;
  SslCtxPtr tls;  // before http: the connections' SSL objects go first
  std::unique_ptr<evhttp, EvhttpDeleter> http;
  std::thread thread;
  Clock::time_point started = Clock::now();

  // Loop thread only.
  std::mt19937_64 rng;
  std::unordered_set<PendingReply*> pending;
  ContentEncoder encoder;  // encoding: faults' compressed bodies

  mutable std::mutex mu;
  std::condition_variable request_cv;  // a request was received
  ServerStats stats;              // guarded by mu
  std::vector<HostCounters> hosts;  // guarded by mu; a web's, indexed by host
  uint64_t misdirected = 0;       // guarded by mu; 421s: a Host the web does not serve, or served elsewhere
  std::vector<AddressCounters> ips;  // guarded by mu; indexed like listening
  std::map<std::string, int64_t> trap_requests;  // guarded by mu; by trap (traps.h), with --traps
  // Synthetic pages' revisions (POST /__mutate), by (host << 32 | page); absent: 0. Guarded by mu.
  std::unordered_map<uint64_t, uint32_t> revisions;
  uint64_t mutations = 0;  // POST /__mutate calls so far; guarded by mu
  // Sets the page's validators (ETag, Last-Modified) on `p` and, when the request's conditional
  // headers match them, makes it a 304; returns the page's revision.
  uint32_t Validate(PendingReply* p, uint64_t host, uint64_t page);
  std::deque<LogEntry> log;       // guarded by mu
  std::ofstream log_out;          // guarded by mu

  ~Impl() {
    // Our timers first: evhttp_free below frees the requests they point at. Except a dribbled
    // reply whose client has left: its request belongs to no connection any more, and only
    // ending the reply frees it.
    for (PendingReply* p : pending) {
      if (p->action == PendingReply::Action::kSlow && p->sent > 0 && !evhttp_request_get_connection(p->req)) {
        evhttp_send_reply_end(p->req);
      }
      delete p;
    }
    pending.clear();
    http.reset();
    base_loop.reset();
  }

  double Now() const { return std::chrono::duration<double>(Clock::now() - started).count(); }

  static void OnRequest(evhttp_request* req, void* arg) { static_cast<Impl*>(arg)->Handle(req); }
  static void OnTimer(evutil_socket_t, short, void* arg) {
    auto* p = static_cast<PendingReply*>(arg);
    p->server->Deliver(p);
  }

  void Handle(evhttp_request* req);
  bool HandleAdmin(evhttp_request* req, std::string_view path, std::string_view query);
  void Respond(PendingReply* p, std::string_view path, std::string_view query);
  void RespondStatic(PendingReply* p, std::string_view raw_path, std::string_view query);
  bool ApplyFault(PendingReply* p, const Fault& f, std::string_view path, std::string_view query,
                  std::optional<uint64_t> page);
  void AlterAnswer(PendingReply* p, const Fault& f, std::string_view path);
  void Schedule(PendingReply* p, int64_t delay_ms);
  void Deliver(PendingReply* p);
  void Finish(PendingReply* p, int status, uint64_t bytes);
  std::optional<Fault> SyntheticPageFault(uint64_t host, uint64_t page) const;
  std::string RenderPage(const PendingReply* p, uint64_t page, PageFlavor flavor = PageFlavor::kNormal) const;
  std::string FaultsJson() const;
  std::string HostsJson(bool all) const;
  std::string IpStatsJson() const;
  IpStats StatsOfAddress(size_t index) const;  // REQUIRES: mu held, index < listening.size()
  int AddressOf(evhttp_request* req) const;
  // Whether the address at `index` serves the web's `host` (ServerOptions::ips).
  bool Serves(int index, uint64_t host) const;
  uint64_t HostsServedAt(size_t index) const;
  std::string_view Domain() const { return options.web ? std::string_view(options.web->domain) : kDefaultWebDomain; }
  HostStats StatsOfHost(uint64_t host) const;  // REQUIRES: mu held, a web, host < web->hosts()
  std::string RobotsKindOf(uint64_t host) const;
  void ResetAll();                             // REQUIRES: mu held
};

std::optional<Fault> SiteServer::Impl::SyntheticPageFault(uint64_t host, uint64_t page) const {
  if (!site || page == 0 || options.synthetic_fault_rate <= 0) return std::nullopt;
  const uint64_t key = host * site->size() + page;  // host 0 draws what a single site does
  uint64_t draw = Mix64(options.seed ^ Mix64(key * 0x5bd1e995ULL + 77));
  double unit = static_cast<double>(draw >> 11) / static_cast<double>(1ULL << 53);
  if (unit >= options.synthetic_fault_rate) return std::nullopt;
  return SyntheticFault(Mix64(draw), site->PathOf((page + 1) % site->size()));
}

int SiteServer::Impl::AddressOf(evhttp_request* req) const {
  evhttp_connection* conn = evhttp_request_get_connection(req);
  if (!conn) return -1;
  sockaddr_storage local{};
  socklen_t len = sizeof local;
  if (getsockname(bufferevent_getfd(evhttp_connection_get_bufferevent(conn)), reinterpret_cast<sockaddr*>(&local),
                  &len) != 0) {
    return -1;
  }
  int wildcard = -1;
  for (size_t i = 0; i < listening.size(); ++i) {
    if (SameAddress(local, listening[i].addr)) return static_cast<int>(i);
    if (wildcard < 0 && listening[i].addr.ss_family == local.ss_family && IsWildcard(listening[i].addr)) {
      wildcard = static_cast<int>(i);  // 0.0.0.0 or :: inside a namespace: the connection came through it
    }
  }
  return wildcard;
}

bool SiteServer::Impl::Serves(int index, uint64_t host) const {
  const size_t k = options.ips;
  return k == 0 || index < 0 || static_cast<size_t>(index) >= k || host % k == static_cast<size_t>(index);
}

uint64_t SiteServer::Impl::HostsServedAt(size_t index) const {
  if (!web) return 0;
  const uint64_t n = web->hosts(), k = options.ips;
  if (k == 0 || index >= k) return n;
  return n / k + (index < n % k ? 1 : 0);
}

void SiteServer::Impl::Handle(evhttp_request* req) {
  if (evhttp_connection* conn = evhttp_request_get_connection(req)) {
    // Without it, the tail of a large answer on a kept-alive connection waits for the client's
    // delayed ACK (Nagle's algorithm): some 40 ms a page that no real server would add.
    int one = 1;
    (void)setsockopt(bufferevent_getfd(evhttp_connection_get_bufferevent(conn)), IPPROTO_TCP, TCP_NODELAY, &one,
                     sizeof one);
  }
  const evhttp_uri* uri = evhttp_request_get_evhttp_uri(req);
  const char* raw_path = uri ? evhttp_uri_get_path(uri) : nullptr;
  const char* raw_query = uri ? evhttp_uri_get_query(uri) : nullptr;
  std::string_view path = raw_path && *raw_path ? raw_path : "/";
  std::string_view query = raw_query ? raw_query : "";

  if (path.substr(0, 3) == "/__" && HandleAdmin(req, path, query)) return;

  auto* p = new PendingReply;
  p->server = this;
  p->req = req;
  const Clock::duration since_start = Clock::now() - started;
  p->entry.received = std::chrono::duration<double>(since_start).count();
  switch (evhttp_request_get_command(req)) {
    case EVHTTP_REQ_GET: p->entry.method = "GET"; break;
    case EVHTTP_REQ_HEAD: p->entry.method = "HEAD"; break;
    case EVHTTP_REQ_POST: p->entry.method = "POST"; break;
    default: p->entry.method = "OTHER"; break;
  }
  p->entry.target = evhttp_request_get_uri(req);
  const char* ua = evhttp_find_header(evhttp_request_get_input_headers(req), "User-Agent");
  p->entry.user_agent = ua ? ua : "";
  const char* host_header = evhttp_find_header(evhttp_request_get_input_headers(req), "Host");
  p->entry.host = host_header ? host_header : "";
  std::optional<uint64_t> host = web ? web->HostOf(p->entry.host) : std::nullopt;
  if (host) p->host = static_cast<int64_t>(*host);
  p->address = AddressOf(req);
  if (p->address >= 0) p->entry.address = listening[static_cast<size_t>(p->address)].address;
  // One of ours, asked where it is not served: the client connected to the wrong address for the name.
  const bool elsewhere = host && !Serves(p->address, *host);
  p->robots_txt = path == "/robots.txt";
  pending.insert(p);
  {
    std::lock_guard lock(mu);
    const int64_t now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(since_start).count();
    ++stats.requests;
    stats.max_in_flight = std::max(stats.max_in_flight, ++stats.in_flight);
    if (host) {
      HostCounters& h = hosts[*host];
      ++h.requests;
      h.robots_fetches += p->robots_txt && !elsewhere;
      h.max_in_flight = std::max(h.max_in_flight, ++h.in_flight);
      CountArrival(h, now_ns);
    }
    if (web && (!host || elsewhere)) ++misdirected;
    if (p->address >= 0) {
      AddressCounters& a = ips[static_cast<size_t>(p->address)];
      ++a.requests;
      a.misdirected += web && (!host || elsewhere);
      a.max_in_flight = std::max(a.max_in_flight, ++a.in_flight);
      CountArrival(a, now_ns);
    }
  }
  request_cv.notify_all();
  if (web && (!host || elsewhere)) {
    // Not one of ours, or not here: a crawl that follows a link off the web, or that connects to
    // the wrong address for a name, learns so at once, and cannot wander.
    p->status = 421;
    p->body = StatusPage(421);
    p->headers.emplace_back("Content-Type", "text/html; charset=utf-8");
    Deliver(p);
    return;
  }
  Respond(p, path, query);
}

uint32_t SiteServer::Impl::Validate(PendingReply* p, uint64_t host, uint64_t page) {
  uint32_t revision = 0;
  {
    std::lock_guard lock(mu);
    auto it = revisions.find(host << 32 | page);
    if (it != revisions.end()) revision = it->second;
  }
  // Opaque to a client, but a function of what the page is: its seed, host, page and revision.
  char etag[40];
  std::snprintf(etag, sizeof etag, "\"%016llx\"",
                static_cast<unsigned long long>(std::hash<std::string>{}(
                    std::to_string(options.seed) + "/" + std::to_string(host) + "/" + std::to_string(page) + "/" +
                    std::to_string(revision))));
  // Every page was last modified on 2026-01-01, and a day later for every revision since.
  const time_t modified = 1767225600 + static_cast<time_t>(revision) * 86400;
  char date[64];
  struct tm tm_utc;
  gmtime_r(&modified, &tm_utc);
  std::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm_utc);
  p->headers.emplace_back("ETag", etag);
  p->headers.emplace_back("Last-Modified", date);
  // RFC 9110 13.2.2: If-None-Match first; If-Modified-Since only without it.
  evkeyvalq* in = evhttp_request_get_input_headers(p->req);
  bool not_modified = false;
  if (const char* none_match = evhttp_find_header(in, "If-None-Match")) {
    const std::string_view tags = none_match;
    not_modified = tags == "*" || tags.find(etag) != std::string_view::npos;
  } else if (const char* since = evhttp_find_header(in, "If-Modified-Since")) {
    struct tm parsed = {};
    const char* end = strptime(since, "%a, %d %b %Y %H:%M:%S GMT", &parsed);
    not_modified = end != nullptr && timegm(&parsed) >= modified;
  }
  if (not_modified) {
    p->status = 304;
    p->body.clear();
  }
  return revision;
}

std::string SiteServer::Impl::RenderPage(const PendingReply* p, uint64_t page, PageFlavor flavor) const {
  if (web) return web->Render(static_cast<uint64_t>(p->host), page, port, flavor);
  return site->Render(page, base, flavor);
}

void SiteServer::Impl::Respond(PendingReply* p, std::string_view path, std::string_view query) {
  int64_t delay = options.latency_ms;
  if (options.jitter_ms > 0) {
    delay += std::uniform_int_distribution<int64_t>(-options.jitter_ms, options.jitter_ms)(rng);
    delay = std::max<int64_t>(delay, 0);
  }

  std::string decoded;
  std::optional<uint64_t> page;
  if (site && PercentDecode(path, decoded)) page = site->PageAt(decoded, query);

  // Delay rules add up; the first other rule that applies decides the answer.
  const Fault* fault = nullptr;
  for (const FaultRule& rule : options.faults) {
    bool applies = rule.rate >= 0 ? std::uniform_real_distribution<double>(0, 1)(rng) < rule.rate
                                  : rule.MatchesPath(path);
    if (!applies) continue;
    if (rule.fault.kind == Fault::Kind::kDelay) {
      delay += rule.fault.amount;
    } else if (!fault) {
      fault = &rule.fault;
    }
  }
  const uint64_t host = p->host >= 0 ? static_cast<uint64_t>(p->host) : 0;
  std::optional<Fault> page_fault = page ? SyntheticPageFault(host, *page) : std::nullopt;
  if (!fault && page_fault) fault = &*page_fault;

  if (!fault || !ApplyFault(p, *fault, path, query, page)) {
    if (path == "/robots.txt" && web && !robots) {
      const HostRobots r = web->RobotsOf(host);
      p->status = r.status();
      if (p->status == 200) {
        p->body = r.body();
        p->headers.emplace_back("Content-Type", "text/plain; charset=utf-8");
      } else {
        p->body = StatusPage(p->status);
        p->headers.emplace_back("Content-Type", "text/html; charset=utf-8");
      }
    } else if (path == "/robots.txt" && (robots || !site)) {
      if (robots || root_real.empty()) {
        p->body = robots ? *robots : std::string(kDefaultRobots);
        p->headers.emplace_back("Content-Type", "text/plain; charset=utf-8");
      } else {
        RespondStatic(p, path, query);
      }
    } else if (path == "/robots.txt" && site) {
      p->body = kDefaultRobots;
      p->headers.emplace_back("Content-Type", "text/plain; charset=utf-8");
    } else if (site) {
      std::optional<WebPage> moved = web && page ? web->CrossRedirectOf(host, *page) : std::nullopt;
      if (moved) {
        const std::string location = SyntheticWeb::OriginOf(moved->host, port, Domain()) + site->PathOf(moved->page);
        p->status = 301;
        p->cross_redirect = true;
        p->headers.emplace_back("Location", location);
        p->headers.emplace_back("Content-Type", "text/html; charset=utf-8");
        p->body = "<!DOCTYPE html><title>Moved</title><a href=\"" + location + "\">moved</a>\n";
      } else if (page) {
        const uint32_t revision = Validate(p, host, *page);
        if (p->status != 304) p->body = RenderPage(p, *page);
        if (p->status != 304 && revision > 0) {
          const size_t end = p->body.rfind("</body>");
          p->body.insert(end == std::string::npos ? p->body.size() : end,
                         "<p>Revision " + std::to_string(revision) + ".</p>\n");
        }
        if (*page == 0 && options.traps && !web && p->status != 304) {
          const size_t end = p->body.rfind("</body>");
          p->body.insert(end == std::string::npos ? p->body.size() : end, TrapEntryLinks(rng));
        }
        p->headers.emplace_back("Content-Type", "text/html; charset=utf-8");
      } else if (std::optional<TrapPage> trap = options.traps && !web ? RenderTrap(path, query, rng) : std::nullopt) {
        {
          std::lock_guard lock(mu);
          ++trap_requests[trap->trap];
        }
        p->body = std::move(trap->html);
        p->headers.emplace_back("Content-Type", "text/html; charset=utf-8");
      } else {
        p->status = 404;
        p->body = StatusPage(404);
        p->headers.emplace_back("Content-Type", "text/html; charset=utf-8");
      }
    } else {
      RespondStatic(p, path, query);
    }
    if (fault && fault->AltersAnswer()) AlterAnswer(p, *fault, path);
  }
  Schedule(p, p->action == PendingReply::Action::kReset ? std::max<int64_t>(delay, 0) : delay);
}

void SiteServer::Impl::RespondStatic(PendingReply* p, std::string_view raw_path, std::string_view query) {
  StaticLookup found = LookupStatic(root_real, raw_path, follow_symlinks);
  using O = StaticLookup::Outcome;
  switch (found.outcome) {
    case O::kFile: {
      bool ok = false;
      p->body = ReadFile(found.file, ok);
      if (!ok) {
        p->status = 403;
        p->body = StatusPage(403);
        p->headers.emplace_back("Content-Type", "text/html; charset=utf-8");
        return;
      }
      p->headers.emplace_back("Content-Type", found.content_type);
      return;
    }
    case O::kAddSlash: {
      std::string location = std::string(raw_path) + "/";
      if (!query.empty()) location += "?" + std::string(query);
      p->status = 301;
      p->headers.emplace_back("Location", location);
      p->headers.emplace_back("Content-Type", "text/html; charset=utf-8");
      p->body = "<!DOCTYPE html><title>Moved</title><a href=\"" + location + "\">moved</a>\n";
      return;
    }
    case O::kForbidden: p->status = 403; break;
    case O::kBadRequest: p->status = 400; break;
    case O::kNotFound: p->status = 404; break;
  }
  p->body = StatusPage(p->status);
  p->headers.emplace_back("Content-Type", "text/html; charset=utf-8");
}

// Fills `p` for the fault. Returns false when the fault only alters a normal answer that the caller
// still has to produce: delay, and encoding and chunked (AlterAnswer, once the answer is there).
bool SiteServer::Impl::ApplyFault(PendingReply* p, const Fault& f, std::string_view path,
                                  std::string_view query, std::optional<uint64_t> page) {
  auto html = [p](std::string body) {
    p->headers.emplace_back("Content-Type", "text/html; charset=utf-8");
    p->body = std::move(body);
  };
  auto redirect = [&](int code, std::string location) {
    p->status = code;
    p->headers.emplace_back("Location", location);
    html("<!DOCTYPE html><title>Redirect</title><a href=\"" + location + "\">elsewhere</a>\n");
  };
  auto page_or_file = [&]() {
    if (site && page) {
      html(RenderPage(p, *page));
    } else if (site) {
      p->status = 404;
      html(StatusPage(404));
    } else {
      RespondStatic(p, path, query);
    }
  };
  using K = Fault::Kind;
  switch (f.kind) {
    case K::kStatus:
      p->status = f.code;
      if (f.amount > 0) p->headers.emplace_back("Retry-After", std::to_string(f.amount));
      html(StatusPage(f.code));
      return true;
    case K::kRedirect:
      redirect(f.code, f.text);
      return true;
    case K::kChain: {
      int hop = std::atoi(std::string(QueryValue(query, "hop")).c_str());
      if (hop < f.amount) {
        redirect(302, std::string(path) + "?hop=" + std::to_string(hop + 1));
      } else {
        redirect(302, f.text);
      }
      return true;
    }
    case K::kLoop: {
      int step = std::atoi(std::string(QueryValue(query, "loop")).c_str());
      int next = (step + 1) % 3;
      redirect(302, next == 0 ? std::string(path) : std::string(path) + "?loop=" + std::to_string(next));
      return true;
    }
    case K::kSlow:
      page_or_file();
      p->action = PendingReply::Action::kSlow;
      p->bytes_per_sec = f.amount;
      return true;
    case K::kReset:
      p->action = PendingReply::Action::kReset;
      return true;
    case K::kHuge:
      html(HugeBody(static_cast<uint64_t>(f.amount)));
      if (f.variant) p->action = PendingReply::Action::kChunked;
      return true;
    case K::kType:
      p->headers.emplace_back("Content-Type", f.text);
      p->body = f.text == "application/pdf"
                    ? "%PDF-1.4\n% fanout serve: a non-HTML body\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
                    : "fanout serve: this body is " + f.text + ", not HTML.\n";
      return true;
    case K::kMalformed:
      if (site && page) {
        html(RenderPage(p, *page, PageFlavor::kMalformed));
      } else {
        html("<html><head><title>Broken <b>page</title><body><div><p>Unclosed <a href=/>home<table><tr><td>"
             "<a href='/'>again</td></p></div></span><!-- cut");
      }
      return true;
    case K::kCharset: {
      p->headers.emplace_back("Content-Type", f.variant ? "text/html" : "text/html; charset=" + f.text);
      p->body = CharsetFaultPage(f.text, f.variant).body;
      return true;
    }
    case K::kLatin1: {
      PageFlavor flavor = f.variant ? PageFlavor::kLatin1Meta : PageFlavor::kLatin1;
      p->headers.emplace_back("Content-Type",
                              f.variant ? "text/html" : "text/html; charset=ISO-8859-1");
      if (site && page) {
        p->body = RenderPage(p, *page, flavor);
      } else {
        p->body = std::string("<!DOCTYPE html><html><head>") +
                  (f.variant ? "<meta charset=\"iso-8859-1\">" : "") +
                  "<title>Caf\xE9 M\xFCller</title></head><body><p>Cr\xE8me br\xFBl\xE9" "e</p>"
                  "<a href=\"/\">home</a></body></html>\n";
      }
      return true;
    }
    case K::kDelay:
    case K::kEncoding:
    case K::kChunked:
      return false;
  }
  return false;
}

// The encoding and chunked faults, on the answer the path gave.
void SiteServer::Impl::AlterAnswer(PendingReply* p, const Fault& f, std::string_view path) {
  if (f.kind == Fault::Kind::kEncoding) {
    // Caches in front of a real server must not hand a gzip body to a client that never asked for one.
    p->headers.emplace_back("Vary", "Accept-Encoding");
    const char* accept = evhttp_find_header(evhttp_request_get_input_headers(p->req), "Accept-Encoding");
    if (accept && AcceptsCoding(accept, f.text)) {
      p->body = encoder.Encode(std::to_string(p->host) + std::string(path), f.text, p->body);
      p->headers.emplace_back("Content-Encoding", f.text);
    }
  }
  if (f.kind == Fault::Kind::kChunked || f.variant) p->action = PendingReply::Action::kChunked;
}

void SiteServer::Impl::Schedule(PendingReply* p, int64_t delay_ms) {
  if (delay_ms <= 0 && p->action != PendingReply::Action::kReset) {
    Deliver(p);
    return;
  }
  // A reset frees the connection, which must not happen inside evhttp's own request callback:
  // it always goes through the timer, if only for 0 ms.
  p->timer.reset(evtimer_new(base_loop.get(), &Impl::OnTimer, p));
  timeval tv{static_cast<time_t>(delay_ms / 1000), static_cast<suseconds_t>((delay_ms % 1000) * 1000)};
  evtimer_add(p->timer.get(), &tv);
}

void SiteServer::Impl::Deliver(PendingReply* p) {
  evhttp_request* req = p->req;
  evkeyvalq* out = evhttp_request_get_output_headers(req);
  using A = PendingReply::Action;

  if (p->action == A::kReset) {
    // Counted before the reset: a client that sees the RST may read /__stats at once.
    Finish(p, 0, 0);
    evhttp_connection* conn = evhttp_request_get_connection(req);
    if (conn) {
      // connect(AF_UNSPEC) on a TCP socket aborts it with an RST (tcp_disconnect); a plain close
      // would send FIN first and look like a clean end of the response.
      int fd = bufferevent_getfd(evhttp_connection_get_bufferevent(conn));
      sockaddr sa{};
      sa.sa_family = AF_UNSPEC;
      (void)connect(fd, &sa, sizeof sa);
      evhttp_connection_free(conn);  // frees req too
    } else {
      evhttp_send_error(req, 500, nullptr);  // the client left first: this frees the request
    }
    return;
  }

  if (p->action == A::kSlow && p->sent > 0) {
    // A later tick of a dribbled body.
    if (!evhttp_request_get_connection(req)) {  // the client gave up
      evhttp_send_reply_end(req);
      Finish(p, p->status, p->sent);
      return;
    }
  } else {
    for (const auto& [k, v] : p->headers) evhttp_add_header(out, k.c_str(), v.c_str());
  }

  if (p->action == A::kSend) {
    evbuffer* buf = evhttp_request_get_output_buffer(req);
    evbuffer_add(buf, p->body.data(), p->body.size());
    // evhttp knows no phrase for 421 and would say "Client Error".
    evhttp_send_reply(req, p->status, p->status == 421 ? "Misdirected Request" : nullptr, nullptr);
    Finish(p, p->status, p->body.size());
    return;
  }

  if (p->action == A::kChunked) {
    evhttp_send_reply_start(req, p->status, nullptr);  // no Content-Length: chunked encoding
    evbuffer* chunk = evbuffer_new();
    constexpr size_t kChunk = 64 * 1024;
    for (size_t at = 0; at < p->body.size(); at += kChunk) {
      evbuffer_add(chunk, p->body.data() + at, std::min(kChunk, p->body.size() - at));
      evhttp_send_reply_chunk(req, chunk);
    }
    evbuffer_free(chunk);
    evhttp_send_reply_end(req);
    Finish(p, p->status, p->body.size());
    return;
  }

  // kSlow: 20 ticks a second, each with a twentieth of the rate (at least one byte).
  if (p->sent == 0) {
    evhttp_add_header(out, "Content-Length", std::to_string(p->body.size()).c_str());
    evhttp_send_reply_start(req, p->status, nullptr);
  }
  size_t step = std::max<size_t>(1, static_cast<size_t>(p->bytes_per_sec / 20));
  size_t n = std::min(step, p->body.size() - p->sent);
  if (n > 0) {
    evbuffer* chunk = evbuffer_new();
    evbuffer_add(chunk, p->body.data() + p->sent, n);
    evhttp_send_reply_chunk(req, chunk);
    evbuffer_free(chunk);
    p->sent += n;
  }
  if (p->sent >= p->body.size()) {
    evhttp_send_reply_end(req);
    Finish(p, p->status, p->sent);
    return;
  }
  if (p->sent == n) p->timer.reset(evtimer_new(base_loop.get(), &Impl::OnTimer, p));
  timeval tick{0, 50 * 1000};
  evtimer_add(p->timer.get(), &tick);
}

void SiteServer::Impl::Finish(PendingReply* p, int status, uint64_t bytes) {
  p->entry.answered = Now();
  p->entry.status = status;
  p->entry.bytes = bytes;
  {
    std::lock_guard lock(mu);
    --stats.in_flight;
    ++stats.by_status[status];
    if (status == 0) ++stats.resets;
    stats.bytes_sent += bytes;
    if (p->address >= 0) {
      AddressCounters& a = ips[static_cast<size_t>(p->address)];
      --a.in_flight;
      ++a.by_status[status];
    }
    if (p->host >= 0) {
      HostCounters& h = hosts[static_cast<size_t>(p->host)];
      --h.in_flight;
      auto code = std::find_if(h.by_status.begin(), h.by_status.end(), [&](const auto& e) { return e.first == status; });
      if (code == h.by_status.end()) {
        h.by_status.emplace_back(status, 1);
      } else {
        ++code->second;
      }
      h.pages += status == 200 && !p->robots_txt && p->entry.method != "POST";
      h.cross_redirects += p->cross_redirect;
    }
    if (log_out.is_open()) {
      nlohmann::json j = {{"received", p->entry.received}, {"answered", p->entry.answered},
                          {"method", p->entry.method},     {"host", p->entry.host},
                          {"address", p->entry.address},   {"target", p->entry.target},
                          {"user_agent", p->entry.user_agent}, {"status", status},
                          {"bytes", bytes}};
      log_out << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
      log_out.flush();
    }
    if (options.log_capacity > 0) {
      if (log.size() >= options.log_capacity) log.pop_front();
      log.push_back(std::move(p->entry));
    }
  }
  pending.erase(p);
  delete p;
}

namespace {

nlohmann::json ToJson(const ServerStats& s) {
  nlohmann::json by_status = nlohmann::json::object();
  for (const auto& [code, n] : s.by_status) by_status[code == 0 ? "reset" : std::to_string(code)] = n;
  return {{"requests", s.requests}, {"in_flight", s.in_flight}, {"max_in_flight", s.max_in_flight},
          {"resets", s.resets},     {"bytes_sent", s.bytes_sent}, {"by_status", by_status}};
}

nlohmann::json ToJson(const LogEntry& e) {
  return {{"received", e.received}, {"answered", e.answered}, {"method", e.method}, {"host", e.host},
          {"address", e.address},   {"target", e.target},     {"user_agent", e.user_agent}, {"status", e.status},
          {"bytes", e.bytes}};
}

// Zeroes the counters; requests still in flight stay counted, as they will still be answered.
void ResetCounters(ServerStats& stats) {
  ServerStats fresh;
  fresh.in_flight = stats.in_flight;
  fresh.max_in_flight = stats.in_flight;
  stats = fresh;
}

std::string Dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace

void SiteServer::Impl::ResetAll() {
  ResetCounters(stats);
  trap_requests.clear();
  log.clear();
  misdirected = 0;
  for (HostCounters& h : hosts) {
    HostCounters fresh;
    fresh.in_flight = h.in_flight;
    fresh.max_in_flight = h.in_flight;
    h = std::move(fresh);
  }
  for (AddressCounters& a : ips) {
    AddressCounters fresh;
    fresh.in_flight = a.in_flight;
    fresh.max_in_flight = a.in_flight;
    a = std::move(fresh);
  }
}

IpStats SiteServer::Impl::StatsOfAddress(size_t index) const {
  const AddressCounters& c = ips[index];
  IpStats out;
  out.address = listening[index].address;
  out.hosts = HostsServedAt(index);
  out.requests = c.requests;
  out.misdirected = c.misdirected;
  out.in_flight = c.in_flight;
  out.max_in_flight = c.max_in_flight;
  if (c.min_gap_ns >= 0) out.min_gap_ms = static_cast<double>(c.min_gap_ns) / 1e6;
  out.by_status = c.by_status;
  return out;
}

std::string SiteServer::Impl::IpStatsJson() const {
  nlohmann::json list = nlohmann::json::array();
  std::lock_guard lock(mu);
  for (size_t i = 0; i < listening.size(); ++i) {
    const IpStats s = StatsOfAddress(i);
    nlohmann::json statuses = nlohmann::json::object();
    for (const auto& [code, n] : s.by_status) statuses[code == 0 ? "reset" : std::to_string(code)] = n;
    list.push_back({{"address", s.address},
                    {"hosts", s.hosts},
                    {"requests", s.requests},
                    {"misdirected", s.misdirected},
                    {"in_flight", s.in_flight},
                    {"max_in_flight", s.max_in_flight},
                    {"min_gap_ms", s.min_gap_ms ? nlohmann::json(std::round(*s.min_gap_ms * 1000) / 1000)
                                                : nlohmann::json()},
                    {"statuses", statuses}});
  }
  return Dump({{"ips", list}});
}

std::string SiteServer::Impl::RobotsKindOf(uint64_t host) const {
  return robots ? "file" : web->RobotsOf(host).ToString();
}

HostStats SiteServer::Impl::StatsOfHost(uint64_t host) const {
  const HostCounters& c = hosts[host];
  HostStats out;
  out.host = host;
  out.name = SyntheticWeb::HostName(host, Domain());
  out.robots = RobotsKindOf(host);
  out.requests = c.requests;
  out.pages = c.pages;
  out.robots_fetches = c.robots_fetches;
  out.cross_redirects = c.cross_redirects;
  out.in_flight = c.in_flight;
  out.max_in_flight = c.max_in_flight;
  if (c.min_gap_ns >= 0) out.min_gap_ms = static_cast<double>(c.min_gap_ns) / 1e6;
  for (const auto& [code, n] : c.by_status) out.by_status[code] = n;
  return out;
}

namespace {

void AppendGapMs(std::string& out, int64_t gap_ns) {
  if (gap_ns < 0) {
    out += "null";
    return;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", static_cast<double>(gap_ns) / 1e6);
  out += buf;
}

// Written by hand rather than with nlohmann::json: ?all=1 lists 100,000 hosts, and this is
// several times faster. Every string written is ours and needs no escaping.
void AppendHostJson(std::string& out, uint64_t host, std::string_view domain, const HostCounters& c,
                    const std::string& robots) {
  out += "\"h" + std::to_string(host) + "." + std::string(domain) + "\": {\"robots\": \"" + robots +
         "\", \"requests\": " + std::to_string(c.requests) + ", \"pages\": " + std::to_string(c.pages) +
         ", \"robots_fetches\": " + std::to_string(c.robots_fetches) +
         ", \"cross_redirects\": " + std::to_string(c.cross_redirects) +
         ", \"in_flight\": " + std::to_string(c.in_flight) + ", \"max_in_flight\": " + std::to_string(c.max_in_flight) +
         ", \"min_gap_ms\": ";
  AppendGapMs(out, c.min_gap_ns);
  out += ", \"statuses\": {";
  std::vector<std::pair<int, uint32_t>> codes = c.by_status;
  std::sort(codes.begin(), codes.end());
  for (size_t i = 0; i < codes.size(); ++i) {
    out += (i ? ", \"" : "\"") + (codes[i].first == 0 ? std::string("reset") : std::to_string(codes[i].first)) +
           "\": " + std::to_string(codes[i].second);
  }
  out += "}}";
}

}  // namespace

std::string SiteServer::Impl::HostsJson(bool all) const {
  if (!web) return {};
  std::string out = "{\"hosts\": {";
  uint64_t active = 0, requests = 0, pages = 0, robots_fetches = 0, cross_redirects = 0, max_in_flight = 0;
  int64_t min_gap = -1;
  std::lock_guard lock(mu);
  for (uint64_t h = 0; h < hosts.size(); ++h) {
    const HostCounters& c = hosts[h];
    const bool idle = c.requests == 0 && c.in_flight == 0;
    if (!idle) {
      ++active;
      requests += c.requests;
      pages += c.pages;
      robots_fetches += c.robots_fetches;
      cross_redirects += c.cross_redirects;
      max_in_flight = std::max<uint64_t>(max_in_flight, c.max_in_flight);
      if (c.min_gap_ns >= 0) min_gap = min_gap < 0 ? c.min_gap_ns : std::min(min_gap, c.min_gap_ns);
    }
    if (idle && !all) continue;
    if (out.back() != '{') out += ", ";
    AppendHostJson(out, h, Domain(), c, RobotsKindOf(h));
  }
  out += "}, \"totals\": {\"hosts\": " + std::to_string(hosts.size()) +
         ", \"host_branching\": " + std::to_string(web->host_branching()) +
         ", \"active_hosts\": " + std::to_string(active) + ", \"requests\": " + std::to_string(requests) +
         ", \"pages\": " + std::to_string(pages) + ", \"robots_fetches\": " + std::to_string(robots_fetches) +
         ", \"cross_redirects\": " + std::to_string(cross_redirects) +
         ", \"misdirected\": " + std::to_string(misdirected) +
         ", \"max_in_flight\": " + std::to_string(max_in_flight) + ", \"min_gap_ms\": ";
  AppendGapMs(out, min_gap);
  out += ", \"robots\": {";
  if (robots) {
    out += "\"file\": " + std::to_string(hosts.size());
  } else {
    constexpr const char* kNames[kRobotsKinds] = {"allow", "disallow", "crawl-delay", "404", "503"};
    for (size_t k = 0; k < kRobotsKinds; ++k) {
      out += std::string(k ? ", \"" : "\"") + kNames[k] + "\": " + std::to_string(robots_kinds[k]);
    }
  }
  out += "}}}\n";
  return out;
}

bool SiteServer::Impl::HandleAdmin(evhttp_request* req, std::string_view path, std::string_view query) {
  const auto cmd = evhttp_request_get_command(req);
  std::string body;
  if (path == "/__stats" && cmd == EVHTTP_REQ_GET) {
    std::lock_guard lock(mu);
    body = Dump(ToJson(stats));
  } else if (path == "/__stats/reset" && cmd == EVHTTP_REQ_POST) {
    std::lock_guard lock(mu);
    ResetAll();
    body = Dump(ToJson(stats));
  } else if (path == "/__log" && cmd == EVHTTP_REQ_GET) {
    nlohmann::json entries = nlohmann::json::array();
    std::lock_guard lock(mu);
    for (const LogEntry& e : log) entries.push_back(ToJson(e));
    body = Dump(entries);
  } else if (path == "/__faults" && cmd == EVHTTP_REQ_GET) {
    body = FaultsJson();
  } else if (path == "/__hosts" && cmd == EVHTTP_REQ_GET && web) {
    body = HostsJson(QueryValue(query, "all") == "1");
  } else if (path == "/__ips" && cmd == EVHTTP_REQ_GET) {
    body = IpStatsJson();
  } else if (path == "/__mutate" && cmd == EVHTTP_REQ_POST && site) {
    // A share of the pages changes, the same pages for the same seed and call: page i of host h
    // when a hash of (seed, h, i, call) falls below --mutate.
    std::lock_guard lock(mu);
    const uint64_t hosts = web ? web->hosts() : 1;
    int64_t changed = 0;
    for (uint64_t h = 0; h < hosts; ++h) {
      for (uint64_t i = 0; i < site->size(); ++i) {
        const uint64_t key = h << 32 | i;
        uint64_t mixed = key ^ (options.seed * 0x9E3779B97F4A7C15ULL) ^ (mutations << 48);  // splitmix64
        mixed = (mixed ^ (mixed >> 30)) * 0xBF58476D1CE4E5B9ULL;
        mixed = (mixed ^ (mixed >> 27)) * 0x94D049BB133111EBULL;
        mixed ^= mixed >> 31;
        if (static_cast<double>(mixed % 1000000) / 1e6 < options.mutate) {
          ++revisions[key];
          ++changed;
        }
      }
    }
    ++mutations;
    body = Dump({{"changed", changed}, {"mutations", mutations}});
  } else if (path == "/__traps" && cmd == EVHTTP_REQ_GET && options.traps) {
    nlohmann::json traps = nlohmann::json::object();
    std::lock_guard lock(mu);
    for (const char* name : kTrapNames) traps[name] = trap_requests.contains(name) ? trap_requests.at(name) : 0;
    body = Dump(traps);
  } else {
    return false;  // an ordinary (probably missing) page
  }
  evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "application/json");
  evhttp_add_header(evhttp_request_get_output_headers(req), "Cache-Control", "no-store");
  evbuffer_add(evhttp_request_get_output_buffer(req), body.data(), body.size());
  evhttp_send_reply(req, 200, nullptr, nullptr);
  return true;
}

std::string SiteServer::Impl::FaultsJson() const {
  nlohmann::json rules = nlohmann::json::array();
  for (const FaultRule& r : options.faults) {
    nlohmann::json j = {{"fault", r.fault.ToString()}};
    if (r.rate >= 0) {
      j["rate"] = r.rate;
    } else {
      j["path"] = r.path + (r.prefix ? "*" : "");
    }
    rules.push_back(j);
  }
  nlohmann::json pages = nlohmann::json::object();
  if (site && options.synthetic_fault_rate > 0) {
    // A web's pages are keyed "h3.localhost/p4.html"; a single site's by path alone.
    const uint64_t host_count = web ? web->hosts() : 1;
    for (uint64_t h = 0; h < host_count; ++h) {
      const std::string prefix = web ? SyntheticWeb::HostName(h, Domain()) : std::string();
      for (uint64_t i = 1; i < site->size(); ++i) {
        if (auto f = SyntheticPageFault(h, i)) pages[prefix + site->PathOf(i)] = f->ToString();
      }
    }
  }
  return Dump({{"rules", rules}, {"pages", pages}});
}

// --- SiteServer ------------------------------------------------------------------------------

SiteServer::SiteServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

SiteServer::~SiteServer() { Stop(); }

Result<std::unique_ptr<SiteServer>> SiteServer::Create(ServerOptions options) {
  static std::once_flag threads_enabled;
  std::call_once(threads_enabled, [] {
    evthread_use_pthreads();  // lets Stop() come from any thread
    // A crawler that hangs up mid-answer must not kill the process that serves it (a test binary
    // runs the server in-process): the write fails with EPIPE instead, and the server goes on.
    signal(SIGPIPE, SIG_IGN);
  });

  if (options.root.has_value() == options.synthetic.has_value()) {
    return Status::InvalidArgument("serve needs exactly one of --root DIR and --synthetic N");
  }
  if (options.latency_ms < 0 || options.jitter_ms < 0) {
    return Status::InvalidArgument("--latency and --jitter must not be negative");
  }
  if (options.synthetic_fault_rate < 0 || options.synthetic_fault_rate > 1) {
    return Status::InvalidArgument("--faults must be a rate between 0 and 1");
  }
  if (options.synthetic_fault_rate > 0 && !options.synthetic) {
    return Status::InvalidArgument("--faults RATE applies to a --synthetic site; use --fault RULE with --root");
  }
  if (options.traps && (!options.synthetic || options.web)) {
    return Status::InvalidArgument("--traps applies to a --synthetic site of one host (not --hosts)");
  }
  if (options.web) {
    const SyntheticWebOptions& web = *options.web;
    if (!options.synthetic) return Status::InvalidArgument("--hosts needs --synthetic P (pages per host)");
    if (web.hosts < 1) return Status::InvalidArgument("--hosts must be at least 1");
    if (!(web.cross_links >= 0 && web.cross_links <= 1)) {
      return Status::InvalidArgument("--cross-links must be a share between 0 and 1");
    }
    if (web.hosts > 1 && options.synthetic->links < 1) {
      return Status::InvalidArgument("--hosts needs --links of at least 1: with none, no host links another");
    }
    if (web.robots_mix && options.robots_file) {
      return Status::InvalidArgument("--robots-mix and --robots FILE exclude each other");
    }
  }
  if (options.web) {
    std::string& domain = options.web->domain;
    AsciiLowerInPlace(domain);
    if (!ValidDomain(domain)) {
      return Status::InvalidArgument("--domain '" + domain + "' is not a domain name (letters, digits, '-' and dots)");
    }
  }
  std::vector<std::string> given = {options.host};
  given.insert(given.end(), options.more_hosts.begin(), options.more_hosts.end());
  if (options.ips > 0 && !options.web) {
    return Status::InvalidArgument("--ips spreads the hosts of a web: it needs --hosts");
  }
  if (options.ips > given.size()) {
    return Status::InvalidArgument("--ips " + std::to_string(options.ips) + " needs as many --host addresses, not " +
                                   std::to_string(given.size()));
  }
  std::vector<Listening> listening;
  std::vector<socklen_t> lengths;
  for (const std::string& h : given) {
    socklen_t len = 0;
    bool loopback = true;
    FANOUT_ASSIGN_OR_RETURN(sockaddr_storage addr, BindAddress(h, options.port, len, loopback));
    // Off loopback (in a namespace) clients reach the web with curl's --connect-to, or through a
    // resolver of their own (scripts/weblab.sh), whatever hK.localhost resolves to.
    if (options.web && loopback && options.web->domain == kDefaultWebDomain && h != "127.0.0.1" && h != "localhost") {
      return Status::InvalidArgument("--hosts serves hK.localhost, which resolves to 127.0.0.1: use --host 127.0.0.1, "
                                     "or name the hosts otherwise with --domain");
    }
    char text[INET6_ADDRSTRLEN] = "";
    if (addr.ss_family == AF_INET6) {
      inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&addr)->sin6_addr, text, sizeof text);
    } else {
      inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&addr)->sin_addr, text, sizeof text);
    }
    for (const Listening& l : listening) {
      if (SameAddress(l.addr, addr)) return Status::InvalidArgument("--host " + std::string(text) + " is given twice");
    }
    listening.push_back(Listening{.address = text, .addr = addr});
    lengths.push_back(len);
  }

  auto impl = std::make_unique<Impl>();
  if (options.root) {
    std::unique_ptr<char, decltype(&std::free)> real(realpath(options.root->c_str(), nullptr), &std::free);
    struct stat st {};
    if (!real || stat(real.get(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      return Status::InvalidArgument("--root '" + *options.root + "' is not a directory");
    }
    impl->root_real = real.get();
    impl->follow_symlinks = options.follow_symlinks;
  }
  if (options.robots_file) {
    bool ok = false;
    impl->robots = ReadFile(*options.robots_file, ok);
    if (!ok) return Status::IOError("cannot read --robots file '" + *options.robots_file + "'");
  }
  if (options.log_file) {
    impl->log_out.open(*options.log_file, std::ios::app);
    if (!impl->log_out) return Status::IOError("cannot write --log file '" + *options.log_file + "'");
  }
  impl->rng.seed(options.seed);

  if (options.tls_cert.has_value() != options.tls_key.has_value()) {
    return Status::InvalidArgument("--tls-cert and --tls-key go together");
  }
  if (options.tls_cert) {
    FANOUT_ASSIGN_OR_RETURN(SslCtxPtr ctx, TlsContext(*options.tls_cert, *options.tls_key));
    impl->tls = std::move(ctx);
  }
  RaiseDescriptorLimit();
  impl->base_loop.reset(event_base_new());
  impl->http.reset(evhttp_new(impl->base_loop.get()));
  if (!impl->base_loop || !impl->http) return Status::IOError("libevent could not start");
  for (size_t i = 0; i < listening.size(); ++i) {
    sockaddr_storage& addr = listening[i].addr;
    // Port 0 on the first address is the kernel's pick; the others listen on that same port.
    if (i > 0) {
      if (addr.ss_family == AF_INET6) {
        reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port = htons(impl->port);
      } else {
        reinterpret_cast<sockaddr_in*>(&addr)->sin_port = htons(impl->port);
      }
    }
    // A listener of our own for its backlog: libevent's default of 128 drops SYNs when thousands
    // of clients connect at once, and a dropped SYN costs the client a whole second.
    evconnlistener* listener = evconnlistener_new_bind(
        impl->base_loop.get(), nullptr, nullptr, LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC,
        4096, reinterpret_cast<sockaddr*>(&addr), static_cast<int>(lengths[i]));
    if (!listener) {
      return Status::Unavailable("cannot listen on " + given[i] + " port " +
                                 std::to_string(i > 0 ? impl->port : options.port) + ": " +
                                 evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
    }
    evhttp_bound_socket* bound = evhttp_bind_listener(impl->http.get(), listener);
    if (i == 0) {
      sockaddr_storage actual{};
      socklen_t actual_len = sizeof actual;
      getsockname(evhttp_bound_socket_get_fd(bound), reinterpret_cast<sockaddr*>(&actual), &actual_len);
      impl->port = actual.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&actual)->sin6_port)
                                                : ntohs(reinterpret_cast<sockaddr_in*>(&actual)->sin_port);
    }
    impl->addresses.push_back(listening[i].address);
  }
  impl->ips.resize(listening.size());
  const std::string& first = listening[0].address;
  const std::string host = listening[0].addr.ss_family == AF_INET6 ? "[" + first + "]" : first;
  const std::string scheme = impl->tls ? "https://" : "http://";
  impl->base = options.web ? SyntheticWeb::OriginOf(0, impl->port, options.web->domain)
                           : scheme + host + ":" + std::to_string(impl->port);
  impl->url = impl->base + "/";
  impl->listening = std::move(listening);

  evhttp_set_allowed_methods(impl->http.get(), EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST);
  evhttp_set_gencb(impl->http.get(), &Impl::OnRequest, impl.get());
  if (impl->tls) evhttp_set_bevcb(impl->http.get(), &TlsBufferevent, impl->tls.get());
  if (options.web) {
    impl->web.emplace(*options.synthetic, *options.web);
    impl->site = &impl->web->site();
    impl->hosts.resize(impl->web->hosts());
    for (uint64_t h = 0; h < impl->web->hosts(); ++h) {
      ++impl->robots_kinds[static_cast<size_t>(impl->web->RobotsOf(h).kind)];
    }
  } else if (options.synthetic) {
    impl->site = &impl->own_site.emplace(*options.synthetic);
  }
  impl->options = std::move(options);
  return std::unique_ptr<SiteServer>(new SiteServer(std::move(impl)));
}

const std::string& SiteServer::url() const { return impl_->url; }
uint16_t SiteServer::port() const { return impl_->port; }
const std::vector<std::string>& SiteServer::addresses() const { return impl_->addresses; }

void SiteServer::Run() { event_base_dispatch(impl_->base_loop.get()); }

void SiteServer::Start() {
  impl_->thread = std::thread([this] { Run(); });
}

void SiteServer::Stop() {
  if (!impl_) return;
  event_base_loopbreak(impl_->base_loop.get());
  if (impl_->thread.joinable()) impl_->thread.join();
}

ServerStats SiteServer::stats() const {
  std::lock_guard lock(impl_->mu);
  return impl_->stats;
}

bool SiteServer::WaitForRequests(uint64_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->mu);
  return impl_->request_cv.wait_for(lock, timeout, [&] { return impl_->stats.requests >= n; });
}

std::vector<LogEntry> SiteServer::log() const {
  std::lock_guard lock(impl_->mu);
  return {impl_->log.begin(), impl_->log.end()};
}

void SiteServer::ResetStats() {
  std::lock_guard lock(impl_->mu);
  impl_->ResetAll();
}

std::string SiteServer::StatsJson() const {
  std::lock_guard lock(impl_->mu);
  return Dump(ToJson(impl_->stats));
}

std::string SiteServer::FaultsJson() const { return impl_->FaultsJson(); }

std::string SiteServer::HostsJson(bool all) const { return impl_->HostsJson(all); }

std::string SiteServer::IpStatsJson() const { return impl_->IpStatsJson(); }

std::vector<IpStats> SiteServer::IpStatsByAddress() const {
  std::vector<IpStats> out;
  std::lock_guard lock(impl_->mu);
  for (size_t i = 0; i < impl_->listening.size(); ++i) out.push_back(impl_->StatsOfAddress(i));
  return out;
}

std::optional<HostStats> SiteServer::HostStatsOf(uint64_t host) const {
  if (!impl_->web || host >= impl_->web->hosts()) return std::nullopt;
  std::lock_guard lock(impl_->mu);
  return impl_->StatsOfHost(host);
}

std::vector<HostStats> SiteServer::ActiveHostStats() const {
  std::vector<HostStats> out;
  std::lock_guard lock(impl_->mu);
  for (uint64_t h = 0; h < impl_->hosts.size(); ++h) {
    if (impl_->hosts[h].requests > 0 || impl_->hosts[h].in_flight > 0) out.push_back(impl_->StatsOfHost(h));
  }
  return out;
}

}  // namespace fanout::testsite
