// ConnectionPolicy: whether a request should keep its connection open for the next one to its host.
//
// libcurl walks every connection it keeps when a transfer ends, so a crawl spread over thousands
// of hosts, each visited now and then, would pay per page for connections that mostly wait to be
// closed as idle. So a request keeps its connection only when its host has more to send (queued
// URLs or turns, or other transfers under way, whose pages may well link back), and only for the
// first `kept_hosts` hosts that asked (a host keeps its place until a request of its does not keep
// the connection, or the host ends idle: PageDone).
//
// On a host that multiplexes (its last answer came over HTTP/2; before its first, an https host is
// taken to, an http one not) a page request counts as more to send: its links, not known before it
// is parsed, mostly come back to its host, and its one HTTP/2 connection carries them all; closing
// it there would mean another (and, with curl 7.88, a full TLS handshake: OpenSSL marks the session
// of a connection curl closes under HTTP/2 not resumable). Over HTTP/1.1 a page alone keeps
// nothing: a crawl of 20,000 hosts of two pages each ran at 0.72x with every page's connection kept.
//
// Threads: not thread-safe; the frontier's owner serialises calls.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "crawler/frontier_item.h"

namespace fanout {

class ConnectionPolicy {
 public:
  explicit ConnectionPolicy(size_t kept_hosts) : max_kept_(kept_hosts) {}

  // A host made known (ids come in order, from 0); `https`: it may multiplex before its first answer.
  void AddHost(HostId host, bool https);
  // A request to `host` starts; `more`: the host has something else to send or in flight; `page`:
  // the request fetches a page. Whether to keep its connection.
  bool ShouldKeep(HostId host, bool more, bool page);
  // What the host's last response came over: HTTP/2 (`multiplexes`) or not.
  void SetMultiplexes(HostId host, bool multiplexes);
  // A page of `host` is done, its links queued; `idle`: the host has nothing queued or in flight,
  // so it gives its place back and its idle connections are curl's to close (its cache's limits).
  void PageDone(HostId host, bool idle);

  size_t memory_bytes() const { return flags_.capacity(); }

 private:
  enum : uint8_t { kKept = 1, kMultiplexes = 2 };
  const size_t max_kept_;
  size_t kept_ = 0;             // hosts whose flags have kKept
  std::vector<uint8_t> flags_;  // by host id
};

}  // namespace fanout
