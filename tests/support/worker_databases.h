// Worker databases: what the workers of one shared-frontier run leave behind, each in its own crawl
// database, written through the real Store, for the tests of merging them (`fanout merge`).
//
// The story (frontier run 7 of kFrontier, pages on http://site.test/):
//   worker "a" (WriteWorkerA): first a run of its own (not shared; /solo), then its shared run:
//     /        at 1000, links to /a and /b (followed) and elsewhere.test (out_of_scope);
//     /a       at 1002, links to /c (followed) and / (duplicate);
//     /dup     at 1005, a 500 with an error row, links to /from-a's-dup (followed): a second fetch of
//              /dup, after b's, so the merge drops it, its link and its error;
//     skipped /private (robots); robots.txt of http://site.test:80 at 999 (the earliest).
//   worker "b" (WriteWorkerB):
//     /b       at 1001, links to /dup (followed) and /a (duplicate);
//     /dup     at 1003, links to /x (followed) and /y (nofollow): the fetch that is kept;
//     /broken  at 1004, a timeout with an error row;
//     skipped /private (robots, again) and /secret (robots); robots.txt of http://site.test:80 at
//     1000.5 (later than a's: dropped) and of http://other.test:80.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "storage/store.h"
#include "tests/support/status_matchers.h"

namespace fanout::test {

inline constexpr const char* kFrontier = "postgresql://crawler@db.test/frontier";
inline constexpr int64_t kFrontierRun = 7;

inline RunInfo SharedRunInfo(const std::string& worker, int64_t frontier_run = kFrontierRun) {
  return RunInfo{.mode = "async",
                 .seeds = {"http://site.test/"},
                 .options_json = R"({"concurrency":4})",
                 .worker = worker,
                 .frontier = kFrontier,
                 .frontier_run = frontier_run};
}

inline PageRecord FetchedPage(const std::string& path, double fetched_at, int depth = 1) {
  PageRecord p;
  p.url = "http://site.test" + path;
  p.depth = depth;
  p.status = 200;
  p.content_type = "text/html";
  p.bytes = 100;
  p.title = "Page " + path;
  p.http_version = "1.1";
  p.fetched_at = fetched_at;
  p.total = 0.01;
  return p;
}

inline PageRecord FailedPage(const std::string& path, double fetched_at, const std::string& kind, int status = 0) {
  PageRecord p = FetchedPage(path, fetched_at);
  p.status = status;
  p.bytes = 0;
  p.title = "";
  p.error_kind = kind;
  p.error = kind + " on " + path;
  return p;
}

inline LinkRecord Followed(const std::string& url) { return {.to_url = url, .followed = Follow::kQueued, .reason = ""}; }
inline LinkRecord NotFollowed(const std::string& url, const std::string& reason) {
  return {.to_url = url, .followed = Follow::kNo, .reason = reason};
}

inline SkipRecord Skipped(const std::string& path, const std::string& rule) {
  return {.url = "http://site.test" + path, .reason = "robots", .detail = rule, .found_on = "http://site.test/",
          .depth = 1};
}

inline RobotsRecord Robots(const std::string& origin, double fetched_at) {
  return {.origin = origin, .status = 200, .verdict = "rules", .error = "", .user_agent = "*", .crawl_delay = -1,
          .sitemaps = {}, .bytes = 42, .fetched_at = fetched_at};
}

// A Store at path, for a test that writes its own worker database. Fails the test if it cannot open.
inline std::unique_ptr<Store> OpenWorkerStore(const std::string& path) {
  Result<std::unique_ptr<Store>> store = Store::Open(path);
  EXPECT_OK(store);
  return store.ok() ? std::move(store).value() : nullptr;
}

inline RunSummary Finished(int64_t pages, int64_t errors) {
  return {.pages = pages, .errors = errors, .bytes = 100 * (pages - errors), .wall_seconds = 0.5,
          .pages_per_second = 2.0 * static_cast<double>(pages), .summary_json = "{}", .interrupted = false};
}

// A database with one finished run of its own, no shared frontier's.
inline void WriteUnsharedRun(const std::string& path) {
  auto store = OpenWorkerStore(path);
  ASSERT_TRUE(store);
  ASSERT_OK(store->BeginRun({.mode = "async", .seeds = {"http://site.test/"}, .options_json = ""}));
  ASSERT_OK(store->FinishRun(Finished(0, 0)));
  ASSERT_OK(store->Close());
}

inline void WriteWorkerA(const std::string& path) {
  auto store = OpenWorkerStore(path);
  ASSERT_TRUE(store);
  ASSERT_OK(store->BeginRun({.mode = "async", .seeds = {"http://site.test/solo"}, .options_json = ""}));
  ASSERT_OK(store->AddPage(FetchedPage("/solo", 900, 0), {Followed("http://site.test/solo/next")}));
  ASSERT_OK(store->FinishRun(Finished(1, 0)));

  ASSERT_OK(store->BeginRun(SharedRunInfo("a")));
  ASSERT_OK(store->AddRobots(Robots("http://site.test:80", 999)));
  ASSERT_TRUE(store->AddPage(FetchedPage("/", 1000, 0),
                             {Followed("http://site.test/a"), Followed("http://site.test/b"),
                              NotFollowed("http://elsewhere.test/", "out_of_scope")})
                  .ok());
  ASSERT_OK(store->AddSkip(Skipped("/private", "Disallow: /private")));
  ASSERT_TRUE(store->AddPage(FetchedPage("/a", 1002),
                             {Followed("http://site.test/c"), NotFollowed("http://site.test/", "duplicate")})
                  .ok());
  ASSERT_TRUE(
      store->AddPage(FailedPage("/dup", 1005, "http", 500), {Followed("http://site.test/from-a's-dup")}).ok());
  ASSERT_OK(store->FinishRun(Finished(3, 1)));
  ASSERT_OK(store->Close());
}

inline void WriteWorkerB(const std::string& path) {
  auto store = OpenWorkerStore(path);
  ASSERT_TRUE(store);
  ASSERT_OK(store->BeginRun(SharedRunInfo("b")));
  ASSERT_OK(store->AddRobots(Robots("http://site.test:80", 1000.5)));
  ASSERT_OK(store->AddRobots(Robots("http://other.test:80", 1000.75)));
  ASSERT_TRUE(store->AddPage(FetchedPage("/b", 1001),
                             {Followed("http://site.test/dup"), NotFollowed("http://site.test/a", "duplicate")})
                  .ok());
  ASSERT_TRUE(store->AddPage(FetchedPage("/dup", 1003, 2),
                             {Followed("http://site.test/x"), NotFollowed("http://site.test/y", "nofollow")})
                  .ok());
  ASSERT_OK(store->AddSkip(Skipped("/private", "Disallow: /private")));
  ASSERT_OK(store->AddSkip(Skipped("/secret", "Disallow: /secret")));
  ASSERT_OK(store->AddPage(FailedPage("/broken", 1004, "timeout"), {}));
  ASSERT_OK(store->FinishRun(Finished(3, 1)));
  ASSERT_OK(store->Close());
}

}  // namespace fanout::test
