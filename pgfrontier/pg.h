// A small libpq wrapper: a connection and a result as move-only RAII types, statements with text
// parameters, and errors as Status values that tell a lost connection (retry after reconnecting)
// from a statement's failure.
//
// Threads: a PgConn belongs to one thread at a time (libpq's rule for a PGconn).
#pragma once

#include <libpq-fe.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "util/result.h"
#include "util/status.h"

namespace fanout::pg {

struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using PgResult = std::unique_ptr<PGresult, ResultDeleter>;

// What went wrong with a statement: the SQLSTATE says whether to retry it.
struct Failure {
  Status status;
  std::string sqlstate;    // "" when the connection itself failed
  bool connection = false; // the connection is gone: reconnect, then retry
  // A deadlock or a serialization failure: the transaction can simply run again.
  bool retry() const { return sqlstate == "40P01" || sqlstate == "40001"; }
};

class PgConn {
 public:
  // Connects with `conninfo` (a postgresql:// URI or key=value pairs), waiting at most
  // connect_timeout_s for the server. The connection's TCP keepalives and user timeout are set so
  // that a statement on a cut link fails within about `dead_link_s` instead of hanging.
  // Errors: kUnavailable (server unreachable, refused, authentication failed), with libpq's
  // message, which never contains the password; kInvalidArgument for a malformed conninfo.
  static Result<PgConn> Connect(const std::string& conninfo, int connect_timeout_s = 5, int dead_link_s = 5);

  PgConn() = default;
  PgConn(PgConn&&) noexcept = default;
  PgConn& operator=(PgConn&&) noexcept = default;
  explicit operator bool() const { return conn_ != nullptr; }
  PGconn* get() const { return conn_.get(); }

  // Runs `sql` with text parameters (std::nullopt: NULL); with none, `sql` may be several statements
  // (the last one's result is returned). Returns the result of a command or a query.
  Result<PgResult> Exec(const std::string& sql, const std::vector<std::optional<std::string>>& params = {},
                        Failure* failure = nullptr);
  // Exec that keeps only the Status.
  Status Run(const std::string& sql, const std::vector<std::optional<std::string>>& params = {},
             Failure* failure = nullptr);
  bool ok() const { return conn_ && PQstatus(conn_.get()) == CONNECTION_OK; }

 private:
  struct ConnDeleter {
    void operator()(PGconn* c) const { PQfinish(c); }
  };
  std::unique_ptr<PGconn, ConnDeleter> conn_;
};

// A result's value (row, column) as text; "" for NULL.
std::string Text(const PgResult& r, int row, int col);
bool IsNull(const PgResult& r, int row, int col);
int64_t Int(const PgResult& r, int row, int col);
double Real(const PgResult& r, int row, int col);

// `conninfo` with any password taken out: for logs, summaries and records.
std::string Redact(const std::string& conninfo);

}  // namespace fanout::pg
