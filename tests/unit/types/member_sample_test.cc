// MemberSampler over a real engine: each path (read whole, one-pass selection, probes) draws
// members of the collection, distinct ones when asked, and probes spread over the members.
#include "src/types/member_sample.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "tests/support/test_seed.h"
#include "tests/unit/engine/db/db_test_util.h"

using namespace cascade;
using namespace cascade::types;
using cascade::engine::db_test::open_db;
using cascade::engine::db_test::run_fiber;
using cascade::engine::db_test::small_options;
using cascade::runtime::testing::IoLoop;
using cascade::test_support::FaultFileSystem;

namespace {

// Writes a set "k" of `size` members "member:<i>" and returns its handle for reading.
Collection make_set(StagedWrites& writes, std::size_t size) {
  auto made = Collection::open(writes, 0, "k", KeyType::kSet, std::nullopt);
  REQUIRE(made);
  made->create(1);
  for (std::size_t i = 0; i < size; ++i) made->put("member:" + std::to_string(i), "");
  made->header().size = size;
  made->finish();
  REQUIRE(writes.commit(false));
  return std::move(*made);
}

// Commits the members put and deleted on `set` since the last commit, with `size` as its
// member count.
void commit_members(Collection& set, StagedWrites& writes, std::size_t size) {
  set.header().size = size;
  set.finish();
  REQUIRE(writes.commit(false));
  writes.clear();
}

// The members make_set(size) writes, in the collection's (byte) order.
std::vector<std::string> sorted_members(std::size_t size) {
  std::vector<std::string> ordered;
  for (std::size_t i = 0; i < size; ++i) ordered.push_back("member:" + std::to_string(i));
  std::sort(ordered.begin(), ordered.end());
  return ordered;
}

std::set<std::string> suffixes(const std::vector<SampledMember>& drawn) {
  std::set<std::string> out;
  for (const SampledMember& m : drawn) out.insert(m.suffix);
  return out;
}

bool is_member(const std::string& s, std::size_t size) {
  if (s.rfind("member:", 0) != 0) return false;
  return std::stoul(s.substr(7)) < size;
}

}  // namespace

TEST_CASE("distinct draws return distinct members on every path") {
  IoLoop loop;
  FaultFileSystem fs;
  run_fiber(loop, [&] {
    auto db = open_db(fs, "/db", small_options());
    StagedWrites writes(*db);
    for (std::size_t size : {7u, 200u, 3000u}) {
      Collection set = make_set(writes, size);
      // small counts (probes for the large set), a quarter and more (one pass), all
      for (std::uint64_t count : {1ul, 5ul, size / 4ul + 1, size - 1ul, size + 10ul}) {
        std::vector<SampledMember> drawn;
        MemberSampler sampler(set, 1234 + count);
        REQUIRE(sampler.draw_distinct(count, drawn));
        CHECK(drawn.size() == std::min<std::uint64_t>(count, size));
        CHECK(suffixes(drawn).size() == drawn.size());
        for (const SampledMember& m : drawn) CHECK(is_member(m.suffix, size));
      }
      writes.clear();
    }
    REQUIRE(db->close());
  });
}

TEST_CASE("draws with repeats return exactly count members of the set") {
  IoLoop loop;
  FaultFileSystem fs;
  run_fiber(loop, [&] {
    auto db = open_db(fs, "/db", small_options());
    StagedWrites writes(*db);
    for (std::size_t size : {3u, 5000u}) {
      Collection set = make_set(writes, size);
      std::vector<SampledMember> drawn;
      MemberSampler sampler(set, 99);
      REQUIRE(sampler.draw_with_repeats(50, drawn));
      CHECK(drawn.size() == 50);
      for (const SampledMember& m : drawn) CHECK(is_member(m.suffix, size));
      if (size == 3) CHECK(suffixes(drawn).size() == 3);  // 50 draws of 3: all show up
    }
    REQUIRE(db->close());
  });
}

