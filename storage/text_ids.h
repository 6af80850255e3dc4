// TextIds: the ids of texts that a table holds once each, as (id INTEGER PRIMARY KEY, <column> TEXT
// UNIQUE): a link's URL in urls, its reason in link_reasons. Looked up in a cache first, then in
// the table, else inserted; an insert belongs to the caller's open transaction, so a caller that
// rolls back must Clear the cache.
//
// Threads: the thread that owns the connection the statements were prepared on.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "storage/id_cache.h"
#include "storage/sqlite.h"
#include "util/result.h"

namespace fanout {

struct TextIds {
  explicit TextIds(size_t cache_entries) : cache(cache_entries) {}
  SqliteStmt find, insert;  // SELECT id ... WHERE <column> = ?1; INSERT ... RETURNING id
  IdCache cache;

  // Prepares the statements for `table`, whose text column is `column`.
  Status PrepareFor(SqliteDb& db, const std::string& table, const std::string& column);
  // text's id: remembered, else looked up, else inserted.
  Result<int64_t> IdOf(std::string_view text);
};

}  // namespace fanout
