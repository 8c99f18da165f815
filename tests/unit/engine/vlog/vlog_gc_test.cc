// Value-log garbage collection in a running DB (engine/vlog/vlog_gc.h): compaction counts
// dropped pointers as garbage in the manifest, relocates live values out of files past the
// garbage ratio, deletes files with nothing live once no reader can reach them. Checked
// against a std::map through many compactions, GCs and crashes injected while they run;
// snapshots and iterators opened before a GC keep reading every value.
#include <doctest/doctest.h>

#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>

#include "engine/db.h"
#include "tests/support/test_seed.h"
#include "tests/unit/engine/db/db_test_util.h"

using namespace cascade;
using namespace cascade::engine;
using namespace cascade::engine::db_test;
using cascade::runtime::testing::IoLoop;
using cascade::test_support::FaultFileSystem;

namespace {

using Model = std::map<std::string, std::string>;

// Tiny everything: 128 KiB memtables (two arena blocks), 16 KiB tables, 32 KiB value-log
// files, values of 200 bytes and more separated, so a few hundred writes flush, compact and
// collect.
DBOptions gc_options() {
  DBOptions o = compacting_options();
  o.memtable_size = 128 << 10;
  o.compaction.base_level_size = 64 << 10;
  o.compaction.target_file_size = 16 << 10;
  o.min_blob_size = 200;
  o.vlog_file_size = 32 << 10;
  o.compression.type = CompressionType::kNone;  // sizes as written
  return o;
}

std::string value_for(std::mt19937_64& rng, std::size_t size) {
  std::string v(size, '\0');
  for (auto& c : v) c = static_cast<char>('a' + rng() % 26);
  return v;
}

std::set<std::uint64_t> files_in(FaultFileSystem& fs, const std::string& dir,
                                 std::string_view extension) {
  auto names = fs.list_dir(dir);
  REQUIRE(names);
  std::set<std::uint64_t> out;
  for (const std::string& name : *names) {
    if (name.ends_with(extension)) out.insert(std::stoull(name.substr(0, name.find('.'))));
  }
  return out;
}

// Every key of the model reads back (get and a full scan), nothing else is there.
// Opens without background compaction (nothing changes while the directory is listed) and
// checks that the files on disk are exactly those the manifest names.
void check_no_leaks(FaultFileSystem& fs, const DBOptions& options) {
  DBOptions still = options;
  still.compaction.max_background_compactions = 0;
  auto db = open_db(fs, "/db", still);
  CHECK(files_in(fs, "/db", ".sst") == db->live_table_files());
  CHECK(files_in(fs, "/db", ".vlog") == db->kept_vlog_files());
  REQUIRE(db->close());
}

std::uint64_t vlog_bytes(DB& db) { return db.stats().vlog_bytes; }

// Writes `keys` keys of `size`-byte values, `rounds` times over (each round overwrites).
void fill(DB& db, Model& model, std::mt19937_64& rng, int keys, int rounds, std::size_t size) {
  for (int r = 0; r < rounds; ++r) {
    for (int i = 0; i < keys; ++i) {
      std::string k = "key" + std::to_string(1000 + i);
      std::string v = value_for(rng, size);
      REQUIRE(db.put(k, v));
      model[k] = v;
    }
  }
}

// One value-log file per flush, flushes only on demand, every file old enough to relocate.
DBOptions relocation_options() {
  DBOptions o = gc_options();
  o.vlog_file_size = 1 << 20;
  o.memtable_size = 1 << 20;
  o.vlog_gc_age_cutoff = 1.0;
  return o;
}

// Flushes 100 values of 2000 bytes into one value-log file, then overwrites 70 of them with
// small inline values: the file is 70% garbage, past the ratio that relocates its 30 live
// values. Returns the file's number.
std::uint64_t write_garbage_heavy_file(DB& db, Model& model, std::mt19937_64& rng) {
  fill(db, model, rng, 100, 1, 2000);
  REQUIRE(db.flush());
  const std::set<std::uint64_t> files = db.live_vlog_files();
  REQUIRE(files.size() == 1);
  for (int i = 0; i < 70; ++i) {
    std::string k = "key" + std::to_string(1000 + i);
    REQUIRE(db.put(k, "small"));
    model[k] = "small";
  }
  return *files.begin();
}

}  // namespace

