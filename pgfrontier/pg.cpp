#include "pgfrontier/pg.h"

#include <cstdlib>
#include <regex>

namespace fanout::pg {
namespace {

// libpq's messages end in a newline and may span lines; a Status is one line.
std::string OneLine(const char* message) {
  std::string s = message != nullptr ? message : "";
  for (char& c : s) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

void DiscardNotice(void*, const char*) {}  // "relation already exists, skipping" and the like

}  // namespace

Result<PgConn> PgConn::Connect(const std::string& conninfo, int connect_timeout_s, int dead_link_s) {
  char* parse_error = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(conninfo.c_str(), &parse_error);
  if (parsed == nullptr) {
    std::string why = OneLine(parse_error);
    PQfreemem(parse_error);
    return Status::InvalidArgument("'" + Redact(conninfo) + "' is not a PostgreSQL connection string: " + why);
  }
  PQconninfoFree(parsed);
  // Ours first: the conninfo, expanded last, overrides any of them.
  const std::string timeout = std::to_string(connect_timeout_s);
  const std::string user_timeout = std::to_string(dead_link_s * 1000);
  const std::string idle = std::to_string(std::max(1, dead_link_s / 2));
  const char* keys[] = {"connect_timeout", "application_name", "keepalives", "keepalives_idle", "keepalives_interval",
                        "keepalives_count", "tcp_user_timeout", "dbname", nullptr};
  const char* values[] = {timeout.c_str(), "fanout", "1", idle.c_str(), "1", "3", user_timeout.c_str(),
                          conninfo.c_str(), nullptr};
  PgConn c;
  c.conn_.reset(PQconnectdbParams(keys, values, /*expand_dbname=*/1));
  if (!c.conn_) return Status::Unavailable("out of memory connecting to PostgreSQL");
  if (PQstatus(c.conn_.get()) != CONNECTION_OK) {
    return Status::Unavailable("cannot connect to the frontier " + Redact(conninfo) + ": " +
                               OneLine(PQerrorMessage(c.conn_.get())));
  }
  PQsetNoticeProcessor(c.conn_.get(), DiscardNotice, nullptr);
  return c;
}

Result<PgResult> PgConn::Exec(const std::string& sql, const std::vector<std::optional<std::string>>& params,
                              Failure* failure) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
  // Without parameters, the simple protocol: it takes a script of several statements (a migration).
  PgResult r(params.empty() ? PQexec(conn_.get(), sql.c_str())
                            : PQexecParams(conn_.get(), sql.c_str(), static_cast<int>(values.size()), nullptr,
                                           values.data(), nullptr, nullptr, 0));
  const ExecStatusType st = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return r;
  Failure f;
  const char* state = r ? PQresultErrorField(r.get(), PG_DIAG_SQLSTATE) : nullptr;
  f.sqlstate = state != nullptr ? state : "";
  // No SQLSTATE, or class 08 (connection exception) or 57P0x (the server shutting down): the
  // connection is gone or going.
  f.connection = PQstatus(conn_.get()) != CONNECTION_OK || f.sqlstate.empty() || f.sqlstate.rfind("08", 0) == 0 ||
                 f.sqlstate.rfind("57P", 0) == 0;
  // The server's own sentence, without "ERROR:" and the PL/pgSQL context lines.
  const char* primary = r ? PQresultErrorField(r.get(), PG_DIAG_MESSAGE_PRIMARY) : nullptr;
  std::string message = OneLine(primary != nullptr ? primary : r ? PQresultErrorMessage(r.get()) : PQerrorMessage(conn_.get()));
  if (message.empty()) message = OneLine(PQerrorMessage(conn_.get()));
  f.status = f.connection ? Status::Unavailable("the frontier's connection failed: " + message)
                          : Status::IOError("the frontier said: " + message);
  if (failure != nullptr) *failure = f;
  return f.status;
}

Status PgConn::Run(const std::string& sql, const std::vector<std::optional<std::string>>& params, Failure* failure) {
  Result<PgResult> r = Exec(sql, params, failure);
  return r.ok() ? Status::Ok() : r.status();
}

std::string Text(const PgResult& r, int row, int col) {
  return PQgetisnull(r.get(), row, col) ? std::string() : std::string(PQgetvalue(r.get(), row, col),
                                                                       PQgetlength(r.get(), row, col));
}
bool IsNull(const PgResult& r, int row, int col) { return PQgetisnull(r.get(), row, col) != 0; }
int64_t Int(const PgResult& r, int row, int col) { return std::strtoll(PQgetvalue(r.get(), row, col), nullptr, 10); }
double Real(const PgResult& r, int row, int col) { return std::strtod(PQgetvalue(r.get(), row, col), nullptr); }

std::string Redact(const std::string& conninfo) {
  // URI: postgresql://user:secret@host/db?password=secret; key=value: password=secret or 'se cret'.
  static const std::regex uri_password(R"(^(postgres(?:ql)?://[^:/@?#]*):[^@/?#]*@)", std::regex::icase);
  static const std::regex query_password(R"(([?&]password=)[^&#]*)", std::regex::icase);
  static const std::regex kv_password(R"((\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|\S+))", std::regex::icase);
  std::string s = std::regex_replace(conninfo, uri_password, "$1:***@");
  s = std::regex_replace(s, query_password, "$1***");
  if (s.rfind("postgres", 0) != 0) s = std::regex_replace(s, kv_password, "$1***");
  return s;
}

}  // namespace fanout::pg
