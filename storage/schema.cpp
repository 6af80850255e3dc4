#include "storage/schema.h"

#include <charconv>
#include <string>

namespace fanout {
namespace {

// kMigrations[v] takes a database from version v to v + 1; kMigrations[0] creates it. Steps are
// append-only: a released step is never edited, since databases out there were built by it.
// README.md ("The crawl database") describes the result; keep the two in step.
constexpr const char* kMigrations[] = {
    // 0 -> 1: the first schema.
    R"sql(
CREATE TABLE runs (
  id               INTEGER PRIMARY KEY,
  started_at       REAL NOT NULL,
  finished_at      REAL,
  mode             TEXT NOT NULL,
  seeds            TEXT NOT NULL,
  options          TEXT NOT NULL,
  pages            INTEGER,
  errors           INTEGER,
  bytes            INTEGER,
  wall_seconds     REAL,
  pages_per_second REAL,
  summary          TEXT
);

CREATE TABLE pages (
  id              INTEGER PRIMARY KEY,
  run_id          INTEGER NOT NULL REFERENCES runs(id),
  url             TEXT NOT NULL,
  final_url       TEXT,
  depth           INTEGER NOT NULL,
  status          INTEGER NOT NULL,
  content_type    TEXT,
  bytes           INTEGER NOT NULL,
  truncated       INTEGER NOT NULL,
  title           TEXT,
  canonical       TEXT,
  noindex         INTEGER NOT NULL,
  error_kind      TEXT,
  error           TEXT,
  http_version    TEXT,
  new_connections INTEGER NOT NULL,
  redirects       INTEGER NOT NULL,
  fetched_at      REAL NOT NULL,
  queue_wait      REAL NOT NULL,
  dns             REAL NOT NULL,
  connect         REAL NOT NULL,
  tls             REAL NOT NULL,
  first_byte      REAL NOT NULL,
  transfer        REAL NOT NULL,
  total           REAL NOT NULL,
  parse           REAL NOT NULL,
  UNIQUE (run_id, url)
);
CREATE INDEX pages_run_status ON pages(run_id, status);

CREATE TABLE links (
  page_id  INTEGER NOT NULL REFERENCES pages(id),
  to_url   TEXT NOT NULL,
  followed INTEGER NOT NULL,
  reason   TEXT
);
CREATE INDEX links_page ON links(page_id);
CREATE INDEX links_to_url ON links(to_url);

CREATE TABLE errors (
  id      INTEGER PRIMARY KEY,
  run_id  INTEGER NOT NULL REFERENCES runs(id),
  page_id INTEGER REFERENCES pages(id),
  url     TEXT NOT NULL,
  kind    TEXT NOT NULL,
  message TEXT NOT NULL,
  at      REAL NOT NULL
);
CREATE INDEX errors_run_kind ON errors(run_id, kind);

-- Links a run decided to follow but never fetched: what was still queued when it ended or was
-- interrupted. A view, so the writer pays nothing for it.
CREATE VIEW frontier AS
  SELECT p.run_id AS run_id, l.to_url AS url, min(p.depth) + 1 AS depth
  FROM links l JOIN pages p ON p.id = l.page_id
  WHERE l.followed = 1
    AND NOT EXISTS (SELECT 1 FROM pages f WHERE f.run_id = p.run_id AND f.url = l.to_url)
  GROUP BY p.run_id, l.to_url;
)sql",
    // 1 -> 2: the time each page spent being stored. Rows written before it read 0.
    R"sql(
ALTER TABLE pages ADD COLUMN store REAL NOT NULL DEFAULT 0;
)sql",
    // 2 -> 3: politeness and its stories. Tries per page, the redirect chain the crawler followed,
    // the charset a page was decoded from; each origin's robots.txt; URLs not fetched, and why.
    R"sql(
ALTER TABLE pages ADD COLUMN attempts INTEGER NOT NULL DEFAULT 1;
ALTER TABLE pages ADD COLUMN redirect_chain TEXT;
ALTER TABLE pages ADD COLUMN charset TEXT;

CREATE TABLE robots (
  run_id      INTEGER NOT NULL REFERENCES runs(id),
  origin      TEXT NOT NULL,
  status      INTEGER NOT NULL,
  verdict     TEXT NOT NULL,
  error       TEXT,
  user_agent  TEXT,
  crawl_delay REAL,
  sitemaps    TEXT NOT NULL,
  bytes       INTEGER NOT NULL,
  fetched_at  REAL NOT NULL,
  UNIQUE (run_id, origin)
);

CREATE TABLE skipped (
  id       INTEGER PRIMARY KEY,
  run_id   INTEGER NOT NULL REFERENCES runs(id),
  url      TEXT NOT NULL,
  reason   TEXT NOT NULL,
  detail   TEXT,
  found_on TEXT,
  depth    INTEGER NOT NULL,
  at       REAL NOT NULL
);
CREATE INDEX skipped_url ON skipped(url);
CREATE INDEX skipped_run_reason ON skipped(run_id, reason);
)sql",
    // 3 -> 4: links.followed = 2 marks a link queued in the database rather than in memory (the
    // frontier's overflow); the frontier view counts both.
    R"sql(