TEST_CASE("vlog gc returns the space of overwritten and deleted values and leaks no file") {
  std::mt19937_64 rng(cascade::testing::test_seed("vlog gc space"));
  IoLoop loop;
  FaultFileSystem fs;
  const DBOptions options = gc_options();
  Model model;
  run_fiber(loop, [&] {
    auto db = open_db(fs, "/db", options);
    fill(*db, model, rng, 200, 1, 1000);
    REQUIRE(db->flush());
    REQUIRE(db->wait_for_compactions());
    const std::uint64_t one_copy = vlog_bytes(*db);
    CHECK(one_copy >= 200 * 1000);
    fill(*db, model, rng, 200, 4, 1000);  // four more copies of everything
    REQUIRE(db->flush());
    REQUIRE(db->compact_range(std::nullopt, std::nullopt));
    REQUIRE(db->wait_for_compactions());
    check_model(*db, model);
    DBStats s = db->stats();
    MESSAGE("after overwrites: " << s.vlog_files << " vlog files, " << s.vlog_bytes
                                 << " B (one copy " << one_copy << " B), live "
                                 << s.vlog_live_bytes << ", garbage " << s.vlog_garbage_bytes
                                 << ", relocated " << s.vlog_values_relocated << " values, "
                                 << s.vlog_files_deleted << " files deleted");
    // 5 copies were written; what stays is the live copy and bounded garbage.
    CHECK(s.vlog_bytes_written >= 4 * one_copy);
    CHECK(s.vlog_bytes < 2 * one_copy + 8 * options.vlog_file_size);
    CHECK(s.vlog_files_deleted > 0);
    CHECK(s.vlog_live_bytes + s.vlog_garbage_bytes == s.vlog_bytes);
    CHECK(s.vlog_live_bytes <= one_copy);
    CHECK(files_in(fs, "/db", ".vlog") == db->kept_vlog_files());

    // Deleting most keys returns their space too.
    for (int i = 0; i < 180; ++i) {
      std::string k = "key" + std::to_string(1000 + i);
      REQUIRE(db->del(k));
      model.erase(k);
    }
    const std::uint64_t before_deletes = vlog_bytes(*db);
    REQUIRE(db->compact_range(std::nullopt, std::nullopt));
    REQUIRE(db->wait_for_compactions());
    check_model(*db, model);
    s = db->stats();
    MESSAGE("after deletes: " << s.vlog_files << " vlog files, " << s.vlog_bytes << " B");
    CHECK(s.vlog_bytes < before_deletes / 2);
    CHECK(s.vlog_live_bytes <= 20 * 1100);
    CHECK(files_in(fs, "/db", ".vlog") == db->kept_vlog_files());

    // The counts are in the manifest: the same after a reopen, with no rescan.
    REQUIRE(db->close());
    db = open_db(fs, "/db", options);
    DBStats again = db->stats();
    CHECK(again.vlog_files == s.vlog_files);
    CHECK(again.vlog_live_bytes == s.vlog_live_bytes);
    CHECK(again.vlog_garbage_bytes == s.vlog_garbage_bytes);
    check_model(*db, model);
    REQUIRE(db->close());
    check_no_leaks(fs, options);
  });
}

