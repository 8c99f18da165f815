#include "engine/table/table_builder.h"

#include <doctest/doctest.h>

#include "engine/table/table_reader.h"
#include "tests/unit/engine/table/table_file_test_util.h"
#include "tests/unit/engine/table/table_test_util.h"

using namespace cascade;
using namespace cascade::engine;
using namespace cascade::engine::testing;

namespace {

std::string ikey(std::string_view uk, SequenceNumber seq) { return internal_key(uk, seq); }

}  // namespace

TEST_CASE("shortest_separator is >= the last key, < the next key and short when it can be") {
  struct Case {
    std::string last, next, expect_user_key;  // empty expect: the last key itself
  } cases[] = {
      {ikey("user:1000abc", 5), ikey("user:1999", 9), "user:19"},
      {ikey("apple", 5), ikey("banana", 9), "b"},
      {ikey("key", 5), ikey("key", 4), ""},            // same user key
      {ikey("key", 5), ikey("keyboard", 9), ""},       // last is a prefix of next
      {ikey("ab", 5), ikey("ac", 9), ""},              // cut would be the whole of next
      {ikey("abc", 5), ikey("abd", 9), ""},            // not shorter
      {ikey("a\xff\xffzzz", 5), ikey("b", 9), ""},     // next too short to cut
      {ikey("a\xff\xffzzz", 5), ikey("bcd", 9), "b"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.next);
    std::string sep = shortest_separator(c.last, c.next);
    CHECK(compare_internal_keys(c.last, sep) <= 0);
    CHECK(compare_internal_keys(sep, c.next) < 0);
    if (c.expect_user_key.empty()) {
      CHECK(sep == c.last);
    } else {
      CHECK(extract_user_key(sep) == c.expect_user_key);
    }
  }
}

TEST_CASE("the table builder refuses keys out of order, malformed keys and use after finish") {
  TempDir dir;
  run_io([&] {
    auto file = open_direct(dir.file("t.sst"), true);
    TableBuilder b(*file, {});
    REQUIRE(b.add(ikey("b", 5), "v"));
    CHECK(b.add(ikey("a", 9), "v").code() == StatusCode::kInvalidArgument);
    CHECK(b.add(ikey("b", 5), "v").code() == StatusCode::kInvalidArgument);  // duplicate
    CHECK(b.add(ikey("b", 6), "v").code() == StatusCode::kInvalidArgument);  // newer after older
    CHECK(b.add("short", "v").code() == StatusCode::kInvalidArgument);
    REQUIRE(b.add(ikey("b", 4), "v"));
    REQUIRE(b.finish());
    CHECK(b.add(ikey("c", 1), "v").code() == StatusCode::kInvalidArgument);
    CHECK(!b.finish());

    auto other = open_direct(dir.file("u.sst"), true);
    TableBuilder abandoned(*other, {});
    REQUIRE(abandoned.add(ikey("a", 1), "v"));
    abandoned.abandon();
    CHECK(!abandoned.add(ikey("b", 1), "v"));
    CHECK(!abandoned.finish());
    CHECK(other->write_sizes.empty());  // nothing reached the file
  });
}

TEST_CASE("the table builder writes in large aligned chunks and syncs once at finish") {
  TempDir dir;
  run_io([&] {
    auto file = open_direct(dir.file("t.sst"), true);
    TableBuilderOptions o;
    o.file_number = 3;
    TableBuilder b(*file, o);
    std::mt19937_64 rng(1);
    for (int i = 0; i < 40000; ++i) {
      REQUIRE(b.add(ikey("key" + std::to_string(100000 + i), 1), random_bytes(rng, 40)));
    }
    CHECK(file->syncs == 0);
    auto p = b.finish();
    REQUIRE(p);
    CHECK(file->syncs == 1);
    REQUIRE(file->write_sizes.size() > 3);
    std::uint64_t expect_offset = 0;
    for (std::size_t i = 0; i < file->write_sizes.size(); ++i) {
      CHECK(file->write_offsets[i] == expect_offset);
      CHECK(file->write_sizes[i] % kPageSize == 0);
      if (i + 1 < file->write_sizes.size()) CHECK(file->write_sizes[i] == kDefaultWriteChunkSize);
      expect_offset += file->write_sizes[i];
    }
    CHECK(expect_offset == p->file_size);
    CHECK(*file->size() == p->file_size);
  });
}

TEST_CASE("every index separator lies between its block's last key and the next block's first") {
  TempDir dir;
  std::mt19937_64 rng(test_seed("table separators"));
  Entries e;
  for (int i = 0; i < 20000; ++i) {
    std::string uk = "user:" + std::to_string(rng() % 100000000);
    e.emplace_back(ikey(uk, 1 + rng() % 1000), random_bytes(rng, rng() % 200));
  }
  std::sort(e.begin(), e.end(), [](const auto& a, const auto& b) { return InternalKeyLess()(a.first, b.first); });
  e.erase(std::unique(e.begin(), e.end(), [](const auto& a, const auto& b) { return a.first == b.first; }), e.end());
  run_io([&] {
    TableBuilderOptions o;
    o.file_number = 9;
    build_table(dir.file("t.sst"), e, o);
    auto t = open_table(dir.file("t.sst"), 9);
    REQUIRE(t);
    UncachedBlockReader blocks(*t->file, 9);
    auto index = t->reader->index_iterator();
    std::string prev_last;
    std::size_t shortened = 0, blocks_seen = 0;
    for (index->seek_to_first(); index->valid(); index->next(), ++blocks_seen) {
      std::string_view v = index->value();
      auto block = blocks.read_block(*decode_block_handle(v), BlockKind::kData, nullptr);
      REQUIRE(block);
      BlockIterator it = (*block)->iterator(kInternalKeyComparator);
      it.seek_to_first();
      REQUIRE(it.valid());
      if (!prev_last.empty()) CHECK(compare_internal_keys(prev_last, it.key()) < 0);
      it.seek_to_last();
      CHECK(compare_internal_keys(it.key(), index->key()) <= 0);
      if (index->key().size() < it.key().size()) shortened++;
      prev_last = std::string(index->key());
    }
    CHECK(index->status());
    MESSAGE(shortened << " of " << blocks_seen << " separators shortened");
    CHECK(shortened > blocks_seen / 2);
  });
}
