#include "engine/iterator/db_iterator.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "engine/iterator/merging_iterator.h"
#include "engine/iterator/vector_iterator.h"
#include "engine/memtable/memtable.h"
#include "tests/support/test_seed.h"
#include "tests/unit/engine/iterator/db_iterator_model.h"
#include "tests/unit/engine/iterator/iterator_test_util.h"

using namespace cascade::engine;
using namespace cascade::engine::iterator_test;
using cascade::Status;

TEST_CASE("db iterator matches the model at random snapshots, bounds and prefixes") {
  std::mt19937_64 rng(cascade::testing::test_seed("db iterator model"));
  for (int round = 0; round < 150; ++round) {
    CAPTURE(round);
    int version_count = static_cast<int>(rng() % 400);
    auto versions = random_versions(rng, 1 + static_cast<int>(rng() % 50), version_count);
    Model model;
    for (const auto& v : versions) model.emplace(std::make_pair(v.user_key, v.seq), v);

    std::vector<std::unique_ptr<MemTable>> memtables;
    int children = 1 + static_cast<int>(rng() % 5);
    for (int view = 0; view < 4; ++view) {
      SequenceNumber snapshot = rng() % (version_count + 2);
      Range range = random_range(rng);
      auto expected = visible_entries(model, snapshot, range);
      // The same data split differently for every view: the answer must not depend on it.
      auto merged = std::make_unique<MergingIterator>(
          split_into_children(rng, versions, children, memtables));
      DBIterator it(std::move(merged), range.options(snapshot));
      long pos = -1;
      for (int op = 0; op < 200; ++op) {
        random_op(rng, it, expected, pos);
        require_same(it, expected, pos);
      }
    }
  }
}

namespace {

std::unique_ptr<InternalIterator> merge_of(std::vector<VectorIterator::Entry> a,
                                           std::vector<VectorIterator::Entry> b = {}) {
  std::vector<std::unique_ptr<InternalIterator>> children;
  children.push_back(std::make_unique<VectorIterator>(std::move(a)));
  children.push_back(std::make_unique<VectorIterator>(std::move(b)));
  return std::make_unique<MergingIterator>(std::move(children));
}

std::vector<std::string> keys_forward(DBIterator& it) {
  std::vector<std::string> out;
  for (it.seek_to_first(); it.valid(); it.next()) out.emplace_back(it.key());
  return out;
}

std::vector<std::string> keys_backward(DBIterator& it) {
  std::vector<std::string> out;
  for (it.seek_to_last(); it.valid(); it.prev()) out.emplace_back(it.key());
  return out;
}

}  // namespace

TEST_CASE("db iterator shows the newest visible version in both directions") {
  auto inner = merge_of({{ikey("k", 7), "k7"}, {ikey("k", 3), "k3"}},
                        {{ikey("k", 5), "k5"}, {ikey("k", 1), "k1"}, {ikey("j", 2), "j2"}});
  DBIteratorOptions options;
  options.snapshot = 6;
  DBIterator it(std::move(inner), options);
  it.seek_to_last();
  REQUIRE(it.valid());
  CHECK(it.key() == "k");
  CHECK(it.value() == "k5");
  CHECK(it.sequence() == 5);
  it.prev();
  CHECK(it.value() == "j2");
  it.next();
  CHECK(it.value() == "k5");
  it.seek("k");
  CHECK(it.value() == "k5");
}

TEST_CASE("db iterator hides keys whose newest visible version is a deletion") {
  auto inner = merge_of({{ikey("a", 4, ValueType::kDeletion), ""}, {ikey("b", 6), "b6"}},
                        {{ikey("a", 2), "a2"}, {ikey("b", 5, ValueType::kDeletion), ""},
                         {ikey("c", 3, ValueType::kDeletion), ""}});
  DBIterator latest(merge_of({{ikey("a", 4, ValueType::kDeletion), ""}, {ikey("b", 6), "b6"}},
                             {{ikey("a", 2), "a2"}, {ikey("b", 5, ValueType::kDeletion), ""},
                              {ikey("c", 3, ValueType::kDeletion), ""}}),
                    {});
  CHECK(keys_forward(latest) == std::vector<std::string>{"b"});
  CHECK(latest.tombstones_passed() == 2);  // a and c, each counted once per walk
  CHECK(keys_backward(latest) == std::vector<std::string>{"b"});
  CHECK(latest.tombstones_passed() == 4);
  DBIteratorOptions at5;
  at5.snapshot = 5;
  DBIterator old(std::move(inner), at5);
  CHECK(keys_forward(old).empty());
  CHECK(old.tombstones_passed() == 3);  // b's version 6 is invisible, not a tombstone
  CHECK(keys_backward(old).empty());
  CHECK(old.tombstones_passed() == 6);  // the last, a, at the front of the range
  CHECK(old.status().is_ok());
}

