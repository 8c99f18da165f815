#include "engine/table/block.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "engine/table/block_builder.h"
#include "tests/unit/engine/table/table_test_util.h"

using namespace cascade::engine;
using cascade::engine::testing::internal_key;
using cascade::engine::testing::random_bytes;
using cascade::engine::testing::random_key;
using cascade::engine::testing::test_seed;

namespace {

using Entries = std::vector<std::pair<std::string, std::string>>;

std::string build_block(const Entries& entries, int restart_interval, KeyComparator order) {
  BlockBuilder builder({.restart_interval = restart_interval, .comparator = order});
  for (const auto& [k, v] : entries) REQUIRE(builder.add(k, v).is_ok());
  return std::string(builder.finish());
}

Block open_block(std::string_view bytes) {
  auto block = Block::open(BlockContents{bytes, nullptr});
  REQUIRE(block.has_value());
  return std::move(*block);
}

// Sorted, distinct bytewise keys with random values that fit one block.
Entries random_bytewise_entries(std::mt19937_64& rng, std::size_t count) {
  std::map<std::string, std::string> m;
  while (m.size() < count) m[random_key(rng, 12)] = random_bytes(rng, rng() % 6);
  return Entries(m.begin(), m.end());
}

// Several versions of a few hundred user keys, in internal-key order.
Entries random_internal_entries(std::mt19937_64& rng, std::size_t count) {
  std::vector<std::string> keys;
  for (std::size_t i = 0; i < count; ++i) {
    keys.push_back(internal_key("user:" + std::to_string(rng() % (count / 3 + 1)), rng() % 1000,
                                rng() % 2 ? ValueType::kValue : ValueType::kDeletion));
  }
  std::sort(keys.begin(), keys.end(), InternalKeyLess{});
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  Entries out;
  for (auto& k : keys) out.emplace_back(std::move(k), random_bytes(rng, rng() % 4));
  return out;
}

void check_forward_and_backward(const Block& block, const Entries& entries, KeyComparator order) {
  BlockIterator it = block.iterator(order);
  std::size_t i = 0;
  for (it.seek_to_first(); it.valid(); it.next(), ++i) {
    REQUIRE(i < entries.size());
    CHECK(it.key() == entries[i].first);
    CHECK(it.value() == entries[i].second);
  }
  CHECK(i == entries.size());
  for (it.seek_to_last(); it.valid(); it.prev()) {
    REQUIRE(i > 0);
    --i;
    CHECK(it.key() == entries[i].first);
    CHECK(it.value() == entries[i].second);
  }
  CHECK(i == 0);
  CHECK(it.status().is_ok());
}

}  // namespace

TEST_CASE("a block round-trips thousands of random keys forward and backward") {
  std::mt19937_64 rng(test_seed("block round trip"));
  for (int interval : {1, 2, 16, 64}) {
    CAPTURE(interval);
    Entries bytewise = random_bytewise_entries(rng, 2000);
    std::string bytes = build_block(bytewise, interval, kBytewiseComparator);
    check_forward_and_backward(open_block(bytes), bytewise, kBytewiseComparator);

    Entries internal = random_internal_entries(rng, 1000);
    bytes = build_block(internal, interval, kInternalKeyComparator);
    check_forward_and_backward(open_block(bytes), internal, kInternalKeyComparator);
  }
}

TEST_CASE("seek finds every key and lands on the next key for targets between keys") {
  std::mt19937_64 rng(test_seed("block seek"));
  for (int interval : {1, 16}) {
    CAPTURE(interval);
    Entries entries = random_bytewise_entries(rng, 1500);
    std::string bytes = build_block(entries, interval, kBytewiseComparator);
    Block block = open_block(bytes);
    BlockIterator it = block.iterator(kBytewiseComparator);
    for (const auto& [k, v] : entries) {
      it.seek(k);
      REQUIRE(it.valid());
      CHECK(it.key() == k);
      CHECK(it.value() == v);
    }
    for (int i = 0; i < 3000; ++i) {
      std::string target = random_key(rng, 13);
      auto expect = std::lower_bound(entries.begin(), entries.end(), target,
                                     [](const auto& e, const std::string& t) { return e.first < t; });
      it.seek(target);
      if (expect == entries.end()) {
        CHECK_FALSE(it.valid());
      } else {
        REQUIRE(it.valid());
        CHECK(it.key() == expect->first);
      }
    }
    CHECK(it.status().is_ok());
  }
}

