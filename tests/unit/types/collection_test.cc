// The collection encoding: headers, member keys, sortable scores, and Collection's handle
// (create, member writes, finish) over a real engine.
#include "src/types/collection.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "tests/support/test_seed.h"
#include "tests/unit/engine/db/db_test_util.h"
#include "tests/unit/types/stored_record_util.h"

using namespace cascade;
using namespace cascade::types;
using cascade::engine::db_test::open_db;
using cascade::engine::db_test::run_fiber;
using cascade::engine::db_test::small_options;
using cascade::runtime::testing::IoLoop;
using cascade::test_support::FaultFileSystem;

TEST_CASE("collection headers round-trip, and a malformed one is corruption") {
  CollectionHeader h;
  h.version = 0x0102030405060708;
  h.size = 3;
  std::string set_payload;
  append_collection_payload(set_payload, KeyType::kSet, h);
  CHECK(set_payload.size() == 16);
  CHECK(static_cast<std::uint8_t>(set_payload[0]) == 0x08);  // little-endian
  auto decoded = decode_collection_payload(KeyType::kSet, set_payload);
  REQUIRE(decoded);
  CHECK(decoded->version == h.version);
  CHECK(decoded->size == 3);

  h.head = kListOrigin - 1;
  h.tail = kListOrigin + 2;
  std::string list_payload;
  append_collection_payload(list_payload, KeyType::kList, h);
  CHECK(list_payload.size() == 32);
  auto list = decode_collection_payload(KeyType::kList, list_payload);
  REQUIRE(list);
  CHECK(list->head == h.head);
  CHECK(list->tail == h.tail);

  CHECK(decode_collection_payload(KeyType::kHash, set_payload.substr(0, 15)).error().is_corruption());
  CHECK(decode_collection_payload(KeyType::kList, set_payload).error().is_corruption());
  h.size = 4;  // tail - head is 3
  std::string bad_list;
  append_collection_payload(bad_list, KeyType::kList, h);
  CHECK(decode_collection_payload(KeyType::kList, bad_list).error().is_corruption());
}

TEST_CASE("member prefixes keep one key's members apart from a longer key's") {
  // Without the key length, key "a" version V would be a prefix of key "a\0..." members.
  const std::string a = member_prefix(0, "a", 1);
  const std::string ab = member_prefix(0, std::string("a\0\0\0\0\0\0\0", 8), 1);
  CHECK(ab.compare(0, a.size(), a) != 0);
  CHECK(a.size() == 4 + 1 + 4 + 1 + 8);
  CHECK(a[4] == static_cast<char>(kMemberSpace));
  // Versions sort numerically.
  CHECK(member_prefix(0, "k", 255) < member_prefix(0, "k", 256));
}

TEST_CASE("sortable scores order as the doubles do") {
  const std::uint64_t seed = testing::test_seed("sortable scores");
  std::mt19937_64 rng(seed);
  std::vector<double> scores = {-std::numeric_limits<double>::infinity(),
                                std::numeric_limits<double>::infinity(),
                                0.0, -0.0, 1.0, -1.0, 1e-300, -1e-300, 1e300, -1e300,
                                std::numeric_limits<double>::denorm_min(),
                                -std::numeric_limits<double>::denorm_min()};
  std::uniform_real_distribution<double> wide(-1e6, 1e6);
  for (int i = 0; i < 2000; ++i) {
    scores.push_back(i % 2 ? wide(rng) : std::bit_cast<double>(rng()));
  }
  std::erase_if(scores, [](double d) { return std::isnan(d); });
  std::vector<std::pair<std::string, double>> encoded;
  for (double d : scores) {
    std::string key;
    append_score_key(key, d);
    REQUIRE(key.size() == 8);
    const double back = decode_score_key(key);
    CHECK((back == d || (d == 0 && back == 0)));
    encoded.emplace_back(std::move(key), d);
  }
  std::sort(encoded.begin(), encoded.end());
  for (std::size_t i = 1; i < encoded.size(); ++i) {
    CHECK(encoded[i - 1].second <= encoded[i].second);
  }
  std::string minus_zero, plus_zero;
  append_score_key(minus_zero, -0.0);
  append_score_key(plus_zero, 0.0);
  CHECK(minus_zero == plus_zero);  // equal scores: the member decides, as in Redis

  std::string value;
  append_score_value(value, -0.0);
  auto v = decode_score_value(value);
  REQUIRE(v);
  CHECK(std::signbit(*v));  // the member entry keeps the exact double
  std::string nan;
  append_score_value(nan, std::numeric_limits<double>::quiet_NaN());
  CHECK(decode_score_value(nan).error().is_corruption());
}

