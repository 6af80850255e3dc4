#include "crawler/dns_channel.h"

#include <algorithm>
#include <string>

namespace fanout {

Result<AresChannel> AresChannel::Create(const DnsOptions& options, SocketState on_socket, void* data) {
  EnsureAresInit();
  ares_options o{};
  int mask = ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES;
  o.flags = ARES_FLAG_NOSEARCH;
  // c-ares doubles the wait on its second try: t + 2t = the whole timeout.
  o.timeout = std::max(1, static_cast<int>(options.timeout * 1000 / 3));
  o.tries = 2;
  if (on_socket != nullptr) {
    mask |= ARES_OPT_SOCK_STATE_CB;
    o.sock_state_cb = on_socket;
    o.sock_state_cb_data = data;
  }
  ares_channel channel = nullptr;
  const int rc = ares_init_options(&channel, &o, mask);
  if (rc != ARES_SUCCESS) return Status::Unavailable(std::string("cannot set up the resolver: ") + ares_strerror(rc));
  AresChannel owned(channel);
  if (!options.servers.empty()) {
    if (int set = ares_set_servers_ports_csv(channel, options.servers.c_str()); set != ARES_SUCCESS) {
      return Status::InvalidArgument("--dns-server '" + options.servers + "': " + ares_strerror(set));
    }
  }
  return owned;
}

}  // namespace fanout
