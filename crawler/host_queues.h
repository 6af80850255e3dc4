// HostQueues: which host may be sent its next request, at a cost per request that does not depend
// on how many hosts the crawl knows; the scheduling half of the frontier (frontier.h).
//
// Each host keeps its queued URLs (lowest depth first, then in the order they came), the turns
// asked for by requests already under way (a retry, a redirect hop, a sitemap: served before new
// URLs), its transfers in flight, when its next request may start (--delay, or its robots.txt's
// Crawl-delay) and whether its robots.txt is known.
//
// As in Heritrix's WorkQueueFrontier, a host is in one of three states: ready (something to send,
// fewer than --per-host transfers in flight, its delay passed), snoozed (the same, but its delay
// has not passed: it sits in a heap ordered by wake time) or neither (nothing to send, at its
// limit, paused, or its robots.txt being fetched). The ready hosts are a heap ordered by what they
// would send: a turn first, then the lowest depth, then the host served least recently, which keeps
// the crawl breadth-first and lets equal hosts take turns. Next() looks at the top of the two heaps
// only, so a host costs nothing while it is idle, and O(log H) whenever its state changes.
//
// Nothing waits here: the crawl asks Next(), starts what it says (Start books the host's next
// start), and tells Finish() when a transfer is over; it sleeps until NextWake() or a change.
//
// Names and addresses (HostLimits::lookups): a host's first step is the lookup of its name (kResolve),
// before its robots.txt and its pages; once its address is known (SetAddress), it shares that
// address's limits with the other hosts there (--per-ip transfers in flight, --ip-delay between two
// starts), as BUbiNG's workbench keeps IP entries above host entries. A host whose address is at its
// limit is parked on the address, out of both heaps, holding nothing; the address's next transfer
// to end puts its parked hosts back (a cost per transfer of the hosts parked there, and only with
// --per-ip). A host whose address waits for its delay snoozes until then, like one waiting for its
// own. Hosts whose address became busy after they were placed are found out when they reach the
// top of the ready heap. With leased addresses (workers of a shared frontier), an address is also
// closed until its lease is held here (OpenAddress), and its hosts park there meanwhile.
//
// Threads: not thread-safe; the frontier's owner serialises calls.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <random>
#include <vector>

#include "crawler/frontier_item.h"

namespace fanout {

struct HostTurn;  // crawl_waits.h: a request under way that waits for a turn on a host

struct HostLimits {
  size_t per_host = SIZE_MAX;  // transfers in flight to one host at most
  double delay = 0;            // seconds between two starts to one host (--delay)
  double delay_jitter = 0;     // each gap drawn from delay x [1 - jitter, 1 + jitter]
  double max_delay = 30;       // the longest Crawl-delay obeyed
  bool robots = false;         // a host's robots.txt must be known before its first URL goes
  double robots_ttl = 0;       // seconds a robots.txt is obeyed before it is fetched again (0: for the run)
  size_t per_ip = SIZE_MAX;    // transfers in flight to one address at most (--per-ip)
  double ip_delay = 0;         // seconds between two starts to one address (--ip-delay)
  bool lookups = false;        // a host's name must be looked up before its first request
  // Addresses are leased (workers of a shared frontier with --per-ip or --ip-delay): a host sends
  // nothing while its address is closed, and each address starts closed until OpenAddress.
  bool address_leases = false;
  size_t kept_hosts = SIZE_MAX;  // hosts whose connections are kept for reuse at most (connection_policy.h)
  uint64_t seed = 20261121;    // for the jitter
};

class HostQueues {
 public:
  using Clock = std::chrono::steady_clock;

  struct Pick {
    enum class Kind {
      kNone,    // nothing may start now (see NextWake)
      kRobots,  // the host's robots.txt must be fetched first: SetRobotsFetching, Start, then SetRobots
      kTurn,    // the host's oldest waiting turn may start: TakeTurn, then Start
      kUrl,     // a URL may start: TakeUrl, then Start
      kResolve, // the host's name must be looked up first (or again): SetLookupUnderWay, then SetAddress
    };
    Kind kind = Kind::kNone;
    HostId host = 0;
  };

