// LinkRowWriter: a page's rows of link_rows, written kPerInsert at a time by one multi-row INSERT
// (a statement's run costs more than a row: at a million links, most of the writer's time), the
// rest one by one when the page's links end (Flush).
//
// Threads: the thread that owns the connection it was prepared on, inside its transaction.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "storage/records.h"
#include "storage/sqlite.h"
#include "util/status.h"

namespace fanout {

class LinkRowWriter {
 public:
  static constexpr size_t kPerInsert = 16;

  Status Prepare(SqliteDb& db);
  // Queues a link of page `page_id` (reason_id 0: NULL); writes a statement's worth once queued.
  // REQUIRES: every row queued since the last Flush is of the same page.
  Status Add(int64_t page_id, int64_t url_id, Follow followed, int64_t reason_id);
  // Writes what is queued, so that a query sees it.
  Status Flush(int64_t page_id);
  // Forgets what is queued (the transaction is being abandoned).
  void Drop() { queued_ = 0; }

 private:
  struct Row {
    int64_t url_id, followed, reason_id;
  };
  SqliteStmt one_, many_;
  std::array<Row, kPerInsert> rows_{};
  size_t queued_ = 0;
};

}  // namespace fanout