DROP VIEW frontier;
CREATE VIEW frontier AS
  SELECT p.run_id AS run_id, l.to_url AS url, min(p.depth) + 1 AS depth
  FROM links l JOIN pages p ON p.id = l.page_id
  WHERE l.followed > 0
    AND NOT EXISTS (SELECT 1 FROM pages f WHERE f.run_id = p.run_id AND f.url = l.to_url)
  GROUP BY p.run_id, l.to_url;
)sql",
    // 4 -> 5: compact links. Each URL a link points to is stored once, in urls, and each reason once,
    // in link_reasons; a link is a row of integers in link_rows, whose id keeps the old links rowid
    // (a resumed run reads its queue back by it). links is now a view with the old columns.
    R"sql(
CREATE TABLE urls (
  id  INTEGER PRIMARY KEY,
  url TEXT NOT NULL UNIQUE
);

CREATE TABLE link_reasons (
  id     INTEGER PRIMARY KEY,
  reason TEXT NOT NULL UNIQUE
);

-- page_id is a pages.id, url_id a urls.id, reason_id a link_reasons.id, but without REFERENCES:
-- the writer inserts those rows first, in the same transaction, and checking three keys for each
-- of a million links took a third of its time.
CREATE TABLE link_rows (
  id        INTEGER PRIMARY KEY,
  page_id   INTEGER NOT NULL,
  url_id    INTEGER NOT NULL,
  followed  INTEGER NOT NULL,
  reason_id INTEGER
);

INSERT INTO urls (url) SELECT DISTINCT to_url FROM links;
INSERT INTO link_reasons (reason) SELECT DISTINCT reason FROM links WHERE reason IS NOT NULL;
INSERT INTO link_rows (id, page_id, url_id, followed, reason_id)
  SELECT l.rowid, l.page_id, u.id, l.followed, r.id
  FROM links l JOIN urls u ON u.url = l.to_url LEFT JOIN link_reasons r ON r.reason = l.reason
  ORDER BY l.rowid;

DROP VIEW frontier;
DROP TABLE links;
CREATE INDEX link_rows_page ON link_rows(page_id);
-- Who links here. A run's writer drops it while it writes (inserted at random, it was most of the
-- writer's time) and builds it again, in one sorted pass, when it stops; the followed links, which
-- the writer looks up, keep an index of their own throughout.
CREATE INDEX link_rows_url ON link_rows(url_id);
CREATE INDEX link_rows_followed ON link_rows(url_id) WHERE followed > 0;

CREATE VIEW links AS
  SELECT l.page_id AS page_id, u.url AS to_url, l.followed AS followed, r.reason AS reason
  FROM link_rows l JOIN urls u ON u.id = l.url_id LEFT JOIN link_reasons r ON r.id = l.reason_id;

CREATE VIEW frontier AS
  SELECT p.run_id AS run_id, u.url AS url, min(p.depth) + 1 AS depth
  FROM link_rows l JOIN urls u ON u.id = l.url_id JOIN pages p ON p.id = l.page_id
  WHERE l.followed > 0
    AND NOT EXISTS (SELECT 1 FROM pages f WHERE f.run_id = p.run_id AND f.url = u.url)
  GROUP BY p.run_id, u.url;
)sql",
    // 5 -> 6: a run crawled by one worker of a shared frontier (--frontier) says which worker and
    // which run of the frontier, so that `fanout merge` can put the workers' databases together.
    R"sql(
ALTER TABLE runs ADD COLUMN worker TEXT;
ALTER TABLE runs ADD COLUMN frontier TEXT;
ALTER TABLE runs ADD COLUMN frontier_run INTEGER;
)sql",
    // 6 -> 7: the archive (--warc). A page's row says where its response record is: the file (one
    // row of warc_files per file a run wrote), the offset of the record's gzip member and its length,
    // its type (response or revisit) and WARC-Date, and its payload's digest: what a resumed crawl
    // reads back to write revisits, not copies, of what the run archived before.
    R"sql(
CREATE TABLE warc_files (
  id     INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL REFERENCES runs(id),
  path   TEXT NOT NULL UNIQUE
);
ALTER TABLE pages ADD COLUMN warc_file INTEGER REFERENCES warc_files(id);
ALTER TABLE pages ADD COLUMN warc_offset INTEGER;
ALTER TABLE pages ADD COLUMN warc_length INTEGER;
ALTER TABLE pages ADD COLUMN warc_type TEXT;
ALTER TABLE pages ADD COLUMN warc_date TEXT;
ALTER TABLE pages ADD COLUMN payload_digest TEXT;
)sql",
    // 7 -> 8: links are resolved by the WHATWG URL Standard, which keys some URLs differently from
    // the RFC 3986 normalisation before it (`%7e` is no longer `~`, `page?` keeps its `?`). A run
    // says which it used, so that `why`, `cat` and --resume look its URLs up as it stored them.
    R"sql(
