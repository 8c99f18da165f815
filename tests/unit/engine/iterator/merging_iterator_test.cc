#include "engine/iterator/merging_iterator.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "engine/iterator/vector_iterator.h"
#include "engine/memtable/memtable.h"
#include "tests/support/test_seed.h"
#include "tests/unit/engine/iterator/iterator_test_util.h"

using namespace cascade::engine;
using namespace cascade::engine::iterator_test;
using cascade::Status;

namespace {

using Entries = std::vector<VectorIterator::Entry>;

std::unique_ptr<InternalIterator> vec(Entries entries) {
  return std::make_unique<VectorIterator>(std::move(entries));
}

std::vector<std::string> scan_forward(InternalIterator& it) {
  std::vector<std::string> keys;
  for (it.seek_to_first(); it.valid(); it.next()) keys.emplace_back(it.key());
  return keys;
}

// The model's answer to each positioning call: an index into the sorted keys, or -1.
struct Cursor {
  const std::vector<std::string>* keys;
  long pos = -1;

  bool valid() const { return pos >= 0 && pos < static_cast<long>(keys->size()); }
  void seek(const std::string& t) {
    auto it = std::lower_bound(keys->begin(), keys->end(), t, InternalKeyLess{});
    pos = it == keys->end() ? -1 : it - keys->begin();
  }
  void seek_for_prev(const std::string& t) {
    auto it = std::upper_bound(keys->begin(), keys->end(), t, InternalKeyLess{});
    pos = (it - keys->begin()) - 1;
  }
};

}  // namespace

TEST_CASE("merging iterator matches a sorted model under random seeks, steps and direction switches") {
  std::mt19937_64 rng(cascade::testing::test_seed("merging iterator model"));
  for (int round = 0; round < 60; ++round) {
    auto versions = random_versions(rng, 1 + static_cast<int>(rng() % 40),
                                    static_cast<int>(rng() % 300));
    std::vector<std::unique_ptr<MemTable>> memtables;
    int children = 1 + static_cast<int>(rng() % 6);
    MergingIterator merged(split_into_children(rng, versions, children, memtables));

    std::vector<std::string> keys;
    std::vector<std::string> values_by_key;
    for (const auto& v : versions) keys.push_back(ikey(v.user_key, v.seq, v.type));
    std::sort(keys.begin(), keys.end(), InternalKeyLess{});
    Cursor model{&keys};

    for (int op = 0; op < 400; ++op) {
      int kind = static_cast<int>(rng() % 10);
      if ((kind >= 6) && !model.valid()) kind = static_cast<int>(rng() % 4);
      std::string target = ikey(std::string(1 + rng() % 3, "ab\xff"[rng() % 3]),
                                rng() % (versions.size() + 2),
                                static_cast<ValueType>(rng() % 3));
      switch (kind) {
        case 0: merged.seek_to_first(); model.pos = keys.empty() ? -1 : 0; break;
        case 1: merged.seek_to_last(); model.pos = static_cast<long>(keys.size()) - 1; break;
        case 2: merged.seek(target); model.seek(target); break;
        case 3: merged.seek_for_prev(target); model.seek_for_prev(target); break;
        case 4: case 5:
          if (!model.valid()) continue;
          merged.next();
          ++model.pos;
          break;
        default: merged.prev(); --model.pos; break;
      }
      REQUIRE(merged.status().is_ok());
      REQUIRE(merged.valid() == model.valid());
      if (model.valid()) REQUIRE(merged.key() == keys[model.pos]);
    }
  }
}

TEST_CASE("merging iterator returns each child's value with its key") {
  std::vector<std::unique_ptr<InternalIterator>> children;
  children.push_back(vec({{ikey("a", 9), "new-a"}, {ikey("c", 8), "new-c"}}));
  children.push_back(vec({{ikey("a", 2), "old-a"}, {ikey("b", 3), "old-b"}}));
  MergingIterator merged(std::move(children));
  std::vector<std::string> seen;
  for (merged.seek_to_last(); merged.valid(); merged.prev()) seen.emplace_back(merged.value());
  CHECK(seen == std::vector<std::string>{"new-c", "old-b", "old-a", "new-a"});
}

