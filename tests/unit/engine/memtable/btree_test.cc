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

// Hinted inserts (BTree::InsertHint): each batch is prefetched with hints, then, in some
// batches, other keys go in first (splitting or shifting the hinted leaves), and then the
// batch is inserted with its hints. In ascending order a batch's keys share leaves, so the
// batch's own first inserts change the leaves of the rest too. A hint taken for a leaf that
// changed must not be followed: the entry would land outside its leaf's range and the walk
// below would find the tree out of order.
TEST_CASE("btree: inserts hinted by a prefetch land in order, also when the tree changed since") {
  constexpr std::uint32_t kCount = 40000;
  std::vector<std::uint32_t> order(kCount);
  std::iota(order.begin(), order.end(), 0);
  std::uint64_t seed = cascade::testing::test_seed("btree-hints");
  MESSAGE("CASCADE_SEED=" << seed);
  std::mt19937_64 rng(seed);
  SUBCASE("ascending") {}
  SUBCASE("descending") { std::reverse(order.begin(), order.end()); }
  SUBCASE("random") { std::shuffle(order.begin(), order.end(), rng); }

  Arena arena;
  BTree tree(arena);
  // Keys are inserted as even numbers through hints and odd numbers as the interlopers, so
  // both streams fill the same leaves.
  std::size_t at = 0;
  std::size_t batch_number = 0;
  std::size_t followed_inserts = 0;  // inserts that went where their hint said
  while (at < order.size()) {
    const std::size_t n = std::min<std::size_t>(1 + rng() % BTree::kMaxPrefetch, order.size() - at);
    std::vector<std::string> users;
    std::vector<const char*> entries;
    std::vector<SearchKey> keys;
    for (std::size_t i = 0; i < n; ++i) {
      users.push_back(numbered_key(2 * order[at + i]));
      entries.push_back(make_entry(arena, users.back(), 7, ValueType::kValue, {}));
    }
    for (const char* e : entries) keys.push_back(SearchKey::from_internal_key(entry_internal_key(e)));
    BTree::InsertHint hints[BTree::kMaxPrefetch];
    tree.prefetch(std::span<const SearchKey>(keys), hints);
    if (++batch_number % 3 == 0) {
      // Interlopers next to this batch's keys, unhinted, after the prefetch.
      for (std::size_t i = 0; i < n; i += 2) {
        tree.insert(make_entry(arena, numbered_key(2 * order[at + i] + 1), 7, ValueType::kValue, {}));
      }
    }
    for (std::size_t i = 0; i < n; ++i) {
      // As MemTable::add_all does: a leaf that took an entry and kept its range carries the
      // later hints to it over to its new version.
      const BTree::InsertHint followed = tree.insert(entries[i], hints[i]);
      if (followed.leaf == nullptr) continue;
      ++followed_inserts;
      for (std::size_t j = i + 1; j < n; ++j) {
        if (hints[j].leaf == followed.leaf && hints[j].version + 1 == followed.version) {
          hints[j].version = followed.version;
        }
      }
    }
    at += n;
  }
  // The odd keys the interlopers did not insert, so the tree holds exactly 0 .. 2 * kCount - 1.
  {
    std::vector<bool> present(2 * kCount, false);
    BTree::Iterator it(tree);
    for (it.seek_to_first(); it.valid(); it.next()) {
      const std::string k = user_key_at(it);
      std::uint32_t v = 0;
      for (char c : k) v = v << 8 | static_cast<unsigned char>(c);
      present[v] = true;
    }
    for (std::uint32_t v = 1; v < 2 * kCount; v += 2) {
      if (!present[v]) tree.insert(make_entry(arena, numbered_key(v), 7, ValueType::kValue, {}));
    }
  }
  CHECK(tree.size() == 2 * kCount);
  check_holds_range(tree, 2 * kCount);
  // Many inserts follow their hints; a full leaf (ascending runs pack leaves full), an
  // interloper or an earlier split sends the rest down the tree.
  CHECK(followed_inserts > kCount / 4);
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

namespace {

// User keys that share long and varied beginnings: families of common bytes (none, short,
// just under, at and past BTree's kMaxCommon), then a short tail over a tiny alphabet, so
// keys that are proper prefixes of others, runs of ties in every 8-byte window, and keys
// arriving outside a node's shared bytes are all common.
std::string shared_key(std::mt19937_64& rng) {
  static const std::string kFamilies[] = {
      "", "k", "key:0000", std::string(47, 'p'), std::string(48, 'p'), std::string(60, 'p'),
      std::string(47, 'p') + "q", std::string(5, '\0') + "key:000000"};
  static const char kAlphabet[] = {'\0', 'a', 'b', '\xff'};
  std::string key = kFamilies[rng() % std::size(kFamilies)];
  for (std::size_t n = rng() % 14; n > 0; --n) key.push_back(kAlphabet[rng() % 4]);
  return key;
}

}  // namespace

TEST_CASE("btree: keys with long shared beginnings stay ordered and found in every insert order") {
  std::uint64_t seed = cascade::testing::test_seed("btree shared");
  MESSAGE("CASCADE_SEED=" << seed);
  std::mt19937_64 rng(seed);
  // (user key, sequence), in internal-key order: user key ascending, sequence descending.
  using Version = std::pair<std::string, SequenceNumber>;
  auto before = [](const Version& a, const Version& b) {
    return a.first != b.first ? a.first < b.first : a.second > b.second;
  };
  std::vector<Version> versions;
  for (SequenceNumber seq = 1; seq <= 30000; ++seq) versions.emplace_back(shared_key(rng), seq);

  SUBCASE("random") {}
  SUBCASE("ascending") { std::sort(versions.begin(), versions.end(), before); }
  SUBCASE("descending") {
    std::sort(versions.begin(), versions.end(), before);
    std::reverse(versions.begin(), versions.end());
  }
  SUBCASE("ascending runs") {
    std::sort(versions.begin(), versions.end(), before);
    std::vector<Version> runs;
    for (std::size_t start = 0; start < 8; ++start) {
      for (std::size_t i = start; i < versions.size(); i += 8) runs.push_back(versions[i]);
    }
    versions = std::move(runs);
  }
  // Leaves left half full by random inserts, then runs through them: entries shift into
  // neighbours whose shared bytes differ from the giver's.
  SUBCASE("random, then ascending") {
    std::sort(versions.begin() + versions.size() / 2, versions.end(), before);
  }
  SUBCASE("random, then descending") {
    std::sort(versions.begin() + versions.size() / 2, versions.end(), before);
    std::reverse(versions.begin() + versions.size() / 2, versions.end());
  }

  Arena arena;
  BTree tree(arena);
  for (const auto& [key, seq] : versions) {
    tree.insert(make_entry(arena, key, seq, ValueType::kValue, {}));
  }
  std::vector<Version> model = versions;
  std::sort(model.begin(), model.end(), before);

  BTree::Iterator it(tree);
  std::size_t i = 0;
  for (it.seek_to_first(); it.valid(); it.next(), ++i) {
    REQUIRE(i < model.size());
    REQUIRE(entry_internal_key(it.entry()) == internal_key(model[i].first, model[i].second));
  }
  CHECK(i == model.size());
  for (it.seek_to_last(); it.valid(); it.prev()) {
    --i;
    REQUIRE(entry_internal_key(it.entry()) == internal_key(model[i].first, model[i].second));
  }
  CHECK(i == 0);
  // Every version is found exactly; keys that are not there land on their successor.
  for (std::size_t n = 0; n < model.size(); n += 7) {
    it.seek(internal_key(model[n].first, model[n].second));
    REQUIRE(it.valid());
    REQUIRE(entry_internal_key(it.entry()) == internal_key(model[n].first, model[n].second));
  }
  for (int probe = 0; probe < 3000; ++probe) {
    const Version target{shared_key(rng), kMaxSequenceNumber};
    auto expect = std::lower_bound(model.begin(), model.end(), target, before);
    it.seek(internal_key(target.first, target.second));
    if (expect == model.end()) {
      REQUIRE_FALSE(it.valid());
    } else {
      REQUIRE(it.valid());
      REQUIRE(entry_internal_key(it.entry()) == internal_key(expect->first, expect->second));
    }
  }
}
