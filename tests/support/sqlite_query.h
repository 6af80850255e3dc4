// Reading a crawl database back in tests: one value, or every row, of a query, each failure an
// EXPECT failure (and a marker value) rather than a crash.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "storage/sqlite.h"
#include "tests/support/status_matchers.h"

namespace fanout::test {

// The first column of the first row as a number; -1 when there is none.
inline int64_t QueryInt(SqliteDb& db, const std::string& sql) {
  Result<SqliteStmt> q = db.Prepare(sql);
  EXPECT_OK(q) << sql;
  if (!q.ok()) return -1;
  Result<bool> row = q->Step();
  EXPECT_TRUE(row.ok() && *row) << sql;
  return row.ok() && *row ? q->ColumnInt(0) : -1;
}

// The same from the database file at `path`, opened read-only.
inline int64_t QueryInt(const std::string& path, const std::string& sql) {
  Result<SqliteDb> db = SqliteDb::OpenReadOnly(path);
  EXPECT_OK(db);
  return db.ok() ? QueryInt(*db, sql) : -1;
}

// The first column of the first row as text: "<null>", "<no row>" or "<error>" when it is not.
inline std::string QueryText(SqliteDb& db, const std::string& sql) {
  Result<SqliteStmt> q = db.Prepare(sql);
  EXPECT_OK(q) << sql;
  if (!q.ok()) return "<error>";
  Result<bool> row = q->Step();
  EXPECT_TRUE(row.ok() && *row) << sql;
  if (!row.ok() || !*row) return "<no row>";
  return q->ColumnIsNull(0) ? "<null>" : q->ColumnText(0);
}

// Every row, each row's columns joined with '|' (NULL as "<null>").
inline std::vector<std::string> QueryRows(SqliteDb& db, const std::string& sql) {
  std::vector<std::string> rows;
  Result<SqliteStmt> q = db.Prepare(sql);
  EXPECT_OK(q) << sql;
  if (!q.ok()) return rows;
  while (true) {
    Result<bool> row = q->Step();
    EXPECT_OK(row) << sql;
    if (!row.ok() || !*row) break;
    std::string line;
    for (int c = 0; c < q->ColumnCount(); ++c) {
      line += (c > 0 ? "|" : "") + (q->ColumnIsNull(c) ? std::string("<null>") : q->ColumnText(c));
    }
    rows.push_back(line);
  }
  return rows;
}

}  // namespace fanout::test