TEST_CASE("vlog gc relocates live values out of a garbage-heavy file and deletes it") {
  std::mt19937_64 rng(cascade::testing::test_seed("vlog gc relocate"));
  IoLoop loop;
  FaultFileSystem fs;
  DBOptions options = relocation_options();
  options.vlog_value_head_size = 10;
  Model model;
  run_fiber(loop, [&] {
    auto db = open_db(fs, "/db", options);
    const std::uint64_t first = write_garbage_heavy_file(*db, model, rng);
    REQUIRE(db->compact_range(std::nullopt, std::nullopt));
    REQUIRE(db->wait_for_compactions());
    check_model(*db, model);
    DBStats s = db->stats();
    CHECK(s.vlog_values_relocated == 30);
    CHECK(s.vlog_bytes_relocated > 0);
    // Relocation passed the compaction rate limiter: each value's read and write, beyond
    // what the job's table IO charged.
    CHECK(s.compaction_bytes_charged >=
          s.compaction_bytes_read + s.compaction_bytes_written + 2 * 30 * 2000);
    CHECK(!db->live_vlog_files().contains(first));
    CHECK(files_in(fs, "/db", ".vlog") == db->kept_vlog_files());
    CHECK(s.vlog_live_bytes >= 30 * 2000);
    CHECK(s.vlog_live_bytes < 31 * 2100);
    // The relocated values' new pointers carry their heads too.
    {
      ReadOptions keys_only;
      keys_only.resolve_values = false;
      auto it = db->iterator(keys_only);
      std::size_t pointers = 0;
      for (it->seek_to_first(); it->valid(); it->next()) {
        if (it->type() != ValueType::kValuePointer) continue;
        ++pointers;
        auto head = it->value_head();
        REQUIRE(head.has_value());
        CHECK(*head == model.at(std::string(it->key())).substr(0, 10));
      }
      REQUIRE(it->status());
      CHECK(pointers == 30);
    }

    // Above 1, the ratio relocates nothing: the garbage stays counted, the file stays.
    REQUIRE(db->close());
    options.vlog_gc_garbage_ratio = 1.5;
    db = open_db(fs, "/db", options);
    const std::set<std::uint64_t> second = db->live_vlog_files();
    for (int i = 70; i < 90; ++i) {
      std::string k = "key" + std::to_string(1000 + i);
      REQUIRE(db->del(k));
      model.erase(k);
    }
    REQUIRE(db->compact_range(std::nullopt, std::nullopt));
    REQUIRE(db->wait_for_compactions());
    CHECK(db->stats().vlog_values_relocated == 0);
    CHECK(db->live_vlog_files() == second);
    CHECK(db->stats().vlog_garbage_bytes > s.vlog_garbage_bytes);
    check_model(*db, model);
    REQUIRE(db->close());
  });
}

TEST_CASE("vlog gc whose read fails stops writes, loses nothing and relocates after reopen") {
  std::mt19937_64 rng(cascade::testing::test_seed("vlog gc failed read"));
  IoLoop loop;
  FaultFileSystem fs;
  const DBOptions options = relocation_options();
  Model model;
  run_fiber(loop, [&] {
    auto db = open_db(fs, "/db", options);
    fs.set_yield_on_io(true);  // reads take a scheduler round, as on a device
    const std::uint64_t first = write_garbage_heavy_file(*db, model, rng);
    // compact_range's own jobs count the file's garbage; the background job that then
    // relocates its values fails on its read, and says so.
    fs.fail_next_read("/db/" + vlog_file_name(first));
    REQUIRE(db->compact_range(std::nullopt, std::nullopt));
    const Status failed = db->wait_for_compactions();
    CHECK(db->stats().compaction_failures == 1);
    CHECK(failed.code() == StatusCode::kIoError);
    CHECK(failed.to_string().find("injected fault") != std::string::npos);
    CHECK(db->stats().vlog_values_relocated == 0);
    CHECK(db->live_vlog_files().contains(first));  // still the values' home
    // As for any compaction IO error (db_compaction.cc): writes stop until reopen, reads go on.
    CHECK(db->put("after", "the failure").code() == StatusCode::kIoError);
    check_model(*db, model);
    CHECK(files_in(fs, "/db", ".vlog") == db->kept_vlog_files());  // its output removed
    (void)db->close();

    // Reopened, the relocation goes through and the file goes.
    db = open_db(fs, "/db", options);
    check_model(*db, model);
    REQUIRE(db->compact_range(std::nullopt, std::nullopt));
    REQUIRE(db->wait_for_compactions());
    CHECK(db->stats().vlog_values_relocated == 30);
    CHECK_FALSE(db->live_vlog_files().contains(first));
    check_model(*db, model);
    REQUIRE(db->close());
    check_no_leaks(fs, options);
    db = open_db(fs, "/db", options);
    check_model(*db, model);
    REQUIRE(db->close());
  });
}

