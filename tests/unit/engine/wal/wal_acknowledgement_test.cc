// The WAL's acknowledgements under each sync policy: from the in-memory tail, once in the
// page cache (everysec), once durable (always, sync appends), and what a process crash
// keeps of each. The ring and group commit are in wal_writer_test.cc.
#include "engine/wal/wal_writer.h"

#include <doctest/doctest.h>

#include <chrono>
#include <memory>
#include <vector>

#include "tests/support/fault_file_system.h"
#include "tests/unit/engine/wal/wal_test_util.h"

using namespace cascade;
using namespace cascade::engine;
using namespace cascade::engine::testing;
using cascade::runtime::real_file_system;
using cascade::runtime::testing::IoLoop;
using cascade::runtime::testing::TempDir;

namespace {

using cascade::test_support::CrashOptions;
using cascade::test_support::FaultFileSystem;
using cascade::test_support::IoCounters;

WalOptions roomy_wal(WalSyncPolicy policy) {
  WalOptions o = tiny_wal(policy);
  o.geometry.segment_size = 1 << 20;  // a tail bound of 256 KiB
  o.sync_interval = std::chrono::seconds(30);
  return o;
}

std::uint64_t wal_writes(FaultFileSystem& fs) { return fs.counters().files.writes; }

Replay recover_after_crash(IoLoop& loop, FaultFileSystem& fs, const WalOptions& options) {
  Replay replay;
  run_fiber(loop, [&] { REQUIRE(recover_dir(fs, "/db", options, replay)); });
  return replay;
}

}  // namespace

TEST_CASE("wal acknowledges unsynced appends from its tail without waiting on io") {
  IoLoop loop;
  FaultFileSystem fs;
  WalOptions options = roomy_wal(WalSyncPolicy::kNo);
  run_fiber(loop, [&] {
    REQUIRE(fs.make_dir("/db"));
    Replay r;
    auto wal = open_wal(fs, "/db", options, r);
    REQUIRE(wal);
    std::uint64_t before = wal_writes(fs);
    // 200 records of ~70 bytes: several full pages, no write while the appender runs.
    for (SequenceNumber s = 1; s <= 200; ++s) REQUIRE((*wal)->append(make_batch(s), false));
    CHECK(wal_writes(fs) == before);
    CHECK((*wal)->stats().buffer_waits == 0);
    // Once the appender lets it run, the flusher writes the whole pages in one write; the
    // partial page stays in the tail.
    for (int i = 0; i < 100 && (*wal)->stats().groups == 0; ++i) {
      runtime::Scheduler::current()->yield();
    }
    CHECK(wal_writes(fs) == before + 1);
    CHECK((*wal)->stats().batches > 0);
    CHECK((*wal)->stats().batches < 200);
    CHECK((*wal)->stats().tail_writes == 0);
    CHECK((*wal)->stats().syncs == 0);
    CHECK((*wal)->close());
  });
  Replay replay = recover_after_crash(loop, fs, options);
  CHECK(replay.sequences.size() == 200);
}

TEST_CASE("wal unsynced appends wait only when the tail is full") {
  IoLoop loop;
  FaultFileSystem fs;
  WalOptions options = roomy_wal(WalSyncPolicy::kNo);
  options.max_buffered_bytes = 16 << 10;
  run_fiber(loop, [&] {
    REQUIRE(fs.make_dir("/db"));
    Replay r;
    auto wal = open_wal(fs, "/db", options, r);
    REQUIRE(wal);
    std::uint64_t before = wal_writes(fs);
    for (SequenceNumber s = 1; s <= 1000; ++s) REQUIRE((*wal)->append(make_batch(s), false));
    // ~70 KiB of records in writes of about the 16 KiB bound, not one per append.
    std::uint64_t writes = wal_writes(fs) - before;
    CHECK(writes >= 3);
    CHECK(writes <= 8);
    CHECK((*wal)->stats().buffer_waits == writes);
    CHECK((*wal)->close());
  });
  CHECK(recover_after_crash(loop, fs, options).sequences.size() == 1000);
}

