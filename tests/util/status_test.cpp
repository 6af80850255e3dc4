#include "util/status.h"

#include <gtest/gtest.h>

#include "util/result.h"

namespace fanout {
namespace {

TEST(Status, OkHasNoMessage) {
  EXPECT_TRUE(Status::Ok().ok());
  EXPECT_EQ(Status::Ok().ToString(), "ok");
}

TEST(Status, ErrorNamesItsKindAndMessage) {
  Status s = Status::InvalidArgument("--port must be 0..65535");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(s.ToString(), "invalid argument: --port must be 0..65535");
}

Result<int> Half(int n) {
  if (n % 2 != 0) return Status::InvalidArgument(std::to_string(n) + " is odd");
  return n / 2;
}

Status HalfTwice(int n, int& out) {
  Result<int> once = Half(n);
  FANOUT_RETURN_IF_ERROR(once.status());
  Result<int> twice = Half(*once);
  FANOUT_RETURN_IF_ERROR(twice.status());
  out = *twice;
  return Status::Ok();
}

TEST(Result, CarriesValueOrError) {
  EXPECT_EQ(*Half(8), 4);
  EXPECT_FALSE(Half(3).ok());
  EXPECT_EQ(Half(3).status().message(), "3 is odd");
}

TEST(Result, ReturnIfErrorStopsAtTheFirstFailure) {
  int out = -1;
  EXPECT_TRUE(HalfTwice(8, out).ok());
  EXPECT_EQ(out, 2);
  Status s = HalfTwice(6, out);
  EXPECT_EQ(s.message(), "3 is odd");
}

}  // namespace
}  // namespace fanout
