// The web lab (scripts/weblab.sh, tests/support/weblab.h): a `fanout serve --hosts` web named by a
// real DNS resolver (dnsmasq), in network namespaces of the test's own. What a crawler in the
// crawler namespace sees: glibc's getent resolves the web's names to the addresses that serve them,
// a name the resolver does not know does not resolve, the resolver logs each query, and the faults
// (SERVFAIL, silence, a resolver cut off the LAN) look like the real ones. Root needed: without it
// these tests fail, saying so.
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/support/weblab.h"

namespace fanout::test {
namespace {

// getent ahosts's first address: "10.204.0.10     STREAM h0.web.test" -> "10.204.0.10".
std::string FirstAddress(const std::string& getent_out) {
  std::istringstream in(getent_out);
  std::string address;
  in >> address;
  return address;
}

// The milliseconds an `ask` line ends with: "NOERROR 10.204.0.10 ttl=300 52 ms" -> 52.
double AskMillis(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> words;
  for (std::string w; in >> w;) words.push_back(w);
  return words.size() >= 2 ? std::stod(words[words.size() - 2]) : -1;
}

bool Saw(const std::vector<DnsQuery>& queries, const std::string& name, const std::string& type) {
  return std::any_of(queries.begin(), queries.end(),
                     [&](const DnsQuery& q) { return q.name == name && q.type == type; });
}

TEST(WebLab, TheCrawlerResolvesTheWebsNamesThroughTheLabsResolver) {
  WebLab lab({.hosts = 12, .ips = 3, .nxdomain = 0.1, .ipv6_only = 1});
  ASSERT_TRUE(lab.up()) << lab.why();
  EXPECT_EQ(lab.Fact("SEED"), "http://h0.web.test/");
  EXPECT_EQ(lab.Fact("WEB_ADDRESSES"), "10.204.0.10,10.204.0.11,10.204.0.12");
  EXPECT_EQ(lab.Fact("NXDOMAIN_COUNT"), "1");
  const std::map<std::string, std::string> kinds = lab.NameKinds();
  ASSERT_EQ(kinds.size(), 12u + 3u) << "every host, and nosuch, servfail and silent";

  // Every host resolves, by glibc, to the address that serves it, or not at all if unlisted.
  int resolved = 0;
  std::string v6_host;
  for (uint64_t h = 0; h < 12; ++h) {
    const std::string name = "h" + std::to_string(h) + ".web.test";
    ProcessResult r = lab.RunInCrawler({"getent", "ahosts", name});
    const std::string& kind = kinds.at(name);
    if (kind == "nxdomain") {
      EXPECT_EQ(r.exit_code, 2) << name << ": " << r.out;  // getent: not found
      EXPECT_EQ(r.out, "") << name;
      continue;
    }
    ASSERT_EQ(r.exit_code, 0) << name << " (" << kind << ") did not resolve: " << r.err;
    ++resolved;
    if (kind == "aaaa") {
      v6_host = name;
      EXPECT_EQ(FirstAddress(r.out), "fd00:204::10") << r.out;
    } else {
      EXPECT_EQ(FirstAddress(r.out), "10.204.0." + std::to_string(10 + h % 3)) << r.out;
    }
  }
  EXPECT_EQ(resolved, 11);
  ASSERT_FALSE(v6_host.empty()) << "--ipv6-only 1 made no IPv6-only host";
  ProcessResult nosuch = lab.RunInCrawler({"getent", "ahosts", lab.Fact("NXDOMAIN_NAME")});
  EXPECT_EQ(nosuch.exit_code, 2) << nosuch.out;

  // The resolver saw the questions, from the crawler's address.
  const std::vector<DnsQuery> queries = lab.Queries();
  EXPECT_TRUE(Saw(queries, "h0.web.test", "A"));
  EXPECT_TRUE(Saw(queries, "h0.web.test", "AAAA"));  // ahosts asks both
  EXPECT_TRUE(Saw(queries, "nosuch.web.test", "A"));
  EXPECT_TRUE(Saw(queries, v6_host, "AAAA"));
  for (const DnsQuery& q : queries) EXPECT_EQ(q.from, "10.204.0.3") << q.name;

  // The names lead to the web: h0 on its IPv4 address, the IPv6-only host on the IPv6 one.
  ProcessResult seed = lab.RunInCrawler({"curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "5",
                                         lab.Fact("SEED")});
  EXPECT_EQ(seed.out, "200") << seed.err;
  ProcessResult v6 = lab.RunInCrawler({"curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "5",
                                       "http://" + v6_host + "/"});
  EXPECT_EQ(v6.out, "200") << v6.err;
  const std::string ips_json = lab.IpsJson();
  ASSERT_FALSE(ips_json.empty());
  nlohmann::json ips = nlohmann::json::parse(ips_json)["ips"];
  ASSERT_EQ(ips.size(), 4u) << ips_json;
  EXPECT_EQ(ips[0]["address"], "10.204.0.10");
  EXPECT_EQ(ips[0]["hosts"], 4);
  EXPECT_EQ(ips[0]["requests"], 1) << ips_json;
  EXPECT_EQ(ips[1]["requests"], 0) << ips_json;
  EXPECT_EQ(ips[3]["address"], "fd00:204::10");
  EXPECT_EQ(ips[3]["hosts"], 12);
  EXPECT_EQ(ips[3]["requests"], 1) << ips_json;
}

TEST(WebLab, FaultyNamesAndALostResolverFailAsARealOnesWould) {
  WebLab lab({.hosts = 12, .ips = 2, .ttl = 60, .dns_delay_ms = 50, .servfail = 0.1, .silent = 1});
  ASSERT_TRUE(lab.up()) << lab.why();

  ProcessResult h0 = lab.Ask("h0.web.test");
  EXPECT_EQ(h0.out.rfind("NOERROR 10.204.0.10 ttl=60 ", 0), 0u) << h0.out;
  EXPECT_GE(AskMillis(h0.out), 50) << "--dns-delay 50 (" << lab.Fact("DNS_DELAY_BY") << "): " << h0.out;

  // SERVFAIL, for the fixed name and the web's hosts picked for it.
  EXPECT_EQ(lab.Ask(lab.Fact("SERVFAIL_NAME")).out.rfind("SERVFAIL ", 0), 0u);
  int servfail_hosts = 0;
  for (const auto& [name, kind] : lab.NameKinds()) {
    if (kind != "servfail" || name == lab.Fact("SERVFAIL_NAME")) continue;
    ++servfail_hosts;
    ProcessResult r = lab.Ask(name, "AAAA");
    EXPECT_EQ(r.out.rfind("SERVFAIL ", 0), 0u) << name << ": " << r.out;
  }
  EXPECT_EQ(servfail_hosts, 1);

  // Silence: the resolver gets the question and never answers.
  ProcessResult silent = lab.Ask(lab.Fact("SILENT_HOSTS"), "A", 1);
  EXPECT_EQ(silent.exit_code, 1) << silent.out;
  EXPECT_EQ(silent.out, "timeout\n");
  EXPECT_TRUE(Saw(lab.Queries(), lab.Fact("SILENT_HOSTS"), "A"));

  // A resolver cut off the LAN answers nothing, and answers again once healed.
  ASSERT_TRUE(lab.CutResolver());
  ProcessResult cut = lab.Ask("h1.web.test", "A", 1);
  EXPECT_EQ(cut.out, "timeout\n");
  ASSERT_TRUE(lab.HealResolver());
  ProcessResult healed = lab.Ask("h1.web.test");
  EXPECT_EQ(healed.out.rfind("NOERROR 10.204.0.11 ", 0), 0u) << healed.out;
}

}  // namespace
}  // namespace fanout::test