TEST_CASE("small collections are drawn uniformly") {
  IoLoop loop;
  FaultFileSystem fs;
  run_fiber(loop, [&] {
    auto db = open_db(fs, "/db", small_options());
    StagedWrites writes(*db);
    Collection set = make_set(writes, 10);
    std::vector<SampledMember> drawn;
    MemberSampler sampler(set, 7);
    REQUIRE(sampler.draw_with_repeats(10000, drawn));
    std::map<std::string, int> hits;
    for (const SampledMember& m : drawn) ++hits[m.suffix];
    CHECK(hits.size() == 10);
    for (const auto& [member, n] : hits) CHECK((n > 800 && n < 1200));
    REQUIRE(db->close());
  });
}

TEST_CASE("probes into a large collection spread over its members") {
  IoLoop loop;
  FaultFileSystem fs;
  run_fiber(loop, [&] {
    auto db = open_db(fs, "/db", small_options());
    StagedWrites writes(*db);
    Collection set = make_set(writes, 20000);
    std::vector<SampledMember> drawn;
    MemberSampler sampler(set, 11);
    REQUIRE(sampler.draw_with_repeats(2000, drawn));
    // Members share the prefix "member:"; a probe drawn over all byte values would land
    // on a handful of them. The digits' range keeps draws apart.
    const std::size_t distinct = suffixes(drawn).size();
    CHECK(distinct > 1000);
    // Probes after "member:0" (the only member with a '0' there) are redrawn, so
    // "member:1", the next member, is not drawn for a tenth of them.
    std::map<std::string, int> hits;
    for (const SampledMember& m : drawn) ++hits[m.suffix];
    for (const auto& [member, n] : hits) CHECK(n < 20);
    std::map<char, int> leading;
    for (const SampledMember& m : drawn) ++leading[m.suffix[7]];
    CHECK(leading.size() == 9);  // every leading digit 1-9 shows up ("0" is one member)
    REQUIRE(db->close());
  });
}

// A set emptied by pops keeps a tombstone per removed member until compaction. Reading the
// few members left would step over every one of them; the sampler gives up on that read
// and probes, so a draw costs a few gaps between the live members instead.
TEST_CASE("a small set among many removed members is drawn by probes") {
  IoLoop loop;
  FaultFileSystem fs;
  run_fiber(loop, [&] {
    auto db = open_db(fs, "/db", small_options());
    StagedWrites writes(*db);
    constexpr std::size_t kWritten = 10000, kKeptEvery = 500;  // 20 members left
    Collection set = make_set(writes, kWritten);
    writes.clear();
    std::set<std::string> live;
    for (std::size_t i = 0; i < kWritten; ++i) {
      const std::string member = "member:" + std::to_string(i);
      if (i % kKeptEvery == 0) {
        live.insert(member);
      } else {
        set.del(member);
      }
    }
    commit_members(set, writes, live.size());
    const std::uint64_t removed = kWritten - live.size();

    const std::uint64_t seed = cascade::testing::test_seed("sparse set draws");
    std::set<std::string> seen;
    std::uint64_t passed = 0;
    constexpr int kDraws = 40;
    for (int i = 0; i < kDraws; ++i) {
      std::vector<SampledMember> drawn;
      MemberSampler sampler(set, seed + i);
      REQUIRE(sampler.draw_distinct(i % 2 == 0 ? 1 : 3, drawn));
      CHECK(drawn.size() == (i % 2 == 0 ? 1u : 3u));
      CHECK(suffixes(drawn).size() == drawn.size());
      for (const SampledMember& m : drawn) {
        CHECK(live.contains(m.suffix));
        seen.insert(m.suffix);
      }
      passed += sampler.tombstones_passed();
      std::vector<SampledMember> repeated;
      MemberSampler again(set, seed + 1000 + i);
      REQUIRE(again.draw_with_repeats(2, repeated));
      CHECK(repeated.size() == 2);
      for (const SampledMember& m : repeated) CHECK(live.contains(m.suffix));
      passed += again.tombstones_passed();
    }
    // A read of every member passes all the removed ones; the probes a fraction of them.
    MESSAGE("tombstones passed per draw: " << passed / (2 * kDraws) << " of " << removed);
    CHECK(passed < 2 * kDraws * removed / 4);
    CHECK(seen.size() > live.size() / 2);  // the probes spread over the members left

    // Half or more of the members asked for: the sampler reads them all, whatever it costs.
    std::vector<SampledMember> most;
    MemberSampler reader(set, seed);
    REQUIRE(reader.draw_distinct(live.size() - 1, most));
    CHECK(most.size() == live.size() - 1);
    CHECK(suffixes(most).size() == most.size());
    CHECK(reader.tombstones_passed() >= removed);
    REQUIRE(db->close());
  });
}

