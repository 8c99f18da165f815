// S3-FIFO's promises, each measured against what a plain LRU of the same size would do
// with the same access sequence (so the test shows the workload really threatens a cache).
#include <doctest/doctest.h>

#include <list>
#include <unordered_map>

#include "engine/cache/block_cache.h"
#include "tests/unit/engine/cache/cache_test_util.h"

using namespace cascade::engine;
using namespace cascade::engine::testing;

namespace {

// A reference LRU counting blocks, for comparison only.
class Lru {
 public:
  explicit Lru(std::size_t blocks) : capacity_(blocks) {}
  bool read(std::uint64_t id) {
    auto it = index_.find(id);
    if (it != index_.end()) {
      order_.splice(order_.begin(), order_, it->second);
      return true;
    }
    order_.push_front(id);
    index_[id] = order_.begin();
    if (order_.size() > capacity_) {
      index_.erase(order_.back());
      order_.pop_back();
    }
    return false;
  }

 private:
  std::size_t capacity_;
  std::list<std::uint64_t> order_;
  std::unordered_map<std::uint64_t, std::list<std::uint64_t>::iterator> index_;
};

std::uint64_t id_of(const BlockCacheKey& key) { return key.file_number << 32 | key.offset / 4096; }

struct HotSetRun {
  double s3fifo_hot_hit_ratio;
  double lru_hot_hit_ratio;
};

// A hot set read twice, then a one-pass scan of cold blocks with one hot read in every
// `scan_per_hot` scan reads: the hot blocks' reuse distance is far past the capacity.
HotSetRun hot_set_under_scan(std::size_t capacity, std::size_t hot, std::size_t scan,
                             std::size_t scan_per_hot) {
  BlockCache cache(blocks_capacity(capacity));
  Lru lru(capacity);
  auto read = [&](const BlockCacheKey& key) {
    lru.read(id_of(key));
    return read_block(cache, key);
  };
  for (int pass = 0; pass < 2; ++pass) {
    for (std::uint64_t i = 0; i < hot; ++i) read(key_of(1, i));
  }
  std::size_t hot_reads = 0, s3_hits = 0, lru_hits = 0;
  for (std::uint64_t i = 0; i < scan; ++i) {
    read(key_of(2, i));
    if (i % scan_per_hot == 0) {
      BlockCacheKey key = key_of(1, hot_reads % hot);
      ++hot_reads;
      lru_hits += lru.read(id_of(key));
      s3_hits += read_block(cache, key);
    }
    REQUIRE(cache.usage() <= cache.capacity());
  }
  return {static_cast<double>(s3_hits) / hot_reads, static_cast<double>(lru_hits) / hot_reads};
}

}  // namespace

TEST_CASE("a one-pass scan does not evict a hot working set that an LRU would lose") {
  HotSetRun run = hot_set_under_scan(/*capacity=*/1000, /*hot=*/200, /*scan=*/20000,
                                     /*scan_per_hot=*/10);
  MESSAGE("hot-set hit ratio during the scan: S3-FIFO " << run.s3fifo_hot_hit_ratio << ", LRU "
                                                        << run.lru_hot_hit_ratio);
  CHECK(run.lru_hot_hit_ratio < 0.1);
  CHECK(run.s3fifo_hot_hit_ratio > 0.95);
}

TEST_CASE("a hit moves nothing: the hot set is promoted only when small overflows") {
  BlockCache cache(blocks_capacity(100));
  for (int pass = 0; pass < 3; ++pass) {
    for (std::uint64_t i = 0; i < 20; ++i) read_block(cache, key_of(1, i));
  }
  CHECK(cache.stats().main_bytes == 0);
  CHECK(cache.stats().small_bytes == 20 * kBlockCharge);
  for (std::uint64_t i = 0; i < 100; ++i) read_block(cache, key_of(2, i));
  CHECK(cache.stats().main_bytes == 20 * kBlockCharge);
  for (std::uint64_t i = 0; i < 20; ++i) CHECK(cache.contains(key_of(1, i)));
}

namespace {

// Index blocks read once each, then data blocks read twice each (they earn main and churn
// it). Returns how many index blocks are still cached.
std::size_t index_blocks_left(CachePriority index_priority) {
  BlockCache cache(blocks_capacity(100));
  for (std::uint64_t i = 0; i < 10; ++i) read_block(cache, key_of(1, i), index_priority);
  for (std::uint64_t i = 0; i < 500; ++i) {
    read_block(cache, key_of(2, i));
    read_block(cache, key_of(2, i));
    read_block(cache, key_of(3, i), CachePriority::kLow);  // a compaction read
  }
  std::size_t left = 0;
  for (std::uint64_t i = 0; i < 10; ++i) left += cache.contains(key_of(1, i));
  return left;
}

}  // namespace

TEST_CASE("index and filter blocks within their reserved share survive data churn") {
  CHECK(index_blocks_left(CachePriority::kHigh) == 10);
  CHECK(index_blocks_left(CachePriority::kNormal) == 0);
}

TEST_CASE("kHigh blocks past their share spill into main and age there") {
  BlockCacheOptions options = blocks_capacity(100);
  options.high_priority_share = 0.10;
  BlockCache cache(options);
  for (std::uint64_t i = 0; i < 30; ++i) read_block(cache, key_of(1, i), CachePriority::kHigh);
  BlockCacheStats s = cache.stats();
  CHECK(s.high_bytes == 10 * kBlockCharge);
  CHECK(s.main_bytes == 20 * kBlockCharge);
  CHECK(s.by_priority[static_cast<int>(CachePriority::kHigh)].entries == 30);
  for (std::uint64_t i = 0; i < 300; ++i) {
    read_block(cache, key_of(2, i));
    read_block(cache, key_of(2, i));
  }
  // The 20 oldest spilled into main and were evicted there; the newest 10 are kept.
  for (std::uint64_t i = 0; i < 20; ++i) CHECK_FALSE(cache.contains(key_of(1, i)));
  for (std::uint64_t i = 20; i < 30; ++i) CHECK(cache.contains(key_of(1, i)));
}
