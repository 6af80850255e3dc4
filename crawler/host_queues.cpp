#include "crawler/host_queues.h"

#include <algorithm>
#include <cassert>
#include <limits>
#include <utility>

namespace fanout {
namespace {

HostQueues::Clock::rep Ticks(double seconds) {
  return std::chrono::duration_cast<HostQueues::Clock::duration>(std::chrono::duration<double>(seconds)).count();
}

// The URL heap's order: lowest depth first, then first come.
bool Later(const auto& a, const auto& b) {
  return a.item.depth != b.item.depth ? a.item.depth > b.item.depth : a.order > b.order;
}

// A margin (2 ms and 2%, at most 20 ms) so that jitter on the way (the server's own loop, a
// connection being accepted) does not bring two requests closer than a delay as the server sees them.
double Margin(double gap) { return std::min(0.02, 0.002 + 0.02 * gap); }

}  // namespace

HostQueues::HostQueues(const HostLimits& limits)
    : limits_(limits),
      address_limits_(limits.per_ip != SIZE_MAX || limits.ip_delay > 0),
      ready_(*this, &HostQueues::ReadyBefore, &Host::ready_pos),
      snoozed_(*this, &HostQueues::WakesBefore, &Host::snooze_pos),
      random_(limits.seed) {}

void HostQueues::AddHost([[maybe_unused]] HostId host) {
  assert(host == hosts_.size() && "ids come in order, from 0");
  Host& h = hosts_.emplace_back();
  h.delay = static_cast<float>(limits_.delay);
  h.next_start = Clock::now().time_since_epoch().count();
  if (!limits_.robots) h.robots_state = RobotsState::kKnown;
  if (limits_.lookups) h.lookup = Lookup::kNeeded;
}

void HostQueues::SetLookupUnderWay(HostId host) {
  hosts_[host].lookup = Lookup::kUnderWay;
  Place(host, Clock::now().time_since_epoch().count());
}

void HostQueues::SetAddress(HostId host, uint32_t address, Clock::time_point expires, Clock::time_point now) {
  Host& h = hosts_[host];
  const Clock::rep t = now.time_since_epoch().count();
  h.lookup = Lookup::kKnown;
  h.address_expires = expires.time_since_epoch().count();
  if (!address_limits_) address = kNoAddress;  // no address level: nothing to count there
  if (address != h.address) {
    // Transfers under way stay counted where they went: a host moves with none (it is between
    // lookups), or rarely with some (its answer changed), which the old address then forgets.
    if (h.address != kNoAddress && h.in_flight > 0) {
      Address& old = addresses_[h.address];
      old.in_flight -= std::min<uint32_t>(old.in_flight, h.in_flight);
      Unpark(h.address, t);
    }
    h.address = address;
    if (address != kNoAddress) AddressAt(address).in_flight += h.in_flight;
  }
  Place(host, t);
}

void HostQueues::NeedLookup(HostId host, Clock::time_point at) {
  Host& h = hosts_[host];
  h.lookup = Lookup::kNeeded;
  h.next_start = std::max(h.next_start, at.time_since_epoch().count());
  Place(host, Clock::now().time_since_epoch().count());
}

bool HostQueues::AddressHolds(const Host& h, Clock::rep now) const {
  if (h.address == kNoAddress) return false;
  const Address& a = addresses_[h.address];
  return Parks(a) || a.next_start > now;
}

HostQueues::Address& HostQueues::AddressAt(uint32_t address) {
  if (addresses_.size() <= address) {
    Address fresh;
    fresh.open = !limits_.address_leases;
    addresses_.resize(address + 1, fresh);
  }
  return addresses_[address];
}

void HostQueues::OpenAddress(uint32_t address, Clock::time_point not_before, Clock::time_point now) {
  Address& a = AddressAt(address);
  a.open = true;
  a.next_start = std::max(a.next_start, not_before.time_since_epoch().count());
  Unpark(address, now.time_since_epoch().count());
}

void HostQueues::CloseAddress(uint32_t address) { AddressAt(address).open = false; }

void HostQueues::Unpark(uint32_t address, Clock::rep now) {
  for (HostId id : std::exchange(addresses_[address].parked, {})) {
    hosts_[id].parked = false;
    Place(id, now);
  }
}

HostQueues::Queue& HostQueues::QueueOf(Host& h) {
  if (!h.queue) {
    h.queue = std::make_unique<Queue>();
    ++busy_hosts_;
  }
  return *h.queue;
}

void HostQueues::DropQueueIfEmpty(Host& h) {
  if (h.queue && h.queue->urls.empty() && h.queue->turns.empty()) {
    h.queue.reset();
    --busy_hosts_;
  }
}

void HostQueues::Push(HostId host, FrontierItem item) {
  Host& h = hosts_[host];
  std::vector<Queued>& urls = QueueOf(h).urls;
  urls.push_back({order_++, std::move(item)});
  std::push_heap(urls.begin(), urls.end(), [](const Queued& a, const Queued& b) { return Later(a, b); });
  ++queued_;
  Place(host, Clock::now().time_since_epoch().count());
}

FrontierItem HostQueues::TakeUrl(HostId host) {
  Host& h = hosts_[host];
  std::vector<Queued>& urls = h.queue->urls;
  std::pop_heap(urls.begin(), urls.end(), [](const Queued& a, const Queued& b) { return Later(a, b); });
  FrontierItem item = std::move(urls.back().item);
  urls.pop_back();
  --queued_;
  DropQueueIfEmpty(h);
  Place(host, Clock::now().time_since_epoch().count());
  return item;
}

void HostQueues::AddTurn(HostId host, HostTurn* turn) {
  QueueOf(hosts_[host]).turns.push_back(turn);
  Place(host, Clock::now().time_since_epoch().count());
}

HostTurn* HostQueues::TakeTurn(HostId host) {
  Host& h = hosts_[host];
  std::vector<HostTurn*>& turns = h.queue->turns;
  HostTurn* turn = turns.front();
  turns.erase(turns.begin());
  DropQueueIfEmpty(h);
  Place(host, Clock::now().time_since_epoch().count());
  return turn;
}

void HostQueues::Withdraw(HostId host, HostTurn* turn) {
  Host& h = hosts_[host];
  if (!h.queue) return;
  std::erase(h.queue->turns, turn);
  DropQueueIfEmpty(h);
  Place(host, Clock::now().time_since_epoch().count());
}

size_t HostQueues::Pause(HostId host) {
  Host& h = hosts_[host];
  h.paused = true;
  size_t dropped = 0;
  if (h.queue) {
    dropped = h.queue->urls.size();
    queued_ -= dropped;
    h.queue->urls.clear();
    DropQueueIfEmpty(h);
  }
  Place(host, Clock::now().time_since_epoch().count());
  return dropped;
}

void HostQueues::Resume(HostId host) {
  hosts_[host].paused = false;
  Place(host, Clock::now().time_since_epoch().count());
}

void HostQueues::Defer(HostId host, Clock::time_point at) {
  Host& h = hosts_[host];
  h.next_start = std::max(h.next_start, at.time_since_epoch().count());
  Place(host, Clock::now().time_since_epoch().count());
}

void HostQueues::Book(Host& h, Clock::rep start) {
  double gap = h.delay;
  if (gap > 0 && limits_.delay_jitter > 0) {
    gap *= std::uniform_real_distribution<double>(1 - limits_.delay_jitter, 1 + limits_.delay_jitter)(random_);
  }
  if (gap > 0) gap += Margin(gap);
  h.gap = static_cast<float>(gap);
  h.next_start = std::max(h.next_start, start + Ticks(gap));
}

void HostQueues::Start(HostId host, Clock::time_point now, bool served) {
  Host& h = hosts_[host];
  const Clock::rep t = now.time_since_epoch().count();
  ++h.in_flight;
  if (served) h.served = ++served_;
  Book(h, t);
  if (h.address != kNoAddress) {
    Address& a = addresses_[h.address];
    ++a.in_flight;
    max_address_in_flight_ = std::max<size_t>(max_address_in_flight_, a.in_flight);
    if (limits_.ip_delay > 0) a.next_start = std::max(a.next_start, t + Ticks(limits_.ip_delay + Margin(limits_.ip_delay)));
  }
  Place(host, t);
}

void HostQueues::Finish(HostId host, Clock::time_point now, std::optional<Clock::time_point> sent) {
  Host& h = hosts_[host];
  if (h.in_flight > 0) --h.in_flight;
  if (sent && h.gap > 0) h.next_start = std::max(h.next_start, sent->time_since_epoch().count() + Ticks(h.gap));
  const Clock::rep t = now.time_since_epoch().count();
  if (h.address != kNoAddress) {
    Address& a = addresses_[h.address];
    if (a.in_flight > 0) --a.in_flight;
    if (sent && limits_.ip_delay > 0) {
      a.next_start = std::max(a.next_start, sent->time_since_epoch().count() +
                                                Ticks(limits_.ip_delay + Margin(limits_.ip_delay)));
    }
    if (!Parks(a) && !a.parked.empty()) Unpark(h.address, t);
  }
  Place(host, t);
}

void HostQueues::SetRobotsFetching(HostId host, Clock::time_point now) {
  hosts_[host].robots_state = RobotsState::kFetching;
  Place(host, now.time_since_epoch().count());
}

void HostQueues::SetRobotsKnown(HostId host, std::optional<double> crawl_delay, Clock::time_point now) {
  Host& h = hosts_[host];
  const Clock::rep t = now.time_since_epoch().count();
  h.robots_state = RobotsState::kKnown;
  h.robots_expires = limits_.robots_ttl > 0 ? t + Ticks(limits_.robots_ttl) : std::numeric_limits<Clock::rep>::max();
  if (crawl_delay) {
    const double delay = std::max(limits_.delay, std::min(*crawl_delay, limits_.max_delay));
    h.delay = static_cast<float>(delay);
    h.next_start = std::max(h.next_start, t + Ticks(delay));  // robots.txt itself was a request
  }
  Place(host, t);
}

int HostQueues::Priority(const Host& h) const {
  if (!h.queue->turns.empty()) return -1;
  return h.queue->urls.front().item.depth;
}

bool HostQueues::ReadyBefore(HostId a, HostId b) const {
  const Host& x = hosts_[a];
  const Host& y = hosts_[b];
  const int px = Priority(x), py = Priority(y);
  if (px != py) return px < py;
  return x.served != y.served ? x.served < y.served : a < b;  // never served: the first known first
}

bool HostQueues::WakesBefore(HostId a, HostId b) const { return hosts_[a].wake < hosts_[b].wake; }

void HostQueues::Place(HostId host, Clock::rep now) {
  Host& h = hosts_[host];
  // A host has a queue only while it has URLs queued or waiters (DropQueueIfEmpty).
  const bool may_send = h.queue != nullptr && !h.paused && h.robots_state != RobotsState::kFetching &&
                        h.lookup != Lookup::kUnderWay && h.in_flight < limits_.per_host;
  Clock::rep wake = h.next_start;
  if (may_send && h.address != kNoAddress) {
    Address& a = addresses_[h.address];
    if (Parks(a)) {  // parked until a transfer to its address ends, or it opens
      if (h.ready_pos >= 0) ready_.Remove(host);
      if (h.snooze_pos >= 0) snoozed_.Remove(host);
      if (!h.parked) {
        h.parked = true;
        a.parked.push_back(host);
      }
      return;
    }
    wake = std::max(wake, a.next_start);
  }
  const bool ready = may_send && wake <= now;
  const bool snoozed = may_send && !ready;
  h.wake = wake;
  if (ready) {
    if (h.snooze_pos >= 0) snoozed_.Remove(host);
    if (h.ready_pos >= 0) {
      ready_.Update(host);
    } else {
      ready_.Insert(host);
    }
  } else if (snoozed) {
    if (h.ready_pos >= 0) ready_.Remove(host);
    if (h.snooze_pos >= 0) {
      snoozed_.Update(host);
    } else {
      snoozed_.Insert(host);
    }
  } else {
    if (h.ready_pos >= 0) ready_.Remove(host);
    if (h.snooze_pos >= 0) snoozed_.Remove(host);
  }
}

HostQueues::Pick HostQueues::Next(Clock::time_point now, bool urls) {
  const Clock::rep t = now.time_since_epoch().count();
  while (!snoozed_.empty() && hosts_[snoozed_.top()].wake <= t) Place(snoozed_.top(), t);
  // A host whose address became busy since it was placed parks or snoozes now.
  while (!ready_.empty() && AddressHolds(hosts_[ready_.top()], t)) Place(ready_.top(), t);
  if (ready_.empty()) return {};
  const HostId id = ready_.top();
  Host& h = hosts_[id];
  const bool turns = !h.queue->turns.empty();
  if (h.lookup == Lookup::kKnown && limits_.lookups && h.address_expires <= t) h.lookup = Lookup::kNeeded;
  if (h.lookup == Lookup::kNeeded) return urls || turns ? Pick{Pick::Kind::kResolve, id} : Pick{};
  // robots.txt is fetched for a URL (only when one may start) or for a turn; again once it expired.
  if (h.robots_state == RobotsState::kKnown && limits_.robots && h.robots_expires <= t) {
    h.robots_state = RobotsState::kUnknown;
  }
  if (h.robots_state == RobotsState::kUnknown) return urls || turns ? Pick{Pick::Kind::kRobots, id} : Pick{};
  if (turns) return {Pick::Kind::kTurn, id};
  if (!urls) return {};
  return {Pick::Kind::kUrl, id};
}

std::optional<HostQueues::Clock::time_point> HostQueues::NextWake() const {
  if (snoozed_.empty()) return std::nullopt;
  return Clock::time_point(Clock::duration(hosts_[snoozed_.top()].wake));
}

size_t HostQueues::memory_bytes() const {
  return hosts_.size() * sizeof(Host) + ready_.capacity_bytes() + snoozed_.capacity_bytes();
}

size_t HostQueues::queue_memory_bytes() const {
  size_t bytes = 0;
  for (const Host& h : hosts_) {
    if (!h.queue) continue;
    bytes += sizeof(Queue) + h.queue->urls.capacity() * sizeof(Queued) + h.queue->turns.capacity() * sizeof(HostTurn*);
    for (const Queued& q : h.queue->urls) bytes += q.item.url.capacity() + q.item.parent.capacity();
  }
  return bytes;
}

// The heap.

void HostQueues::Heap::Place(size_t i, HostId id) {
  ids_[i] = id;
  owner_.hosts_[id].*pos_ = static_cast<int32_t>(i);
  ++owner_.heap_steps_;
}

void HostQueues::Heap::SiftUp(size_t i) {
  const HostId id = ids_[i];
  while (i > 0) {
    const size_t parent = (i - 1) / 2;
    if (!(owner_.*less_)(id, ids_[parent])) break;
    Place(i, ids_[parent]);
    i = parent;
  }
  Place(i, id);
}

void HostQueues::Heap::SiftDown(size_t i) {
  const HostId id = ids_[i];
  const size_t n = ids_.size();
  while (true) {
    size_t child = 2 * i + 1;
    if (child >= n) break;
    if (child + 1 < n && (owner_.*less_)(ids_[child + 1], ids_[child])) ++child;
    if (!(owner_.*less_)(ids_[child], id)) break;
    Place(i, ids_[child]);
    i = child;
  }
  Place(i, id);
}

void HostQueues::Heap::Insert(HostId id) {
  ids_.push_back(id);
  SiftUp(ids_.size() - 1);
}

void HostQueues::Heap::Remove(HostId id) {
  const auto i = static_cast<size_t>(owner_.hosts_[id].*pos_);
  owner_.hosts_[id].*pos_ = -1;
  const HostId last = ids_.back();
  ids_.pop_back();
  if (i == ids_.size()) return;
  ids_[i] = last;
  SiftUp(i);
  SiftDown(static_cast<size_t>(owner_.hosts_[last].*pos_));
}

void HostQueues::Heap::Update(HostId id) {
  const auto i = static_cast<size_t>(owner_.hosts_[id].*pos_);
  SiftUp(i);
  SiftDown(static_cast<size_t>(owner_.hosts_[id].*pos_));
}

}  // namespace fanout
