// lookup_or_load: misses of one key by concurrent fibers share one load.
#include <doctest/doctest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "engine/cache/block_cache.h"
#include "src/runtime/event.h"
#include "src/runtime/scheduler.h"
#include "tests/unit/engine/cache/cache_test_util.h"

using namespace cascade;
using namespace cascade::engine;
using namespace cascade::engine::testing;
using namespace std::chrono_literals;

TEST_CASE("fibers missing the same block while it loads share one load and one block") {
  runtime::Scheduler sched;
  BlockCache cache(blocks_capacity(16));
  BlockCacheKey key = key_of(3, 9);
  int loads = 0;
  std::vector<std::string> seen;
  auto loader = [&]() -> Result<CacheValue> {
    ++loads;
    sched.sleep_for(2ms);  // the disk read suspends the fiber
    return block_value(key);
  };
  for (int i = 0; i < 8; ++i) {
    sched.spawn([&] {
      Result<BlockCache::Handle> h = cache.lookup_or_load(key, {}, loader);
      REQUIRE(h.has_value());
      seen.emplace_back(h->data());
    });
  }
  REQUIRE(sched.run());
  CHECK(loads == 1);
  REQUIRE(seen.size() == 8);
  for (const std::string& s : seen) CHECK(s == block_bytes(key));
  BlockCacheStats s = cache.stats();
  CHECK(s.coalesced_waits == 7);
  CHECK(s.inserts == 1);
  CHECK(s.pinned_bytes == 0);
  CHECK(cache.contains(key));
}

TEST_CASE("a failed load reaches every waiter and is not cached") {
  runtime::Scheduler sched;
  BlockCache cache(blocks_capacity(16));
  BlockCacheKey key = key_of(3, 9);
  int loads = 0;
  bool fail = true;
  auto loader = [&]() -> Result<CacheValue> {
    ++loads;
    sched.sleep_for(1ms);
    if (fail) return Status::corruption("block checksum mismatch");
    return block_value(key);
  };
  std::vector<Status> errors;
  for (int i = 0; i < 4; ++i) {
    sched.spawn([&] {
      Result<BlockCache::Handle> h = cache.lookup_or_load(key, {}, loader);
      errors.push_back(h.status());
    });
  }
  REQUIRE(sched.run());
  CHECK(loads == 1);
  REQUIRE(errors.size() == 4);
  for (const Status& e : errors) CHECK(e.is_corruption());
  CHECK_FALSE(cache.contains(key));
  CHECK(cache.stats().load_errors == 1);

  fail = false;  // the next miss tries again
  sched.spawn([&] { CHECK(cache.lookup_or_load(key, {}, loader).has_value()); });
  REQUIRE(sched.run());
  CHECK(loads == 2);
  CHECK(cache.contains(key));
}

TEST_CASE("different keys load concurrently without waiting for each other") {
  runtime::Scheduler sched;
  BlockCache cache(blocks_capacity(16));
  int in_flight = 0, most_in_flight = 0;
  for (std::uint64_t i = 0; i < 4; ++i) {
    sched.spawn([&, i] {
      BlockCacheKey key = key_of(1, i);
      auto h = cache.lookup_or_load(key, {}, [&]() -> Result<CacheValue> {
        most_in_flight = std::max(most_in_flight, ++in_flight);
        sched.sleep_for(1ms);
        --in_flight;
        return block_value(key);
      });
      CHECK(h.has_value());
    });
  }
  REQUIRE(sched.run());
  CHECK(most_in_flight == 4);
  CHECK(cache.stats().coalesced_waits == 0);
}

TEST_CASE("fill_cache=false serves the block without caching it") {
  BlockCache cache(blocks_capacity(16));
  BlockCacheKey key = key_of(5, 1);
  int loads = 0;
  auto loader = [&]() -> Result<CacheValue> {
    ++loads;
    return block_value(key);
  };
  CacheReadOptions no_fill{CachePriority::kLow, /*fill_cache=*/false};
  {
    Result<BlockCache::Handle> h = cache.lookup_or_load(key, no_fill, loader);
    REQUIRE(h.has_value());
    CHECK(h->data() == block_bytes(key));
    CHECK_FALSE(h->cached());
    CHECK(cache.usage() == 0);
    CHECK(cache.pinned_bytes() == 0);
  }
  CHECK_FALSE(cache.contains(key));
  CHECK(cache.entries() == 0);
  // ... but a cached block is still used.
  cache.insert(key, block_value(key));
  CHECK(cache.lookup_or_load(key, no_fill, loader).has_value());
  CHECK(loads == 1);
}

// A fiber destroyed mid-load unwinds its stack with boost's forced_unwind; an exception
// out of the loader takes the same path through lookup_or_load, without a fiber.
TEST_CASE("a load abandoned by unwinding is forgotten so the next miss loads again") {
  BlockCache cache(blocks_capacity(16));
  BlockCacheKey key = key_of(2, 2);
  CHECK_THROWS(cache.lookup_or_load(key, {}, []() -> Result<CacheValue> {
    throw std::runtime_error("stack unwound mid-read");
  }));
  int loads = 0;
  auto h = cache.lookup_or_load(key, {}, [&]() -> Result<CacheValue> {
    ++loads;
    return block_value(key);
  });
  CHECK(h.has_value());
  CHECK(loads == 1);
  CHECK(cache.stats().coalesced_waits == 0);
}
