// CompactionIterator's drop rules over in-memory inputs: snapshot stripes, tombstones at
// the bottom, the compaction filter, and the value hooks (with a fake value log).
#include "engine/compaction/compaction_iterator.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "engine/iterator/vector_iterator.h"
#include "tests/unit/engine/compaction/compaction_test_util.h"
#include "tests/unit/engine/version/version_test_util.h"

using namespace cascade;
using namespace cascade::engine;
using namespace cascade::engine::compaction_test;
using cascade::engine::testing::ikey;

namespace {

using Entries = std::vector<VectorIterator::Entry>;

// "key@seq" for values, "key@seq-" for tombstones, "key@seq*" for pointers.
std::vector<std::string> run(Entries entries, CompactionIteratorOptions options,
                             Status* status = nullptr) {
  VectorIterator input(std::move(entries));
  CompactionIterator it(input, std::move(options));
  std::vector<std::string> out;
  for (it.seek_to_first(); it.valid(); it.next()) out.push_back(describe(it.key(), it.value()));
  if (status != nullptr) *status = it.status();
  else REQUIRE_MESSAGE(it.status(), it.status().to_string());
  return out;
}

using Out = std::vector<std::string>;

Entries history() {
  return {{ikey("a", 9), "a9"},
          {ikey("a", 7, ValueType::kDeletion), ""},
          {ikey("a", 5), "a5"},
          {ikey("a", 2), "a2"},
          {ikey("b", 4), "b4"},
          {ikey("c", 3, ValueType::kDeletion), ""}};
}

}  // namespace

TEST_CASE("compaction keeps only the newest version of each key without snapshots") {
  FakeValueLog log;
  auto handler = log.start_job(Compaction{});
  CompactionIteratorOptions o;
  o.value_handler = handler.get();
  CHECK(run(history(), o) == Out{"a@9=a9", "b@4=b4"});
  // Every entry not written is reported once, tombstones included.
  CHECK(log.dropped == Out{"a-", "a=a5", "a=a2", "c-"});
}

TEST_CASE("compaction keeps the version each live snapshot sees") {
  CompactionIteratorOptions o;
  o.snapshots = {6, 8};  // a sees a5 at 6, the tombstone at 8, a9 now
  CHECK(run(history(), o) == Out{"a@9=a9", "a@7-", "a@5=a5", "b@4=b4"});
  // At 3 "a" is a2 and "c" is deleted: nothing older hides under c's tombstone, so it goes.
  o.snapshots = {3};
  CHECK(run(history(), o) == Out{"a@9=a9", "a@2=a2", "b@4=b4"});
}

TEST_CASE("compaction keeps every version above the visible sequence, and what it hides") {
  // Sequences 7 and 9 were still waiting on the WAL when the job started: readers will see
  // 7 alone before they see 9, so neither may supersede the other, and a5 (the newest
  // visible) stays under them; a2 is hidden by a5 for every reader.
  CompactionIteratorOptions o;
  o.visible = 6;
  CHECK(run(history(), o) == Out{"a@9=a9", "a@7-", "a@5=a5", "b@4=b4"});
  // With every sequence visible, the usual rule: the newest version only.
  o.visible = 9;
  CHECK(run(history(), o) == Out{"a@9=a9", "b@4=b4"});
}

TEST_CASE("compaction keeps tombstones while a deeper level may hold the key") {
  cascade::engine::compaction_test::VersionBuilder v;
  v.add(2, cascade::engine::testing::table(1, "c", "c", 1, 1));
  DeeperLevels deeper(*v.version, 1);
  CompactionIteratorOptions o;
  o.deeper = &deeper;
  CHECK(run(history(), o) == Out{"a@9=a9", "b@4=b4", "c@3-"});
  // At the bottom (nothing deeper) the tombstone goes; so it does into L2 itself.
  DeeperLevels at_bottom(*v.version, 2);
  o.deeper = &at_bottom;
  CHECK(run(history(), o) == Out{"a@9=a9", "b@4=b4"});
}

TEST_CASE("compaction filter is asked only about versions no snapshot sees") {
  DropValuesStartingWith filter("b");
  CompactionIteratorOptions o;
  o.filter = &filter;
  Entries in = {{ikey("b1", 9), "b-new"}, {ikey("b1", 3), "b-old"}, {ikey("k", 8), "keep"}};
  // No snapshot, nothing deeper: the filtered key vanishes with its older version.
  CHECK(run(in, o) == Out{"k@8=keep"});
  CHECK(filter.asked == Out{"b1=b-new", "k=keep"});

  // A snapshot at 5 still sees b-old: it stays, the filtered version becomes a tombstone
  // so newer reads see the key deleted, and the filter is never asked about b-old.
  filter.asked.clear();
  o.snapshots = {5};
  CHECK(run(in, o) == Out{"b1@9-", "b1@3=b-old", "k@8=keep"});
  CHECK(filter.asked == Out{"b1=b-new", "k=keep"});

  // A snapshot above everything: nothing is filtered.
  filter.asked.clear();
  o.snapshots = {100};
  CHECK(run(in, o) == Out{"b1@9=b-new", "k@8=keep"});
  CHECK(filter.asked.empty());
}

TEST_CASE("compaction filter drops become tombstones while a deeper level may hold the key") {
  cascade::engine::compaction_test::VersionBuilder v;
  v.add(3, cascade::engine::testing::table(1, "b1", "b1", 1, 1));
  DeeperLevels deeper(*v.version, 1);
  DropValuesStartingWith filter("b");
  CompactionIteratorOptions o;
  o.filter = &filter;
  o.deeper = &deeper;
  CHECK(run({{ikey("b1", 9), "b-new"}}, o) == Out{"b1@9-"});
}

TEST_CASE("compaction relocates kept value pointers through the value hooks") {
  FakeValueLog log;
  log.relocate_prefix = "old:";
  auto handler = log.start_job(Compaction{});
  CompactionIteratorOptions o;
  o.value_handler = handler.get();
  Entries in = {{ikey("p", 5, ValueType::kValuePointer), "old:1"},
                {ikey("p", 4, ValueType::kValuePointer), "old:0"},
                {ikey("q", 3, ValueType::kValuePointer), "new:7"},
                {ikey("r", 2), "old:inline"}};
  CHECK(run(in, o) == Out{"p@5*=moved:1", "q@3*=new:7", "r@2=old:inline"});
  CHECK(log.dropped == Out{"p*=old:0"});
  CHECK(log.relocated == Out{"p=old:1", "q=new:7"});

  log.fail_relocation = true;
  auto failing = log.start_job(Compaction{});
  o.value_handler = failing.get();
  Status s;
  CHECK(run(in, o, &s).empty());
  CHECK(s.code() == StatusCode::kIoError);
}

TEST_CASE("compaction reports a malformed input key as corruption") {
  CompactionIteratorOptions o;
  Status s;
  CHECK(run({{std::string("abc"), "x"}}, o, &s).empty());
  CHECK(s.is_corruption());
}
