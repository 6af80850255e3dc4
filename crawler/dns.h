// What a name lookup answers (DnsAnswer), and how the crawl asks: DnsOptions, and ResolveBlocking
// for a thread that may wait. The lookup on the event loop is LoopResolver (loop_resolver.h); the
// answers a crawl keeps are DnsCache's (dns_cache.h). Both kinds of lookup are c-ares's
// ares_getaddrinfo, an A and an AAAA query at once, without the resolver's search list (a URL's
// host is a full name), read through the same AnswerOf, so every mode sees the same answers.
//
// Threads: ResolveBlocking may be called from any thread (each call has its own c-ares channel).
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

struct ares_addrinfo;

namespace fanout {

struct DnsOptions {
  double timeout = 5;           // seconds a lookup may take in all (c-ares tries twice within it)
  double min_ttl = 60;          // answers are kept at least this long, whatever their TTL says...
  double max_ttl = 6 * 3600;    // ...and at most this long
  double negative_ttl = 300;    // a name that does not exist is believed for this long (then clamped)
  size_t concurrency = 64;      // lookups in flight at most (the async mode; a blocking thread makes one)
  // The resolvers to ask, "ADDR[:PORT],..." (IPv6 in brackets with a port); "": /etc/resolv.conf's.
  std::string servers = {};
};

struct DnsAnswer {
  enum class Kind {
    kOk,        // addresses found
    kNxDomain,  // the name does not exist, or has no address: not asked again within its TTL
    kServFail,  // the resolver failed (SERVFAIL, REFUSED, an unreadable answer) or is unreachable: may pass
    kTimeout,   // no answer in time (a resolver down or cut off): may pass
  };
  Kind kind = Kind::kOk;
  std::vector<std::string> ipv4, ipv6;  // as text, in the resolver's order
  double ttl = 0;                       // seconds, the smallest of the records' (before clamping)
  std::string error;                    // kind != kOk: what the resolver said
  double seconds = 0;                   // how long the lookup took, as fanout measured it
  bool ok() const { return kind == Kind::kOk; }
  // The address the crawl connects to: the first IPv4 one, else the first IPv6 one; "" when none.
  // One address per host, so that politeness per address counts what the server sees (happy
  // eyeballs between families would pick one behind our back).
  const std::string& address() const;
};

// "dns-nxdomain", "dns-servfail", "dns-timeout" ("" for kOk): the error kind and skipped reason.
std::string_view DnsErrorKind(DnsAnswer::Kind kind);
// Whether a failure of this kind may pass, so that the host is asked again after a back-off.
inline bool DnsMayPass(DnsAnswer::Kind kind) {
  return kind == DnsAnswer::Kind::kServFail || kind == DnsAnswer::Kind::kTimeout;
}

// The answer of ares_getaddrinfo's callback (`status` an ARES_* code; `result` may be null and is
// not freed here), `seconds` after it was asked.
DnsAnswer AnswerOf(int status, const ares_addrinfo* result, double seconds);

// Fills `answer` without a query, and returns true, for a name the user pinned (--resolve), an IP
// literal, or localhost and *.localhost (RFC 6761: loopback, as curl does); false for a name to
// look up. `pins`: "HOST:PORT:ADDR[,ADDR...]" entries, curl's --resolve form (PORT may be *).
bool AnswerLocally(std::string_view host, int port, const std::vector<std::string>& pins, DnsAnswer& answer);

// localhost and *.localhost (a final dot or not, any case): loopback by RFC 6761, and names curl
// answers itself without a query.
bool IsLocalhostName(std::string_view host);

// Checks one --resolve entry; "" when it is well formed, else why not.
std::string CheckPin(std::string_view pin);

// Looks `host` up on this thread, waiting at most options.timeout: the blocking modes' lookup.
DnsAnswer ResolveBlocking(const std::string& host, const DnsOptions& options);

// c-ares is set up once per process (ares_library_init); safe to call from any thread, repeatedly.
void EnsureAresInit();

}  // namespace fanout
