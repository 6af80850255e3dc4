#include "testsite/faults.h"

#include <gtest/gtest.h>

#include "tests/support/status_matchers.h"

namespace fanout::testsite {
namespace {

TEST(FaultRule, ParsesPathPrefixAndRate) {
  Result<FaultRule> exact = ParseFaultRule("status:503@/busy.html");
  ASSERT_OK(exact);
  EXPECT_EQ(exact->fault.kind, Fault::Kind::kStatus);
  EXPECT_EQ(exact->fault.code, 503);
  EXPECT_EQ(exact->fault.amount, 1);  // 503 carries Retry-After by default
  EXPECT_TRUE(exact->MatchesPath("/busy.html"));
  EXPECT_FALSE(exact->MatchesPath("/busy.html2"));

  Result<FaultRule> prefix = ParseFaultRule("reset@/flaky/*");
  ASSERT_OK(prefix);
  EXPECT_TRUE(prefix->MatchesPath("/flaky/a.html"));
  EXPECT_FALSE(prefix->MatchesPath("/other/a.html"));

  Result<FaultRule> rate = ParseFaultRule("status:500@0.25");
  ASSERT_OK(rate);
  EXPECT_DOUBLE_EQ(rate->rate, 0.25);
  EXPECT_FALSE(rate->MatchesPath("/anything"));
}

TEST(FaultRule, RedirectTargetMayContainColonsAndAt) {
  Result<FaultRule> r = ParseFaultRule("redirect:302:http://127.0.0.1:9/x@y.html@/old.html");
  ASSERT_OK(r);
  EXPECT_EQ(r->fault.text, "http://127.0.0.1:9/x@y.html");
  EXPECT_EQ(r->path, "/old.html");
}

TEST(FaultRule, EveryKindRoundTripsThroughItsText) {
  for (const char* spec : {"status:429:7", "redirect:301:/n.html", "chain:3:/", "loop", "slow:100", "reset",
                           "huge:5000000:chunked", "type:application/pdf", "malformed", "latin1:meta", "delay:250", "encoding:gzip",
                           "encoding:zstd:chunked", "chunked"}) {
    Result<Fault> f = ParseFault(spec);
    ASSERT_OK(f) << spec;
    EXPECT_EQ(f->ToString(), spec);
  }
}

TEST(FaultRule, BadRulesSayWhatIsWrong) {
  const std::pair<const char*, const char*> cases[] = {
      {"status:503", "missing '@"},          {"status:99@/a", "100..599"},
      {"teleport@/a", "unknown kind"},       {"redirect:200:/x@/a", "redirect:301"},
      {"slow:0@/a", "BYTES_PER_SECOND"},     {"status:500@1.5", "rate between 0 and 1"},
      {"loop:3@/a", "takes no arguments"},   {"type:html@/a", "type:MIME"},
      {"encoding:lzma@/a", "encoding:gzip|deflate|br|zstd"},
      {"encoding:br:slow@/a", "only encoding variant"},  {"chunked:1@/a", "takes no arguments"},
  };
  for (const auto& [spec, words] : cases) {
    Result<FaultRule> r = ParseFaultRule(spec);
    ASSERT_FALSE(r.ok()) << spec;
    EXPECT_NE(r.status().message().find(words), std::string::npos) << spec << " -> " << r.status().message();
  }
}

TEST(FaultRule, EncodingAndChunkedAlterTheAnswerInsteadOfReplacingIt) {
  Result<FaultRule> enc = ParseFaultRule("encoding:br:chunked@/a.html");
  ASSERT_OK(enc);
  EXPECT_EQ(enc->fault.kind, Fault::Kind::kEncoding);
  EXPECT_EQ(enc->fault.text, "br");
  EXPECT_TRUE(enc->fault.variant);
  EXPECT_TRUE(enc->fault.AltersAnswer());
  EXPECT_TRUE(ParseFault("chunked").value().AltersAnswer());
  EXPECT_FALSE(ParseFault("huge:10:chunked").value().AltersAnswer());
}

}  // namespace
}  // namespace fanout::testsite
