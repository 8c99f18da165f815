// Random operations against the cache, checking its accounting against a recount after
// every step: usage is the sum of resident charges, pinned bytes those of resident blocks
// that handles hold, capacity holds whenever nothing is pinned, and every handle still
// reads its own key's bytes (a use-after-free or a mixed-up entry shows here, and under
// ASan as a crash).
#include <doctest/doctest.h>

#include <random>
#include <set>
#include <vector>

#include "engine/cache/block_cache.h"
#include "tests/support/test_seed.h"
#include "tests/unit/engine/cache/cache_test_util.h"

using namespace cascade;
using namespace cascade::engine;
using namespace cascade::engine::testing;

namespace {

constexpr std::uint64_t kFiles = 3;
constexpr std::uint64_t kBlocksPerFile = 40;

// Each key always has the same bytes (table files are immutable), sized 1..6000.
std::size_t size_of(const BlockCacheKey& key) {
  std::uint64_t id = key.file_number * kBlocksPerFile + key.offset / 4096;
  return 1 + (id * 2654435761u) % 6000;
}

class ModelRun {
 public:
  explicit ModelRun(std::uint64_t seed) : rng_(seed), cache_(options()) {}

  void step() {
    int op = static_cast<int>(rng_() % 100);
    if (op < 45) read(random_key());
    else if (op < 60) release_one();
    else if (op < 70) read_without_fill(random_key());
    else if (op < 75) (void)cache_.erase(random_key());
    else if (op < 77) (void)cache_.erase_file(rng_() % kFiles);
    else if (op < 79) cache_.set_capacity(random_capacity());
    else (void)cache_.lookup(random_key());
    check();
  }

  void release_all() {
    held_.clear();
    check();
    CHECK(cache_.pinned_bytes() == 0);
    CHECK(cache_.usage() <= cache_.capacity());
  }

 private:
  BlockCacheOptions options() {
    BlockCacheOptions o;
    o.capacity = random_capacity();
    return o;
  }
  std::size_t random_capacity() { return 4096 + rng_() % (60 * 4096); }
  BlockCacheKey random_key() {
    return key_of(rng_() % kFiles, rng_() % kBlocksPerFile);
  }
  CachePriority random_priority() { return static_cast<CachePriority>(rng_() % kCachePriorities); }

  void hold(BlockCache::Handle h) {
    if (rng_() % 4 == 0 && held_.size() < 8) held_.push_back(std::move(h));
  }
  void read(const BlockCacheKey& key) {
    BlockCache::Handle h = cache_.lookup(key);
    if (!h) h = cache_.insert(key, block_value(key, size_of(key)), random_priority());
    hold(std::move(h));
  }
  void read_without_fill(const BlockCacheKey& key) {
    bool was_cached = cache_.contains(key);
    auto h = cache_.lookup_or_load(key, {CachePriority::kLow, false}, [&]() -> Result<CacheValue> {
      return block_value(key, size_of(key));
    });
    REQUIRE(h.has_value());
    CHECK(cache_.contains(key) == was_cached);
    hold(std::move(*h));
  }
  void release_one() {
    if (held_.empty()) return;
    std::size_t i = rng_() % held_.size();
    held_.erase(held_.begin() + static_cast<std::ptrdiff_t>(i));
  }

  void check() {
    std::size_t usage = 0, entries = 0;
    std::set<std::pair<std::uint64_t, std::uint64_t>> resident;
    for (std::uint64_t f = 0; f < kFiles; ++f) {
      for (std::uint64_t b = 0; b < kBlocksPerFile; ++b) {
        BlockCacheKey key = key_of(f, b);
        if (!cache_.contains(key)) continue;
        usage += size_of(key) + kCacheEntryOverhead;
        ++entries;
        resident.insert({key.file_number, key.offset});
      }
    }
    REQUIRE(cache_.usage() == usage);
    REQUIRE(cache_.entries() == entries);

    std::size_t pinned = 0;
    std::set<std::pair<std::uint64_t, std::uint64_t>> counted;
    for (const BlockCache::Handle& h : held_) {
      REQUIRE(h.data() == block_bytes(h.key(), size_of(h.key())));
      std::pair<std::uint64_t, std::uint64_t> id{h.key().file_number, h.key().offset};
      if (h.cached()) {
        REQUIRE(resident.count(id) == 1);
        if (counted.insert(id).second) pinned += h.data().size() + kCacheEntryOverhead;
      }
    }
    REQUIRE(cache_.pinned_bytes() == pinned);
    // Over capacity only while everything left is pinned.
    if (cache_.usage() > cache_.capacity()) REQUIRE(cache_.pinned_bytes() == cache_.usage());
    BlockCacheStats s = cache_.stats();
    std::size_t by_priority = 0;
    for (const auto& p : s.by_priority) by_priority += p.bytes;
    REQUIRE(by_priority == usage);
    REQUIRE(s.small_bytes + s.main_bytes + s.high_bytes == usage);
  }

  std::mt19937_64 rng_;
  BlockCache cache_;
  std::vector<BlockCache::Handle> held_;
};

}  // namespace

TEST_CASE("random reads, pins, erases and resizes keep the cache's accounting exact") {
  std::uint64_t seed = cascade::testing::test_seed("block cache model");
  for (int run = 0; run < 20; ++run) {
    ModelRun model(seed + static_cast<std::uint64_t>(run));
    for (int i = 0; i < 2000; ++i) model.step();
    model.release_all();
  }
}