TEST_CASE("wal everysec acknowledges an append once written and the timer syncs it") {
  IoLoop loop;
  FaultFileSystem fs;
  WalOptions options = roomy_wal(WalSyncPolicy::kEverySec);
  options.sync_interval = std::chrono::milliseconds(20);
  run_fiber(loop, [&] {
    auto wal = open_new_wal(fs, "/db", options);
    std::uint64_t before = wal_writes(fs);
    for (SequenceNumber s = 1; s <= 3; ++s) {
      REQUIRE(wal->append(make_batch(s), false));
      CHECK(wal_writes(fs) == before + s);  // its own write: nothing else waits
      CHECK(wal->stats().batches == s);
    }
    CHECK(wal->stats().syncs == 0);
    runtime::Scheduler::current()->sleep_for(std::chrono::milliseconds(200));
    CHECK(wal_writes(fs) == before + 3);  // the timer had nothing left to write
    CHECK(wal->stats().syncs == 1);
    fs.simulate_crash(CrashOptions::lose_unsynced(1));
    (void)wal->close();
  });
  CHECK(recover_after_crash(loop, fs, options).sequences.size() == 3);
}

// A multi-shard write's part under everysec is held by another shard's copy: it returns
// from the tail, and a later append that waits writes it with its own record.
TEST_CASE("wal everysec: an append whose tail suffices returns before any write") {
  IoLoop loop;
  FaultFileSystem fs;
  WalOptions options = roomy_wal(WalSyncPolicy::kEverySec);
  options.sync_interval = std::chrono::milliseconds(20);
  run_fiber(loop, [&] {
    auto wal = open_new_wal(fs, "/db", options);
    std::uint64_t before = wal_writes(fs);
    for (SequenceNumber s = 1; s <= 3; ++s) {
      REQUIRE(wal->append(make_batch(s), false, true, true));
    }
    CHECK(wal_writes(fs) == before);
    CHECK(wal->stats().batches == 0);
    REQUIRE(wal->append(make_batch(4), false));  // waits: one write carries all four
    CHECK(wal_writes(fs) == before + 1);
    CHECK(wal->stats().batches == 4);
    CHECK(wal->stats().syncs == 0);
    REQUIRE(wal->sync_acknowledged());  // the fourth, acknowledged unsynced
    CHECK(wal->stats().syncs == 1);
    CHECK(wal->acknowledged_durable());
    // Held elsewhere (written_suffices): nothing for sync_acknowledged, and the timer
    // writes it out.
    REQUIRE(wal->append(make_batch(5), false, true, true));
    CHECK(wal->acknowledged_durable());
    REQUIRE(wal->sync_acknowledged());
    CHECK(wal->stats().batches == 4);
    runtime::Scheduler::current()->sleep_for(std::chrono::milliseconds(200));
    CHECK(wal->stats().batches == 5);
    CHECK(wal->stats().syncs == 2);
    // Not held elsewhere: acknowledged from the tail, yet a sync_acknowledged syncs it
    // (a multi-shard part over fewer than every shard).
    REQUIRE(wal->append(make_batch(6), false, false, true));
    CHECK(wal->stats().batches == 5);
    CHECK_FALSE(wal->acknowledged_durable());
    REQUIRE(wal->sync_acknowledged());
    CHECK(wal->stats().batches == 6);
    CHECK(wal->stats().syncs == 3);
    fs.simulate_crash(CrashOptions::lose_unsynced(1));
    (void)wal->close();
  });
  CHECK(recover_after_crash(loop, fs, options).sequences.size() == 6);
}

// Under kEverySec a waited-for group goes to the page cache (write_buffered_at), not to
// the device, and its partial page stays open: the next record follows on it and the page
// is written again, so small records do not cost a page of padding each. A sync ends the
// page: the next record starts on the next page, and the synced page is never written
// again (a torn rewrite could hurt synced records).
TEST_CASE("wal everysec writes into the page cache and continues a partial page until a sync") {
  IoLoop loop;
  FaultFileSystem fs;
  WalOptions options = roomy_wal(WalSyncPolicy::kEverySec);
  std::vector<WalPosition> positions;
  run_fiber(loop, [&] {
    auto wal = open_new_wal(fs, "/db", options);
    const IoCounters before = fs.counters().files;
    for (SequenceNumber s = 1; s <= 3; ++s) {
      auto p = wal->append(make_batch(s, 1, 100), false);
      REQUIRE(p);
      positions.push_back(*p);
    }
    const std::uint64_t record = positions[1].offset - positions[0].offset;
    CHECK(record > 100);
    CHECK(record < 200);
    CHECK(positions[2].offset == positions[1].offset + record);  // the same page, in a row
    CHECK(positions[2].offset / kWalPageSize == positions[0].offset / kWalPageSize);
    IoCounters now = fs.counters().files;
    CHECK(now.buffered_writes - before.buffered_writes == 3);
    CHECK(now.writes - before.writes == 3);  // every write went to the page cache
    CHECK(now.syncs == before.syncs);
    CHECK(wal->stats().bytes_written == 3 * kWalPageSize);  // that page, three times

    REQUIRE(wal->sync());
    const IoCounters synced = fs.counters().files;
    CHECK(synced.syncs == before.syncs + 1);
    auto p = wal->append(make_batch(4, 1, 100), false);
    REQUIRE(p);
    positions.push_back(*p);
    CHECK(p->offset == runtime::align_up(positions[2].offset + 1));  // the next page
    CHECK(fs.counters().files.buffered_writes == synced.buffered_writes + 1);
    fs.simulate_crash(CrashOptions::lose_unsynced(1));  // a power loss: 4 was never synced
    (void)wal->close();
  });
  Replay after = recover_after_crash(loop, fs, options);
  CHECK(after.sequences == iota_seq(1, 3));
  CHECK(after.positions == std::vector<WalPosition>(positions.begin(), positions.begin() + 3));
}