TEST_CASE("vlog gc keeps a snapshot's old values readable, relocated or not") {
  std::mt19937_64 rng(cascade::testing::test_seed("vlog gc snapshot"));
  IoLoop loop;
  FaultFileSystem fs;
  DBOptions options = gc_options();
  options.vlog_file_size = 1 << 20;
  options.memtable_size = 1 << 20;
  options.vlog_gc_age_cutoff = 1.0;
  run_fiber(loop, [&] {
    auto db = open_db(fs, "/db", options);
    Model v1;
    fill(*db, v1, rng, 100, 1, 1500);
    REQUIRE(db->flush());
    // 60% of the keys get a second version below the snapshot: their first versions
    // become garbage, the others' first versions stay live only for the snapshot.
    Model at_snapshot = v1;
    for (int i = 0; i < 100; ++i) {
      if (i % 5 >= 3) continue;
      std::string k = "key" + std::to_string(1000 + i);
      std::string v = value_for(rng, 1500);
      REQUIRE(db->put(k, v));
      at_snapshot[k] = v;
    }
    REQUIRE(db->flush());
    auto snap = std::make_unique<Snapshot>(db->snapshot());
    Model now;
    fill(*db, now, rng, 100, 1, 1500);
    REQUIRE(db->flush());
    REQUIRE(db->compact_range(std::nullopt, std::nullopt));
    REQUIRE(db->wait_for_compactions());
    DBStats s = db->stats();
    CHECK(s.vlog_values_relocated >= 40);  // the snapshot's values left the first file
    check_model(*db, at_snapshot, snap.get());
    check_model(*db, now);
    // Released, the snapshot's values become garbage at the next compaction.
    const std::uint64_t live_with_snapshot = s.vlog_live_bytes;
    snap.reset();
    REQUIRE(db->compact_range(std::nullopt, std::nullopt));
    REQUIRE(db->wait_for_compactions());
    CHECK(db->stats().vlog_live_bytes < live_with_snapshot);
    check_model(*db, now);
    REQUIRE(db->close());
    check_no_leaks(fs, options);
  });
}

TEST_CASE("vlog gc leaves the files of an iterator opened before it until it is gone") {
  std::mt19937_64 rng(cascade::testing::test_seed("vlog gc iterator"));
  IoLoop loop;
  FaultFileSystem fs;
  DBOptions options = gc_options();
  options.block_cache_size = 0;  // every value read from its file
  run_fiber(loop, [&] {
    auto db = open_db(fs, "/db", options);
    Model old;
    fill(*db, old, rng, 150, 1, 1200);
    REQUIRE(db->flush());
    REQUIRE(db->wait_for_compactions());
    const std::set<std::uint64_t> old_files = db->live_vlog_files();
    auto it = db->iterator();
    // Everything overwritten, then deleted: every old file empties and leaves the version.
    Model now;
    fill(*db, now, rng, 150, 2, 1200);
    for (int i = 0; i < 150; i += 3) {
      std::string k = "key" + std::to_string(1000 + i);
      REQUIRE(db->del(k));
      now.erase(k);
    }
    REQUIRE(db->compact_range(std::nullopt, std::nullopt));
    REQUIRE(db->wait_for_compactions());
    for (std::uint64_t n : old_files) CHECK(!db->live_vlog_files().contains(n));
    const std::set<std::uint64_t> on_disk = files_in(fs, "/db", ".vlog");
    for (std::uint64_t n : old_files) CHECK(on_disk.contains(n));  // the iterator's version
    auto m = old.begin();
    for (it->seek_to_first(); it->valid(); it->next(), ++m) {
      REQUIRE(m != old.end());
      REQUIRE(it->key() == m->first);
      REQUIRE(it->value() == m->second);
    }
    REQUIRE_MESSAGE(it->status(), it->status().to_string());
    CHECK(m == old.end());
    it.reset();
    check_model(*db, now);
    REQUIRE(db->put("one more", "x"));  // a flush: the next purge deletes them
    REQUIRE(db->flush());
    CHECK(db->stats().vlog_files_deleted >= old_files.size());
    for (std::uint64_t n : old_files) CHECK(!files_in(fs, "/db", ".vlog").contains(n));
    REQUIRE(db->close());
    check_no_leaks(fs, options);
  });
}

