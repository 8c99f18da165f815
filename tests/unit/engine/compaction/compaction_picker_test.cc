// CompactionPicker, the debt estimates and the write controller, over hand-built versions.
#include "engine/compaction/compaction_picker.h"

#include <doctest/doctest.h>

#include "engine/compaction/compaction_debt.h"
#include "engine/compaction/write_controller.h"
#include "tests/unit/engine/version/version_test_util.h"

using namespace cascade;
using namespace cascade::engine;
using cascade::engine::testing::table;

namespace {

struct Fixture {
  CompactionOptions options;
  LevelOptionsArray levels;
  std::shared_ptr<const Version> version = std::make_shared<Version>();

  Fixture() {
    options.base_level_size = 10000;
    options.level_size_ratio = 10;
    options.target_file_size = 1000;
    levels = resolve_level_options(options, CompressionOptions{});
  }
  void add(int level, const TableFile& t) {
    VersionEdit e;
    e.add_table(level, t);
    auto next = apply_edit(*version, e);
    REQUIRE_MESSAGE(next, next.status().to_string());
    version = *next;
  }
  std::vector<std::uint64_t> numbers(const std::vector<TableFilePtr>& files) {
    std::vector<std::uint64_t> out;
    for (const auto& f : files) out.push_back(f->file_number);
    return out;
  }
};

using Numbers = std::vector<std::uint64_t>;

}  // namespace

TEST_CASE("level options derive targets from the base size and the ratio, with overrides") {
  CompactionOptions o;
  o.base_level_size = 100;
  o.level_size_ratio = 10;
  o.levels.resize(3);
  o.levels[2].target_size = 5;
  o.levels[2].target_file_size = 7;
  auto levels = resolve_level_options(o, CompressionOptions{});
  CHECK(levels[0].target_size == 0);
  CHECK(levels[1].target_size == 100);
  CHECK(levels[2].target_size == 5);
  CHECK(levels[2].target_file_size == 7);
  CHECK(levels[3].target_size == 10000);
  CHECK(levels[kNumLevels - 1].target_size == 0);
}

TEST_CASE("picker compacts L0 only once it holds the trigger's count of tables") {
  Fixture f;
  BusyFiles busy;
  CompactionPicker picker(f.options, f.levels);
  f.add(1, table(10, "a", "c", 1, 1));
  f.add(1, table(11, "m", "p", 1, 1));
  f.add(2, table(20, "b", "n", 1, 1));
  for (std::uint64_t n = 1; n <= 3; ++n) f.add(0, table(100 + n, "b", "d", 10 * n, 10 * n));
  CHECK(!picker.needs_compaction(*f.version));
  CHECK(!picker.pick(f.version, busy));
  f.add(0, table(104, "x", "z", 40, 40));
  auto c = picker.pick(f.version, busy);
  REQUIRE(c);
  CHECK(c->level == 0);
  CHECK(c->output_level == 1);
  CHECK(c->inputs[0].size() == 4);
  // The hull of L0 is [b, z]: both L1 tables overlap it.
  CHECK(f.numbers(c->inputs[1]) == Numbers{10, 11});
  CHECK(f.numbers(c->grandparents) == Numbers{20});
  CHECK(!c->is_trivial_move());
  // While an L0 table is busy no second L0 compaction starts.
  busy.insert(104);
  CHECK(!picker.pick(f.version, busy));
}

