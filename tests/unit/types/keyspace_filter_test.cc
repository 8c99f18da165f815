// The keyspace's compaction filter: expired records dropped by compaction, and the members
// of deleted or replaced collections found, checked by the sweeper and deleted.
#include "src/types/keyspace_filter.h"

#include <doctest/doctest.h>

#include "src/runtime/scheduler.h"
#include "src/types/collection.h"
#include "src/types/keyspace.h"
#include "src/types/keyspace_sweeper.h"
#include "tests/unit/engine/db/db_test_util.h"

using namespace cascade;
using namespace cascade::types;
using cascade::engine::db_test::compacting_options;
using cascade::engine::db_test::run_fiber;
using cascade::runtime::testing::IoLoop;
using cascade::test_support::FaultFileSystem;
using Decision = cascade::engine::CompactionFilter::Decision;

namespace {

constexpr std::int64_t kFarFuture = 4102444800000;  // 2100

std::string record(KeyType type, std::optional<std::int64_t> expire, std::string_view payload) {
  std::string out;
  append_record(out, type, expire, payload);
  return out;
}

std::unique_ptr<Keyspace> open_keyspace(FaultFileSystem& fs) {
  auto filter = std::make_unique<KeyspaceFilter>();
  engine::DBOptions options = compacting_options();
  options.compaction.filter = filter.get();
  auto db = engine::DB::open(fs, "/db", options);
  REQUIRE(db);
  auto keyspace = std::make_unique<Keyspace>(std::move(*db), std::move(filter));
  REQUIRE(keyspace->open());
  return keyspace;
}

// Writes a hash `key` of `fields` fields as a new version; returns the version.
std::uint64_t write_hash(Keyspace& keyspace, std::string_view key, int fields) {
  LockedKey lock(keyspace, 0, key, false);
  auto c = Collection::open(lock.writes(), lock.db_id(), key, KeyType::kHash, std::nullopt);
  REQUIRE(c);
  c->create(keyspace.new_version(1'700'000'000'000));
  for (int i = 0; i < fields; ++i) c->put("field" + std::to_string(i), std::string(40, 'v'));
  c->header().size = static_cast<std::uint64_t>(fields);
  c->finish();
  REQUIRE(lock.commit());
  return c->header().version;
}

std::size_t entries_with_prefix(Keyspace& keyspace, const std::string& prefix) {
  engine::ReadOptions options;
  options.prefix = prefix;
  auto it = keyspace.engine().iterator(options);
  std::size_t n = 0;
  for (it->seek_to_first(); it->valid(); it->next()) ++n;
  REQUIRE(it->status());
  return n;
}

}  // namespace

TEST_CASE("member keys parse into their version prefix; other keys do not") {
  const std::string prefix = member_prefix(3, std::string("k\0y", 3), 99);
  const std::string member = prefix + "field";
  auto m = parse_member_key(member);  // views into `member`
  REQUIRE(m);
  CHECK(m->db_id == 3);
  CHECK(m->key == std::string_view("k\0y", 3));
  CHECK(m->version == 99);
  CHECK(m->prefix == prefix);
  CHECK_FALSE(parse_member_key(metadata_key(3, "k")));
  CHECK_FALSE(parse_member_key(prefix.substr(0, prefix.size() - 1)));  // truncated version
}

TEST_CASE("the filter drops expired inline records and keeps everything it cannot judge") {
  KeyspaceFilter filter;
  const std::string key = metadata_key(0, "k");
  CHECK(filter.filter(1, key, engine::ValueType::kValue, record(KeyType::kString, 1, "v")) ==
        Decision::kDrop);
  CHECK(filter.filter(1, key, engine::ValueType::kValue,
                      record(KeyType::kString, kFarFuture, "v")) == Decision::kKeep);
  CHECK(filter.filter(1, key, engine::ValueType::kValue,
                      record(KeyType::kString, std::nullopt, "v")) == Decision::kKeep);
  // A value-log pointer is opaque; a system record is never a key.
  CHECK(filter.filter(1, key, engine::ValueType::kValuePointer, "ptr") == Decision::kKeep);
  CHECK(filter.filter(1, metadata_key(DatabaseIds::kSystemId, "d"), engine::ValueType::kValue,
                      record(KeyType::kString, 1, "v")) == Decision::kKeep);
  CHECK(filter.expired_dropped() == 1);
}

