// The Keyspace over a real engine: database ids (FLUSHDB in one write, kept across reopen)
// and the sweeper (purging retired ids, active expiry).
#include "src/types/keyspace.h"

#include <doctest/doctest.h>

#include <random>

#include "src/runtime/scheduler.h"
#include "src/types/keyspace_count.h"
#include "src/types/keyspace_sweeper.h"
#include "tests/unit/engine/db/db_test_util.h"

using namespace cascade;
using namespace cascade::types;
using cascade::engine::db_test::open_db;
using cascade::engine::db_test::run_fiber;
using cascade::engine::db_test::small_options;
using cascade::runtime::testing::IoLoop;
using cascade::test_support::FaultFileSystem;

namespace {

struct VlogIo {  // reads of value-log files and their bytes
  std::uint64_t reads = 0;
  std::uint64_t bytes = 0;
};

constexpr std::int64_t kNow = 1'700'000'000'000;

std::unique_ptr<Keyspace> open_keyspace(FaultFileSystem& fs) {
  auto keyspace = std::make_unique<Keyspace>(open_db(fs, "/db", small_options()));
  REQUIRE(keyspace->open());
  return keyspace;
}

void put(Keyspace& keyspace, std::uint32_t db, const std::string& key,
         std::optional<std::int64_t> expire = std::nullopt) {
  LockedKey lock(keyspace, db, key, false);
  REQUIRE(lock.put_string(expire, "v"));
}

bool present(Keyspace& keyspace, std::uint32_t db, const std::string& key) {
  auto record = keyspace.read(db, key, kNow);
  REQUIRE(record);
  return record->has_value();
}

// Engine entries whose key starts with the 4-byte big-endian `id`.
std::size_t entries_under(Keyspace& keyspace, std::uint32_t id) {
  const std::string prefix{static_cast<char>(id >> 24), static_cast<char>(id >> 16),
                           static_cast<char>(id >> 8), static_cast<char>(id)};
  engine::ReadOptions options;
  options.prefix = prefix;
  auto it = keyspace.engine().iterator(options);
  std::size_t n = 0;
  for (it->seek_to_first(); it->valid(); it->next()) ++n;
  REQUIRE(it->status());
  return n;
}

void let_the_sweeper_run() {
  runtime::Scheduler::current()->sleep_for(3 * kSweepTick);
}

// A fiber that takes key "hot"'s lock, holds it `hold`, writes `value` under it and sets
// `written`; `done` is added to now and done when it ends. Returns once it holds the lock.
void hold_hot_key(Keyspace& keyspace, runtime::Duration hold, std::string value, bool& written,
                  runtime::WaitGroup& done) {
  bool held = false;
  done.add();
  (void)runtime::Scheduler::current()->spawn([&keyspace, hold, value, &written, &done, &held] {
    LockedKey lock(keyspace, 0, "hot", false);
    held = true;
    runtime::Scheduler::current()->sleep_for(hold);
    CHECK(lock.put_string(std::nullopt, value));
    written = true;
    done.done();
  });
  while (!held) runtime::Scheduler::current()->yield();
}

}  // namespace

TEST_CASE("reads find keys of every length, from the memtable and from tables") {
  IoLoop loop;
  FaultFileSystem fs;
  run_fiber(loop, [&] {
    auto keyspace = open_keyspace(fs);
    // Around the lengths up to which read() builds its engine key (123) and the engine its
    // seek key (131 bytes with the 5-byte prefix and 8-byte trailer) on the stack.
    const std::vector<std::string> keys = {"",
                                           "k",
                                           std::string(115, 'e'),
                                           std::string(116, 'f'),
                                           std::string(122, 'a'),
                                           std::string(123, 'b'),
                                           std::string(124, 'c'),
                                           std::string(5000, 'd')};
    for (const std::string& key : keys) put(*keyspace, 3, key);
    for (int pass = 0; pass < 2; ++pass) {
      for (const std::string& key : keys) {
        CAPTURE(key.size());
        auto record = keyspace->read(3, key, kNow);
        REQUIRE(record);
        REQUIRE(record->has_value());
        CHECK((*record)->payload() == "v");
        CHECK_FALSE(present(*keyspace, 3, key + "x"));
        CHECK_FALSE(present(*keyspace, 2, key));
      }
      REQUIRE(keyspace->engine().flush());  // the second pass reads from a table
    }
    REQUIRE(keyspace->close());
  });
}

