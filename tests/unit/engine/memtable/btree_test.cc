#include "engine/memtable/btree.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "engine/format/coding.h"
#include "tests/support/test_seed.h"

using namespace cascade::engine;

namespace {

// Big-endian so that bytewise order is numeric order.
std::string numbered_key(std::uint32_t n) {
  std::string k(4, '\0');
  for (int i = 0; i < 4; ++i) k[i] = static_cast<char>(n >> (24 - 8 * i));
  return k;
}

std::string internal_key(std::string_view user, SequenceNumber seq) {
  std::string s;
  append_internal_key(s, user, seq, ValueType::kValue);
  return s;
}

std::string user_key_at(const BTree::Iterator& it) {
  return std::string(extract_user_key(entry_internal_key(it.entry())));
}

void insert_keys(Arena& arena, BTree& tree, const std::vector<std::uint32_t>& order) {
  for (std::uint32_t n : order) {
    tree.insert(make_entry(arena, numbered_key(n), 1, ValueType::kValue, {}));
  }
}

// Walks the tree both ways and checks it holds exactly 0..n-1 in order.
void check_holds_range(const BTree& tree, std::uint32_t n) {
  BTree::Iterator it(tree);
  std::uint32_t expect = 0;
  for (it.seek_to_first(); it.valid(); it.next()) REQUIRE(user_key_at(it) == numbered_key(expect++));
  CHECK(expect == n);
  for (it.seek_to_last(); it.valid(); it.prev()) REQUIRE(user_key_at(it) == numbered_key(--expect));
  CHECK(expect == 0);
}

}  // namespace

TEST_CASE("an empty tree has no first or last entry and seeks find nothing") {
  Arena arena;
  BTree tree(arena);
  BTree::Iterator it(tree);
  it.seek_to_first();
  CHECK_FALSE(it.valid());
  it.seek_to_last();
  CHECK_FALSE(it.valid());
  it.seek(internal_key("a", 1));
  CHECK_FALSE(it.valid());
}

TEST_CASE("the tree stays ordered under ascending, descending and random inserts") {
  constexpr std::uint32_t kCount = 40000;  // over 32 * 32 * 32: three inner levels
  std::vector<std::uint32_t> order(kCount);
  std::iota(order.begin(), order.end(), 0);
  std::uint64_t seed = cascade::testing::test_seed("btree");
  MESSAGE("CASCADE_SEED=" << seed);

  SUBCASE("ascending") {}
  SUBCASE("descending") { std::reverse(order.begin(), order.end()); }
  SUBCASE("random") { std::shuffle(order.begin(), order.end(), std::mt19937_64(seed)); }

  Arena arena;
  BTree tree(arena);
  insert_keys(arena, tree, order);
  CHECK(tree.size() == kCount);
  CHECK(tree.height() >= 2);
  check_holds_range(tree, kCount);

  BTree::Iterator it(tree);
  for (std::uint32_t n = 0; n < kCount; n += 997) {
    it.seek(internal_key(numbered_key(n), kMaxSequenceNumber));
    REQUIRE(it.valid());
    CHECK(user_key_at(it) == numbered_key(n));
  }
  it.seek(internal_key(numbered_key(kCount), kMaxSequenceNumber));
  CHECK_FALSE(it.valid());
}

// Bytes of index nodes a tree built in `order` takes, beyond its entries.
static std::size_t node_bytes(const std::vector<std::uint32_t>& order) {
  Arena arena;
  BTree tree(arena);
  insert_keys(arena, tree, order);
  std::size_t entry_bytes = order.size() * (1 + 4 + kTrailerSize + 1);
  return arena.allocated_bytes() - entry_bytes;
}

TEST_CASE("runs of ascending or descending keys pack leaves full, even mid-tree") {
  constexpr std::uint32_t kCount = 50000;
  std::uint64_t seed = cascade::testing::test_seed("btree");
  MESSAGE("CASCADE_SEED=" << seed);
  std::vector<std::uint32_t> ascending(kCount);
  std::iota(ascending.begin(), ascending.end(), 0);
  std::vector<std::uint32_t> descending(ascending.rbegin(), ascending.rend());
  std::vector<std::uint32_t> random = ascending;
  std::shuffle(random.begin(), random.end(), std::mt19937_64(seed));
  // Runs inside the tree: every 1000th key first, then the gaps in order.
  std::vector<std::uint32_t> gaps;
  for (std::uint32_t n = 0; n < kCount; n += 1000) gaps.push_back(n);
  for (std::uint32_t n = 0; n < kCount; ++n) {
    if (n % 1000 != 0) gaps.push_back(n);
  }

  std::size_t random_bytes = node_bytes(random);
  std::size_t ascending_bytes = node_bytes(ascending);
  std::size_t descending_bytes = node_bytes(descending);
  std::size_t gaps_bytes = node_bytes(gaps);
  MESSAGE("node bytes: random " << random_bytes << ", ascending " << ascending_bytes
                                << ", descending " << descending_bytes << ", runs in gaps "
                                << gaps_bytes);
  // Random inserts leave leaves about 70% full; half-splitting runs would leave them 50%.
  CHECK(ascending_bytes * 10 < random_bytes * 8);
  CHECK(descending_bytes * 10 < random_bytes * 8);
  CHECK(gaps_bytes * 10 < random_bytes * 8);
}

TEST_CASE("an iterator keeps its entry while inserts split its leaf, and sees new neighbours") {
  Arena arena;
  BTree tree(arena);
  std::vector<std::uint32_t> evens;
  for (std::uint32_t n = 0; n < 2000; n += 2) evens.push_back(n);
  insert_keys(arena, tree, evens);

  BTree::Iterator it(tree);
  it.seek(internal_key(numbered_key(1000), kMaxSequenceNumber));
  REQUIRE(user_key_at(it) == numbered_key(1000));
  // Fill the gaps around the iterator: its leaf splits several times.
  std::vector<std::uint32_t> odds;
  for (std::uint32_t n = 901; n < 1100; n += 2) odds.push_back(n);
  insert_keys(arena, tree, odds);
  CHECK(user_key_at(it) == numbered_key(1000));
  it.next();
  CHECK(user_key_at(it) == numbered_key(1001));

  std::vector<std::uint32_t> before, after;
  for (std::uint32_t n = 1; n < 900; n += 2) before.push_back(n);
  for (std::uint32_t n = 1101; n < 2000; n += 2) after.push_back(n);
  insert_keys(arena, tree, before);
  it.prev();
  CHECK(user_key_at(it) == numbered_key(1000));
  it.prev();
  CHECK(user_key_at(it) == numbered_key(999));
  insert_keys(arena, tree, after);
  std::uint32_t expect = 999;
  for (; it.valid(); it.next()) REQUIRE(user_key_at(it) == numbered_key(expect++));
  CHECK(expect == 2000);
}
