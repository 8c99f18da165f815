#include "engine/memtable/point_index.h"

#include <doctest/doctest.h>

#include <sys/resource.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "engine/memtable/arena.h"
#include "engine/memtable/memtable.h"
#include "engine/memtable/memtable_entry.h"

using namespace cascade::engine;

namespace {

// Entries live in an arena as the memtable's do; hashes are chosen by each test, so
// collisions of home slot and tag can be made on purpose.
struct Entries {
  Arena arena;
  const char* make(const std::string& key, SequenceNumber seq) {
    return make_entry(arena, key, seq, ValueType::kValue, "v" + std::to_string(seq));
  }
};

constexpr std::uint64_t kTag = std::uint64_t{0xBEEF} << 48;

}  // namespace

TEST_CASE("the point index finds each key's newest entry and misses absent keys") {
  Entries e;
  PointIndex index(0);  // the smallest table: 1024 slots
  CHECK(index.slot_count() == 1024);
  const char* a1 = e.make("a", 1);
  const char* b2 = e.make("b", 2);
  const char* a3 = e.make("a", 3);
  index.record(kTag | 5, "a", 1, a1);
  index.record(kTag | 9, "b", 2, b2);
  CHECK(index.newest(kTag | 5, "a") == a1);
  index.record(kTag | 5, "a", 3, a3);
  CHECK(index.newest(kTag | 5, "a") == a3);
  CHECK(index.newest(kTag | 9, "b") == b2);
  CHECK(index.newest(kTag | 7, "c") == nullptr);
  CHECK(index.keys() == 2);
  CHECK(index.complete());
  CHECK(index.memory_usage() == 1024 * 8);
}

TEST_CASE("an older version recorded after a newer one does not replace it") {
  Entries e;
  PointIndex index(0);
  const char* newer = e.make("k", 10);
  const char* older = e.make("k", 4);
  index.record(kTag | 1, "k", 10, newer);
  index.record(kTag | 1, "k", 4, older);
  CHECK(index.newest(kTag | 1, "k") == newer);
  CHECK(index.keys() == 1);
}

TEST_CASE("keys sharing a home slot and a tag are told apart by their bytes") {
  Entries e;
  PointIndex index(0);
  // Same hash for all: the same home slot and the same tag.
  std::vector<const char*> entries;
  for (int i = 0; i < 20; ++i) {
    entries.push_back(e.make("key" + std::to_string(i), static_cast<SequenceNumber>(i + 1)));
    index.record(kTag | 77, "key" + std::to_string(i), static_cast<SequenceNumber>(i + 1),
                 entries.back());
  }
  for (int i = 0; i < 20; ++i) CHECK(index.newest(kTag | 77, "key" + std::to_string(i)) == entries[i]);
  CHECK(index.newest(kTag | 77, "key20") == nullptr);
  // Another tag on the same home slot is passed over without reading an entry's key.
  const std::uint64_t other_tag = std::uint64_t{0x1234} << 48;
  const char* x = e.make("x", 30);
  index.record(other_tag | 77, "x", 30, x);
  CHECK(index.newest(other_tag | 77, "x") == x);
  CHECK(index.newest(other_tag | 77, "key3") == nullptr);
}

TEST_CASE("probes wrap from the table's last slot to its first") {
  Entries e;
  PointIndex index(0);
  const std::uint64_t last = 1023;
  const char* p = e.make("p", 1);
  const char* q = e.make("q", 2);
  const char* r = e.make("r", 3);
  index.record(kTag | last, "p", 1, p);
  index.record(kTag | last, "q", 2, q);  // slot 0
  index.record(kTag | 0, "r", 3, r);     // home 0 is taken by q: slot 1
  CHECK(index.newest(kTag | last, "p") == p);
  CHECK(index.newest(kTag | last, "q") == q);
  CHECK(index.newest(kTag | 0, "r") == r);
}

TEST_CASE("a full point index keeps its keys exact but stops answering for new ones") {
  Entries e;
  PointIndex index(0);
  const std::size_t capacity = index.slot_count() / 4 * 3;
  std::vector<const char*> entries;
  for (std::size_t i = 0; i < capacity; ++i) {
    const std::string key = "k" + std::to_string(i);
    entries.push_back(e.make(key, i + 1));
    index.record(kTag | (i * 2654435761u), key, i + 1, entries.back());
  }
  CHECK(index.complete());
  CHECK(index.keys() == capacity);
  // One more key does not fit: it is left out and misses no longer prove absence.
  const char* extra = e.make("extra", 100000);
  index.record(kTag | 12345, "extra", 100000, extra);
  CHECK_FALSE(index.complete());
  CHECK(index.newest(kTag | 12345, "extra") == nullptr);
  CHECK(index.keys() == capacity);
  // A key already in is still updated to its newest version.
  const char* again = e.make("k7", 200000);
  index.record(kTag | (7 * 2654435761u), "k7", 200000, again);
  CHECK(index.newest(kTag | (7 * 2654435761u), "k7") == again);
  for (std::size_t i = 0; i < capacity; i += 97) {
    if (i == 7) continue;
    CHECK(index.newest(kTag | (i * 2654435761u), "k" + std::to_string(i)) == entries[i]);
  }
}