TEST_CASE("a flush empties one database at once and the sweeper deletes its old keys") {
  IoLoop loop;
  FaultFileSystem fs;
  run_fiber(loop, [&] {
    auto keyspace = open_keyspace(fs);
    for (int i = 0; i < 1500; ++i) put(*keyspace, 0, "k" + std::to_string(i));
    put(*keyspace, 1, "other");
    const std::uint32_t db0 = 0;
    REQUIRE(keyspace->flush(std::span(&db0, 1), true));
    CHECK_FALSE(present(*keyspace, 0, "k7"));
    CHECK(present(*keyspace, 1, "other"));
    CHECK(keyspace->ids().id_of(0) >= DatabaseIds::kFirstAllocated);
    let_the_sweeper_run();
    CHECK(entries_under(*keyspace, 0) == 0);
    put(*keyspace, 0, "new");
    REQUIRE(keyspace->close());

    keyspace = open_keyspace(fs);  // the new id is durable
    CHECK_FALSE(present(*keyspace, 0, "k7"));
    CHECK(present(*keyspace, 0, "new"));
    CHECK(present(*keyspace, 1, "other"));
    REQUIRE(keyspace->close());
  });
}

// A large SET yields while its value is copied and compressed, after it read its
// database's id: a FLUSHDB then runs whole before it, and the SET lands under the id the
// flush retired, maybe after the sweeper swept that id. It is swept again.
TEST_CASE("a write that lands under an id a flush retired meanwhile is swept too") {
  IoLoop loop;
  FaultFileSystem fs;
  run_fiber(loop, [&] {
    auto keyspace = open_keyspace(fs);
    put(*keyspace, 0, "before");
    const std::string big(8 << 20, 'v');
    bool written = false;
    runtime::FiberHandle writer = runtime::Scheduler::current()->spawn([&] {
      const Keyspace::StringPut puts[] = {{"big", big}};
      CHECK(keyspace->put_strings(0, puts, false));
      written = true;
    });
    runtime::this_fiber::yield();  // the writer starts, and yields in its value's copy
    CHECK_FALSE(written);
    const std::uint32_t db0 = 0;
    REQUIRE(keyspace->flush(std::span(&db0, 1), true));
    let_the_sweeper_run();  // id 0 swept, maybe before the big value landed under it
    writer.join();
    CHECK(written);
    CHECK_FALSE(present(*keyspace, 0, "big"));  // the flush came first
    let_the_sweeper_run();
    CHECK(entries_under(*keyspace, 0) == 0);
    CHECK(keyspace->retired_ids().empty());
    REQUIRE(keyspace->close());
  });
}

TEST_CASE("keys left under an id no database maps to are deleted after open") {
  IoLoop loop;
  FaultFileSystem fs;
  run_fiber(loop, [&] {
    {
      auto db = open_db(fs, "/db", small_options());
      REQUIRE(db->put(metadata_key(DatabaseIds::kFirstAllocated + 7, "stray"),
                      string_record(std::nullopt, "x")));
      REQUIRE(db->close());
    }
    auto keyspace = open_keyspace(fs);
    let_the_sweeper_run();
    CHECK(entries_under(*keyspace, DatabaseIds::kFirstAllocated + 7) == 0);
    REQUIRE(keyspace->close());
  });
}

