#include "engine/cache/block_cache.h"

#include <algorithm>

namespace cascade::engine {

namespace {

// The ghost queue remembers about as many keys as main holds blocks of this size.
constexpr std::size_t kTypicalCharge = 4096 + kCacheEntryOverhead;
constexpr std::size_t kMinGhostEntries = 64;

}  // namespace

BlockCache::BlockCache(const BlockCacheOptions& options)
    : options_(options), capacity_(options.capacity) {
  resize_targets();
}

BlockCache::~BlockCache() {
  assert(handles_ == 0 && "a block cache handle outlived its cache");
  assert(pending_.empty());
  for (EntryQueue* q : {&small_, &main_, &high_}) {
    while (CacheEntry* e = q->tail()) {
      q->unlink(e);
      delete e;
    }
  }
}

void BlockCache::resize_targets() {
  small_target_ = static_cast<std::size_t>(static_cast<double>(capacity_) * options_.small_share);
  high_target_ =
      static_cast<std::size_t>(static_cast<double>(capacity_) * options_.high_priority_share);
  std::size_t main_bytes = capacity_ - small_target_;
  std::size_t ghost = std::max(kMinGhostEntries, main_bytes / kTypicalCharge);
  if (ghost != ghost_.capacity()) ghost_.resize(ghost);
}

BlockCache::Handle BlockCache::lookup(const BlockCacheKey& key) {
  CacheEntry* e = table_.find(key, hash_block_key(key));
  if (e == nullptr) {
    ++stats_.misses;
    return {};
  }
  ++stats_.hits;
  ++stats_.by_priority[static_cast<int>(e->priority)].hits;
  if (e->freq < kMaxFreq) ++e->freq;
  return pin(e);
}

bool BlockCache::contains(const BlockCacheKey& key) const {
  return table_.find(key, hash_block_key(key)) != nullptr;
}

BlockCache::Handle BlockCache::insert(const BlockCacheKey& key, CacheValue value,
                                      CachePriority priority) {
  std::uint64_t hash = hash_block_key(key);
  if (CacheEntry* existing = table_.find(key, hash)) return pin(existing);

  auto* e = new CacheEntry;
  e->key = key;
  e->hash = hash;
  e->charge = value.charge();
  e->value = std::move(value);
  e->priority = priority;

  // Any insert consumes the key's ghost record; only a kNormal one is promoted by it.
  bool ghost_hit = ghost_.take(hash);
  CacheQueue q = CacheQueue::kSmall;
  if (priority == CachePriority::kHigh) {
    q = CacheQueue::kHigh;
  } else if (priority == CachePriority::kNormal && ghost_hit) {
    q = CacheQueue::kMain;
    ++stats_.ghost_admissions;
  }
  table_.insert(e);
  push(e, q);
  usage_ += e->charge;
  ++stats_.inserts;
  auto& per = stats_.by_priority[static_cast<int>(priority)];
  ++per.inserts;
  ++per.entries;
  per.bytes += e->charge;

  Handle h = pin(e);  // pinned first, so making room cannot evict the new entry
  spill_high();
  evict_to_fit();
  return h;
}

BlockCache::Handle BlockCache::detached(const BlockCacheKey& key, CacheValue value,
                                        CachePriority priority) {
  auto* e = new CacheEntry;
  e->key = key;
  e->hash = hash_block_key(key);
  e->charge = value.charge();
  e->value = std::move(value);
  e->priority = priority;
  return pin(e);
}

BlockCache::Handle BlockCache::pin(CacheEntry* e) {
  if (e->refs == 0 && e->queue != CacheQueue::kNone) {
    pinned_bytes_ += e->charge;
    ++pinned_entries_;
  }
  ++e->refs;
  ++handles_;
  return Handle(this, e);
}

void BlockCache::release(CacheEntry* e) {
  assert(e->refs > 0 && handles_ > 0);
  --handles_;
  if (--e->refs > 0) return;
  if (e->queue == CacheQueue::kNone) {
    delete e;
    return;
  }
  pinned_bytes_ -= e->charge;
  --pinned_entries_;
  if (usage_ > capacity_) evict_to_fit();
}

EntryQueue& BlockCache::queue_of(CacheQueue q) {
  switch (q) {
    case CacheQueue::kSmall: return small_;
    case CacheQueue::kMain: return main_;
    case CacheQueue::kHigh: return high_;
    case CacheQueue::kNone: break;
  }
  assert(false && "a detached entry is in no queue");
  return main_;
}

void BlockCache::push(CacheEntry* e, CacheQueue q) {
  e->queue = q;
  queue_of(q).push_head(e);
}

// Takes a resident entry out of the table, its queue and the accounting; frees it unless
// handles still pin it (then the last release frees it).
void BlockCache::remove_resident(CacheEntry* e) {
  table_.remove(e);
  queue_of(e->queue).unlink(e);
  e->queue = CacheQueue::kNone;
  usage_ -= e->charge;
  auto& per = stats_.by_priority[static_cast<int>(e->priority)];
  --per.entries;
  per.bytes -= e->charge;
  if (e->refs == 0) {
    delete e;
  } else {
    pinned_bytes_ -= e->charge;
    --pinned_entries_;
  }
}

void BlockCache::evict(CacheEntry* e) {
  assert(e->refs == 0);
  ++stats_.evictions;
  remove_resident(e);
}

// Keeps kHigh blocks within their reserved share: the oldest spill into main.
void BlockCache::spill_high() {
  while (high_.bytes() > high_target_) {
    CacheEntry* e = high_.tail();
    high_.unlink(e);
    push(e, CacheQueue::kMain);
  }
}

void BlockCache::evict_to_fit() {
  while (usage_ > capacity_ && table_.size() > pinned_entries_) {
    if (!evict_one()) break;
  }
}

// Evicts one unpinned entry, preferring small while it is over its share, then main, and
// the kHigh queue only when nothing else can go. False if every resident entry is pinned.
bool BlockCache::evict_one() {
  bool small_first = !small_.empty() && (small_.bytes() >= small_target_ || main_.empty());
  if (small_first && evict_from_small()) return true;
  if (evict_from_clock(main_)) return true;
  if (evict_from_small()) return true;  // may have moved pinned or hit entries to main
  if (evict_from_clock(main_)) return true;
  return evict_from_clock(high_);
}

// Small's oldest entries move to main if hit since insertion (spending one freq) or
// pinned, until one that was never hit is evicted; it leaves its hash in the ghost queue.
bool BlockCache::evict_from_small() {
  while (CacheEntry* e = small_.tail()) {
    if (e->refs == 0 && e->freq == 0) {
      if (e->priority != CachePriority::kLow) ghost_.add(e->hash);
      evict(e);
      return true;
    }
    if (e->freq > 0) --e->freq;
    small_.unlink(e);
    push(e, CacheQueue::kMain);
  }
  return false;
}

// CLOCK over a FIFO: the oldest entry is re-queued at the head with one freq spent (or
// as it is, if pinned) until one with freq 0 is evicted. Every unpinned entry reaches the
// tail with freq 0 within (kMaxFreq + 1) rounds, so that bounds the search.
bool BlockCache::evict_from_clock(EntryQueue& queue) {
  std::size_t budget = queue.size() * (kMaxFreq + 1);
  for (std::size_t step = 0; step < budget; ++step) {
    CacheEntry* e = queue.tail();
    if (e->refs == 0 && e->freq == 0) {
      evict(e);
      return true;
    }
    if (e->refs == 0) --e->freq;
    queue.unlink(e);
    queue.push_head(e);
  }
  return false;
}

bool BlockCache::erase(const BlockCacheKey& key) {
  CacheEntry* e = table_.find(key, hash_block_key(key));
  if (e == nullptr) return false;
  remove_resident(e);
  return true;
}

std::size_t BlockCache::erase_file(std::uint64_t file_number) {
  std::size_t erased = 0;
  for (EntryQueue* q : {&small_, &main_, &high_}) {
    for (CacheEntry* e = q->head(); e != nullptr;) {
      CacheEntry* next = e->older;
      if (e->key.file_number == file_number) {
        remove_resident(e);
        ++erased;
      }
      e = next;
    }
  }
  return erased;
}

void BlockCache::set_capacity(std::size_t capacity) {
  capacity_ = capacity;
  resize_targets();
  spill_high();
  evict_to_fit();
}

BlockCacheStats BlockCache::stats() const {
  BlockCacheStats s = stats_;
  s.capacity = capacity_;
  s.usage = usage_;
  s.pinned_bytes = pinned_bytes_;
  s.entries = table_.size();
  s.small_bytes = small_.bytes();
  s.main_bytes = main_.bytes();
  s.high_bytes = high_.bytes();
  return s;
}

std::shared_ptr<BlockCache::PendingLoad> BlockCache::find_pending(const BlockCacheKey& key) const {
  auto it = pending_.find(key);
  return it == pending_.end() ? nullptr : it->second;
}

Result<BlockCache::Handle> BlockCache::wait_for(std::shared_ptr<PendingLoad> pending) {
  ++stats_.coalesced_waits;
  pending->done.wait();
  if (!pending->status.is_ok()) return pending->status;
  return pin(pending->block.entry_);
}

BlockCache::LoadGuard::LoadGuard(BlockCache& cache, const BlockCacheKey& key)
    : cache_(cache), key_(key), pending_(std::make_shared<PendingLoad>()) {
  cache_.pending_.emplace(key_, pending_);
}

// Reached with pending_ still set only when the loading fiber unwinds mid-load.
BlockCache::LoadGuard::~LoadGuard() {
  if (pending_ != nullptr) complete(Status::cancelled("block load abandoned"), Handle());
}

Result<BlockCache::Handle> BlockCache::LoadGuard::finish(Result<CacheValue> value,
                                                         const CacheReadOptions& options) {
  if (!value.has_value()) {
    ++cache_.stats_.load_errors;
    Status error = value.error();
    complete(error, Handle());
    return error;
  }
  Handle h = options.fill_cache ? cache_.insert(key_, std::move(*value), options.priority)
                                : cache_.detached(key_, std::move(*value), options.priority);
  complete(Status::ok(), cache_.pin(h.entry_));
  return h;
}

void BlockCache::LoadGuard::complete(Status status, Handle block) {
  pending_->status = std::move(status);
  pending_->block = std::move(block);
  cache_.pending_.erase(key_);
  pending_->done.set();
  pending_.reset();  // waiters hold their own references; the last one frees the block pin
}

}  // namespace cascade::engine