// Rounds of random puts (large and small values), overwrites and deletes with sync, while
// flushes, compactions and relocations run; each round ends in a crash, most of them with a
// compaction running. After each reopen: every acknowledged write is there (the model),
// and the directory holds exactly the files the manifest names. At the end, after deleting
// and overwriting most keys, the value log shrinks.
TEST_CASE("vlog gc model: crashes during flush, compaction and gc lose nothing and leak nothing") {
  const std::uint64_t seed = cascade::testing::test_seed("vlog gc model");
  CAPTURE(seed);
  std::mt19937_64 rng(seed);
  IoLoop loop;
  FaultFileSystem fs;
  fs.set_yield_on_io(true);
  DBOptions options = gc_options();
  options.vlog_gc_age_cutoff = 0.5;
  Model model;
  int crashes_mid_compaction = 0;
  std::uint64_t compactions = 0, relocated = 0, deleted = 0;
  std::uint64_t peak_vlog_bytes = 0;
  run_fiber(loop, [&] {
    for (int round = 0; round < 12; ++round) {
      CAPTURE(round);
      if (round > 0) check_no_leaks(fs, options);
      auto db = open_db(fs, "/db", options);
      check_model(*db, model);
      const int ops = 300 + static_cast<int>(rng() % 500);
      for (int op = 0; op < ops; ++op) {
        std::string k = "key" + std::to_string(rng() % 250);
        if (rng() % 8 == 0) {
          REQUIRE(db->del(k, {.sync = true}));
          model.erase(k);
        } else {
          std::string v = value_for(rng, rng() % 4 == 0 ? rng() % 200 : 200 + rng() % 1800);
          REQUIRE(db->put(k, v, {.sync = true}));
          model[k] = v;
        }
      }
      peak_vlog_bytes = std::max(peak_vlog_bytes, vlog_bytes(*db));
      // Most rounds crash while a compaction runs, at a random point in it: wait (bounded)
      // for one to start, then yield a random number of times; when none starts or it ends
      // first, write more and try again with fewer yields, so a fast compaction still gets
      // crashed into. The other rounds crash at a random point.
      if (round % 4 != 3) {
        int budget = 300;
        for (int attempt = 0; attempt < 6; ++attempt, budget = std::max(1, budget / 3)) {
          for (int i = 0; i < 2000 && db->stats().running_compactions == 0; ++i) {
            runtime::this_fiber::yield();
          }
          for (int i = 0, n = static_cast<int>(rng() % budget);
               i < n && db->stats().running_compactions > 0; ++i) {
            runtime::this_fiber::yield();
          }
          if (db->stats().running_compactions > 0) break;
          // None started, or it finished: more writes make the next one.
          for (int w = 0; w < 40; ++w) {
            std::string k = "key" + std::to_string(rng() % 250);
            std::string v = value_for(rng, 200 + rng() % 1800);
            REQUIRE(db->put(k, v, {.sync = true}));
            model[k] = v;
          }
        }
      } else {
        for (int i = 0, n = static_cast<int>(rng() % 300); i < n; ++i) {
          runtime::this_fiber::yield();
        }
      }
      DBStats at_crash = db->stats();
      if (at_crash.running_compactions > 0) ++crashes_mid_compaction;
      compactions += at_crash.compactions;
      relocated += at_crash.vlog_values_relocated;
      deleted += at_crash.vlog_files_deleted;
      (void)fs.crash(rng());
      (void)db->close();  // fails: the handles died with the crash
    }
    check_no_leaks(fs, options);
    auto db = open_db(fs, "/db", options);
    check_model(*db, model);
    // Space returns: most keys deleted, the rest overwritten with inline values.
    for (int i = 0; i < 250; ++i) {
      std::string k = "key" + std::to_string(i);
      if (i % 10 == 0) {
        REQUIRE(db->put(k, "inline"));
        model[k] = "inline";
      } else {
        REQUIRE(db->del(k));
        model.erase(k);
      }
    }
    REQUIRE(db->compact_range(std::nullopt, std::nullopt));
    REQUIRE(db->wait_for_compactions());
    check_model(*db, model);
    DBStats s = db->stats();
    MESSAGE(compactions << " compactions, " << relocated << " values relocated, " << deleted
                        << " vlog files deleted before crashes; " << crashes_mid_compaction
                        << " of 12 crashes with a compaction running; vlog bytes peak "
                        << peak_vlog_bytes << ", at the end " << s.vlog_bytes);
    CHECK(s.vlog_live_bytes == 0);
    CHECK(s.vlog_files == 0);
    CHECK(s.vlog_bytes < peak_vlog_bytes);
    REQUIRE(db->close());
    check_no_leaks(fs, options);
    CHECK(crashes_mid_compaction > 0);
    CHECK(relocated > 0);
    CHECK(deleted > 0);
  });
}
