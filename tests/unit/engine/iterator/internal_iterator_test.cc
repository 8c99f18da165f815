#include "engine/iterator/internal_iterator.h"

#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include "engine/iterator/memtable_iterator.h"
#include "engine/iterator/vector_iterator.h"
#include "engine/memtable/memtable.h"
#include "tests/unit/engine/iterator/iterator_test_util.h"

using namespace cascade::engine;
using cascade::engine::iterator_test::ikey;

namespace {

// The same three keys, a@5 a@3 b@4 (internal order), through each implementation.
std::vector<std::unique_ptr<InternalIterator>> three_entry_sources(MemTable& mem) {
  mem.add(5, ValueType::kValue, "a", "a5");
  mem.add(3, ValueType::kDeletion, "a", "");
  mem.add(4, ValueType::kValue, "b", "b4");
  std::vector<std::unique_ptr<InternalIterator>> out;
  out.push_back(std::make_unique<MemTableIterator>(mem));
  out.push_back(std::make_unique<VectorIterator>(std::vector<VectorIterator::Entry>{
      {ikey("b", 4), "b4"}, {ikey("a", 3, ValueType::kDeletion), ""}, {ikey("a", 5), "a5"}}));
  return out;
}

}  // namespace

TEST_CASE("internal iterators walk entries in internal-key order both ways") {
  MemTable mem;
  for (auto& it : three_entry_sources(mem)) {
    it->seek_to_first();
    REQUIRE(it->valid());
    CHECK(it->key() == ikey("a", 5));
    CHECK(it->value() == "a5");
    it->next();
    CHECK(it->key() == ikey("a", 3, ValueType::kDeletion));
    it->next();
    CHECK(it->key() == ikey("b", 4));
    it->next();
    CHECK_FALSE(it->valid());
    CHECK(it->status().is_ok());
    it->seek_to_last();
    CHECK(it->key() == ikey("b", 4));
    it->prev();
    it->prev();
    CHECK(it->key() == ikey("a", 5));
    it->prev();
    CHECK_FALSE(it->valid());
  }
}

TEST_CASE("seek finds the first entry at or after the target, seek_for_prev the last at or before") {
  MemTable mem;
  for (auto& it : three_entry_sources(mem)) {
    it->seek(ikey("a", 4, kValueTypeForSeek));
    REQUIRE(it->valid());
    CHECK(it->key() == ikey("a", 3, ValueType::kDeletion));
    it->seek_for_prev(ikey("a", 4, kValueTypeForSeek));
    REQUIRE(it->valid());
    CHECK(it->key() == ikey("a", 5));
    // Exact hits stay put.
    it->seek_for_prev(ikey("a", 3, ValueType::kDeletion));
    CHECK(it->key() == ikey("a", 3, ValueType::kDeletion));
    it->seek(ikey("b", 4));
    CHECK(it->key() == ikey("b", 4));
    // Past either end.
    it->seek(ikey("c", 9));
    CHECK_FALSE(it->valid());
    it->seek_for_prev(ikey("c", 9));
    REQUIRE(it->valid());
    CHECK(it->key() == ikey("b", 4));
    it->seek_for_prev(ikey("a", 6));
    CHECK_FALSE(it->valid());
    CHECK(it->status().is_ok());
  }
}

TEST_CASE("internal iterators over nothing are invalid with an ok status") {
  MemTable mem;
  std::vector<std::unique_ptr<InternalIterator>> sources;
  sources.push_back(std::make_unique<MemTableIterator>(mem));
  sources.push_back(std::make_unique<VectorIterator>(std::vector<VectorIterator::Entry>{}));
  for (auto& it : sources) {
    it->seek_to_first();
    CHECK_FALSE(it->valid());
    it->seek_to_last();
    CHECK_FALSE(it->valid());
    it->seek(ikey("a", 1));
    CHECK_FALSE(it->valid());
    it->seek_for_prev(ikey("a", 1));
    CHECK_FALSE(it->valid());
    CHECK(it->status().is_ok());
  }
}
