// SeenFilter: never "new" for a URL it was given, rarely "unsure" for one it was not, and a few
// bytes per URL.
#include "crawler/seen_filter.h"

#include <gtest/gtest.h>

#include <string>

namespace fanout {
namespace {

std::string Url(int i) { return "http://example.test/section/" + std::to_string(i % 97) + "/page" + std::to_string(i) + ".html"; }

TEST(SeenFilter, NeverCallsAUrlItWasGivenNewAcrossItsLayers) {
  SeenFilter filter({.recent_capacity = 1000, .bits_per_url = 10, .first_layer = 1000});
  constexpr int kUrls = 200000;
  for (int i = 0; i < kUrls; ++i) filter.Insert(Url(i));
  EXPECT_GT(filter.layers(), 5u);  // it grew: 1000, 2000, 4000, ...
  int new_answers = 0;
  for (int i = 0; i < kUrls; ++i) new_answers += filter.Check(Url(i)) == SeenFilter::Answer::kNew;
  EXPECT_EQ(new_answers, 0);
}

TEST(SeenFilter, CallsFewUrlsItWasNotGivenUnsure) {
  SeenFilter filter;  // the crawl's defaults
  constexpr int kUrls = 300000;
  for (int i = 0; i < kUrls; ++i) filter.Insert(Url(i));
  int unsure = 0;
  for (int i = kUrls; i < 2 * kUrls; ++i) {
    const SeenFilter::Answer a = filter.Check(Url(i));
    EXPECT_NE(a, SeenFilter::Answer::kSeen) << Url(i);
    unsure += a == SeenFilter::Answer::kUnsure;
  }
  // 10 bits a URL: about 1% per layer, a few layers.
  EXPECT_LT(unsure, kUrls * 3 / 100) << unsure << " of " << kUrls;
  // Bloom layers plus the recent set, against 16 bytes a URL or more for an exact set.
  EXPECT_LT(filter.memory_bytes(), size_t{kUrls} * 16) << filter.memory_bytes();
}

TEST(SeenFilter, RecentUrlsAreSeenAndOlderOnesUnsure) {
  SeenFilter filter({.recent_capacity = 3, .bits_per_url = 10, .first_layer = 64});
  EXPECT_EQ(filter.Check("http://h/a"), SeenFilter::Answer::kNew);
  filter.Insert("http://h/a");
  EXPECT_EQ(filter.Check("http://h/a"), SeenFilter::Answer::kSeen);
  for (int i = 0; i < 3; ++i) filter.Insert("http://h/" + std::to_string(i));  // the recent set fills and empties
  EXPECT_EQ(filter.Check("http://h/a"), SeenFilter::Answer::kUnsure);
  filter.Insert("http://h/a");
  EXPECT_EQ(filter.Check("http://h/a"), SeenFilter::Answer::kSeen);
}

TEST(SeenFilter, MemoryGrowsFarSlowerThanAnExactSet) {
  SeenFilter filter;
  const size_t empty = filter.memory_bytes();
  for (int i = 0; i < 1000000; ++i) filter.Insert(Url(i));
  const size_t per_url = (filter.memory_bytes() - empty) / 1000000;
  EXPECT_LE(per_url, 4u) << filter.memory_bytes();
}

}  // namespace
}  // namespace fanout
