// Compaction through the DB: L0 stays bounded while data stays readable, compact_range
// gives space back, snapshots and the compaction filter are honoured, obsolete tables go
// once no reader holds them (and no file leaks), and writes slow down and stop — visibly —
// while compaction is behind, until a faster rate limit lets it catch up.
#include <doctest/doctest.h>

#include <map>
#include <random>
#include <string>
#include <vector>

#include "engine/db.h"
#include "tests/support/test_seed.h"
#include "tests/unit/engine/compaction/compaction_test_util.h"
#include "tests/unit/engine/db/db_test_util.h"

using namespace cascade;
using namespace cascade::engine;
using namespace cascade::engine::db_test;
using cascade::engine::compaction_test::DropValuesStartingWith;
using cascade::runtime::testing::IoLoop;
using cascade::test_support::FaultFileSystem;

namespace {

std::string key_of(std::uint64_t i) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "key%06llu", static_cast<unsigned long long>(i));
  return buf;
}

std::string value_of(std::uint64_t i, int version, std::size_t size = 200) {
  std::string v = "v" + std::to_string(version) + "-" + std::to_string(i) + "-";
  v.resize(size, static_cast<char>('a' + (i + version) % 26));
  return v;
}

void check_matches(DB& db, const std::map<std::string, std::string>& model) {
  auto it = db.iterator();
  auto m = model.begin();
  for (it->seek_to_first(); it->valid(); it->next(), ++m) {
    REQUIRE(m != model.end());
    REQUIRE(it->key() == m->first);
    REQUIRE(it->value() == m->second);
  }
  REQUIRE_MESSAGE(it->status(), it->status().to_string());
  CHECK(m == model.end());
}

}  // namespace

TEST_CASE("compaction keeps L0 bounded and every key readable while writes go on") {
  const std::uint64_t seed = cascade::testing::test_seed("db compaction bounded");
  std::mt19937_64 rng(seed);
  IoLoop loop;
  FaultFileSystem fs;
  std::map<std::string, std::string> model;
  run_fiber(loop, [&] {
    auto db = open_db(fs, "/db", compacting_options());
    for (int i = 0; i < 30000; ++i) {
      std::uint64_t k = rng() % 8000;
      if (rng() % 10 == 0) {
        REQUIRE(db->del(key_of(k)));
        model.erase(key_of(k));
      } else {
        std::string v = value_of(k, i);
        REQUIRE(db->put(key_of(k), v));
        model[key_of(k)] = v;
      }
    }
    REQUIRE(db->wait_for_compactions());
    DBStats s = db->stats();
    MESSAGE("flushes " << s.flushes << ", compactions " << s.compactions << ", moves "
                       << s.trivial_moves << ", L0 " << s.levels[0].files << ", L1 "
                       << s.levels[1].files << ", L2 " << s.levels[2].files << ", wamp "
                       << s.write_amplification << ", samp " << s.space_amplification);
    CHECK(s.flushes > 20);
    CHECK(s.compactions > 5);
    CHECK(s.levels[0].files < 4);
    CHECK(s.levels[1].bytes <= (256 << 10) + (64 << 10));
    CHECK(s.levels[2].files > 0);
    CHECK(s.compaction_bytes_written > 0);
    CHECK(s.compaction_bytes_read > 0);
    CHECK(s.write_amplification > 1.0);
    CHECK(s.space_amplification >= 1.0);
    for (int i = 0; i < 2000; ++i) {
      std::string k = key_of(rng() % 8000);
      auto it = model.find(k);
      auto got = get_ok(*db, k);
      REQUIRE((it == model.end() ? got == std::nullopt : got == it->second));
    }
    check_matches(*db, model);
    REQUIRE(db->close());
    CHECK(table_files_in(fs, "/db") == db->live_table_files());
  });
}

