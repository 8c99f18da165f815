// Crash simulation with FaultFileSystem: batches acknowledged with sync=true survive any
// crash, and recovery never fails or replays out of order after one.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <random>
#include <set>
#include <vector>

#include "src/runtime/wait_group.h"
#include "tests/support/fault_file_system.h"
#include "tests/support/test_seed.h"
#include "tests/unit/engine/wal/wal_test_util.h"

using namespace cascade;
using namespace cascade::engine;
using namespace cascade::engine::testing;
using cascade::runtime::testing::IoLoop;
using cascade::test_support::FaultFileSystem;

namespace {

// One history: concurrent appenders (a third of them with sync=false) until a crash at a
// random moment, then recovery.
void crash_once(std::uint64_t seed, WalSyncPolicy policy) {
  CAPTURE(seed);
  std::mt19937_64 rng(seed);
  IoLoop loop;
  FaultFileSystem fs;
  fs.set_yield_on_io(true);
  const std::string dir = "/db";
  WalOptions options = tiny_wal(policy);
  std::set<SequenceNumber> synced_acks;
  SequenceNumber next = 1;
  SequenceNumber flushed = 0;  // the WAL may drop batches up to this one
  int crash_after = 5 + static_cast<int>(rng() % 300);
  bool crashed = false;
  run_fiber(loop, [&] {
    auto wal = open_new_wal(fs, dir, options);
    runtime::WaitGroup appenders;
    for (int f = 0; f < 6; ++f) {
      appenders.add();
      loop.sched.spawn([&, f] {
        while (!crashed) {
          SequenceNumber s = next++;
          bool sync = f % 3 != 0;
          auto p = wal->append(make_batch(s, 1, 50 + s % 900), sync);
          if (!p) break;
          if (sync && !crashed) synced_acks.insert(s);
          if (!crashed) flushed = std::max(flushed, s > 40 ? s - 40 : 0);
          wal->mark_flushed(flushed);
        }
        appenders.done();
      });
    }
    for (int i = 0; i < crash_after; ++i) runtime::Scheduler::current()->yield();
    crashed = true;
    auto report = fs.crash(rng());
    if (std::getenv("WAL_CRASH_LOG")) MESSAGE(report.log);
    appenders.wait();
    (void)wal->close();  // fails: the handles died with the crash
  });

  Replay replay;
  Result<WalRecovery> rec = Status::io_error("not run");
  run_fiber(loop, [&] { rec = recover_dir(fs, dir, options, replay); });
  REQUIRE_MESSAGE(rec, rec.error().to_string());
  // Replay order is log order, which is sequence order.
  for (std::size_t i = 1; i < replay.sequences.size(); ++i) {
    REQUIRE(replay.sequences[i] > replay.sequences[i - 1]);
  }
  // Past what was flushed (the engine's rule, engine/recovery.h), the survivors are a
  // gapless run from the first unflushed batch on: a prefix of the unflushed log.
  std::vector<SequenceNumber> live;
  for (SequenceNumber s : replay.sequences) {
    if (s > flushed) live.push_back(s);
  }
  if (std::getenv("WAL_CRASH_LOG")) {  // with the crash's log: where each survivor lay
    for (std::size_t i = 0; i < replay.sequences.size(); ++i) {
      const WalPosition& p = replay.positions[i];
      MESSAGE(replay.sequences[i] << " at " << p.lap << "/" << p.segment << "/" << p.offset);
    }
    MESSAGE("flushed " << flushed);
  }
  for (std::size_t i = 0; i < live.size(); ++i) REQUIRE(live[i] == flushed + 1 + i);
  // Every synced ack that was not flushed is replayed.
  std::set<SequenceNumber> replayed(replay.sequences.begin(), replay.sequences.end());
  for (SequenceNumber s : synced_acks) {
    if (s > flushed) CHECK_MESSAGE(replayed.count(s) == 1, "lost synced batch " << s);
  }
}

}  // namespace

TEST_CASE("wal keeps every batch acknowledged with sync across simulated crashes") {
  std::uint64_t seed = cascade::testing::test_seed("wal crash");
  std::mt19937_64 seeds(seed);
  if (const char* one = std::getenv("WAL_CRASH_ONE")) {
    crash_once(std::strtoull(one, nullptr, 0),
               std::getenv("WAL_CRASH_ALWAYS") ? WalSyncPolicy::kAlways
               : std::getenv("WAL_CRASH_NO")   ? WalSyncPolicy::kNo
                                               : WalSyncPolicy::kEverySec);
    return;
  }
  // WAL_CRASH_ROUNDS runs more histories (bounded) for a soak; the suite runs 60, a third
  // under each policy (always: durable groups, and the zeros written ahead of them).
  int rounds = 60;
  if (const char* n = std::getenv("WAL_CRASH_ROUNDS")) rounds = std::clamp(std::atoi(n), 1, 5000);
  for (int i = 0; i < rounds; ++i) {
    const WalSyncPolicy policies[] = {WalSyncPolicy::kEverySec, WalSyncPolicy::kNo,
                                      WalSyncPolicy::kAlways};
    crash_once(seeds(), policies[i % 3]);
  }
}

