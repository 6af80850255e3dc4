#include "crawler/run_stats.h"

#include <gtest/gtest.h>

#include <cmath>

namespace fanout {
namespace {

// A crawl of any length keeps a timeline of at most kTimelinePoints samples, evenly spaced from 0,
// the interval doubled as often as that takes. (Report samples up to the wall time it is given, so
// a long crawl needs no waiting here.)
TEST(InFlightMeter, TimelineOfALongCrawlStaysCoarseAndEvenlySpaced) {
  for (double wall : {0.05, 1.0, 59.9, 60.0, 1000.0, 86400.0}) {
    InFlightMeter meter(8);
    meter.Change(+1, 5);  // at ~0 s: one in flight, five queued after the sample at 0
    CrawlSummary s;
    meter.Report(wall, s);
    const std::vector<TimelinePoint>& t = s.in_flight_timeline;
    ASSERT_FALSE(t.empty()) << wall;
    EXPECT_LE(t.size(), InFlightMeter::kTimelinePoints) << wall;
    EXPECT_EQ(t.front().seconds, 0);
    EXPECT_EQ(t.front().in_flight, 0u);  // sampled before the change at its own instant
    const double interval = s.in_flight_timeline_interval;
    EXPECT_GE(interval, InFlightMeter::kTimelineStart);
    // Doubled only when needed: at half the interval, the wall would take more points than allowed.
    if (interval > InFlightMeter::kTimelineStart) {
      EXPECT_GT(wall / (interval / 2), InFlightMeter::kTimelinePoints - 1.0);
    }
    for (size_t i = 1; i < t.size(); ++i) {
      EXPECT_NEAR(t[i].seconds - t[i - 1].seconds, interval, 1e-9) << wall << " at " << i;
      EXPECT_EQ(t[i].in_flight, 1u);
      EXPECT_EQ(t[i].queued, 5u);
    }
    EXPECT_LE(t.back().seconds, wall);
    EXPECT_GT(t.back().seconds + interval, wall);
  }
}

}  // namespace
}  // namespace fanout
