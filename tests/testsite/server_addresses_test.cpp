// A server on several addresses: a web under a domain of its own, its hosts spread over loopback
// addresses 127.0.0.x as sites share IPs (ServerOptions::ips), a host asked on an address that does
// not serve it answered 421, and the counters of each address (GET /__ips).
#include <gtest/gtest.h>
#include <signal.h>

#include <nlohmann/json.hpp>

#include "tests/support/http_client.h"
#include "tests/support/status_matchers.h"
#include "tests/support/subprocess.h"
#include "testsite/net_namespace.h"
#include "testsite/server.h"

namespace fanout::testsite {
namespace {

using test::HttpGet;
using test::HttpRequest;
using test::HttpResponse;

const std::vector<std::string> kAddresses = {"127.0.0.1", "127.0.0.2", "127.0.0.3"};

// A web of `hosts` hosts under lab.test on kAddresses, host i on address i mod 2, and every host
// on the third.
ServerOptions SpreadWeb(uint64_t hosts, int latency_ms = 0) {
  ServerOptions o;
  o.synthetic = SyntheticOptions{.pages = 5, .links = 4, .page_bytes = 1500, .seed = 7};
  o.web = SyntheticWebOptions{.hosts = hosts, .domain = "lab.test"};
  o.host = kAddresses[0];
  o.more_hosts = {kAddresses[1], kAddresses[2]};
  o.ips = 2;
  o.latency_ms = latency_ms;
  return o;
}

std::unique_ptr<SiteServer> Start(ServerOptions options) {
  Result<std::unique_ptr<SiteServer>> server = SiteServer::Create(std::move(options));
  EXPECT_OK(server);
  if (!server.ok()) return nullptr;
  (*server)->Start();
  return std::move(server.value());
}

// GET `path` of host `host` (of lab.test), connecting to `address`: what a client whose DNS said
// `address` for the name would send.
HttpRequest On(const SiteServer& server, const std::string& address, uint64_t host, const std::string& path = "/") {
  const std::string port = std::to_string(server.port());
  return HttpRequest{.url = "http://" + address + ":" + port + path,
                     .headers = {"Host: h" + std::to_string(host) + ".lab.test:" + port}};
}

TEST(SiteServerAddresses, EachHostAnswersOnItsAddressAndMisdirectedElsewhere) {
  constexpr uint64_t kHosts = 6;
  auto server = Start(SpreadWeb(kHosts));
  ASSERT_TRUE(server);
  EXPECT_EQ(server->addresses(), kAddresses);
  EXPECT_EQ(server->url(), "http://h0.lab.test:" + std::to_string(server->port()) + "/");

  for (uint64_t h = 0; h < kHosts; ++h) {
    for (size_t a = 0; a < kAddresses.size(); ++a) {
      HttpResponse r = HttpGet(On(*server, kAddresses[a], h));
      const bool served = a == 2 || h % 2 == a;
      EXPECT_EQ(r.status, served ? 200 : 421) << "h" << h << " on " << kAddresses[a];
      if (served) {
        EXPECT_NE(r.body.find("on h" + std::to_string(h) + ".lab.test"), std::string::npos) << r.body;
        // Links to other hosts name them under the web's domain, never localhost.
        EXPECT_EQ(r.body.find(".localhost"), std::string::npos) << r.body;
      }
    }
  }
  HttpResponse root = HttpGet(On(*server, kAddresses[0], 0));
  EXPECT_NE(root.body.find("http://h1.lab.test:" + std::to_string(server->port()) + "/"), std::string::npos)
      << "h0's root links h1's, the host tree: " << root.body;

  std::vector<IpStats> ips = server->IpStatsByAddress();
  ASSERT_EQ(ips.size(), 3u);
  for (size_t a = 0; a < 3; ++a) EXPECT_EQ(ips[a].address, kAddresses[a]);
  EXPECT_EQ(ips[0].hosts, 3u);  // h0, h2, h4
  EXPECT_EQ(ips[1].hosts, 3u);  // h1, h3, h5
  EXPECT_EQ(ips[2].hosts, kHosts);
  EXPECT_EQ(ips[0].requests, kHosts + 1);
  EXPECT_EQ(ips[0].misdirected, 3u);
  EXPECT_EQ(ips[0].by_status, (std::map<int, uint64_t>{{200, 4}, {421, 3}}));
  EXPECT_EQ(ips[1].requests, kHosts);
  EXPECT_EQ(ips[1].misdirected, 3u);
  EXPECT_EQ(ips[2].requests, kHosts);
  EXPECT_EQ(ips[2].misdirected, 0u);

  // A misdirected request still counts at its host, as a 421: the host was asked for, elsewhere.
  HostStats h1 = *server->HostStatsOf(1);
  EXPECT_EQ(h1.name, "h1.lab.test");
  EXPECT_EQ(h1.by_status, (std::map<int, uint64_t>{{200, 2}, {421, 1}}));
  EXPECT_EQ(h1.pages, 2u);
  nlohmann::json hosts =
      nlohmann::json::parse(HttpGet("http://127.0.0.3:" + std::to_string(server->port()) + "/__hosts").body);
  EXPECT_EQ(hosts["totals"]["misdirected"], 6);
  EXPECT_TRUE(hosts["hosts"].contains("h5.lab.test"));
  // The log says where each request arrived.
  EXPECT_EQ(server->log().front().address, "127.0.0.1");
  EXPECT_EQ(server->log().back().address, "127.0.0.1");
}

// With 200 ms of latency: requests for different hosts sent one after another to one address
// reach it at least 200 ms apart, and requests sent together to another overlap there.
TEST(SiteServerAddresses, EachAddressCountsItsPeakAndGapOverHttpToo) {
  auto server = Start(SpreadWeb(6, 200));
  ASSERT_TRUE(server);
  test::HttpGetSequential(
      {On(*server, kAddresses[0], 0), On(*server, kAddresses[0], 2), On(*server, kAddresses[0], 4)});
  std::vector<HttpRequest> together;
  for (uint64_t h : {1, 3, 5, 1, 3}) together.push_back(On(*server, kAddresses[1], h));
  for (const HttpResponse& r : test::HttpGetParallel(together)) EXPECT_EQ(r.status, 200) << r.error;

  std::vector<IpStats> ips = server->IpStatsByAddress();
  EXPECT_EQ(ips[0].max_in_flight, 1u);
  ASSERT_TRUE(ips[0].min_gap_ms.has_value());
  EXPECT_GE(*ips[0].min_gap_ms, 199.0);
  EXPECT_EQ(ips[1].requests, 5u);
  EXPECT_EQ(ips[1].max_in_flight, 5u);
  EXPECT_LT(*ips[1].min_gap_ms, 200.0);
  EXPECT_EQ(ips[2].requests, 0u);
  EXPECT_FALSE(ips[2].min_gap_ms.has_value());

  // GET /__ips says the same, on any address and any Host.
  const std::string admin = "http://127.0.0.3:" + std::to_string(server->port());
  nlohmann::json j = nlohmann::json::parse(HttpGet(admin + "/__ips").body);
  ASSERT_EQ(j["ips"].size(), 3u);
  EXPECT_EQ(j["ips"][0]["address"], "127.0.0.1");
  EXPECT_EQ(j["ips"][0]["hosts"], 3);
  EXPECT_EQ(j["ips"][0]["requests"], 3);
  EXPECT_EQ(j["ips"][0]["max_in_flight"], 1);
  EXPECT_NEAR(j["ips"][0]["min_gap_ms"].get<double>(), *ips[0].min_gap_ms, 0.001);
  EXPECT_EQ(j["ips"][1]["max_in_flight"], 5);
  EXPECT_EQ(j["ips"][1]["statuses"], nlohmann::json({{"200", 5}}));
  EXPECT_TRUE(j["ips"][2]["min_gap_ms"].is_null());
  EXPECT_EQ(j["ips"][2]["hosts"], 6);
  EXPECT_EQ(server->IpStatsJson(), HttpGet(admin + "/__ips").body);

  // Reset with the other counters.
  EXPECT_EQ(HttpGet(HttpRequest{.url = admin + "/__stats/reset", .method = "POST"}).status, 200);
  for (const IpStats& s : server->IpStatsByAddress()) {
    EXPECT_EQ(s.requests, 0u) << s.address;
    EXPECT_EQ(s.max_in_flight, 0u) << s.address;
    EXPECT_FALSE(s.min_gap_ms.has_value()) << s.address;
    EXPECT_TRUE(s.by_status.empty()) << s.address;
  }
}

TEST(SiteServerAddresses, PortZeroIsTheKernelsPickOnTheFirstAndTheSameOnTheOthers) {
  ServerOptions o;
  o.synthetic = SyntheticOptions{.pages = 3, .links = 2};
  o.host = "127.0.0.1";
  o.more_hosts = {"127.0.0.2"};
  auto server = Start(o);
  ASSERT_TRUE(server);
  EXPECT_EQ(server->url(), "http://127.0.0.1:" + std::to_string(server->port()) + "/");
  EXPECT_EQ(HttpGet("http://127.0.0.2:" + std::to_string(server->port()) + "/").status, 200);
  std::vector<IpStats> ips = server->IpStatsByAddress();
  EXPECT_EQ(ips[0].requests, 0u);
  EXPECT_EQ(ips[1].requests, 1u);
  EXPECT_EQ(ips[1].hosts, 0u);  // a single site, no web
}

TEST(SiteServerAddresses, RefusesAddressListsThatCannotWork) {
  auto refused = [](ServerOptions o) {
    Result<std::unique_ptr<SiteServer>> r = SiteServer::Create(std::move(o));
    return r.ok() ? std::string("accepted") : r.status().message();
  };
  ServerOptions too_many = SpreadWeb(4);
  too_many.ips = 4;
  EXPECT_NE(refused(too_many).find("--ips 4 needs as many --host addresses"), std::string::npos) << refused(too_many);
  ServerOptions twice = SpreadWeb(4);
  twice.more_hosts = {"127.0.0.2", "127.0.0.1"};
  EXPECT_NE(refused(twice).find("given twice"), std::string::npos) << refused(twice);
  ServerOptions no_web = SpreadWeb(4);
  no_web.web.reset();
  EXPECT_NE(refused(no_web).find("--ips"), std::string::npos) << refused(no_web);
  ServerOptions bad_domain = SpreadWeb(4);
  bad_domain.web->domain = "lab..test";
  EXPECT_NE(refused(bad_domain).find("not a domain name"), std::string::npos) << refused(bad_domain);
  // hK.localhost resolves to 127.0.0.1 only: another loopback address needs a domain of its own.
  ServerOptions localhost = SpreadWeb(4);
  localhost.web->domain = "localhost";
  EXPECT_NE(refused(localhost).find("--domain"), std::string::npos) << refused(localhost);
  if (!InOwnNetNamespace().ok()) {  // every further address obeys the loopback rule too
    ServerOptions outside = SpreadWeb(4);
    outside.more_hosts = {"10.204.0.10"};
    outside.ips = 0;
    EXPECT_NE(refused(outside).find("not a loopback address"), std::string::npos) << refused(outside);
  }
}

// The same through `fanout serve`: --host repeated, --domain, --ips.
TEST(SiteServerAddresses, FanoutServeSpreadsAWebOverItsHostAddresses) {
  test::Subprocess serve({FANOUT_BINARY, "serve", "--synthetic", "3", "--hosts", "4", "--domain", "Lab.Test", "--ips",
                          "2", "--host", "127.0.0.1", "--host", "127.0.0.2", "--port", "0", "--duration", "60"});
  const std::string url = serve.ReadStdoutLine(10000);
  const std::string origin = "http://h0.lab.test:";
  ASSERT_EQ(url.rfind(origin, 0), 0u) << url;
  ASSERT_EQ(url.back(), '/') << url;
  const std::string port = url.substr(origin.size(), url.size() - origin.size() - 1);
  auto get = [&](const std::string& address, const std::string& host, const std::string& path = "/") {
    return HttpGet(HttpRequest{.url = "http://" + address + ":" + port + path, .headers = {"Host: " + host}});
  };
  EXPECT_EQ(get("127.0.0.2", "h1.lab.test").status, 200);
  EXPECT_EQ(get("127.0.0.1", "h1.lab.test").status, 421);
  EXPECT_EQ(get("127.0.0.1", "h2.lab.test").status, 200);
  nlohmann::json j = nlohmann::json::parse(get("127.0.0.1", "anything", "/__ips").body);
  ASSERT_EQ(j["ips"].size(), 2u);
  EXPECT_EQ(j["ips"][0]["requests"], 2);
  EXPECT_EQ(j["ips"][0]["misdirected"], 1);
  EXPECT_EQ(j["ips"][1]["requests"], 1);
  nlohmann::json hosts = nlohmann::json::parse(get("127.0.0.1", "anything", "/__hosts").body);
  EXPECT_TRUE(hosts["hosts"].contains("h1.lab.test")) << hosts.dump();
  serve.Signal(SIGTERM);
  test::ProcessResult r = serve.Wait(10000);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.err.find("synthetic web of 4 hosts (h0.lab.test .. h3.lab.test)"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("on 2 addresses (127.0.0.1 .. 127.0.0.2), host i on address i mod 2"), std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace fanout::testsite