TEST_CASE("picker picks L1+ round robin by key and skips busy tables") {
  Fixture f;
  CompactionPicker picker(f.options, f.levels);
  f.add(1, table(1, "a", "b", 1, 1, 4000));
  f.add(1, table(2, "c", "d", 1, 1, 4000));
  f.add(1, table(3, "e", "f", 1, 1, 4000));
  f.add(2, table(9, "c", "c", 1, 1, 100));
  BusyFiles busy;
  CHECK(picker.score(*f.version, 1) == doctest::Approx(1.2));
  auto c1 = picker.pick(f.version, busy);
  REQUIRE(c1);
  CHECK(f.numbers(c1->inputs[0]) == Numbers{1});
  CHECK(c1->inputs[1].empty());
  CHECK(c1->is_trivial_move());
  auto c2 = picker.pick(f.version, busy);
  REQUIRE(c2);
  CHECK(f.numbers(c2->inputs[0]) == Numbers{2});
  CHECK(f.numbers(c2->inputs[1]) == Numbers{9});
  CHECK(!c2->is_trivial_move());
  busy.insert(3);
  auto c3 = picker.pick(f.version, busy);  // wraps around past the busy table
  REQUIRE(c3);
  CHECK(f.numbers(c3->inputs[0]) == Numbers{1});
  busy.insert(9);  // the L2 table c2 needs
  busy.insert(1);
  CHECK(!picker.pick(f.version, busy));
}

TEST_CASE("picker takes neighbours that share a boundary user key") {
  Fixture f;
  CompactionPicker picker(f.options, f.levels);
  // Versions of "c" straddle tables 1 and 2 (internal keys still ordered).
  TableFile t1 = table(1, "a", "c", 5, 5, 6000);
  TableFile t2 = table(2, "c", "e", 1, 4, 6000);
  t1.largest = cascade::engine::testing::ikey("c", 5);
  t2.smallest = cascade::engine::testing::ikey("c", 4);
  f.add(1, t1);
  f.add(1, t2);
  auto c = picker.pick(f.version, {});
  REQUIRE(c);
  CHECK(f.numbers(c->inputs[0]) == Numbers{1, 2});
}

TEST_CASE("a trivial move is refused when the grandparent overlap is too large") {
  Fixture f;
  f.options.max_grandparent_overlap_factor = 2;  // 2000 bytes
  f.add(1, table(1, "a", "z", 1, 1, 20000));
  f.add(3, table(30, "b", "c", 1, 1, 1500));
  f.add(3, table(31, "d", "e", 1, 1, 1500));
  {
    CompactionPicker picker(f.options, f.levels);
    // L2 is empty, so L1 -> L2 has nothing to merge; L3 holds its grandparents.
    auto c = picker.pick(f.version, {});
    REQUIRE(c);
    CHECK(c->inputs[1].empty());
    CHECK(f.numbers(c->grandparents) == Numbers{30, 31});
    CHECK(!c->is_trivial_move());
  }
  f.options.max_grandparent_overlap_factor = 3;  // 3000 bytes: just enough
  CompactionPicker picker(f.options, f.levels);
  auto c = picker.pick(f.version, {});
  REQUIRE(c);
  CHECK(c->is_trivial_move());
}

TEST_CASE("pick_range closes L0 over overlapping tables and reports busy ones") {
  Fixture f;
  CompactionPicker picker(f.options, f.levels);
  f.add(0, table(1, "a", "c", 1, 1));
  f.add(0, table(2, "c", "f", 2, 2));
  f.add(0, table(3, "x", "y", 3, 3));
  f.add(1, table(4, "e", "g", 1, 1));
  BusyFiles busy;
  RangePick p = picker.pick_range(f.version, 0, std::string("a"), std::string("b"), busy);
  REQUIRE(p.state == RangePick::State::kPicked);
  CHECK(p.compaction.manual);
  CHECK(p.compaction.inputs[0].size() == 2);  // table 2 overlaps table 1 at "c"
  CHECK(f.numbers(p.compaction.inputs[1]) == Numbers{4});
  CHECK(!p.compaction.is_trivial_move());
  CHECK(picker.pick_range(f.version, 2, std::nullopt, std::nullopt, busy).state ==
        RangePick::State::kNothing);
  busy.insert(4);
  CHECK(picker.pick_range(f.version, 0, std::string("a"), std::string("b"), busy).state ==
        RangePick::State::kBusy);
}

TEST_CASE("deeper levels answer for ascending keys") {
  Fixture f;
  f.add(1, table(1, "a", "z", 1, 1));
  f.add(2, table(2, "c", "d", 1, 1));
  f.add(4, table(3, "m", "n", 1, 1));
  DeeperLevels deeper(*f.version, 1);
  CHECK(!deeper.may_hold("b"));
  CHECK(deeper.may_hold("c"));
  CHECK(!deeper.may_hold("e"));
  CHECK(deeper.may_hold("n"));
  CHECK(!deeper.may_hold("o"));
  DeeperLevels below3(*f.version, 4);
  CHECK(!below3.may_hold("m"));
}

