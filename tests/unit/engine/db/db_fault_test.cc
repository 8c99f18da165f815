// Faults the engine must report, never hide: a flipped bit in a table or in an
// acknowledged WAL record is Corruption; a full disk fails writes with NoSpace while reads
// go on, and loses nothing acknowledged.
#include <doctest/doctest.h>

#include <chrono>
#include <string>

#include "engine/db.h"
#include "engine/table_cache.h"
#include "src/runtime/fiber.h"
#include "tests/unit/engine/db/db_test_util.h"

using namespace cascade;
using namespace cascade::engine;
using namespace cascade::engine::db_test;
using cascade::runtime::testing::IoLoop;
using cascade::test_support::FaultFileSystem;

namespace {

std::string key(int i) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "key%06d", i);
  return buf;
}

// Writes `value` under key(0), key(1)... until the disk, limited to 8 KiB past what the
// engine holds after a flush (the WAL is preallocated; tables are not), refuses one;
// returns that refusal and sets `acked` to the number acknowledged.
Status fill_until_refused(DB& db, FaultFileSystem& fs, const std::string& value, int& acked) {
  acked = 0;
  for (; acked < 300; ++acked) REQUIRE(db.put(key(acked), value));
  REQUIRE(db.flush());
  fs.set_space_limit(fs.used_bytes() + 8192);
  Status failed;
  for (int i = 0; i < 5000 && failed.is_ok(); ++i) {
    failed = db.put(key(acked), value);
    if (failed) ++acked;
  }
  return failed;
}

}  // namespace

TEST_CASE("db reports a flipped bit in a table block as corruption, on get and scan") {
  IoLoop loop;
  FaultFileSystem fs;
  run_fiber(loop, [&] {
    auto db = open_db(fs, "/db", small_options());
    for (int i = 0; i < 500; ++i) REQUIRE(db->put(key(i), std::string(100, 'v')));
    REQUIRE(db->flush());
    auto files = db->stats();
    REQUIRE(files.level0_files == 1);
    REQUIRE(db->close());
    // The first data block is the table's first page; table file numbers start above the
    // manifest's, so find it by listing.
    auto names = fs.list_dir("/db");
    REQUIRE(names);
    std::string table;
    for (const auto& n : *names) {
      if (n.size() > 4 && n.substr(n.size() - 4) == ".sst") table = n;
    }
    REQUIRE(!table.empty());
    REQUIRE(fs.inject_bit_flip("/db/" + table, 200, 3));

    db = open_db(fs, "/db", small_options());
    auto got = db->get(key(0));
    REQUIRE(!got);
    CHECK(got.error().is_corruption());
    auto it = db->iterator();
    it->seek_to_first();
    CHECK(!it->valid());
    CHECK(it->status().is_corruption());
    it.reset();
    REQUIRE(db->close());
  });
}

TEST_CASE("db open fails with corruption on a flipped bit in a middle wal record") {
  IoLoop loop;
  FaultFileSystem fs;
  run_fiber(loop, [&] {
    auto db = open_db(fs, "/db", small_options());
    // One synced write per group: record i sits at page i + 1 of the first segment.
    for (int i = 0; i < 100; ++i) REQUIRE(db->put(key(i), "value", {.sync = true}));
    REQUIRE(db->close());
    REQUIRE(fs.inject_bit_flip("/db/wal-000.log", 50 * 4096 + 30, 1));
    auto reopened = DB::open(fs, "/db", small_options());
    REQUIRE(!reopened);
    CHECK(reopened.error().is_corruption());
  });
}

// Values logged in the WAL, so the disk fills when a flush writes a table.
TEST_CASE("db on a full disk fails writes with NoSpace, keeps reads and loses nothing acknowledged") {
  IoLoop loop;
  FaultFileSystem fs;
  run_fiber(loop, [&] {
    DBOptions options = small_options();
    options.separate_at_write = false;
    auto db = open_db(fs, "/db", options);
    const std::string value(1000, 'd');
    int acked = 0;
    Status failed = fill_until_refused(*db, fs, value, acked);
    REQUIRE(!failed.is_ok());
    CHECK_MESSAGE(failed.is_no_space(), failed.to_string());
    CHECK(db->stats().flush_failures >= 1);
    for (int i = 0; i < acked; i += 7) CHECK(get_ok(*db, key(i)) == value);
    REQUIRE(db->close());

    fs.set_space_limit(std::nullopt);
    db = open_db(fs, "/db", options);
    for (int i = 0; i < acked; ++i) REQUIRE(get_ok(*db, key(i)) == value);
    CHECK(get_ok(*db, key(acked)) == std::nullopt);
    REQUIRE(db->put("after", "x"));
    REQUIRE(db->flush());
    REQUIRE(db->close());
  });
}

