#include "storage/id_cache.h"

#include <gtest/gtest.h>

#include <string>

namespace fanout {
namespace {

TEST(IdCache, RemembersTheIdsItWasGiven) {
  IdCache cache(4);
  EXPECT_FALSE(cache.Find("http://h/a"));
  cache.Put("http://h/a", 7);
  cache.Put("http://h/b", 8);
  EXPECT_EQ(cache.Find("http://h/a"), 7);
  EXPECT_EQ(cache.Find("http://h/b"), 8);
  EXPECT_FALSE(cache.Find("http://h/c"));
}

TEST(IdCache, HoldsAtMostTwoGenerationsHoweverManyItIsGiven) {
  IdCache cache(100);
  for (int i = 0; i < 10'000; ++i) {
    cache.Put("http://h/" + std::to_string(i), i);
    ASSERT_LE(cache.size(), 200u) << i;
  }
  EXPECT_EQ(cache.Find("http://h/9999"), 9999);
  EXPECT_FALSE(cache.Find("http://h/0")) << "forgotten two generations ago";
}

TEST(IdCache, AnEntryInUseOutlivesTheGenerationItWasPutIn) {
  IdCache cache(2);
  cache.Put("home", 1);
  cache.Put("a", 2);
  cache.Put("b", 3);  // {home, a} are the old generation now
  EXPECT_EQ(cache.Find("home"), 1);  // and home moves into the new one, beside b
  cache.Put("c", 4);  // the new generation was full: {b, home} become the old one, a is dropped
  cache.Put("d", 5);
  EXPECT_EQ(cache.Find("home"), 1);
  EXPECT_FALSE(cache.Find("a"));
}

TEST(IdCache, ACapacityOfZeroRemembersNothing) {
  IdCache cache(0);
  cache.Put("a", 1);
  EXPECT_FALSE(cache.Find("a"));
  EXPECT_EQ(cache.size(), 0u);
}

TEST(IdCache, ClearForgetsEverything) {
  IdCache cache(2);
  cache.Put("a", 1);
  cache.Put("b", 2);
  cache.Put("c", 3);
  cache.Clear();
  EXPECT_EQ(cache.size(), 0u);
  for (const char* text : {"a", "b", "c"}) EXPECT_FALSE(cache.Find(text)) << text;
}

}  // namespace
}  // namespace fanout
