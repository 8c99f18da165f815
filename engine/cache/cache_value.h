// What the block cache stores: the uncompressed bytes of one block, owned by the cache.
//
// A BlockContents from the decoder either owns a 64-byte aligned buffer (a decompressed
// block) or views a read buffer (a raw block stored uncompressed). A cached value must
// outlive the read buffer, so from_contents() adopts an owned buffer as it is and copies a
// view into a new 64-byte aligned buffer (filter probes rely on that alignment). The data
// need not start at the buffer's first byte.
//
// charge() is what the value costs against the cache's capacity: its bytes plus a fixed
// overhead for the entry record, its hash bucket and the allocator's headers, so a cache
// of many tiny blocks is still bounded by the memory it really uses.
#pragma once

#include <cstddef>
#include <cstring>
#include <string_view>
#include <utility>

#include "engine/table/block.h"

namespace cascade::engine {

inline constexpr std::size_t kCacheEntryOverhead = 192;

class CacheValue {
 public:
  CacheValue() = default;
  CacheValue(CacheValue&&) noexcept = default;
  CacheValue& operator=(CacheValue&&) noexcept = default;
  CacheValue(const CacheValue&) = delete;
  CacheValue& operator=(const CacheValue&) = delete;

  static CacheValue copy_of(std::string_view bytes) {
    CacheLineBuffer buffer = allocate_cache_line_aligned(bytes.empty() ? 1 : bytes.size());
    if (!bytes.empty()) std::memcpy(buffer.get(), bytes.data(), bytes.size());
    std::string_view data(buffer.get(), bytes.size());
    return CacheValue(std::move(buffer), data);
  }
  // Adopts an owned block, copies a viewed one.
  static CacheValue from_contents(BlockContents contents) {
    if (contents.owned == nullptr) return copy_of(contents.data);
    return CacheValue(std::move(contents.owned), contents.data);
  }

  std::string_view data() const { return data_; }
  // Set by a loader that opened the bytes as a Block (null for other values: a value-log
  // record).
  const BlockLayout* block_layout() const { return has_layout_ ? &layout_ : nullptr; }
  void set_block_layout(BlockLayout layout) {
    layout_ = layout;
    has_layout_ = true;
  }
  std::size_t size() const { return data_.size(); }
  std::size_t charge() const { return data_.size() + kCacheEntryOverhead; }
  // A view for Block::open; the cache handle that holds this value must outlive it.
  BlockContents view() const { return BlockContents{data_, nullptr}; }

 private:
  CacheValue(CacheLineBuffer owner, std::string_view data)
      : owner_(std::move(owner)), data_(data) {}

  CacheLineBuffer owner_;
  std::string_view data_;
  BlockLayout layout_;
  bool has_layout_ = false;
};

}  // namespace cascade::engine
