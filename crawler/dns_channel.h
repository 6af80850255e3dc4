// AresChannel: a c-ares channel (ares_channel), owned: destroying it cancels its lookups, whose
// callbacks then run with ARES_EDESTRUCTION. Set up as every fanout lookup is: the system's
// resolvers (/etc/resolv.conf) or DnsOptions::servers, no search list (a URL's host is a full name), two tries within
// DnsOptions::timeout, and, when given, a socket-state callback for an event loop to watch its
// sockets (loop_resolver.h).
//
// Threads: one thread at a time, like the channel.
#pragma once

#include <ares.h>

#include <memory>

#include "crawler/dns.h"
#include "util/result.h"

namespace fanout {

class AresChannel {
 public:
  using SocketState = void (*)(void* data, ares_socket_t socket, int readable, int writable);
  // kUnavailable when c-ares cannot be set up (no resolver configured, out of memory).
  static Result<AresChannel> Create(const DnsOptions& options, SocketState on_socket, void* data);
  ares_channel get() const { return channel_.get(); }

 private:
  struct Destroy {
    void operator()(ares_channel c) const { ares_destroy(c); }
  };
  explicit AresChannel(ares_channel c) : channel_(c) {}
  std::unique_ptr<std::remove_pointer_t<ares_channel>, Destroy> channel_;
};

}  // namespace fanout