namespace {

constexpr std::size_t kPageValue = 3000;  // a record of one page: one group per page

// Fills lap 1 of a tiny ring (4 x 64 KiB: 15 one-page groups per segment) with synced
// batches 1..60 and marks segment 0's batches (1..15) flushed, so that the next group
// enters lap 2 over segment 0.
void fill_lap_one(WalWriter& wal) {
  for (SequenceNumber s = 1; s <= 60; ++s) {
    auto p = wal.append(make_batch(s, 1, kPageValue), true);
    REQUIRE(p);
    if (s == 60) REQUIRE(*p == WalPosition{1, 3, 15 * kWalPageSize});
  }
  wal.mark_flushed(15);
}

// Yields until `path` received a write (bounded), for writes made by a background fiber.
void await_write(FaultFileSystem& fs, const std::string& path, std::uint64_t before) {
  for (int i = 0; i < 1000 && fs.file_counters(path).writes == before; ++i) {
    runtime::Scheduler::current()->yield();
  }
  REQUIRE(fs.file_counters(path).writes > before);
}

}  // namespace

// The exact history behind CASCADE_SEED=7752213289014211319: the first write into a segment
// entered for a new lap is torn by a crash, and the oldest segment of the window (the same
// file, flushed) is left with a damaged first record.
TEST_CASE("wal treats a torn unsynced entry into a new lap as the end of the log") {
  IoLoop loop;
  FaultFileSystem fs;
  const std::string dir = "/db";
  const std::string seg0 = dir + "/" + wal_segment_name(0);
  WalOptions options = tiny_wal(WalSyncPolicy::kNo);
  run_fiber(loop, [&] {
    auto wal = open_new_wal(fs, dir, options);
    fill_lap_one(*wal);
    std::uint64_t before = fs.file_counters(seg0).writes;
    // A record filling three pages but 8 bytes: a tear (at a sector boundary strictly
    // inside whatever write carries its first page) always cuts the record.
    std::size_t value = 2 * kWalPageSize;
    while (wal_record_size(make_batch(61, 1, value).byte_size()) < 3 * kWalPageSize - 8) ++value;
    auto p = wal->append(make_batch(61, 1, value), false);
    REQUIRE(p);
    CHECK(*p == WalPosition{2, 0, kWalHeaderPageSize});
    await_write(fs, seg0, before);
    test_support::CrashOptions crash;
    crash.seed = 1;
    crash.write_lands = 1.0;
    crash.write_torn = 1.0;
    auto report = fs.simulate_crash(crash);
    CHECK(report.writes_torn >= 1);
    (void)wal->close();
  });

  Replay replay;
  Result<WalRecovery> rec = Status::io_error("not run");
  run_fiber(loop, [&] { rec = recover_dir(fs, dir, options, replay); });
  REQUIRE_MESSAGE(rec, rec.error().to_string());
  CHECK(rec->discarded_ring == 4);  // lap 1 of segment 0: flushed, left out
  CHECK(rec->resume_ring == 7);     // the log ends in segment 3
  REQUIRE(replay.sequences.size() == 45);
  CHECK(replay.sequences.front() == 16);
  CHECK(replay.sequences.back() == 60);

  // The writer takes over, enters lap 2 again and a later recovery sees all of it.
  run_fiber(loop, [&] {
    Replay r;
    auto wal = open_wal(fs, dir, options, r);
    REQUIRE(wal);
    (*wal)->mark_flushed(15);
    for (SequenceNumber s = 61; s <= 64; ++s) REQUIRE((*wal)->append(make_batch(s, 1, kPageValue), true));
    REQUIRE((*wal)->close());
  });
  Replay after;
  run_fiber(loop, [&] { rec = recover_dir(fs, dir, options, after); });
  REQUIRE_MESSAGE(rec, rec.error().to_string());
  CHECK(rec->discarded_ring == 0);
  REQUIRE(after.sequences.size() == 49);
  CHECK(after.sequences.back() == 64);
}

