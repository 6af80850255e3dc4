// HostScheduler: which host may be sent its next request, at a cost per request that does not
// depend on how many hosts the crawl knows.
//
// A host is an origin (scheme://host:port). Each keeps its queued URLs (lowest depth first, then
// in the order they came), the turns asked for by requests that are already under way (a retry,
// a redirect hop, a sitemap: "waiters", served before new URLs), its transfers in flight, when
// its next request may start (--delay, or its robots.txt's Crawl-delay) and its robots.txt.
//
// As in Heritrix's WorkQueueFrontier, a host is in one of three states: ready (something to send,
// fewer than --per-host transfers in flight, its delay passed), snoozed (the same, but its delay
// has not passed: it sits in a heap ordered by wake time) or neither (nothing to send, at its
// limit, or its robots.txt being fetched). The ready hosts are a heap ordered by what they would
// send: a waiter first, then the lowest depth, then the host served least recently, which keeps
// the crawl breadth-first and lets equal hosts take turns. Next() looks at the top of the two heaps
// only, so a host costs nothing while it is idle, and O(log H) whenever its state changes.
//
// Nothing waits here: the crawl asks Next(), starts what it says (Start books the host's next
// start), and tells Finish() when a transfer is over; it sleeps until NextWake() or a change.
//
// Threads: not thread-safe; the crawl's owner serialises calls (the loop thread, or the blocking
// modes' lock).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <deque>
#include <unordered_map>
#include <vector>

#include "parser/robots_txt.h"

namespace fanout {

struct FrontierItem {
  std::string url;
  int depth = 0;
  std::string parent;  // the page it was found on; "" for a seed
  std::chrono::steady_clock::time_point queued_at;
};

struct HostLimits {
  size_t per_host = SIZE_MAX;  // transfers in flight to one host at most
  double delay = 0;            // seconds between two starts to one host (--delay)
  double delay_jitter = 0;     // each gap drawn from delay x [1 - jitter, 1 + jitter]
  double max_delay = 30;       // the longest Crawl-delay obeyed
  bool robots = false;         // a host's robots.txt must be known before its first URL goes
  size_t kept_hosts = SIZE_MAX;  // hosts whose connections are kept for reuse at most (KeepConnection)
  uint64_t seed = 20261121;    // for the jitter
};

class HostScheduler {
 public:
  using Clock = std::chrono::steady_clock;
  using HostId = uint32_t;
  enum class RobotsState : uint8_t { kUnknown, kFetching, kKnown };

  struct Pick {
    enum class Kind {
      kNone,    // nothing may start now (see NextWake)
      kRobots,  // the host's robots.txt must be fetched first: Start, then SetRobots when known
      kWaiter,  // the host's oldest waiter may start: TakeWaiter, then Start
      kUrl,     // a URL may start: TakeUrl, then Start
    };
    Kind kind = Kind::kNone;
    HostId host = 0;
  };

  explicit HostScheduler(HostLimits limits = {});
  HostScheduler(const HostScheduler&) = delete;  // its heaps and index point back at it
  HostScheduler& operator=(const HostScheduler&) = delete;

  // The host of `origin` ("http://h:1"), made known on first use.
  HostId Intern(std::string_view origin);
  std::string_view origin(HostId host) const { return hosts_[host].origin; }
  size_t hosts() const { return hosts_.size(); }

  // Queues a URL of `host` (the origin of item.url).
  void Push(HostId host, FrontierItem item);
  size_t queued() const { return queued_; }

  // What may start now; `urls`: whether a new URL may (a page slot is free, the page budget not
  // spent), and so a robots.txt fetch for one. Only moves hosts whose delay has passed from the
  // snoozed heap to the ready one.
  Pick Next(Clock::time_point now, bool urls);
  // When the first snoozed host wakes (nullopt: none is snoozed).
  std::optional<Clock::time_point> NextWake() const;

  // The host's next URL. REQUIRES: Next() said kUrl for it.
  FrontierItem TakeUrl(HostId host);
  // A request under way asks for a turn on `host`; `token` is the caller's, handed back by
  // TakeWaiter when the turn comes. Withdraw takes it back unserved (the waiter is gone).
  void AddWaiter(HostId host, void* token);
  void* TakeWaiter(HostId host);  // REQUIRES: Next() said kWaiter for it
  void Withdraw(HostId host, void* token);

