// The block cache's key: which table file and where in it a block starts.
//
// (file_number, offset) names a block for the life of the database: file numbers come from
// the manifest's counter and are never reused, and table files are immutable, so a cached
// block can never go stale; a deleted file's blocks can only become unreachable. The key is
// 16 bytes and never written to disk.
//
// hash() mixes both halves with the SplitMix64 finalizer: offsets are page multiples and
// file numbers small and dense, so plain xor or addition would pile keys into few buckets.
// Two multiply-xorshift rounds are a few cycles, cheaper than XXH3 over 16 bytes.
#pragma once

#include <cstdint>

namespace cascade::engine {

struct BlockCacheKey {
  std::uint64_t file_number = 0;
  std::uint64_t offset = 0;

  friend bool operator==(const BlockCacheKey&, const BlockCacheKey&) = default;
};

inline std::uint64_t mix64(std::uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

inline std::uint64_t hash_block_key(const BlockCacheKey& key) {
  return mix64(key.file_number * 0x9e3779b97f4a7c15ULL ^ mix64(key.offset));
}

}  // namespace cascade::engine
