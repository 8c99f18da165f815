#include "engine/wal/wal_writer.h"

#include <doctest/doctest.h>

#include <chrono>
#include <memory>
#include <vector>

#include "tests/unit/engine/wal/wal_test_util.h"

using namespace cascade;
using namespace cascade::engine;
using namespace cascade::engine::testing;
using cascade::runtime::real_file_system;
using cascade::runtime::testing::IoLoop;
using cascade::runtime::testing::TempDir;

TEST_CASE("wal round trip: every appended batch is replayed in order after reopen") {
  IoLoop loop;
  TempDir dir;
  WalOptions options = tiny_wal();
  run_fiber(loop, [&] {
    Replay first;
    auto wal = open_wal(real_file_system(), dir.path(), options, first);
    REQUIRE(wal);
    CHECK(first.sequences.empty());
    std::vector<WalPosition> positions;
    for (SequenceNumber s = 1; s <= 40; ++s) {  // a page per group: 15 per segment
      auto p = (*wal)->append(make_batch(s, 1, 100 + s % 300), false);
      REQUIRE(p);
      positions.push_back(*p);
    }
    CHECK((*wal)->close());

    Replay second;
    WalRecovery rec;
    auto again = open_wal(real_file_system(), dir.path(), options, second, &rec);
    REQUIRE(again);
    CHECK(second.sequences == iota_seq(1, 40));
    CHECK(second.positions == positions);
    CHECK(rec.last_sequence == 40);
    CHECK_FALSE(rec.torn_tail);
    for (SequenceNumber s = 41; s <= 50; ++s) REQUIRE((*again)->append(make_batch(s), true));
    CHECK((*again)->close());

    Replay third;
    REQUIRE(recover_dir(real_file_system(), dir.path(), options, third));
    CHECK(third.sequences == iota_seq(1, 50));
  });
}

TEST_CASE("wal group commit puts concurrent appends into far fewer writes and syncs") {
  IoLoop loop;
  TempDir dir;
  WalOptions options = tiny_wal(WalSyncPolicy::kAlways);
  options.geometry.segment_size = 1 << 20;
  Replay replay;
  std::unique_ptr<WalWriter> wal;
  run_fiber(loop, [&] {
    auto w = open_wal(real_file_system(), dir.path(), options, replay);
    REQUIRE(w);
    wal = std::move(*w);
  });
  constexpr int kFibers = 64, kEach = 10;
  int failures = 0;
  for (int f = 0; f < kFibers; ++f) {
    loop.sched.spawn([&, f] {
      for (int i = 0; i < kEach; ++i) {
        if (!wal->append(make_batch(1 + f * kEach + i), true)) ++failures;
      }
    });
  }
  REQUIRE(loop.run());
  CHECK(failures == 0);
  const WalStats& st = wal->stats();
  MESSAGE("batches " << st.batches << " groups " << st.groups << " syncs " << st.syncs
                     << " max batches per group " << st.max_group_batches);
  CHECK(st.batches == kFibers * kEach);
  CHECK(st.syncs == st.groups);
  CHECK(st.groups * 4 < st.batches);
  CHECK(st.max_group_batches > 8);
  run_fiber(loop, [&] { CHECK(wal->close()); });
  Replay after;
  run_fiber(loop, [&] { REQUIRE(recover_dir(real_file_system(), dir.path(), options, after)); });
  CHECK(after.sequences.size() == kFibers * kEach);
}

TEST_CASE("wal group commit: writers that loop on synced appends share one group per round") {
  // Each fiber appends again as soon as its sync returns; the fiber that ran the last sync
  // is back first. Without the leader's yield, every round split into a group of its one
  // batch and a group of everyone else's: twice the syncs.
  IoLoop loop;
  TempDir dir;
  WalOptions options = tiny_wal(WalSyncPolicy::kAlways);
  options.geometry.segment_size = 1 << 20;
  Replay replay;
  std::unique_ptr<WalWriter> wal;
  run_fiber(loop, [&] {
    auto w = open_wal(real_file_system(), dir.path(), options, replay);
    REQUIRE(w);
    wal = std::move(*w);
  });
  constexpr int kFibers = 8, kEach = 20;
  int failures = 0;
  for (int f = 0; f < kFibers; ++f) {
    loop.sched.spawn([&, f] {
      for (int i = 0; i < kEach; ++i) {
        if (!wal->append(make_batch(1 + f * kEach + i), true)) ++failures;
      }
    });
  }
  REQUIRE(loop.run());
  CHECK(failures == 0);
  const WalStats& st = wal->stats();
  MESSAGE("batches " << st.batches << " groups " << st.groups);
  CHECK(st.batches == kFibers * kEach);
  CHECK(st.groups <= kEach + 2);
  run_fiber(loop, [&] { CHECK(wal->close()); });
}