  // A request to `host` starts now: books the start of the next (now + its delay, jittered, plus a
  // margin of 2 ms and 2%, at most 20 ms, for the jitter between here and the server).
  // `served`: false for robots.txt, so that the host's first page comes next among equals, on the
  // connection robots.txt opened, instead of after every other host's robots.txt.
  void Start(HostId host, Clock::time_point now, bool served = true);
  // A transfer to `host` is over. `sent`, if known, is when its request went out (after its
  // connection was made): the next request waits its delay from then, not from when this one was
  // booked, so that the gap holds as the server sees it even when this one started late or had a
  // connection to open first.
  void Finish(HostId host, Clock::time_point now, std::optional<Clock::time_point> sent = std::nullopt);

  // robots.txt is being fetched: the host sends nothing else meanwhile.
  void SetRobotsFetching(HostId host, Clock::time_point now);
  // robots.txt is known (nullptr: not obeyed). `crawl_delay` (seconds, if it gave one) becomes the
  // host's delay, within [--delay, --max-delay], and the next start waits it from now.
  void SetRobots(HostId host, std::shared_ptr<const RobotsTxt> robots, std::optional<double> crawl_delay,
                 Clock::time_point now);
  const RobotsTxt* robots(HostId host) const { return robots_table_[hosts_[host].robots].get(); }
  // The seconds between two of its requests: --delay, or its Crawl-delay within [--delay, --max-delay].
  double delay(HostId host) const { return hosts_[host].delay; }

  size_t in_flight(HostId host) const { return hosts_[host].in_flight; }

  // A host this crawl may not send to for now (a shared frontier gave it to another worker):
  // Pause drops its queued URLs (returns how many) and keeps it out of Next, robots.txt and waiters
  // included, until Resume. Defer: its next request starts no earlier than `at`.
  size_t Pause(HostId host);
  void Resume(HostId host);
  bool paused(HostId host) const { return hosts_[host].paused; }
  void Defer(HostId host, Clock::time_point at);
  // Nothing queued, waiting or in flight, and robots.txt not being fetched.
  bool idle(HostId host) const {
    const Host& h = hosts_[host];
    return h.queue == nullptr && h.in_flight == 0 && h.robots_state != RobotsState::kFetching;
  }
  // When its next request may start (the delay booked so far).
  Clock::time_point next_start(HostId host) const {
    return Clock::time_point(Clock::duration(hosts_[host].next_start));
  }
  // Whether a request to `host` that starts now (Start() done) should keep its connection for the
  // next one: the host has more to send (or other transfers under way), and it is among the first `kept_hosts` hosts that asked (a host keeps its
  // place until a request of its does not keep the connection). libcurl walks every connection it
  // keeps when a transfer ends, so a crawl spread over thousands of hosts, each visited now and then,
  // would pay per page for connections that mostly wait to be closed as idle.
  // On a host that multiplexes (SetMultiplexes), a `page` request counts as more to send: its
  // links, not known before it is parsed, mostly come back to its host, and its one HTTP/2
  // connection carries them all; closing it there would mean another (and, with curl 7.88, a full
  // TLS handshake: OpenSSL marks the session of a connection curl closes under HTTP/2 not
  // resumable). Over HTTP/1.1 a page alone keeps nothing: a crawl of 20,000 hosts of two pages
  // each ran at 0.72x with every page's connection kept.
  bool KeepConnection(HostId host, bool page);
  // What the host's last response came over: HTTP/2 (`multiplexes`) or not. Before its first, an
  // https host is taken to multiplex, an http one not.
  void SetMultiplexes(HostId host, bool multiplexes) { hosts_[host].multiplexes = multiplexes; }
  // A page of `host` is done, its links queued: a host left with nothing queued or in flight gives
  // its kept place back (KeepConnection), so that hosts that end idle do not hold places; their
  // idle connections are curl's to close (its cache's size and age limits).
  void Settle(HostId host);
  // Hosts with something queued or waiting.
  size_t busy_hosts() const { return busy_hosts_; }
  // What the hosts cost in memory: each host's own state (what an idle host costs), and what the
  // queues of those with URLs queued or waiters add. Robots files shared by several hosts are
  // counted once, by the caller that shares them.
  size_t memory_bytes() const;
  size_t queue_memory_bytes() const;
  // Heap steps taken so far (sift moves): what the scheduler's cost is made of.
  uint64_t heap_steps() const { return heap_steps_; }