// kAlways syncs every group before acknowledging it: its writes go straight to the device
// (O_DIRECT), never through the page cache, and each group is padded.
TEST_CASE("wal always writes no group into the page cache") {
  IoLoop loop;
  FaultFileSystem fs;
  WalOptions options = roomy_wal(WalSyncPolicy::kAlways);
  run_fiber(loop, [&] {
    auto wal = open_new_wal(fs, "/db", options);
    std::vector<WalPosition> positions;
    for (SequenceNumber s = 1; s <= 3; ++s) {
      auto p = wal->append(make_batch(s, 1, 100), false, s == 2);  // 2: written only
      REQUIRE(p);
      positions.push_back(*p);
    }
    CHECK(positions[1].offset == runtime::align_up(positions[0].offset + 1));
    CHECK(positions[2].offset == runtime::align_up(positions[1].offset + 1));
    CHECK(fs.counters().files.buffered_writes == 0);
    REQUIRE(wal->close());
  });
  CHECK(recover_after_crash(loop, fs, options).sequences == iota_seq(1, 3));
}

// A record whose page is shared by several writes survives a process crash after each of
// them, and the writes in between rewrite the records before it identically.
TEST_CASE("wal everysec: a process crash after rewrites of a shared page keeps every record") {
  for (int crash_after = 1; crash_after <= 12; crash_after += 11) {
    CAPTURE(crash_after);
    IoLoop loop;
    FaultFileSystem fs;
    WalOptions options = roomy_wal(WalSyncPolicy::kEverySec);
    run_fiber(loop, [&] {
      auto wal = open_new_wal(fs, "/db", options);
      for (SequenceNumber s = 1; s <= static_cast<SequenceNumber>(crash_after); ++s) {
        REQUIRE(wal->append(make_batch(s, 1, 400 + 37 * s), false));
      }
      fs.simulate_crash(CrashOptions::keep_unsynced(7));
      (void)wal->close();
    });
    CHECK(recover_after_crash(loop, fs, options).sequences ==
          iota_seq(1, static_cast<SequenceNumber>(crash_after)));
  }
}

// Redis's everysec write(2)s before it replies, so only a machine crash can lose what it
// acknowledged. Under kEverySec a process crash (the files keep every completed write)
// keeps every acknowledged append; a power loss before the timer's sync may lose them.
// kNo acknowledges from its tail in memory: a process crash loses it.
TEST_CASE("wal everysec keeps every acknowledged append through a process crash") {
  struct Case {
    WalSyncPolicy policy;
    bool power_loss;
    std::size_t survivors;
  };
  for (Case c : {Case{WalSyncPolicy::kEverySec, false, 40}, Case{WalSyncPolicy::kEverySec, true, 0},
                 Case{WalSyncPolicy::kNo, false, 0}}) {
    CAPTURE(static_cast<int>(c.policy));
    CAPTURE(c.power_loss);
    IoLoop loop;
    FaultFileSystem fs;
    WalOptions options = roomy_wal(c.policy);  // the timer would run after 30 s
    run_fiber(loop, [&] {
      auto wal = open_new_wal(fs, "/db", options);
      for (SequenceNumber s = 1; s <= 40; ++s) REQUIRE(wal->append(make_batch(s), false));
      fs.simulate_crash(c.power_loss ? CrashOptions::lose_unsynced(1)
                                     : CrashOptions::keep_unsynced(1));
      (void)wal->close();  // fails: the handles died with the crash
    });
    CHECK(recover_after_crash(loop, fs, options).sequences.size() == c.survivors);
  }
}

