#include "engine/table/block_builder.h"

#include <doctest/doctest.h>

#include <random>
#include <string>

#include "engine/table/block.h"
#include "tests/unit/engine/table/table_test_util.h"

using namespace cascade::engine;
using cascade::engine::testing::internal_key;
using cascade::engine::testing::random_bytes;
using cascade::engine::testing::test_seed;

namespace {
std::string user_key(int i) { return "user:" + std::to_string(10000000 + i); }
}  // namespace

TEST_CASE("size_after predicts the finished block size exactly") {
  std::mt19937_64 rng(test_seed("block size prediction"));
  for (int interval : {1, 3, 16}) {
    BlockBuilder builder({.restart_interval = interval});
    for (int i = 0; i < 300; ++i) {
      std::string key = internal_key(user_key(i * 7 + static_cast<int>(rng() % 7)), 5);
      std::string value = random_bytes(rng, rng() % 40);
      std::size_t predicted = builder.size_after(key, value);
      REQUIRE(builder.add(key, value).is_ok());
      CHECK(builder.current_size() == predicted);
    }
    std::size_t size = builder.current_size();
    CHECK(builder.finish().size() == size);
  }
}

TEST_CASE("a block filled to its cap refuses the entry that would pass it") {
  BlockBuilder builder;
  std::string value(100, 'v');
  int i = 0;
  while (builder.fits(internal_key(user_key(i), 1), value)) {
    REQUIRE(builder.add(internal_key(user_key(i), 1), value).is_ok());
    ++i;
  }
  std::size_t before = builder.current_size();
  cascade::Status s = builder.add(internal_key(user_key(i), 1), value);
  CHECK(s.code() == cascade::StatusCode::kInvalidArgument);
  CHECK(builder.current_size() == before);
  std::string_view block = builder.finish();
  CHECK(block.size() <= kMaxBlockSize);
  CHECK(block.size() > kMaxBlockSize - 130);

  auto opened = Block::open(BlockContents{block, nullptr});
  REQUIRE(opened.has_value());
  BlockIterator it = opened->iterator(kInternalKeyComparator);
  int count = 0;
  for (it.seek_to_first(); it.valid(); it.next()) ++count;
  CHECK(count == i);
  it.seek_to_last();
  CHECK(it.key() == internal_key(user_key(i - 1), 1));
}

TEST_CASE("a smaller size cap is honoured and the cap never exceeds 32 KiB") {
  BlockBuilder small({.size_cap = 1000});
  int i = 0;
  while (small.fits(internal_key(user_key(i), 1), "0123456789")) {
    REQUIRE(small.add(internal_key(user_key(i), 1), "0123456789").is_ok());
    ++i;
  }
  CHECK(small.finish().size() <= 1000);

  BlockBuilder huge({.size_cap = 1 << 20});
  std::string value(1000, 'x');
  for (i = 0; huge.fits(internal_key(user_key(i), 1), value); ++i) {
    REQUIRE(huge.add(internal_key(user_key(i), 1), value).is_ok());
  }
  CHECK(huge.finish().size() <= kMaxBlockSize);
}

TEST_CASE("an entry larger than the cap is stored alone in its own block") {
  std::string value(100000, 'z');
  value[77777] = 'q';
  BlockBuilder builder;
  REQUIRE(builder.fits(internal_key("big", 9), value));
  REQUIRE(builder.add(internal_key("big", 9), value).is_ok());
  CHECK_FALSE(builder.fits(internal_key("c", 1), "small"));
  CHECK(builder.add(internal_key("c", 1), "small").code() == cascade::StatusCode::kInvalidArgument);
  std::string_view block = builder.finish();
  CHECK(block.size() > kMaxBlockSize);

  auto opened = Block::open(BlockContents{block, nullptr});
  REQUIRE(opened.has_value());
  CHECK(opened->num_restarts() == 1);
  BlockIterator it = opened->iterator(kInternalKeyComparator);
  it.seek(internal_key("big", 100, kValueTypeForSeek));
  REQUIRE(it.valid());
  CHECK(it.value() == value);
  it.next();
  CHECK_FALSE(it.valid());
}

TEST_CASE("keys out of order or too short for internal keys are refused") {
  BlockBuilder builder;
  REQUIRE(builder.add(internal_key("b", 5), "x").is_ok());
  CHECK_FALSE(builder.add(internal_key("a", 5), "x").is_ok());
  CHECK_FALSE(builder.add(internal_key("b", 5), "x").is_ok());   // equal
  CHECK_FALSE(builder.add(internal_key("b", 6), "x").is_ok());   // newer sorts first
  CHECK(builder.add(internal_key("b", 4), "x").is_ok());
  CHECK_FALSE(builder.add("short", "x").is_ok());
  CHECK(builder.num_entries() == 2);

  BlockBuilder index({.restart_interval = kIndexBlockRestartInterval, .comparator = kBytewiseComparator});
  CHECK(index.add("", "handle").is_ok());
  CHECK(index.add("k", "handle").is_ok());
  CHECK_FALSE(index.add("a", "handle").is_ok());
}

TEST_CASE("reset starts a new block that does not share keys with the last one") {
  BlockBuilder builder;
  REQUIRE(builder.add(internal_key("user:1", 1), "a").is_ok());
  (void)builder.finish();
  builder.reset();
  CHECK(builder.empty());
  REQUIRE(builder.add(internal_key("user:0", 1), "b").is_ok());  // smaller than the old last key
  std::string block(builder.finish());
  auto opened = Block::open(BlockContents{block, nullptr});
  REQUIRE(opened.has_value());
  BlockIterator it = opened->iterator(kInternalKeyComparator);
  it.seek_to_first();
  REQUIRE(it.valid());
  CHECK(it.key() == internal_key("user:0", 1));
  it.next();
  CHECK_FALSE(it.valid());
}

TEST_CASE("prefix_block finishes the first entries and remove_first keeps the rest as a new block") {
  for (int interval : {1, 3, 16}) {
    CAPTURE(interval);
    BlockBuilder builder({.restart_interval = interval});
    std::vector<std::string> keys;
    for (int i = 0; i < 40; ++i) {
      keys.push_back(internal_key(user_key(i), 7));
      REQUIRE(builder.add(keys.back(), "value" + std::to_string(i)).is_ok());
    }
    (void)builder.finish();
    for (std::size_t count : {1, 5, 16, 17, 39, 40}) {
      std::string prefix(builder.prefix_block(count));
      CHECK(prefix.size() == builder.prefix_size(count));
      auto opened = Block::open(BlockContents{prefix, nullptr});
      REQUIRE(opened.has_value());
      BlockIterator it = opened->iterator(kInternalKeyComparator);
      std::size_t n = 0;
      for (it.seek_to_first(); it.valid(); it.next(), ++n) CHECK(it.key() == keys[n]);
      CHECK(n == count);
    }
    builder.remove_first(25);
    CHECK(builder.num_entries() == 15);
    CHECK(builder.last_key() == keys[39]);
    REQUIRE(builder.add(internal_key(user_key(40), 7), "value40").is_ok());
    std::string rest(builder.finish());
    auto opened = Block::open(BlockContents{rest, nullptr});
    REQUIRE(opened.has_value());
    BlockIterator it = opened->iterator(kInternalKeyComparator);
    int i = 25;
    for (it.seek_to_first(); it.valid(); it.next(), ++i) {
      CHECK(it.key() == internal_key(user_key(i), 7));
      CHECK(it.value() == "value" + std::to_string(i));
    }
    CHECK(i == 41);
  }
}
