// What a shared frontier holds, run by run, as `fanout frontier status` shows it: the queue, what
// is in flight, what is done, and each worker with the hosts it leases.
//
// Threads: the caller's connection, on the caller's thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pgfrontier/pg.h"
#include "util/result.h"

namespace fanout::pg {

struct FrontierWorker {
  std::string name;
  bool alive = false;       // seen within the run's lease time and not left
  double seen_seconds_ago = 0;
  bool left = false;        // stopped and said so
  int64_t pages = 0;        // pages it reported done (accepted)
  int64_t hosts_leased = 0; // hosts whose lease it holds now
};

struct FrontierRunStatus {
  int64_t run = 0;
  std::string created_at, finished_at;  // "" while unfinished
  std::string seeds;                    // JSON array
  int64_t max_pages = 0;
  int64_t queued = 0;      // waiting for a worker
  int64_t in_flight = 0;   // handed to a worker under a lease still valid
  int64_t done = 0;        // pages reported done
  int64_t refused = 0;     // completions refused as stale (the host had been taken over)
  int64_t seen = 0;        // URLs the run has queued, ever
  int64_t hosts = 0, hosts_leased = 0;
  std::vector<FrontierWorker> workers;
};

// Every run (run = 0), or the one. `lease_seconds`: a worker not seen for longer counts as dead.
// Errors: kNotFound for no such run; kCorruption when the database holds no fanout frontier.
Result<std::vector<FrontierRunStatus>> ReadFrontierStatus(PgConn& conn, int64_t run, double lease_seconds);

}  // namespace fanout::pg
