// Status: the outcome of an operation that can fail, in the style of leveldb::Status.
//
// Inside the libraries errors are values: a function returns Status (or Result<T>, see result.h)
// and the caller decides. Only cli/ turns a Status into a message and an exit code.
// A Status is cheap to copy when ok() and carries a one-line message otherwise.
#pragma once

#include <string>
#include <string_view>
#include <utility>

namespace fanout {

class Status {
 public:
  enum class Code {
    kOk,
    kInvalidArgument,  // the caller's input is wrong: a flag, a URL, a rule
    kNotFound,
    kIOError,          // the OS or a library said no: open, bind, write
    kCorruption,       // data on disk is not what we wrote
    kUnavailable,      // a resource is busy or gone: a port in use, a server down
  };

  Status() = default;  // ok

  static Status Ok() { return {}; }
  static Status InvalidArgument(std::string msg) { return {Code::kInvalidArgument, std::move(msg)}; }
  static Status NotFound(std::string msg) { return {Code::kNotFound, std::move(msg)}; }
  static Status IOError(std::string msg) { return {Code::kIOError, std::move(msg)}; }
  static Status Corruption(std::string msg) { return {Code::kCorruption, std::move(msg)}; }
  static Status Unavailable(std::string msg) { return {Code::kUnavailable, std::move(msg)}; }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }

  // "ok", or the code's name and the message: "invalid argument: --port must be 0..65535".
  std::string ToString() const;

  // The same failure with `context` in front of its message ("context: message"); Ok stays Ok.
  Status Annotated(const std::string& context) const {
    return ok() ? *this : Status(code_, context + ": " + message_);
  }

 private:
  Status(Code code, std::string msg) : code_(code), message_(std::move(msg)) {}

  Code code_ = Code::kOk;
  std::string message_;
};

}  // namespace fanout