 private:
  struct Queued {
    uint64_t order;
    FrontierItem item;
  };
  // Allocated only while the host has URLs queued or waiters, so that an idle host is small.
  struct Queue {
    std::vector<Queued> urls;    // a min-heap by (depth, order)
    std::vector<void*> waiters;  // FIFO
  };
  // Every host known stays (its politeness and robots.txt outlive its queue), so this is what an
  // idle host costs, with its origin's bytes in the arena and a slot or two in the index.
  struct Host {
    std::string_view origin;    // in origins_
    std::unique_ptr<Queue> queue;
    uint32_t robots = 0;        // index in robots_table_ (0: none, or not obeyed)
    Clock::rep next_start = 0;  // steady clock ticks
    uint64_t served = 0;        // when it last started a request
    float delay = 0;            // seconds
    float gap = 0;              // the gap drawn for its last start, seconds
    uint32_t in_flight = 0;
    int32_t ready_pos = -1;     // index in ready_, or -1
    int32_t snooze_pos = -1;    // index in snoozed_, or -1
    RobotsState robots_state = RobotsState::kUnknown;
    bool kept = false;          // counted in kept_hosts_
    bool paused = false;        // Pause: sends nothing
    bool multiplexes = false;   // its last response came over HTTP/2 (KeepConnection); see Intern
  };

  // An indexed binary heap of host ids; `less` orders them, `pos` is each host's index field.
  class Heap {
   public:
    Heap(HostScheduler& owner, bool (HostScheduler::*less)(HostId, HostId) const, int32_t Host::*pos)
        : owner_(owner), less_(less), pos_(pos) {}
    bool empty() const { return ids_.empty(); }
    HostId top() const { return ids_.front(); }
    void Insert(HostId id);
    void Remove(HostId id);
    void Update(HostId id);  // its key changed
    size_t capacity_bytes() const { return ids_.capacity() * sizeof(HostId); }

   private:
    void Place(size_t i, HostId id);
    void SiftUp(size_t i);
    void SiftDown(size_t i);
    HostScheduler& owner_;
    bool (HostScheduler::*less_)(HostId, HostId) const;
    int32_t Host::*pos_;
    std::vector<HostId> ids_;
  };

  bool ReadyBefore(HostId a, HostId b) const;
  bool WakesBefore(HostId a, HostId b) const;
  // Puts the host in the heap its state calls for (or in none).
  void Place(HostId host, Clock::rep now);
  Queue& QueueOf(Host& h);
  void DropQueueIfEmpty(Host& h);
  int Priority(const Host& h) const;  // -1 for a waiter, else the lowest queued depth
  void Book(Host& h, Clock::rep start);

  // The index by origin: open addressing over host ids, linear probing, at most half full.
  static constexpr HostId kNoHost = UINT32_MAX;
  size_t SlotOf(std::string_view origin) const;  // the slot holding it, or the empty one it would take
  void GrowIndex();
  std::string_view Keep(std::string_view origin);  // a copy in the arena

  HostLimits limits_;
  std::deque<Host> hosts_;  // a deque: no spare capacity to pay for, and hosts never move
  std::vector<HostId> slots_;
  std::vector<std::unique_ptr<char[]>> origins_;  // the arena: blocks of kArenaBlock bytes
  char* arena_at_ = nullptr;  // the free end of the last block
  size_t arena_left_ = 0;
  static constexpr size_t kArenaBlock = 64 * 1024;
  std::vector<std::shared_ptr<const RobotsTxt>> robots_table_{nullptr};  // distinct verdicts
  std::unordered_map<const RobotsTxt*, uint32_t> robots_index_;
  Heap ready_;
  Heap snoozed_;
  std::mt19937_64 random_;
  uint64_t served_ = 0;
  uint64_t order_ = 0;
  size_t queued_ = 0;
  size_t busy_hosts_ = 0;
  size_t kept_hosts_ = 0;
  mutable uint64_t heap_steps_ = 0;
};

}  // namespace fanout
