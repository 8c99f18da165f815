// The engine's basic contract: puts, deletes and gets, across flushes and reopen.
#include <doctest/doctest.h>

#include <random>

#include "engine/db.h"
#include "engine/memtable/arena.h"
#include "tests/unit/engine/db/db_test_util.h"

using namespace cascade;
using namespace cascade::engine;
using namespace cascade::engine::db_test;
using cascade::runtime::testing::IoLoop;
using cascade::test_support::FaultFileSystem;

// Both ways a reopen finds the data: replayed from the WAL (flush_on_close off), or from
// the level-0 table close() flushed (on, the default), with no WAL record left to replay.
TEST_CASE("db put, get and delete see the newest write, in the memtable and after reopen") {
  for (bool flush_on_close : {false, true}) {
    CAPTURE(flush_on_close);
    IoLoop loop;
    FaultFileSystem fs;
    DBOptions options = small_options();
    options.flush_on_close = flush_on_close;
    run_fiber(loop, [&] {
      auto db = open_db(fs, "/db", options);
      CHECK(get_ok(*db, "a") == std::nullopt);
      REQUIRE(db->put("a", "1"));
      REQUIRE(db->put("b", ""));
      REQUIRE(db->put("a", "2"));
      REQUIRE(db->del("c"));
      CHECK(get_ok(*db, "a") == "2");
      CHECK(get_ok(*db, "b") == "");
      CHECK(get_ok(*db, "c") == std::nullopt);
      REQUIRE(db->del("a", {.sync = true}));
      CHECK(get_ok(*db, "a") == std::nullopt);
      CHECK(db->stats().last_sequence == 5);
      CHECK(db->stats().flushes == 0);
      REQUIRE(db->close());

      db = open_db(fs, "/db", options);
      const DBStats s = db->stats();
      CHECK(s.recovered_batches == (flush_on_close ? 0 : 5));
      CHECK(s.level0_files == (flush_on_close ? 1 : 0));
      CHECK(s.memtable_entries == (flush_on_close ? 0 : 5));
      CHECK(s.last_sequence == 5);
      CHECK(get_ok(*db, "a") == std::nullopt);
      CHECK(get_ok(*db, "b") == "");
      REQUIRE(db->put("a", "3"));
      CHECK(db->stats().last_sequence == 6);
      REQUIRE(db->close());

      db = open_db(fs, "/db", options);
      CHECK(get_ok(*db, "a") == "3");
      CHECK(db->stats().last_sequence == 6);
      REQUIRE(db->close());
    });
  }
}

TEST_CASE("db reads find flushed data in level-0 tables, newest table first") {
  IoLoop loop;
  FaultFileSystem fs;
  run_fiber(loop, [&] {
    auto db = open_db(fs, "/db", small_options());
    REQUIRE(db->put("k", "old"));
    REQUIRE(db->put("gone", "x"));
    REQUIRE(db->flush());
    REQUIRE(db->put("k", "new"));
    REQUIRE(db->del("gone"));
    REQUIRE(db->flush());
    DBStats s = db->stats();
    CHECK(s.level0_files == 2);
    CHECK(s.flushes == 2);
    CHECK(s.memtable_entries == 0);
    CHECK(get_ok(*db, "k") == "new");
    CHECK(get_ok(*db, "gone") == std::nullopt);
    REQUIRE(db->close());

    db = open_db(fs, "/db", small_options());
    CHECK(db->stats().recovered_batches == 0);  // everything was flushed
    CHECK(get_ok(*db, "k") == "new");
    CHECK(get_ok(*db, "gone") == std::nullopt);
    auto it = db->iterator();
    it->seek_to_first();
    REQUIRE(it->valid());
    CHECK(it->key() == "k");
    CHECK(it->value() == "new");
    it->next();
    CHECK(!it->valid());
    REQUIRE(it->status());
    it.reset();
    REQUIRE(db->close());
  });
}

TEST_CASE("db keeps writing into a fresh memtable while full ones flush in the background") {
  IoLoop loop;
  FaultFileSystem fs;
  fs.set_yield_on_io(true);
  run_fiber(loop, [&] {
    DBOptions options = small_options();
    options.compaction.max_background_compactions = 0;  // every flush stays an L0 table
    auto db = open_db(fs, "/db", options);
    const std::string value(1000, 'v');
    for (int i = 0; i < 2000; ++i) REQUIRE(db->put("key" + std::to_string(i), value));
    REQUIRE(db->wait_for_flushes());
    DBStats s = db->stats();
    CHECK(s.flushes >= 5);
    CHECK(s.level0_files == s.flushes);
    for (int i = 0; i < 2000; i += 97) CHECK(get_ok(*db, "key" + std::to_string(i)) == value);
    REQUIRE(db->close());
  });
}