TEST_CASE("seek by user key and snapshot lands on the newest visible version") {
  Entries entries;
  for (std::string user : {"apple", "banana", "cherry"}) {
    for (SequenceNumber seq : {30, 20, 10}) entries.emplace_back(internal_key(user, seq), user + std::to_string(seq));
  }
  std::string bytes = build_block(entries, 2, kInternalKeyComparator);
  Block block = open_block(bytes);
  BlockIterator it = block.iterator(kInternalKeyComparator);
  it.seek(internal_key("banana", 25, kValueTypeForSeek));
  REQUIRE(it.valid());
  CHECK(it.value() == "banana20");
  it.seek(internal_key("banana", 5, kValueTypeForSeek));
  REQUIRE(it.valid());
  CHECK(it.value() == "cherry30");
  it.seek(internal_key("cherry", 5, kValueTypeForSeek));
  CHECK_FALSE(it.valid());
}

TEST_CASE("next past the last entry and prev before the first leave the iterator invalid") {
  Entries entries = {{"a", "1"}, {"b", "2"}, {"c", "3"}};
  for (int interval : {1, 16}) {
    std::string bytes = build_block(entries, interval, kBytewiseComparator);
    Block block = open_block(bytes);
    BlockIterator it = block.iterator(kBytewiseComparator);
    it.seek_to_first();
    it.prev();
    CHECK_FALSE(it.valid());
    it.seek_to_last();
    CHECK(it.key() == "c");
    it.next();
    CHECK_FALSE(it.valid());
    it.seek("bb");
    CHECK(it.key() == "c");
    it.prev();
    CHECK(it.key() == "b");
    it.prev();
    CHECK(it.key() == "a");
    it.next();
    CHECK(it.key() == "b");
    it.seek("d");
    CHECK_FALSE(it.valid());
    CHECK(it.status().is_ok());
  }
}

TEST_CASE("empty keys and empty values round-trip") {
  Entries entries = {{"", ""}, {"a", ""}, {"ab", "x"}, {"b", ""}};
  std::string bytes = build_block(entries, 16, kBytewiseComparator);
  Block block = open_block(bytes);
  check_forward_and_backward(block, entries, kBytewiseComparator);
  BlockIterator it = block.iterator(kBytewiseComparator);
  it.seek("");
  REQUIRE(it.valid());
  CHECK(it.key().empty());
}

TEST_CASE("an empty block opens and iterates nothing") {
  BlockBuilder builder;
  std::string bytes(builder.finish());
  CHECK(bytes.size() == 2);
  Block block = open_block(bytes);
  BlockIterator it = block.iterator(kInternalKeyComparator);
  it.seek_to_first();
  CHECK_FALSE(it.valid());
  it.seek_to_last();
  CHECK_FALSE(it.valid());
  it.seek(internal_key("k", 1));
  CHECK_FALSE(it.valid());
  CHECK(it.status().is_ok());
}

TEST_CASE("restart entries store whole keys so interval 1 costs more than interval 16") {
  Entries entries;
  for (int i = 0; i < 400; ++i) entries.emplace_back("user:" + std::to_string(10000000 + i), "v");
  std::string every = build_block(entries, 1, kBytewiseComparator);
  std::string sixteen = build_block(entries, 16, kBytewiseComparator);
  CHECK(open_block(every).num_restarts() == 400);
  CHECK(open_block(sixteen).num_restarts() == 25);
  CHECK(sixteen.size() < every.size() * 3 / 4);
}

