// The hosts' queues and politeness, through the frontier's door, as the dispatcher drives them.
#include "crawler/host_queues.h"

#include <gtest/gtest.h>

#include <map>

#include "tests/support/status_matchers.h"

#include <iostream>
#include <string>

#include "crawler/connection_policy.h"
#include "crawler/crawl_waits.h"
#include "crawler/frontier.h"

namespace fanout {
namespace {

using Clock = Frontier::Clock;
using Kind = Frontier::Pick::Kind;

std::string Origin(int i) { return "http://h" + std::to_string(i) + ".localhost:8000"; }

// A frontier over the hosts *.localhost, a, b and c, with `limits`.
Frontier Make(HostLimits limits = {}) {
  Result<Frontier> f = Frontier::Create({.allowed_domains = {"localhost", "a", "b", "c"}}, -1, 0, {}, limits);
  EXPECT_OK(f);
  return std::move(f.value());
}

// Queues `url` at `depth`, as a link found on a page one level up.
void Queue(Frontier& f, const std::string& url, int depth = 1) {
  // As a sitemap's URL: queued here whatever the seen filter is unsure of.
  ASSERT_EQ(f.Offer(url, depth, "", Frontier::Source::kOther), Frontier::Verdict::kQueued) << url;
}

// Starts whatever the frontier says may go, as the dispatcher would, and ends its transfer at once
// unless `end` is false. Returns the URL (or "robots"/"turn"), "" when nothing may go.
std::string StartNext(Frontier& f, Clock::time_point now, bool end = true) {
  Frontier::Pick pick = f.Next(now, true);
  std::string what;
  switch (pick.kind) {
    case Kind::kNone: return "";
    case Kind::kRobots: what = "robots"; break;
    case Kind::kTurn: what = "turn"; break;
    case Kind::kUrl: what = pick.item.url; break;
    case Kind::kRobotsRefused: return "refused " + pick.item.url;
    case Kind::kFetchedAlready: return "fetched " + pick.item.url;
    case Kind::kResolve: return "resolve " + std::string(f.origin(pick.host));
    case Kind::kGivenUp: return "unresolvable " + pick.item.url;
  }
  if (end) f.EndTransfer(pick.host, now);
  return what;
}

TEST(HostQueues, AHostWhoseDelayHasNotPassedSleepsWhileOthersGo) {
  Frontier f = Make(HostLimits{.delay = 1.0});
  Queue(f, "http://a/1");
  Queue(f, "http://a/2");
  Queue(f, "http://b/1");
  const Clock::time_point t0 = Clock::now() + std::chrono::milliseconds(1);
  EXPECT_EQ(StartNext(f, t0), "http://a/1");
  EXPECT_EQ(StartNext(f, t0), "http://b/1");  // a waits for its delay; b goes on
  EXPECT_EQ(StartNext(f, t0), "");
  ASSERT_TRUE(f.NextWake().has_value());
  // a wakes one delay after its start, and the margin for the jitter on the way (2 ms and 2%, 20 ms
  // at most)
  EXPECT_EQ(*f.NextWake(), t0 + std::chrono::milliseconds(1020));
  EXPECT_EQ(StartNext(f, t0 + std::chrono::milliseconds(1019)), "");
  EXPECT_EQ(StartNext(f, t0 + std::chrono::milliseconds(1020)), "http://a/2");
}

TEST(HostQueues, PerHostLimitHoldsAHostUntilATransferEnds) {
  Frontier f = Make(HostLimits{.per_host = 2});
  for (int i = 0; i < 4; ++i) Queue(f, "http://a/" + std::to_string(i));
  const Clock::time_point now = Clock::now();
  EXPECT_EQ(StartNext(f, now, false), "http://a/0");
  EXPECT_EQ(StartNext(f, now, false), "http://a/1");
  EXPECT_EQ(StartNext(f, now, false), "");  // two in flight
  f.EndTransfer(f.HostIdOf("http://a"), now);
  EXPECT_EQ(StartNext(f, now, false), "http://a/2");
  EXPECT_EQ(StartNext(f, now, false), "");  // two in flight again
}

TEST(HostQueues, RobotsTxtGoesFirstAndTheHostWaitsForIt) {
  Frontier f = Make(HostLimits{.robots = true});
  Queue(f, "http://a/1");
  Queue(f, "http://a/2");
  const HostId a = f.HostIdOf("http://a");
  const Clock::time_point now = Clock::now();
  EXPECT_EQ(StartNext(f, now), "robots");
  EXPECT_EQ(StartNext(f, now), "");  // nothing else while its robots.txt is fetched
  f.KnowRobots(a, nullptr, 0.5, now);  // Crawl-delay: 0.5
  EXPECT_EQ(StartNext(f, now), "");   // and the first page waits that long after robots.txt
  EXPECT_EQ(StartNext(f, now + std::chrono::milliseconds(500)), "http://a/1");
  EXPECT_EQ(StartNext(f, now + std::chrono::milliseconds(1011)), "");  // 0.5 s, 2 ms and 2% after a/1
  EXPECT_EQ(StartNext(f, now + std::chrono::milliseconds(1012)), "http://a/2");
}

TEST(HostQueues, AUrlRobotsTxtRefusesIsHandedOutAsRefusedAndStartsNothing) {
  Frontier f = Make(HostLimits{.per_host = 1, .robots = true});
  Queue(f, "http://a/private/x");
  Queue(f, "http://a/public");
  const HostId a = f.HostIdOf("http://a");
  const Clock::time_point now = Clock::now();
  EXPECT_EQ(StartNext(f, now), "robots");
  f.KnowRobots(a, std::make_shared<RobotsTxt>(RobotsTxt::Parse("User-agent: *\nDisallow: /private/\n", "fanout")),
               std::nullopt, now);
  const Frontier::Pick refused = f.Next(now, true);
  ASSERT_EQ(refused.kind, Kind::kRobotsRefused);
  EXPECT_EQ(refused.item.url, "http://a/private/x");
  EXPECT_FALSE(refused.robots.allowed);
  // Nothing was booked for it: the host's one slot is free for the next URL.
  EXPECT_EQ(StartNext(f, now, /*end=*/false), "http://a/public");
}

TEST(HostQueues, ATurnGoesBeforeNewUrlsAndBreadthFirstOrderHolds) {
  Frontier f = Make();
  Queue(f, "http://a/deep", 3);
  Queue(f, "http://b/shallow", 1);
  Queue(f, "http://a/shallow", 1);
  HostTurn turn;
  const HostId a = f.HostIdOf("http://a");
  turn.host = a;
  f.AskTurn(&turn, a);
  const Clock::time_point now = Clock::now();
  const Frontier::Pick pick = f.Next(now, true);
  ASSERT_EQ(pick.kind, Kind::kTurn);
  EXPECT_EQ(pick.turn, &turn);
  f.EndTransfer(pick.host, now);
  // Equal depth: the host served least recently first (b), then a's shallow, then the deep one.
  EXPECT_EQ(StartNext(f, now), "http://b/shallow");
  EXPECT_EQ(StartNext(f, now), "http://a/shallow");
  EXPECT_EQ(StartNext(f, now), "http://a/deep");
  EXPECT_EQ(f.busy_hosts(), 0u);
}

TEST(HostQueues, AWithdrawnTurnIsNeverHandedOut) {
  Frontier f = Make();
  HostTurn turn;
  const HostId a = f.HostIdOf("http://a");
  turn.host = a;
  f.AskTurn(&turn, a);
  f.Withdraw(&turn, a);
  EXPECT_EQ(StartNext(f, Clock::now()), "");
  EXPECT_TRUE(f.idle(a));
}

TEST(HostQueues, APausedHostSendsNothingUntilResumedAndThenNotBeforeItsTime) {
  Frontier f = Make();
  Queue(f, "http://a/1");
  const HostId a = f.HostIdOf("http://a");
  EXPECT_EQ(f.PauseHost(a), 1u);  // its queued URL dropped: another worker has the host
  Queue(f, "http://a/2");
  const Clock::time_point now = Clock::now();
  EXPECT_EQ(StartNext(f, now), "");
  f.ResumeHost(a, now + std::chrono::seconds(1));
  EXPECT_EQ(StartNext(f, now), "");
  EXPECT_EQ(StartNext(f, now + std::chrono::seconds(1)), "http://a/2");
}

// The cost of a request is the heap work of the hosts that change, not a look at every host: idle
// hosts cost nothing, and 100,000 busy hosts cost a logarithm more than 10.
TEST(HostQueues, CostPerRequestDoesNotGrowWithIdleHostsAndOnlyLogarithmicallyWithBusyOnes) {
  auto steps_per_request = [](int busy, int idle) {
    Frontier f = Make();
    for (int i = 0; i < idle; ++i) f.HostIdOf(Origin(busy + i));  // known, nothing queued
    for (int i = 0; i < busy; ++i) {
      Queue(f, Origin(i) + "/a");
      Queue(f, Origin(i) + "/b");
    }
    const uint64_t before = f.heap_steps();
    const Clock::time_point now = Clock::now();
    const int requests = 2000;
    for (int i = 0; i < requests; ++i) {
      EXPECT_NE(StartNext(f, now), "");
      // A page found a link: the queue stays as full as it was.
      const int host = i % busy;
      Queue(f, Origin(host) + "/" + std::to_string(i), 2);
    }
    return static_cast<double>(f.heap_steps() - before) / requests;
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

TEST(HostQueues, AnIdleHostIsSmall) {
  Frontier f = Make();
  const int hosts = 100000;
  for (int i = 0; i < hosts; ++i) f.HostIdOf(Origin(i));
  const double per_host = static_cast<double>(f.host_memory_bytes()) / hosts;
  EXPECT_LT(per_host, 200.0);
  std::cout << "an idle host: " << per_host << " bytes\n";
  EXPECT_EQ(f.hosts(), static_cast<size_t>(hosts));
}

// kept_hosts 1: which host holds the one place for a kept connection says who kept it.
TEST(ConnectionPolicy, APageOfAnHttp2HostKeepsItsConnectionAndAHostThatEndsIdleGivesItsPlaceBack) {
  ConnectionPolicy p(/*kept_hosts=*/1);
  const HostId a = 0, b = 1;
  p.AddHost(a, /*https=*/false);
  p.AddHost(b, /*https=*/false);
  // a's page is the only thing it has: over HTTP/1.1 nothing is kept...
  EXPECT_FALSE(p.ShouldKeep(a, /*more=*/false, /*page=*/true));
  // ...over HTTP/2 the page's links, which may well come back, go over its one connection.
  p.SetMultiplexes(a, true);
  p.SetMultiplexes(b, true);
  EXPECT_TRUE(p.ShouldKeep(a, false, /*page=*/true));
  EXPECT_FALSE(p.ShouldKeep(a, false, /*page=*/false)) << "nothing else to send: robots.txt alone";
  EXPECT_TRUE(p.ShouldKeep(a, false, /*page=*/true));
  EXPECT_FALSE(p.ShouldKeep(b, false, /*page=*/true)) << "a holds the one place";
  p.PageDone(a, /*idle=*/false);
  EXPECT_FALSE(p.ShouldKeep(b, false, /*page=*/true)) << "a is not idle yet";
  p.PageDone(a, /*idle=*/true);  // a's page gave no links: a is idle
  EXPECT_TRUE(p.ShouldKeep(b, false, /*page=*/true));
}

TEST(ConnectionPolicy, AnHttpsHostIsTakenToMultiplexBeforeItsFirstAnswer) {
  Frontier f = Make();
  Queue(f, "https://a/1");
  Queue(f, "http://b/1");
  const Clock::time_point now = Clock::now();
  ASSERT_EQ(StartNext(f, now, false), "https://a/1");
  EXPECT_TRUE(f.KeepConnection(f.HostIdOf("https://a"), /*page=*/true));
  ASSERT_EQ(StartNext(f, now, false), "http://b/1");
  EXPECT_FALSE(f.KeepConnection(f.HostIdOf("http://b"), /*page=*/true));
  // Its answer came over HTTP/1.1: from now on a page alone keeps nothing there.
  f.EndTransfer(f.HostIdOf("https://a"), now, std::nullopt, /*http2=*/false);
  Queue(f, "https://a/2");
  ASSERT_EQ(StartNext(f, now, false), "https://a/2");
  EXPECT_FALSE(f.KeepConnection(f.HostIdOf("https://a"), /*page=*/true));
}

// ---- Names and addresses.

// A frontier whose hosts are looked up first, with `limits` per address.
Frontier MakeWithLookups(HostLimits limits = {}) {
  limits.lookups = true;
  return Make(limits);
}

// Answers the lookup the frontier asks for next with `address` (believed for `ttl` seconds).
void Answer(Frontier& f, Clock::time_point now, const std::string& origin, const std::string& address,
            double ttl = 300) {
  ASSERT_EQ(StartNext(f, now), "resolve " + origin);
  f.KnowAddress(f.HostIdOf(origin), address, address,
                now + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(ttl)), now);
}

// Takes the lookups of every host with a URL queued, then answers them all: origin -> address.
void AnswerAll(Frontier& f, Clock::time_point now, const std::map<std::string, std::string>& addresses) {
  for (size_t i = 0; i < addresses.size(); ++i) {
    const std::string what = StartNext(f, now);
    ASSERT_TRUE(what.starts_with("resolve ")) << what;
    ASSERT_TRUE(addresses.contains(what.substr(8))) << what;
  }
  for (const auto& [origin, address] : addresses) {
    f.KnowAddress(f.HostIdOf(origin), address, address, now + std::chrono::seconds(300), now);
  }
}

TEST(HostQueues, ARobotsTxtPastItsTtlIsFetchedAgainBeforeTheHostsNextRequest) {
  Frontier f = Make(HostLimits{.robots = true, .robots_ttl = 10});
  Queue(f, "http://a/1");
  Queue(f, "http://a/2");
  const Clock::time_point t0 = Clock::now() + std::chrono::milliseconds(1);
  ASSERT_EQ(StartNext(f, t0), "robots");
  f.KnowRobots(f.HostIdOf("http://a"), nullptr, std::nullopt, t0);
  EXPECT_EQ(StartNext(f, t0 + std::chrono::seconds(9)), "http://a/1");
  EXPECT_EQ(StartNext(f, t0 + std::chrono::seconds(10)), "robots") << "24 hours at most, RFC 9309 2.4 says";
  f.KnowRobots(f.HostIdOf("http://a"), nullptr, std::nullopt, t0 + std::chrono::seconds(10));
  EXPECT_EQ(StartNext(f, t0 + std::chrono::seconds(10)), "http://a/2");
}

TEST(HostAddresses, AHostIsLookedUpBeforeItsFirstRequestAndSendsNothingMeanwhile) {
  Frontier f = MakeWithLookups();
  Queue(f, "http://a/1");
  const Clock::time_point now = Clock::now() + std::chrono::milliseconds(1);
  EXPECT_EQ(StartNext(f, now), "resolve http://a");
  EXPECT_EQ(StartNext(f, now), "") << "its lookup is under way";
  f.KnowAddress(f.HostIdOf("http://a"), "10.0.0.1", "10.0.0.1", now + std::chrono::seconds(60), now);
  EXPECT_EQ(StartNext(f, now), "http://a/1");
  EXPECT_EQ(f.connect_address(f.HostIdOf("http://a")), "10.0.0.1");
}

TEST(HostAddresses, AnAnswerPastItsTtlIsLookedUpAgainBeforeTheNextRequest) {
  Frontier f = MakeWithLookups();
  Queue(f, "http://a/1");
  Queue(f, "http://a/2");
  const Clock::time_point now = Clock::now() + std::chrono::milliseconds(1);
  Answer(f, now, "http://a", "10.0.0.1", /*ttl=*/1);
  EXPECT_EQ(StartNext(f, now), "http://a/1");
  EXPECT_EQ(StartNext(f, now + std::chrono::seconds(2)), "resolve http://a");
}

TEST(HostAddresses, TwoHostsOnOneAddressShareItsPerIpLimit) {
  Frontier f = MakeWithLookups(HostLimits{.per_ip = 1});
  Queue(f, "http://a/1");
  Queue(f, "http://b/1");
  Queue(f, "http://c/1");
  const Clock::time_point now = Clock::now() + std::chrono::milliseconds(1);
  AnswerAll(f, now, {{"http://a", "10.0.0.1"}, {"http://b", "10.0.0.1"}, {"http://c", "10.0.0.2"}});
  EXPECT_EQ(StartNext(f, now, /*end=*/false), "http://a/1");
  EXPECT_EQ(StartNext(f, now, false), "http://c/1") << "b's address is busy with a; c's is not";
  EXPECT_EQ(StartNext(f, now, false), "") << "b waits, parked on its address";
  EXPECT_FALSE(f.NextWake().has_value()) << "a parked host waits for a transfer's end, not a time";
  f.EndTransfer(f.HostIdOf("http://a"), now);
  EXPECT_EQ(StartNext(f, now, false), "http://b/1");
  EXPECT_EQ(f.max_address_in_flight(), 1u);
}

TEST(HostAddresses, AnIpDelaySpacesTheStartsOfAllTheHostsOfAnAddress) {
  Frontier f = MakeWithLookups(HostLimits{.ip_delay = 1.0});
  Queue(f, "http://a/1");
  Queue(f, "http://b/1");
  const Clock::time_point t0 = Clock::now() + std::chrono::milliseconds(1);
  AnswerAll(f, t0, {{"http://a", "10.0.0.1"}, {"http://b", "10.0.0.1"}});
  EXPECT_EQ(StartNext(f, t0), "http://a/1");
  EXPECT_EQ(StartNext(f, t0), "") << "b has no delay of its own, but its address has";
  ASSERT_TRUE(f.NextWake().has_value());
  EXPECT_EQ(*f.NextWake(), t0 + std::chrono::milliseconds(1020));  // the delay and its margin
  EXPECT_EQ(StartNext(f, t0 + std::chrono::milliseconds(1019)), "");
  EXPECT_EQ(StartNext(f, t0 + std::chrono::milliseconds(1020)), "http://b/1");
}

TEST(HostAddresses, WithLeasedAddressesAHostSendsOnlyWhileItsAddressIsOpen) {
  Frontier f = MakeWithLookups(HostLimits{.per_ip = 2, .address_leases = true});
  std::vector<std::pair<HostId, std::string>> heard;
  f.ShareAddressesWith([&](HostId host, const std::string& key) { heard.emplace_back(host, key); });
  Queue(f, "http://a/1");
  Queue(f, "http://a/2");
  Queue(f, "http://b/1");
  const Clock::time_point t0 = Clock::now() + std::chrono::milliseconds(1);
  AnswerAll(f, t0, {{"http://a", "10.0.0.1"}, {"http://b", "10.0.0.2"}});
  EXPECT_EQ(heard, (std::vector<std::pair<HostId, std::string>>{{f.HostIdOf("http://a"), "10.0.0.1"},
                                                                {f.HostIdOf("http://b"), "10.0.0.2"}}));
  EXPECT_EQ(StartNext(f, t0), "") << "neither address is held yet";
  EXPECT_FALSE(f.NextWake().has_value()) << "a host on a closed address waits for it to open, not for a time";
  // Opened with the wait its last holder left: not before then.
  f.OpenAddress("10.0.0.1", t0 + std::chrono::seconds(1), t0);
  EXPECT_EQ(StartNext(f, t0), "");
  EXPECT_EQ(StartNext(f, t0 + std::chrono::seconds(1), /*end=*/false), "http://a/1");
  ASSERT_NE(f.address_key(f.HostIdOf("http://a")), nullptr);
  EXPECT_EQ(*f.address_key(f.HostIdOf("http://a")), "10.0.0.1");
  // Closed (given back, or lost): nothing more starts there, though its host has a URL left.
  f.CloseAddress("10.0.0.1");
  EXPECT_EQ(StartNext(f, t0 + std::chrono::seconds(1)), "");
  f.OpenAddress("10.0.0.2", t0, t0);
  EXPECT_EQ(StartNext(f, t0 + std::chrono::seconds(1)), "http://b/1");
  f.OpenAddress("10.0.0.1", t0, t0);
  EXPECT_EQ(StartNext(f, t0 + std::chrono::seconds(1)), "http://a/2");
}

TEST(HostAddresses, AHostGivenUpHandsItsUrlsOutAsUnresolvable) {
  Frontier f = MakeWithLookups();
  Queue(f, "http://a/1");
  Queue(f, "http://a/2");
  const Clock::time_point now = Clock::now() + std::chrono::milliseconds(1);
  ASSERT_EQ(StartNext(f, now), "resolve http://a");
  f.LookupFailed(f.HostIdOf("http://a"), "dns-nxdomain", "a: no such host", std::nullopt, now);
  EXPECT_EQ(StartNext(f, now), "unresolvable http://a/1");
  EXPECT_EQ(StartNext(f, now), "unresolvable http://a/2");
  ASSERT_NE(f.given_up(f.HostIdOf("http://a")), nullptr);
  EXPECT_EQ(f.given_up(f.HostIdOf("http://a"))->kind, "dns-nxdomain");
}

TEST(HostAddresses, ALookupThatMayPassIsAskedAgainAfterItsBackOff) {
  Frontier f = MakeWithLookups();
  Queue(f, "http://a/1");
  const Clock::time_point now = Clock::now() + std::chrono::milliseconds(1);
  ASSERT_EQ(StartNext(f, now), "resolve http://a");
  f.LookupFailed(f.HostIdOf("http://a"), "dns-timeout", "a: no answer", now + std::chrono::seconds(2), now);
  EXPECT_EQ(StartNext(f, now + std::chrono::seconds(1)), "");
  EXPECT_EQ(StartNext(f, now + std::chrono::seconds(2)), "resolve http://a");
}

}  // namespace
}  // namespace fanout
