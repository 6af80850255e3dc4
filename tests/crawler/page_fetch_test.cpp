// PageFetch and the retry policy, without a network: responses are made up, the state machine's
// steps are what is checked.
#include "crawler/page_fetch.h"

#include <gtest/gtest.h>

#include "crawler/retry.h"

namespace fanout {
namespace {

FetchResponse Answer(long status, std::map<std::string, std::string> headers = {}) {
  FetchResponse r;
  r.status = status;
  r.headers = std::move(headers);
  r.timings.total = 0.01;
  return r;
}

TEST(Retry, RetryAfterTakesSecondsAndHttpDates) {
  const auto now = std::chrono::system_clock::from_time_t(1445412480);  // Wed, 21 Oct 2015 07:28:00 GMT
  EXPECT_EQ(ParseRetryAfter("120", now), 120.0);
  EXPECT_EQ(ParseRetryAfter(" 7 ", now), 7.0);
  EXPECT_EQ(ParseRetryAfter("Wed, 21 Oct 2015 07:28:30 GMT", now), 30.0);
  EXPECT_EQ(ParseRetryAfter("Wednesday, 21-Oct-15 07:29:00 GMT", now), 60.0);
  EXPECT_EQ(ParseRetryAfter("Wed Oct 21 07:28:10 2015", now), 10.0);
  EXPECT_EQ(ParseRetryAfter("Tue, 20 Oct 2015 07:28:00 GMT", now), 0.0);  // in the past: now
  EXPECT_FALSE(ParseRetryAfter("soon", now).has_value());
  EXPECT_FALSE(ParseRetryAfter("-5", now).has_value());
  EXPECT_FALSE(ParseRetryAfter("", now).has_value());
}

TEST(Retry, BackoffDoublesIsCappedAndJittered) {
  EXPECT_DOUBLE_EQ(BackoffSeconds(1, 0.5, 30, 0, 0.3), 0.5);
  EXPECT_DOUBLE_EQ(BackoffSeconds(3, 0.5, 30, 0, 0.3), 2.0);
  EXPECT_DOUBLE_EQ(BackoffSeconds(20, 0.5, 30, 0, 0.3), 30.0);
  EXPECT_DOUBLE_EQ(BackoffSeconds(1, 1, 30, 0.2, 0.0), 0.8);
  EXPECT_NEAR(BackoffSeconds(1, 1, 30, 0.2, 0.999999), 1.2, 1e-5);
}

TEST(Retry, OnlyFailuresThatMayPassAreRetried) {
  for (long status : {429L, 500L, 502L, 503L, 504L}) EXPECT_TRUE(IsRetryable(Answer(status))) << status;
  for (long status : {200L, 301L, 400L, 403L, 404L, 410L, 501L}) EXPECT_FALSE(IsRetryable(Answer(status))) << status;
  FetchResponse refused;
  refused.curl_code = CURLE_COULDNT_CONNECT;
  EXPECT_TRUE(IsRetryable(refused));
  FetchResponse bad_tls;
  bad_tls.curl_code = CURLE_PEER_FAILED_VERIFICATION;
  EXPECT_FALSE(IsRetryable(bad_tls));
}

TEST(PageFetch, RetriesWaitLongerEachTimeAndHonourRetryAfter) {
  CrawlOptions options{.retries = 2, .retry_delay = 0.5, .max_retry_wait = 10};
  PageFetch fetch(options, "http://h/a", 1);
  ASSERT_EQ(fetch.Next(), PageFetch::Step::kFetch);
  EXPECT_EQ(fetch.request().max_redirects, 0);  // the crawler follows redirects itself
  fetch.OnResponse(Answer(503, {{"retry-after", "3"}}));
  ASSERT_EQ(fetch.Next(), PageFetch::Step::kWait);
  EXPECT_DOUBLE_EQ(fetch.wait_seconds(), 3.0);  // longer than the back-off
  ASSERT_EQ(fetch.Next(), PageFetch::Step::kFetch);
  fetch.OnResponse(Answer(500));
  ASSERT_EQ(fetch.Next(), PageFetch::Step::kWait);
  EXPECT_GE(fetch.wait_seconds(), 0.8);  // the second back-off: 1 s +- 20%
  EXPECT_LE(fetch.wait_seconds(), 1.2);
  ASSERT_EQ(fetch.Next(), PageFetch::Step::kFetch);
  fetch.OnResponse(Answer(500));
  ASSERT_EQ(fetch.Next(), PageFetch::Step::kDone);  // out of retries
  PageRecord record;
  fetch.Fill(record);
  EXPECT_EQ(record.attempts, 3);
  EXPECT_EQ(record.error_kind, "http");
  EXPECT_NEAR(record.total, 0.03, 1e-9);  // every transfer's time, not the waits
}

TEST(PageFetch, FollowsRedirectsItIsAllowedToAndRecordsTheChain) {
  CrawlOptions options;
  PageFetch fetch(options, "http://h/a", 1);
  fetch.Next();
  fetch.OnResponse(Answer(301, {{"location", "/b"}}));
  ASSERT_EQ(fetch.Next(), PageFetch::Step::kCheckRedirect);
  EXPECT_EQ(fetch.redirect_target(), "http://h/b");
  fetch.OnRedirectVerdict({.follow = true, .reason = "", .detail = ""});
  ASSERT_EQ(fetch.Next(), PageFetch::Step::kFetch);
  EXPECT_EQ(fetch.request().url, "http://h/b");
  fetch.OnResponse(Answer(200));
  ASSERT_EQ(fetch.Next(), PageFetch::Step::kDone);
  PageRecord record;
  record.url = "http://h/a";
  fetch.Fill(record);
  EXPECT_EQ(record.final_url, "http://h/b");
  EXPECT_EQ(record.redirects, 1);
  EXPECT_EQ(record.redirect_chain, R"([{"location":"http://h/b","status":301,"url":"http://h/a"}])");
  EXPECT_EQ(fetch.url(), "http://h/b");
}

TEST(PageFetch, ARefusedRedirectIsRecordedAndALoopIsAnError) {
  CrawlOptions options;
  PageFetch refused(options, "http://h/a", 1);
  refused.Next();
  refused.OnResponse(Answer(302, {{"location", "http://other/"}}));
  ASSERT_EQ(refused.Next(), PageFetch::Step::kCheckRedirect);
  refused.OnRedirectVerdict({.follow = false, .reason = "out_of_scope", .detail = ""});
  ASSERT_EQ(refused.Next(), PageFetch::Step::kDone);
  ASSERT_TRUE(refused.skipped_target().has_value());
  EXPECT_EQ(refused.skipped_target()->reason, "redirect_out_of_scope");
  EXPECT_EQ(refused.skipped_target()->found_on, "http://h/a");
  PageRecord record;
  refused.Fill(record);
  EXPECT_EQ(record.status, 302);
  EXPECT_EQ(record.redirects, 0);
  EXPECT_TRUE(record.error_kind.empty());

  PageFetch loop(options, "http://h/a", 1);
  loop.Next();
  loop.OnResponse(Answer(302, {{"location", "/b"}}));
  loop.Next();
  loop.OnRedirectVerdict({.follow = true, .reason = "", .detail = ""});
  loop.Next();
  loop.OnResponse(Answer(302, {{"location", "/a"}}));
  ASSERT_EQ(loop.Next(), PageFetch::Step::kDone);
  PageRecord looped;
  loop.Fill(looped);
  EXPECT_EQ(looped.error_kind, "redirect_loop");

  CrawlOptions one_hop{.max_redirects = 1};
  PageFetch chain(one_hop, "http://h/a", 1);
  chain.Next();
  chain.OnResponse(Answer(302, {{"location", "/b"}}));
  chain.Next();
  chain.OnRedirectVerdict({.follow = true, .reason = "", .detail = ""});
  chain.Next();
  chain.OnResponse(Answer(302, {{"location", "/c"}}));
  ASSERT_EQ(chain.Next(), PageFetch::Step::kDone);
  PageRecord long_chain;
  chain.Fill(long_chain);
  EXPECT_EQ(long_chain.error_kind, "too_many_redirects");
}

}  // namespace
}  // namespace fanout
