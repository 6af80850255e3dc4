#include "crawler/connection_policy.h"

namespace fanout {

void ConnectionPolicy::AddHost(HostId host, bool https) {
  if (flags_.size() <= host) flags_.resize(host + 1, 0);
  flags_[host] = https ? kMultiplexes : 0;
}

bool ConnectionPolicy::ShouldKeep(HostId host, bool more, bool page) {
  uint8_t& f = flags_[host];
  const bool kept = (f & kKept) != 0;
  const bool keep = (more || (page && (f & kMultiplexes) != 0)) && (kept || kept_ < max_kept_);
  if (keep && !kept) ++kept_;
  if (!keep && kept) --kept_;
  f = static_cast<uint8_t>(keep ? f | kKept : f & ~kKept);
  return keep;
}

void ConnectionPolicy::SetMultiplexes(HostId host, bool multiplexes) {
  uint8_t& f = flags_[host];
  f = static_cast<uint8_t>(multiplexes ? f | kMultiplexes : f & ~kMultiplexes);
}

void ConnectionPolicy::PageDone(HostId host, bool idle) {
  uint8_t& f = flags_[host];
  if ((f & kKept) != 0 && idle) {
    f = static_cast<uint8_t>(f & ~kKept);
    --kept_;
  }
}

}  // namespace fanout