TEST_CASE("probe ranges are kept for a number of draws, per collection version, the least recently used replaced") {
  ProbeRanges ranges;
  ProbeRanges::Kept first = ranges.find("a", 10);
  CHECK(!first.range);
  REQUIRE(first.empty);
  ranges.keep("a", first, {"a1", "a9"});  // a draw finds the range, then keeps it
  for (std::uint32_t use = 0; use < ProbeRanges::kReuses; ++use) {
    const ProbeRanges::Kept kept = ranges.find("a", 10 - use / 4);  // the same or smaller
    REQUIRE(kept.range);
    CHECK(!kept.refresh);
    CHECK(kept.empty == first.empty);
    CHECK(kept.range->first == "a1");
    CHECK(kept.range->last == "a9");
  }
  // Used up: found again from its ends inward, the size not having grown.
  ProbeRanges::Kept due = ranges.find("a", 1);
  REQUIRE(due.range);
  CHECK(due.refresh);
  ranges.keep("a", due, {"a2", "a8"});
  CHECK(ranges.find("a", 1).range->first == "a2");
  // Grown since the last draw: from the ends, with new stretches; an update made from
  // the record as it was before (a draw that suspended meanwhile) is ignored.
  ProbeRanges::Kept grown = ranges.find("a", 2);
  CHECK(!grown.range);
  CHECK(grown.empty != due.empty);
  ranges.keep("a", due, {"a3", "a7"});
  ranges.mark_sparse("a", due);
  ranges.removed("a", due, 0);
  CHECK(!ranges.known_sparse("a", 2));
  ranges.keep("a", grown, {"a2", "a8"});
  ProbeRanges::Kept after = ranges.find("a", 2);  // not lowered to 0: no reset at 2
  REQUIRE(after.range);
  CHECK(after.range->first == "a2");
  CHECK(!ranges.find("b", 10).range);
  // Full: a new collection replaces the one used longest ago ("a" was just used).
  for (std::size_t i = 0; i < ProbeRanges::kCapacity; ++i) {
    const std::string c = "c" + std::to_string(i);
    ranges.keep(c, ranges.find(c, 1), {"x", "y"});
    if (i == 0) CHECK(ranges.find("a", 2).range);
  }
  CHECK(ranges.find("a", 2).range);
  CHECK(!ranges.find("c0", 1).range);
}

TEST_CASE("a reader looks at probe ranges without changing them") {
  ProbeRanges ranges;
  CHECK(!ranges.peek("a", 10));
  ProbeRanges::Kept kept = ranges.find("a", 10);
  ranges.keep("a", kept, {"a1", "a9"});
  ranges.mark_sparse("a", kept);
  // Only at the size the record was kept at: a reader's view at another size is another
  // state of the collection.
  CHECK(!ranges.peek("a", 9));
  CHECK(!ranges.peek("a", 11));
  std::optional<ProbeRanges::Kept> peeked = ranges.peek("a", 10);
  REQUIRE(peeked);
  CHECK(peeked->range->first == "a1");
  CHECK(peeked->sparse);
  CHECK(peeked->empty == kept.empty);
  CHECK(ranges.known_sparse("a", 10));
  CHECK(ranges.known_sparse("a", 3));
  CHECK(!ranges.known_sparse("a", 11));
  // Peeking counts no draw: the range is not used up by readers.
  for (std::uint32_t i = 0; i < 2 * ProbeRanges::kReuses; ++i) CHECK(ranges.peek("a", 10));
  CHECK(!ranges.find("a", 10).refresh);
  // Forgotten: nothing to peek at, and the next draw starts afresh.
  ranges.forget("a");
  CHECK(!ranges.peek("a", 10));
  CHECK(!ranges.known_sparse("a", 10));
  CHECK(!ranges.find("a", 10).range);
}