// The converse: the first record of the newest segment was synced and later synced records
// prove it; damage to it is corruption, not a torn entry.
TEST_CASE("wal reports damage to a synced first record of a new lap as corruption") {
  IoLoop loop;
  FaultFileSystem fs;
  const std::string dir = "/db";
  WalOptions options = tiny_wal(WalSyncPolicy::kNo);
  run_fiber(loop, [&] {
    auto wal = open_new_wal(fs, dir, options);
    fill_lap_one(*wal);
    for (SequenceNumber s = 61; s <= 63; ++s) REQUIRE(wal->append(make_batch(s, 1, kPageValue), true));
    REQUIRE(wal->close());
  });
  REQUIRE(fs.inject_bit_flip(dir + "/" + wal_segment_name(0), kWalHeaderPageSize + 100, 3));
  Replay replay;
  Result<WalRecovery> rec = Status::io_error("not run");
  run_fiber(loop, [&] { rec = recover_dir(fs, dir, options, replay); });
  REQUIRE_FALSE(rec);
  CHECK(rec.error().is_corruption());
}

namespace {

// Appends `batch` while another fiber crashes the file system as a process crash would
// (everything written lands) right after the next write to `path`, between that write and
// the writer's next call (set_yield_on_io makes every call yield first). Returns whether
// the append succeeded; the crash must have happened.
bool append_crashing_after_write(IoLoop& loop, FaultFileSystem& fs, const std::string& path,
                                 WalWriter& wal, const WriteBatch& batch) {
  fs.set_yield_on_io(true);
  bool crashed = false;
  runtime::WaitGroup crasher;
  crasher.add();
  loop.sched.spawn([&] {
    const std::uint64_t before = fs.file_counters(path).writes;
    for (int i = 0; i < 10000 && fs.file_counters(path).writes == before; ++i) {
      runtime::Scheduler::current()->yield();
    }
    if (fs.file_counters(path).writes > before) {
      test_support::CrashOptions crash;
      crash.unsynced = test_support::Unsynced::kKept;
      fs.simulate_crash(crash);
      crashed = true;
    }
    crasher.done();
  });
  const bool appended = wal.append(batch, false).has_value();
  crasher.wait();
  REQUIRE(crashed);
  return appended;
}

}  // namespace

// Under always the writer zeroes a lap-1 segment ahead of its durable groups (wal_writer.h,
// "Zeroing ahead"). A crash right after such zeros, before the group, reads as a segment
// never entered. After a restart in a later lap it must not zero at all: zeros over a
// segment's first record, then a crash, would hide which lap the segment holds and make
// the log unreadable.
TEST_CASE("wal always: a crash right after the writer zeroed ahead loses nothing") {
  IoLoop loop;
  FaultFileSystem fs;
  const std::string dir = "/db";
  const std::string seg0 = dir + "/" + wal_segment_name(0);
  const std::string seg1 = dir + "/" + wal_segment_name(1);
  WalOptions options = tiny_wal(WalSyncPolicy::kAlways);
  Result<WalRecovery> rec = Status::io_error("not run");
  SUBCASE("lap 1: zeros, then the crash") {
    run_fiber(loop, [&] {
      auto wal = open_new_wal(fs, dir, options);
      // Segment 0 full: 15 one-page groups; the next one enters segment 1.
      for (SequenceNumber s = 1; s <= 15; ++s) {
        REQUIRE(wal->append(make_batch(s, 1, kPageValue), false));
      }
      const std::uint64_t zeroed = wal->stats().zeroed_bytes;
      CHECK_FALSE(append_crashing_after_write(loop, fs, seg1, *wal, make_batch(16, 1, kPageValue)));
      CHECK(wal->stats().zeroed_bytes > zeroed);  // the crash came after segment 1's zeros
      (void)wal->close();
    });
    Replay replay;
    run_fiber(loop, [&] { rec = recover_dir(fs, dir, options, replay); });
    REQUIRE_MESSAGE(rec, rec.error().to_string());
    CHECK(replay.sequences == iota_seq(1, 15));
  }
  SUBCASE("lap 2 after a restart: no zeros") {
    run_fiber(loop, [&] {
      auto wal = open_new_wal(fs, dir, options);
      fill_lap_one(*wal);
      CHECK(wal->stats().zeroed_bytes > 0);
      REQUIRE(wal->close());
    });
    run_fiber(loop, [&] {
      Replay r;
      auto wal = open_wal(fs, dir, options, r);
      REQUIRE(wal);
      (*wal)->mark_flushed(15);
      // Into lap 2, segment 0.
      (void)append_crashing_after_write(loop, fs, seg0, **wal, make_batch(61, 1, kPageValue));
      CHECK((*wal)->stats().zeroed_bytes == 0);
      (void)(*wal)->close();
    });
    Replay replay;
    run_fiber(loop, [&] { rec = recover_dir(fs, dir, options, replay); });
    REQUIRE_MESSAGE(rec, rec.error().to_string());
    REQUIRE(replay.sequences.size() >= 45);
    CHECK(replay.sequences.front() == 16);
    CHECK(replay.sequences[44] == 60);
  }
}
