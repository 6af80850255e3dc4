// Thin RAII over SQLite: a database connection and prepared statements.
//
// SqliteDb owns a sqlite3*, SqliteStmt a sqlite3_stmt*; both are move-only and release their
// handle in the destructor. Errors come back as Status with SQLite's own message. A connection is
// used by one thread at a time (the store's single writer owns it, or a command that only reads);
// statements belong to it and must be destroyed before it.
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

  // What the current row holds in a column: SQLite types values, not columns, so this can differ
  // from row to row. Valid after Step() returned true.
  enum class ValueType { kInteger, kFloat, kText, kBlob, kNull };
  ValueType ColumnType(int column) const;
  // The result's shape, known once prepared: how many columns, and each one's name (its AS alias
  // when it has one).
  int ColumnCount() const;
  std::string ColumnName(int column) const;

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
  // Opens an existing database for reading only: the file is never created, and every write
  // through this connection fails. A database in WAL mode is still read consistently while another
  // process writes it; SQLite may create the -wal and -shm files it reads through beside it (and
  // leave them, empty of changes), but the database file itself is not touched.
  // Errors: kNotFound for a path with no file; as Open otherwise.
  static Result<SqliteDb> OpenReadOnly(const std::string& path);
  // As Open, for a connection that one thread at a time uses (SQLite's multi-thread mode): SQLite
  // then takes no lock of its own around each call, which the store's writer, making millions of
  // them, notices.
  static Result<SqliteDb> OpenForOneThread(const std::string& path);

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
  static Result<SqliteDb> OpenWithFlags(const std::string& path, int flags);

  std::unique_ptr<sqlite3, Deleter> db_;
};

// Prepares `sql` into `out` (for statements kept as members, prepared once).
Status Prepare(SqliteDb& db, SqliteStmt& out, std::string_view sql);

}  // namespace fanout