TEST_CASE("members are queued once per version and dropped once the version is dead") {
  KeyspaceFilter filter;
  const std::string a = member_prefix(0, "a", 1), b = member_prefix(0, "b", 2);
  for (int i = 0; i < 5; ++i) {
    CHECK(filter.filter(1, a + std::to_string(i), engine::ValueType::kValue, "") == Decision::kKeep);
  }
  CHECK(filter.filter(1, b + "x", engine::ValueType::kValue, "") == Decision::kKeep);
  CHECK(filter.filter(1, a + "9", engine::ValueType::kValue, "") == Decision::kKeep);
  CHECK(filter.suspects() == 2);  // a once, although its members came in two runs
  CHECK(*filter.take_suspect() == a);
  filter.mark_dead(a);
  CHECK(filter.filter(1, a + "0", engine::ValueType::kValue, "") == Decision::kDrop);
  CHECK(filter.filter(1, b + "y", engine::ValueType::kValue, "") == Decision::kKeep);
  CHECK(filter.members_dropped() == 1);
  // Whatever the suffix: a dead sorted set's rank separators and counts (zset_rank.h) go too.
  for (const char tag : {kZSetRankTag, kZSetCountTag}) {
    const std::string rank_record = a + tag + std::string(1, '\0') + "sep";
    CHECK(filter.filter(1, rank_record, engine::ValueType::kValue, "") == Decision::kDrop);
  }
  CHECK(filter.members_dropped() == 3);
}

TEST_CASE("compaction and the sweeper delete a deleted hash's members, keep a live one's") {
  IoLoop loop;
  FaultFileSystem fs;
  run_fiber(loop, [&] {
    auto keyspace = open_keyspace(fs);
    const std::uint64_t gone_version = write_hash(*keyspace, "gone", 3000);
    const std::uint64_t kept_version = write_hash(*keyspace, "kept", 500);
    // Replaced: the old version's members are garbage too.
    const std::uint64_t old_version = write_hash(*keyspace, "replaced", 200);
    const std::uint64_t new_version = write_hash(*keyspace, "replaced", 10);
    {
      LockedKey lock(*keyspace, 0, "gone", false);
      REQUIRE(lock.erase());
    }
    // An expired string record: compaction drops it outright.
    {
      LockedKey lock(*keyspace, 0, "old-string", false);
      REQUIRE(lock.put_string(std::int64_t{1}, "x"));
    }
    const std::uint32_t id = keyspace->ids().id_of(0);
    const std::string gone = member_prefix(id, "gone", gone_version);
    const std::string old = member_prefix(id, "replaced", old_version);
    REQUIRE(entries_with_prefix(*keyspace, gone) == 3000);

    REQUIRE(keyspace->engine().compact_range(std::nullopt, std::nullopt));
    CHECK(*keyspace->engine().get(metadata_key(id, "old-string")) == std::nullopt);
    // The sweeper checks the suspects the compaction queued and deletes the dead ones.
    for (int i = 0; i < 50 && keyspace->dead_versions() < 2; ++i) {
      runtime::Scheduler::current()->sleep_for(kSweepTick);
    }
    CHECK(keyspace->dead_versions() == 2);
    CHECK(entries_with_prefix(*keyspace, gone) == 0);
    CHECK(entries_with_prefix(*keyspace, old) == 0);
    CHECK(entries_with_prefix(*keyspace, member_prefix(id, "kept", kept_version)) == 500);
    CHECK(entries_with_prefix(*keyspace, member_prefix(id, "replaced", new_version)) == 10);
    REQUIRE(keyspace->close());
  });
}