TEST_CASE("wal everysec: concurrent appends share writes by group commit and are not synced") {
  IoLoop loop;
  TempDir dir;
  WalOptions options = tiny_wal(WalSyncPolicy::kEverySec);
  options.geometry.segment_size = 1 << 20;
  options.sync_interval = std::chrono::seconds(30);
  Replay replay;
  std::unique_ptr<WalWriter> wal;
  run_fiber(loop, [&] {
    auto w = open_wal(real_file_system(), dir.path(), options, replay);
    REQUIRE(w);
    wal = std::move(*w);
  });
  constexpr int kFibers = 64, kEach = 10;
  int failures = 0;
  int returned = 0;
  bool all_written_on_return = true;
  SequenceNumber next = 1;  // logged in sequence order, as the engine's write path does
  for (int f = 0; f < kFibers; ++f) {
    loop.sched.spawn([&] {
      for (int i = 0; i < kEach; ++i) {
        if (!wal->append(make_batch(next++), false)) ++failures;
        ++returned;
        // Every append returned so far has its record written (batches counts records in
        // completed writes); one return per append, so written >= returned.
        if (wal->stats().batches < static_cast<std::uint64_t>(returned)) {
          all_written_on_return = false;
        }
      }
    });
  }
  // The timer fiber sleeps its 30 s interval: close() stops it once every append returned.
  WalStats st;
  loop.sched.spawn([&] {
    while (returned < kFibers * kEach) runtime::this_fiber::yield();
    st = wal->stats();
    CHECK(wal->close());
  });
  REQUIRE(loop.run());
  CHECK(failures == 0);
  CHECK(all_written_on_return);
  MESSAGE("batches " << st.batches << " groups " << st.groups << " max batches per group "
                     << st.max_group_batches);
  CHECK(st.batches == kFibers * kEach);
  CHECK(st.syncs == 0);
  CHECK(st.groups * 4 < st.batches);
  CHECK(st.max_group_batches > 8);
  Replay after;
  run_fiber(loop, [&] { REQUIRE(recover_dir(real_file_system(), dir.path(), options, after)); });
  CHECK(after.sequences.size() == kFibers * kEach);
}

TEST_CASE("wal sync append makes the unsynced appends before it durable") {
  IoLoop loop;
  FaultFileSystem fs;
  WalOptions options = roomy_wal(WalSyncPolicy::kNo);
  run_fiber(loop, [&] {
    auto wal = open_new_wal(fs, "/db", options);
    for (SequenceNumber s = 1; s <= 50; ++s) REQUIRE(wal->append(make_batch(s), false));
    REQUIRE(wal->append(make_batch(51), true));
    CHECK(wal->stats().syncs == 1);
    for (SequenceNumber s = 52; s <= 60; ++s) REQUIRE(wal->append(make_batch(s), false));
    fs.simulate_crash(CrashOptions::lose_unsynced(1));
    (void)wal->close();
  });
  Replay replay = recover_after_crash(loop, fs, options);
  REQUIRE(replay.sequences.size() == 51);
  CHECK(replay.sequences.back() == 51);
}

TEST_CASE("wal writes a durable group with O_DSYNC only when nothing before it is unsynced") {
  IoLoop loop;
  FaultFileSystem fs;
  const std::string segment0 = "/db/" + wal_segment_name(0);
  SUBCASE("always: one durable write per group, no fdatasync") {
    run_fiber(loop, [&] {
      REQUIRE(fs.make_dir("/db"));
      Replay r;
      auto wal = open_wal(fs, "/db", tiny_wal(WalSyncPolicy::kAlways), r);
      REQUIRE(wal);
      const auto before = fs.file_counters(segment0);
      for (SequenceNumber s = 1; s <= 5; ++s) REQUIRE((*wal)->append(make_batch(s), false));
      const auto after = fs.file_counters(segment0);
      CHECK(after.durable_writes - before.durable_writes == 5);
      CHECK(after.syncs == before.syncs);
      CHECK((*wal)->stats().durable_writes == 5);
      CHECK((*wal)->stats().syncs == 5);  // each group was a durability point
      CHECK((*wal)->close());
    });
  }
  SUBCASE("a synced append after unsynced written ones: a write and an fdatasync") {
    run_fiber(loop, [&] {
      REQUIRE(fs.make_dir("/db"));
      Replay r;
      WalOptions o = tiny_wal(WalSyncPolicy::kEverySec);
      o.sync_interval = std::chrono::seconds(30);
      auto wal = open_wal(fs, "/db", o, r);
      REQUIRE(wal);
      REQUIRE((*wal)->append(make_batch(1), false));  // written, not synced
      const auto before = fs.file_counters(segment0);
      REQUIRE((*wal)->append(make_batch(2), true));
      const auto after = fs.file_counters(segment0);
      // A durable write of batch 2 alone would leave batch 1 in the device's cache.
      CHECK(after.durable_writes == before.durable_writes);
      CHECK(after.syncs == before.syncs + 1);
      // Once everything is durable, the next synced append is one durable write.
      REQUIRE((*wal)->append(make_batch(3), true));
      CHECK(fs.file_counters(segment0).durable_writes == after.durable_writes + 1);
      CHECK((*wal)->close());
    });
  }
  Replay after;
  run_fiber(loop, [&] { REQUIRE(recover_dir(fs, "/db", tiny_wal(), after)); });
  CHECK_FALSE(after.sequences.empty());
}