TEST_CASE("pending compaction bytes grow with L0 at its trigger and levels over target") {
  Fixture f;
  CHECK(pending_compaction_bytes(*f.version, f.levels, 4) == 0);
  for (std::uint64_t n = 1; n <= 3; ++n) f.add(0, table(n, "a", "b", n, n, 1000));
  CHECK(pending_compaction_bytes(*f.version, f.levels, 4) == 0);
  f.add(0, table(4, "a", "b", 4, 4, 1000));
  CHECK(pending_compaction_bytes(*f.version, f.levels, 4) == 4000);
  f.add(1, table(10, "c", "d", 1, 1, 12000));  // L1 target 10000; L0 flows in
  // L1 would hold 16000: excess 6000, counted once more than the (empty) L2 ratio.
  CHECK(pending_compaction_bytes(*f.version, f.levels, 4) == 4000 + 6000);
}

TEST_CASE("live bytes count the newest table of each key range once") {
  Fixture f;
  f.add(2, table(1, "a", "m", 1, 1, 5000));
  f.add(2, table(2, "n", "z", 1, 1, 5000));
  f.add(1, table(3, "b", "c", 2, 2, 700));  // over table 1: overwrites
  f.add(0, table(4, "0", "1", 3, 3, 300));  // a range nothing else holds
  CHECK(estimate_live_bytes(*f.version) == 10300);
}

TEST_CASE("write controller slows, then stops, logging each change once") {
  CompactionOptions o;
  o.l0_slowdown_trigger = 4;
  o.l0_stop_trigger = 8;
  o.pending_bytes_slowdown = 1000;
  o.pending_bytes_stop = 2000;
  o.slowdown_min_delay = std::chrono::microseconds(100);
  o.slowdown_max_delay = std::chrono::microseconds(1100);
  WriteController w(o);
  auto now = runtime::Clock::now();
  CHECK(!w.update({2, 0}, now));
  CHECK(w.state() == WriteState::kNormal);
  CHECK(w.delay() == runtime::Duration::zero());
  auto m = w.update({4, 0}, now);
  REQUIRE(m);
  CHECK(m->find("slowed down") != std::string::npos);
  CHECK(w.state() == WriteState::kSlowdown);
  auto d0 = w.delay();
  CHECK(!w.update({6, 0}, now));  // same episode: no second line
  CHECK(w.delay() > d0);
  CHECK(w.delay() ==
        std::chrono::duration_cast<runtime::Duration>(std::chrono::microseconds(600)));
  CHECK(!w.update({1, 1500}, now));  // debt by bytes keeps it slowed
  REQUIRE(w.update({1, 2500}, now));
  CHECK(w.state() == WriteState::kStop);
  auto back = w.update({0, 0}, now + std::chrono::milliseconds(5));
  REQUIRE(back);
  CHECK(back->find("no longer stopped") != std::string::npos);
  CHECK(w.episodes(WriteState::kSlowdown) == 1);
  CHECK(w.episodes(WriteState::kStop) == 1);
}

TEST_CASE("write controller grows the background share with compaction debt") {
  CompactionOptions o;
  o.l0_compaction_trigger = 4;
  o.l0_slowdown_trigger = 12;
  o.pending_bytes_slowdown = 1000;
  o.background_share = 0.1;
  o.max_background_share = 0.5;
  WriteController w(o);
  CHECK(w.background_share({0, 0}) == doctest::Approx(0.1));
  CHECK(w.background_share({4, 0}) == doctest::Approx(0.1));  // no debt at the trigger
  CHECK(w.background_share({8, 0}) == doctest::Approx(0.3));  // halfway to the slowdown
  CHECK(w.background_share({12, 0}) == doctest::Approx(0.5));
  CHECK(w.background_share({30, 0}) == doctest::Approx(0.5));  // never past the maximum
  CHECK(w.background_share({0, 250}) == doctest::Approx(0.2));  // pending bytes count too
  CHECK(w.background_share({6, 750}) == doctest::Approx(0.4));  // the larger debt wins
  o.max_background_share = 0.05;  // a maximum under the base leaves the base
  CHECK(w.background_share({12, 0}) == doctest::Approx(0.1));
}