TEST_CASE("active expiry deletes expired keys nobody reads, and counts them") {
  IoLoop loop;
  FaultFileSystem fs;
  run_fiber(loop, [&] {
    auto keyspace = open_keyspace(fs);
    for (int i = 0; i < 30; ++i) put(*keyspace, 2, "gone" + std::to_string(i), 1);
    put(*keyspace, 2, "kept");
    let_the_sweeper_run();
    CHECK(keyspace->expired_keys() == 30);
    CHECK(entries_under(*keyspace, 2) == 1);
    REQUIRE(keyspace->close());
  });
}

// A collection emptied by pops leaves a tombstone per member, after its database's
// metadata records, until compaction. The walk keeps to the metadata records, so its
// ticks do not step over those tombstones, and it still reaches every database.
TEST_CASE("active expiry keeps to the metadata records, past removed members, in every database") {
  IoLoop loop;
  FaultFileSystem fs;
  run_fiber(loop, [&] {
    auto keyspace = open_keyspace(fs);
    put(*keyspace, 2, "list");
    for (int i = 0; i < 20; ++i) put(*keyspace, 2, "gone" + std::to_string(i), 1);
    for (int i = 0; i < 20; ++i) put(*keyspace, 5, "gone" + std::to_string(i), 1);
    put(*keyspace, 5, "kept");
    // Members of database 2's collections, written and then removed.
    constexpr int kRemoved = 5000;
    const std::string members{'\0', '\0', '\0', '\2', '\x02'};
    engine::WriteBatch added, removed;
    for (int i = 0; i < kRemoved; ++i) {
      const std::string key = members + "list" + std::to_string(i);
      added.put(key, "element");
      removed.del(key);
    }
    REQUIRE(keyspace->engine().write(added));
    REQUIRE(keyspace->engine().write(removed));
    let_the_sweeper_run();  // three ticks or more
    CHECK(keyspace->expired_keys() == 40);
    CHECK(entries_under(*keyspace, 2) == 1);
    CHECK(entries_under(*keyspace, 5) == 1);
    // The expired records' own tombstones are passed once per tick at most; the members'
    // never (an unbounded walk passed all 5,000 on every tick).
    CHECK(keyspace->expiry_tombstones_passed() < kRemoved / 10);
    REQUIRE(keyspace->close());
  });
}

TEST_CASE("active expiry reads the expiry of records held in the value log from the tree") {
  IoLoop loop;
  FaultFileSystem fs;
  run_fiber(loop, [&] {
    engine::DBOptions options = small_options();
    options.min_blob_size = 512;
    options.vlog_value_head_size = kRecordHeaderMaxSize;  // as the server opens its engines
    auto keyspace = std::make_unique<Keyspace>(open_db(fs, "/db", options));
    REQUIRE(keyspace->open());
    std::string big(4096, '\0');  // incompressible: every record stays about 4 KiB
    std::mt19937_64 rng(11);
    for (char& c : big) c = static_cast<char>(rng());
    for (int i = 0; i < 3; ++i) {
      LockedKey lock(*keyspace, 2, "gone" + std::to_string(i), false);
      REQUIRE(lock.put_string(1, big));
    }
    for (int i = 0; i < 60; ++i) {
      LockedKey lock(*keyspace, 2, "kept" + std::to_string(i), false);
      REQUIRE(lock.put_string(i % 2 == 0 ? std::nullopt : std::optional<std::int64_t>(kNow * 2), big));
    }
    REQUIRE(keyspace->engine().flush());  // the records move to the value log
    REQUIRE(keyspace->engine().stats().vlog_live_bytes >= 63 * 4096);
    auto vlog_io = [&fs] {
      auto names = fs.list_dir("/db");
      REQUIRE(names);
      VlogIo io;
      for (const auto& name : *names) {
        if (!name.ends_with(".vlog")) continue;
        const auto c = fs.file_counters("/db/" + name);
        io.reads += c.reads;
        io.bytes += c.bytes_read;
      }
      return io;
    };
    const auto before = vlog_io();
    let_the_sweeper_run();
    CHECK(keyspace->expired_keys() == 3);
    // The walks read headers from the tree; only deleting an expired key reads its record
    // (under its lock, to see it is still expired): one read of at most 3 pages each, where
    // reading every value would be 63 x 4 KiB and more.
    const auto swept = vlog_io();
    CHECK(swept.reads - before.reads <= 3);
    CHECK(swept.bytes - before.bytes <= 3 * 3 * 4096);
    auto counts = count_keys(keyspace->engine(), keyspace->ids(), kNow);
    REQUIRE(counts);
    CHECK(counts->at(2).keys == 60);
    CHECK(counts->at(2).expires == 30);
    CHECK(vlog_io().reads == swept.reads);  // counting reads no value either
    CHECK(entries_under(*keyspace, 2) == 60);
    REQUIRE(keyspace->close());
  });
}

