// The block cache's index: resident entries by key, an intrusive chained hash table.
//
// Entries carry their own chain link (CacheEntry::hash_next) and their key's hash, so a
// lookup hashes once, touches one bucket and compares 16-byte keys only on a hash match,
// and insert or remove never allocates; only growth does (the bucket array doubles when
// entries outnumber buckets, so chains stay about one entry long on average).
//
// The table holds exactly the resident entries (cache_entry.h); it neither owns nor frees
// them. Single-threaded, like the cache that owns it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "engine/cache/cache_entry.h"

namespace cascade::engine {

class EntryTable {
 public:
  EntryTable() : buckets_(kInitialBuckets, nullptr) {}

  std::size_t size() const { return size_; }

  CacheEntry* find(const BlockCacheKey& key, std::uint64_t hash) const {
    for (CacheEntry* e = buckets_[hash & mask()]; e != nullptr; e = e->hash_next) {
      if (e->hash == hash && e->key == key) return e;
    }
    return nullptr;
  }

  // `e` must not be in the table, and no entry with its key may be.
  void insert(CacheEntry* e);
  // `e` must be in the table.
  void remove(CacheEntry* e);

 private:
  static constexpr std::size_t kInitialBuckets = 64;

  std::size_t mask() const { return buckets_.size() - 1; }
  void grow();

  std::vector<CacheEntry*> buckets_;  // size is a power of two
  std::size_t size_ = 0;
};

}  // namespace cascade::engine
