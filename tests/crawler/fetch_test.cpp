#include "crawler/fetch.h"

#include <gtest/gtest.h>

#include "crawler/semaphore.h"
#include "tests/support/status_matchers.h"
#include "testsite/server.h"

namespace fanout {
namespace {

using testsite::ServerOptions;
using testsite::SiteServer;

std::unique_ptr<SiteServer> StartSite(int latency_ms = 0, std::vector<std::string> faults = {}) {
  ServerOptions o;
  o.synthetic = testsite::SyntheticOptions{.pages = 2000, .links = 4, .page_bytes = 4000, .seed = 3};
  o.latency_ms = latency_ms;
  for (const std::string& f : faults) o.faults.push_back(*testsite::ParseFaultRule(f));
  auto server = SiteServer::Create(o);
  EXPECT_OK(server);
  (*server)->Start();
  return std::move(server.value());
}

struct Harness {
  std::unique_ptr<EventLoop> loop = std::move(EventLoop::Create().value());
  Fetcher fetcher{*loop, FetcherOptions{.user_agent = "fanout-test/1"}};
};

Task<void> FetchInto(Fetcher& f, FetchRequest req, std::vector<FetchResponse>& out) {
  out.push_back(co_await f.Fetch(std::move(req)));
}

TEST(Fetcher, ReturnsStatusBodyTypeAndTimings) {
  auto site = StartSite();
  Harness h;
  std::vector<FetchResponse> out;
  h.loop->Spawn(FetchInto(h.fetcher, {.url = site->url()}, out));
  h.loop->Spawn(FetchInto(h.fetcher, {.url = site->url() + "nope.html"}, out));
  h.loop->Run();
  ASSERT_EQ(out.size(), 2u);
  const FetchResponse& ok = out[0].status == 200 ? out[0] : out[1];
  const FetchResponse& missing = out[0].status == 200 ? out[1] : out[0];
  EXPECT_TRUE(ok.ok());
  EXPECT_EQ(ok.content_type, "text/html; charset=utf-8");
  EXPECT_NE(ok.body.find("<title>Page 0 of 2000"), std::string::npos);
  EXPECT_EQ(ok.http_version, "1.1");
  EXPECT_GT(ok.timings.total, 0);
  EXPECT_GE(ok.timings.total + 1e-6, ok.timings.dns + ok.timings.connect + ok.timings.first_byte + ok.timings.transfer);
  EXPECT_EQ(missing.status, 404);
  EXPECT_TRUE(missing.ok());  // a response is a response; the crawler judges the status
  ASSERT_EQ(site->log().size(), 2u);
  EXPECT_EQ(site->log()[0].user_agent, "fanout-test/1");
}

Task<void> Sequential(Fetcher& f, std::string base, std::vector<FetchResponse>& out) {
  for (const char* p : {"", "p3.html", "p6.html"}) {
    FetchRequest request{.url = base + p};  // named first: see task.h
    out.push_back(co_await f.Fetch(std::move(request)));
  }
}

TEST(Fetcher, ReusesKeptAliveConnections) {
  auto site = StartSite();
  Harness h;
  std::vector<FetchResponse> out;
  h.loop->Spawn(Sequential(h.fetcher, site->url(), out));
  h.loop->Run();
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].new_connections, 1);
  EXPECT_EQ(out[1].new_connections, 0);
  EXPECT_EQ(out[2].new_connections, 0);
}

TEST(Fetcher, CutsBodiesAtTheCapEvenWithoutContentLength) {
  auto site = StartSite(0, {"huge:3000000@/sized", "huge:3000000:chunked@/chunked"});
  Harness h;
  std::vector<FetchResponse> out;
  h.loop->Spawn(FetchInto(h.fetcher, {.url = site->url() + "sized", .max_bytes = 100000}, out));
  h.loop->Spawn(FetchInto(h.fetcher, {.url = site->url() + "chunked", .max_bytes = 100000}, out));
  h.loop->Run();
  for (const FetchResponse& r : out) {
    EXPECT_TRUE(r.ok()) << r.error;
    EXPECT_TRUE(r.truncated);
    EXPECT_EQ(r.body.size(), 100000u);
    EXPECT_EQ(r.status, 200);
  }
}

TEST(Fetcher, ReportsNetworkErrorsAndTimeouts) {
  auto site = StartSite(0, {"reset@/reset", "delay:2000@/slow"});
  Harness h;
  std::vector<FetchResponse> out;
  h.loop->Spawn(FetchInto(h.fetcher, {.url = site->url() + "reset"}, out));
  h.loop->Spawn(FetchInto(h.fetcher, {.url = site->url() + "slow", .timeout_ms = 200}, out));
  h.loop->Run();
  ASSERT_EQ(out.size(), 2u);
  for (const FetchResponse& r : out) {
    EXPECT_FALSE(r.ok());
    EXPECT_FALSE(r.error.empty());
  }
  EXPECT_EQ(out[0].curl_code, CURLE_RECV_ERROR);
  EXPECT_EQ(out[1].curl_code, CURLE_OPERATION_TIMEDOUT);
}

TEST(Fetcher, FollowsRedirectsToTheFinalUrl) {
  auto site = StartSite(0, {"chain:2:/p3.html@/hop"});
  Harness h;
  std::vector<FetchResponse> out;
  h.loop->Spawn(FetchInto(h.fetcher, {.url = site->url() + "hop"}, out));
  h.loop->Run();
  EXPECT_EQ(out[0].status, 200);
  EXPECT_EQ(out[0].redirects, 3);
  EXPECT_EQ(out[0].effective_url, site->url() + "p3.html");
}

// One thread, many transfers: 200 fetches against 100 ms latency are all in flight at once, as the
// server counts them (so they finish in about one latency; scripts/bench-*.sh measure the speed).
TEST(Fetcher, ManyTransfersWaitTogetherOnOneThread) {
  auto site = StartSite(100);
  Harness h;
  std::vector<FetchResponse> out;
  testsite::SyntheticSite pages({.pages = 2000, .links = 4, .page_bytes = 4000, .seed = 3});
  for (uint64_t i = 0; i < 200; ++i) {
    h.loop->Spawn(FetchInto(h.fetcher, {.url = site->url() + pages.PathOf(i).substr(1)}, out));
  }
  h.loop->Run();
  EXPECT_EQ(out.size(), 200u);
  for (const FetchResponse& r : out) EXPECT_EQ(r.status, 200) << r.error;
  EXPECT_EQ(h.fetcher.stats().max_in_flight, 200u);
  EXPECT_EQ(site->stats().max_in_flight, 200u);
}

Task<void> FetchAndStop(Fetcher& f, std::string url, EventLoop& loop) {
  auto stopper = [](EventLoop& l) -> Task<void> {
    co_await l.SleepFor(std::chrono::milliseconds(50));
    l.Stop();
  };
  loop.Spawn(stopper(loop));
  FetchRequest request{.url = url};
  co_await f.Fetch(std::move(request));
  ADD_FAILURE() << "the transfer should still be running";
}

// Destroying a task mid-transfer removes its handle from curl (ASan would see a leak or a
// use-after-free otherwise).
TEST(Fetcher, AbandonedTransfersAreRemovedCleanly) {
  auto site = StartSite(0, {"delay:5000@/slow"});
  Harness h;
  h.loop->Spawn(FetchAndStop(h.fetcher, site->url() + "slow", *h.loop));
  h.loop->Run();
  EXPECT_EQ(h.fetcher.stats().in_flight, 1u);
  h.loop.reset();
  EXPECT_EQ(h.fetcher.stats().in_flight, 0u);
}

}  // namespace
}  // namespace fanout