TEST_CASE("empty stretches merge, answer the probes inside them, and stay within their bytes") {
  EmptyStretches e;
  e.add("d", "f");
  e.add("m", "p");
  e.add("c", "c");  // empty: nothing
  CHECK(e.size() == 2);
  CHECK(!e.holding("c"));
  CHECK(e.holding("d")->end == "f");
  CHECK(e.holding("e")->end == "f");
  CHECK(!e.holding("f"));  // the end was a member: not inside
  CHECK(e.holding("n")->start == "m");
  // Touching the first one at its end and reaching into the second: one stretch.
  e.add("f", "n");
  CHECK(e.size() == 1);
  CHECK(e.holding("d")->end == "p");
  CHECK(e.holding("o")->start == "d");
  // Inside an existing one: no change; over several: swallowed.
  e.add("e", "g");
  CHECK(e.size() == 1);
  e.add("r", "s");
  e.add("u", "v");
  e.add("a", "t");
  CHECK(e.size() == 2);
  CHECK(e.holding("b")->end == "t");
  CHECK(e.holding("u")->end == "v");
  // Past every member: from "w" on, then from "s" (reaching into "u".."v", and touching the
  // stretch that ends at "t", which it takes in).
  e.add_to_end("w");
  CHECK(e.holding("x")->to_end);
  CHECK(!e.holding("v"));
  e.add("s", "w");
  CHECK(e.size() == 1);
  CHECK(e.holding("b")->to_end);
  CHECK(e.holding("b")->start == "a");
  CHECK(e.holding("zz")->start == "a");
  // Past the byte bound everything is forgotten, and the newest stretch kept.
  EmptyStretches many;
  std::size_t added = 0;
  while (many.bytes() + 200 < EmptyStretches::kMaxBytes) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%08zu", 2 * added);
    std::string next = buf;
    std::snprintf(buf, sizeof buf, "%08zu", 2 * added + 1);
    many.add(next, buf);
    ++added;
  }
  CHECK(many.size() == added);
  for (int i = 0; i < 100; ++i) many.add("z" + std::to_string(2 * i), "z" + std::to_string(2 * i + 1));
  CHECK(many.bytes() <= EmptyStretches::kMaxBytes);
  CHECK(many.size() < 100);
  CHECK(many.holding("z198"));
}

// The draws of SPOP emptying a set: each pop leaves a tombstone, pops widen the stretches
// the probes land in, and without the record of empty stretches the walks grow to hundreds
// of tombstones per pop.
TEST_CASE("emptying a set by random pops walks few tombstones with empty stretches kept") {
  IoLoop loop;
  FaultFileSystem fs;
  run_fiber(loop, [&] {
    const std::uint64_t seed = cascade::testing::test_seed("empty stretches");
    // Each run on its own database: the same set in one would also pass the other's.
    auto empty_by_pops = [&](const std::string& dir, ProbeRanges* ranges, std::uint64_t& passed) {
      auto db = open_db(fs, dir, small_options());
      StagedWrites writes(*db);
      constexpr std::size_t kSize = 4000;
      Collection set = make_set(writes, kSize);
      writes.clear();
      std::set<std::string> live;
      for (std::size_t i = 0; i < kSize; ++i) live.insert("member:" + std::to_string(i));
      passed = 0;
      constexpr std::size_t kLeft = 40;
      for (std::size_t pop = 0; pop < kSize - kLeft; ++pop) {
        std::vector<SampledMember> drawn;
        MemberSampler sampler(set, seed + pop, ranges);
        REQUIRE(sampler.draw_distinct(1, drawn));
        REQUIRE(drawn.size() == 1);
        REQUIRE(live.erase(drawn[0].suffix) == 1);  // a live member, popped once
        passed += sampler.tombstones_passed();
        set.del(drawn[0].suffix);
        --set.header().size;
        sampler.popped(set.size());  // as SPOP does
        set.finish();
        REQUIRE(writes.commit(false));
        writes.clear();
      }
      REQUIRE(live.size() == kLeft);
      // Members added into the stretches left (each right after an original member, most
      // of them popped: "member:199~" sorts between member:199 and member:1990) are drawn
      // once the set has grown: the record is started afresh. Enough members that the
      // draws go by probes (a whole read gives up on the tombstones).
      std::set<std::string> added;
      for (std::size_t i = 0; i < 20; ++i) {
        const std::string member = "member:" + std::to_string(i * 199) + "~";
        set.put(member, "");
        added.insert(member);
        live.insert(member);
      }
      commit_members(set, writes, live.size());
      std::set<std::string> seen;
      for (int i = 0; i < 400; ++i) {
        std::vector<SampledMember> drawn;
        MemberSampler sampler(set, seed + 100000 + i, ranges);
        REQUIRE(sampler.draw_with_repeats(1, drawn));
        REQUIRE(drawn.size() == 1);
        REQUIRE(live.contains(drawn[0].suffix));
        if (added.contains(drawn[0].suffix)) seen.insert(drawn[0].suffix);
      }
      MESSAGE(dir << ": " << seen.size() << " of the 20 added members drawn in 400 draws");
      CHECK(seen.size() >= 10);
      writes.clear();
      REQUIRE(db->close());
    };
    std::uint64_t alone = 0, kept = 0;
    empty_by_pops("/alone", nullptr, alone);
    ProbeRanges ranges;
    empty_by_pops("/kept", &ranges, kept);
    MESSAGE("tombstones passed emptying 4,000 members: " << alone << " finding each walk, "
                                                         << kept << " with ranges and stretches kept");
    CHECK(kept * 10 < alone);
  });
}

