// Crashes with FaultFileSystem at random moments while several fibers write (some with
// sync) and flushes (and, in the second test, compactions) run: after each reopen every write acknowledged with sync=true is
// there, and what survived is a prefix of the sequence order (never a hole).
#include <doctest/doctest.h>

#include <map>
#include <random>
#include <set>
#include <string>

#include "engine/db.h"
#include "src/runtime/wait_group.h"
#include "tests/support/test_seed.h"
#include "tests/unit/engine/db/db_test_util.h"

using namespace cascade;
using namespace cascade::engine;
using namespace cascade::engine::db_test;
using cascade::runtime::testing::IoLoop;
using cascade::test_support::FaultFileSystem;

namespace {

// Writes acknowledged once written, never synced by the timer: only what a test syncs is.
DBOptions everysec_without_timer() {
  DBOptions options = small_options();
  options.wal.sync_policy = WalSyncPolicy::kEverySec;
  options.wal.sync_interval = std::chrono::hours(1);
  return options;
}

std::string key_of(std::uint64_t id) { return "w" + std::to_string(id); }

// Every write is a new key "w<id>" with value "<id>"; reads the sequence of each back.
std::map<SequenceNumber, std::uint64_t> recovered_writes(DB& db) {
  std::map<SequenceNumber, std::uint64_t> out;
  auto it = db.iterator();
  for (it->seek_to_first(); it->valid(); it->next()) {
    std::uint64_t id = std::stoull(std::string(it->key().substr(1)));
    REQUIRE(it->value() == std::to_string(id));
    out[it->sequence()] = id;
  }
  REQUIRE_MESSAGE(it->status(), it->status().to_string());
  return out;
}

// Rounds of: reopen, check what survived, write from several fibers, crash at a random
// moment. With `check_files`, each reopen also checks that the directory holds exactly
// the tables the manifest names (a crash mid-compaction leaks nothing past the next open).
void run_crash_rounds(const char* name, const DBOptions& options, int rounds,
                      int max_steps, bool check_files) {
  const std::uint64_t seed = cascade::testing::test_seed(name);
  CAPTURE(seed);
  std::mt19937_64 rng(seed);
  IoLoop loop;
  FaultFileSystem fs;
  fs.set_yield_on_io(true);
  std::set<std::uint64_t> synced_acks;  // ids
  std::map<SequenceNumber, std::uint64_t> survived;
  std::uint64_t next_id = 0;
  int crashes_mid_compaction = 0;
  std::uint64_t compactions = 0;
  run_fiber(loop, [&] {
    for (int round = 0; round < rounds; ++round) {
      CAPTURE(round);
      if (check_files && round > 0) {
        // Without background compaction nothing new appears while the directory is listed.
        DBOptions still = options;
        still.compaction.max_background_compactions = 0;
        auto quiet = open_db(fs, "/db", still);
        CHECK(table_files_in(fs, "/db") == quiet->live_table_files());
        REQUIRE(quiet->close());
      }
      auto db = open_db(fs, "/db", options);
      auto now = recovered_writes(*db);
      // A prefix: sequences 1..n without a hole, and what survived before is still there.
      SequenceNumber expect = 1;
      for (const auto& [seq, id] : now) REQUIRE(seq == expect++);
      for (const auto& [seq, id] : survived) REQUIRE((now.count(seq) && now[seq] == id));
      std::set<std::uint64_t> ids;
      for (const auto& [seq, id] : now) ids.insert(id);
      for (std::uint64_t id : synced_acks) REQUIRE_MESSAGE(ids.count(id), "lost synced write " << id);
      survived = now;
      synced_acks = ids;  // survivors are durable now (a crash makes what it keeps durable)

      bool crashed = false;
      runtime::WaitGroup writers;
      for (int f = 0; f < 4; ++f) {
        writers.add();
        loop.sched.spawn([&, f] {
          while (!crashed) {
            std::uint64_t id = next_id++;
            bool sync = f % 2 == 0;
            std::string value = std::to_string(id);
            Status s = db->put(key_of(id), value, {.sync = sync});
            if (!s) break;
            if (sync && !crashed) synced_acks.insert(id);
          }
          writers.done();
        });
      }
      int steps = 20 + static_cast<int>(rng() % max_steps);
      for (int i = 0; i < steps; ++i) runtime::this_fiber::yield();
      if (check_files && round % 2 == 1) {
        // Every other round waits (bounded) for a compaction to start, then crashes soon
        // after: how many yields that takes depends on the background share's timing.
        for (int i = 0; i < 2000 && db->stats().running_compactions == 0; ++i) {
          for (int j = 0; j < 100; ++j) runtime::this_fiber::yield();
        }
        for (int i = 0, n = static_cast<int>(rng() % 100); i < n; ++i) {
          runtime::this_fiber::yield();
        }
      }
      crashed = true;
      DBStats at_crash = db->stats();
      if (at_crash.running_compactions > 0) ++crashes_mid_compaction;
      compactions += at_crash.compactions;
      auto report = fs.crash(rng());
      writers.wait();
      (void)db->close();  // fails: the handles died with the crash
    }
  });
  MESSAGE(compactions << " compactions, " << crashes_mid_compaction << " of " << rounds
                      << " crashes with a compaction running");
  if (check_files) CHECK(crashes_mid_compaction > 0);  // the test hits what it is for
}

}  // namespace

TEST_CASE("db crash keeps every synced acknowledged write and a gapless prefix of the rest") {
  DBOptions options = small_options();
  options.memtable_size = 128 << 10;
  run_crash_rounds("db crash", options, 12, 3000, false);
}