TEST_CASE("a decided write lands on a full disk: a full memtable takes it, its large values stay in the WAL record") {
  IoLoop loop;
  FaultFileSystem fs;
  run_fiber(loop, [&] {
    DBOptions options = small_options();
    options.min_blob_size = 2048;  // the filling values stay inline; the large one is logged
    auto db = open_db(fs, "/db", options);
    const std::string value(1000, 'd');
    CHECK(db->accepts_writes());
    int acked = 0;
    REQUIRE(fill_until_refused(*db, fs, value, acked).is_no_space());
    CHECK_FALSE(db->accepts_writes());
    CHECK(db->put("plain", "x").is_no_space());

    const auto table_files = table_files_in(fs, "/db");
    const std::string large(8000, 'L');  // past min_blob_size: a value-log record
    CHECK(db->put("decided-small", "s", WriteOptions{.decided = true}));
    CHECK(db->put("decided-large", large, WriteOptions{.decided = true}));
    CHECK(get_ok(*db, "decided-small") == "s");
    CHECK(get_ok(*db, "decided-large") == large);
    CHECK(table_files_in(fs, "/db") == table_files);  // no flush landed meanwhile
    CHECK_FALSE(db->accepts_writes());
    REQUIRE(db->close());

    fs.set_space_limit(std::nullopt);
    db = open_db(fs, "/db", options);
    CHECK(db->accepts_writes());
    CHECK(get_ok(*db, "decided-small") == "s");
    CHECK(get_ok(*db, "decided-large") == large);
    for (int i = 0; i < acked; i += 7) CHECK(get_ok(*db, key(i)) == value);
    CHECK(get_ok(*db, "plain") == std::nullopt);
    REQUIRE(db->close());
  });
}

TEST_CASE("decided writes that would wait for a WAL segment on a full disk are given up, and the engine acknowledges nothing more") {
  IoLoop loop;
  FaultFileSystem fs;
  run_fiber(loop, [&] {
    DBOptions options = small_options();
    options.separate_at_write = false;
    auto db = open_db(fs, "/db", options);
    const std::string value(1000, 'd');
    REQUIRE(db->put("before", "b"));
    int acked = 0;
    REQUIRE(fill_until_refused(*db, fs, value, acked).is_no_space());
    // Decided writes overfill the memtable until the WAL would need a segment that only a
    // flush could free (4 segments of 4 MiB: at most ~16k of them).
    int decided = 0;
    Status given_up;
    for (; decided < 20000; ++decided) {
      given_up = db->put("decided" + std::to_string(decided), value, WriteOptions{.decided = true});
      if (!given_up) break;
    }
    REQUIRE_MESSAGE(given_up.is_no_space(), given_up.to_string());
    CHECK(decided > 100);
    CHECK_FALSE(db->accepts_writes());
    fs.set_space_limit(std::nullopt);  // even with room again: nothing until a reopen
    CHECK_FALSE(db->put("plain", "x"));
    CHECK_FALSE(db->put("decided-late", "x", WriteOptions{.decided = true}));
    CHECK(get_ok(*db, "decided0") == value);
    (void)db->close();  // returns: nothing waits for a segment

    // Reopened on a disk still full, the replayed WAL holds every segment: a decided write
    // (recovery writes parts so) waits for the flush that would free one and, as it fails,
    // is refused; it never waits inside the WAL (run_fiber's bound would catch that).
    fs.set_space_limit(fs.used_bytes() + 8192);
    if (auto full = DB::open(fs, "/db", options)) {
      const Status s = (*full)->put("after-reopen", value, WriteOptions{.decided = true});
      CHECK_MESSAGE((s.is_ok() || s.is_no_space()), s.to_string());
      (void)(*full)->close();
    }
    fs.set_space_limit(std::nullopt);

    db = open_db(fs, "/db", options);
    CHECK(db->accepts_writes());
    CHECK(get_ok(*db, "before") == "b");
    for (int i = 0; i < decided; i += 97) CHECK(get_ok(*db, "decided" + std::to_string(i)) == value);
    CHECK(get_ok(*db, "decided" + std::to_string(decided)) == std::nullopt);
    CHECK(get_ok(*db, "plain") == std::nullopt);
    REQUIRE(db->put("after", "x"));
    REQUIRE(db->close());
  });
}

TEST_CASE("a flush retried after a full disk counts its values' compression once") {
  IoLoop loop;
  FaultFileSystem fs;
  run_fiber(loop, [&] {
    DBOptions options = small_options();
    options.separate_at_write = false;  // the flush's separator compresses the values
    options.memtable_size = 4 << 20;    // all of them in one memtable
    auto db = open_db(fs, "/db", options);
    constexpr int kValues = 200;
    const std::string value(1000, 'c');  // past min_blob_size, compresses
    for (int i = 0; i < kValues; ++i) REQUIRE(db->put(key(i), value));
    REQUIRE(db->stats().flushes == 0);
    fs.set_space_limit(fs.used_bytes() + 8192);  // room for neither table nor value file
    CHECK(db->flush().is_no_space());
    // Let the flusher fail again at least once more.
    runtime::this_fiber::sleep_for(3 * kFlushRetryInterval);
    CHECK(db->stats().flush_failures >= 2);
    CHECK(db->stats().vlog_values_compressed == 0);  // nothing landed yet
    fs.set_space_limit(std::nullopt);
    // The flusher retries on its own every kFlushRetryInterval.
    for (int i = 0; i < 200 && db->stats().flushes == 0; ++i) {
      runtime::this_fiber::sleep_for(std::chrono::milliseconds(20));
    }
    REQUIRE(db->stats().flushes == 1);
    CHECK(db->stats().vlog_values_compressed == kValues);
    for (int i = 0; i < kValues; i += 13) CHECK(get_ok(*db, key(i)) == value);
    REQUIRE(db->close());
  });
}