TEST_CASE("merging iterator over no children or only empty ones is invalid with an ok status") {
  MergingIterator none({});
  none.seek_to_first();
  CHECK_FALSE(none.valid());
  CHECK(none.status().is_ok());

  std::vector<std::unique_ptr<InternalIterator>> children;
  children.push_back(vec({}));
  children.push_back(vec({{ikey("k", 1), "v"}}));
  children.push_back(vec({}));
  MergingIterator merged(std::move(children));
  CHECK(scan_forward(merged) == std::vector<std::string>{ikey("k", 1)});
  merged.seek_to_last();
  REQUIRE(merged.valid());
  merged.prev();
  CHECK_FALSE(merged.valid());
  CHECK(merged.status().is_ok());
}

namespace {

// Three children holding a..d, each version with its own sequence: in merged order
// a@21 a@11 a@1 b@22 b@12 b@2 ... (child 2 first for every key). `failing_child` fails
// with Corruption after `moves` positioning calls.
MergingIterator three_children(int failing_child, int moves) {
  std::vector<std::unique_ptr<InternalIterator>> children;
  for (int c = 0; c < 3; ++c) {
    Entries entries;
    for (int k = 0; k < 4; ++k) {
      entries.emplace_back(ikey(std::string(1, static_cast<char>('a' + k)), 10 * c + k + 1), "");
    }
    auto child = vec(std::move(entries));
    if (c == failing_child) {
      child = std::make_unique<FailingIterator>(std::move(child), moves,
                                                Status::corruption("bad block"));
    }
    children.push_back(std::move(child));
  }
  return MergingIterator(std::move(children));
}

}  // namespace

TEST_CASE("merging iterator stops at an error in any child and reports it") {
  for (int failing_child = 0; failing_child < 3; ++failing_child) {
    // A child makes one move for the seek and one per entry it yields (4): so it fails on
    // the seek (moves == 0) or on its k-th step.
    for (int moves = 0; moves <= 4; ++moves) {
      CAPTURE(failing_child);
      CAPTURE(moves);
      MergingIterator merged = three_children(failing_child, moves);
      int seen = 0;
      for (merged.seek_to_first(); merged.valid(); merged.next()) ++seen;
      // Failing on the step off its last entry (moves == 4) still ends the scan in error.
      if (moves < 4) CHECK(seen < 12);
      CHECK(merged.status().is_corruption());
      CHECK(merged.status().message() == "bad block");
    }
  }
}

TEST_CASE("merging iterator stops at an error while repositioning children for a direction switch") {
  // Child 0 fails on its second call: seek_to_first is its first, the switch's seek its second.
  MergingIterator merged = three_children(0, 1);
  merged.seek_to_first();
  merged.next();  // a@11, from child 1; child 0 still waits at a@1
  REQUIRE(merged.valid());
  merged.prev();
  CHECK_FALSE(merged.valid());
  CHECK(merged.status().is_corruption());
  // A fresh seek asks every child again: the broken one still fails.
  merged.seek_to_last();
  CHECK_FALSE(merged.valid());
  CHECK(merged.status().is_corruption());
}

namespace {

// One entry whose key is too short to hold a trailer, as a damaged source might yield.
class ShortKeyIterator final : public InternalIterator {
 public:
  bool valid() const override { return valid_; }
  Status status() const override { return Status::ok(); }
  std::string_view key() const override { return "abc"; }
  std::string_view value() const override { return ""; }
  void seek_to_first() override { valid_ = true; }
  void seek_to_last() override { valid_ = true; }
  void seek(std::string_view) override { valid_ = true; }
  void next() override { valid_ = false; }
  void prev() override { valid_ = false; }

 private:
  bool valid_ = false;
};

}  // namespace

TEST_CASE("merging iterator reports a child key shorter than its trailer as corruption") {
  std::vector<std::unique_ptr<InternalIterator>> children;
  children.push_back(vec({{ikey("a", 1), "a"}}));
  children.push_back(std::make_unique<ShortKeyIterator>());
  MergingIterator merged(std::move(children));
  merged.seek_to_first();
  CHECK_FALSE(merged.valid());
  CHECK(merged.status().is_corruption());
}
