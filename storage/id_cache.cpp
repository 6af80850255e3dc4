#include "storage/id_cache.h"

#include <utility>

namespace fanout {

std::optional<int64_t> IdCache::Find(std::string_view text) {
  if (auto it = current_.find(text); it != current_.end()) return it->second;
  auto old = previous_.find(text);
  if (old == previous_.end()) return std::nullopt;
  const int64_t id = old->second;
  // Moves the node, not the text; it is no longer in previous_, so Put's REQUIRES holds.
  auto node = previous_.extract(old);
  MakeRoom();
  current_.insert(std::move(node));
  return id;
}

void IdCache::Put(std::string_view text, int64_t id) {
  if (capacity_ == 0) return;
  MakeRoom();
  current_.emplace(std::string(text), id);
}

void IdCache::MakeRoom() {
  if (current_.size() < capacity_) return;
  previous_ = std::move(current_);
  current_.clear();
}

void IdCache::Clear() {
  current_.clear();
  previous_.clear();
}

}  // namespace fanout