TEST_CASE("db keeps a flushed memtable's 2 MiB blocks for the next, up to the memtable size") {
  IoLoop loop;
  FaultFileSystem fs;
  run_fiber(loop, [&] {
    DBOptions options = small_options();
    options.memtable_size = 8 << 20;  // past Arena::kHugeAfter: the arena takes huge blocks
    options.wal.geometry.segment_size = 8 << 20;
    options.compaction.max_background_compactions = 0;
    auto db = open_db(fs, "/db", options);
    CHECK(db->stats().memtable_pool_bytes == 0);
    const std::string value(1000, 'p');
    int i = 0;
    while (db->stats().flushes == 0 && i < 20000) {
      REQUIRE(db->put("key" + std::to_string(i++), value));
    }
    REQUIRE(db->wait_for_flushes());
    DBStats s = db->stats();
    REQUIRE(s.flushes >= 1);
    // The flushed memtable's huge blocks wait in the pool, within its capacity.
    CHECK(s.memtable_pool_bytes >= Arena::kHugeBlockSize);
    CHECK(s.memtable_pool_bytes <= options.memtable_size);
    // A smaller memtable size shrinks what the pool may keep.
    db->set_memtable_size(Arena::kHugeBlockSize);
    CHECK(db->stats().memtable_pool_bytes <= Arena::kHugeBlockSize);
    REQUIRE(db->close());
  });
}

TEST_CASE("db removes a table no version names when it opens") {
  IoLoop loop;
  FaultFileSystem fs;
  run_fiber(loop, [&] {
    auto db = open_db(fs, "/db", small_options());
    REQUIRE(db->put("a", "1"));
    REQUIRE(db->close());
    {
      runtime::OpenOptions o = runtime::OpenOptions::read_write_create();
      auto f = fs.open("/db/000900.sst", o);
      REQUIRE(f);
      REQUIRE((*f)->close());
    }
    db = open_db(fs, "/db", small_options());
    CHECK(db->stats().obsolete_files_deleted >= 1);
    auto exists = fs.exists("/db/000900.sst");
    REQUIRE(exists);
    CHECK(!*exists);
    REQUIRE(db->close());
  });
}

TEST_CASE("live settings: memtable size, blob threshold and cache capacity apply from then on") {
  IoLoop loop;
  FaultFileSystem fs;
  run_fiber(loop, [&] {
    DBOptions options = small_options();
    options.memtable_size = 64 << 20;  // nothing flushes by size
    options.min_blob_size = kNeverSeparate;
    options.block_cache_size = 4 << 20;
    options.compaction.max_background_compactions = 0;
    auto db = open_db(fs, "/db", options);
    std::string value(2000, '\0');  // incompressible: sizes on disk as written
    std::mt19937_64 rng(7);
    for (char& c : value) c = static_cast<char>(rng());
    for (int i = 0; i < 200; ++i) REQUIRE(db->put("key" + std::to_string(i), value));
    REQUIRE(db->wait_for_flushes());
    CHECK(db->stats().flushes == 0);

    // A smaller memtable: the next write finds it full and switches.
    db->set_memtable_size(64 << 10);
    CHECK(db->memtable_size() == std::size_t{64} << 10);
    REQUIRE(db->put("one more", value));
    REQUIRE(db->wait_for_flushes());
    CHECK(db->stats().flushes >= 1);
    CHECK(db->stats().vlog_files == 0);  // every value stayed inline
    // The memtables made from then on are sized for the new target, their point index
    // included (an index sized for the old one would fill the target by itself, and every
    // write would switch): small writes share one.
    // (1 MiB here: below the arena's 64 KiB block every write fills a memtable anyway.)
    db->set_memtable_size(1 << 20);
    REQUIRE(db->flush());  // a new memtable, made for 1 MiB
    const std::uint64_t after_shrink = db->stats().flushes;
    for (int i = 0; i < 20; ++i) REQUIRE(db->put("small" + std::to_string(i), "v"));
    REQUIRE(db->wait_for_flushes());
    CHECK(db->stats().flushes == after_shrink);
    CHECK(db->stats().memtable_index_bytes == (1u << 20) / 8);

    // A blob threshold: the next flush separates values of 512 bytes and more.
    db->set_min_blob_size(512);
    for (int i = 200; i < 260; ++i) REQUIRE(db->put("key" + std::to_string(i), value));
    REQUIRE(db->flush());
    CHECK(db->stats().vlog_files >= 1);
    CHECK(db->stats().vlog_live_bytes >= 60 * 2000);

    // Reads fill the cache; shrinking it evicts at once.
    for (int i = 0; i < 260; ++i) CHECK(get_ok(*db, "key" + std::to_string(i)) == value);
    CHECK(db->stats().block_cache_usage > (64u << 10));
    db->set_block_cache_size(64 << 10);
    CHECK(db->stats().block_cache_usage <= (64u << 10));
    for (int i = 0; i < 260; i += 13) CHECK(get_ok(*db, "key" + std::to_string(i)) == value);

    db->set_compaction_rate_limit(1 << 20);
    CHECK(db->stats().compaction_rate_limit == 1u << 20);
    REQUIRE(db->close());
  });
}