TEST_CASE("opening a block checks its restart array") {
  Entries entries = {{"a", "1"}, {"b", "2"}, {"c", "3"}};
  std::string good = build_block(entries, 1, kBytewiseComparator);
  auto open_status = [](std::string_view bytes) { return Block::open(BlockContents{bytes, nullptr}).status(); };
  CHECK(open_status(good).is_ok());
  CHECK(open_status(std::string_view(good).substr(0, 1)).is_corruption());
  std::string too_many = good;
  too_many[too_many.size() - 2] = 100;  // restart count beyond the block
  CHECK(open_status(too_many).is_corruption());
  std::string unordered = good;
  std::swap(unordered[unordered.size() - 6], unordered[unordered.size() - 4]);  // restarts 1 and 2
  CHECK(open_status(unordered).is_corruption());
  std::string first_not_zero = good;
  first_not_zero[first_not_zero.size() - 8] = 1;
  CHECK(open_status(first_not_zero).is_corruption());
  std::string entries_without_restarts("\x00\x01\x00" "a" "\x00\x00", 6);
  CHECK(open_status(entries_without_restarts).is_corruption());
}

TEST_CASE("an internal key shorter than its trailer is reported as corruption") {
  // Built with the bytewise order, read as internal keys: "ab" cannot carry a trailer.
  std::string bytes = build_block({{"ab", "x"}}, 16, kBytewiseComparator);
  Block block = open_block(bytes);
  BlockIterator it = block.iterator(kInternalKeyComparator);
  it.seek_to_first();
  CHECK_FALSE(it.valid());
  CHECK(it.status().is_corruption());
  it.seek(internal_key("a", 1));
  CHECK_FALSE(it.valid());
  CHECK(it.status().is_corruption());
}

namespace {

// Runs every iterator operation over a possibly corrupt block. Views must stay inside the
// block (or the key buffer) and iteration must end; ASan catches any stray read because the
// block sits in an allocation of exactly its size.
void exercise(const Block& block, const std::vector<std::string>& targets, KeyComparator order) {
  const char* lo = block.data().data();
  const char* hi = lo + block.size();
  auto in_block = [&](std::string_view v) { return v.empty() || (v.data() >= lo && v.data() + v.size() <= hi); };
  BlockIterator it = block.iterator(order);
  std::size_t steps = 0;
  for (it.seek_to_first(); it.valid() && steps < 100000; it.next(), ++steps) {
    REQUIRE(in_block(it.value()));
    REQUIRE(it.key().size() <= block.size());  // every key byte comes from the block
  }
  REQUIRE(steps < 100000);
  for (it.seek_to_last(); it.valid() && steps < 200000; it.prev(), ++steps) REQUIRE(in_block(it.value()));
  REQUIRE(steps < 200000);
  for (const auto& t : targets) {
    it.seek(t);
    if (it.valid()) {
      REQUIRE(in_block(it.value()));
      it.prev();
      if (it.valid()) it.next();
    }
  }
}

}  // namespace

TEST_CASE("random byte flips and truncations never crash or read outside the block") {
  std::mt19937_64 rng(test_seed("block corruption"));
  Entries entries = random_internal_entries(rng, 300);
  std::vector<std::string> targets;
  for (int i = 0; i < 20; ++i) targets.push_back(internal_key("user:" + std::to_string(rng() % 120), rng() % 1000));
  int corrupt_reported = 0;
  for (int round = 0; round < 3000; ++round) {
    std::string bytes = build_block(entries, 1 + rng() % 16, kInternalKeyComparator);
    if (round % 3 == 0) {
      bytes.resize(rng() % bytes.size());
    } else {
      for (int flips = 1 + rng() % 4; flips > 0; --flips) bytes[rng() % bytes.size()] ^= static_cast<char>(1 + rng() % 255);
    }
    CacheLineBuffer exact = allocate_cache_line_aligned(std::max<std::size_t>(bytes.size(), 1));
    std::copy(bytes.begin(), bytes.end(), exact.get());
    auto block = Block::open(BlockContents{std::string_view(exact.get(), bytes.size()), std::move(exact)});
    if (!block) {
      CHECK(block.error().is_corruption());
      ++corrupt_reported;
      continue;
    }
    exercise(*block, targets, kInternalKeyComparator);
    BlockIterator it = block->iterator(kInternalKeyComparator);
    for (it.seek_to_first(); it.valid(); it.next()) {
    }
    if (it.status().is_corruption()) ++corrupt_reported;
  }
  MESSAGE("corruption reported by the block itself in " << corrupt_reported << " of 3000 rounds");
  CHECK(corrupt_reported > 1000);  // the rest is for the stored block's checksum to catch
}
