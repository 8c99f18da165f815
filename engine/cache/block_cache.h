// BlockCache: a shard's cache of uncompressed table blocks, with pinning, S3-FIFO eviction,
// priorities for index and filter blocks, and coalesced loads.
//
// Threading. A cache belongs to one shard and is used only from that shard's thread (its
// fibers, its loop): there are no locks or atomics anywhere in it. Fibers interleave only
// where one suspends, i.e. inside a loader passed to lookup_or_load; every other call
// runs to completion without suspending.
//
// Keys and staleness. Blocks are named by (file number, offset) (cache_key.h). Tables are
// immutable and file numbers never reused, so an entry is never stale; erase_file() frees
// a deleted table's blocks early, and without it they would simply age out.
//
// Accounting. usage() is the sum of the charges (cache_value.h) of resident entries. It
// stays <= capacity() except while pinned entries keep it above: eviction never takes a
// pinned entry, and insert() never fails (the caller already holds the block's memory; a
// refusal would not save any). After insert(), set_capacity() or the release of the last
// handle on an entry, either usage() <= capacity() or every resident entry is pinned.
// pinned_bytes() is the resident charge held by handles; it is bounded by the callers (a
// read pins its blocks only while it uses them, at most one per in-flight IO or iterator).
//
// Policy: S3-FIFO (Yang et al., SOSP 2023), with a third queue for priority blocks.
//   small  (~10% of capacity) new kNormal and kLow blocks. A hit only raises the entry's
//          2-bit freq; nothing moves on a hit. When small is over its share, its oldest
//          entry leaves: to main if it was hit (freq > 0) or is pinned, else out of the
//          cache, its hash into the ghost queue (kLow entries leave no ghost).
//   main   blocks that proved reuse, and kNormal blocks whose hash was in the ghost queue
//          (re-read soon after being dropped). Evicted CLOCK-like: the oldest entry is
//          re-queued with freq - 1 if freq > 0 (or unchanged if pinned), else evicted.
//          Main is evicted from only while small is under its share.
//   high   kHigh blocks (index partitions, filters) go here, up to high_priority_share of
//          capacity, and nothing else ever evicts them: a scan or a compaction can only
//          churn small, and data blocks only main. Past the share the oldest kHigh entries
//          spill into main, where they compete with their freq like any other block.
//   ghost  the hashes of recently evicted small entries (ghost_queue.h), about as many as
//          main holds 4 KiB blocks.
// A one-pass scan therefore never reaches main; the hot set survives it (the test and
// bench-engine-cache compare this with LRU).
//
// fill_cache=false (compaction inputs, long scans): lookup_or_load looks up but never
// inserts; a miss hands back a detached handle that owns the loaded block and frees it on
// release. kLow inserts instead cache the block without letting it earn main by ghost.
//
// Coalescing. lookup_or_load registers a miss as an in-flight load; another fiber that
// misses the same key meanwhile waits for that load (an Event) instead of reading the
// block again, and gets the same block or the same error. A failed load is not cached,
// and a loader fiber destroyed mid-load hands its waiters Status::cancelled.
#pragma once

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "engine/cache/cache_entry.h"
#include "engine/cache/entry_table.h"
#include "engine/cache/ghost_queue.h"
#include "src/runtime/event.h"
#include "src/runtime/result.h"

namespace cascade::engine {

struct BlockCacheOptions {
  std::size_t capacity = std::size_t{64} << 20;
  double small_share = 0.10;          // of capacity, for the small queue
  double high_priority_share = 0.25;  // of capacity, reserved for kHigh blocks
};

struct CacheReadOptions {
  CachePriority priority = CachePriority::kNormal;
  bool fill_cache = true;
};

struct BlockCacheStats {
  std::uint64_t hits = 0;
  std::uint64_t misses = 0;
  std::uint64_t inserts = 0;
  std::uint64_t evictions = 0;
  std::uint64_t ghost_admissions = 0;  // kNormal inserts sent to main by the ghost queue
  std::uint64_t coalesced_waits = 0;   // misses that waited for another fiber's load
  std::uint64_t load_errors = 0;
  std::size_t capacity = 0;
  std::size_t usage = 0;
  std::size_t pinned_bytes = 0;
  std::size_t entries = 0;
  std::size_t small_bytes = 0;
  std::size_t main_bytes = 0;
  std::size_t high_bytes = 0;
  struct PerPriority {
    std::uint64_t hits = 0;
    std::uint64_t inserts = 0;
    std::size_t entries = 0;  // resident
    std::size_t bytes = 0;    // resident charge
  };
  PerPriority by_priority[kCachePriorities];

  double hit_ratio() const {
    std::uint64_t total = hits + misses;
    return total == 0 ? 0.0 : static_cast<double>(hits) / static_cast<double>(total);
  }
};

class BlockCache {
 public:
  // Pins one block: while a handle holds it, the block's bytes stay valid and the entry is
  // never evicted. Move-only; releasing (destruction, reset) unpins. Every handle must be
  // released before its cache is destroyed.
  class Handle {
   public:
    Handle() = default;
    Handle(Handle&& other) noexcept
        : cache_(std::exchange(other.cache_, nullptr)),
          entry_(std::exchange(other.entry_, nullptr)) {}
    Handle& operator=(Handle&& other) noexcept {
      if (this != &other) {
        reset();
        cache_ = std::exchange(other.cache_, nullptr);
        entry_ = std::exchange(other.entry_, nullptr);
      }
      return *this;
    }
    Handle(const Handle&) = delete;
    Handle& operator=(const Handle&) = delete;
    ~Handle() { reset(); }