// A kept range spares each draw the walks in from both ends; one out of date (its ends
// removed since, members added past it) still yields live members only.
TEST_CASE("draws through kept probe ranges pass fewer tombstones and stay on live members") {
  IoLoop loop;
  FaultFileSystem fs;
  run_fiber(loop, [&] {
    auto db = open_db(fs, "/db", small_options());
    StagedWrites writes(*db);
    Collection set = make_set(writes, 3000);
    writes.clear();
    // Remove the members at both ends of the key order and every other one in between.
    std::set<std::string> live;
    const std::vector<std::string> ordered = sorted_members(3000);
    for (std::size_t i = 0; i < ordered.size(); ++i) {
      const bool end = i < 500 || i >= ordered.size() - 500;
      if (end || i % 2 == 0) {
        set.del(ordered[i]);
      } else {
        live.insert(ordered[i]);
      }
    }
    commit_members(set, writes, live.size());

    const std::uint64_t seed = cascade::testing::test_seed("kept probe ranges");
    auto passed_by = [&](ProbeRanges* ranges) {
      std::uint64_t passed = 0;
      for (int i = 0; i < 64; ++i) {
        std::vector<SampledMember> drawn;
        MemberSampler sampler(set, seed + i, ranges);
        REQUIRE(sampler.draw_distinct(1, drawn));
        REQUIRE(drawn.size() == 1);
        CHECK(live.contains(drawn[0].suffix));
        passed += sampler.tombstones_passed();
      }
      return passed;
    };
    ProbeRanges ranges;
    const std::uint64_t alone = passed_by(nullptr);
    const std::uint64_t kept = passed_by(&ranges);
    MESSAGE("tombstones passed by 64 draws: " << alone << " finding the range each time, "
                                              << kept << " keeping it");
    // The same seeds draw the same probes either way; what differs is the walks in from
    // both ends (500 removed members each), skipped by all but the draws that find the
    // range (the first, and the first after kReuses).
    CHECK(alone - kept >= (64 - 2) * 1000 * 9 / 10);

    // Out of date: the kept range's ends were removed since. Draws still land on live
    // members, distinct ones when asked, and the range is used (no walk from the ends).
    const ProbeRanges::Range stale{*live.begin(), *live.rbegin()};
    for (const std::string& end : {stale.first, stale.last}) {
      set.del(end);
      live.erase(end);
    }
    commit_members(set, writes, live.size());
    std::uint64_t stale_passed = 0;
    for (int i = 0; i < 20; ++i) {
      ranges.keep(set.prefix(), ranges.find(set.prefix(), set.size()), stale);
      std::vector<SampledMember> drawn;
      MemberSampler sampler(set, seed + 100 + i, &ranges);
      REQUIRE(sampler.draw_distinct(3, drawn));
      CHECK(suffixes(drawn).size() == 3);
      for (const SampledMember& m : drawn) CHECK(live.contains(m.suffix));
      REQUIRE(sampler.draw_with_repeats(3, drawn));
      for (const SampledMember& m : drawn) CHECK(live.contains(m.suffix));
      stale_passed += sampler.tombstones_passed();
    }
    // Finding the range would pass the 1,000 removed members at its ends at each of the 40
    // draws; the probes' own walks pass a few hundred a draw.
    CHECK(stale_passed < 40 * 1000 / 2);
    // Members added past the kept range: the set grew, so the range is found afresh and
    // the new members are drawn.
    for (int i = 0; i < 10; ++i) {
      set.put("zzz:" + std::to_string(i), "");
      live.insert("zzz:" + std::to_string(i));
    }
    commit_members(set, writes, live.size());
    int past = 0;
    for (int i = 0; i < 200; ++i) {
      std::vector<SampledMember> drawn;
      MemberSampler sampler(set, seed + 300 + i, &ranges);
      REQUIRE(sampler.draw_with_repeats(1, drawn));
      REQUIRE(drawn.size() == 1);
      CHECK(live.contains(drawn[0].suffix));
      past += drawn[0].suffix.starts_with("zzz:");
    }
    CHECK(past > 0);
    REQUIRE(db->close());
  });
}

