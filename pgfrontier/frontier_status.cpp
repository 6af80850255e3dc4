#include "pgfrontier/frontier_status.h"

#include "pgfrontier/frontier_schema.h"

namespace fanout::pg {

Result<std::vector<FrontierRunStatus>> ReadFrontierStatus(PgConn& conn, int64_t run, double lease_seconds) {
  FANOUT_ASSIGN_OR_RETURN(int version, FrontierSchemaVersion(conn));
  if (version == 0) return Status::Corruption("this database holds no fanout frontier (see fanout frontier init)");
  if (version > kFrontierSchemaVersion) {
    return Status::Corruption("the frontier's schema version " + std::to_string(version) +
                              " is newer than this fanout; upgrade fanout");
  }
  Result<PgResult> runs = conn.Exec(R"sql(
    SELECT r.id, to_char(r.created_at, 'YYYY-MM-DD HH24:MI:SS'), coalesce(to_char(r.finished_at, 'YYYY-MM-DD HH24:MI:SS'), ''),
           r.seeds::text, r.max_pages, r.fetched, r.refused,
           (SELECT count(*) FROM fanout_seen s WHERE s.run = r.id),
           (SELECT count(*) FROM fanout_queue q WHERE q.run = r.id),
           (SELECT count(*) FROM fanout_queue q JOIN fanout_hosts h ON h.run = q.run AND h.origin = q.origin
              WHERE q.run = r.id AND h.owner IS NOT NULL AND h.lease_until >= now() AND q.taken_epoch = h.epoch),
           (SELECT count(*) FROM fanout_hosts h WHERE h.run = r.id),
           (SELECT count(*) FROM fanout_hosts h WHERE h.run = r.id AND h.owner IS NOT NULL AND h.lease_until >= now())
    FROM fanout_runs r WHERE $1 = 0 OR r.id = $1 ORDER BY r.id)sql",
                                    {std::to_string(run)});
  if (!runs.ok()) return runs.status();
  std::vector<FrontierRunStatus> out;
  for (int i = 0, n = PQntuples(runs->get()); i < n; ++i) {
    FrontierRunStatus s;
    s.run = Int(*runs, i, 0);
    s.created_at = Text(*runs, i, 1);
    s.finished_at = Text(*runs, i, 2);
    s.seeds = Text(*runs, i, 3);
    s.max_pages = Int(*runs, i, 4);
    s.done = Int(*runs, i, 5);
    s.refused = Int(*runs, i, 6);
    s.seen = Int(*runs, i, 7);
    s.in_flight = Int(*runs, i, 9);
    s.queued = Int(*runs, i, 8) - s.in_flight;
    s.hosts = Int(*runs, i, 10);
    s.hosts_leased = Int(*runs, i, 11);
    Result<PgResult> workers = conn.Exec(R"sql(
      SELECT w.name, extract(epoch FROM now() - w.seen_at)::float8, w.left_at IS NOT NULL, w.pages,
             (SELECT count(*) FROM fanout_hosts h WHERE h.run = w.run AND h.owner = w.name AND h.lease_until >= now())
      FROM fanout_workers w WHERE w.run = $1 ORDER BY w.name)sql",
                                         {std::to_string(s.run)});
    if (!workers.ok()) return workers.status();
    for (int j = 0, m = PQntuples(workers->get()); j < m; ++j) {
      FrontierWorker w;
      w.name = Text(*workers, j, 0);
      w.seen_seconds_ago = Real(*workers, j, 1);
      w.left = Text(*workers, j, 2) == "t";
      w.pages = Int(*workers, j, 3);
      w.hosts_leased = Int(*workers, j, 4);
      w.alive = !w.left && w.seen_seconds_ago <= lease_seconds;
      s.workers.push_back(std::move(w));
    }
    out.push_back(std::move(s));
  }
  if (run != 0 && out.empty()) return Status::NotFound("the frontier has no run " + std::to_string(run));
  return out;
}

}  // namespace fanout::pg
