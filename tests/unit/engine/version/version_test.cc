#include "engine/version/version.h"

#include <doctest/doctest.h>

#include "tests/unit/engine/version/version_test_util.h"

using namespace cascade::engine;
using cascade::engine::testing::ikey;
using cascade::engine::testing::table;

namespace {

std::shared_ptr<const Version> apply(const Version& base, const VersionEdit& e) {
  auto v = apply_edit(base, e);
  REQUIRE_MESSAGE(v, v.status().to_string());
  return *v;
}

std::vector<std::uint64_t> numbers(const std::vector<TableFilePtr>& files) {
  std::vector<std::uint64_t> out;
  for (const auto& f : files) out.push_back(f->file_number);
  return out;
}

}  // namespace

TEST_CASE("level 0 tables are ordered newest first") {
  VersionEdit e;
  e.add_table(0, table(5, "a", "z", 10, 20));
  e.add_table(0, table(6, "b", "c", 30, 40));
  e.add_table(0, table(7, "a", "b", 1, 20));  // same newest sequence as 5: higher number first
  auto v = apply(Version(), e);
  CHECK(numbers(v->files(0)) == std::vector<std::uint64_t>{6, 7, 5});
}

TEST_CASE("level 1+ tables are sorted and an edit that makes them overlap is refused") {
  VersionEdit e;
  e.add_table(1, table(5, "m", "p"));
  e.add_table(1, table(6, "a", "c"));
  auto v = apply(Version(), e);
  CHECK(numbers(v->files(1)) == std::vector<std::uint64_t>{6, 5});

  VersionEdit overlap;
  overlap.add_table(1, table(7, "c", "d"));  // shares user key "c" at the same sequence
  auto bad = apply_edit(*v, overlap);
  REQUIRE(!bad);
  CHECK(bad.error().code() == cascade::StatusCode::kInvalidArgument);
  CHECK(numbers(v->files(1)) == std::vector<std::uint64_t>{6, 5});  // base untouched

  // Versions of one user key may straddle two tables: internal keys still order them.
  VersionEdit straddle;
  TableFile f = table(8, "p", "q");
  f.smallest = ikey("p", 0);  // older than table 5's largest ("p", 1)
  straddle.add_table(1, f);
  CHECK(apply_edit(*v, straddle));
}

TEST_CASE("find_file binary-searches a level and overlapping_files intersects user ranges") {
  VersionEdit e;
  e.add_table(2, table(1, "b", "d"));
  e.add_table(2, table(2, "f", "h"));
  e.add_table(2, table(3, "k", "n"));
  auto v = apply(Version(), e);
  auto find = [&](std::string_view k) {
    TableFilePtr f = v->find_file(2, ikey(k, kMaxSequenceNumber, kValueTypeForSeek));
    return f ? f->file_number : 0;
  };
  CHECK(find("a") == 0);
  CHECK(find("b") == 1);
  CHECK(find("d") == 1);
  CHECK(find("e") == 0);
  CHECK(find("g") == 2);
  CHECK(find("n") == 3);
  CHECK(find("o") == 0);

  CHECK(numbers(v->overlapping_files(2, "c", "g")) == std::vector<std::uint64_t>{1, 2});
  CHECK(numbers(v->overlapping_files(2, "i", "j")).empty());
  CHECK(numbers(v->overlapping_files(2, "n", "z")) == std::vector<std::uint64_t>{3});
  CHECK(v->level_bytes(2) == 3000);
  CHECK(v->num_files(2) == 3);
}

TEST_CASE("a version edit removing a missing table or adding one twice is refused") {
  VersionEdit e;
  e.add_table(0, table(5, "a", "b"));
  auto v = apply(Version(), e);

  VersionEdit remove_missing;
  remove_missing.remove_table(1, 5);  // lives in L0, not L1
  CHECK(apply_edit(*v, remove_missing).status().code() == cascade::StatusCode::kInvalidArgument);

  VersionEdit twice;
  twice.add_table(3, table(5, "x", "y"));
  CHECK(apply_edit(*v, twice).status().code() == cascade::StatusCode::kInvalidArgument);

  VersionEdit inverted;
  inverted.add_table(3, table(9, "y", "x"));
  CHECK(!apply_edit(*v, inverted));

  VersionEdit short_key;
  TableFile bad = table(10, "a", "b");
  bad.smallest = "a";  // no trailer
  short_key.add_table(3, bad);
  CHECK(!apply_edit(*v, short_key));

  // Removal applies before addition: a table moves between levels in one edit.
  VersionEdit move;
  move.remove_table(0, 5);
  move.add_table(1, table(5, "a", "b"));
  auto moved = apply(*v, move);
  CHECK(moved->num_files(0) == 0);
  CHECK(numbers(moved->files(1)) == std::vector<std::uint64_t>{5});
}

TEST_CASE("value-log garbage accumulates and may not pass the live bytes") {
  VersionEdit e;
  e.add_vlog(VlogFile{10, 1000, 0});
  e.add_vlog_garbage(10, 300);
  auto v = apply(Version(), e);
  CHECK(v->vlog_files().at(10).garbage_bytes == 300);
  CHECK(v->vlog_files().at(10).live_bytes() == 700);

  VersionEdit more;
  more.add_vlog_garbage(10, 700);
  auto all_garbage = apply(*v, more);
  CHECK(all_garbage->vlog_files().at(10).live_bytes() == 0);

  VersionEdit too_much;
  too_much.add_vlog_garbage(10, 701);
  CHECK(!apply_edit(*v, too_much));
  VersionEdit unknown;
  unknown.add_vlog_garbage(11, 1);
  CHECK(!apply_edit(*v, unknown));
  VersionEdit remove;
  remove.remove_vlog(10);
  CHECK(apply(*v, remove)->vlog_files().empty());
}

TEST_CASE("a version's snapshot edit rebuilds the same version from nothing") {
  VersionEdit e;
  e.add_table(0, table(1, "a", "z", 5, 9));
  e.add_table(0, table(2, "c", "d", 10, 12));
  e.add_table(4, table(3, "a", "b"));
  e.add_vlog(VlogFile{4, 500, 20});
  e.add_wal_segment(7);
  e.set_flushed_sequence(8);
  e.shard = ShardIdentity{1, 4};
  e.wal_layout = WalLayout{4, 1 << 20};
  auto v = apply(Version(), e);
  auto rebuilt = apply(Version(), v->snapshot_edit());
  CHECK(rebuilt->same_state(*v));
  CHECK(!Version().same_state(*v));
  std::set<std::uint64_t> live;
  v->add_live_files(live);
  CHECK(live == std::set<std::uint64_t>{1, 2, 3, 4, 7});
}
