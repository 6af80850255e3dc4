// SiteServer: the local HTTP server that every fanout test, demo, tutorial step and benchmark
// crawls (`fanout serve`).
//
// It serves a directory, a SyntheticSite, or a SyntheticWeb (many hosts, h0.D .. h{N-1}.D, D being
// `localhost` unless SyntheticWebOptions::domain says otherwise, told apart by the Host header) on
// loopback addresses only, on libevent's evhttp; inside a network namespace apart from the initial
// one (net_namespace.h), on any address. It may listen on several addresses at once, on one port,
// and a web may spread its hosts over them (ServerOptions::ips), as many sites share few IPs.
// Latency is a timer on the server's event loop, never a sleeping thread, so thousands of delayed
// requests can be in flight at once on one thread. Faults (faults.h) make it misbehave on purpose.
// It counts what it serves (requests, responses by status, requests in flight and the most at
// once), for the whole server, for each host of a web and for each address it listens on, and
// keeps a bounded request log; over HTTP, GET /__stats, POST /__stats/reset, GET /__log,
// GET /__faults and GET /__ips expose them, and for a web GET /__hosts the counters of each host.
// A web answers 421 to a Host it does not serve, and to one of its hosts asked on an address that
// does not serve it. Requests to /__* are neither counted nor logged, and answer on any address.
//
// The first Create() makes the process ignore SIGPIPE: a peer that hangs up mid-answer is an EPIPE
// for the server, not the end of the process.
//
// Threads: the event loop runs on the thread that calls Run(), or on the server's own thread after
// Start(). Stop(), stats(), log(), ResetStats(), HostStatsOf(), ActiveHostStats(), IpStatsByAddress()
// and the *Json() methods may be called from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <chrono>
#include <vector>

#include "testsite/faults.h"
#include "testsite/synthetic.h"
#include "testsite/synthetic_web.h"
#include "util/result.h"

namespace fanout::testsite {

struct ServerOptions {
  std::string host = "127.0.0.1";             // 127.0.0.0/8, ::1 or localhost; any IP in a namespace of its own
  std::vector<std::string> more_hosts;         // further addresses to listen on, on the same port, same rules
  uint16_t port = 0;                           // 0: the kernel picks a free port (on host; the others then take it too)
  // With a web and ips = K > 0: host i is served on address i mod K of (host, more_hosts...), and on
  // every address after the first K; on the K-1 others it is answered 421. 0: every host on every
  // address. REQUIRES: ips <= the number of addresses.
  size_t ips = 0;
  std::optional<std::string> root;             // serve this directory ...
  bool follow_symlinks = false;                // ... where a symlink may lead outside it (static_files.h)
  std::optional<SyntheticOptions> synthetic;   // ... or this generated site (exactly one of them)
  std::optional<SyntheticWebOptions> web;      // with synthetic: serve it as a web of this many hosts
  int latency_ms = 0;                          // delay before each answer
  int jitter_ms = 0;                           // +/- uniform random on top of latency_ms
  std::vector<FaultRule> faults;
  double synthetic_fault_rate = 0;             // share of synthetic pages given a fault
  std::optional<std::string> robots_file;      // /robots.txt; default: a file in root, else allow all
  std::optional<std::string> log_file;         // append each request as a JSON line
  size_t log_capacity = 100000;                // entries kept in memory for GET /__log
  uint64_t seed = 1;                           // for jitter, rate faults and synthetic faults
  bool traps = false;                          // a synthetic site (not a web) gets spider traps (traps.h)
  double mutate = 0.1;                         // POST /__mutate changes this share of the synthetic pages
  std::optional<std::string> tls_cert;         // with tls_key: serve HTTPS (HTTP/1.1) with this PEM chain
  std::optional<std::string> tls_key;          // ... and this PEM private key
};

struct ServerStats {
  uint64_t requests = 0;        // requests received (not /__*)
  uint64_t in_flight = 0;       // received and not yet answered
  uint64_t max_in_flight = 0;   // the most in flight at once since start or reset
  uint64_t resets = 0;          // connections reset on purpose
  uint64_t bytes_sent = 0;      // body bytes
  std::map<int, uint64_t> by_status;
};

struct LogEntry {
  double received = 0;     // seconds since the server started
  double answered = 0;     // when the answer was handed to the socket (or the reset done)
  std::string method;
  std::string host;        // the Host header as sent ("h3.localhost:8080"), "" without one
  std::string address;     // the server's address the request arrived on ("127.0.0.1")
  std::string target;      // path and query as requested
  std::string user_agent;
  int status = 0;          // 0 for a reset connection
  uint64_t bytes = 0;
};

// One address the server listens on, counted since start or the last ResetStats: the requests that
// arrived on it (the local address of their connection), whatever their Host.
struct IpStats {
  std::string address;           // "10.204.0.10", "fd00:204::10"; "127.0.0.1" for localhost
  uint64_t hosts = 0;            // how many of a web's hosts it serves (ServerOptions::ips); 0 without a web
  uint64_t requests = 0;         // received (not /__*)
  uint64_t misdirected = 0;      // of them, answered 421: a host served elsewhere, or a Host not of the web
  uint64_t in_flight = 0;
  uint64_t max_in_flight = 0;
  std::optional<double> min_gap_ms = {};   // the shortest time between two arrivals; none before the second
  std::map<int, uint64_t> by_status = {};  // 0 for a reset
};

// One host of a web, counted since start or the last ResetStats.
struct HostStats {
  uint64_t host = 0;
  std::string name;              // "h3.localhost" ("h3.D" under the web's domain D)
  std::string robots;            // what its robots.txt answers: HostRobots::ToString(), or "file" for --robots
  uint64_t requests = 0;         // received, robots.txt included
  uint64_t pages = 0;            // GET/HEAD answered 200, robots.txt not included
  uint64_t robots_fetches = 0;   // requests for /robots.txt
  uint64_t cross_redirects = 0;  // 301s to another host (SyntheticWebOptions::cross_redirects)
  uint64_t in_flight = 0;
  uint64_t max_in_flight = 0;
  std::optional<double> min_gap_ms = {};  // the shortest time between two arrivals; none before the second
  std::map<int, uint64_t> by_status = {};  // 0 for a reset
};

class SiteServer {
 public:
  // Binds the listening socket. Fails with kInvalidArgument for bad options (a non-loopback host,
  // a missing root) and kUnavailable when the address cannot be bound.
  static Result<std::unique_ptr<SiteServer>> Create(ServerOptions options);
  ~SiteServer();
  SiteServer(const SiteServer&) = delete;
  SiteServer& operator=(const SiteServer&) = delete;

