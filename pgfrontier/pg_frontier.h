// PgFrontier: a SharedFrontier (crawler/shared_frontier.h) on PostgreSQL, through libpq.
//
// One thread of its own owns the connection: the crawl's calls only queue (Offer, Done, Robots,
// Release) or set a wish (WantWork), and the thread sends what is queued as one batch (one
// statement, fanout_report) at most every few milliseconds, then asks for work (fanout_claim) when
// the crawl wants some, when idle every poll interval, at least every quarter of a lease to renew
// the leases it holds, and soon after an address was booked (to hear whether it was granted). What
// is queued is sent before every claim, so that a claim's answer reflects every call made before it. Answers go to an inbox that the crawl drains with Take, after `wake`.
// A lost connection (a server restart, a cut link) is retried with back-off, forever, batch and
// all: a batch is idempotent, so sending it again after a lost reply does no harm. Deadlocks and
// serialization failures are retried at once.
//
// Threads: see shared_frontier.h. The constructor and destructor belong to one thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "crawler/shared_frontier.h"
#include "pgfrontier/pg.h"
#include "util/result.h"

namespace fanout::pg {

struct PgFrontierOptions {
  std::string conninfo;     // libpq's: postgresql://user@host/db or key=value pairs
  std::string worker;       // this worker's name, unique in the run
  int64_t run = 0;          // join this run (0: the newest unfinished one with the same seeds, or a new one)
  double lease_seconds = 30;
  size_t hosts = 16;        // hosts held at most
  size_t urls_per_host = 32;  // URLs taken per host per claim at most
  // For a new run: its --max-pages (0: no limit), --delay, and the options recorded.
  int64_t max_pages = 0;
  double delay = 0;
  std::string options_json = "{}";
  int connect_timeout_s = 5;
};

class PgFrontier final : public SharedFrontier {
 public:
  // Connects, creates or migrates the schema, and joins or creates the run (with `seeds`,
  // normalised). Errors: kInvalidArgument for a malformed address or a newer schema; kUnavailable
  // for a server that cannot be reached or refuses us; kNotFound for no such --run.
  static Result<std::unique_ptr<PgFrontier>> Open(PgFrontierOptions options, const std::vector<std::string>& seeds);
  ~PgFrontier() override;

  void Start(std::function<void()> wake) override;
  SharedDelivery Take() override;
  void WantWork(size_t room) override;
  void Offer(std::vector<SharedLink> links) override;
  void Done(std::string url, std::string origin, int64_t epoch, bool page, std::vector<std::string> redirects) override;
  void Robots(std::string origin, SharedRobots robots, double delay) override;
  void Release(std::string origin, int64_t epoch, double gap_seconds) override;
  uint64_t BookAddress(std::string origin, int64_t epoch, std::string address, double ip_delay) override;
  uint64_t ReleaseAddress(std::string address, double gap_seconds) override;
  Status Finish() override;
  SharedFrontierStats stats() const override;
  int64_t run_id() const override { return run_; }
  std::string address() const override { return address_; }
  const std::string& worker() const override { return options_.worker; }
  double lease_seconds() const override { return options_.lease_seconds; }
  // The run's seeds and --max-pages, as its first worker gave them.
  const std::vector<std::string>& seeds() const { return seeds_; }
  int64_t max_pages() const { return max_pages_; }

 private:
  using Clock = std::chrono::steady_clock;
  PgFrontier(PgFrontierOptions options, PgConn conn, int64_t run, std::vector<std::string> seeds, int64_t max_pages);
  void Main();
  // Runs `call` until it succeeds, reconnecting after a lost connection; false when it gave up
  // (the frontier is finishing and the server stayed away, or an error that cannot be retried).
  bool Call(const char* sql, const std::vector<std::optional<std::string>>& params, PgResult& out);
  bool SendBatch(std::string batch);
  bool Claim(size_t room);
  void Deliver(SharedDelivery d);
  // Something is about to join the outbox: times the batch, and wakes the thread for it. REQUIRES: mu_.
  void Queued();

  const PgFrontierOptions options_;
  const std::string address_;
  PgConn conn_;  // the thread's, once it runs
  const int64_t run_;
  const std::vector<std::string> seeds_;
  const int64_t max_pages_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  // The outbox, as JSON arrays' elements, and when its oldest entry was queued.
  std::vector<std::string> offers_, done_, robots_, releases_, bookings_, unbookings_;
  uint64_t address_ops_ = 0;       // BookAddress and ReleaseAddress calls so far
  uint64_t address_ops_sent_ = 0;  // ... of which the batches sent so far carried
  bool booked_ = false;            // a booking was queued since the last claim: claim soon, to hear
  Clock::time_point oldest_{};
  size_t want_ = 0;
  bool finishing_ = false;
  std::vector<std::pair<std::string, int64_t>> held_;  // as of the last claim (the thread's)
  SharedDelivery inbox_;
  bool news_ = false;
  Status error_;
  SharedFrontierStats stats_;
  std::function<void()> wake_;
  std::thread thread_;
};

}  // namespace fanout::pg
