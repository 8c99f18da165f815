// Values logged at write time (DBOptions::separate_at_write, engine/vlog/vlog_appender.h):
// a large value crosses the disk once, to a value-log file, and the WAL holds its pointer;
// the flush hands the table the pointer the write made. Checked here: the bytes written,
// reads before and after the flush, replay at reopen (clean, and after a power loss), the
// cut a lost value record makes (a prefix of the writes survives, no hole, no sequence
// reused), what a WAL sync needs durable first (timer, synced writes after unsynced
// ones), corruption of a record the WAL names, a full disk, the garbage accounting of
// logged files, and snapshots and value-log GC over them.
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
#include "engine/vlog/vlog_format.h"
#include "src/runtime/aligned_buffer.h"
#include "tests/support/test_seed.h"
#include "tests/unit/engine/db/db_test_util.h"

using namespace cascade;
using namespace cascade::engine;
using namespace cascade::engine::db_test;
using cascade::runtime::testing::IoLoop;
using cascade::test_support::CrashOptions;
using cascade::test_support::FaultFileSystem;

namespace {

using Model = std::map<std::string, std::string>;

constexpr std::size_t kMinBlob = 512;
constexpr WriteOptions kSynced{.sync = true, .durable_elsewhere = false};
constexpr std::size_t kBigSize = 4000;

std::string key(int i) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "key%06d", i);
  return buf;
}

std::string small_key(int i) { return "s" + key(i); }

// Incompressible, so a value-log record is about as large as its value; distinct per
// (i, round).
std::string big_value(int i, int round = 0) {
  std::mt19937_64 rng(static_cast<std::uint64_t>(i) * 1000003 + static_cast<std::uint64_t>(round));
  std::string v(kBigSize, '\0');
  for (std::size_t at = 0; at < v.size(); at += 8) {
    const std::uint64_t bits = rng();
    for (std::size_t b = 0; b < 8 && at + b < v.size(); ++b) {
      v[at + b] = static_cast<char>(bits >> (8 * b));
    }
  }
  return v;
}

std::string small_value(int i) { return "small-" + std::to_string(i) + std::string(100, 's'); }

// Flushes alone change the version (no background compaction), so the files on disk can
// be compared with the version's at any quiet moment.
DBOptions logged_options() {
  DBOptions o = small_options();
  o.min_blob_size = kMinBlob;
  o.compaction.max_background_compactions = 0;
  return o;
}

// kEverySec with a timer that never fires within a test: a write with sync=false is
// written out (WAL and value log) but not synced.
DBOptions everysec_options() {
  DBOptions o = logged_options();
  o.wal.sync_policy = WalSyncPolicy::kEverySec;
  o.wal.sync_interval = std::chrono::hours(1);
  return o;
}

std::set<std::uint64_t> vlog_files_in(runtime::FileSystem& fs, const std::string& dir) {
  auto listing = fs.list_dir(dir);
  REQUIRE_MESSAGE(listing, listing.status().to_string());
  std::set<std::uint64_t> out;
  for (const std::string& name : *listing) {
    if (name.ends_with(".vlog")) out.insert(std::stoull(name.substr(0, name.find('.'))));
  }
  return out;
}

void check_no_leaked_files(FaultFileSystem& fs, const std::string& dir, const DB& db) {
  CHECK(vlog_files_in(fs, dir) == db.kept_vlog_files());
  CHECK(table_files_in(fs, dir) == db.live_table_files());
}

std::uint64_t vlog_bytes_written_in(FaultFileSystem& fs, const std::string& dir) {
  std::uint64_t bytes = 0;
  for (std::uint64_t n : vlog_files_in(fs, dir)) {
    bytes += fs.file_counters(path_join(dir, vlog_file_name(n))).bytes_written;
  }
  return bytes;
}

