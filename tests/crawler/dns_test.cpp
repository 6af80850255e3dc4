// Name lookups: what is answered without a query, what the crawl keeps and for how long, and the
// resolver on the event loop against a real DNS server (dnsmasq on loopback), counted at its log.
#include "crawler/dns.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "crawler/dns_cache.h"
#include "crawler/loop_resolver.h"
#include "tests/support/dnsmasq.h"
#include "tests/support/event_loop.h"

namespace fanout {
namespace {

using std::chrono::seconds;

TEST(AnswerLocally, IpLiteralsLocalhostAndPinnedNamesNeedNoQuery) {
  DnsAnswer a;
  ASSERT_TRUE(AnswerLocally("10.1.2.3", 80, {}, a));
  EXPECT_EQ(a.address(), "10.1.2.3");
  ASSERT_TRUE(AnswerLocally("[::1]", 80, {}, a));
  EXPECT_EQ(a.address(), "::1");
  ASSERT_TRUE(AnswerLocally("h7.localhost", 80, {}, a));
  EXPECT_EQ(a.address(), "127.0.0.1");
  ASSERT_TRUE(AnswerLocally("Example.COM", 8080, {"example.com:8080:10.0.0.9,10.0.0.10"}, a));
  EXPECT_EQ(a.ipv4, (std::vector<std::string>{"10.0.0.9", "10.0.0.10"}));
  EXPECT_FALSE(AnswerLocally("example.com", 80, {"example.com:8080:10.0.0.9"}, a)) << "another port";
  ASSERT_TRUE(AnswerLocally("example.com", 80, {"example.com:*:[fd00::1]"}, a));
  EXPECT_EQ(a.address(), "fd00::1");
  EXPECT_FALSE(AnswerLocally("example.com", 80, {}, a));
}

TEST(CheckPin, SaysWhatIsWrongWithAResolveEntry) {
  EXPECT_EQ(CheckPin("a.test:80:10.0.0.1"), "");
  EXPECT_EQ(CheckPin("a.test:*:10.0.0.1,[fd00::2]"), "");
  EXPECT_NE(CheckPin("a.test:80"), "");
  EXPECT_NE(CheckPin("a.test:http:10.0.0.1"), "");
  EXPECT_NE(CheckPin("a.test:80:not-an-address"), "");
}

DnsAnswer Ok(double ttl) {
  DnsAnswer a;
  a.ipv4 = {"10.0.0.1"};
  a.ttl = ttl;
  return a;
}

DnsAnswer Failed(DnsAnswer::Kind kind) {
  DnsAnswer a;
  a.kind = kind;
  return a;
}

TEST(DnsCache, KeepsAnAnswerForItsTtlWithinTheClamp) {
  DnsCache cache(DnsOptions{.min_ttl = 60, .max_ttl = 3600});
  const CrawlClock::time_point now = CrawlClock::now();
  EXPECT_EQ(cache.Keep("short", Ok(5), now), now + seconds(60)) << "raised to the minimum";
  EXPECT_EQ(cache.Keep("long", Ok(86400), now), now + seconds(3600)) << "cut to the maximum";
  EXPECT_EQ(cache.Keep("mid", Ok(120), now), now + seconds(120));
  EXPECT_NE(cache.Find("mid", now + seconds(119)), nullptr);
  EXPECT_EQ(cache.Find("mid", now + seconds(120)), nullptr);
}

TEST(DnsCache, KeepsANameThatDoesNotExistButNotAFailureThatMayPass) {
  DnsCache cache(DnsOptions{.min_ttl = 60, .max_ttl = 3600, .negative_ttl = 300});
  const CrawlClock::time_point now = CrawlClock::now();
  EXPECT_EQ(cache.Keep("gone", Failed(DnsAnswer::Kind::kNxDomain), now), now + seconds(300));
  ASSERT_NE(cache.Find("gone", now), nullptr);
  EXPECT_EQ(cache.Find("gone", now)->answer.kind, DnsAnswer::Kind::kNxDomain);
  EXPECT_EQ(cache.Keep("busy", Failed(DnsAnswer::Kind::kServFail), now), now);
  EXPECT_EQ(cache.Find("busy", now), nullptr);
  EXPECT_EQ(cache.Keep("cut", Failed(DnsAnswer::Kind::kTimeout), now), now);
  EXPECT_EQ(cache.Find("cut", now), nullptr);
}

TEST(DnsCache, ASecondHostOfANameJoinsTheLookupUnderWay) {
  DnsCache cache(DnsOptions{});
  EXPECT_TRUE(cache.Join("a.test", 1));
  EXPECT_FALSE(cache.Join("a.test", 2));
  EXPECT_FALSE(cache.Join("a.test", 3));
  EXPECT_TRUE(cache.Join("b.test", 4)) << "another name";
  EXPECT_EQ(cache.Finish("a.test", 1), (std::vector<HostId>{1, 2, 3}));
  EXPECT_TRUE(cache.Join("a.test", 5)) << "nothing under way any more";
}

// The loop resolver against dnsmasq: `names` resolved at once on one loop, answers by name.
std::map<std::string, DnsAnswer> ResolveAll(const test::Dnsmasq& dns, const std::vector<std::string>& names,
                                            DnsOptions options = {}) {
  std::map<std::string, DnsAnswer> answers;
  std::unique_ptr<EventLoop> loop = test::MakeLoop();
  options.servers = dns.server();
  Result<std::unique_ptr<LoopResolver>> resolver = LoopResolver::Create(*loop, options);
  EXPECT_TRUE(resolver.ok()) << resolver.status().ToString();
  if (!resolver.ok()) return answers;
  for (const std::string& name : names) {
    loop->Spawn([](LoopResolver& r, std::string n, std::map<std::string, DnsAnswer>& out) -> Task<void> {
      out[n] = co_await r.Resolve(n);
    }(**resolver, name, answers));
  }
  loop->Run();
  return answers;
}

TEST(LoopResolver, AsksARealServerOnceForEachFamilyAndReadsItsAnswer) {
  test::Dnsmasq dns({.names = {{"a.test", "10.9.8.7"}, {"six.test", "fd00::7"}}, .ttl = 120});
  ASSERT_TRUE(dns.ok());
  std::map<std::string, DnsAnswer> answers = ResolveAll(dns, {"a.test", "six.test"});
  ASSERT_TRUE(answers["a.test"].ok()) << answers["a.test"].error;
  EXPECT_EQ(answers["a.test"].address(), "10.9.8.7");
  EXPECT_EQ(answers["a.test"].ttl, 120);
  ASSERT_TRUE(answers["six.test"].ok()) << answers["six.test"].error;
  EXPECT_EQ(answers["six.test"].address(), "fd00::7") << "an IPv6-only name";
  EXPECT_EQ(dns.Count("A", "a.test"), 1);
  EXPECT_EQ(dns.Count("AAAA", "a.test"), 1);
}

TEST(LoopResolver, TellsANameThatDoesNotExistFromAResolverThatFailsOrNeverAnswers) {
  test::Dnsmasq dns({.names = {{"a.test", "10.9.8.7"}}, .servfail = {"broken.test"}, .silent = {"hole.test"}});
  ASSERT_TRUE(dns.ok());
  const auto started = std::chrono::steady_clock::now();
  std::map<std::string, DnsAnswer> answers =
      ResolveAll(dns, {"hole.test", "gone.test", "broken.test", "a.test"}, DnsOptions{.timeout = 1.5});
  EXPECT_EQ(answers["gone.test"].kind, DnsAnswer::Kind::kNxDomain) << answers["gone.test"].error;
  EXPECT_EQ(answers["broken.test"].kind, DnsAnswer::Kind::kServFail) << answers["broken.test"].error;
  EXPECT_EQ(answers["hole.test"].kind, DnsAnswer::Kind::kTimeout) << answers["hole.test"].error;
  EXPECT_TRUE(answers["a.test"].ok()) << "a name asked beside one that never answers";
  EXPECT_LT(answers["a.test"].seconds, 1.0) << "it did not wait for the silent one";
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(), 4.0)
      << "the silent one ends at --dns-timeout";
}

TEST(ResolveBlocking, GivesTheSameAnswersAsTheLoop) {
  test::Dnsmasq dns({.names = {{"a.test", "10.9.8.7"}}});
  ASSERT_TRUE(dns.ok());
  const DnsOptions options{.timeout = 2, .servers = dns.server()};
  DnsAnswer a = ResolveBlocking("a.test", options);
  ASSERT_TRUE(a.ok()) << a.error;
  EXPECT_EQ(a.address(), "10.9.8.7");
  EXPECT_EQ(ResolveBlocking("gone.test", options).kind, DnsAnswer::Kind::kNxDomain);
}

}  // namespace
}  // namespace fanout
