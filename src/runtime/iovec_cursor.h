// IovecCursor: walks a caller's iovec array as short transfers consume it.
//
// readv/writev/sendmsg may move fewer bytes than asked; the caller then continues from the
// first unfinished byte. The cursor never modifies the caller's array: window() copies the
// next (at most kMaxWindow) entries into the cursor, the first one trimmed by the bytes
// already moved, and advance() records progress. The cursor lives on the caller's stack and
// its window must stay untouched until the operation using it has completed.
#pragma once

#include <sys/uio.h>

#include <array>
#include <cstddef>
#include <span>

namespace cascade::runtime {

class IovecCursor {
 public:
  static constexpr std::size_t kMaxWindow = 64;

  explicit IovecCursor(std::span<const iovec> iov) : iov_(iov) { skip_empty(); }

  bool done() const { return index_ == iov_.size(); }

  std::span<const iovec> window() {
    std::size_t n = 0;
    for (std::size_t i = index_; i < iov_.size() && n < kMaxWindow; ++i) {
      window_[n] = iov_[i];
      if (i == index_) {
        window_[n].iov_base = static_cast<char*>(window_[n].iov_base) + offset_;
        window_[n].iov_len -= offset_;
      }
      ++n;
    }
    return {window_.data(), n};
  }

  // Records that `bytes` more bytes were transferred (at most what is left).
  void advance(std::size_t bytes) {
    while (bytes > 0 && !done()) {
      std::size_t left = iov_[index_].iov_len - offset_;
      if (bytes < left) {
        offset_ += bytes;
        return;
      }
      bytes -= left;
      ++index_;
      offset_ = 0;
    }
    skip_empty();
  }

 private:
  void skip_empty() {
    while (index_ < iov_.size() && iov_[index_].iov_len == offset_) {
      ++index_;
      offset_ = 0;
    }
  }

  std::span<const iovec> iov_;
  std::size_t index_ = 0;
  std::size_t offset_ = 0;
  std::array<iovec, kMaxWindow> window_{};
};

}  // namespace cascade::runtime
