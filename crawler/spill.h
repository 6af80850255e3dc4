// Reading back what the frontier left in the database (frontier.h: kQueuedOnDisk, kUnsure): where
// the crawl has read up to, and the read in two halves, so that the read itself can run off the
// loop (it flushes the store and queries it) and only the restore needs the frontier's owner.
//
// Threads: ReadSpilled, any thread but the loop; RestoreSpilled, the frontier's owner.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "crawler/frontier.h"
#include "storage/run_state.h"
#include "storage/store.h"
#include "util/result.h"

namespace fanout {

// How far a crawl has read back what waits in the database (see frontier.h).
struct SpillCursor {
  int64_t after = 0;          // link_rows.id of the last URL read back
  int64_t resumed_up_to = 0;  // a resumed run's RunState::last_link; 0 for a new run
};

// One read: the rows, and the store's counters as it was read (its word so far on the unsure links).
struct SpillRead {
  std::vector<SpilledLink> rows;
  StoreStats store;
};

// Reading back in two halves: the read, which flushes the store first so the latest links are
// committed and settled (any thread but the loop), and putting the result in the frontier (its
// owner), which settles the unsure links, restores the rows, advances `cursor` and returns how
// many URLs it restored or settled.
Result<SpillRead> ReadSpilled(Store& store, int64_t run_id, const SpillCursor& cursor, size_t room);
size_t RestoreSpilled(SpillRead& read, Frontier& frontier, SpillCursor& cursor);

}  // namespace fanout