// A kept record can hide members without the size showing it (members added outside the
// range while as many others were removed). A distinct draw that cannot reach enough
// members through it forgets the record and reads the collection, rather than failing.
TEST_CASE("a distinct draw through an out-of-date range falls back to reading every member") {
  IoLoop loop;
  FaultFileSystem fs;
  run_fiber(loop, [&] {
    auto db = open_db(fs, "/db", small_options());
    StagedWrites writes(*db);
    Collection set = make_set(writes, 1000);
    writes.clear();
    const std::vector<std::string> ordered = sorted_members(1000);
    // A range starting at the 900th member, kept as if found by an earlier draw: the probes
    // and their walks (which wrap to its first member) reach the last 100 members only.
    ProbeRanges ranges;
    ranges.keep(set.prefix(), ranges.find(set.prefix(), set.size()), {ordered[900], ordered[999]});
    const std::uint64_t seed = cascade::testing::test_seed("stale range fallback");
    std::vector<SampledMember> drawn;
    MemberSampler sampler(set, seed, &ranges);
    REQUIRE(sampler.draw_distinct(120, drawn));  // probes (120 < 1000 / 4), then the read
    CHECK(drawn.size() == 120);
    CHECK(suffixes(drawn).size() == 120);
    for (const SampledMember& m : drawn) CHECK(is_member(m.suffix, 1000));
    // The record is gone: the next draw finds the range from the ends.
    CHECK(!ranges.find(set.prefix(), set.size()).range);
    REQUIRE(db->close());
  });
}

// SPOP tells ProbeRanges what its pops left only when its draw looked the set up there: a
// draw that read the set instead (a count of a quarter or more) must not lower the size
// recorded before members were added since, or they would stay hidden.
TEST_CASE("pops after a draw that did not look the collection up change no record") {
  IoLoop loop;
  FaultFileSystem fs;
  run_fiber(loop, [&] {
    auto db = open_db(fs, "/db", small_options());
    StagedWrites writes(*db);
    Collection set = make_set(writes, 1000);
    writes.clear();
    ProbeRanges ranges;
    const ProbeRanges::Kept before = ranges.find(set.prefix(), 900);  // as at 900 members
    ranges.keep(set.prefix(), before, {"member:0", "member:999"});
    std::vector<SampledMember> drawn;
    MemberSampler sampler(set, 7, &ranges);
    REQUIRE(sampler.draw_distinct(300, drawn));  // one pass: no lookup
    CHECK(drawn.size() == 300);
    sampler.popped(700);
    // Still recorded at 900: a draw at 1,000 sees the growth and starts afresh.
    CHECK(ranges.peek(set.prefix(), 900));
    CHECK(!ranges.find(set.prefix(), 1000).range);
    // A draw that did look it up lowers the size for the next one.
    std::vector<SampledMember> one;
    MemberSampler prober(set, 8, &ranges);
    REQUIRE(prober.draw_distinct(1, one));
    prober.popped(999);
    CHECK(ranges.peek(set.prefix(), 999));
    REQUIRE(db->close());
  });
}