ALTER TABLE runs ADD COLUMN url_normalization TEXT NOT NULL DEFAULT 'rfc3986';
)sql",
};
static_assert(std::size(kMigrations) == kSchemaVersion, "one migration step per schema version");

Result<int64_t> QueryInt(SqliteDb& db, const char* sql) {
  FANOUT_ASSIGN_OR_RETURN(SqliteStmt stmt, db.Prepare(sql));
  FANOUT_ASSIGN_OR_RETURN(bool row, stmt.Step());
  return row ? stmt.ColumnInt(0) : int64_t{0};
}

// Rolls back the transaction MigrateSchema opened and returns why.
Status Abandon(SqliteDb& db, Status why) {
  if (db.InTransaction()) (void)db.Exec("ROLLBACK");
  return why;
}

}  // namespace

std::string LinksWithIds(int version) {
  if (version < kCompactLinksVersion) {
    return "(SELECT rowid AS link_id, page_id, to_url, followed, reason FROM links)";
  }
  // The links view's definition (kMigrations[4]), with the id.
  return "(SELECT l.id AS link_id, l.page_id AS page_id, u.url AS to_url, l.followed AS followed, r.reason AS reason "
         "FROM link_rows l JOIN urls u ON u.id = l.url_id LEFT JOIN link_reasons r ON r.id = l.reason_id)";
}

Result<std::string> UrlNormalizationOf(SqliteDb& db, int version, int64_t run_id) {
  if (version < kUrlNormalizationVersion) return std::string("rfc3986");
  FANOUT_ASSIGN_OR_RETURN(SqliteStmt stmt, db.Prepare("SELECT url_normalization FROM runs WHERE id = ?1"));
  stmt.Bind(1, run_id);
  FANOUT_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return Status::NotFound("no run " + std::to_string(run_id));
  return stmt.ColumnText(0);
}

Result<int> ReadSchemaVersion(SqliteDb& db) {
  FANOUT_ASSIGN_OR_RETURN(int64_t has_meta,
      QueryInt(db, "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'meta'"));
  if (has_meta == 0) return 0;

  FANOUT_ASSIGN_OR_RETURN(SqliteStmt stmt, db.Prepare("SELECT value FROM meta WHERE key = 'schema_version'"));
  FANOUT_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return 0;
  const std::string text = stmt.ColumnText(0);
  int version = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), version);
  if (ec != std::errc() || end != text.data() + text.size() || version < 1) {
    return Status::Corruption("meta.schema_version is '" + text + "', not a version number");
  }
  return version;
}

Status MigrateSchema(SqliteDb& db) { return MigrateSchemaTo(db, kSchemaVersion); }

Status MigrateSchemaTo(SqliteDb& db, int target) {
  if (target < 1 || target > kSchemaVersion) {
    return Status::InvalidArgument("no schema version " + std::to_string(target) + " to migrate to");
  }
  // Look before taking the write lock, so a database we must refuse is not written to at all: not
  // even a journal file.
  FANOUT_ASSIGN_OR_RETURN(int seen, ReadSchemaVersion(db));
  if (seen >= target && seen <= kSchemaVersion) return Status::Ok();

  FANOUT_RETURN_IF_ERROR(db.Exec("BEGIN IMMEDIATE"));
  // Read again under the lock: another process may have migrated in between.
  Result<int> version = ReadSchemaVersion(db);
  if (!version.ok()) return Abandon(db, version.status());
  if (*version > kSchemaVersion) {
    return Abandon(db, Status::InvalidArgument("database schema version " + std::to_string(*version) +
                                               " is newer than this fanout (" + std::to_string(kSchemaVersion) +
                                               "); upgrade fanout"));
  }
  if (*version >= target) return Abandon(db, Status::Ok());
  if (*version == 0) {
    Result<int64_t> objects = QueryInt(db, "SELECT count(*) FROM sqlite_schema");
    if (!objects.ok()) return Abandon(db, objects.status());
    if (*objects != 0) {
      return Abandon(db, Status::InvalidArgument(
                             "not a fanout database: it has tables but no fanout schema_version; use a new file"));
    }
    Status meta = db.Exec("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
    if (!meta.ok()) return Abandon(db, meta);
  }
  for (int from = *version; from < target; ++from) {
    Status step = db.Exec(kMigrations[from]);
    if (!step.ok()) return Abandon(db, step);
  }
  Result<SqliteStmt> set = db.Prepare(
      "INSERT INTO meta (key, value) VALUES ('schema_version', ?1) "
      "ON CONFLICT (key) DO UPDATE SET value = excluded.value");
  if (!set.ok()) return Abandon(db, set.status());
  set->Bind(1, std::to_string(target));
  Status written = set->Run();
  if (!written.ok()) return Abandon(db, written);
  Status committed = db.Exec("COMMIT");
  if (!committed.ok()) return Abandon(db, committed);
  return Status::Ok();
}

}  // namespace fanout
