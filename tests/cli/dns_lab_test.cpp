// fanout crawl in the web lab (scripts/weblab.sh): a web named by a real resolver (dnsmasq) in
// network namespaces of the test's own, the crawler resolving through /etc/resolv.conf as on the
// real web. Counted at the resolver's query log and at the web's per-address counters, never from
// the crawler's own report. Root needed: without it these tests fail, saying so.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/support/sqlite_query.h"
#include "tests/support/poll.h"
#include "tests/support/temp_dir.h"
#include "tests/support/weblab.h"

namespace fanout {
namespace {

using test::DnsQuery;
using test::WebLab;

int Asked(const std::vector<DnsQuery>& queries, const std::string& name, const std::string& type) {
  return static_cast<int>(std::count_if(queries.begin(), queries.end(),
                                        [&](const DnsQuery& q) { return q.name == name && q.type == type; }));
}

class DnsLab : public ::testing::TestWithParam<std::string> {
 protected:
  std::vector<std::string> Crawl(const WebLab& lab, std::vector<std::string> more = {}, int concurrency = 8) {
    std::vector<std::string> args = {FANOUT_BINARY, "crawl", lab.Fact("SEED"), "--allow-domain", "web.test",
                                     "--db", dir_.File("crawl.db"), "--quiet", "--mode", GetParam(),
                                     "-c", std::to_string(concurrency), "--per-host", "2", "--retries", "1", "--retry-delay", "0.2",
                                     "--dns-timeout", "1"};
    args.insert(args.end(), more.begin(), more.end());
    return lab.InCrawler(args);
  }
  int64_t Count(const std::string& sql) { return test::QueryInt(dir_.File("crawl.db"), sql); }
  test::TempDir dir_;
};

TEST_P(DnsLab, EachNameIsAskedOncePerFamilyAndTheHostsThatDoNotResolveAreSkippedWithTheReason) {
  WebLab lab({.hosts = 24, .pages = 4, .ips = 3, .nxdomain = 0.1, .servfail = 0.1, .ipv6_only = 1,
              .serve_args = {"--latency", "20"}});
  ASSERT_TRUE(lab.up()) << lab.why();
  test::ProcessResult r = test::RunProcess(Crawl(lab, {"--per-ip", "1"}), 120000);
  ASSERT_EQ(r.exit_code, 0) << r.err;

  const std::vector<DnsQuery> queries = lab.Queries();
  int hosts = 0;
  for (const auto& [name, kind] : lab.NameKinds()) {
    if (name.rfind("h", 0) != 0) continue;  // nosuch, servfail, silent: linked from nowhere
    ++hosts;
    const std::string like = "'http://" + name + "/%'";
    if (kind == "a" || kind == "aaaa") {
      EXPECT_EQ(Asked(queries, name, "A"), 1) << name;
      EXPECT_EQ(Asked(queries, name, "AAAA"), 1) << name;
      EXPECT_GE(Count("SELECT count(*) FROM pages WHERE status = 200 AND url LIKE " + like), 1) << name << " (" << kind << ")";
    } else if (kind == "nxdomain") {
      EXPECT_EQ(Asked(queries, name, "A"), 1) << name << ": a name that does not exist is asked once";
      EXPECT_GE(Count("SELECT count(*) FROM skipped WHERE reason = 'dns-nxdomain' AND url LIKE " + like), 1) << name;
      // fanout why says what happened to its URLs, in words.
      test::ProcessResult why = test::RunProcess({FANOUT_BINARY, "why", "http://" + name + "/", "--db", dir_.File("crawl.db")});
      EXPECT_NE(why.out.find("not fetched: dns-nxdomain: its host does not exist (NXDOMAIN) (" + name + ": no such host"),
                std::string::npos) << why.out << why.err;
    } else if (kind == "servfail") {
      // A lookup and one retry (--retries 1); c-ares may ask twice within a lookup.
      EXPECT_GE(Asked(queries, name, "A"), 2) << name;
      EXPECT_LE(Asked(queries, name, "A"), 4) << name;
      EXPECT_GE(Count("SELECT count(*) FROM skipped WHERE reason = 'dns-servfail' AND url LIKE " + like), 1) << name;
    }
  }
  EXPECT_EQ(hosts, 24);
  EXPECT_EQ(Count("SELECT count(*) FROM pages WHERE url NOT LIKE 'http://h%.web.test/%'"), 0);
  // --per-ip 1, as the web saw it: never two requests at once on one address.
  nlohmann::json ips = nlohmann::json::parse(lab.IpsJson())["ips"];
  ASSERT_EQ(ips.size(), 4u);
  for (const auto& ip : ips) {
    EXPECT_LE(ip["max_in_flight"].get<int>(), 1) << ip.dump();
    if (ip["address"] != "fd00:204::10") {
      EXPECT_GT(ip["requests"].get<int>(), 0) << ip.dump();
    }
  }
  EXPECT_GT(ips[3]["requests"].get<int>(), 0) << "the IPv6-only host was crawled over IPv6";
}

INSTANTIATE_TEST_SUITE_P(Modes, DnsLab, ::testing::Values("async", "threads", "sync"),
                         [](const auto& info) { return info.param; });

class DnsLabResume : public DnsLab {};

TEST_P(DnsLabResume, AResolverLostMidCrawlFailsTheHostsItWouldNameAndResumeFinishesThem) {
  WebLab lab({.hosts = 30, .pages = 4, .ips = 2, .serve_args = {"--latency", "100"}});
  ASSERT_TRUE(lab.up()) << lab.why();
  test::Subprocess crawl(Crawl(lab, {}, /*concurrency=*/4));
  // Once the crawl is under way, and before it has found every host, the resolver goes.
  ASSERT_TRUE(test::PollUntil(20, [&] {
    const std::string json = lab.IpsJson();
    if (json.empty()) return false;
    const nlohmann::json ips = nlohmann::json::parse(json);
    int requests = 0;
    for (const auto& ip : ips["ips"]) requests += ip["requests"].get<int>();
    return requests >= 12;
  })) << crawl.Wait(1000).err << lab.IpsJson();
  ASSERT_TRUE(lab.CutResolver());
  test::ProcessResult first = crawl.Wait(120000);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const int64_t pages = Count("SELECT count(*) FROM pages");
  const int64_t lost = Count("SELECT count(*) FROM skipped WHERE reason = 'dns-timeout'");
  EXPECT_GT(pages, 0);
  EXPECT_GT(lost, 0) << "hosts looked up after the cut";
  EXPECT_EQ(Count("SELECT count(*) FROM pages WHERE status <> 200"), 0) << "no page was lost to the cut";

  ASSERT_TRUE(lab.HealResolver());
  test::ProcessResult resumed = test::RunProcess(Crawl(lab, {"--resume"}), 120000);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_GT(Count("SELECT count(*) FROM pages"), pages);
  EXPECT_EQ(Count("SELECT count(DISTINCT url) FROM pages"), Count("SELECT count(*) FROM pages")) << "fetched twice";
  // Every host of the web, and every page the resumed crawl could reach, is in: nothing was left out.
  EXPECT_EQ(Count("SELECT count(DISTINCT substr(url, 1, instr(substr(url, 8), '/') + 7)) FROM pages"), 30);
  EXPECT_EQ(Count("SELECT count(*) FROM frontier"), 0) << "links followed but never fetched";
}

INSTANTIATE_TEST_SUITE_P(Async, DnsLabResume, ::testing::Values("async"), [](const auto& info) { return info.param; });

}  // namespace
}  // namespace fanout
