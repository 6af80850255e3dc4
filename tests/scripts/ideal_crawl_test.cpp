// scripts/ideal_crawl.py, run by Debian's /usr/bin/python3 against an in-process server: its
// ideal wall times for graphs small enough to work out by hand, and what it read from the server.
#include <gtest/gtest.h>

#include <regex>
#include <string>

#include "tests/support/status_matchers.h"
#include "tests/support/subprocess.h"
#include "testsite/server.h"

namespace fanout::test {
namespace {

using testsite::ServerOptions;
using testsite::SiteServer;

const std::string kScript = std::string(FANOUT_SOURCE_DIR) + "/scripts/ideal_crawl.py";

struct Ideal {
  double seconds = -1;
  long pages = -1;
  long hosts = -1;
};

std::unique_ptr<SiteServer> Serve(uint64_t pages, int links, std::optional<testsite::SyntheticWebOptions> web,
                                  std::vector<std::string> more_hosts = {}, size_t ips = 0) {
  ServerOptions o;
  o.more_hosts = std::move(more_hosts);
  o.ips = ips;
  o.synthetic = testsite::SyntheticOptions{.pages = pages, .links = links, .page_bytes = 1000, .seed = 4};
  o.web = web;
  auto server = SiteServer::Create(o);
  EXPECT_OK(server);
  if (!server.ok()) return nullptr;
  (*server)->Start();
  return std::move(server.value());
}

Ideal RunScript(const std::string& url, const std::vector<std::string>& flags) {
  std::vector<std::string> argv = {"/usr/bin/python3", kScript, url};
  argv.insert(argv.end(), flags.begin(), flags.end());
  ProcessResult r = RunProcess(argv, 60000);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::smatch m;
  Ideal ideal;
  if (std::regex_match(r.out, m, std::regex(R"(ideal_seconds ([0-9.]+) pages ([0-9]+) hosts ([0-9]+)\n)"))) {
    ideal = {std::stod(m[1]), std::stol(m[2]), std::stol(m[3])};
  } else {
    ADD_FAILURE() << "output: " << r.out << "\n" << r.err;
  }
  return ideal;
}

// Three pages, each linking the next in its tree: robots.txt at 0 (ends 0.1), "/" waits the
// 1 s delay (1.0-1.1), then p1 at 2.0 and p2, found on p1, at 3.0: done at 3.1. Without a delay
// and two transfers a host, the chain alone counts: four requests of 0.1 s.
TEST(IdealCrawlScript, TimesAChainAsWorkedOutByHand) {
  auto server = Serve(3, 2, std::nullopt);
  ASSERT_TRUE(server);
  Ideal delayed = RunScript(server->url(), {"--delay", "1", "--latency", "0.1", "--per-host", "1"});
  EXPECT_NEAR(delayed.seconds, 3.1, 1e-6);
  EXPECT_EQ(delayed.pages, 3);
  EXPECT_EQ(delayed.hosts, 1);
  EXPECT_NEAR(RunScript(server->url(), {"--delay", "0", "--latency", "0.1", "--per-host", "2"}).seconds, 0.4, 1e-6);
}

// One transfer at a time: every robots.txt and every page one after another.
TEST(IdealCrawlScript, OneSlotMakesEveryRequestWait) {
  auto server = Serve(2, 4, testsite::SyntheticWebOptions{.hosts = 50});
  ASSERT_TRUE(server);
  Ideal ideal = RunScript(server->url(), {"--concurrency", "1", "--latency", "0.05"});
  EXPECT_EQ(ideal.pages, 100);
  EXPECT_EQ(ideal.hosts, 50);
  EXPECT_NEAR(ideal.seconds, (100 + 50) * 0.05, 1e-6);
  // It read each host's robots.txt once and each page once, and nothing else.
  for (uint64_t h : {0, 17, 49}) {
    EXPECT_EQ(server->HostStatsOf(h)->robots_fetches, 1u) << h;
    EXPECT_EQ(server->HostStatsOf(h)->pages, 2u) << h;
  }
  EXPECT_EQ(server->stats().by_status[421], 0u);
}

// robots.txt obeyed and redirects followed: the pages it simulates are the requests a polite
// crawl makes, which its own reading of the web made too.
TEST(IdealCrawlScript, ObeysTheRobotsMixAndFollowsRedirects) {
  auto server = Serve(6, 4, testsite::SyntheticWebOptions{.hosts = 300, .robots_mix = true, .cross_redirects = true});
  ASSERT_TRUE(server);
  Ideal ideal = RunScript(server->url(), {"--concurrency", "64", "--delay", "0.1", "--latency", "0.02"});
  uint64_t pages = 0, redirects = 0, closed = 0;
  for (const testsite::HostStats& h : server->ActiveHostStats()) {
    pages += h.pages;
    redirects += h.cross_redirects;
    closed += h.robots == "503";
  }
  EXPECT_GT(redirects, 0u);
  EXPECT_GT(closed, 0u);
  EXPECT_EQ(ideal.pages, static_cast<long>(pages + redirects));
  EXPECT_LT(ideal.pages, 300 * 6);  // disallowed pages and closed hosts are not fetched
  EXPECT_EQ(ideal.hosts, 300);
  EXPECT_GT(ideal.seconds, 0.2);    // a crawl-delay of 0.2 s and more than one page on some host
}

// 50 hosts x 2 pages, 150 requests of 0.05 s with room for all at once: on one address that takes
// one request at a time they go one after another; one that starts one every 0.2 s spaces them;
// and with every host on an address of its own, --per-ip 1 is --per-host 1 again.
TEST(IdealCrawlScript, BooksEachAddressBesideEachHost) {
  auto server = Serve(2, 4, testsite::SyntheticWebOptions{.hosts = 50});
  ASSERT_TRUE(server);
  const std::vector<std::string> wide = {"--concurrency", "64", "--per-host", "2", "--latency", "0.05"};
  auto with = [&](std::vector<std::string> flags) {
    flags.insert(flags.begin(), wide.begin(), wide.end());
    return RunScript(server->url(), flags);
  };
  Ideal one_at_a_time = with({"--per-ip", "1"});  // --ips 1 by default: every host on one address
  EXPECT_EQ(one_at_a_time.pages, 100);
  EXPECT_NEAR(one_at_a_time.seconds, 150 * 0.05, 1e-6);
  EXPECT_NEAR(with({"--ip-delay", "0.2", "--ips", "1"}).seconds, 149 * 0.2 + 0.05, 1e-6);
  EXPECT_NEAR(with({"--per-ip", "1", "--ips", "50"}).seconds,
              RunScript(server->url(), {"--concurrency", "64", "--per-host", "1", "--latency", "0.05"}).seconds, 1e-6);
  EXPECT_LT(with({}).seconds, with({"--per-ip", "2", "--ips", "10"}).seconds);
}

// A web under a domain of its own on two addresses, host i on the (i mod 2)-th (fanout serve
// --domain web.test --ips 2): given both, it asks each host where it is served, and reads it all.
TEST(IdealCrawlScript, ReadsAWebOfAnyDomainOnTheAddressesGiven) {
  auto server = Serve(2, 4, testsite::SyntheticWebOptions{.hosts = 20, .domain = "web.test"}, {"127.0.0.2"}, 2);
  ASSERT_TRUE(server);
  ASSERT_NE(server->url().find("h0.web.test"), std::string::npos) << server->url();
  Ideal ideal = RunScript(server->url(), {"--connect", "127.0.0.1,127.0.0.2", "--concurrency", "1"});
  EXPECT_EQ(ideal.pages, 40);
  EXPECT_EQ(ideal.hosts, 20);
  EXPECT_EQ(server->stats().by_status[421], 0u);
  // Without --connect a name is not resolved: a usage error, and nothing asked.
  ProcessResult r = RunProcess({"/usr/bin/python3", kScript, server->url()}, 30000);
  EXPECT_EQ(r.exit_code, 2) << r.err;
}

TEST(IdealCrawlScript, RefusesAnythingButLoopback) {
  for (const char* url : {"http://example.com/", "http://10.0.0.1:8080/", "https://127.0.0.1/", "ftp://h0.localhost/"}) {
    ProcessResult r = RunProcess({"/usr/bin/python3", kScript, url}, 30000);
    EXPECT_EQ(r.exit_code, 2) << url << "\n" << r.err;
    EXPECT_TRUE(r.out.empty()) << url;
  }
  // --connect takes loopback and the web lab's IPv4 LAN (10.204.0.0/24) only.
  for (const char* address : {"10.0.0.1", "192.168.1.1", "10.204.1.1", "fd00:204::10", "2001:db8::1", "example.com"}) {
    ProcessResult r = RunProcess({"/usr/bin/python3", kScript, "http://h0.web.test/", "--connect", address}, 30000);
    EXPECT_EQ(r.exit_code, 2) << address << "\n" << r.err;
  }
}

}  // namespace
}  // namespace fanout::test
