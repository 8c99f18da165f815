// Values logged at write time (DBOptions::separate_at_write, engine/vlog/vlog_appender.h):
// a large value crosses the disk once, to a value-log file, and the WAL holds its pointer;
// the flush hands the table the pointer the write made. Checked here: the bytes written,
// reads before and after the flush, replay at reopen, a full disk (at write and at open),
// an appender that fails, the garbage accounting of logged files, and snapshots and
// value-log GC over them. Crashes that cut the log: db_logged_values_crash_test.cc.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "engine/db.h"
#include "engine/version/file_names.h"
#include "engine/vlog/value_compression.h"
#include "engine/vlog/vlog_format.h"
#include "src/runtime/aligned_buffer.h"
#include "tests/support/test_seed.h"
#include "tests/unit/engine/db/db_test_util.h"

#include "tests/unit/engine/db/logged_values_test_util.h"

using namespace cascade;
using namespace cascade::engine;
using namespace cascade::engine::db_test;
using namespace cascade::engine::logged_test;
using cascade::runtime::testing::IoLoop;
using cascade::test_support::CrashOptions;
using cascade::test_support::FaultFileSystem;

TEST_CASE("logged values cross the disk once: the wal holds pointers, reads see the values") {
  constexpr int kCount = 200;
  constexpr int kPerBatch = 10;
  constexpr std::uint64_t kValueBytes = std::uint64_t{kCount} * kBigSize;
  IoLoop loop;
  run_fiber(loop, [&] {
    for (bool separate : {true, false}) {
      CAPTURE(separate);
      FaultFileSystem fs;
      DBOptions o = logged_options();
      o.separate_at_write = separate;
      o.memtable_size = 4 << 20;  // every value waits in the mutable memtable for flush()
      auto db = open_db(fs, "/db", o);
      for (int i = 0; i < kCount; i += kPerBatch) {
        WriteBatch batch;
        for (int j = i; j < i + kPerBatch; ++j) batch.put(key(j), big_value(j));
        REQUIRE(db->write(batch));
      }
      const DBStats written = db->stats();
      if (separate) {
        CHECK(written.wal_bytes_written < kValueBytes / 8);
        CHECK(vlog_files_in(fs, "/db").size() == 1);  // the appender's, not yet in the version
      } else {
        CHECK(written.wal_bytes_written > kValueBytes);
        CHECK(vlog_files_in(fs, "/db").empty());
      }
      CHECK(written.vlog_files == 0);
      CHECK(written.flushes == 0);
      for (int i = 0; i < kCount; ++i) REQUIRE(get_ok(*db, key(i)) == big_value(i));
      const std::set<std::uint64_t> appender_files = vlog_files_in(fs, "/db");

      REQUIRE(db->flush());
      const DBStats flushed = db->stats();
      CHECK(flushed.vlog_files == 1);
      if (separate) CHECK(db->live_vlog_files() == appender_files);  // the write's file
      CHECK(flushed.vlog_live_bytes >= kValueBytes);
      CHECK(flushed.vlog_live_bytes + flushed.vlog_garbage_bytes == flushed.vlog_bytes);
      // The value log is written once either way; with logging the WAL is not.
      CHECK(vlog_bytes_written_in(fs, "/db") < kValueBytes * 11 / 10);
      // Less the WAL's one-time zeroing of its first segment ahead of durable writes.
      const std::uint64_t all_bytes =
          fs.counters().files.bytes_written - db->stats().wal_zeroed_bytes;
      if (separate) {
        CHECK(all_bytes < kValueBytes * 13 / 10);
      } else {
        CHECK(all_bytes > kValueBytes * 2);
      }
      for (int i = 0; i < kCount; ++i) REQUIRE(get_ok(*db, key(i)) == big_value(i));
      check_no_leaked_files(fs, "/db", *db);
      REQUIRE(db->close());
    }
  });
}

