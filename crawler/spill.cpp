#include "crawler/spill.h"

#include <chrono>

namespace fanout {

Result<SpillRead> ReadSpilled(Store& store, int64_t run_id, const SpillCursor& cursor, size_t room) {
  if (Status flushed = store.Flush(); !flushed.ok()) return flushed;
  const StoreStats now = store.stats();
  FANOUT_ASSIGN_OR_RETURN(std::vector<SpilledLink> rows,
                          ReadSpilledLinks(store.path(), run_id, cursor.after, cursor.resumed_up_to, room));
  return SpillRead{.rows = std::move(rows), .store = now};
}

size_t RestoreSpilled(SpillRead& read, Frontier& frontier, SpillCursor& cursor) {
  const size_t unsure = frontier.unsure();
  frontier.Settle(read.store);  // first: the new ones join on_disk
  for (SpilledLink& row : read.rows) {
    cursor.after = row.link_id;
    frontier.Restore({std::move(row.queued.url), row.queued.depth, std::move(row.queued.parent), std::chrono::steady_clock::now()});
  }
  return read.rows.size() + (unsure - frontier.unsure());
}

}  // namespace fanout