// One batch per i: the big value under key(i) and a small, inline one under small_key(i),
// so a batch is replayed whole or not at all.
Status put_pair(DB& db, int i, const WriteOptions& options = {}, int round = 0) {
  WriteBatch batch;
  batch.put(key(i), big_value(i, round));
  batch.put(small_key(i), small_value(i));
  return db.write(batch, options);
}

// Whether pair i is there whole (true) or absent whole (false); anything else fails.
bool pair_present(DB& db, int i, int round = 0) {
  auto big = get_ok(db, key(i));
  auto small = get_ok(db, small_key(i));
  CAPTURE(i);
  REQUIRE(big.has_value() == small.has_value());
  if (!big) return false;
  REQUIRE(*big == big_value(i, round));
  REQUIRE(*small == small_value(i));
  return true;
}

// The pairs [0, count) must be a prefix of present ones: the count present.
int present_prefix(DB& db, int count) {
  int present = 0;
  while (present < count && pair_present(db, present)) ++present;
  for (int i = present; i < count; ++i) {
    CAPTURE(present);
    CHECK_MESSAGE(!pair_present(db, i), "pair " << i << " present after a hole at " << present);
  }
  return present;
}

// A value record: its file and its place in it.
struct RecordAt {
  std::uint64_t file = 0;
  std::uint64_t offset = 0;
  std::uint64_t size = 0;
};

// The records of the directory's value-log files in write order: files by number, records
// by offset (an appender writes them in sequence order), each file walked from its header
// until a record does not decode.
std::vector<RecordAt> records_in(FaultFileSystem& fs, const std::string& dir) {
  std::vector<RecordAt> out;
  for (std::uint64_t n : vlog_files_in(fs, dir)) {
    auto bytes = fs.contents(path_join(dir, vlog_file_name(n)));
    REQUIRE(bytes);
    std::string_view all(reinterpret_cast<const char*>(bytes->data()), bytes->size());
    std::uint64_t at = kVlogHeaderSize;
    while (at < all.size()) {
      auto record = decode_vlog_record(all.substr(at), n, at);
      if (!record) break;
      out.push_back({n, at, record->record_size});
      at += record->record_size;
    }
  }
  return out;
}

// Opens `path` to damage it as a crash or the media would.
std::unique_ptr<runtime::FileHandle> open_for_damage(FaultFileSystem& fs, const std::string& path) {
  runtime::OpenOptions o;
  o.access = runtime::OpenOptions::Access::kReadWrite;
  auto file = fs.open(path, o);
  REQUIRE_MESSAGE(file, file.status().to_string());
  return std::move(*file);
}

