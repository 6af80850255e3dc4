// Result<T>: a value or the Status that explains why there is none.
//
// C++20 has no std::expected (GCC 12 offers it only under -std=c++23), so this is the small subset
// fanout needs. Accessing value() of an error Result is a programming error (asserted).
#pragma once

#include <cassert>
#include <utility>
#include <variant>

#include "util/status.h"

namespace fanout {

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design, like expected
  Result(Status error) : v_(std::move(error)) { assert(!std::get<Status>(v_).ok()); }  // NOLINT

  bool ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return ok(); }

  // REQUIRES: ok()
  T& value() & { assert(ok()); return std::get<T>(v_); }
  const T& value() const& { assert(ok()); return std::get<T>(v_); }
  T&& value() && { assert(ok()); return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  // Status::Ok() when ok(), the error otherwise.
  Status status() const { return ok() ? Status::Ok() : std::get<Status>(v_); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace fanout

// Early return of an error Status from a function returning Status or Result<U>.
#define FANOUT_RETURN_IF_ERROR(expr)         \
  do {                                       \
    ::fanout::Status _st = (expr);           \
    if (!_st.ok()) return _st;               \
  } while (0)

// Unwraps a Result<T> into a new variable, or returns its error from a function returning Status or
// Result<U>:
//   FANOUT_ASSIGN_OR_RETURN(SqliteStmt stmt, db.Prepare(sql));
#define FANOUT_ASSIGN_OR_RETURN(decl, expr) \
  FANOUT_ASSIGN_OR_RETURN_IMPL_(FANOUT_RESULT_CONCAT_(_fanout_result_, __LINE__), decl, expr)
#define FANOUT_ASSIGN_OR_RETURN_IMPL_(tmp, decl, expr) \
  auto tmp = (expr);                                   \
  if (!tmp.ok()) return tmp.status();                  \
  decl = std::move(tmp).value()
#define FANOUT_RESULT_CONCAT_INNER_(a, b) a##b
#define FANOUT_RESULT_CONCAT_(a, b) FANOUT_RESULT_CONCAT_INNER_(a, b)
