// Errors as values: Status (success or an error code with a message) and Result<T>
// (a T or a Status). Result follows std::expected's interface (has_value, value, error,
// operator*, operator->, explicit bool) so a later switch to C++23 is a rename.
//
// Every layer above the runtime returns these; nothing throws across a layer boundary.
// Corruption keeps its own code all the way up so it is never mistaken for "not found".
#pragma once

#include <cassert>
#include <cerrno>
#include <cstring>
#include <string>
#include <utility>
#include <variant>

namespace cascade {

enum class StatusCode : int {
  kOk = 0,
  kNotFound = 1,
  kCorruption = 2,
  kIoError = 3,
  kInvalidArgument = 4,
  kNoSpace = 5,
  kCancelled = 6,
  kTimedOut = 7,
  kBusy = 8,
  kShutdown = 9,
  kNotSupported = 10,
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status ok() { return {}; }
  static Status not_found(std::string m = {}) { return {StatusCode::kNotFound, std::move(m)}; }
  static Status corruption(std::string m) { return {StatusCode::kCorruption, std::move(m)}; }
  static Status invalid_argument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
  static Status cancelled(std::string m = "cancelled") { return {StatusCode::kCancelled, std::move(m)}; }
  static Status timed_out(std::string m = "timed out") { return {StatusCode::kTimedOut, std::move(m)}; }
  static Status shutdown(std::string m = "shutting down") { return {StatusCode::kShutdown, std::move(m)}; }
  static Status not_supported(std::string m) { return {StatusCode::kNotSupported, std::move(m)}; }
  static Status io_error(std::string m) { return {StatusCode::kIoError, std::move(m)}; }
  static Status no_space(std::string m) { return {StatusCode::kNoSpace, std::move(m)}; }

  // Maps a negative errno (as io_uring completions carry it) to a Status naming `what`.
  static Status from_errno(int err, const std::string& what) {
    if (err < 0) err = -err;
    StatusCode code = StatusCode::kIoError;
    switch (err) {
      case ENOSPC: case EDQUOT: code = StatusCode::kNoSpace; break;
      case ECANCELED: code = StatusCode::kCancelled; break;
      case ETIME: case ETIMEDOUT: code = StatusCode::kTimedOut; break;
      case ENOENT: code = StatusCode::kNotFound; break;
      case EINVAL: code = StatusCode::kInvalidArgument; break;
      default: break;
    }
    Status s(code, what + ": " + std::strerror(err));
    s.errno_ = err;
    return s;
  }

  bool is_ok() const { return code_ == StatusCode::kOk; }
  explicit operator bool() const { return is_ok(); }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  int sys_errno() const { return errno_; }  // 0 unless made by from_errno

  bool is_not_found() const { return code_ == StatusCode::kNotFound; }
  bool is_corruption() const { return code_ == StatusCode::kCorruption; }
  bool is_cancelled() const { return code_ == StatusCode::kCancelled; }
  bool is_timed_out() const { return code_ == StatusCode::kTimedOut; }
  bool is_no_space() const { return code_ == StatusCode::kNoSpace; }

  std::string to_string() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  int errno_ = 0;
  std::string message_;
};

inline std::string Status::to_string() const {
  static const char* const kNames[] = {"OK",          "NotFound",     "Corruption", "IOError",
                                       "InvalidArgument", "NoSpace", "Cancelled",  "TimedOut",
                                       "Busy",        "Shutdown",     "NotSupported"};
  std::string s = kNames[static_cast<int>(code_)];
  if (!message_.empty()) s += ": " + message_;
  return s;
}

// Marks the error alternative when constructing a Result, as std::unexpected does.
struct Unexpected {
  Status status;
};
inline Unexpected unexpected(Status s) { return Unexpected{std::move(s)}; }

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(Unexpected u) : v_(std::in_place_index<1>, std::move(u.status)) {  // NOLINT
    assert(!std::get<1>(v_).is_ok());
  }
  Result(Status s) : v_(std::in_place_index<1>, std::move(s)) {  // NOLINT
    assert(!std::get<1>(v_).is_ok());
  }

  bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& value() & { assert(has_value()); return std::get<0>(v_); }
  const T& value() const& { assert(has_value()); return std::get<0>(v_); }
  T&& value() && { assert(has_value()); return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Status& error() const { assert(!has_value()); return std::get<1>(v_); }
  Status status() const { return has_value() ? Status::ok() : std::get<1>(v_); }

  template <typename U>
  T value_or(U&& fallback) const& {
    return has_value() ? std::get<0>(v_) : static_cast<T>(std::forward<U>(fallback));
  }

 private:
  std::variant<T, Status> v_;
};

}  // namespace cascade