void check_model(DB& db, const Model& model, const Snapshot* snapshot = nullptr) {
  ReadOptions o;
  o.snapshot = snapshot;
  for (const auto& [k, v] : model) {
    auto got = get_ok(db, k, o);
    CAPTURE(k);
    REQUIRE(got.has_value());
    REQUIRE(*got == v);
  }
  auto it = db.iterator(o);
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
      const std::uint64_t all_bytes = fs.counters().files.bytes_written;
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

TEST_CASE("logged values come back at reopen, after a clean close and after a power loss") {
  constexpr int kFirst = 100;  // about 1.5 memtables: some flushed, the rest replayed
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
    CHECK(db->stats().flushes >= 1);
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

namespace {

// The cut tests' database: kCutPairs pairs, all synced and intact, over three value-log
// files, closed without a flush so the next open replays them all.
constexpr int kCutPairs = 24;

DBOptions cut_options() {
  DBOptions o = logged_options();
  o.memtable_size = 4 << 20;
  o.vlog_file_size = 40000;  // about 9 records per file
  return o;
}

// Writes the pairs, closes, and returns their records (one per pair, in write order).
std::vector<RecordAt> write_cut_database(FaultFileSystem& fs) {
  auto db = open_db(fs, "/db", cut_options());
  for (int i = 0; i < kCutPairs; ++i) REQUIRE(put_pair(*db, i));
  REQUIRE(db->close());
  std::vector<RecordAt> records = records_in(fs, "/db");
  REQUIRE(records.size() == kCutPairs);
  REQUIRE(records.back().file - records.front().file == 2);  // three files
  return records;
}

// Opens the damaged database: the pairs before `cut` are replayed, the rest are not, new
// writes take sequences past them all, and the open after that meets none of them again.
void check_cut_at(FaultFileSystem& fs, int cut) {
  CAPTURE(cut);
  // Not REQUIRE: a known failure (below) must not abort the run from inside the fiber.
  auto opened = DB::open(fs, "/db", cut_options());
  CHECK_MESSAGE(opened, opened.status().to_string());
  if (!opened) return;
  std::unique_ptr<DB> db = std::move(*opened);
  DBStats s = db->stats();
  CHECK(s.recovered_batches == static_cast<std::uint64_t>(cut));
  CHECK(s.recovered_cut_batches == static_cast<std::uint64_t>(kCutPairs - cut));
  CHECK(s.last_sequence == 2 * kCutPairs);  // past the cut batches too
  CHECK(present_prefix(*db, kCutPairs) == cut);
  check_no_leaked_files(fs, "/db", *db);  // files only cut batches named are gone

  REQUIRE(put_pair(*db, kCutPairs));
  CHECK(db->stats().last_sequence == 2 * kCutPairs + 2);
  REQUIRE(db->close());
  db = open_db(fs, "/db", cut_options());
  s = db->stats();
  CHECK(s.recovered_batches == 1);
  CHECK(s.recovered_cut_batches == 0);
  CHECK(present_prefix(*db, kCutPairs) == cut);
  CHECK(pair_present(*db, kCutPairs));
  check_no_leaked_files(fs, "/db", *db);
  REQUIRE(db->close());
}

// Zeros [from, to) of a value-log file and makes it durable.
void zero_range(FaultFileSystem& fs, std::uint64_t file, std::uint64_t from, std::uint64_t to) {
  auto handle = open_for_damage(fs, path_join("/db", vlog_file_name(file)));
  const std::vector<std::byte> zeros(to - from);
  REQUIRE(handle->write_at(from, zeros));
  REQUIRE(handle->sync());
  REQUIRE(handle->close());
}

}  // namespace

// A constructed cut: the writes are all intact and synced, then one value-log record is
// taken away as a crash would (file gone, file short, record on a page never written).
// Records before it are replayed; it and everything after, intact or not, are not.
TEST_CASE("a logged value cut off by a crash ends the replay: a prefix survives, no hole") {
  IoLoop loop;
  FaultFileSystem fs;
  run_fiber(loop, [&] {
    const std::vector<RecordAt> records = write_cut_database(fs);
    const std::uint64_t second_file = records.front().file + 1;
    int first_in_second = 0;
    while (records[first_in_second].file != second_file) ++first_in_second;
    const int damaged = first_in_second + 2;
    const RecordAt& r = records[damaged];

    SUBCASE("file missing") {  // the third file, intact, must not be replayed
      REQUIRE(fs.remove(path_join("/db", vlog_file_name(second_file))));
      check_cut_at(fs, first_in_second);
    }
    SUBCASE("file cut short") {
      auto file = open_for_damage(fs, path_join("/db", vlog_file_name(r.file)));
      REQUIRE(file->truncate(r.offset + r.size / 2));
      REQUIRE(file->sync());
      REQUIRE(file->close());
      check_cut_at(fs, damaged);
    }
    SUBCASE("first record") {  // nothing replayed: the open still flushes past the cut
      zero_range(fs, records[0].file, records[0].offset, records[0].offset + records[0].size);
      check_cut_at(fs, 0);
    }
    SUBCASE("record on a page never written") {  // the intact records after it are not replayed
      zero_range(fs, r.file, r.offset, r.offset + r.size);
      check_cut_at(fs, damaged);
    }
  });
}

// A power loss may tear a write on a 512-byte sector boundary (FaultFileSystem's default
// sector size): the record's tail from a sector boundary inside its last page reads as
// zeros, but no part of it in one page is all zeros. Such a record was never synced (a
// write acknowledged unsynced may be lost to a power loss), so it must be a cut like a
// record on a page never written.
TEST_CASE("a logged value torn on a sector boundary ends the replay") {
  IoLoop loop;
  FaultFileSystem fs;
  run_fiber(loop, [&] {
    const std::vector<RecordAt> records = write_cut_database(fs);
    // A record crossing a page boundary with more than a sector after the last one.
    int torn = 1;
    while (true) {
      REQUIRE(torn < kCutPairs);
      const RecordAt& r = records[torn];
      const std::uint64_t last_page = runtime::align_down(r.offset + r.size - 1);
      if (last_page > r.offset && r.offset + r.size - last_page > 512) break;
      ++torn;
    }
    const RecordAt& r = records[torn];
    const std::uint64_t tear = runtime::align_down(r.offset + r.size - 1) + 512;
    zero_range(fs, r.file, tear, r.offset + r.size);
    check_cut_at(fs, torn);
  });
}

// A cut as a power loss makes it under kEverySec: acknowledged writes whose values were
// only written out, in a WAL segment that the roll to the next segment synced.
TEST_CASE("a power loss after a wal segment roll cuts the replay at the first lost logged value") {
  constexpr int kDurable = 10;
  constexpr int kWrittenOut = 10;
  IoLoop loop;
  FaultFileSystem fs;
  DBOptions o = everysec_options();
  o.memtable_size = 4 << 20;
  o.wal.geometry.segment_size = 64 << 10;
  o.wal.geometry.segment_count = 8;
  run_fiber(loop, [&] {
    auto db = open_db(fs, "/db", o);
    for (int i = 0; i < kDurable; ++i) REQUIRE(put_pair(*db, i, kSynced));
    for (int i = kDurable; i < kDurable + kWrittenOut; ++i) REQUIRE(put_pair(*db, i));
    // Small inline values until the WAL leaves its first segment, syncing it.
    int fillers = 0;
    while (db->stats().wal_segments_in_use < 2) {
      REQUIRE(db->put("filler" + std::to_string(fillers), small_value(fillers)));
      ++fillers;
      REQUIRE(fillers < 1000);
    }
    const std::uint64_t wal_syncs = db->stats().wal_syncs;
    CHECK(wal_syncs >= static_cast<std::uint64_t>(kDurable + 1));  // the roll synced too
    (void)fs.simulate_crash(CrashOptions::lose_unsynced(3));
    (void)db->close();

    db = open_db(fs, "/db", o);
    DBStats s = db->stats();
    CHECK(s.recovered_batches == kDurable);
    // The unsynced pairs and the fillers the roll made durable: not replayed.
    CHECK(s.recovered_cut_batches > kWrittenOut);
    CHECK(s.recovered_cut_batches <= static_cast<std::uint64_t>(kWrittenOut + fillers));
    CHECK(s.last_sequence == 2 * (kDurable + kWrittenOut) + (s.recovered_cut_batches - kWrittenOut));
    CHECK(present_prefix(*db, kDurable + kWrittenOut) == kDurable);
    for (int f = 0; f < fillers; ++f) CHECK(get_ok(*db, "filler" + std::to_string(f)) == std::nullopt);
    check_no_leaked_files(fs, "/db", *db);

    REQUIRE(put_pair(*db, kDurable, kSynced, 1));
    REQUIRE(db->put("after", "x", kSynced));
    (void)fs.simulate_crash(CrashOptions::lose_unsynced(4));
    (void)db->close();

    db = open_db(fs, "/db", o);
    s = db->stats();
    CHECK(s.recovered_cut_batches == 0);
    CHECK(s.recovered_batches == 2);
    for (int i = 0; i < kDurable; ++i) REQUIRE(pair_present(*db, i));
    CHECK(pair_present(*db, kDurable, 1));
    for (int i = kDurable + 1; i < kDurable + kWrittenOut; ++i) CHECK(!pair_present(*db, i));
    CHECK(get_ok(*db, "after") == "x");
    check_no_leaked_files(fs, "/db", *db);
    REQUIRE(db->close());
  });
}

// A power loss that keeps an appender's file (its name was synced) but none of the WAL
// records naming it: no replay, no cut, no flush at open, and still no leaked file.
TEST_CASE("a value-log file no surviving wal record names is deleted at open") {
  IoLoop loop;
  FaultFileSystem fs;
  const DBOptions o = everysec_options();
  run_fiber(loop, [&] {
    auto db = open_db(fs, "/db", o);
    for (int i = 0; i < 5; ++i) REQUIRE(put_pair(*db, i));
    REQUIRE(vlog_files_in(fs, "/db").size() == 1);
    (void)fs.simulate_crash(CrashOptions::lose_unsynced(8));
    (void)db->close();
    REQUIRE(vlog_files_in(fs, "/db").size() == 1);  // the crash kept the file
    db = open_db(fs, "/db", o);
    CHECK(db->stats().recovered_batches == 0);
    CHECK(db->stats().recovered_cut_batches == 0);
    CHECK(vlog_files_in(fs, "/db").empty());
    CHECK(present_prefix(*db, 5) == 0);
    REQUIRE(put_pair(*db, 0, kSynced));  // a new file, whatever number it takes
    REQUIRE(db->close());
    db = open_db(fs, "/db", o);
    CHECK(pair_present(*db, 0));
    check_no_leaked_files(fs, "/db", *db);
    REQUIRE(db->close());
  });
}

// Under kEverySec the timer's WAL sync makes every record written so far durable: the
// values those records name must be durable first (WalOptions::before_timer_sync).
TEST_CASE("the everysec timer makes logged values durable before the wal records naming them") {
  constexpr int kPairs = 10;
  IoLoop loop;
  FaultFileSystem fs;
  DBOptions o = everysec_options();
  o.wal.sync_interval = std::chrono::milliseconds(20);
  run_fiber(loop, [&] {
    auto db = open_db(fs, "/db", o);
    for (int i = 0; i < kPairs; ++i) REQUIRE(put_pair(*db, i));
    const std::uint64_t syncs = db->stats().wal_syncs;
    for (int i = 0; i < 50 && db->stats().wal_syncs == syncs; ++i) {
      runtime::this_fiber::sleep_for(std::chrono::milliseconds(10));
    }
    REQUIRE(db->stats().wal_syncs > syncs);  // the timer ran
    (void)fs.simulate_crash(CrashOptions::lose_unsynced(6));
    (void)db->close();
    db = open_db(fs, "/db", o);
    CHECK(db->stats().recovered_cut_batches == 0);
    CHECK(present_prefix(*db, kPairs) == kPairs);
    REQUIRE(db->close());
  });
}

// A synced write must survive a power loss whatever came before it: its WAL sync makes
// the earlier writes' records durable too, so their logged values must be durable first,
// or the replay cuts before the synced write.
TEST_CASE("a synced write without logged values survives a power loss after unsynced logged writes") {
  IoLoop loop;
  FaultFileSystem fs;
  WriteOptions unsynced;
  DBOptions o;
  SUBCASE("everysec, then sync=true") {
    o = everysec_options();
  }
  SUBCASE("always, durable_elsewhere, then a plain write") {
    o = logged_options();
    unsynced.durable_elsewhere = true;
  }
  run_fiber(loop, [&] {
    auto db = open_db(fs, "/db", o);
    REQUIRE(put_pair(*db, 0, kSynced));
    REQUIRE(put_pair(*db, 1, unsynced));
    REQUIRE(db->put("synced", "small", kSynced));
    (void)fs.simulate_crash(CrashOptions::lose_unsynced(5));
    (void)db->close();
    db = open_db(fs, "/db", o);
    CHECK(pair_present(*db, 0));
    CHECK_MESSAGE(get_ok(*db, "synced") == "small",
                  "acknowledged synced write lost; recovered_cut_batches "
                      << db->stats().recovered_cut_batches);
    REQUIRE(db->close());
  });
}

// Power losses in the middle of writeback (each unsynced write lands, is torn on a page
// boundary or is dropped): open succeeds, every synced write is there and what is there
// is a prefix of the writes. Tears fall on 4 KiB boundaries and space a crash exposes
// reads as zeros, the model recovery assumes (engine/recovery.h): for 512-byte tears see
// the known failure above; with garbage fill, an appender's preallocation never synced
// may come back as garbage under an acknowledged unsynced record, also Corruption (real
// file systems read fallocated space as zeros). Tears fall on 4 KiB boundaries and space a crash exposes
// reads as zeros, the model recovery assumes (engine/recovery.h): with 512-byte tears see
// the known failure above; with garbage fill an appender's preallocation that was never
// synced can come back as garbage under an acknowledged, unsynced record, which is
// Corruption too (real file systems return zeros for fallocated space).
TEST_CASE("logged values after random power losses: synced writes kept, a prefix, opens cleanly") {
  const std::uint64_t seed = cascade::testing::test_seed("logged values power loss");
  CAPTURE(seed);
  constexpr int kWrites = 120;
  IoLoop loop;
  std::uint64_t cuts = 0;
  run_fiber(loop, [&] {
    for (int trial = 0; trial < 12; ++trial) {
      CAPTURE(trial);
      FaultFileSystem fs;
      const DBOptions o = everysec_options();
      auto db = open_db(fs, "/db", o);
      int synced_through = -1;
      for (int i = 0; i < kWrites; ++i) {
        const bool sync = i % 16 == 15;
        REQUIRE(put_pair(*db, i, sync ? kSynced : WriteOptions{}));
        if (sync) synced_through = i;
      }
      CrashOptions crash;
      crash.seed = seed + static_cast<std::uint64_t>(trial);
      crash.sector_size = 4096;
      crash.garbage_fill = false;  // preallocated value-log space reads as zeros
      auto report = fs.simulate_crash(crash);
      (void)db->close();
      auto reopened = DB::open(fs, "/db", o);
      REQUIRE_MESSAGE(reopened, reopened.status().to_string() << "\n" << report.log);
      db = std::move(*reopened);
      cuts += db->stats().recovered_cut_batches;
      const int present = present_prefix(*db, kWrites);
      CHECK(present > synced_through);
      check_no_leaked_files(fs, "/db", *db);
      REQUIRE(db->close());
    }
  });
  MESSAGE("cut batches over all trials: " << cuts);
  CHECK(cuts > 0);  // the scenario this test is for happened
}

TEST_CASE("a flipped bit in a logged value the wal names fails open with corruption") {
  constexpr int kCount = 12;
  constexpr int kDamaged = 5;
  IoLoop loop;
  FaultFileSystem fs;
  DBOptions o = logged_options();
  o.memtable_size = 4 << 20;
  run_fiber(loop, [&] {
    auto db = open_db(fs, "/db", o);
    for (int i = 0; i < kCount; ++i) REQUIRE(put_pair(*db, i));
    REQUIRE(db->close());
    const std::vector<RecordAt> records = records_in(fs, "/db");
    REQUIRE(records.size() == kCount);
    const RecordAt& r = records[kDamaged];
    REQUIRE(fs.inject_bit_flip(path_join("/db", vlog_file_name(r.file)), r.offset + r.size / 2, 3));

    auto strict = DB::open(fs, "/db", o);
    REQUIRE(!strict);
    CHECK_MESSAGE(strict.error().is_corruption(), strict.error().to_string());
    auto again = DB::open(fs, "/db", o);  // the failed open changed nothing
    REQUIRE(!again);
    CHECK(again.error().is_corruption());

    // Tolerant recovery takes the damage for a cut instead.
    DBOptions tolerant = o;
    tolerant.tolerant_wal_recovery = true;
    db = open_db(fs, "/db", tolerant);
    CHECK(db->stats().recovered_cut_batches == kCount - kDamaged);
    CHECK(present_prefix(*db, kCount) == kDamaged);
    REQUIRE(db->close());
  });
}

TEST_CASE("logged values on a full disk: NoSpace before a sequence is taken, writable once space returns") {
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
    for (const auto& [k, v] : acked) {
      CAPTURE(k);
      CHECK(get_ok(*db, k) == v);
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

namespace {

// Forwards to a FaultFileSystem; after the next successful sync of a value-log file it runs
// `after_vlog_sync` once, inside that sync call (so inside whatever fiber synced).
class VlogSyncHookFileSystem final : public runtime::FileSystem {
 public:
  explicit VlogSyncHookFileSystem(FaultFileSystem& base) : base_(base) {}

  std::function<void()> after_vlog_sync;

  Result<std::unique_ptr<runtime::FileHandle>> open(const std::string& path,
                                                    const runtime::OpenOptions& options) override {
    auto file = base_.open(path, options);
    if (!file) return file.error();
    if (!path.ends_with(".vlog")) return std::move(*file);
    return std::unique_ptr<runtime::FileHandle>(new Handle(*this, std::move(*file)));
  }
  Status rename(const std::string& from, const std::string& to) override {
    return base_.rename(from, to);
  }
  Status remove(const std::string& path) override { return base_.remove(path); }
  Status link(const std::string& existing, const std::string& new_path) override {
    return base_.link(existing, new_path);
  }
  Status make_dir(const std::string& path) override { return base_.make_dir(path); }
  Status remove_dir(const std::string& path) override { return base_.remove_dir(path); }
  Status sync_dir(const std::string& path) override { return base_.sync_dir(path); }
  Result<std::vector<std::string>> list_dir(const std::string& path) override {
    return base_.list_dir(path);
  }
  Result<bool> exists(const std::string& path) override { return base_.exists(path); }

 private:
  class Handle final : public runtime::FileHandle {
   public:
    Handle(VlogSyncHookFileSystem& fs, std::unique_ptr<runtime::FileHandle> base)
        : fs_(fs), base_(std::move(base)) {}
    Result<std::size_t> read_at(std::uint64_t offset, std::span<std::byte> buffer) override {
      return base_->read_at(offset, buffer);
    }
    std::uint32_t read_alignment() const override { return base_->read_alignment(); }
    Status write_at(std::uint64_t offset, std::span<const std::byte> data) override {
      return base_->write_at(offset, data);
    }
    Status sync() override {
      Status s = base_->sync();
      if (s && fs_.after_vlog_sync) {
        auto hook = std::move(fs_.after_vlog_sync);
        fs_.after_vlog_sync = nullptr;
        hook();
      }
      return s;
    }
    Status write_durable_at(std::uint64_t offset, std::span<const std::byte> data) override {
      return base_->write_durable_at(offset, data);
    }
    Status write_buffered_at(std::uint64_t offset, std::span<const std::byte> data) override {
      return base_->write_buffered_at(offset, data);
    }
    Status allocate(std::uint64_t offset, std::uint64_t length) override {
      return base_->allocate(offset, length);
    }
    Status truncate(std::uint64_t size) override { return base_->truncate(size); }
    Result<std::uint64_t> size() override { return base_->size(); }
    Status close() override { return base_->close(); }
    const std::string& path() const override { return base_->path(); }

   private:
    VlogSyncHookFileSystem& fs_;
    std::unique_ptr<runtime::FileHandle> base_;
  };

  FaultFileSystem& base_;
};

}  // namespace

// The everysec timer syncs the values first, then the WAL. A write landing in between (its
// value written out after the values' sync, its WAL record synced by the same tick) leaves
// the WAL with nothing to do: the timer must still run until the value is synced, or a
// power loss any time later keeps the record and loses the value (a cut).
TEST_CASE("the everysec timer keeps running until logged values are synced") {
  IoLoop loop;
  FaultFileSystem fs;
  VlogSyncHookFileSystem hooked(fs);
  DBOptions o = everysec_options();
  o.wal.sync_interval = std::chrono::milliseconds(20);
  run_fiber(loop, [&] {
    auto db = open_db(hooked, "/db", o);
    REQUIRE(put_pair(*db, 0));  // starts the timer
    bool ran = false;
    Status put_status;
    // The timer's first tick: right after it synced the values, pair 1 is written (and its
    // WAL record written out) before the tick goes on to sync the WAL.
    hooked.after_vlog_sync = [&] {
      runtime::SpawnOptions spawn;
      spawn.stack = runtime::StackSize::kLarge;
      runtime::Scheduler::current()
          ->spawn([&] { put_status = put_pair(*db, 1); }, spawn)
          .join();
      ran = true;
    };
    for (int i = 0; i < 50 && !ran; ++i) runtime::this_fiber::sleep_for(std::chrono::milliseconds(5));
    REQUIRE(ran);
    REQUIRE(put_status);
    // No more writes: a few intervals for the timer.
    runtime::this_fiber::sleep_for(std::chrono::milliseconds(100));
    (void)fs.simulate_crash(CrashOptions::lose_unsynced(7));
    (void)db->close();

    db = open_db(fs, "/db", o);
    CHECK(db->stats().recovered_cut_batches == 0);
    CHECK(present_prefix(*db, 2) == 2);
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

// A crash leaves whole sectors unwritten: the cut test wants one entire sector of zeros.
// A zero run at a record's end that shares its sector with the next record's bytes is no
// unwritten sector, so with a flipped byte elsewhere the record is damaged: Corruption.
TEST_CASE("a partial zero sector at a logged record's end with damage elsewhere is corruption") {
  IoLoop loop;
  FaultFileSystem fs;
  run_fiber(loop, [&] {
    const std::vector<RecordAt> records = write_cut_database(fs);
    // A record followed in its file by the next one, ending well inside a sector.
    int damaged = 1;
    while (true) {
      REQUIRE(damaged + 1 < kCutPairs);
      const RecordAt& r = records[damaged];
      const std::uint64_t end = r.offset + r.size;
      if (records[damaged + 1].file == r.file && end % 512 >= 64 && end % 512 <= 448) break;
      ++damaged;
    }
    const RecordAt& r = records[damaged];
    const std::uint64_t end = r.offset + r.size;
    const std::uint64_t sector = end / 512 * 512;
    REQUIRE(sector > r.offset + 1024);

    SUBCASE("the record's part of its last sector zeroed, a byte flipped: corruption") {
      zero_range(fs, r.file, sector, end);  // the rest of the sector: the next record's
      REQUIRE(fs.inject_bit_flip(path_join("/db", vlog_file_name(r.file)), r.offset + 600, 2));
      auto opened = DB::open(fs, "/db", cut_options());
      CHECK_MESSAGE(!opened, "opened, recovered_cut_batches "
                                 << (opened ? (*opened)->stats().recovered_cut_batches : 0));
      if (opened) {
        (void)(*opened)->close();
        return;
      }
      CHECK_MESSAGE(opened.error().is_corruption(), opened.error().to_string());
    }
    SUBCASE("the whole last sector zeroed, a byte flipped: still a cut") {
      zero_range(fs, r.file, sector, sector + 512);
      REQUIRE(fs.inject_bit_flip(path_join("/db", vlog_file_name(r.file)), r.offset + 600, 2));
      check_cut_at(fs, damaged);
    }
  });
}