TEST_CASE("db iterator exposes value pointers as such") {
  DBIterator it(merge_of({{ikey("a", 1, ValueType::kValuePointer), "ptr"}, {ikey("b", 2), "v"}}), {});
  it.seek_to_first();
  REQUIRE(it.valid());
  CHECK(it.type() == ValueType::kValuePointer);
  CHECK(it.value() == "ptr");
  it.next();
  CHECK(it.type() == ValueType::kValue);
}

TEST_CASE("db iterator bounds: lower == upper, bounds outside the data, prefix of 0xff bytes") {
  auto data = [] {
    return merge_of({{ikey("b", 1), "b"}, {ikey("c", 2), "c"}, {ikey("c\xff", 3), "cff"},
                     {ikey("d", 4), "d"}, {ikey("\xff\xff", 5), "ffff"}});
  };
  auto with = [&](std::optional<std::string_view> lower, std::optional<std::string_view> upper,
                  std::optional<std::string_view> prefix) {
    DBIteratorOptions o;
    o.lower_bound = lower;
    o.upper_bound = upper;
    o.prefix = prefix;
    return std::make_unique<DBIterator>(data(), o);
  };
  using Keys = std::vector<std::string>;
  {
    auto it = with("c", "c", std::nullopt);
    CHECK(keys_forward(*it).empty());
    CHECK(keys_backward(*it).empty());
    it->seek("c");
    CHECK_FALSE(it->valid());
    it->seek_for_prev("c");
    CHECK_FALSE(it->valid());
  }
  {
    auto it = with("x", std::nullopt, std::nullopt);
    CHECK(keys_forward(*it) == Keys{"\xff\xff"});
    it = with(std::nullopt, "a", std::nullopt);
    CHECK(keys_backward(*it).empty());
    it = with("a", "z", std::nullopt);
    CHECK(keys_forward(*it) == Keys{"b", "c", "c\xff", "d"});
    CHECK(keys_backward(*it) == Keys{"d", "c\xff", "c", "b"});
  }
  {
    auto it = with(std::nullopt, std::nullopt, "c");
    CHECK(keys_forward(*it) == Keys{"c", "c\xff"});
    CHECK(keys_backward(*it) == Keys{"c\xff", "c"});
    it->seek("a");
    CHECK(it->key() == "c");
    it->seek_for_prev("z");
    CHECK(it->key() == "c\xff");
    it->seek("d");
    CHECK_FALSE(it->valid());
    it = with(std::nullopt, std::nullopt, "\xff");
    CHECK(keys_forward(*it) == Keys{"\xff\xff"});
    CHECK(keys_backward(*it) == Keys{"\xff\xff"});
    it = with("c\x01", std::nullopt, "c");  // bound and prefix intersect
    CHECK(keys_forward(*it) == Keys{"c\xff"});
  }
}

TEST_CASE("db iterator reports a child's error and stops") {
  // The failing child makes one call for the seek and one per step (2 entries).
  for (int moves = 0; moves < 3; ++moves) {
    CAPTURE(moves);
    std::vector<std::unique_ptr<InternalIterator>> children;
    children.push_back(std::make_unique<VectorIterator>(std::vector<VectorIterator::Entry>{
        {ikey("a", 1), "a"}, {ikey("c", 3), "c"}}));
    children.push_back(std::make_unique<FailingIterator>(
        std::make_unique<VectorIterator>(std::vector<VectorIterator::Entry>{
            {ikey("b", 2), "b"}, {ikey("d", 4), "d"}}),
        moves, Status::io_error("disk gone")));
    DBIterator it(std::make_unique<MergingIterator>(std::move(children)), {});
    int seen = 0;
    for (it.seek_to_first(); it.valid(); it.next()) ++seen;
    CHECK(it.status().code() == cascade::StatusCode::kIoError);
    it.seek_to_last();
    CHECK_FALSE(it.valid());
    CHECK(it.status().code() == cascade::StatusCode::kIoError);
  }
}