TEST_CASE("the engine counts values compressed, tried in vain and stored without trying") {
  IoLoop loop;
  run_fiber(loop, [&] {
    for (bool separate : {true, false}) {
      CAPTURE(separate);  // compressed when written, or by the flush's separator
      FaultFileSystem fs;
      DBOptions o = logged_options();
      o.separate_at_write = separate;
      o.memtable_size = 4 << 20;
      auto db = open_db(fs, "/db", o);
      std::mt19937_64 rng(5);
      for (int i = 0; i < 100; ++i) {  // random bytes: nothing compresses
        std::string value(kBigSize, '\0');
        for (char& c : value) c = static_cast<char>(rng());
        REQUIRE(db->put(key(i), value));
      }
      for (int i = 100; i < 200; ++i) REQUIRE(db->put(key(i), std::string(kBigSize, 'z')));
      REQUIRE(db->flush());
      const DBStats s = db->stats();
      CHECK(s.vlog_values_incompressible >= 4);
      CHECK(s.vlog_values_incompressible < 40);
      CHECK(s.vlog_compression_skips > 60);
      // The compressible ones after the run: all but those a stretch still skipped.
      CHECK(s.vlog_values_compressed + ValueCompressor::kMaxSkip >= 100);
      CHECK(s.vlog_values_compressed > 0);
      CHECK(s.vlog_values_compressed + s.vlog_values_incompressible + s.vlog_compression_skips ==
            200);
      REQUIRE(db->close());
    }
  });
}

TEST_CASE("values larger than a wal segment are logged, and survive a power loss; inline they are refused") {
  IoLoop loop;
  FaultFileSystem fs;
  run_fiber(loop, [&] {
    DBOptions o = logged_options();  // 4 MiB wal segments
    const std::uint64_t segment = o.wal.geometry.segment_size;
    const std::string big = compressible_value(segment * 2 + 12345);
    std::string other(segment - 1000, 'z');  // with `big`, two values past a segment in one batch
    auto db = open_db(fs, "/db", o);
    REQUIRE(db->put("big", big, {.sync = true}));
    WriteBatch batch;
    batch.put("other", other);
    batch.put("big2", big);
    REQUIRE(db->write(batch, {.sync = true}));
    CHECK(get_ok(*db, "big") == big);
    CHECK(get_ok(*db, "big2") == big);
    (void)fs.simulate_crash(CrashOptions::lose_unsynced(3));
    (void)db->close();
    db.reset();

    db = open_db(fs, "/db", o);
    CHECK(get_ok(*db, "big") == big);
    CHECK(get_ok(*db, "big2") == big);
    CHECK(get_ok(*db, "other") == other);
    REQUIRE(db->close());
    db.reset();

    // Kept inline, such a value would have to fit a segment's WAL record: refused, before
    // it takes a sequence.
    o.min_blob_size = kNeverSeparate;
    db = open_db(fs, "/db", o);
    const SequenceNumber before = db->stats().last_sequence;
    Status refused = db->put("inline", big, {.sync = true});
    CHECK(refused.code() == StatusCode::kInvalidArgument);
    CHECK(refused.message().find("larger than a wal segment") != std::string::npos);
    CHECK(db->stats().last_sequence == before);
    CHECK(db->put("after", "x", {.sync = true}));
    REQUIRE(db->close());
  });
}

TEST_CASE("large logged values are compressed before their write takes a sequence, other fibers running meanwhile") {
  // One value of 8 MiB (compressed in pieces), or a batch of 40 values of 100 KiB (each
  // compressed whole, a yield every 1 MiB of them): before, either held the thread from
  // its first compression to its memtable insert.
  std::size_t value_size = 0;
  int values = 0;
  SUBCASE("one large value") {
    value_size = 8 * LargeValueCompressor::kPieceSize;
    values = 1;
  }
  SUBCASE("a batch of smaller ones") {
    value_size = 100 << 10;
    values = 40;
  }
  CAPTURE(values);
  IoLoop loop;
  FaultFileSystem fs;
  run_fiber(loop, [&] {
    auto db = open_db(fs, "/db", logged_options());
    const std::string big = compressible_value(value_size);
    WriteBatch batch;
    for (int i = 1; i < values; ++i) batch.put("other" + std::to_string(i), big);
    batch.put("k", big);
    // Another writer of the same key, which writes once this fiber has let it run three
    // times. The compression yields before this write takes a sequence, so the small write
    // comes first and the big value is the newer one. Before, the whole stretch up to the
    // memtable insert ran without a yield (at most one, when the writer's turn had lasted
    // long): "small" won.
    bool small_written = false;
    runtime::FiberHandle other = runtime::Scheduler::current()->spawn([&] {
      for (int i = 0; i < 3; ++i) runtime::this_fiber::yield();
      CHECK(db->put("k", "small"));
      small_written = true;
    });
    REQUIRE(db->write(batch));
    other.join();
    CHECK(small_written);
    CHECK((get_ok(*db, "k") == big));  // (not decomposed: megabytes in a failure message)
    // Counted once each, as the appender's own compressor counts.
    CHECK(db->stats().vlog_values_compressed == static_cast<std::uint64_t>(values));
    REQUIRE(db->flush());
    CHECK((get_ok(*db, "k") == big));  // through the pointer, the frame decompressed
    if (values > 1) CHECK((get_ok(*db, "other1") == big));
    REQUIRE(db->close());
  });
}