TEST_CASE("a collection is created, filled, emptied and deleted through staged writes") {
  IoLoop loop;
  FaultFileSystem fs;
  run_fiber(loop, [&] {
    auto db = open_db(fs, "/db", small_options());
    StagedWrites w(*db);
    auto c = Collection::open(w, 0, "h", KeyType::kHash, std::nullopt);
    REQUIRE(c);
    CHECK(c->state() == Collection::State::kMissing);
    c->create(77);
    c->put("f1", "v1");
    c->put("f2", "v2");
    c->header().size = 2;
    c->finish();
    REQUIRE(w.commit(false));

    std::optional<StoredRecord> loaded = test_util::load_record(*db, "h");
    REQUIRE(loaded);
    const StoredRecord& record = *loaded;
    CHECK(record.type == KeyType::kHash);

    // Opened again as a hash it sees both fields; as a set it is the wrong type.
    auto wrong = Collection::open(w, 0, "h", KeyType::kSet, record);
    REQUIRE(wrong);
    CHECK(wrong->wrong_type());
    auto again = Collection::open(w, 0, "h", KeyType::kHash, record);
    REQUIRE(again);
    REQUIRE(again->exists());
    CHECK(again->header().version == 77);
    CHECK(**again->get("f2") == "v2");
    std::vector<std::string> fields;
    auto cursor = again->cursor();
    for (cursor.seek_to_first(); cursor.valid(); cursor.next()) {
      fields.emplace_back(cursor.key().substr(again->prefix().size()));
    }
    CHECK(fields == std::vector<std::string>{"f1", "f2"});

    // Removing every member deletes the key's metadata.
    again->del("f1");
    again->del("f2");
    again->header().size = 0;
    again->finish();
    REQUIRE(w.commit(false));
    CHECK(*db->get(metadata_key(0, "h")) == std::nullopt);
    REQUIRE(db->close());
  });
}

// finish() stages the metadata record only when it changed: a member's new value under the
// same header stages that member alone; a changed size, or a changed expiry alone, stage the
// record too; create() over an existing key always writes.
TEST_CASE("a collection whose header and expiry did not change stages no metadata record") {
  IoLoop loop;
  FaultFileSystem fs;
  run_fiber(loop, [&] {
    auto db = open_db(fs, "/db", small_options());
    {
      StagedWrites w(*db);
      auto c = Collection::open(w, 0, "h", KeyType::kHash, std::nullopt);
      REQUIRE(c);
      c->create(5);
      c->put("f1", "v1");
      c->header().size = 1;
      c->finish();
      CHECK(w.size() == 2);
      REQUIRE(w.commit(false));
    }
    auto reopen = [&](StagedWrites& w) {
      std::optional<StoredRecord> record = test_util::load_record(*db, "h");
      REQUIRE(record);
      auto c = Collection::open(w, 0, "h", KeyType::kHash, record);
      REQUIRE(c);
      REQUIRE(c->exists());
      return std::move(*c);
    };
    {
      StagedWrites w(*db);
      Collection c = reopen(w);
      c.put("f1", "v2");  // a new value: the header is as it was
      c.finish();
      CHECK(w.size() == 1);
      REQUIRE(w.commit(false));
      CHECK(**db->get(c.member_key("f1")) == "v2");
    }
    {
      StagedWrites w(*db);
      Collection c = reopen(w);
      c.put("f2", "v");
      c.header().size = 2;
      c.finish();
      CHECK(w.size() == 2);
      REQUIRE(w.commit(false));
    }
    {
      StagedWrites w(*db);
      Collection c = reopen(w);
      c.set_expire_ms(123456789);
      c.finish();
      CHECK(w.size() == 1);
      REQUIRE(w.commit(false));
      std::optional<StoredRecord> record = test_util::load_record(*db, "h");
      REQUIRE(record);
      auto view = decode_record(record->bytes);
      REQUIRE(view);
      CHECK(view->expire_ms == std::optional<std::int64_t>(123456789));
    }
    {
      StagedWrites w(*db);
      Collection c = reopen(w);
      c.create(6);  // replaced by an empty collection of a new version, then one member
      c.put("g", "v");
      c.header().size = 1;
      c.finish();
      CHECK(w.size() == 2);
      REQUIRE(w.commit(false));
      std::optional<StoredRecord> record = test_util::load_record(*db, "h");
      REQUIRE(record);
      CHECK(decode_collection_payload(KeyType::kHash, record->payload())->version == 6);
    }
    REQUIRE(db->close());
  });
}
