#include "engine/cache/block_cache.h"

#include <doctest/doctest.h>

#include <vector>

#include "tests/unit/engine/cache/cache_test_util.h"

using namespace cascade::engine;
using namespace cascade::engine::testing;

TEST_CASE("a cached block is found by its file number and offset and nothing else") {
  BlockCache cache(blocks_capacity(16));
  BlockCacheKey key = key_of(7, 3);
  CHECK_FALSE(cache.lookup(key));
  {
    BlockCache::Handle h = cache.insert(key, block_value(key));
    REQUIRE(h);
    CHECK(h.data() == block_bytes(key));
    CHECK(h.cached());
  }
  BlockCache::Handle hit = cache.lookup(key);
  REQUIRE(hit);
  CHECK(hit.data() == block_bytes(key));
  CHECK_FALSE(cache.lookup(key_of(7, 4)));
  CHECK_FALSE(cache.lookup(key_of(8, 3)));
  BlockCacheStats s = cache.stats();
  CHECK(s.hits == 1);
  CHECK(s.misses == 3);
  CHECK(s.inserts == 1);
  CHECK(s.hit_ratio() == doctest::Approx(0.25));
  CHECK(s.usage == kBlockCharge);
  CHECK(s.pinned_bytes == kBlockCharge);
}

TEST_CASE("a raw block's view is copied into the cache and a decompressed block adopted") {
  BlockCache cache(blocks_capacity(4));
  std::string read_buffer = "raw block bytes";
  {
    BlockCache::Handle h =
        cache.insert(key_of(1, 0), CacheValue::from_contents(BlockContents{read_buffer, nullptr}));
    read_buffer.assign(read_buffer.size(), 'X');  // the read buffer is reused
    CHECK(h.data() == "raw block bytes");
  }
  CacheLineBuffer owned = allocate_cache_line_aligned(8);
  std::memcpy(owned.get(), "unzipped", 8);
  const char* address = owned.get();
  BlockCache::Handle h = cache.insert(
      key_of(1, 1), CacheValue::from_contents(BlockContents{{owned.get(), 8}, std::move(owned)}));
  CHECK(h.data() == "unzipped");
  CHECK(h.data().data() == address);  // adopted, not copied
  CHECK(reinterpret_cast<std::uintptr_t>(cache.lookup(key_of(1, 0)).data().data()) % 64 == 0);
}

TEST_CASE("inserting a key already cached keeps the cached block") {
  BlockCache cache(blocks_capacity(4));
  BlockCacheKey key = key_of(1, 1);
  cache.insert(key, CacheValue::copy_of("first"));
  BlockCache::Handle h = cache.insert(key, CacheValue::copy_of("second"));
  CHECK(h.data() == "first");
  CHECK(cache.entries() == 1);
  CHECK(cache.stats().inserts == 1);
}

TEST_CASE("usage never passes capacity while nothing is pinned") {
  BlockCache cache(blocks_capacity(50));
  for (std::uint64_t i = 0; i < 1000; ++i) {
    read_block(cache, key_of(i % 3, i));
    if (i % 2 == 0) read_block(cache, key_of(i % 3, i / 2));
    REQUIRE(cache.usage() <= cache.capacity());
  }
  CHECK(cache.entries() == 50);
  CHECK(cache.stats().evictions == cache.stats().inserts - 50);
}

TEST_CASE("a pinned block survives any pressure and stays readable") {
  BlockCache cache(blocks_capacity(10));
  BlockCacheKey pinned = key_of(1, 0);
  BlockCache::Handle h = cache.insert(pinned, block_value(pinned));
  for (std::uint64_t i = 1; i < 500; ++i) {
    read_block(cache, key_of(2, i));
    REQUIRE(cache.usage() <= cache.capacity());
  }
  CHECK(cache.contains(pinned));
  CHECK(h.data() == block_bytes(pinned));
  CHECK(cache.pinned_bytes() == kBlockCharge);
  h.reset();
  CHECK(cache.pinned_bytes() == 0);
  // Pinned while small overflowed, it was moved to main; unpinned it can go again.
  cache.set_capacity(0);
  CHECK_FALSE(cache.contains(pinned));
  CHECK(cache.usage() == 0);
}