TEST_CASE("logged values come back at reopen, after a clean close and after a power loss") {
  constexpr int kFirst = 100;  // over two memtables: two flushed, the rest replayed
  constexpr int kSecond = 40;
  bool crash = false;
  SUBCASE("clean close") { crash = false; }
  SUBCASE("power loss") { crash = true; }
  CAPTURE(crash);
  IoLoop loop;
  FaultFileSystem fs;
  run_fiber(loop, [&] {
    // Everything acknowledged is synced (sync=true, under kAlways too), so a power loss
    // keeps it all.
    auto stop = [&](std::unique_ptr<DB>& db) {
      if (crash) {
        (void)fs.simulate_crash(CrashOptions::lose_unsynced(7));
        (void)db->close();
      } else {
        REQUIRE(db->close());
      }
      db.reset();
    };
    const DBOptions o = logged_options();
    auto db = open_db(fs, "/db", o);
    for (int i = 0; i < kFirst; ++i) REQUIRE(put_pair(*db, i, kSynced));
    // The flushes finish before the stop, so what is replayed is the mutable memtable's
    // alone (a flush still running at a power loss is another test's matter: it left one
    // value-log file in the version instead of two, a race under the sanitizer build).
    REQUIRE(db->wait_for_flushes());
    CHECK(db->stats().flushes >= 2);
    stop(db);

    db = open_db(fs, "/db", o);
    DBStats s = db->stats();
    CHECK(s.recovered_batches > 0);
    CHECK(s.recovered_batches < kFirst);  // the flushed ones are not replayed
    CHECK(s.recovered_cut_batches == 0);
    CHECK(s.last_sequence == 2 * kFirst);
    CHECK(s.immutable_memtables == 0);  // the replayed memtable was flushed at open
    CHECK(s.vlog_files >= 2);           // the replayed memtable's file joined the version
    check_no_leaked_files(fs, "/db", *db);
    for (int i = 0; i < kFirst; ++i) REQUIRE(pair_present(*db, i));

    // New writes take sequences past the replayed ones; overwrites of replayed keys win.
    for (int i = kFirst; i < kFirst + kSecond; ++i) REQUIRE(put_pair(*db, i, kSynced));
    for (int i = 0; i < 10; ++i) REQUIRE(put_pair(*db, i, kSynced, 1));
    CHECK(db->stats().last_sequence == 2 * (kFirst + kSecond + 10));
    stop(db);

    db = open_db(fs, "/db", o);
    s = db->stats();
    CHECK(s.recovered_batches > 0);
    CHECK(s.recovered_batches <= kSecond + 10);  // nothing replayed twice
    CHECK(s.recovered_cut_batches == 0);
    CHECK(s.last_sequence == 2 * (kFirst + kSecond + 10));
    check_no_leaked_files(fs, "/db", *db);
    for (int i = 0; i < 10; ++i) REQUIRE(pair_present(*db, i, 1));
    for (int i = 10; i < kFirst + kSecond; ++i) REQUIRE(pair_present(*db, i));
    REQUIRE(db->close());
  });
}