  // "http://127.0.0.1:PORT/" (or "http://[::1]:PORT/"), on the first address; for a web
  // "http://h0.D:PORT/" (without ":PORT" for port 80).
  const std::string& url() const;
  uint16_t port() const;
  // The addresses listened on, in the order given (host, then more_hosts).
  const std::vector<std::string>& addresses() const;

  void Run();    // serves on this thread until Stop()
  void Start();  // serves on a new thread
  void Stop();   // any thread; after Start(), also waits for the thread. Idempotent.

  ServerStats stats() const;
  // Blocks until stats().requests reaches n (counted since start or the last ResetStats), or
  // `timeout` passes; returns whether it was reached. For tests that act mid-crawl.
  bool WaitForRequests(uint64_t n, std::chrono::milliseconds timeout) const;
  std::vector<LogEntry> log() const;
  void ResetStats();  // zero the counters (in_flight stays true) and clear the log

  // A web's hosts. HostStatsOf: nothing without a web or for host >= the number of hosts.
  // ActiveHostStats: the hosts that received a request, by host number.
  std::optional<HostStats> HostStatsOf(uint64_t host) const;
  std::vector<HostStats> ActiveHostStats() const;
  // Every address's counters, in the order of addresses().
  std::vector<IpStats> IpStatsByAddress() const;

  std::string StatsJson() const;   // what GET /__stats answers
  // What GET /__hosts answers (GET /__hosts?all=1 when `all`: idle hosts too); "" without a web.
  std::string HostsJson(bool all) const;
  std::string FaultsJson() const;  // what GET /__faults answers: the rules and faulted pages
  // What GET /__ips answers: {"ips": [{"address", "hosts", "requests", "misdirected", "in_flight",
  // "max_in_flight", "min_gap_ms", "statuses"}, ...]}, one per address in the order of addresses().
  std::string IpStatsJson() const;

  class Impl;

 private:
  explicit SiteServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace fanout::testsite
