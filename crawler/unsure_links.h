// UnsureLinks: the links the seen filter could not judge (Frontier::Verdict::kUnsure), from when
// the frontier offers them until the store's writer has said whether each was new.
//
// The filter is approximate; only the store's writer, which has every committed link and those of
// its open batch, can tell whether such a link's URL was seen. It records the link either as a
// duplicate or as queued in the database (storage/store.h), and counts both (StoreStats). Here
// those counts become the frontier's: how many links are still unjudged, and how many of those
// judged since the last Settle were new (they join the queue in the database). That is exact only
// if the writer sees pages in the order their links were offered: the crawl queues each page with
// the store in the same step as it offers the page's links.
//
// Threads: not thread-safe; the frontier's owner serialises calls.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "storage/store.h"

namespace fanout {

class UnsureLinks {
 public:
  // The store's counters when the crawl began: what it judged before is not this crawl's.
  void SetBaseline(const StoreStats& baseline) { baseline_ = baseline; }
  // A link the filter was unsure of is offered to the store.
  void Offered() { ++pending_; }
  // The store's counters now. Returns how many links it found new since the last call.
  size_t Settle(const StoreStats& now) {
    const int64_t found_new = now.unsure_new - baseline_.unsure_new;
    const int64_t found_duplicate = now.unsure_duplicates - baseline_.unsure_duplicates;
    const auto fresh = static_cast<size_t>(std::max<int64_t>(0, found_new - settled_new_));
    const auto duplicates = static_cast<size_t>(std::max<int64_t>(0, found_duplicate - settled_duplicate_));
    settled_new_ = std::max(settled_new_, found_new);
    settled_duplicate_ = std::max(settled_duplicate_, found_duplicate);
    pending_ -= std::min(pending_, fresh + duplicates);
    return fresh;
  }
  // Links offered and not yet judged.
  size_t pending() const { return pending_; }
  // Links the store found to be duplicates, since the crawl began (as of the last Settle).
  int64_t duplicates() const { return settled_duplicate_; }

 private:
  StoreStats baseline_;
  size_t pending_ = 0;
  int64_t settled_new_ = 0, settled_duplicate_ = 0;
};

}  // namespace fanout