TEST_CASE(
    "logged values on a full disk: NoSpace before a sequence is taken, writable once space "
    "returns") {
  IoLoop loop;
  FaultFileSystem fs;
  DBOptions o = logged_options();
  o.memtable_size = 16 << 20;  // no flush: the appender's allocation is what runs out
  run_fiber(loop, [&] {
    auto db = open_db(fs, "/db", o);
    Model acked;
    int next = 0;
    auto put_big = [&](int i) {
      Status s = db->put(key(i), big_value(i));
      if (s) acked[key(i)] = big_value(i);
      return s;
    };
    for (; next < 20; ++next) REQUIRE(put_big(next));
    REQUIRE(db->flush());  // the appender is finished: the next big value needs a new file
    const auto files_before = vlog_files_in(fs, "/db");

    // A new appender cannot get its space.
    fs.set_space_limit(fs.used_bytes() + 64 * 1024);
    SequenceNumber last = db->stats().last_sequence;
    Status failed = put_big(next++);
    CHECK_MESSAGE(failed.is_no_space(), failed.to_string());
    CHECK(db->stats().last_sequence == last);          // no sequence taken
    CHECK(vlog_files_in(fs, "/db") == files_before);  // its file removed
    WriteBatch mixed;  // a batch with a big value fails whole
    mixed.put("mixed-small", "x");
    mixed.put("mixed-big", big_value(999));
    CHECK(db->write(mixed).is_no_space());
    CHECK(get_ok(*db, "mixed-small") == std::nullopt);
    // Small values need no value-log space: the WAL is preallocated.
    for (int i = 0; i < 20; ++i) {
      REQUIRE(db->put(small_key(i), small_value(i)));
      acked[small_key(i)] = small_value(i);
    }
    CHECK(db->stats().last_sequence == last + 20);
    check_model(*db, acked);

    fs.set_space_limit(std::nullopt);
    REQUIRE(put_big(next++));  // no reopen needed

    // The appender's allocation runs out.
    fs.set_space_limit(fs.used_bytes() + 4096);
    int accepted = 0;
    for (failed = Status::ok(); failed.is_ok() && accepted < 3000; ++accepted) {
      failed = put_big(next++);
    }
    CHECK_MESSAGE(failed.is_no_space(), failed.to_string());
    CHECK(accepted > 1);  // the allocation in hand was used first
    last = db->stats().last_sequence;
    CHECK(put_big(next++).is_no_space());
    CHECK(db->stats().last_sequence == last);
    REQUIRE(db->put("small-while-full", "y"));
    acked["small-while-full"] = "y";
    check_model(*db, acked);

    fs.set_space_limit(std::nullopt);
    for (int i = 0; i < 5; ++i) REQUIRE(put_big(next++));
    check_model(*db, acked);

    // Close under a full disk: nothing left to allocate.
    fs.set_space_limit(fs.used_bytes());
    REQUIRE(db->close());
    fs.set_space_limit(std::nullopt);
    db = open_db(fs, "/db", o);
    check_model(*db, acked);
    CHECK(get_ok(*db, "mixed-big") == std::nullopt);
    check_no_leaked_files(fs, "/db", *db);
    REQUIRE(db->close());
  });
}

// A batch of large values is compressed before it asks the value log for room; a full
// disk then refuses it as any logged write, and what was compressed for it is counted
// nowhere (only a write that can no longer fail counts its values).
TEST_CASE("large logged values on a full disk: NoSpace after their compression, counted once written") {
  IoLoop loop;
  FaultFileSystem fs;
  DBOptions o = logged_options();
  o.memtable_size = 16 << 20;
  run_fiber(loop, [&] {
    auto db = open_db(fs, "/db", o);
    const std::string big = compressible_value(2 * LargeValueCompressor::kPieceSize);
    REQUIRE(db->put("first", big));
    REQUIRE(db->flush());  // the appender is finished: the next value needs a new file
    const std::uint64_t compressed = db->stats().vlog_values_compressed;
    CHECK(compressed == 1);

    fs.set_space_limit(fs.used_bytes() + 64 * 1024);
    const SequenceNumber last = db->stats().last_sequence;
    Status failed = db->put("k", big);
    CHECK_MESSAGE(failed.is_no_space(), failed.to_string());
    CHECK(db->stats().last_sequence == last);  // no sequence taken
    CHECK(db->stats().vlog_values_compressed == compressed);
    CHECK(db->stats().vlog_values_incompressible == 0);
    CHECK(get_ok(*db, "k") == std::nullopt);

    fs.set_space_limit(std::nullopt);
    REQUIRE(db->put("k", big));
    CHECK(db->stats().vlog_values_compressed == compressed + 1);
    CHECK((get_ok(*db, "k") == big));
    REQUIRE(db->close());
    db = open_db(fs, "/db", o);
    CHECK((get_ok(*db, "k") == big));
    CHECK((get_ok(*db, "first") == big));
    check_no_leaked_files(fs, "/db", *db);
    REQUIRE(db->close());
  });
}

