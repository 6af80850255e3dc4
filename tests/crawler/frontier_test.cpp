#include "crawler/frontier.h"

#include <gtest/gtest.h>

namespace fanout {
namespace {

Frontier Make(ScopeOptions scope = {}, int max_depth = -1) {
  Result<Frontier> f = Frontier::Create(std::move(scope), max_depth);
  EXPECT_TRUE(f.ok()) << f.status().ToString();
  return std::move(f.value());
}

TEST(Frontier, PopsBreadthFirstByDepth) {
  Frontier f = Make();
  f.AddSeed("http://h/");
  EXPECT_EQ(f.Offer("http://h/deep", 3), Frontier::Verdict::kQueued);
  EXPECT_EQ(f.Offer("http://h/a", 1), Frontier::Verdict::kQueued);
  EXPECT_EQ(f.Offer("http://h/b", 2), Frontier::Verdict::kQueued);
  EXPECT_EQ(f.Offer("http://h/c", 1), Frontier::Verdict::kQueued);
  std::vector<std::string> order;
  while (auto item = f.Pop()) order.push_back(item->url);
  EXPECT_EQ(order, (std::vector<std::string>{"http://h/", "http://h/a", "http://h/c", "http://h/b", "http://h/deep"}));
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
  EXPECT_EQ(f.Pop()->url, "http://h/");
  EXPECT_EQ(f.ClaimRedirect("http://h/b"), Frontier::Verdict::kQueued);    // "/" redirected to /b, still queued
  EXPECT_EQ(f.ClaimRedirect("http://h/"), Frontier::Verdict::kDuplicate);  // and nothing may claim "/" again
  EXPECT_EQ(f.Pop()->url, "http://h/a");
  EXPECT_FALSE(f.Pop().has_value());                  // /b was skipped
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
  ASSERT_TRUE(made.ok());
  Frontier& f = *made;
  f.AddSeed("http://a/");
  f.AddSeed("http://b/");
  for (const char* url : {"http://a/1", "http://a/2", "http://b/1", "http://b/2"}) f.Offer(url, 1);
  const auto now = HostScheduler::Clock::now();
  auto take = [&](bool finish) -> std::string {
    HostScheduler::Pick pick = f.hosts().Next(now, true);
    if (pick.kind != HostScheduler::Pick::Kind::kUrl) return "";
    std::optional<FrontierItem> item = f.Take(pick.host);
    f.hosts().Start(pick.host, now);
    if (finish) f.hosts().Finish(pick.host, now);
    return item ? item->url : "?";
  };
  EXPECT_EQ(take(false), "http://a/");  // in flight: a is at its limit of one
  EXPECT_EQ(take(true), "http://b/");
  EXPECT_EQ(take(true), "http://b/1");
  EXPECT_EQ(take(true), "http://b/2");
  EXPECT_EQ(take(true), "");
  EXPECT_EQ(f.queued(), 2u);
  f.hosts().Finish(f.hosts().Intern("http://a"), now);
  EXPECT_EQ(take(true), "http://a/1");
  EXPECT_EQ(take(true), "http://a/2");
  std::vector<std::string> order;

  Frontier g = Make({.allowed_domains = {"a", "b"}});
  g.AddSeed("http://a/");
  g.AddSeed("http://b/");
  for (const char* url : {"http://a/1", "http://a/2", "http://b/1", "http://b/2"}) g.Offer(url, 1);
  order.clear();
  while (auto item = g.Pop()) order.push_back(item->url);
  EXPECT_EQ(order, (std::vector<std::string>{"http://a/", "http://b/", "http://a/1", "http://b/1", "http://a/2",
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
  ASSERT_TRUE(made.ok());
  Frontier& f = *made;
  f.AddSeed("http://h/");
  EXPECT_EQ(f.Offer("http://h/a", 1), Frontier::Verdict::kQueued);
  EXPECT_EQ(f.Offer("http://h/b", 1), Frontier::Verdict::kQueuedOnDisk);
  EXPECT_EQ(f.Offer("http://h/b", 1), Frontier::Verdict::kDuplicate);  // seen, though not in memory
  EXPECT_EQ(f.queued(), 3u);
  EXPECT_EQ(f.in_memory(), 2u);
  EXPECT_EQ(f.on_disk(), 1u);
  EXPECT_EQ(f.Pop()->url, "http://h/");
  EXPECT_EQ(f.Pop()->url, "http://h/a");
  EXPECT_FALSE(f.Pop().has_value());
  EXPECT_FALSE(f.empty());  // /b waits in the database
  f.Restore({"http://h/b", 1, "http://h/", {}});
  EXPECT_EQ(f.on_disk(), 0u);
  EXPECT_EQ(f.Pop()->url, "http://h/b");
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
  ASSERT_TRUE(made.ok());
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
  while (f.Pop()) {
  }
  EXPECT_FALSE(f.empty());
  f.Settle(0, 1);  // one duplicate
  EXPECT_EQ(f.unsure(), 1u);
  f.Settle(1, 1);  // and one new, which now waits in the database
  EXPECT_EQ(f.unsure(), 0u);
  EXPECT_EQ(f.on_disk(), 1u);
  f.Settle(1, 1);  // totals: nothing new
  EXPECT_EQ(f.on_disk(), 1u);
  f.Restore({"http://h/x", 1, "http://h/", {}});
  EXPECT_EQ(f.Pop()->url, "http://h/x");
  EXPECT_TRUE(f.empty());
}

// A URL from a sitemap has no links row to hold it: unsure or past the window, it is queued here,
// and Pop's exact record of fetched URLs still keeps it from being fetched twice.
TEST(Frontier, AUrlWithoutALinkRowIsQueuedInMemory) {
  Result<Frontier> made = Frontier::Create({}, -1, 1, {.recent_capacity = 1, .bits_per_url = 10, .first_layer = 64});
  ASSERT_TRUE(made.ok());
  Frontier& f = *made;
  f.AddSeed("http://h/");
  EXPECT_EQ(f.Offer("http://h/a", 1, "", Frontier::Source::kOther), Frontier::Verdict::kQueued);  // past the window
  EXPECT_EQ(f.Offer("http://h/", 1, "", Frontier::Source::kOther), Frontier::Verdict::kQueued);   // unsure
  std::vector<std::string> popped;
  while (auto item = f.Pop()) popped.push_back(item->url);
  EXPECT_EQ(popped, (std::vector<std::string>{"http://h/", "http://h/a"}));
  EXPECT_TRUE(f.empty());
}

}  // namespace
}  // namespace fanout