TEST_CASE("the table is at most an eighth of the memtable's size target, in powers of two") {
  CHECK(PointIndex(64 << 20).slot_count() == (1u << 20));
  CHECK(PointIndex(64 << 20).memory_usage() == (8u << 20));
  CHECK(PointIndex(100 << 20).slot_count() == (1u << 20));  // rounded down: 8 of 100 MiB
  CHECK(PointIndex(127 << 20).memory_usage() == (8u << 20));
  CHECK(PointIndex(1).slot_count() == 1024);
}

TEST_CASE("the table is capped at 2^32 slots, taken only as keys land") {
  // A memtable target of 2^62 bytes: a table of 2^56 slots would be more than any address
  // space maps; the cap keeps the chunk list small, and no chunk is taken before a key.
  PointIndex index(std::size_t{1} << 62);
  CHECK(index.slot_count() == (std::size_t{1} << 32));
  CHECK(index.held_bytes() == 0);
  CHECK(index.complete());
}

namespace {
char* refuse_to_map() { return nullptr; }

// A big table: 32 MiB of memtable, 512 Ki slots in two 2 MiB chunks.
constexpr std::size_t kBigTarget = std::size_t{32} << 20;
constexpr std::uint64_t kChunkSlots = std::uint64_t{1} << 18;
}  // namespace

TEST_CASE("a big table takes its 2 MiB chunks as keys land in them and gives them back") {
  auto pool = std::make_shared<HugeBlockPool>(std::size_t{64} << 20);
  Entries e;
  {
    PointIndex index(kBigTarget, pool);
    CHECK(index.slot_count() == 2 * kChunkSlots);
    CHECK(index.memory_usage() == (4u << 20));  // counted whole from the start
    CHECK(index.held_bytes() == 0);
    // Lookups before any key read the shared zero chunk.
    CHECK(index.newest(kTag | 5, "a") == nullptr);
    CHECK(index.newest(kTag | (kChunkSlots + 5), "b") == nullptr);
    const char* a = e.make("a", 1);
    index.record(kTag | 5, "a", 1, a);
    CHECK(index.held_bytes() == (2u << 20));
    CHECK(index.newest(kTag | 5, "a") == a);
    CHECK(index.newest(kTag | (kChunkSlots + 5), "b") == nullptr);
    const char* b = e.make("b", 2);
    index.record(kTag | (kChunkSlots + 5), "b", 2, b);
    CHECK(index.held_bytes() == (4u << 20));
    CHECK(index.newest(kTag | (kChunkSlots + 5), "b") == b);
    CHECK(index.complete());
    CHECK(pool->kept_bytes() == 0);
  }
  CHECK(pool->kept_bytes() == (4u << 20));
}

TEST_CASE("a chunk taken from the pool is cleared of its last user's bytes") {
  auto pool = std::make_shared<HugeBlockPool>(std::size_t{64} << 20);
  // What an arena or an earlier index leaves: any bytes. Here, slots that would match the
  // test's tag and point at an unmapped address: read as slots, a probe would follow them.
  char* blocks[2] = {pool->acquire(), pool->acquire()};
  for (char* block : blocks) {
    REQUIRE(block != nullptr);
    auto* slots = reinterpret_cast<std::uint64_t*>(block);
    std::fill(slots, slots + kChunkSlots, kTag | 0x1000);
  }
  for (char* block : blocks) pool->give(block);
  Entries e;
  PointIndex index(kBigTarget, pool);
  const char* a = e.make("a", 1);
  index.record(kTag | 5, "a", 1, a);
  CHECK(pool->kept_bytes() == (2u << 20));  // the first chunk came from the pool
  CHECK(index.newest(kTag | 5, "a") == a);
  // Neighbouring slots read empty, so probes end there instead of reading garbage pointers.
  CHECK(index.newest(kTag | 6, "b") == nullptr);
  CHECK(index.newest(kTag | (kChunkSlots - 1), "c") == nullptr);
  const char* d = e.make("d", 2);  // the second chunk, also from the pool
  index.record(kTag | (kChunkSlots + 9), "d", 2, d);
  CHECK(pool->kept_bytes() == 0);
  CHECK(index.newest(kTag | (kChunkSlots + 10), "e") == nullptr);
  CHECK(index.newest(kTag | (2 * kChunkSlots - 1), "f") == nullptr);  // wraps into the first
  CHECK(index.keys() == 2);
  CHECK(index.complete());
}