TEST_CASE("writes touch the key's watches; deleting an expired record does not") {
  IoLoop loop;
  FaultFileSystem fs;
  run_fiber(loop, [&] {
    auto keyspace = open_keyspace(fs);
    WatchRegistry& watches = keyspace->watches();
    put(*keyspace, 0, "expired", kNow - 10);
    watches.watch(1, 0, "expired", std::nullopt);
    {
      LockedKey lock(*keyspace, 0, "expired", false);
      auto record = lock.load(kNow);  // finds it expired and deletes it
      REQUIRE(record);
      CHECK_FALSE(record->has_value());
    }
    CHECK_FALSE(watches.changed(1, kNow));

    watches.watch(2, 0, "k", std::nullopt);
    put(*keyspace, 0, "k");
    CHECK(watches.changed(2, kNow));

    // Staged inside a transaction: touched at once (the transaction holds the stripe).
    watches.watch(3, 0, "staged", std::nullopt);
    StagedWrites txn(keyspace->engine());
    {
      LockedKey lock(*keyspace, 0, "staged", txn);
      REQUIRE(lock.put_string(std::nullopt, "v"));
    }
    CHECK(watches.changed(3, kNow));
    CHECK_FALSE(present(*keyspace, 0, "staged"));  // not committed by the LockedKey
    REQUIRE(keyspace->close());
  });
}

TEST_CASE("put_strings writes its keys in one engine write, the last value of a key winning") {
  IoLoop loop;
  FaultFileSystem fs;
  run_fiber(loop, [&] {
    auto keyspace = open_keyspace(fs);
    put(*keyspace, 3, "a", kNow + 1'000'000);  // an expiry the overwrite removes
    const std::uint64_t batches = keyspace->engine().stats().wal_batches;
    const Keyspace::StringPut puts[] = {{"a", "1"}, {"b", "2"}, {"a", "3"}};
    REQUIRE(keyspace->put_strings(3, puts, true));
    CHECK(keyspace->engine().stats().wal_batches == batches + 1);
    auto a = keyspace->read(3, "a", kNow);
    REQUIRE(a);
    REQUIRE(a->has_value());
    CHECK((*a)->payload() == "3");
    CHECK_FALSE((*a)->expire_ms.has_value());
    auto b = keyspace->read(3, "b", kNow);
    REQUIRE(b);
    REQUIRE(b->has_value());
    CHECK((*b)->payload() == "2");
    CHECK_FALSE(present(*keyspace, 0, "a"));  // another database
    REQUIRE(keyspace->close());
  });
}

