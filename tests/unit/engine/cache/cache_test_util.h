// Test support for the block cache: blocks whose bytes say which key they belong to, sized
// so that one block's charge is exactly kBlockCharge.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "engine/cache/block_cache.h"

namespace cascade::engine::testing {

inline constexpr std::size_t kBlockCharge = 4096;
inline constexpr std::size_t kBlockBytes = kBlockCharge - kCacheEntryOverhead;

inline BlockCacheKey key_of(std::uint64_t file, std::uint64_t block) {
  return BlockCacheKey{file, block * 4096};
}

inline char fill_byte(const BlockCacheKey& key) {
  return static_cast<char>('a' + (key.file_number * 7 + key.offset / 4096) % 26);
}

inline std::string block_bytes(const BlockCacheKey& key, std::size_t size = kBlockBytes) {
  return std::string(size, fill_byte(key));
}

inline CacheValue block_value(const BlockCacheKey& key, std::size_t size = kBlockBytes) {
  return CacheValue::copy_of(block_bytes(key, size));
}

inline BlockCacheOptions blocks_capacity(std::size_t blocks) {
  BlockCacheOptions options;
  options.capacity = blocks * kBlockCharge;
  return options;
}

// Reads a block the way the table reader will: a hit, or an insert after the "disk read".
// True on a hit.
inline bool read_block(BlockCache& cache, const BlockCacheKey& key,
                       CachePriority priority = CachePriority::kNormal) {
  if (BlockCache::Handle h = cache.lookup(key)) return true;
  BlockCache::Handle h = cache.insert(key, block_value(key), priority);
  return false;
}

}  // namespace cascade::engine::testing
