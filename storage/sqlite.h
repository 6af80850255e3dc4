// Thin RAII over SQLite: a database connection and prepared statements.
//
// SqliteDb owns a sqlite3*, SqliteStmt a sqlite3_stmt*; both are move-only and release their
// handle in the destructor. Errors come back as Status with SQLite's own message. A connection is
// used by one thread at a time (the store's single writer owns it); statements belong to it and
// must be destroyed before it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "util/result.h"

struct sqlite3;
struct sqlite3_stmt;

namespace fanout {

class SqliteStmt {
 public:
  SqliteStmt() = default;

  explicit operator bool() const { return stmt_ != nullptr; }
  sqlite3_stmt* get() const { return stmt_.get(); }

  // Parameters are 1-based, as in SQLite. Text and blobs are copied.
  SqliteStmt& Bind(int index, int64_t value);
  SqliteStmt& Bind(int index, double value);
  SqliteStmt& Bind(int index, std::string_view text);
  SqliteStmt& BindNull(int index);

  // Runs one step: true when a row is ready to read, false when the statement is done.
  Result<bool> Step();
  // Steps until done, for statements that return no rows.
  Status Run();
  // Back to the start, bindings cleared, for the next use.
  void Reset();

  int64_t ColumnInt(int column) const;
  double ColumnDouble(int column) const;
  std::string ColumnText(int column) const;
  bool ColumnIsNull(int column) const;

 private:
  friend class SqliteDb;
  struct Deleter {
    void operator()(sqlite3_stmt* s) const;
  };
  SqliteStmt(sqlite3_stmt* stmt, sqlite3* db) : stmt_(stmt), db_(db) {}

  std::unique_ptr<sqlite3_stmt, Deleter> stmt_;
  sqlite3* db_ = nullptr;  // not owned: for error messages
};

class SqliteDb {
 public:
  // Opens (creating if needed) the database file. Fails if it cannot be opened or is not an
  // SQLite database.
  static Result<SqliteDb> Open(const std::string& path);

  sqlite3* get() const { return db_.get(); }
  explicit operator bool() const { return db_ != nullptr; }

  // Runs one or more statements that return no rows.
  Status Exec(std::string_view sql);
  Result<SqliteStmt> Prepare(std::string_view sql);
  int64_t LastInsertRowId() const;
  // True between BEGIN and COMMIT/ROLLBACK. SQLite rolls some failed transactions back on its own
  // (SQLITE_FULL, SQLITE_IOERR), so error paths check this before issuing ROLLBACK.
  bool InTransaction() const;
  // True when SQLite opened the file read-only (it does so silently when it lacks write permission).
  bool IsReadOnly() const;

 private:
  struct Deleter {
    void operator()(sqlite3* db) const;
  };
  explicit SqliteDb(sqlite3* db) : db_(db) {}

  std::unique_ptr<sqlite3, Deleter> db_;
};

}  // namespace fanout
