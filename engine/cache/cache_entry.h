// One cached block and the intrusive FIFO queues that S3-FIFO keeps entries in.
//
// An entry is in exactly one of three states:
//   resident  in the hash table and in one queue: small, main or high (queue != kNone); its
//             charge counts in the cache's usage.
//   detached  in neither (queue == kNone), alive only because handles pin it (refs > 0):
//             an entry erased or displaced while pinned, or a block loaded with
//             fill_cache=false. It is freed when its last handle is released.
//   freed     never observable: a resident entry is freed when evicted or erased with
//             refs == 0, a detached one when refs drops to 0.
// Eviction never takes a pinned entry (refs > 0); it only moves it along.
//
// freq is S3-FIFO's 2-bit access counter: a hit raises it (saturating at kMaxFreq) and
// moves nothing; the eviction scan reads and lowers it.
#pragma once

#include <cassert>
#include <cstddef>
#include <cstdint>

#include "engine/cache/cache_key.h"
#include "engine/cache/cache_value.h"

namespace cascade::engine {

// Index and filter blocks are kHigh, ordinary data blocks kNormal, blocks read by
// compaction or scans that still want caching kLow (see block_cache.h for what each does).
enum class CachePriority : std::uint8_t { kLow = 0, kNormal = 1, kHigh = 2 };
inline constexpr int kCachePriorities = 3;

// Which S3-FIFO queue holds a resident entry (block_cache.h); kNone when detached.
enum class CacheQueue : std::uint8_t { kNone = 0, kSmall = 1, kMain = 2, kHigh = 3 };

inline constexpr std::uint8_t kMaxFreq = 3;

// Laid out so that a hit touches one cache line: the chain link, hash, key, refs and freq
// come first and the entry is line-aligned.
struct alignas(64) CacheEntry {
  CacheEntry* hash_next = nullptr;  // bucket chain (EntryTable)
  std::uint64_t hash = 0;
  BlockCacheKey key;
  std::uint32_t refs = 0;  // live handles
  std::uint8_t freq = 0;
  CachePriority priority = CachePriority::kNormal;
  CacheQueue queue = CacheQueue::kNone;
  std::size_t charge = 0;
  CacheValue value;
  CacheEntry* newer = nullptr;  // queue links: toward the head (most recently queued)
  CacheEntry* older = nullptr;  // toward the tail (next to be examined for eviction)
};

static_assert(sizeof(CacheEntry) + 64 <= kCacheEntryOverhead,
              "kCacheEntryOverhead must cover the entry, its bucket and allocator slack");

// A FIFO of entries: push at the head, examine and pop at the tail, unlink from anywhere.
// Keeps the count and the summed charge of its entries.
class EntryQueue {
 public:
  bool empty() const { return tail_ == nullptr; }
  std::size_t size() const { return size_; }
  std::size_t bytes() const { return bytes_; }
  CacheEntry* tail() const { return tail_; }
  CacheEntry* head() const { return head_; }

  void push_head(CacheEntry* e) {
    e->older = head_;
    e->newer = nullptr;
    if (head_ != nullptr) head_->newer = e; else tail_ = e;
    head_ = e;
    ++size_;
    bytes_ += e->charge;
  }
  void unlink(CacheEntry* e) {
    if (e->newer != nullptr) e->newer->older = e->older; else head_ = e->older;
    if (e->older != nullptr) e->older->newer = e->newer; else tail_ = e->newer;
    e->newer = e->older = nullptr;
    assert(size_ > 0 && bytes_ >= e->charge);
    --size_;
    bytes_ -= e->charge;
  }

 private:
  CacheEntry* head_ = nullptr;
  CacheEntry* tail_ = nullptr;
  std::size_t size_ = 0;
  std::size_t bytes_ = 0;
};

}  // namespace cascade::engine
