// ASSERT_OK / EXPECT_OK: a fanout::Status or a fanout::Result<T> is ok, or the test fails printing
// the expression and the error (code and message), as leveldb's ASSERT_LEVELDB_OK does.
//
//   ASSERT_OK(store->Flush());
//   Result<Page> page = Parse(html);
//   ASSERT_OK(page) << "while parsing " << name;   // more context streams in, as with ASSERT_TRUE
//
// The expression is evaluated once; a Result is only looked at, never moved from, so it can be
// used after the assertion.
#pragma once

#include <gtest/gtest.h>

#include "util/result.h"
#include "util/status.h"

namespace fanout::test {

inline const Status& StatusOf(const Status& s) { return s; }
template <typename T>
Status StatusOf(const Result<T>& r) {
  return r.status();
}

// The predicate-formatter behind the macros: success when ok, else the expression and the error.
template <typename T>
::testing::AssertionResult IsOk(const char* expr_text, const T& value) {
  const Status status = StatusOf(value);
  if (status.ok()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << expr_text << ": " << status.ToString();
}

}  // namespace fanout::test

#define ASSERT_OK(expr) ASSERT_PRED_FORMAT1(::fanout::test::IsOk, expr)
#define EXPECT_OK(expr) EXPECT_PRED_FORMAT1(::fanout::test::IsOk, expr)
