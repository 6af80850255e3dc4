// HostTable: the hosts a crawl knows, each an origin ("http://h:1") interned once under a small id
// (HostId, from 0 up), and what is known of the host beyond scheduling: its robots.txt verdict.
// The scheduling state of a host (host_queues.h) and its connection policy (connection_policy.h)
// are kept beside it, indexed by the same id.
//
// Memory: every host known stays (its politeness and robots.txt outlive its queue), so the cost of
// an idle host matters: origins are copied into an arena of 64 kB blocks, the index is open
// addressing over ids, and robots.txt verdicts shared by several hosts (the same file, or "allow
// all") are held once.
//
// Threads: not thread-safe; the frontier's owner serialises calls.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "crawler/frontier_item.h"
#include "parser/robots_txt.h"

namespace fanout {

class HostTable {
 public:
  HostTable();
  HostTable(HostTable&&) = default;
  HostTable& operator=(HostTable&&) = default;

  // The id of `origin`, and whether it was new.
  std::pair<HostId, bool> Intern(std::string_view origin);
  std::string_view origin(HostId host) const { return hosts_[host].origin; }
  size_t size() const { return hosts_.size(); }

  // The host's robots.txt verdict (nullptr: none, or not obeyed).
  void SetRobots(HostId host, std::shared_ptr<const RobotsTxt> robots);
  const RobotsTxt* robots(HostId host) const { return robots_table_[hosts_[host].robots].get(); }
  const std::shared_ptr<const RobotsTxt>& shared_robots(HostId host) const { return robots_table_[hosts_[host].robots]; }

  // What the table costs: records, index, arena and the distinct robots.txt verdicts' slots (the
  // verdicts themselves are counted by whoever shares them).
  size_t memory_bytes() const;

 private:
  struct Entry {
    std::string_view origin;  // in the arena
    uint32_t robots = 0;      // index in robots_table_ (0: none)
  };
  static constexpr HostId kNoHost = UINT32_MAX;
  static constexpr size_t kArenaBlock = 64 * 1024;
  size_t SlotOf(std::string_view origin) const;  // the slot holding it, or the empty one it would take
  void GrowIndex();
  std::string_view CopyToArena(std::string_view origin);

  std::deque<Entry> hosts_;  // a deque: no spare capacity to pay for, and entries never move
  std::vector<HostId> slots_;
  std::vector<std::unique_ptr<char[]>> arena_;
  char* arena_at_ = nullptr;  // the free end of the last block
  size_t arena_left_ = 0;
  std::vector<std::shared_ptr<const RobotsTxt>> robots_table_{nullptr};  // distinct verdicts
  std::unordered_map<const RobotsTxt*, uint32_t> robots_index_;
};

}  // namespace fanout