TEST_CASE("probes cross from one chunk into the next, and from the last slot to the first") {
  Entries e;
  PointIndex index(kBigTarget);  // no pool: chunks mapped and unmapped by the index
  const std::uint64_t end_of_first = kChunkSlots - 1;
  const std::uint64_t last = 2 * kChunkSlots - 1;
  const char* p = e.make("p", 1);
  const char* q = e.make("q", 2);
  const char* r = e.make("r", 3);
  const char* s = e.make("s", 4);
  index.record(kTag | end_of_first, "p", 1, p);
  CHECK(index.held_bytes() == (2u << 20));
  index.record(kTag | end_of_first, "q", 2, q);  // the second chunk's first slot
  CHECK(index.held_bytes() == (4u << 20));
  index.record(kTag | last, "r", 3, r);
  index.record(kTag | last, "s", 4, s);          // wraps to slot 0
  CHECK(index.newest(kTag | end_of_first, "p") == p);
  CHECK(index.newest(kTag | end_of_first, "q") == q);
  CHECK(index.newest(kTag | last, "r") == r);
  CHECK(index.newest(kTag | last, "s") == s);
  CHECK(index.newest(kTag | last, "t") == nullptr);
  CHECK(index.keys() == 4);
}

TEST_CASE("writing into the table faults each page in once, without a copy-on-write fault") {
  // A page first read maps the kernel's zero page; a write then copies it, and the copy
  // flushes the TLB of every core the process runs on. Each chunk is written before any
  // of its slots is read, so a page faults at most once (a huge page once per 2 MiB).
  Entries e;
  std::vector<const char*> entries;
  std::vector<std::uint64_t> hashes;
  const std::size_t pages = 2 * kChunkSlots * 8 / 4096;
  for (std::size_t page = 0; page < pages; ++page) {
    hashes.push_back(kTag | (page * 512 + 7));  // one key per 4 KiB page of slots
    entries.push_back(e.make("k" + std::to_string(page), page + 1));
  }
  {
    // The shared zero chunk's pages are read once per process; read them all first so
    // that only the table's own faults are counted below.
    PointIndex warm(kBigTarget);
    for (std::size_t page = 0; page < pages; ++page) (void)warm.newest(hashes[page], "x");
  }
  auto faults = [] {
    rusage usage{};
    getrusage(RUSAGE_THREAD, &usage);
    return usage.ru_minflt;
  };
  PointIndex index(kBigTarget);
  const long before = faults();
  for (std::size_t page = 0; page < pages; ++page) {
    index.record(hashes[page], "k" + std::to_string(page), page + 1, entries[page]);
  }
  const long taken = faults() - before;
  MESSAGE("minor faults for ", pages, " pages of slots: ", taken);
  CHECK(taken < static_cast<long>(pages + pages / 2));  // a read-then-write table: 2 per page
  for (std::size_t page = 0; page < pages; page += 61) {
    CHECK(index.newest(hashes[page], "k" + std::to_string(page)) == entries[page]);
  }
}

TEST_CASE("table memory that cannot be had leaves the index disabled and the memtable answering") {
  Entries e;
  auto refusing = std::make_shared<HugeBlockPool>(std::size_t{64} << 20, refuse_to_map);
  SUBCASE("at the first chunk") {
    PointIndex index(kBigTarget, refusing);
    CHECK(index.complete());
    const char* a = e.make("a", 1);
    index.record(kTag | 3, "a", 1, a);
    CHECK_FALSE(index.complete());
    CHECK(index.memory_usage() == 0);
    CHECK(index.keys() == 0);  // the key that found no chunk is not counted
    index.prefetch(kTag | 3);
    index.prefetch_entry(kTag | 3);
    CHECK(index.newest(kTag | 3, "a") == nullptr);
  }
  SUBCASE("at a later chunk: what it holds stays counted until it dies") {
    auto one_block = std::make_shared<HugeBlockPool>(std::size_t{64} << 20, refuse_to_map);
    one_block->give(map_huge_block());
    {
      PointIndex index(kBigTarget, one_block);
      const char* a = e.make("a", 1);
      index.record(kTag | 3, "a", 1, a);
      CHECK(index.newest(kTag | 3, "a") == a);
      const char* b = e.make("b", 2);
      index.record(kTag | (kChunkSlots + 3), "b", 2, b);
      CHECK_FALSE(index.complete());
      CHECK(index.memory_usage() == (2u << 20));
      CHECK(index.newest(kTag | 3, "a") == nullptr);  // disabled: the tree answers
    }
    CHECK(one_block->kept_bytes() == (2u << 20));
  }
  SUBCASE("a memtable without its index answers from its tree") {
    MemTable mem(refusing, kBigTarget);
    mem.add(1, ValueType::kValue, "k", "v1");
    mem.add(2, ValueType::kValue, "k", "v2");
    CHECK_FALSE(mem.point_index_complete());
    CHECK(mem.point_index_bytes() == 0);
    CHECK(mem.get("k", 1).value == "v1");
    CHECK(mem.get("k", kMaxSequenceNumber).value == "v2");
    CHECK(mem.get("absent", kMaxSequenceNumber).state == LookupState::kNotPresent);
  }
}