TEST_CASE("compact_range gives back the space of overwritten and deleted keys") {
  IoLoop loop;
  FaultFileSystem fs;
  DBOptions options = compacting_options();
  options.compaction.max_background_compactions = 0;  // every version waits for compact_range
  run_fiber(loop, [&] {
    auto db = open_db(fs, "/db", options);
    std::map<std::string, std::string> model;
    for (int version = 0; version < 4; ++version) {
      for (std::uint64_t i = 0; i < 3000; ++i) {
        REQUIRE(db->put(key_of(i), value_of(i, version)));
        model[key_of(i)] = value_of(i, version);
      }
    }
    for (std::uint64_t i = 0; i < 3000; i += 2) {
      REQUIRE(db->del(key_of(i)));
      model.erase(key_of(i));
    }
    REQUIRE(db->flush());
    std::uint64_t before = db->stats().table_bytes;
    REQUIRE(db->compact_range(std::nullopt, std::nullopt));
    DBStats s = db->stats();
    MESSAGE("table bytes " << before << " -> " << s.table_bytes);
    // 1500 of 12000 values remain, and none of the 1500 tombstones.
    CHECK(s.table_bytes < before / 4);
    CHECK(s.levels[0].files == 0);
    CHECK(s.space_amplification < 1.5);
    check_matches(*db, model);
    REQUIRE(db->close());
    CHECK(table_files_in(fs, "/db") == db->live_table_files());
  });
}

TEST_CASE("compaction keeps the versions a live snapshot reads, and drops them after") {
  IoLoop loop;
  FaultFileSystem fs;
  run_fiber(loop, [&] {
    auto db = open_db(fs, "/db", compacting_options());
    REQUIRE(db->put("k", "old"));
    REQUIRE(db->put("gone", "here"));
    std::optional<Snapshot> snap(db->snapshot());
    REQUIRE(db->put("k", "new"));
    REQUIRE(db->del("gone"));
    REQUIRE(db->compact_range(std::nullopt, std::nullopt));
    ReadOptions at;
    at.snapshot = &*snap;
    CHECK(get_ok(*db, "k", at) == "old");
    CHECK(get_ok(*db, "gone", at) == "here");
    CHECK(get_ok(*db, "k") == "new");
    CHECK(get_ok(*db, "gone") == std::nullopt);
    std::uint64_t dropped = db->stats().compaction_entries_dropped;
    snap.reset();
    REQUIRE(db->compact_range(std::nullopt, std::nullopt));
    // k's old version, gone's value and its tombstone are dropped now.
    CHECK(db->stats().compaction_entries_dropped == dropped + 3);
    CHECK(get_ok(*db, "k") == "new");
    CHECK(get_ok(*db, "gone") == std::nullopt);
    REQUIRE(db->close());
  });
}

TEST_CASE("the compaction filter removes entries no snapshot sees") {
  IoLoop loop;
  FaultFileSystem fs;
  DropValuesStartingWith filter("expired");
  DBOptions options = compacting_options();
  options.compaction.filter = &filter;
  run_fiber(loop, [&] {
    auto db = open_db(fs, "/db", options);
    REQUIRE(db->put("a", "live"));
    REQUIRE(db->put("b", "old"));
    REQUIRE(db->compact_range(std::nullopt, std::nullopt));  // b=old now sits in a deep level
    CHECK(filter.asked == std::vector<std::string>{"a=live", "b=old"});  // kept, then
    filter.asked.clear();
    std::optional<Snapshot> snap(db->snapshot());
    REQUIRE(db->put("b", "expired-1"));
    REQUIRE(db->put("c", "expired-2"));
    REQUIRE(db->compact_range(std::nullopt, std::nullopt));
    CHECK(get_ok(*db, "a") == "live");
    CHECK(get_ok(*db, "b") == std::nullopt);
    CHECK(get_ok(*db, "c") == std::nullopt);
    ReadOptions at;
    at.snapshot = &*snap;
    CHECK(get_ok(*db, "b", at) == "old");  // the snapshot's version is never filtered
    for (const std::string& asked : filter.asked) CHECK(asked != "b=old");
    snap.reset();
    REQUIRE(db->compact_range(std::nullopt, std::nullopt));
    CHECK(get_ok(*db, "b") == std::nullopt);
    REQUIRE(db->close());
    // After reopen the filtered keys stay deleted.
    db = open_db(fs, "/db", options);
    CHECK(get_ok(*db, "b") == std::nullopt);
    CHECK(get_ok(*db, "c") == std::nullopt);
    CHECK(get_ok(*db, "a") == "live");
    REQUIRE(db->close());
  });
}

