// count_keys (src/types/keyspace_count.h) over an engine on FaultFileSystem: live keys and
// expiries per database, expired records left out, member keys of another space skipped,
// the same answer from the memtable and from tables.
#include "src/types/keyspace_count.h"

#include <doctest/doctest.h>

#include <string>

#include "src/types/key_record.h"
#include "tests/support/fault_file_system.h"
#include "tests/unit/runtime/io_test_loop.h"

using namespace cascade;
using namespace cascade::types;
using cascade::runtime::testing::IoLoop;
using cascade::test_support::FaultFileSystem;

namespace {

constexpr std::int64_t kNow = 1'000'000'000;

// An engine key of the reserved member space (0x02) of database `db`.
std::string member_key(std::uint32_t db, std::string_view rest) {
  std::string key = metadata_key(db, rest);
  key[4] = 0x02;
  return key;
}

void fill(engine::DB& db) {
  auto put = [&](std::string key, std::string value) { REQUIRE(db.put(key, value)); };
  put(metadata_key(0, "a"), string_record(std::nullopt, "1"));
  put(metadata_key(0, "b"), string_record(kNow + 5000, "2"));
  put(metadata_key(0, "c"), string_record(kNow + 1000, "3"));
  put(metadata_key(0, "old"), string_record(kNow - 1, "expired"));
  put(member_key(0, "a-member"), "not a record");
  put(member_key(2, "only-members"), "not a record");
  put(metadata_key(7, "x"), string_record(std::nullopt, ""));
  put(member_key(7, "y"), "not a record");
  put(metadata_key(15, "last"), string_record(std::nullopt, "z"));
  put(member_key(15, "z"), "not a record");
  // Under an id no database maps to (a flushed database's leftovers): not counted.
  put(metadata_key(DatabaseIds::kFirstAllocated + 3, "purged"), string_record(std::nullopt, "p"));
  // The shard's system records and multi-shard log sort last and are not keys.
  put(metadata_key(DatabaseIds::kSystemId, "system"), string_record(std::nullopt, "s"));
  REQUIRE(db.del(metadata_key(7, "deleted")));
}

void check(engine::DB& db) {
  auto counts = count_keys(db, DatabaseIds{}, kNow);
  REQUIRE_MESSAGE(counts, counts.status().to_string());
  REQUIRE(counts->size() == 3);
  const DbKeyCount& zero = counts->at(0);
  CHECK(zero.keys == 3);
  CHECK(zero.expires == 2);
  CHECK(zero.ttl_sum_ms == 6000);
  CHECK(counts->at(7).keys == 1);
  CHECK(counts->at(7).expires == 0);
  CHECK(counts->at(15).keys == 1);
}

}  // namespace

TEST_CASE("count_keys counts live keys and expiries per database, skipping member keys") {
  IoLoop loop;
  FaultFileSystem fs;
  loop.sched.spawn([&] {
    engine::DBOptions options;
    options.wal.geometry.segment_count = 2;
    options.wal.geometry.segment_size = 1 << 20;
    options.wal.log = [](const std::string&) {};
    auto db = engine::DB::open(fs, "/db", options);
    REQUIRE(db);
    fill(**db);
    check(**db);     // from the memtable
    REQUIRE((*db)->flush());
    check(**db);     // from a table
    REQUIRE((*db)->put(metadata_key(0, "a"), "\x09garbage"));
    CHECK(count_keys(**db, DatabaseIds{}, kNow).error().is_corruption());
    REQUIRE((*db)->close());
  }, {.stack = runtime::StackSize::kLarge});
  REQUIRE(loop.run(std::chrono::seconds(60)));
}