// The memtable keeps every version of a key, so its table holds a pointer to each logged
// record: all of them are live at the flush. Compaction then drops the shadowed versions
// and counts their records as garbage; a file with nothing live left is deleted.
TEST_CASE("logged files: shadowed values live until compaction drops them, then garbage") {
  constexpr int kKeys = 20;
  constexpr int kDeleted = 5;
  IoLoop loop;
  FaultFileSystem fs;
  DBOptions o = logged_options();
  o.memtable_size = 4 << 20;
  o.vlog_gc_garbage_ratio = 2;  // never relocate: the accounting alone is checked
  run_fiber(loop, [&] {
    auto db = open_db(fs, "/db", o);
    for (int round = 0; round < 2; ++round) {
      for (int i = 0; i < kKeys; ++i) REQUIRE(db->put(key(i), big_value(i, round)));
    }
    for (int i = 0; i < kDeleted; ++i) REQUIRE(db->del(key(i)));
    REQUIRE(db->flush());
    const std::vector<RecordAt> records = records_in(fs, "/db");
    REQUIRE(records.size() == 2 * kKeys);
    std::uint64_t record_bytes = 0, live_bytes = 0;
    for (std::size_t j = 0; j < records.size(); ++j) {
      record_bytes += records[j].size;
      // The second round's records of the keys not deleted.
      if (j >= kKeys + kDeleted) live_bytes += records[j].size;
    }
    DBStats s = db->stats();
    REQUIRE(s.vlog_files == 1);
    CHECK(s.vlog_live_bytes == record_bytes);
    CHECK(s.vlog_garbage_bytes == s.vlog_bytes - record_bytes);  // header, padding, footer

    REQUIRE(db->compact_range(std::nullopt, std::nullopt));
    s = db->stats();
    REQUIRE(s.vlog_files == 1);
    CHECK(s.vlog_live_bytes == live_bytes);
    CHECK(s.vlog_garbage_bytes == s.vlog_bytes - live_bytes);
    Model model;
    for (int i = kDeleted; i < kKeys; ++i) model[key(i)] = big_value(i, 1);
    check_model(*db, model);

    for (int i = kDeleted; i < kKeys; ++i) REQUIRE(db->del(key(i)));
    REQUIRE(db->compact_range(std::nullopt, std::nullopt));
    s = db->stats();
    CHECK(s.vlog_files == 0);
    check_model(*db, {});
    REQUIRE(db->close());
    db = open_db(fs, "/db", o);
    CHECK(vlog_files_in(fs, "/db").empty());
    check_no_leaked_files(fs, "/db", *db);
    REQUIRE(db->close());
  });
}

TEST_CASE("snapshots and iterators read logged values across their memtable's flush") {
  constexpr int kKeys = 30;
  IoLoop loop;
  FaultFileSystem fs;
  DBOptions o = logged_options();
  o.memtable_size = 4 << 20;
  run_fiber(loop, [&] {
    auto db = open_db(fs, "/db", o);
    Model before;
    for (int i = 0; i < kKeys; ++i) {
      REQUIRE(db->put(key(i), big_value(i)));
      before[key(i)] = big_value(i);
    }
    Snapshot snap = db->snapshot();
    auto it = db->iterator();  // holds the memtable as it is now
    it->seek_to_first();
    Model after = before;
    for (int i = 0; i < kKeys; i += 2) {
      REQUIRE(db->put(key(i), big_value(i, 1)));
      after[key(i)] = big_value(i, 1);
    }
    REQUIRE(db->del(key(1)));
    after.erase(key(1));
    REQUIRE(db->flush());  // the memtable the iterator reads becomes a table of pointers
    CHECK(db->stats().vlog_files == 1);

    auto m = before.begin();
    for (; it->valid(); it->next(), ++m) {
      REQUIRE(m != before.end());
      REQUIRE(it->key() == m->first);
      REQUIRE(it->value() == m->second);
    }
    REQUIRE_MESSAGE(it->status(), it->status().to_string());
    CHECK(m == before.end());
    it.reset();
    check_model(*db, before, &snap);
    check_model(*db, after);

    // Once more over two flushed memtables, with the snapshot still held.
    for (int i = 1; i < kKeys; i += 2) {
      if (i == 1) continue;
      REQUIRE(db->put(key(i), big_value(i, 2)));
      after[key(i)] = big_value(i, 2);
    }
    REQUIRE(db->flush());
    REQUIRE(db->compact_range(std::nullopt, std::nullopt));
    check_model(*db, before, &snap);
    check_model(*db, after);
    REQUIRE(db->close());
  });
}

