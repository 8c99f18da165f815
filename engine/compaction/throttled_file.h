// ThrottledFile: a FileHandle that passes every read and write of a compaction through the
// shard's rate limiter (compaction_rate_limit) and counts the bytes.
//
// A read is charged the bytes it asks for, a write the bytes it writes, before the call
// is made, so the limiter paces the device traffic itself (whole aligned pages, not
// logical entries). Syncs, sizes and closes pass through uncharged. The limiter may be
// null (unlimited). The inner handle is owned; the counters and the limiter must outlive
// this handle. One fiber at a time.
#pragma once

#include <cstdint>
#include <memory>

#include "src/runtime/file_system.h"
#include "src/runtime/rate_limiter.h"

namespace cascade::engine {

struct IoByteCounters {
  std::uint64_t read = 0;
  std::uint64_t written = 0;
};

class ThrottledFile final : public runtime::FileHandle {
 public:
  ThrottledFile(std::unique_ptr<runtime::FileHandle> inner, runtime::RateLimiter* limiter,
                IoByteCounters& counters)
      : inner_(std::move(inner)), limiter_(limiter), counters_(counters) {}

  std::uint32_t read_alignment() const override { return inner_->read_alignment(); }
  Result<std::size_t> read_at(std::uint64_t offset, std::span<std::byte> buffer) override {
    if (limiter_ != nullptr) limiter_->acquire(buffer.size());
    auto n = inner_->read_at(offset, buffer);
    if (n) counters_.read += *n;
    return n;
  }
  Status write_at(std::uint64_t offset, std::span<const std::byte> data) override {
    if (limiter_ != nullptr) limiter_->acquire(data.size());
    Status s = inner_->write_at(offset, data);
    if (s) counters_.written += data.size();
    return s;
  }
  Status sync() override { return inner_->sync(); }
  Status allocate(std::uint64_t offset, std::uint64_t length) override {
    return inner_->allocate(offset, length);
  }
  Status truncate(std::uint64_t size) override { return inner_->truncate(size); }
  Result<std::uint64_t> size() override { return inner_->size(); }
  Status close() override { return inner_->close(); }
  const std::string& path() const override { return inner_->path(); }

 private:
  std::unique_ptr<runtime::FileHandle> inner_;
  runtime::RateLimiter* limiter_;
  IoByteCounters& counters_;
};

}  // namespace cascade::engine