  explicit HostQueues(const HostLimits& limits);
  HostQueues(const HostQueues&) = delete;  // its heaps point back at it
  HostQueues& operator=(const HostQueues&) = delete;

  // A host made known; ids come in order, from 0.
  void AddHost(HostId host);

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
  // A request under way asks for a turn on `host`; TakeTurn hands it back when the turn comes, and
  // Withdraw takes it back unserved (the request is gone).
  void AddTurn(HostId host, HostTurn* turn);
  HostTurn* TakeTurn(HostId host);  // REQUIRES: Next() said kTurn for it
  void Withdraw(HostId host, HostTurn* turn);

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

  // The host's name is being looked up: it sends nothing meanwhile.
  void SetLookupUnderWay(HostId host);
  // The host's address is known, until `expires` (then it is looked up again before its next
  // request): `address` (kNoAddress: none the crawl limits) from now on. Ids of addresses are the
  // caller's, small and dense, from 0.
  static constexpr uint32_t kNoAddress = UINT32_MAX;
  void SetAddress(HostId host, uint32_t address, Clock::time_point expires, Clock::time_point now);
  // The host's name is to be looked up again, no earlier than `at` (a failure that may pass).
  void NeedLookup(HostId host, Clock::time_point at);
  // With HostLimits::address_leases: this crawl may send to `address` from `not_before` on (its
  // lease is held), or may not (Close: its hosts park there until it opens again).
  void OpenAddress(uint32_t address, Clock::time_point not_before, Clock::time_point now);
  void CloseAddress(uint32_t address);
  // The address `host` counts under (kNoAddress: none, or no address level), and when the next
  // start there may be.
  uint32_t address(HostId host) const { return hosts_[host].address; }
  Clock::time_point address_next_start(uint32_t address) const {
    return Clock::time_point(Clock::duration(address < addresses_.size() ? addresses_[address].next_start : 0));
  }
  // Transfers in flight to `address`, and the most there at once so far.
  size_t address_in_flight(uint32_t address) const { return address < addresses_.size() ? addresses_[address].in_flight : 0; }
  size_t max_address_in_flight() const { return max_address_in_flight_; }

  // robots.txt is being fetched: the host sends nothing else meanwhile.
  void SetRobotsFetching(HostId host, Clock::time_point now);
  // robots.txt is known, until HostLimits::robots_ttl from now (then it is fetched again before the
  // host's next request). `crawl_delay` (seconds, if it gave one) becomes the host's delay, within
  // [--delay, --max-delay], and the next start waits it from now.
  void SetRobotsKnown(HostId host, std::optional<double> crawl_delay, Clock::time_point now);
  // The seconds between two of its requests: --delay, or its Crawl-delay within [--delay, --max-delay].
  double delay(HostId host) const { return hosts_[host].delay; }
  size_t in_flight(HostId host) const { return hosts_[host].in_flight; }
  // URLs queued or turns waiting.
  bool has_queue(HostId host) const { return hosts_[host].queue != nullptr; }

  // A host this crawl may not send to for now (a shared frontier gave it to another worker):
  // Pause drops its queued URLs (returns how many) and keeps it out of Next, robots.txt and turns
  // included, until Resume. Defer: its next request starts no earlier than `at`.
  size_t Pause(HostId host);
  void Resume(HostId host);
  void Defer(HostId host, Clock::time_point at);
  // Nothing queued, waiting or in flight, and robots.txt not being fetched.
  bool idle(HostId host) const {
    const Host& h = hosts_[host];
    return h.queue == nullptr && h.in_flight == 0 && h.robots_state != RobotsState::kFetching;
  }
  // When its next request may start (the delay booked so far).
  Clock::time_point next_start(HostId host) const { return Clock::time_point(Clock::duration(hosts_[host].next_start)); }

