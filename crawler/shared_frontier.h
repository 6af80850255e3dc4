// SharedFrontier: the crawl's side of a frontier that several workers share (--frontier), so that
// N crawls on N machines crawl one run together. The crawl core talks to it; an implementation
// (pgfrontier/pg_frontier.h, on PostgreSQL) talks to the shared database from its own thread.
//
// The promises rest on host leases: a worker fetches from a host only while it holds the host's
// lease, and every lease has an epoch that rises whenever another worker takes the host over.
//   - The frontier hands a worker hosts (Lease) and the queued URLs of its hosts; the worker queues
//     them in its own frontier, so --per-host and --delay hold for the run, not per worker.
//   - Links found on a page are offered at once (Offer): dedup happens in the shared database.
//   - A page is done (Done) only once the worker's own store has committed it, so a worker that
//     dies between the two costs a refetch, never a page. Done carries the epoch the page was
//     taken under: if the host has been taken over since, the shared frontier refuses it (fencing).
//   - lease_deadline: no transfer may start that could still run after it (the worker may have
//     lost its hosts by then without knowing it).
//   - With --per-ip or --ip-delay, addresses are leased too, so that their limits hold for the run:
//     a worker sends to an address only while it holds it. It books the address of each host it
//     holds once looked up (BookAddress); the first worker to book an address holds it until it
//     gives it back (ReleaseAddress, when none of its hosts is there) or the lease runs out, and a
//     host whose address another worker holds goes back to the frontier at once, for that worker
//     to claim: the hosts of one address are crawled by one worker at a time.
//
// Threads: Start, Take and WantWork belong to the crawl's owner (the loop thread); Offer, Done,
// Robots, Release, BookAddress, ReleaseAddress and Finish may be called from any thread (Done is
// called by the store's writer).
// `wake`, given to Start, is called from the frontier's own thread when Take has something new.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "crawler/frontier_item.h"
#include "util/status.h"

namespace fanout {

// A robots.txt answer as the lease holder that fetched it got it, kept for the run so that later
// owners of the host do not fetch it again.
struct SharedRobots {
  int status = 0;     // HTTP status; 0 when there was no answer
  int curl_code = 0;  // the transfer's CURLcode (0: fine)
  std::string body;
};

// A host this worker now holds.
struct SharedLease {
  std::string origin;
  int64_t epoch = 0;
  double wait_seconds = 0;  // its first request waits this long (the last owner's delay)
  std::optional<SharedRobots> robots;  // known for the run already
};

// A URL found by this worker: on a page (Done's or Offer's), or in a sitemap.
struct SharedLink {
  std::string url;  // normalised
  int depth = 0;
  std::string parent;  // the page it was found on ("" for a sitemap)
};

// What came back from the shared frontier since the last Take.
struct SharedDelivery {
  std::vector<SharedLease> granted;                        // hosts newly held (or held again)
  std::vector<std::pair<std::string, int64_t>> held;       // every host held now, with its epoch
  bool held_known = false;                                 // `held` is the full list (a claim answered)
  std::vector<FrontierItem> urls;                          // URLs to fetch, of held hosts
  bool run_over = false;  // nothing is queued for the run anywhere, or its --max-pages is spent
  std::chrono::steady_clock::time_point lease_deadline{};  // no transfer may outlive it
  // Every address held now, and the seconds until its next request may start (held_known only).
  std::vector<std::pair<std::string, double>> addresses;
  // The BookAddress and ReleaseAddress calls the claim saw: those numbered up to this one.
  uint64_t address_ops = 0;
  Status error;           // the shared frontier cannot go on (not a lost connection: that is retried)
};

struct SharedFrontierStats {
  int64_t statements = 0, transactions = 0, retries = 0, reconnects = 0;
  int64_t done = 0, refused = 0;  // completions accepted, and refused as stale (fencing)
  int64_t claims = 0, urls_received = 0, hosts_granted = 0, hosts_released = 0;
};

class SharedFrontier {
 public:
  virtual ~SharedFrontier() = default;
  // Begins talking to the shared database; `wake` is called (from another thread) when Take has news.
  virtual void Start(std::function<void()> wake) = 0;
  // What arrived since the last call (an empty delivery when nothing did).
  virtual SharedDelivery Take() = 0;
  // The crawl could take `room` more URLs now.
  virtual void WantWork(size_t room) = 0;
  // Links found (accepted whoever owns their hosts: a link is a fact, however stale its finder).
  virtual void Offer(std::vector<SharedLink> links) = 0;
  // A URL of host `origin`, taken under `epoch`, is done: `page` when it was fetched and stored
  // (false: refused by robots.txt, or fetched already as a redirect target); `redirects`: URLs its
  // redirects fetched, which nobody should fetch again.
  virtual void Done(std::string url, std::string origin, int64_t epoch, bool page, std::vector<std::string> redirects) = 0;
  // An origin's robots.txt as fetched, and the delay it sets (seconds).
  virtual void Robots(std::string origin, SharedRobots robots, double delay) = 0;
  // Gives a held host back; the next owner's first request waits `gap_seconds`.
  virtual void Release(std::string origin, int64_t epoch, double gap_seconds) = 0;
  // Host `origin`, held under `epoch`, connects to `address` (a limit key): books the address for
  // this worker if nobody else holds it; else the host goes back (and Take's `held` leaves it out).
  // `ip_delay`: the seconds between two requests there, which its next holder waits after a lease
  // that ran out. Returns the call's number (see SharedDelivery::address_ops).
  virtual uint64_t BookAddress(std::string origin, int64_t epoch, std::string address, double ip_delay) = 0;
  // Gives an address back; its next holder's first request waits `gap_seconds`. Returns the call's number.
  virtual uint64_t ReleaseAddress(std::string address, double gap_seconds) = 0;
  // Sends what is queued, gives back the hosts still held, and stops the frontier's thread.
  // Returns the first error that could not be retried, if any.
  virtual Status Finish() = 0;
  virtual SharedFrontierStats stats() const = 0;
  // The run in the shared frontier, and its address without a password (for records and logs).
  virtual int64_t run_id() const = 0;
  virtual std::string address() const = 0;
  virtual const std::string& worker() const = 0;
  // The longest a lease lasts, seconds.
  virtual double lease_seconds() const = 0;
};

}  // namespace fanout