TEST_CASE("when everything is pinned an insert still succeeds and usage exceeds capacity until release") {
  BlockCache cache(blocks_capacity(4));
  std::vector<BlockCache::Handle> held;
  for (std::uint64_t i = 0; i < 6; ++i) held.push_back(cache.insert(key_of(1, i), block_value(key_of(1, i))));
  CHECK(cache.usage() == 6 * kBlockCharge);
  CHECK(cache.pinned_bytes() == cache.usage());
  for (auto& h : held) CHECK(h.data() == block_bytes(h.key()));
  held.clear();
  CHECK(cache.pinned_bytes() == 0);
  CHECK(cache.usage() <= cache.capacity());  // releasing the last pins evicted the excess
  CHECK(cache.entries() == 4);
}

TEST_CASE("a block larger than the whole cache is served, then evicted once released") {
  BlockCache cache(blocks_capacity(2));
  BlockCacheKey big = key_of(1, 0);
  read_block(cache, key_of(1, 1));
  {
    BlockCache::Handle h = cache.insert(big, block_value(big, 5 * kBlockBytes));
    CHECK(h.data().size() == 5 * kBlockBytes);
    CHECK_FALSE(cache.contains(key_of(1, 1)));
  }
  CHECK_FALSE(cache.contains(big));
  CHECK(cache.usage() == 0);
}

TEST_CASE("erase and erase_file drop blocks now, and a pinned one when its handle goes") {
  BlockCache cache(blocks_capacity(64));
  for (std::uint64_t i = 0; i < 10; ++i) {
    read_block(cache, key_of(1, i));
    read_block(cache, key_of(2, i), i % 2 == 0 ? CachePriority::kHigh : CachePriority::kNormal);
  }
  BlockCache::Handle h = cache.lookup(key_of(2, 4));
  CHECK(cache.erase(key_of(1, 3)));
  CHECK_FALSE(cache.erase(key_of(1, 3)));
  CHECK(cache.erase_file(2) == 10);
  CHECK(cache.entries() == 9);
  CHECK(cache.usage() == 9 * kBlockCharge);
  CHECK(cache.pinned_bytes() == 0);
  for (std::uint64_t i = 0; i < 10; ++i) CHECK_FALSE(cache.contains(key_of(2, i)));
  CHECK_FALSE(h.cached());
  CHECK(h.data() == block_bytes(key_of(2, 4)));  // still readable while pinned
  CHECK(cache.stats().by_priority[static_cast<int>(CachePriority::kHigh)].entries == 0);
}

TEST_CASE("shrinking the capacity evicts at once and growing it lets more stay") {
  BlockCache cache(blocks_capacity(100));
  for (std::uint64_t i = 0; i < 100; ++i) read_block(cache, key_of(1, i));
  CHECK(cache.entries() == 100);
  cache.set_capacity(20 * kBlockCharge);
  CHECK(cache.usage() <= 20 * kBlockCharge);
  CHECK(cache.entries() == 20);
  cache.set_capacity(200 * kBlockCharge);
  for (std::uint64_t i = 0; i < 150; ++i) read_block(cache, key_of(2, i));
  CHECK(cache.entries() == 170);
}

TEST_CASE("a block evicted unread from small and read again soon is admitted to main") {
  BlockCache cache(blocks_capacity(100));
  BlockCacheKey returning = key_of(1, 0);
  read_block(cache, returning);
  for (std::uint64_t i = 1; i <= 120; ++i) read_block(cache, key_of(2, i));
  REQUIRE_FALSE(cache.contains(returning));
  CHECK(cache.stats().main_bytes == 0);  // nothing was read twice

  read_block(cache, returning);
  BlockCacheStats s = cache.stats();
  CHECK(s.ghost_admissions == 1);
  CHECK(s.main_bytes == kBlockCharge);
  // In main it outlives a scan that churns small many times over.
  for (std::uint64_t i = 0; i < 1000; ++i) read_block(cache, key_of(3, i));
  CHECK(cache.contains(returning));
}

TEST_CASE("a kLow block leaves no ghost, so reading it again does not promote it") {
  BlockCache cache(blocks_capacity(100));
  BlockCacheKey key = key_of(1, 0);
  read_block(cache, key, CachePriority::kLow);
  for (std::uint64_t i = 1; i <= 120; ++i) read_block(cache, key_of(2, i), CachePriority::kLow);
  REQUIRE_FALSE(cache.contains(key));
  read_block(cache, key);
  CHECK(cache.stats().ghost_admissions == 0);
  CHECK(cache.stats().main_bytes == 0);
}