// A new WAL's segments are unwritten extents: a durable write there would also commit a
// journal entry each time. The writer zeroes ahead of its durable groups a chunk at a time.
TEST_CASE("wal always zeroes its segment ahead of durable groups, a chunk at a time, once") {
  IoLoop loop;
  FaultFileSystem fs;
  const std::string segment0 = "/db/" + wal_segment_name(0);
  constexpr std::uint64_t kChunk = WalWriter::kZeroAheadBytes;
  WalOptions options = roomy_wal(WalSyncPolicy::kAlways);
  options.geometry.segment_size = 4 * kChunk;
  SUBCASE("always") {
    run_fiber(loop, [&] {
      auto wal = open_new_wal(fs, "/db", options);
      auto before = fs.file_counters(segment0);
      REQUIRE(wal->append(make_batch(1), false));
      auto after = fs.file_counters(segment0);
      CHECK(wal->stats().zeroed_bytes == kChunk);
      CHECK(after.writes - before.writes == 2);  // the zeros, then the group
      CHECK(after.durable_writes - before.durable_writes == 1);
      CHECK(after.bytes_written - before.bytes_written == kChunk + kWalPageSize);
      // Groups inside the zeroed chunk write only themselves.
      before = after;
      for (SequenceNumber s = 2; s <= 20; ++s) REQUIRE(wal->append(make_batch(s), false));
      after = fs.file_counters(segment0);
      CHECK(wal->stats().zeroed_bytes == kChunk);
      CHECK(after.writes - before.writes == 19);
      // A group crossing the zeroed chunk's end zeroes on from there, a chunk past it.
      REQUIRE(wal->append(make_batch(21, 1, kChunk), false));
      CHECK(wal->stats().zeroed_bytes == kChunk + kChunk);
      REQUIRE(wal->close());
    });
    Replay replay = recover_after_crash(loop, fs, options);
    CHECK(replay.sequences == iota_seq(1, 21));
  }
  SUBCASE("everysec writes no zeros") {
    options.sync_policy = WalSyncPolicy::kEverySec;
    run_fiber(loop, [&] {
      auto wal = open_new_wal(fs, "/db", options);
      for (SequenceNumber s = 1; s <= 5; ++s) REQUIRE(wal->append(make_batch(s), false));
      CHECK(wal->stats().zeroed_bytes == 0);
      REQUIRE(wal->close());
    });
  }
}

TEST_CASE("wal everysec: a round's appends are written and all return within that round") {
  // The leader writes at the end of the scheduler's round, not after the next poll, and the
  // appenders its write released run in the same round: the replies of a whole group leave
  // in one burst (wal_writer.h, "Group commit").
  IoLoop loop;
  FaultFileSystem fs;
  WalOptions options = tiny_wal(WalSyncPolicy::kEverySec);
  options.sync_interval = std::chrono::seconds(30);
  Replay replay;
  std::unique_ptr<WalWriter> wal;
  run_fiber(loop, [&] {
    REQUIRE(fs.make_dir("/wal"));
    auto w = open_wal(fs, "/wal", options, replay);
    REQUIRE(w);
    wal = std::move(*w);
  });
  constexpr int kFibers = 5;
  int returned = 0;
  SequenceNumber next = 1;
  for (int f = 0; f < kFibers; ++f) {
    loop.sched.spawn([&] {
      CHECK(wal->append(make_batch(next++), false));
      ++returned;
    });
  }
  loop.sched.run_round();
  CHECK(returned == kFibers);
  CHECK(wal->stats().groups == 1);
  CHECK(wal->stats().batches == kFibers);
  run_fiber(loop, [&] { CHECK(wal->close()); });
}
