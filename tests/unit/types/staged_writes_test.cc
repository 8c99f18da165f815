// StagedWrites over a real engine: point reads and a merged cursor that must agree with a
// model (the engine's contents with the staged writes applied) in every direction, and a
// commit that lands as one batch.
#include "src/types/staged_writes.h"

#include <doctest/doctest.h>

#include <map>
#include <random>

#include "tests/support/test_seed.h"
#include "tests/unit/engine/db/db_test_util.h"

using namespace cascade;
using namespace cascade::types;
using cascade::engine::db_test::open_db;
using cascade::engine::db_test::run_fiber;
using cascade::engine::db_test::small_options;
using cascade::runtime::testing::IoLoop;
using cascade::test_support::FaultFileSystem;

namespace {

std::string key_of(int i) {
  char text[8];
  std::snprintf(text, sizeof text, "k%03d", i);
  return text;
}

}  // namespace

TEST_CASE("staged writes: get sees the staged value over the engine's") {
  IoLoop loop;
  FaultFileSystem fs;
  run_fiber(loop, [&] {
    auto db = open_db(fs, "/db", small_options());
    REQUIRE(db->put("a", "engine-a"));
    REQUIRE(db->put("b", "engine-b"));
    StagedWrites w(*db);
    w.put("a", "staged-a");
    w.del("b");
    w.put("c", "staged-c");
    w.put("c", "staged-c2");  // the last write of a key wins
    CHECK(*w.get("a") == std::optional<std::string>("staged-a"));
    CHECK(*w.get("b") == std::nullopt);
    CHECK(*w.get("c") == std::optional<std::string>("staged-c2"));
    CHECK(*db->get("a") == std::optional<std::string>("engine-a"));  // nothing written yet
    CHECK(w.size() == 3);
    REQUIRE(w.commit(true));
    CHECK(w.empty());
    CHECK(*db->get("a") == std::optional<std::string>("staged-a"));
    CHECK(*db->get("b") == std::nullopt);
    CHECK(*db->get("c") == std::optional<std::string>("staged-c2"));
    REQUIRE(db->close());
  });
}

TEST_CASE("staged writes: the merged cursor agrees with a model in both directions") {
  const std::uint64_t seed = testing::test_seed("staged cursor model");
  IoLoop loop;
  FaultFileSystem fs;
  run_fiber(loop, [&] {
    std::mt19937_64 rng(seed);
    for (int round = 0; round < 20; ++round) {
      auto db = open_db(fs, "/db" + std::to_string(round), small_options());
      std::map<std::string, std::string> model;
      for (int i = 0; i < 60; ++i) {
        if (rng() % 2 == 0) {
          const std::string k = key_of(i);
          REQUIRE(db->put(k, "e" + k));
          model[k] = "e" + k;
        }
      }
      if (rng() % 2 == 0) REQUIRE(db->flush());  // some rounds read from a table
      StagedWrites w(*db);
      for (int n = 0; n < 40; ++n) {
        const std::string k = key_of(static_cast<int>(rng() % 60));
        if (rng() % 3 == 0) {
          w.del(k);
          model.erase(k);
        } else {
          w.put(k, "s" + std::to_string(n));
          model[k] = "s" + std::to_string(n);
        }
      }
      // A range that cuts off both ends, as a collection's member range does.
      const std::string lower = key_of(5), upper = key_of(55);
      auto in_model = [&](const std::string& k) { return k >= lower && k < upper; };
      StagedWrites::Cursor c(w, lower, upper);
      // Random walks: seeks of each kind, then steps either way, checked at each stop.
      for (int walk = 0; walk < 30; ++walk) {
        std::map<std::string, std::string>::iterator at;
        const std::string target = key_of(static_cast<int>(rng() % 64));
        switch (rng() % 4) {
          case 0:
            c.seek_to_first();
            at = model.lower_bound(lower);
            break;
          case 1:
            c.seek_to_last();
            at = model.lower_bound(upper);
            at = at == model.begin() ? model.end() : std::prev(at);
            break;
          case 2:
            c.seek(target);
            at = model.lower_bound(std::max(target, lower));
            break;
          default:
            c.seek_for_prev(target);
            at = model.upper_bound(std::min(target, key_of(54)));
            at = at == model.begin() ? model.end() : std::prev(at);
            break;
        }
        for (int step = 0; step < 12; ++step) {
          const bool expect_valid = at != model.end() && in_model(at->first);
          REQUIRE(c.status());
          REQUIRE(c.valid() == expect_valid);
          if (!expect_valid) break;
          CHECK(std::string(c.key()) == at->first);
          CHECK(std::string(c.value()) == at->second);
          if (rng() % 2 == 0) {
            c.next();
            ++at;
          } else {
            c.prev();
            at = at == model.begin() ? model.end() : std::prev(at);
          }
        }
      }
      REQUIRE(db->close());
    }
  });
}