TEST_CASE("compaction inputs are deleted only once no iterator holds them") {
  IoLoop loop;
  FaultFileSystem fs;
  run_fiber(loop, [&] {
    auto db = open_db(fs, "/db", compacting_options());
    for (std::uint64_t i = 0; i < 500; ++i) REQUIRE(db->put(key_of(i), value_of(i, 0)));
    REQUIRE(db->flush());
    auto held = table_files_in(fs, "/db");
    REQUIRE(!held.empty());
    auto it = db->iterator();
    it->seek_to_first();
    REQUIRE(db->compact_range(std::nullopt, std::nullopt));
    for (std::uint64_t n : held) CHECK(!db->live_table_files().contains(n));
    for (std::uint64_t n : held) CHECK(table_files_in(fs, "/db").contains(n));
    std::uint64_t seen = 0;
    for (; it->valid(); it->next()) ++seen;  // reads the old tables
    REQUIRE(it->status());
    CHECK(seen == 500);
    it.reset();
    REQUIRE(db->put("x", "y"));
    REQUIRE(db->flush());  // the next version change deletes them
    for (std::uint64_t n : held) CHECK(!table_files_in(fs, "/db").contains(n));
    REQUIRE(db->close());
    CHECK(table_files_in(fs, "/db") == db->live_table_files());
  });
}

TEST_CASE("writes slow down and stop while compaction is behind, and resume after") {
  IoLoop loop;
  FaultFileSystem fs;
  DBOptions options = compacting_options();
  options.memtable_size = 64 << 10;
  options.compaction.l0_compaction_trigger = 2;
  options.compaction.l0_slowdown_trigger = 3;
  options.compaction.l0_stop_trigger = 5;
  options.compaction.rate_limit = 16 << 10;  // far too slow for the writers
  std::vector<std::string> lines;
  options.wal.log = [&](const std::string& line) { lines.push_back(line); };
  run_fiber(loop, [&] {
    auto db = open_db(fs, "/db", options);
    bool writing = true;
    std::uint64_t written = 0;
    runtime::WaitGroup writer;
    writer.add();
    loop.sched.spawn([&] {
      for (std::uint64_t i = 0; i < 3000; ++i) {
        REQUIRE(db->put(key_of(i), value_of(i, 0)));
        ++written;
      }
      writing = false;
      writer.done();
    });
    auto give_up = runtime::Clock::now() + std::chrono::seconds(60);
    while (db->stats().write_stops == 0 && writing && runtime::Clock::now() < give_up) {
      runtime::this_fiber::sleep_for(std::chrono::milliseconds(5));
    }
    DBStats stopped = db->stats();
    CHECK(stopped.write_slowdowns >= 1);
    CHECK(stopped.write_stops >= 1);
    CHECK(stopped.levels[0].files >= 5);
    // Past the slowdown point compaction gets the thread's largest background share.
    CHECK(loop.sched.background_share() ==
          doctest::Approx(options.compaction.max_background_share));
    std::uint64_t at_stop = written;
    runtime::this_fiber::sleep_for(std::chrono::milliseconds(50));
    CHECK(written <= at_stop + 1);  // the writer is waiting, not writing
    db->set_compaction_rate_limit(0);  // compaction catches up, writes resume
    writer.wait();
    CHECK(written == 3000);
    REQUIRE(db->wait_for_compactions());
    DBStats s = db->stats();
    CHECK(s.write_stop_micros > 0);
    CHECK(s.write_slowdown_micros > 0);
    CHECK(s.levels[0].files < 3);
    CHECK(loop.sched.background_share() < 0.15);  // the debt is paid: back near the base
    bool logged_stop = false, logged_end = false;
    for (const auto& l : lines) {
      if (l.find("writes stopped") != std::string::npos) logged_stop = true;
      if (l.find("no longer") != std::string::npos) logged_end = true;
    }
    CHECK(logged_stop);
    CHECK(logged_end);
    REQUIRE(db->close());
  });
}

