#include "crawler/frontier.h"

#include <gtest/gtest.h>

#include "tests/support/status_matchers.h"

namespace fanout {
namespace {

Frontier Make(ScopeOptions scope = {}, int max_depth = -1) {
  Result<Frontier> f = Frontier::Create(std::move(scope), max_depth);
  EXPECT_OK(f);
  return std::move(f.value());
}

using Kind = Frontier::Pick::Kind;

// The next URL the frontier hands out, as the dispatcher takes it: one a redirect fetched already
// is passed over, and the transfer ends at once unless `end` is false. "" when nothing may start.
std::string Dispatch(Frontier& f, Frontier::Clock::time_point now = Frontier::Clock::now(), bool end = true) {
  while (true) {
    Frontier::Pick pick = f.Next(now, /*urls=*/true);
    if (pick.kind == Kind::kFetchedAlready) continue;
    if (pick.kind != Kind::kUrl) return "";
    if (end) f.EndTransfer(pick.host, now);
    return pick.item.url;
  }
}

// Every URL the frontier hands out until nothing may start.
std::vector<std::string> DispatchAll(Frontier& f) {
  std::vector<std::string> urls;
  for (std::string url = Dispatch(f); !url.empty(); url = Dispatch(f)) urls.push_back(url);
  return urls;
}

TEST(Frontier, HandsOutBreadthFirstByDepth) {
  Frontier f = Make();
  f.AddSeed("http://h/");
  EXPECT_EQ(f.Offer("http://h/deep", 3), Frontier::Verdict::kQueued);
  EXPECT_EQ(f.Offer("http://h/a", 1), Frontier::Verdict::kQueued);
  EXPECT_EQ(f.Offer("http://h/b", 2), Frontier::Verdict::kQueued);
  EXPECT_EQ(f.Offer("http://h/c", 1), Frontier::Verdict::kQueued);
  EXPECT_EQ(DispatchAll(f),
            (std::vector<std::string>{"http://h/", "http://h/a", "http://h/c", "http://h/b", "http://h/deep"}));
  EXPECT_TRUE(f.empty());
}

TEST(Frontier, OffersEachUrlOnce) {
  Frontier f = Make();
  f.AddSeed("http://h/");
  EXPECT_EQ(f.Offer("http://h/", 1), Frontier::Verdict::kDuplicate);
  EXPECT_EQ(f.Offer("http://h/a", 1), Frontier::Verdict::kQueued);
  EXPECT_EQ(f.Offer("http://h/a", 2), Frontier::Verdict::kDuplicate);
  EXPECT_EQ(f.ClaimRedirect("http://h/redirected"), Frontier::Verdict::kQueued);
  EXPECT_EQ(f.Offer("http://h/redirected", 1), Frontier::Verdict::kDuplicate);
  EXPECT_EQ(f.queued(), 2u);
}

// A redirect landing on a URL still queued fetches it: the queued copy is not fetched again.
TEST(Frontier, ARedirectTargetIsFetchedOnce) {
  Frontier f = Make();
  f.AddSeed("http://h/");
  f.Offer("http://h/a", 1);
  f.Offer("http://h/b", 1);
  EXPECT_EQ(Dispatch(f), "http://h/");
  EXPECT_EQ(f.ClaimRedirect("http://h/b"), Frontier::Verdict::kQueued);    // "/" redirected to /b, still queued
  EXPECT_EQ(f.ClaimRedirect("http://h/"), Frontier::Verdict::kDuplicate);  // and nothing may claim "/" again
  EXPECT_EQ(Dispatch(f), "http://h/a");
  const Frontier::Pick skipped = f.Next(Frontier::Clock::now(), true);
  EXPECT_EQ(skipped.kind, Kind::kFetchedAlready);  // /b is handed out as fetched, not to fetch
  EXPECT_EQ(skipped.item.url, "http://h/b");
  EXPECT_EQ(Dispatch(f), "");
}

TEST(Frontier, RedirectTargetsAreJudgedLikeLinks) {
  Frontier f = Make({.exclude = {"/private/"}});
  f.AddSeed("http://h/");
  EXPECT_EQ(f.ClaimRedirect("http://elsewhere/"), Frontier::Verdict::kOutOfScope);
  EXPECT_EQ(f.ClaimRedirect("http://h/private/x"), Frontier::Verdict::kExcluded);
  EXPECT_EQ(f.ClaimRedirect("http://h/ok"), Frontier::Verdict::kQueued);
  EXPECT_EQ(f.ClaimRedirect("http://h/ok"), Frontier::Verdict::kDuplicate);
}

// A host at its limit waits; the others go on, shallowest first, taking turns at equal depth.
TEST(Frontier, TakesOnlyFromReadyHostsAndTakesTurns) {
  Result<Frontier> made = Frontier::Create({.allowed_domains = {"a", "b"}}, -1, 0, {}, HostLimits{.per_host = 1});
  ASSERT_OK(made);
  Frontier& f = *made;
  f.AddSeed("http://a/");
  f.AddSeed("http://b/");
  for (const char* url : {"http://a/1", "http://a/2", "http://b/1", "http://b/2"}) f.Offer(url, 1);
  const auto now = Frontier::Clock::now();
  EXPECT_EQ(Dispatch(f, now, /*end=*/false), "http://a/");  // in flight: a is at its limit of one
  EXPECT_EQ(Dispatch(f, now), "http://b/");
  EXPECT_EQ(Dispatch(f, now), "http://b/1");
  EXPECT_EQ(Dispatch(f, now), "http://b/2");
  EXPECT_EQ(Dispatch(f, now), "");
  EXPECT_EQ(f.queued(), 2u);
  f.EndTransfer(f.HostIdOf("http://a"), now);
  EXPECT_EQ(Dispatch(f, now), "http://a/1");
  EXPECT_EQ(Dispatch(f, now), "http://a/2");

  Frontier g = Make({.allowed_domains = {"a", "b"}});
  g.AddSeed("http://a/");
  g.AddSeed("http://b/");
  for (const char* url : {"http://a/1", "http://a/2", "http://b/1", "http://b/2"}) g.Offer(url, 1);
  EXPECT_EQ(DispatchAll(g), (std::vector<std::string>{"http://a/", "http://b/", "http://a/1", "http://b/1", "http://a/2",
                                             "http://b/2"}));
}

TEST(Frontier, StaysOnTheSeedsHostAndPortByDefault) {
  Frontier f = Make();
  f.AddSeed("http://127.0.0.1:8080/");
  EXPECT_EQ(f.Offer("http://127.0.0.1:8080/a", 1), Frontier::Verdict::kQueued);
  EXPECT_EQ(f.Offer("http://127.0.0.1:9090/a", 1), Frontier::Verdict::kOutOfScope);
  EXPECT_EQ(f.Offer("http://example.com/a", 1), Frontier::Verdict::kOutOfScope);
}

TEST(Frontier, AllowedDomainsIncludeSubdomains) {
  Frontier f = Make({.allowed_domains = {"Example.com"}});
  f.AddSeed("http://example.com/");
  EXPECT_EQ(f.Offer("https://www.example.com/a", 1), Frontier::Verdict::kQueued);
  EXPECT_EQ(f.Offer("http://example.com:8080/b", 1), Frontier::Verdict::kQueued);
  EXPECT_EQ(f.Offer("http://badexample.com/", 1), Frontier::Verdict::kOutOfScope);
}

TEST(Frontier, IncludeExcludeAndDepth) {
  Frontier f = Make({.include = {"/docs/"}, .exclude = {"\\.pdf$"}}, 2);
  f.AddSeed("http://h/");
  EXPECT_EQ(f.Offer("http://h/docs/a.html", 1), Frontier::Verdict::kQueued);
  EXPECT_EQ(f.Offer("http://h/blog/a.html", 1), Frontier::Verdict::kExcluded);
  EXPECT_EQ(f.Offer("http://h/docs/a.pdf", 1), Frontier::Verdict::kExcluded);
  EXPECT_EQ(f.Offer("http://h/docs/deep.html", 3), Frontier::Verdict::kTooDeep);
}

TEST(Frontier, BadPatternIsAnError) {
  Result<Frontier> f = Frontier::Create({.include = {"(unclosed"}}, -1);
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.status().message().find("--include '(unclosed'"), std::string::npos) << f.status().message();
}

}  // namespace
}  // namespace fanout