TEST_CASE("logged values under compaction and value-log gc match a model through reopens") {
  const std::uint64_t seed = cascade::testing::test_seed("logged values gc model");
  CAPTURE(seed);
  std::mt19937_64 rng(seed);
  IoLoop loop;
  FaultFileSystem fs;
  DBOptions o = compacting_options();
  o.min_blob_size = 100;
  o.vlog_file_size = 64 << 10;
  o.vlog_gc_garbage_ratio = 0.3;
  Model model;
  std::uint64_t relocated = 0;
  run_fiber(loop, [&] {
    for (int round = 0; round < 3; ++round) {
      CAPTURE(round);
      {
        DBOptions still = o;
        still.compaction.max_background_compactions = 0;
        auto quiet = open_db(fs, "/db", still);
        check_no_leaked_files(fs, "/db", *quiet);
        check_model(*quiet, model);
        REQUIRE(quiet->close());
      }
      DBOptions opened = o;
      opened.flush_on_close = round == 2;
      auto db = open_db(fs, "/db", opened);
      check_model(*db, model);
      for (int op = 0; op < 600; ++op) {
        const std::string k = "k" + std::to_string(rng() % 300);
        if (rng() % 8 == 0) {
          REQUIRE(db->del(k));
          model.erase(k);
          continue;
        }
        std::string v(rng() % 3000, '\0');
        for (auto& c : v) c = static_cast<char>('a' + rng() % 26);
        REQUIRE(db->put(k, v));
        model[k] = v;
      }
      REQUIRE(db->wait_for_compactions());
      check_model(*db, model);
      relocated += db->stats().vlog_values_relocated;
      if (round == 1) {
        // Everything acknowledged under kAlways is durable: a power loss keeps it.
        (void)fs.simulate_crash(CrashOptions::lose_unsynced(rng()));
        (void)db->close();
      } else {
        REQUIRE(db->close());
      }
    }
  });
  MESSAGE("values relocated: " << relocated);
  CHECK(relocated > 0);  // gc moved logged values
}

// An appender whose write fails may have left a hole under a sequence the WAL already
// holds: the replay ends there. So no write may be acknowledged after it, not even one that
// logged no value, needs no sync and was in flight when the failure came.
TEST_CASE("a failed write of a logged value fails every write finishing after it") {
  IoLoop loop;
  FaultFileSystem fs;
  const DBOptions o = everysec_options();
  run_fiber(loop, [&] {
    auto db = open_db(fs, "/db", o);
    Model acked;
    for (int i = 0; i < 3; ++i) {
      REQUIRE(put_pair(*db, i));
      acked[key(i)] = big_value(i);
      acked[small_key(i)] = small_value(i);
    }
    const auto files = vlog_files_in(fs, "/db");
    REQUIRE(files.size() == 1);
    fs.fail_next_write(path_join("/db", vlog_file_name(*files.begin())));

    // Both in flight: the big one's write-out fails, the small one only waits for its turn.
    WriteBatch big;
    big.put(key(10), big_value(10));
    WriteBatch small;
    small.put("in-flight-small", "x");
    auto big_pending = db->begin_write(big);
    REQUIRE(big_pending);
    auto small_pending = db->begin_write(small);
    REQUIRE(small_pending);
    const Status big_status = db->finish_write(*big_pending);
    CHECK_MESSAGE(big_status.code() == StatusCode::kIoError, big_status.to_string());
    const Status small_status = db->finish_write(*small_pending);
    CHECK_MESSAGE(!small_status, "a write after a lost value was acknowledged");
    if (small_status) acked["in-flight-small"] = "x";

    // Nothing later is acknowledged either.
    CHECK(!db->put("after-small", "y"));
    CHECK(!db->put("after-synced", "y", kSynced));
    CHECK(!put_pair(*db, 20));
    (void)db->close();

    db = open_db(fs, "/db", o);
    for (const auto& entry : acked) {
      const auto& k = entry.first;
      CAPTURE(k);
      CHECK(get_ok(*db, k) == entry.second);
    }
    CHECK(get_ok(*db, key(10)) == std::nullopt);
    CHECK(get_ok(*db, "after-small") == std::nullopt);
    CHECK(get_ok(*db, "after-synced") == std::nullopt);
    check_no_leaked_files(fs, "/db", *db);
    REQUIRE(put_pair(*db, 30, kSynced));  // writable again after the reopen
    CHECK(pair_present(*db, 30));
    REQUIRE(db->close());
  });
}