TEST_CASE("db begun writes are readable unacknowledged, visible once finished, in order") {
  IoLoop loop;
  FaultFileSystem fs;
  fs.set_yield_on_io(true);
  run_fiber(loop, [&] {
    auto db = open_db(fs, "/db", small_options());
    REQUIRE(db->put("k", "0"));
    const ReadOptions latest{.unacknowledged = true};
    WriteBatch first;
    first.put("k", "1");
    auto one = db->begin_write(first);
    REQUIRE(one);
    CHECK(get_ok(*db, "k") == "0");  // readers see only acknowledged writes
    auto read = db->get("k", latest);
    REQUIRE(read);
    CHECK(*read == "1");  // a lock holder builds on it
    CHECK(db->last_inserted() == one->last);
    // A second writer of the key, begun before the first finished: its turn comes after.
    WriteBatch second;
    second.put("k", "2");
    auto two = db->begin_write(second);
    REQUIRE(two);
    bool visible_waited = false;
    runtime::WaitGroup waiter;
    waiter.add();
    runtime::Scheduler::current()->spawn([&] {
      db->wait_visible(two->last);
      visible_waited = true;
      CHECK(get_ok(*db, "k") == "2");
      waiter.done();
    });
    bool second_done = false;
    waiter.add();
    runtime::Scheduler::current()->spawn([&] {
      REQUIRE(db->finish_write(*two));
      second_done = true;
      waiter.done();
    });
    for (int i = 0; i < 50; ++i) runtime::Scheduler::current()->yield();
    CHECK_FALSE(second_done);  // its turn waits for the first
    CHECK_FALSE(visible_waited);
    CHECK(get_ok(*db, "k") == "0");
    REQUIRE(db->finish_write(*one));
    waiter.wait();
    CHECK(second_done);
    CHECK(visible_waited);
    REQUIRE(db->close());
    db = open_db(fs, "/db", small_options());
    CHECK(get_ok(*db, "k") == "2");
    REQUIRE(db->close());
  });
}

TEST_CASE("db flushes and compacts writes still in flight without losing the visible ones") {
  IoLoop loop;
  FaultFileSystem fs;
  fs.set_yield_on_io(true);
  run_fiber(loop, [&] {
    DBOptions options = small_options();
    auto db = open_db(fs, "/db", options);
    REQUIRE(db->put("k", "visible"));
    WriteBatch a, b;
    a.put("k", "unacknowledged-1");
    b.put("k", "unacknowledged-2");
    auto pa = db->begin_write(a);
    auto pb = db->begin_write(b);
    REQUIRE(pa);
    REQUIRE(pb);
    // Both pending versions reach a table and a compaction while readers see the old one.
    REQUIRE(db->compact_range(std::nullopt, std::nullopt));
    CHECK(get_ok(*db, "k") == "visible");
    REQUIRE(db->finish_write(*pa));
    CHECK(get_ok(*db, "k") == "unacknowledged-1");
    REQUIRE(db->finish_write(*pb));
    CHECK(get_ok(*db, "k") == "unacknowledged-2");
    REQUIRE(db->close());
  });
}