TEST_CASE("a flush touches the watched keys that existed in the flushed database") {
  IoLoop loop;
  FaultFileSystem fs;
  run_fiber(loop, [&] {
    auto keyspace = open_keyspace(fs);
    WatchRegistry& watches = keyspace->watches();
    put(*keyspace, 0, "there");
    put(*keyspace, 1, "elsewhere");
    watches.watch(1, 0, "there", std::nullopt);
    watches.watch(2, 0, "missing", std::nullopt);
    watches.watch(3, 1, "elsewhere", std::nullopt);
    const std::uint32_t db0 = 0;
    REQUIRE(keyspace->flush(std::span(&db0, 1), true));
    CHECK(watches.changed(1, kNow));
    CHECK_FALSE(watches.changed(2, kNow));
    CHECK_FALSE(watches.changed(3, kNow));
    // The key keeps its watch under the database's new id.
    put(*keyspace, 0, "missing");
    CHECK(watches.changed(2, kNow));
    REQUIRE(keyspace->close());
  });
}

TEST_CASE("put_strings touches the watches of the keys it writes") {
  IoLoop loop;
  FaultFileSystem fs;
  run_fiber(loop, [&] {
    auto keyspace = open_keyspace(fs);
    WatchRegistry& watches = keyspace->watches();
    watches.watch(1, 0, "a", std::nullopt);
    watches.watch(2, 0, "untouched", std::nullopt);
    watches.watch(3, 1, "a", std::nullopt);  // same name, another database
    const Keyspace::StringPut puts[] = {{"a", "1"}, {"b", "2"}};
    REQUIRE(keyspace->put_strings(0, puts, false));
    CHECK(watches.changed(1, kNow));
    CHECK_FALSE(watches.changed(2, kNow));
    CHECK_FALSE(watches.changed(3, kNow));
    REQUIRE(keyspace->close());
  });
}

TEST_CASE("put_strings waits for a key's lock held by a read-modify-write") {
  IoLoop loop;
  FaultFileSystem fs;
  run_fiber(loop, [&] {
    auto keyspace = open_keyspace(fs);
    bool holder_done = false;
    runtime::WaitGroup holder;
    hold_hot_key(*keyspace, std::chrono::milliseconds(20), "from the holder", holder_done, holder);
    const Keyspace::StringPut puts[] = {{"cold", "x"}, {"hot", "from put_strings"}};
    REQUIRE(keyspace->put_strings(0, puts, false));
    CHECK(holder_done);  // it waited for the holder's write, so its own write is the last
    holder.wait();
    auto hot = keyspace->read(0, "hot", kNow);
    REQUIRE(hot);
    REQUIRE(hot->has_value());
    CHECK((*hot)->payload() == "from put_strings");
    REQUIRE(keyspace->close());
  });
}

TEST_CASE("read-modify-writes queued on a hot key's lock join the holder's WAL group") {
  // Early lock release (key_locks.h): the holder releases the key once its write is in the
  // memtable and then leads its WAL group, written at the end of the scheduler's round. The
  // key's next holder runs in that round (WakeInRound), writes, releases to the next one,
  // and so on: the whole queue lands in the holder's group, one WAL write for all of them.
  IoLoop loop;
  FaultFileSystem fs;
  run_fiber(loop, [&] {
    auto keyspace = open_keyspace(fs);
    constexpr int kQueued = 4;
    runtime::WaitGroup done;
    bool holder_done = false;
    hold_hot_key(*keyspace, std::chrono::milliseconds(10), "holder", holder_done, done);
    for (int i = 0; i < kQueued; ++i) {
      done.add();
      (void)runtime::Scheduler::current()->spawn([&, i] {
        LockedKey lock(*keyspace, 0, "hot", false);  // waits for the holder
        CHECK(lock.put_string(std::nullopt, "queued " + std::to_string(i)));
        done.done();
      });
    }
    const std::uint64_t groups = keyspace->engine().stats().wal_groups;
    done.wait();
    CHECK(keyspace->engine().stats().wal_groups == groups + 1);
    auto hot = keyspace->read(0, "hot", kNow);
    REQUIRE(hot);
    REQUIRE(hot->has_value());
    CHECK((*hot)->payload() == "queued " + std::to_string(kQueued - 1));
    REQUIRE(keyspace->close());
  });
}
