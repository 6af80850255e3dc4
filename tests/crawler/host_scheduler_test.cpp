#include "crawler/host_scheduler.h"

#include <gtest/gtest.h>

#include <iostream>
#include <string>

namespace fanout {
namespace {

using Clock = HostScheduler::Clock;
using Kind = HostScheduler::Pick::Kind;

FrontierItem Item(const std::string& url, int depth = 1) { return {url, depth, "", Clock::now()}; }

std::string Origin(int i) { return "http://h" + std::to_string(i) + ".localhost:8000"; }

// Starts whatever the scheduler says may go, as a crawl would, and finishes it at once.
// Returns the URL (or "robots"/"waiter"), "" when nothing may go.
std::string StartNext(HostScheduler& s, Clock::time_point now, bool finish = true) {
  HostScheduler::Pick pick = s.Next(now, true);
  std::string what;
  switch (pick.kind) {
    case Kind::kNone: return "";
    case Kind::kRobots:
      s.SetRobotsFetching(pick.host, now);
      what = "robots";
      break;
    case Kind::kWaiter:
      s.TakeWaiter(pick.host);
      what = "waiter";
      break;
    case Kind::kUrl: what = s.TakeUrl(pick.host).url; break;
  }
  s.Start(pick.host, now);
  if (finish) s.Finish(pick.host, now);
  return what;
}

// kept_hosts 1: which host holds the one place for a kept connection says who kept it.
TEST(HostScheduler, APageOfAnHttp2HostKeepsItsConnectionAndAHostThatEndsIdleGivesItsPlaceBack) {
  HostScheduler s(HostLimits{.kept_hosts = 1});
  const HostScheduler::HostId a = s.Intern("http://a");
  const HostScheduler::HostId b = s.Intern("http://b");
  s.Push(a, Item("http://a/1"));
  s.Push(b, Item("http://b/1"));
  const Clock::time_point t0 = Clock::now() + std::chrono::milliseconds(1);
  EXPECT_EQ(StartNext(s, t0, /*finish=*/false), "http://a/1");
  // a's queue is empty and its page the only one in flight: over HTTP/1.1 nothing is kept...
  EXPECT_FALSE(s.KeepConnection(a, /*page=*/true));
  // ...over HTTP/2 the page's links, which may well come back, go over its one connection.
  s.SetMultiplexes(a, true);
  s.SetMultiplexes(b, true);
  EXPECT_TRUE(s.KeepConnection(a, /*page=*/true));
  EXPECT_FALSE(s.KeepConnection(a, /*page=*/false)) << "nothing else to send: robots.txt alone";
  EXPECT_TRUE(s.KeepConnection(a, /*page=*/true));
  EXPECT_EQ(StartNext(s, t0, /*finish=*/false), "http://b/1");
  EXPECT_FALSE(s.KeepConnection(b, /*page=*/true)) << "a holds the one place";
  s.Finish(a, t0);
  s.Settle(a);  // a's page gave no links: a is idle
  EXPECT_TRUE(s.KeepConnection(b, /*page=*/true));
}

TEST(HostScheduler, AHostWhoseDelayHasNotPassedSleepsWhileOthersGo) {
  HostScheduler s(HostLimits{.delay = 1.0});
  const HostScheduler::HostId a = s.Intern("http://a");
  const HostScheduler::HostId b = s.Intern("http://b");
  s.Push(a, Item("http://a/1"));
  s.Push(a, Item("http://a/2"));
  s.Push(b, Item("http://b/1"));
  const Clock::time_point t0 = Clock::now() + std::chrono::milliseconds(1);
  EXPECT_EQ(StartNext(s, t0), "http://a/1");
  EXPECT_EQ(StartNext(s, t0), "http://b/1");  // a waits for its delay; b goes on
  EXPECT_EQ(StartNext(s, t0), "");
  ASSERT_TRUE(s.NextWake().has_value());
  // a wakes one delay after its start, and the margin for the jitter on the way (2 ms and 2%, 20 ms
  // at most)
  EXPECT_EQ(*s.NextWake(), t0 + std::chrono::milliseconds(1020));
  EXPECT_EQ(StartNext(s, t0 + std::chrono::milliseconds(1019)), "");
  EXPECT_EQ(StartNext(s, t0 + std::chrono::milliseconds(1020)), "http://a/2");
}

TEST(HostScheduler, PerHostLimitHoldsAHostUntilATransferFinishes) {
  HostScheduler s(HostLimits{.per_host = 2});
  const HostScheduler::HostId a = s.Intern("http://a");
  for (int i = 0; i < 4; ++i) s.Push(a, Item("http://a/" + std::to_string(i)));
  const Clock::time_point now = Clock::now();
  EXPECT_EQ(StartNext(s, now, false), "http://a/0");
  EXPECT_EQ(StartNext(s, now, false), "http://a/1");
  EXPECT_EQ(StartNext(s, now, false), "");  // two in flight
  s.Finish(a, now);
  EXPECT_EQ(StartNext(s, now, false), "http://a/2");
  EXPECT_EQ(s.in_flight(a), 2u);
}

TEST(HostScheduler, RobotsTxtGoesFirstAndTheHostWaitsForIt) {
  HostScheduler s(HostLimits{.robots = true});
  const HostScheduler::HostId a = s.Intern("http://a");
  s.Push(a, Item("http://a/1"));
  s.Push(a, Item("http://a/2"));
  const Clock::time_point now = Clock::now();
  EXPECT_EQ(StartNext(s, now), "robots");
  EXPECT_EQ(StartNext(s, now), "");  // nothing else while its robots.txt is fetched
  s.SetRobots(a, nullptr, 0.5, now);  // Crawl-delay: 0.5
  EXPECT_EQ(StartNext(s, now), "");   // and the first page waits that long after robots.txt
  EXPECT_EQ(StartNext(s, now + std::chrono::milliseconds(500)), "http://a/1");
  EXPECT_EQ(StartNext(s, now + std::chrono::milliseconds(1011)), "");  // 0.5 s, 2 ms and 2% after a/1
  EXPECT_EQ(StartNext(s, now + std::chrono::milliseconds(1012)), "http://a/2");
}

TEST(HostScheduler, AWaiterGoesBeforeNewUrlsAndBreadthFirstOrderHolds) {
  HostScheduler s;
  const HostScheduler::HostId a = s.Intern("http://a");
  const HostScheduler::HostId b = s.Intern("http://b");
  s.Push(a, Item("http://a/deep", 3));
  s.Push(b, Item("http://b/shallow", 1));
  s.Push(a, Item("http://a/shallow", 1));
  int token = 0;
  s.AddWaiter(a, &token);
  const Clock::time_point now = Clock::now();
  EXPECT_EQ(StartNext(s, now), "waiter");
  // Equal depth: the host served least recently first (b), then a's shallow, then the deep one.
  EXPECT_EQ(StartNext(s, now), "http://b/shallow");
  EXPECT_EQ(StartNext(s, now), "http://a/shallow");
  EXPECT_EQ(StartNext(s, now), "http://a/deep");
  EXPECT_EQ(s.busy_hosts(), 0u);
}

// The cost of a request is the heap work of the hosts that change, not a look at every host: idle
// hosts cost nothing, and 100,000 busy hosts cost a logarithm more than 10.
TEST(HostScheduler, CostPerRequestDoesNotGrowWithIdleHostsAndOnlyLogarithmicallyWithBusyOnes) {
  auto steps_per_request = [](int busy, int idle) {
    HostScheduler s;
    for (int i = 0; i < idle; ++i) s.Intern(Origin(busy + i));  // known, nothing queued
    for (int i = 0; i < busy; ++i) {
      const HostScheduler::HostId h = s.Intern(Origin(i));
      s.Push(h, Item(Origin(i) + "/a"));
      s.Push(h, Item(Origin(i) + "/b"));
    }
    const uint64_t before = s.heap_steps();
    const Clock::time_point now = Clock::now();
    const int requests = 2000;
    for (int i = 0; i < requests; ++i) {
      EXPECT_NE(StartNext(s, now), "");
      // A page found a link: the queue stays as full as it was.
      const int host = i % busy;
      s.Push(s.Intern(Origin(host)), Item(Origin(host) + "/" + std::to_string(i), 2));
    }
    return static_cast<double>(s.heap_steps() - before) / requests;
  };
  std::cout << "heap steps a request: ";
  const double ten = steps_per_request(10, 0);
  const double ten_and_idle = steps_per_request(10, 100000);
  const double many = steps_per_request(100000, 0);
  std::cout << ten << " (10 hosts), " << ten_and_idle << " (10 busy, 100,000 idle), " << many << " (100,000 busy)\n";
  EXPECT_EQ(ten_and_idle, ten);
  // log2(100,000) / log2(10) is 5; a scan of every host would be 10,000 times more.
  EXPECT_LT(many, 8 * ten) << "10 hosts: " << ten << " steps a request, 100,000 hosts: " << many;
}

TEST(HostScheduler, AnIdleHostIsSmall) {
  HostScheduler s;
  const int hosts = 100000;
  for (int i = 0; i < hosts; ++i) s.Intern(Origin(i));
  const double per_host = static_cast<double>(s.memory_bytes()) / hosts;
  EXPECT_LT(per_host, 200.0);
  std::cout << "an idle host: " << per_host << " bytes\n";
  EXPECT_EQ(s.hosts(), static_cast<size_t>(hosts));
}

}  // namespace
}  // namespace fanout
