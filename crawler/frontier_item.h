// FrontierItem: one URL the crawl will fetch, as the frontier queues it and hands it out.
//
// Threads: a value.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace fanout {

// A host's small id, given by the HostTable (host_table.h) when its origin is first seen.
using HostId = uint32_t;

struct FrontierItem {
  std::string url;
  int depth = 0;
  std::string parent;  // the page it was found on; "" for a seed
  std::chrono::steady_clock::time_point queued_at;
};

}  // namespace fanout