namespace {

VlogFile vlog_with_ratio(std::uint64_t number, double ratio) {
  const std::uint64_t size = 100 * 4096;
  return VlogFile{number, size,
                  3 * 4096 - 1 + static_cast<std::uint64_t>(ratio * static_cast<double>(size - 8192))};
}

TableFile pointing_to(TableFile t, std::uint64_t oldest_vlog) {
  t.oldest_vlog = oldest_vlog;
  return t;
}

}  // namespace

TEST_CASE("picker rewrites tables pointing into a garbage-heavy value-log file, below score work") {
  Fixture f;
  RelocationPolicy policy;
  policy.garbage_ratio = 0.5;
  policy.age_cutoff = 0.5;
  CompactionPicker picker(f.options, f.levels, policy);
  VersionEdit e;
  e.add_vlog(vlog_with_ratio(5, 0.8));  // picked
  e.add_vlog(vlog_with_ratio(6, 0.2));  // under the ratio
  e.add_vlog(vlog_with_ratio(7, 0.9));  // too young (age cutoff: the oldest two of four)
  e.add_vlog(vlog_with_ratio(8, 0));
  e.set_next_file_number(100);
  auto v = apply_edit(*f.version, e);
  REQUIRE(v);
  f.version = *v;
  f.add(1, pointing_to(table(10, "a", "c", 1, 1), 6));
  f.add(2, pointing_to(table(20, "a", "b", 1, 1), 7));
  f.add(6, table(60, "a", "z", 1, 1));
  BusyFiles busy;
  CHECK(!picker.needs_compaction(*f.version));  // nothing points first into file 5
  CHECK(!picker.pick(f.version, busy));

  f.add(6, pointing_to(table(61, "za", "zz", 1, 1), 5));
  f.add(3, pointing_to(table(30, "m", "n", 1, 1), 5));
  CHECK(picker.needs_compaction(*f.version));
  // The deepest first: the last level, rewritten in place, never a trivial move.
  auto c = picker.pick(f.version, busy);
  REQUIRE(c);
  CHECK(c->relocation);
  CHECK(c->level == 6);
  CHECK(c->output_level == 6);
  CHECK(f.numbers(c->inputs[0]) == Numbers{61});
  CHECK(c->inputs[1].empty());
  CHECK(!c->is_trivial_move());
  // Busy: the next target, in place at L3, with L4 as grandparents (none here).
  busy.insert(61);
  c = picker.pick(f.version, busy);
  REQUIRE(c);
  CHECK(c->level == 3);
  CHECK(c->output_level == 3);
  CHECK(f.numbers(c->inputs[0]) == Numbers{30});
  busy.insert(30);
  CHECK(!picker.pick(f.version, busy));
  busy.clear();

  // An L0 target takes the usual L0 compaction, flagged so it is no trivial move.
  Fixture g;
  CompactionPicker picker0(g.options, g.levels, policy);
  auto v0 = apply_edit(*g.version, e);
  REQUIRE(v0);
  g.version = *v0;
  g.add(0, pointing_to(table(40, "a", "b", 5, 5), 5));
  auto c0 = picker0.pick(g.version, busy);
  REQUIRE(c0);
  CHECK(c0->relocation);
  CHECK(c0->level == 0);
  CHECK(c0->output_level == 1);
  CHECK(!c0->is_trivial_move());

  // Score work comes first.
  for (std::uint64_t n = 1; n <= 4; ++n) f.add(0, table(200 + n, "b", "d", 10 * n, 10 * n));
  c = picker.pick(f.version, busy);
  REQUIRE(c);
  CHECK(!c->relocation);
  CHECK(c->level == 0);
}
