#include "storage/sqlite.h"

#include <sqlite3.h>

#include <filesystem>

namespace fanout {
namespace {

Status Error(sqlite3* db, int rc, std::string_view what) {
  std::string msg = std::string(what) + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  switch (rc & 0xff) {
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB: return Status::Corruption(msg);
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return Status::Unavailable(msg);
    default: return Status::IOError(msg);
  }
}

}  // namespace

void SqliteStmt::Deleter::operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
void SqliteDb::Deleter::operator()(sqlite3* db) const { sqlite3_close_v2(db); }

SqliteStmt& SqliteStmt::Bind(int index, int64_t value) {
  sqlite3_bind_int64(stmt_.get(), index, value);
  return *this;
}
SqliteStmt& SqliteStmt::Bind(int index, double value) {
  sqlite3_bind_double(stmt_.get(), index, value);
  return *this;
}
SqliteStmt& SqliteStmt::Bind(int index, std::string_view text) {
  sqlite3_bind_text64(stmt_.get(), index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  return *this;
}
SqliteStmt& SqliteStmt::BindNull(int index) {
  sqlite3_bind_null(stmt_.get(), index);
  return *this;
}

Result<bool> SqliteStmt::Step() {
  int rc = sqlite3_step(stmt_.get());
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return Error(db_, rc, "step");
}

Status SqliteStmt::Run() {
  while (true) {
    FANOUT_ASSIGN_OR_RETURN(bool row, Step());
    if (!row) return Status::Ok();
  }
}

void SqliteStmt::Reset() {
  sqlite3_reset(stmt_.get());
  sqlite3_clear_bindings(stmt_.get());
}

int64_t SqliteStmt::ColumnInt(int column) const { return sqlite3_column_int64(stmt_.get(), column); }
double SqliteStmt::ColumnDouble(int column) const { return sqlite3_column_double(stmt_.get(), column); }
std::string SqliteStmt::ColumnText(int column) const {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt_.get(), column));
  return text ? std::string(text, static_cast<size_t>(sqlite3_column_bytes(stmt_.get(), column))) : std::string();
}
bool SqliteStmt::ColumnIsNull(int column) const {
  return sqlite3_column_type(stmt_.get(), column) == SQLITE_NULL;
}

SqliteStmt::ValueType SqliteStmt::ColumnType(int column) const {
  switch (sqlite3_column_type(stmt_.get(), column)) {
    case SQLITE_INTEGER: return ValueType::kInteger;
    case SQLITE_FLOAT: return ValueType::kFloat;
    case SQLITE_TEXT: return ValueType::kText;
    case SQLITE_BLOB: return ValueType::kBlob;
    default: return ValueType::kNull;
  }
}
int SqliteStmt::ColumnCount() const { return sqlite3_column_count(stmt_.get()); }
std::string SqliteStmt::ColumnName(int column) const {
  const char* name = sqlite3_column_name(stmt_.get(), column);
  return name ? name : "";
}

Result<SqliteDb> SqliteDb::Open(const std::string& path) {
  return OpenWithFlags(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
}

Result<SqliteDb> SqliteDb::OpenForOneThread(const std::string& path) {
  return OpenWithFlags(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX);
}

Result<SqliteDb> SqliteDb::OpenReadOnly(const std::string& path) {
  Result<SqliteDb> db = OpenWithFlags(path, SQLITE_OPEN_READONLY);
  if (!db.ok()) {
    // SQLite says "unable to open database file" for every reason; a missing file deserves its own.
    std::error_code ignored;
    if (!std::filesystem::exists(path, ignored)) return Status::NotFound("no such database '" + path + "'");
    return db;
  }
  // A writer holds its locks for moments (a commit, a checkpoint): wait them out rather than fail.
  sqlite3_busy_timeout(db->get(), 5000);
  return db;
}

Result<SqliteDb> SqliteDb::OpenWithFlags(const std::string& path, int flags) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  SqliteDb db(raw);  // owns the handle even when opening failed
  if (rc != SQLITE_OK) return Error(raw, rc, "cannot open database '" + path + "'");
  // Opening is lazy: read the schema now so a file that is not a database fails here, clearly.
  rc = sqlite3_exec(raw, "SELECT count(*) FROM sqlite_schema", nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return Error(raw, rc, "'" + path + "' is not a usable SQLite database");
  return db;
}

Status SqliteDb::Exec(std::string_view sql) {
  std::string text(sql);
  char* err = nullptr;
  int rc = sqlite3_exec(db_.get(), text.c_str(), nullptr, nullptr, &err);
  if (rc == SQLITE_OK) return Status::Ok();
  std::string msg = err ? err : sqlite3_errstr(rc);
  sqlite3_free(err);
  return Error(nullptr, rc, msg);
}

Result<SqliteStmt> SqliteDb::Prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_.get(), sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                              &stmt, nullptr);
  if (rc != SQLITE_OK) return Error(db_.get(), rc, "prepare");
  return SqliteStmt(stmt, db_.get());
}

int64_t SqliteDb::LastInsertRowId() const { return sqlite3_last_insert_rowid(db_.get()); }
bool SqliteDb::InTransaction() const { return sqlite3_get_autocommit(db_.get()) == 0; }
bool SqliteDb::IsReadOnly() const { return sqlite3_db_readonly(db_.get(), "main") == 1; }

Status Prepare(SqliteDb& db, SqliteStmt& out, std::string_view sql) {
  FANOUT_ASSIGN_OR_RETURN(SqliteStmt stmt, db.Prepare(sql));
  out = std::move(stmt);
  return Status::Ok();
}

}  // namespace fanout
