#include "engine/memtable/point_index.h"

#include <doctest/doctest.h>

#include <cstdint>
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

TEST_CASE("a table that cannot be mapped leaves the index disabled and the memtable answering") {
  // 2^56 slots of 8 bytes: more than any address space maps.
  const std::size_t too_big = std::size_t{1} << 62;
  Entries e;
  PointIndex index(too_big);
  CHECK_FALSE(index.complete());
  CHECK(index.memory_usage() == 0);
  const char* a = e.make("a", 1);
  index.record(kTag | 3, "a", 1, a);
  index.prefetch(kTag | 3);
  index.prefetch_entry(kTag | 3);
  CHECK(index.newest(kTag | 3, "a") == nullptr);

  MemTable mem(nullptr, too_big);
  mem.add(1, ValueType::kValue, "k", "v1");
  mem.add(2, ValueType::kValue, "k", "v2");
  CHECK_FALSE(mem.point_index_complete());
  CHECK(mem.point_index_bytes() == 0);
  CHECK(mem.get("k", 1).value == "v1");
  CHECK(mem.get("k", kMaxSequenceNumber).value == "v2");
  CHECK(mem.get("absent", kMaxSequenceNumber).state == LookupState::kNotPresent);
}