TEST_CASE("a compaction that runs out of space is retried and succeeds once space returns") {
  IoLoop loop;
  FaultFileSystem fs;
  DBOptions options = compacting_options();
  options.compression.type = CompressionType::kNone;  // tables as large as their data
  run_fiber(loop, [&] {
    auto db = open_db(fs, "/db", options);
    std::map<std::string, std::string> model;
    for (int table = 0; table < 3; ++table) {
      for (std::uint64_t i = 0; i < 200; ++i) {
        std::uint64_t k = table * 200 + i;
        REQUIRE(db->put(key_of(k), value_of(k, table)));
        model[key_of(k)] = value_of(k, table);
      }
      REQUIRE(db->flush());
    }
    REQUIRE(db->stats().levels[0].files == 3);
    // Room for one more small flush, not for rewriting three tables of ~45 KiB.
    fs.set_space_limit(fs.used_bytes() + (96 << 10));
    REQUIRE(db->put("last", "one"));
    model["last"] = "one";
    REQUIRE(db->flush());  // the fourth L0 table starts a compaction
    auto give_up = runtime::Clock::now() + std::chrono::seconds(30);
    while (db->stats().compaction_failures < 2 && runtime::Clock::now() < give_up) {
      runtime::this_fiber::sleep_for(std::chrono::milliseconds(10));
    }
    CHECK(db->stats().compaction_failures >= 2);  // failed, and failed again on retry
    CHECK(db->stats().levels[0].files == 4);
    check_matches(*db, model);  // nothing lost meanwhile
    fs.set_space_limit(std::nullopt);
    REQUIRE(db->wait_for_compactions());
    DBStats s = db->stats();
    CHECK(s.levels[0].files == 0);
    CHECK(s.compactions >= 1);
    REQUIRE(db->put("after", "ok"));  // writes never stopped
    model["after"] = "ok";
    check_matches(*db, model);
    REQUIRE(db->close());
    CHECK(table_files_in(fs, "/db") == db->live_table_files());
  });
}

TEST_CASE("a compaction that fails with an IO error stops writes until reopen, losing nothing") {
  IoLoop loop;
  FaultFileSystem fs;
  DBOptions options = compacting_options();
  options.compaction.max_background_compactions = 0;  // only compact_range compacts
  run_fiber(loop, [&] {
    auto db = open_db(fs, "/db", options);
    for (std::uint64_t i = 0; i < 300; ++i) REQUIRE(db->put(key_of(i), value_of(i, 0)));
    REQUIRE(db->flush());
    fs.fail_next_write();  // the first output table's first write
    Status s = db->compact_range(std::nullopt, std::nullopt);
    CHECK(s.code() == StatusCode::kIoError);
    CHECK(db->stats().compaction_failures == 1);
    CHECK(db->put("more", "x").code() == StatusCode::kIoError);
    CHECK(get_ok(*db, key_of(7)) == value_of(7, 0));
    (void)db->close();
    db = open_db(fs, "/db", options);
    CHECK(table_files_in(fs, "/db") == db->live_table_files());
    for (std::uint64_t i = 0; i < 300; i += 7) CHECK(get_ok(*db, key_of(i)) == value_of(i, 0));
    REQUIRE(db->compact_range(std::nullopt, std::nullopt));
    REQUIRE(db->put("more", "x"));
    REQUIRE(db->close());
  });
}

TEST_CASE("the value hooks hear of every entry a DB compaction drops") {
  IoLoop loop;
  FaultFileSystem fs;
  compaction_test::FakeValueLog log;
  DBOptions options = compacting_options();
  options.compaction.value_hooks = &log;
  run_fiber(loop, [&] {
    auto db = open_db(fs, "/db", options);
    REQUIRE(db->put("k", "v1"));
    REQUIRE(db->put("k", "v2"));
    REQUIRE(db->put("d", "x"));
    REQUIRE(db->del("d"));
    REQUIRE(db->compact_range(std::nullopt, std::nullopt));
    std::sort(log.dropped.begin(), log.dropped.end());
    CHECK(log.dropped == std::vector<std::string>{"d-", "d=x", "k=v1"});
    CHECK(log.finished_jobs >= 1);
    CHECK(get_ok(*db, "k") == "v2");
    REQUIRE(db->close());
  });
}

