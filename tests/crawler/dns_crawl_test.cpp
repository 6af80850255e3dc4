// Crawls that resolve names through a real DNS server (dnsmasq on loopback, --dns-server), in all
// three modes: what the resolver was asked (its query log), and what the server saw (politeness
// per address). The names all lead to 127.0.0.1, where one synthetic site answers every Host.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "crawler/crawl.h"
#include "tests/support/crawl_fixture.h"
#include "tests/support/dnsmasq.h"

namespace fanout {
namespace {

class DnsCrawl : public test::CrawlFixture, public ::testing::WithParamInterface<CrawlMode> {
 protected:
  CrawlOptions Options(const test::Dnsmasq& dns, const std::vector<std::string>& names, uint16_t port) {
    CrawlOptions o;
    for (const std::string& name : names) o.seeds.push_back("http://" + name + ":" + std::to_string(port) + "/");
    o.mode = GetParam();
    o.concurrency = 8;
    o.per_host = 2;
    o.threads = 2;
    o.dns.servers = dns.server();
    o.dns.timeout = 1;
    o.retry_delay = 0.2;
    return o;
  }
};

TEST_P(DnsCrawl, EachNameIsAskedOncePerFamilyAndANameThatDoesNotExistOnce) {
  test::Dnsmasq dns({.names = {{"a.test", "127.0.0.1"}, {"b.test", "127.0.0.1"}, {"c.test", "127.0.0.1"}}});
  ASSERT_TRUE(dns.ok());
  auto site = Serve(Synthetic(20, 6, 10));
  CrawlSummary s = CrawlInto(Options(dns, {"a.test", "b.test", "c.test", "gone.test"}, site->port()));
  EXPECT_EQ(s.pages, 3 * 20);
  for (const char* name : {"a.test", "b.test", "c.test", "gone.test"}) {
    EXPECT_EQ(dns.Count("A", name), 1) << name;
    EXPECT_EQ(dns.Count("AAAA", name), 1) << name;
  }
  EXPECT_EQ(s.dns.lookups, 4);
  EXPECT_EQ(s.dns.hosts_failed, 1);
  EXPECT_EQ(Count("SELECT count(*) FROM skipped WHERE reason = 'dns-nxdomain' AND url LIKE 'http://gone.test:%'"), 1);
  EXPECT_EQ(site->stats().requests, 3u * (20 + 1)) << "nothing was sent for gone.test";
}

TEST_P(DnsCrawl, PerIpHoldsAcrossTheHostsOfOneAddress) {
  test::Dnsmasq dns({.names = {{"a.test", "127.0.0.1"}, {"b.test", "127.0.0.1"}, {"c.test", "127.0.0.1"}}});
  ASSERT_TRUE(dns.ok());
  auto site = Serve(Synthetic(20, 6, 20));
  CrawlOptions o = Options(dns, {"a.test", "b.test", "c.test"}, site->port());
  o.per_ip = 2;  // three hosts of two each would be six at once
  CrawlSummary s = CrawlInto(o);
  EXPECT_EQ(s.pages, 3 * 20);
  EXPECT_LE(site->stats().max_in_flight, 2u);
  if (GetParam() != CrawlMode::kSync) {
    EXPECT_EQ(site->stats().max_in_flight, 2u) << "the limit, not less";
  }
}

TEST_P(DnsCrawl, IpDelaySpacesTheRequestsOfAllTheHostsOfOneAddress) {
  test::Dnsmasq dns({.names = {{"a.test", "127.0.0.1"}, {"b.test", "127.0.0.1"}}});
  ASSERT_TRUE(dns.ok());
  auto site = Serve(Synthetic(6, 6));
  CrawlOptions o = Options(dns, {"a.test", "b.test"}, site->port());
  o.ip_delay = 0.1;
  CrawlSummary s = CrawlInto(o);
  EXPECT_GE(s.pages, 2 * 4);
  std::vector<testsite::LogEntry> log = site->log();
  ASSERT_EQ(static_cast<int64_t>(log.size()), s.pages + 2) << "the pages and two robots.txt";
  // As in politeness_test: the server sees each start a little later, by up to 25 ms.
  for (size_t i = 1; i < log.size(); ++i) {
    EXPECT_GE(log[i].received - log[i - 1].received, 0.1 - 0.025) << log[i].host << log[i].target;
  }
}

TEST_P(DnsCrawl, ANameThatNeverAnswersTimesOutWithoutHoldingTheOthers) {
  test::Dnsmasq dns({.names = {{"a.test", "127.0.0.1"}}, .silent = {"hole.test"}});
  ASSERT_TRUE(dns.ok());
  auto site = Serve(Synthetic(20, 6));
  CrawlOptions o = Options(dns, {"hole.test", "a.test"}, site->port());
  o.retries = 1;
  CrawlSummary s = CrawlInto(o);
  EXPECT_EQ(s.pages, 20);
  EXPECT_EQ(Count("SELECT count(*) FROM skipped WHERE reason = 'dns-timeout'"), 1);
  // A lookup and one retry, each c-ares's two tries at most, then given up.
  EXPECT_GE(dns.Count("A", "hole.test"), 2);
  EXPECT_LE(dns.Count("A", "hole.test"), 4);
  ASSERT_FALSE(site->log().empty());
  // The sync mode does one thing at a time by design: its one thread waits for the lookup.
  if (GetParam() != CrawlMode::kSync) {
    EXPECT_LT(site->log().front().received, 0.9) << "a.test waited for the silent name's --dns-timeout";
  }
}

TEST_P(DnsCrawl, AnAnswerPastItsTtlIsAskedAgain) {
  test::Dnsmasq dns({.names = {{"a.test", "127.0.0.1"}}, .ttl = 1});
  ASSERT_TRUE(dns.ok());
  auto site = Serve(Synthetic(8, 6));
  CrawlOptions o = Options(dns, {"a.test"}, site->port());
  o.dns.min_ttl = 1;
  o.delay = 0.3;  // 9 requests: 2.4 s, past the TTL twice
  CrawlSummary s = CrawlInto(o);
  EXPECT_EQ(s.pages, 8);
  EXPECT_GE(dns.Count("A", "a.test"), 2);
  EXPECT_LE(dns.Count("A", "a.test"), 4) << "once a second at most";
}

INSTANTIATE_TEST_SUITE_P(Modes, DnsCrawl, ::testing::Values(CrawlMode::kAsync, CrawlMode::kThreads, CrawlMode::kSync),
                         [](const auto& info) { return std::string(CrawlModeName(info.param)); });

}  // namespace
}  // namespace fanout