  // Hosts with something queued or waiting.
  size_t busy_hosts() const { return busy_hosts_; }
  // What the hosts cost in memory: each host's own state (what an idle host costs), and what the
  // queues of those with URLs queued or turns add.
  size_t memory_bytes() const;
  size_t queue_memory_bytes() const;
  // Heap steps taken so far (sift moves): what the scheduler's cost is made of.
  uint64_t heap_steps() const { return heap_steps_; }

 private:
  enum class RobotsState : uint8_t { kUnknown, kFetching, kKnown };
  enum class Lookup : uint8_t { kKnown, kNeeded, kUnderWay };  // kKnown: or none needed
  struct Address {
    uint32_t in_flight = 0;
    bool open = true;            // false: leased to another worker, or not yet to this one
    Clock::rep next_start = 0;
    std::vector<HostId> parked;  // hosts that would send but for its --per-ip limit
  };
  struct Queued {
    uint64_t order;
    FrontierItem item;
  };
  // Allocated only while the host has URLs queued or turns waiting, so that an idle host is small.
  struct Queue {
    std::vector<Queued> urls;     // a min-heap by (depth, order)
    std::vector<HostTurn*> turns;  // FIFO
  };
  struct Host {
    std::unique_ptr<Queue> queue;
    Clock::rep next_start = 0;  // steady clock ticks
    Clock::rep wake = 0;        // the snoozed heap's key: next_start, or its address's if later
    Clock::rep address_expires = 0;  // when its name is to be looked up again (with lookups)
    Clock::rep robots_expires = 0;   // when its robots.txt is to be fetched again (with robots_ttl)
    uint64_t served = 0;        // when it last started a request
    uint32_t address = kNoAddress;
    float delay = 0;            // seconds
    float gap = 0;              // the gap drawn for its last start, seconds
    uint32_t in_flight = 0;
    int32_t ready_pos = -1;     // index in ready_, or -1
    int32_t snooze_pos = -1;    // index in snoozed_, or -1
    RobotsState robots_state = RobotsState::kUnknown;
    bool paused = false;        // Pause: sends nothing
    Lookup lookup = Lookup::kKnown;
    bool parked = false;        // in its address's parked list
  };

  // An indexed binary heap of host ids; `less` orders them, `pos` is each host's index field.
  class Heap {
   public:
    Heap(HostQueues& owner, bool (HostQueues::*less)(HostId, HostId) const, int32_t Host::*pos)
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
    HostQueues& owner_;
    bool (HostQueues::*less_)(HostId, HostId) const;
    int32_t Host::*pos_;
    std::vector<HostId> ids_;
  };

  bool ReadyBefore(HostId a, HostId b) const;
  bool WakesBefore(HostId a, HostId b) const;
  // Puts the host in the heap its state calls for (or in none).
  void Place(HostId host, Clock::rep now);
  Queue& QueueOf(Host& h);
  void DropQueueIfEmpty(Host& h);
  int Priority(const Host& h) const;  // -1 for a turn, else the lowest queued depth
  void Book(Host& h, Clock::rep start);
  // Whether the host's address keeps it from starting at `now` (its limit, or its delay).
  bool AddressHolds(const Host& h, Clock::rep now) const;
  // Whether hosts must park on `a` (its --per-ip limit reached, or closed).
  bool Parks(const Address& a) const { return !a.open || a.in_flight >= limits_.per_ip; }
  Address& AddressAt(uint32_t address);
  // Puts the hosts parked on `address` back in the heaps their state calls for.
  void Unpark(uint32_t address, Clock::rep now);

  const HostLimits limits_;
  const bool address_limits_;  // --per-ip or --ip-delay: the address level is on
  std::deque<Host> hosts_;  // a deque: no spare capacity to pay for, and hosts never move
  std::vector<Address> addresses_;
  size_t max_address_in_flight_ = 0;
  Heap ready_;
  Heap snoozed_;
  std::mt19937_64 random_;
  uint64_t served_ = 0;
  uint64_t order_ = 0;
  size_t queued_ = 0;
  size_t busy_hosts_ = 0;
  mutable uint64_t heap_steps_ = 0;
};

}  // namespace fanout