// The replayed memtable's logged files stay unfinished until its normal flush, so an open
// on a full disk needs no room: it succeeds, serves reads and small writes, and the files
// join the version at the flush once space returns.
TEST_CASE("logged values: open on a full disk succeeds, the files join the version at the flush") {
  constexpr int kPairs = 12;
  IoLoop loop;
  FaultFileSystem fs;
  DBOptions o = logged_options();
  o.memtable_size = 4 << 20;  // no flush before the close
  run_fiber(loop, [&] {
    SUBCASE("after a close") {
      auto db = open_db(fs, "/db", o);
      for (int i = 0; i < kPairs; ++i) REQUIRE(put_pair(*db, i));
      REQUIRE(db->close());
    }
    SUBCASE("after a power loss") {
      auto db = open_db(fs, "/db", o);
      for (int i = 0; i < kPairs; ++i) REQUIRE(put_pair(*db, i, kSynced));
      (void)fs.simulate_crash(CrashOptions::lose_unsynced(9));
      (void)db->close();
    }
    const auto files = vlog_files_in(fs, "/db");
    REQUIRE(!files.empty());

    // Room for the open's new manifest, not for a table.
    fs.set_space_limit(fs.used_bytes() + 256);
    // Not REQUIRE: a failure must not abort the run from inside the fiber.
    auto opened = DB::open(fs, "/db", o);
    CHECK_MESSAGE(opened, opened.status().to_string());
    if (!opened) return;
    auto db = std::move(*opened);
    CHECK(db->stats().recovered_batches == kPairs);
    CHECK(db->stats().recovered_cut_batches == 0);
    CHECK(present_prefix(*db, kPairs) == kPairs);
    const auto live_before = db->live_vlog_files();
    for (std::uint64_t n : files) CHECK(!live_before.contains(n));
    CHECK(db->kept_vlog_files() == vlog_files_in(fs, "/db"));
    for (int i = 0; i < 20; ++i) REQUIRE(db->put(small_key(100 + i), small_value(i), kSynced));

    fs.set_space_limit(std::nullopt);
    REQUIRE(db->flush());
    const auto live_after = db->live_vlog_files();
    CHECK(live_after.size() > live_before.size());
    for (std::uint64_t n : files) CHECK(live_after.contains(n));
    check_no_leaked_files(fs, "/db", *db);
    CHECK(present_prefix(*db, kPairs) == kPairs);
    for (int i = 0; i < 20; ++i) CHECK(get_ok(*db, small_key(100 + i)) == small_value(i));
    REQUIRE(db->close());

    db = open_db(fs, "/db", o);
    CHECK(db->stats().recovered_batches == 0);
    CHECK(present_prefix(*db, kPairs) == kPairs);
    check_no_leaked_files(fs, "/db", *db);
    REQUIRE(db->close());
  });
}

TEST_CASE("a caller's batch holding value pointers is refused before it takes a sequence") {
  IoLoop loop;
  run_fiber(loop, [&] {
    FaultFileSystem fs;
    auto db = open_db(fs, "/db", logged_options());
    REQUIRE(db->put(key(1), big_value(1)));
    WriteBatch batch;
    batch.put(key(2), "small");
    batch.add(ValueType::kValuePointer, key(3), ValuePointer{7, 4096, 100, {}}.encode());
    CHECK(batch.has_value_pointers());
    Status s = db->write(batch);
    CHECK(s.code() == StatusCode::kInvalidArgument);
    auto absent = db->get(key(2));  // nothing of the batch was applied
    REQUIRE(absent);
    CHECK(!absent->has_value());
    // Appended or decoded, a pointer record is seen as well.
    WriteBatch outer;
    outer.put(key(4), "x");
    outer.append(batch);
    CHECK(db->write(outer).code() == StatusCode::kInvalidArgument);
    auto decoded = WriteBatch::from_contents(std::string(batch.contents()));
    REQUIRE(decoded);
    CHECK(decoded->has_value_pointers());
    CHECK(db->write(*decoded).code() == StatusCode::kInvalidArgument);
    batch.clear();
    CHECK(!batch.has_value_pointers());
    REQUIRE(db->put(key(5), big_value(5)));  // the engine's own pointers still go through
    CHECK(*db->get(key(5)) == big_value(5));
    REQUIRE(db->close());
  });
}
