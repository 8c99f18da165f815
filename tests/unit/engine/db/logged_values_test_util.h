// Helpers of the logged-values tests (db_logged_values_test.cc and
// db_logged_values_crash_test.cc): keys and values, options, the files on disk, the
// pairs of a big and a small value written as one batch, the records of the value-log
// files, and the database the cut tests damage.
#pragma once


#include <algorithm>
#include <chrono>
#include <map>
#include <random>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "engine/db.h"
#include "engine/version/file_names.h"
#include "engine/vlog/vlog_format.h"
#include "src/runtime/aligned_buffer.h"
#include "tests/support/test_seed.h"
#include "tests/unit/engine/db/db_test_util.h"


namespace cascade::engine::logged_test {

using namespace cascade::engine::db_test;
using cascade::runtime::testing::IoLoop;
using cascade::test_support::CrashOptions;
using cascade::test_support::FaultFileSystem;


using Model = std::map<std::string, std::string>;

constexpr std::size_t kMinBlob = 512;
constexpr WriteOptions kSynced{.sync = true, .durable_elsewhere = false};
constexpr std::size_t kBigSize = 4000;

inline std::string key(int i) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "key%06d", i);
  return buf;
}

inline std::string small_key(int i) { return "s" + key(i); }

// Incompressible, so a value-log record is about as large as its value; distinct per
// (i, round).
inline std::string big_value(int i, int round = 0) {
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

// `size` bytes that zstd shrinks well (a short repeating alphabet walk).
inline std::string compressible_value(std::size_t size) {
  std::string v(size, '\0');
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<char>('a' + (i * 7) % 26);
  return v;
}

inline std::string small_value(int i) {
  return "small-" + std::to_string(i) + std::string(100, 's');
}

// Flushes alone change the version (no background compaction), so the files on disk can
// be compared with the version's at any quiet moment.
inline DBOptions logged_options() {
  DBOptions o = small_options();
  o.min_blob_size = kMinBlob;
  o.compaction.max_background_compactions = 0;
  return o;
}

// kEverySec with a timer that never fires within a test: a write with sync=false is
// written out (WAL and value log) but not synced.
inline DBOptions everysec_options() {
  DBOptions o = logged_options();
  o.wal.sync_policy = WalSyncPolicy::kEverySec;
  o.wal.sync_interval = std::chrono::hours(1);
  return o;
}

inline std::set<std::uint64_t> vlog_files_in(runtime::FileSystem& fs, const std::string& dir) {
  auto listing = fs.list_dir(dir);
  REQUIRE_MESSAGE(listing, listing.status().to_string());
  std::set<std::uint64_t> out;
  for (const std::string& name : *listing) {
    if (name.ends_with(".vlog")) out.insert(std::stoull(name.substr(0, name.find('.'))));
  }
  return out;
}

inline void check_no_leaked_files(FaultFileSystem& fs, const std::string& dir, const DB& db) {
  CHECK(vlog_files_in(fs, dir) == db.kept_vlog_files());
  CHECK(table_files_in(fs, dir) == db.live_table_files());
}

inline std::uint64_t vlog_bytes_written_in(FaultFileSystem& fs, const std::string& dir) {
  std::uint64_t bytes = 0;
  for (std::uint64_t n : vlog_files_in(fs, dir)) {
    bytes += fs.file_counters(path_join(dir, vlog_file_name(n))).bytes_written;
  }
  return bytes;
}

// One batch per i: the big value under key(i) and a small, inline one under small_key(i),
// so a batch is replayed whole or not at all.
inline Status put_pair(DB& db, int i, const WriteOptions& options = {}, int round = 0) {
  WriteBatch batch;
  batch.put(key(i), big_value(i, round));
  batch.put(small_key(i), small_value(i));
  return db.write(batch, options);
}

// Whether pair i is there whole (true) or absent whole (false); anything else fails.
inline bool pair_present(DB& db, int i, int round = 0) {
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
inline int present_prefix(DB& db, int count) {
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
inline std::vector<RecordAt> records_in(FaultFileSystem& fs, const std::string& dir) {
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
inline std::unique_ptr<runtime::FileHandle> open_for_damage(FaultFileSystem& fs,
                                                            const std::string& path) {
  runtime::OpenOptions o;
  o.access = runtime::OpenOptions::Access::kReadWrite;
  auto file = fs.open(path, o);
  REQUIRE_MESSAGE(file, file.status().to_string());
  return std::move(*file);
}

// The cut tests' database: kCutPairs pairs, all synced and intact, over three value-log
// files, closed without a flush so the next open replays them all.
constexpr int kCutPairs = 24;

inline DBOptions cut_options() {
  DBOptions o = logged_options();
  o.memtable_size = 4 << 20;
  o.vlog_file_size = 40000;  // about 9 records per file
  return o;
}

// Writes the pairs, closes, and returns their records (one per pair, in write order).
inline std::vector<RecordAt> write_cut_database(FaultFileSystem& fs) {
  auto db = open_db(fs, "/db", cut_options());
  for (int i = 0; i < kCutPairs; ++i) REQUIRE(put_pair(*db, i));
  REQUIRE(db->close());
  std::vector<RecordAt> records = records_in(fs, "/db");
  REQUIRE(records.size() == kCutPairs);
  REQUIRE(records.back().file - records.front().file == 2);  // three files
  return records;
}

// The first record after the first (between 1 and kCutPairs - 2, so it has a neighbour on
// each side) that `wanted(index)` accepts; the test fails if none does.
template <typename Pred>
int first_record_where(Pred wanted) {
  for (int i = 1; i + 1 < kCutPairs; ++i) {
    if (wanted(i)) return i;
  }
  FAIL("no record of the cut database fits");
  return 0;
}

// Opens the damaged database: the pairs before `cut` are replayed, the rest are not, new
// writes take sequences past them all, and the open after that meets none of them again.
inline void check_cut_at(FaultFileSystem& fs, int cut) {
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
inline void zero_range(FaultFileSystem& fs, std::uint64_t file, std::uint64_t from,
                       std::uint64_t to) {
  auto handle = open_for_damage(fs, path_join("/db", vlog_file_name(file)));
  const std::vector<std::byte> zeros(to - from);
  REQUIRE(handle->write_at(from, zeros));
  REQUIRE(handle->sync());
  REQUIRE(handle->close());
}

// The bytes [from, to) of a value-log file (fewer where the file ends first).
inline std::string read_file_range(FaultFileSystem& fs, std::uint64_t file, std::uint64_t from,
                                   std::uint64_t to) {
  auto handle = open_for_damage(fs, path_join("/db", vlog_file_name(file)));
  std::string out(to - from, '\0');
  auto n = handle->read_at(from, std::as_writable_bytes(std::span(out)));
  REQUIRE(n);
  out.resize(*n);
  REQUIRE(handle->close());
  return out;
}

}  // namespace cascade::engine::logged_test