namespace fanout {
namespace {

TEST(Frontier, PastItsWindowLinksWaitOnDiskUntilRestored) {
  Result<Frontier> made = Frontier::Create({}, -1, 2);
  ASSERT_OK(made);
  Frontier& f = *made;
  f.AddSeed("http://h/");
  EXPECT_EQ(f.Offer("http://h/a", 1), Frontier::Verdict::kQueued);
  EXPECT_EQ(f.Offer("http://h/b", 1), Frontier::Verdict::kQueuedOnDisk);
  EXPECT_EQ(f.Offer("http://h/b", 1), Frontier::Verdict::kDuplicate);  // seen, though not in memory
  EXPECT_EQ(f.queued(), 3u);
  EXPECT_EQ(f.in_memory(), 2u);
  EXPECT_EQ(f.on_disk(), 1u);
  EXPECT_EQ(DispatchAll(f), (std::vector<std::string>{"http://h/", "http://h/a"}));
  EXPECT_FALSE(f.empty());  // /b waits in the database
  f.Restore({"http://h/b", 1, "http://h/", {}});
  EXPECT_EQ(f.on_disk(), 0u);
  EXPECT_EQ(Dispatch(f), "http://h/b");
  EXPECT_TRUE(f.empty());
  EXPECT_EQ(f.max_on_disk(), 1u);
}

TEST(UrlSet, HoldsManyUrlsAndTellsThemApart) {
  UrlSet set;
  for (int i = 0; i < 200000; ++i) EXPECT_TRUE(set.insert("http://h/p" + std::to_string(i) + ".html"));
  EXPECT_EQ(set.size(), 200000u);
  for (int i = 0; i < 200000; i += 997) EXPECT_FALSE(set.insert("http://h/p" + std::to_string(i) + ".html"));
  EXPECT_TRUE(set.contains("http://h/p199999.html"));
  EXPECT_FALSE(set.contains("http://h/p200000.html"));
  EXPECT_FALSE(set.contains(""));
  EXPECT_TRUE(set.insert(""));
  EXPECT_TRUE(set.contains(""));
}

TEST(UrlSet, ClearForgetsEverything) {
  UrlSet set;
  for (int i = 0; i < 5000; ++i) set.insert("http://h/p" + std::to_string(i));
  set.clear();
  EXPECT_EQ(set.size(), 0u);
  EXPECT_FALSE(set.contains("http://h/p1"));
  EXPECT_TRUE(set.insert("http://h/p1"));
}

// When the seen filter cannot tell, the link is the store's to settle; until it says, the URL
// counts as queued, so the crawl does not end before it knows.
TEST(Frontier, AnUnsureLinkWaitsForTheStoresWord) {
  Result<Frontier> made = Frontier::Create({}, -1, 0, {.recent_capacity = 1, .bits_per_url = 10, .first_layer = 64});
  ASSERT_OK(made);
  Frontier& f = *made;
  f.AddSeed("http://h/");
  EXPECT_EQ(f.Offer("http://h/a", 1), Frontier::Verdict::kQueued);
  EXPECT_EQ(f.Offer("http://h/a", 1), Frontier::Verdict::kDuplicate);  // the recent one is known
  EXPECT_EQ(f.Offer("http://h/b", 1), Frontier::Verdict::kQueued);
  EXPECT_EQ(f.Offer("http://h/a", 1), Frontier::Verdict::kUnsure);  // no longer recent: maybe seen
  EXPECT_EQ(f.Offer("http://h/", 1), Frontier::Verdict::kUnsure);
  EXPECT_EQ(f.unsure(), 2u);
  EXPECT_EQ(f.queued(), 5u);
  EXPECT_TRUE(f.wants_refill());
  DispatchAll(f);
  EXPECT_FALSE(f.empty());
  // The store's counters since the crawl began, as it judges the two.
  f.Settle(StoreStats{.unsure_new = 0, .unsure_duplicates = 1});  // one duplicate
  EXPECT_EQ(f.unsure(), 1u);
  f.Settle(StoreStats{.unsure_new = 1, .unsure_duplicates = 1});  // and one new, which now waits in the database
  EXPECT_EQ(f.unsure(), 0u);
  EXPECT_EQ(f.on_disk(), 1u);
  f.Settle(StoreStats{.unsure_new = 1, .unsure_duplicates = 1});  // totals: nothing new
  EXPECT_EQ(f.on_disk(), 1u);
  EXPECT_EQ(f.unsure_links().duplicates(), 1);
  f.Restore({"http://h/x", 1, "http://h/", {}});
  EXPECT_EQ(Dispatch(f), "http://h/x");
  EXPECT_TRUE(f.empty());
}

// A URL from a sitemap has no links row to hold it: unsure or past the window, it is queued here,
// and the exact record of fetched URLs still keeps it from being fetched twice.
TEST(Frontier, AUrlWithoutALinkRowIsQueuedInMemory) {
  Result<Frontier> made = Frontier::Create({}, -1, 1, {.recent_capacity = 1, .bits_per_url = 10, .first_layer = 64});
  ASSERT_OK(made);
  Frontier& f = *made;
  f.AddSeed("http://h/");
  EXPECT_EQ(f.Offer("http://h/a", 1, "", Frontier::Source::kOther), Frontier::Verdict::kQueued);  // past the window
  EXPECT_EQ(f.Offer("http://h/", 1, "", Frontier::Source::kOther), Frontier::Verdict::kQueued);   // unsure
  EXPECT_EQ(DispatchAll(f), (std::vector<std::string>{"http://h/", "http://h/a"}));
  EXPECT_TRUE(f.empty());
}

}  // namespace
}  // namespace fanout