    explicit operator bool() const { return entry_ != nullptr; }
    std::string_view data() const { return entry_->value.data(); }
    // A view for Block::open; valid while this handle is held.
    BlockContents contents() const { return entry_->value.view(); }
    const BlockLayout* block_layout() const { return entry_->value.block_layout(); }
    const BlockCacheKey& key() const { return entry_->key; }
    CachePriority priority() const { return entry_->priority; }
    // False for a detached block (fill_cache=false, or erased while pinned).
    bool cached() const { return entry_->queue != CacheQueue::kNone; }

    void reset() {
      if (entry_ != nullptr) cache_->release(std::exchange(entry_, nullptr));
    }

   private:
    friend class BlockCache;
    Handle(BlockCache* cache, CacheEntry* entry) : cache_(cache), entry_(entry) {}

    BlockCache* cache_ = nullptr;
    CacheEntry* entry_ = nullptr;
  };

  explicit BlockCache(const BlockCacheOptions& options = {});
  ~BlockCache();
  BlockCache(const BlockCache&) = delete;
  BlockCache& operator=(const BlockCache&) = delete;

  // A pinned block, or an empty handle on a miss. Counts a hit or a miss.
  Handle lookup(const BlockCacheKey& key);

  // Caches `value` under `key` and returns it pinned. If the key is already cached, the
  // cached block is returned and `value` dropped (a key's bytes never change).
  Handle insert(const BlockCacheKey& key, CacheValue value,
                CachePriority priority = CachePriority::kNormal);

  // The cached block, or the result of `load()` (a callable returning Result<CacheValue>,
  // which may suspend the fiber on IO), cached per `options`. Concurrent misses of one key
  // share one load (see the top of this file). Must run on a fiber when it may wait.
  template <typename Loader>
  Result<Handle> lookup_or_load(const BlockCacheKey& key, const CacheReadOptions& options,
                                Loader&& load);

  // Drops the key's entry (now, or when its last handle is released); false if absent.
  bool erase(const BlockCacheKey& key);
  // Drops every block of a deleted table file: O(entries). Returns how many.
  std::size_t erase_file(std::uint64_t file_number);

  // Changes the capacity now (a live config directive); shrinking evicts at once.
  void set_capacity(std::size_t capacity);

  bool contains(const BlockCacheKey& key) const;  // no stats, no freq change
  std::size_t capacity() const { return capacity_; }
  std::size_t usage() const { return usage_; }
  std::size_t pinned_bytes() const { return pinned_bytes_; }
  std::size_t entries() const { return table_.size(); }
  BlockCacheStats stats() const;

 private:
  struct PendingLoad;
  class LoadGuard;

  Handle pin(CacheEntry* e);
  Handle detached(const BlockCacheKey& key, CacheValue value, CachePriority priority);
  void release(CacheEntry* e);
  void remove_resident(CacheEntry* e);
  EntryQueue& queue_of(CacheQueue q);
  void push(CacheEntry* e, CacheQueue q);
  void spill_high();
  void evict_to_fit();
  bool evict_one();
  bool evict_from_small();
  bool evict_from_clock(EntryQueue& queue);
  void evict(CacheEntry* e);
  void resize_targets();

  std::shared_ptr<PendingLoad> find_pending(const BlockCacheKey& key) const;
  Result<Handle> wait_for(std::shared_ptr<PendingLoad> pending);

  struct KeyHasher {
    std::size_t operator()(const BlockCacheKey& k) const { return hash_block_key(k); }
  };

  BlockCacheOptions options_;
  std::size_t capacity_;
  std::size_t small_target_ = 0;
  std::size_t high_target_ = 0;
  std::size_t usage_ = 0;
  std::size_t pinned_bytes_ = 0;    // resident entries with refs > 0
  std::size_t pinned_entries_ = 0;  // how many of those
  std::size_t handles_ = 0;         // outstanding handles, resident or detached

  EntryTable table_;
  EntryQueue small_;
  EntryQueue main_;
  EntryQueue high_;
  GhostQueue ghost_;
  std::unordered_map<BlockCacheKey, std::shared_ptr<PendingLoad>, KeyHasher> pending_;
  BlockCacheStats stats_;
};

// One in-flight load, shared by the loading fiber and the fibers waiting for it. Heap
// allocated and reference counted because the loader may return before its waiters run.
struct BlockCache::PendingLoad {
  runtime::Event done;
  Status status;
  Handle block;  // pins the loaded block until the last waiter has its own handle
};

// Registers the calling fiber as the loader of `key` and, whatever happens (a result, an
// error, the fiber's stack being unwound), unregisters it and wakes the waiters.
class BlockCache::LoadGuard {
 public:
  LoadGuard(BlockCache& cache, const BlockCacheKey& key);
  ~LoadGuard();
  LoadGuard(const LoadGuard&) = delete;
  LoadGuard& operator=(const LoadGuard&) = delete;

  Result<Handle> finish(Result<CacheValue> value, const CacheReadOptions& options);

 private:
  void complete(Status status, Handle block);

  BlockCache& cache_;
  BlockCacheKey key_;
  std::shared_ptr<PendingLoad> pending_;
};

template <typename Loader>
Result<BlockCache::Handle> BlockCache::lookup_or_load(const BlockCacheKey& key,
                                                      const CacheReadOptions& options,
                                                      Loader&& load) {
  if (Handle cached = lookup(key)) return cached;
  if (std::shared_ptr<PendingLoad> pending = find_pending(key)) return wait_for(std::move(pending));
  LoadGuard guard(*this, key);
  Result<CacheValue> value = load();
  return guard.finish(std::move(value), options);
}

}  // namespace cascade::engine
