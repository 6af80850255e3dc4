#include "crawler/host_table.h"

#include <algorithm>
#include <functional>

namespace fanout {

HostTable::HostTable() : slots_(16, kNoHost) {}

size_t HostTable::SlotOf(std::string_view origin) const {
  const size_t mask = slots_.size() - 1;
  size_t i = std::hash<std::string_view>()(origin) & mask;
  while (slots_[i] != kNoHost && hosts_[slots_[i]].origin != origin) i = (i + 1) & mask;
  return i;
}

void HostTable::GrowIndex() {
  std::vector<HostId> old(slots_.size() * 2, kNoHost);
  old.swap(slots_);
  for (HostId id : old) {
    if (id != kNoHost) slots_[SlotOf(hosts_[id].origin)] = id;
  }
}

std::string_view HostTable::CopyToArena(std::string_view origin) {
  if (origin.size() > arena_left_) {
    arena_left_ = std::max(kArenaBlock, origin.size());
    arena_.push_back(std::make_unique<char[]>(arena_left_));
    arena_at_ = arena_.back().get();
  }
  char* at = arena_at_;
  std::copy(origin.begin(), origin.end(), at);
  arena_at_ += origin.size();
  arena_left_ -= origin.size();
  return {at, origin.size()};
}

std::pair<HostId, bool> HostTable::Intern(std::string_view origin) {
  const size_t slot = SlotOf(origin);
  if (slots_[slot] != kNoHost) return {slots_[slot], false};
  const auto id = static_cast<HostId>(hosts_.size());
  hosts_.push_back({.origin = CopyToArena(origin), .robots = 0});
  slots_[slot] = id;
  if (2 * hosts_.size() > slots_.size()) GrowIndex();
  return {id, true};
}

void HostTable::SetRobots(HostId host, std::shared_ptr<const RobotsTxt> robots) {
  if (!robots) {
    hosts_[host].robots = 0;
    return;
  }
  auto [it, added] = robots_index_.try_emplace(robots.get(), static_cast<uint32_t>(robots_table_.size()));
  if (added) robots_table_.push_back(std::move(robots));
  hosts_[host].robots = it->second;
}

size_t HostTable::memory_bytes() const {
  return hosts_.size() * sizeof(Entry) + slots_.capacity() * sizeof(HostId) + arena_.size() * kArenaBlock -
         arena_left_ + robots_table_.capacity() * sizeof(robots_table_[0]) +
         robots_index_.size() * (2 * sizeof(void*) + sizeof(size_t)) + robots_index_.bucket_count() * sizeof(void*);
}

}  // namespace fanout