TEST_CASE("with automatic compaction paused L0 grows past its triggers, writes never stop, "
          "and resuming compacts it") {
  IoLoop loop;
  FaultFileSystem fs;
  DBOptions options = compacting_options();
  options.compaction.l0_compaction_trigger = 2;
  options.compaction.l0_slowdown_trigger = 3;
  options.compaction.l0_stop_trigger = 5;
  options.compaction.disable_auto_compactions = true;
  std::map<std::string, std::string> model;
  run_fiber(loop, [&] {
    auto db = open_db(fs, "/db", options);
    CHECK_FALSE(db->auto_compactions());
    for (std::uint64_t i = 0; i < 6000; ++i) {
      REQUIRE(db->put(key_of(i), value_of(i, 0)));
      model[key_of(i)] = value_of(i, 0);
    }
    REQUIRE(db->wait_for_flushes());
    REQUIRE(db->wait_for_compactions());  // returns at once: nothing may run
    DBStats paused = db->stats();
    MESSAGE("paused: " << paused.flushes << " flushes, L0 " << paused.levels[0].files);
    CHECK(paused.levels[0].files > options.compaction.l0_stop_trigger);
    CHECK(paused.compactions == 0);
    CHECK(paused.trivial_moves == 0);
    CHECK(paused.compaction_bytes_written == 0);
    CHECK(paused.write_stops == 0);
    CHECK(paused.write_slowdowns == 0);
    check_matches(*db, model);

    db->set_auto_compactions(true);
    CHECK(db->auto_compactions());
    REQUIRE(db->wait_for_compactions());
    DBStats resumed = db->stats();
    MESSAGE("resumed: " << resumed.compactions << " compactions, L0 "
                        << resumed.levels[0].files);
    CHECK(resumed.compactions + resumed.trivial_moves > 0);
    CHECK(resumed.levels[0].files < options.compaction.l0_compaction_trigger);
    check_matches(*db, model);
    REQUIRE(db->close());
    CHECK(table_files_in(fs, "/db") == db->live_table_files());
  });
}

TEST_CASE("pausing automatic compaction lifts a write stop and picks no new compaction") {
  IoLoop loop;
  FaultFileSystem fs;
  DBOptions options = compacting_options();
  options.memtable_size = 64 << 10;
  options.compaction.l0_compaction_trigger = 2;
  options.compaction.l0_slowdown_trigger = 3;
  options.compaction.l0_stop_trigger = 5;
  options.compaction.rate_limit = 16 << 10;  // far too slow for the writer: it stops
  run_fiber(loop, [&] {
    auto db = open_db(fs, "/db", options);
    std::uint64_t written = 0;
    bool writing = true;
    runtime::WaitGroup writer;
    writer.add();
    loop.sched.spawn([&] {
      for (std::uint64_t i = 0; i < 3000; ++i) {
        REQUIRE(db->put(key_of(i), value_of(i, 0)));
        ++written;
      }
      writing = false;
      writer.done();
    });
    auto give_up = runtime::Clock::now() + std::chrono::seconds(60);
    while (db->stats().write_stops == 0 && writing && runtime::Clock::now() < give_up) {
      runtime::this_fiber::sleep_for(std::chrono::milliseconds(5));
    }
    REQUIRE(db->stats().write_stops >= 1);
    std::uint64_t at_stop = written;
    runtime::this_fiber::sleep_for(std::chrono::milliseconds(50));
    CHECK(written <= at_stop + 1);  // held by the stop

    db->set_auto_compactions(false);
    writer.wait();  // the stop is lifted though compaction is as far behind as before
    CHECK(written == 3000);
    // The job running at the pause may finish (at the slow rate: let it, quickly); after
    // it none starts, though L0 is far past its trigger.
    db->set_compaction_rate_limit(0);
    REQUIRE(db->wait_for_compactions());
    DBStats after_pause = db->stats();
    REQUIRE(db->flush());
    runtime::this_fiber::sleep_for(std::chrono::milliseconds(50));
    DBStats later = db->stats();
    CHECK(later.levels[0].files > options.compaction.l0_stop_trigger);
    CHECK(later.compactions == after_pause.compactions);
    CHECK(later.trivial_moves == after_pause.trivial_moves);
    CHECK(later.running_compactions == 0);
    CHECK(later.write_stops == after_pause.write_stops);
    for (std::uint64_t i = 0; i < 3000; i += 97) CHECK(get_ok(*db, key_of(i)) == value_of(i, 0));
    REQUIRE(db->close());
  });
}