TEST_CASE("wal sync policies decide which groups are synced") {
  IoLoop loop;
  TempDir dir;
  SUBCASE("always syncs every group") {
    run_fiber(loop, [&] {
      Replay r;
      auto wal = open_wal(real_file_system(), dir.path(), tiny_wal(WalSyncPolicy::kAlways), r);
      REQUIRE(wal);
      for (SequenceNumber s = 1; s <= 5; ++s) REQUIRE((*wal)->append(make_batch(s), false));
      CHECK((*wal)->stats().syncs == 5);
      CHECK((*wal)->close());
    });
  }
  SUBCASE("always only writes a batch held durable elsewhere; the next sync covers it") {
    run_fiber(loop, [&] {
      Replay r;
      auto wal = open_wal(real_file_system(), dir.path(), tiny_wal(WalSyncPolicy::kAlways), r);
      REQUIRE(wal);
      REQUIRE((*wal)->append(make_batch(1), false, true));
      REQUIRE((*wal)->append(make_batch(2), false, true));
      CHECK((*wal)->stats().syncs == 0);
      CHECK((*wal)->stats().batches == 2);  // written, so a process crash keeps them
      REQUIRE((*wal)->append(make_batch(3), false));
      CHECK((*wal)->stats().syncs == 1);
      CHECK((*wal)->close());
    });
    Replay after;
    run_fiber(loop, [&] {
      REQUIRE(recover_dir(real_file_system(), dir.path(), tiny_wal(WalSyncPolicy::kAlways), after));
    });
    CHECK(after.sequences == std::vector<SequenceNumber>{1, 2, 3});
  }
  SUBCASE("no syncs only batches that ask for it") {
    run_fiber(loop, [&] {
      Replay r;
      auto wal = open_wal(real_file_system(), dir.path(), tiny_wal(WalSyncPolicy::kNo), r);
      REQUIRE(wal);
      for (SequenceNumber s = 1; s <= 5; ++s) REQUIRE((*wal)->append(make_batch(s), false));
      CHECK((*wal)->stats().syncs == 0);
      REQUIRE((*wal)->append(make_batch(6), true));
      CHECK((*wal)->stats().syncs == 1);
      CHECK((*wal)->close());
    });
  }
  SUBCASE("everysec syncs in the background within the interval") {
    run_fiber(loop, [&] {
      Replay r;
      WalOptions o = tiny_wal(WalSyncPolicy::kEverySec);
      o.sync_interval = std::chrono::milliseconds(20);
      auto wal = open_wal(real_file_system(), dir.path(), o, r);
      REQUIRE(wal);
      REQUIRE((*wal)->append(make_batch(1), false));
      CHECK((*wal)->stats().syncs == 0);
      runtime::Scheduler::current()->sleep_for(std::chrono::milliseconds(100));
      CHECK((*wal)->stats().syncs == 1);  // one sync: nothing new was written after it
      CHECK((*wal)->close());
    });
  }
}