TEST_CASE("db crash during compactions loses no acknowledged write and leaks no file") {
  DBOptions options = compacting_options();
  options.memtable_size = 64 << 10;
  options.compaction.base_level_size = 64 << 10;
  options.compaction.target_file_size = 16 << 10;
  run_crash_rounds("db crash compaction", options, 16, 20000, true);
}

TEST_CASE("db sync_wal makes the unsynced writes before it survive a crash") {
  IoLoop loop;
  FaultFileSystem fs;
  DBOptions options = everysec_without_timer();
  run_fiber(loop, [&] {
    auto db = open_db(fs, "/db", options);
    REQUIRE(db->put("before", "1"));
    REQUIRE(db->sync_wal());
    REQUIRE(db->put("after", "2"));
    fs.simulate_crash(cascade::test_support::CrashOptions::lose_unsynced(1));
    (void)db->close();  // fails: the handles died with the crash
    auto reopened = open_db(fs, "/db", options);
    CHECK(get_ok(*reopened, "before") == "1");
    CHECK(get_ok(*reopened, "after") == std::nullopt);  // written, not synced, at the crash
    REQUIRE(reopened->close());
  });
}

// sync_wal_acknowledged syncs for the writes acknowledged unsynced and nothing else: a
// write flagged durable_elsewhere (a multi-shard part its decision carries) alone leaves
// nothing to sync, and after the call every plainly acknowledged write survives a crash.
TEST_CASE("db sync_wal_acknowledged syncs only for writes acknowledged unsynced") {
  IoLoop loop;
  FaultFileSystem fs;
  DBOptions options = everysec_without_timer();
  run_fiber(loop, [&] {
    auto db = open_db(fs, "/db", options);
    const WriteOptions elsewhere{.durable_elsewhere = true};
    REQUIRE(db->put("part", "p", elsewhere));
    const std::uint64_t syncs = db->stats().wal_syncs;
    REQUIRE(db->sync_wal_acknowledged());
    CHECK(db->stats().wal_syncs == syncs);  // only a durable-elsewhere write: no sync

    REQUIRE(db->put("acked", "1"));
    REQUIRE(db->put("part2", "p", elsewhere));
    REQUIRE(db->sync_wal_acknowledged());
    CHECK(db->stats().wal_syncs == syncs + 1);
    REQUIRE(db->sync_wal_acknowledged());  // nothing new acknowledged: no second sync
    CHECK(db->stats().wal_syncs == syncs + 1);

    REQUIRE(db->put("late", "2"));
    fs.simulate_crash(cascade::test_support::CrashOptions::lose_unsynced(1));
    (void)db->close();  // fails: the handles died with the crash
    auto reopened = open_db(fs, "/db", options);
    CHECK(get_ok(*reopened, "acked") == "1");
    CHECK(get_ok(*reopened, "late") == std::nullopt);  // acknowledged after the sync
    REQUIRE(reopened->close());
  });
}

// Under everysec a write is acknowledged once its WAL group is written, as Redis write(2)s
// before replying: a process crash (everything written survives) keeps every acknowledged
// write, though the timer has not synced any of them; a power loss may lose them all.
TEST_CASE("db everysec keeps every acknowledged write through a process crash") {
  for (bool power_loss : {false, true}) {
    CAPTURE(power_loss);
    IoLoop loop;
    FaultFileSystem fs;
    DBOptions options = everysec_without_timer();
    run_fiber(loop, [&] {
      auto db = open_db(fs, "/db", options);
      for (int i = 0; i < 30; ++i) REQUIRE(db->put("k" + std::to_string(i), "v"));
      fs.simulate_crash(power_loss ? cascade::test_support::CrashOptions::lose_unsynced(1)
                                   : cascade::test_support::CrashOptions::keep_unsynced(1));
      (void)db->close();  // fails: the handles died with the crash
      auto reopened = open_db(fs, "/db", options);
      int found = 0;
      for (int i = 0; i < 30; ++i) found += get_ok(*reopened, "k" + std::to_string(i)).has_value();
      CHECK(found == (power_loss ? 0 : 30));
      REQUIRE(reopened->close());
    });
  }
}

// A flush's manifest edit records the last sequence. If it recorded writes still only in
// the WAL's unsynced tail, a crash losing them left the next open numbering new writes past
// a gap, and the open after that refused the WAL ("where sequence N was expected").
TEST_CASE("db reopens after a crash lost unsynced writes made during a flush, and again later") {
  IoLoop loop;
  FaultFileSystem fs;
  fs.set_yield_on_io(true);
  DBOptions options = everysec_without_timer();
  run_fiber(loop, [&] {
    auto db = open_db(fs, "/db", options);
    REQUIRE(db->put("a", "1"));
    bool flushed = false;
    loop.sched.spawn([&] {
      CHECK(db->flush());
      flushed = true;
    });
    while (db->stats().immutable_memtables == 0 && !flushed) runtime::this_fiber::yield();
    REQUIRE(!flushed);  // "b" goes in while the flush of "a" runs
    REQUIRE(db->put("b", "2"));
    while (!flushed) runtime::this_fiber::yield();
    fs.simulate_crash(cascade::test_support::CrashOptions::lose_unsynced(1));
    (void)db->close();  // fails: the handles died with the crash

    auto second = open_db(fs, "/db", options);
    CHECK(get_ok(*second, "a") == "1");            // in the flushed table
    CHECK(get_ok(*second, "b") == std::nullopt);   // written, not synced: lost
    REQUIRE(second->put("c", "3", {.sync = true}));
    fs.simulate_crash(cascade::test_support::CrashOptions::lose_unsynced(2));
    (void)second->close();

    auto third = DB::open(fs, "/db", options);
    REQUIRE_MESSAGE(third, third.status().to_string());
    CHECK(get_ok(**third, "a") == "1");
    CHECK(get_ok(**third, "c") == "3");
    REQUIRE((*third)->close());
  });
}