namespace {

// "b"@2 whose type byte (the trailer's low byte, first on disk) is 7: no such ValueType.
std::string bad_type_key() {
  std::string k = ikey("b", 2);
  k[1] = '\x07';
  return k;
}

}  // namespace

TEST_CASE("db iterator reports a malformed internal key as corruption") {
  std::vector<std::unique_ptr<InternalIterator>> children;
  children.push_back(std::make_unique<VectorIterator>(std::vector<VectorIterator::Entry>{
      {ikey("a", 1), "a"}, {bad_type_key(), "bad type"}}));
  DBIterator it(std::make_unique<MergingIterator>(std::move(children)), {});
  it.seek_to_last();
  CHECK_FALSE(it.valid());
  CHECK(it.status().is_corruption());
  it.seek_to_first();
  REQUIRE(it.valid());
  it.next();
  CHECK_FALSE(it.valid());
  CHECK(it.status().is_corruption());
}

namespace {

// Counts the steps and seeks the DBIterator asks of its inner iterator.
class CountingIterator final : public InternalIterator {
 public:
  explicit CountingIterator(std::unique_ptr<InternalIterator> inner, int& steps)
      : inner_(std::move(inner)), steps_(steps) {}
  bool valid() const override { return inner_->valid(); }
  Status status() const override { return inner_->status(); }
  std::string_view key() const override { return inner_->key(); }
  std::string_view value() const override { return inner_->value(); }
  void seek_to_first() override { ++steps_, inner_->seek_to_first(); }
  void seek_to_last() override { ++steps_, inner_->seek_to_last(); }
  void seek(std::string_view target) override { ++steps_, inner_->seek(target); }
  void seek_for_prev(std::string_view target) override {
    ++steps_, inner_->seek_for_prev(target);
  }
  void next() override { ++steps_, inner_->next(); }
  void prev() override { ++steps_, inner_->prev(); }

 private:
  std::unique_ptr<InternalIterator> inner_;
  int& steps_;
};

}  // namespace

TEST_CASE("db iterator seeks over a long run of hidden versions instead of stepping") {
  // "hot" has versions 1..20000; "a" and "z" one old version each.
  constexpr SequenceNumber kVersions = 20000;
  std::vector<VectorIterator::Entry> entries;
  entries.emplace_back(ikey("a", 1), "a");
  for (SequenceNumber seq = kVersions; seq >= 1; --seq) {
    entries.emplace_back(ikey("hot", seq), "hot" + std::to_string(seq));
  }
  entries.emplace_back(ikey("z", 2), "z");
  auto walk = [&](SequenceNumber snapshot) {
    int steps = 0;
    DBIteratorOptions options;
    options.snapshot = snapshot;
    DBIterator it(std::make_unique<CountingIterator>(std::make_unique<VectorIterator>(entries),
                                                     steps),
                  options);
    std::vector<std::string> seen;
    for (it.seek_to_first(); it.valid(); it.next()) seen.emplace_back(it.value());
    return std::make_pair(seen, steps);
  };
  // Older versions of "hot" after its newest: skipped by one seek, not 19999 steps.
  auto [latest, latest_steps] = walk(kVersions + 2);
  CHECK(latest == std::vector<std::string>{"a", "hot20000", "z"});
  CHECK(latest_steps < 40);
  // Versions newer than the snapshot before the visible one: also one seek.
  auto [old, old_steps] = walk(kVersions + 1 - kVersions / 2);
  CHECK(old == std::vector<std::string>{"a", "hot10001", "z"});
  CHECK(old_steps < 60);
}