TEST_CASE("wal ring wraps over several laps and replays only the live window") {
  IoLoop loop;
  TempDir dir;
  WalOptions options = tiny_wal(WalSyncPolicy::kNo);
  SequenceNumber next = 1;
  for (int lap = 0; lap < 4; ++lap) {
    run_fiber(loop, [&] {
      Replay replay;
      WalRecovery rec;
      auto wal = open_wal(real_file_system(), dir.path(), options, replay, &rec);
      REQUIRE(wal);
      CHECK_FALSE(rec.torn_tail);
      // Every replayed batch is a recent one, in order, ending with the last appended.
      if (next > 1) {
        REQUIRE_FALSE(replay.sequences.empty());
        CHECK(replay.sequences.back() == next - 1);
        for (std::size_t i = 1; i < replay.sequences.size(); ++i) {
          CHECK(replay.sequences[i] == replay.sequences[i - 1] + 1);
        }
        CHECK(replay.sequences.front() + 61 > next);  // no batch from an older lap
      }
      if (next > 21) (*wal)->mark_flushed(next - 21);  // what the engine's manifest says
      // Records of just over 4 KiB, 14 per segment: 80 batches are more than a lap of
      // 4 x 64 KiB; flushed lags 20 batches behind.
      for (int i = 0; i < 80; ++i, ++next) {
        REQUIRE((*wal)->append(make_batch(next, 1, 4050), false));
        if (next > 20) (*wal)->mark_flushed(next - 20);
      }
      CHECK((*wal)->stats().full_waits == 0);
      CHECK((*wal)->close());
    });
  }
  Replay last;
  run_fiber(loop, [&] { REQUIRE(recover_dir(real_file_system(), dir.path(), options, last)); });
  CHECK(last.sequences.back() == next - 1);
  CHECK(last.positions.back().lap >= 4);
}

TEST_CASE("wal append waits for mark_flushed when the ring is full") {
  IoLoop loop;
  TempDir dir;
  WalOptions options = tiny_wal(WalSyncPolicy::kNo);
  std::unique_ptr<WalWriter> wal;
  run_fiber(loop, [&] {
    Replay r;
    auto w = open_wal(real_file_system(), dir.path(), options, r);
    REQUIRE(w);
    wal = std::move(*w);
  });
  SequenceNumber appended = 0;
  bool writer_done = false;
  loop.sched.spawn([&] {
    for (SequenceNumber s = 1; s <= 300; ++s) {  // ~300 KiB: more than the 4 x 64 KiB ring
      REQUIRE(wal->append(make_batch(s, 1, 1000), false));
      appended = s;
    }
    writer_done = true;
  });
  loop.sched.spawn([&] {
    while (wal->stats().full_waits == 0) runtime::Scheduler::current()->sleep_for(std::chrono::milliseconds(1));
    SequenceNumber stuck = appended;
    runtime::Scheduler::current()->sleep_for(std::chrono::milliseconds(20));
    CHECK(appended == stuck);  // nothing overwrote segment 0's unflushed records
    CHECK_FALSE(writer_done);
    CHECK(wal->segments_in_use() == 4);
    wal->mark_flushed(~SequenceNumber{0});  // everything flushed: no more waits
  });
  REQUIRE(loop.run());
  CHECK(writer_done);
  CHECK(wal->stats().full_waits == 1);
  run_fiber(loop, [&] { CHECK(wal->close()); });
}

TEST_CASE("wal segments in use count the rings the tail reached before the writer") {
  IoLoop loop;
  TempDir dir;
  WalOptions options = tiny_wal(WalSyncPolicy::kNo);
  run_fiber(loop, [&] {
    Replay r;
    auto w = open_wal(real_file_system(), dir.path(), options, r);
    REQUIRE(w);
    WalWriter& wal = **w;
    CHECK(wal.segments_in_use() == 1);
    // ~70 KiB queued at once, none written yet: the tail is in the second 64 KiB segment.
    WalTicket last;
    for (SequenceNumber s = 1; s <= 70; ++s) {
      auto ticket = wal.enqueue(make_batch(s, 1, 1000));
      REQUIRE(ticket);
      last = *ticket;
    }
    CHECK(wal.segments_in_use() == 2);
    wal.mark_flushed(70);  // flushed or not: the segment being written and the tail's
    CHECK(wal.segments_in_use() == 2);
    REQUIRE(wal.await(last, true));
    CHECK(wal.close());
  });
}

TEST_CASE("wal rejects a batch larger than a segment and stays usable") {
  IoLoop loop;
  TempDir dir;
  run_fiber(loop, [&] {
    Replay r;
    auto wal = open_wal(real_file_system(), dir.path(), tiny_wal(), r);
    REQUIRE(wal);
    auto big = (*wal)->append(make_batch(1, 1, 70 << 10), true);
    REQUIRE_FALSE(big);
    CHECK(big.error().code() == StatusCode::kInvalidArgument);
    CHECK((*wal)->append(make_batch(1, 1, 50 << 10), true));  // the largest kind that fits
    CHECK((*wal)->health());
    CHECK((*wal)->close());
  });
}
