// The engine against a std::map model: random puts, deletes, batches, gets and scans
// (both directions, bounds, prefixes) with keys and values of varied sizes, up to 1 MiB,
// a small memtable so flushes happen all the time, and reopens in between; once more with
// tiny levels and compact_range calls so compactions happen all the time too. Snapshots are
// checked to stay fixed while writes and flushes go on.
#include <doctest/doctest.h>

#include <map>
#include <random>
#include <string>
#include <vector>

#include "engine/db.h"
#include "tests/support/test_seed.h"
#include "tests/unit/engine/db/db_test_util.h"

using namespace cascade;
using namespace cascade::engine;
using namespace cascade::engine::db_test;
using cascade::runtime::testing::IoLoop;
using cascade::test_support::FaultFileSystem;

namespace {

using Model = std::map<std::string, std::string>;

std::string random_key(std::mt19937_64& rng) {
  static const char kFirst[] = {'a', 'b', 'c', 'd', '\0', '\xff'};
  std::string key(1, kFirst[rng() % 6]);
  std::size_t len = rng() % 4 == 0 ? rng() % 40 : rng() % 3;
  for (std::size_t i = 0; i < len; ++i) key.push_back(static_cast<char>('a' + rng() % 4));
  return key;
}

std::string random_value(std::mt19937_64& rng) {
  std::size_t size;
  switch (rng() % 200) {
    case 0: size = (100 << 10) + rng() % (924 << 10); break;  // 100 KiB .. 1 MiB
    case 1: case 2: case 3: case 4: size = 0; break;
    default: size = rng() % 4 == 0 ? rng() % 5000 : rng() % 100; break;
  }
  std::string v(size, '\0');
  char fill = static_cast<char>(rng());
  for (std::size_t i = 0; i < size; ++i) v[i] = static_cast<char>(fill + i * 7 + (i >> 9));
  return v;
}

// The model's keys in [lower, upper) that start with prefix.
std::vector<std::pair<std::string, std::string>> expected_range(
    const Model& model, const std::optional<std::string>& lower,
    const std::optional<std::string>& upper, const std::optional<std::string>& prefix) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [k, v] : model) {
    if (lower && k < *lower) continue;
    if (upper && k >= *upper) continue;
    if (prefix && k.compare(0, prefix->size(), *prefix) != 0) continue;
    out.emplace_back(k, v);
  }
  return out;
}

void check_scan(DB& db, const Model& model, std::mt19937_64& rng, const Snapshot* snapshot) {
  std::optional<std::string> lower, upper, prefix;
  if (rng() % 3 == 0) lower = random_key(rng);
  if (rng() % 3 == 0) upper = random_key(rng);
  if (rng() % 3 == 0) prefix = random_key(rng).substr(0, 1 + rng() % 2);
  ReadOptions o;
  o.snapshot = snapshot;
  if (lower) o.lower_bound = *lower;
  if (upper) o.upper_bound = *upper;
  if (prefix) o.prefix = *prefix;
  auto expected = expected_range(model, lower, upper, prefix);
  auto it = db.iterator(o);
  const std::size_t limit = 60;
  if (rng() % 2 == 0) {
    it->seek_to_first();
    for (std::size_t i = 0; i < expected.size() && i < limit; ++i) {
      REQUIRE_MESSAGE(it->valid(), it->status().to_string());
      REQUIRE(it->key() == expected[i].first);
      REQUIRE(it->value() == expected[i].second);
      it->next();
    }
    if (expected.size() <= limit) CHECK(!it->valid());
  } else {
    it->seek_to_last();
    for (std::size_t i = 0; i < expected.size() && i < limit; ++i) {
      REQUIRE_MESSAGE(it->valid(), it->status().to_string());
      const auto& e = expected[expected.size() - 1 - i];
      REQUIRE(it->key() == e.first);
      REQUIRE(it->value() == e.second);
      it->prev();
    }
    if (expected.size() <= limit) CHECK(!it->valid());
  }
  REQUIRE_MESSAGE(it->status(), it->status().to_string());
}

void check_all_gets(DB& db, const Model& model, std::mt19937_64& rng) {
  for (int i = 0; i < 200; ++i) {
    std::string key = random_key(rng);
    auto it = model.find(key);
    auto got = get_ok(db, key);
    if (it == model.end()) {
      REQUIRE(got == std::nullopt);
    } else {
      REQUIRE(got == it->second);
    }
  }
}

// Rounds of random operations against the model, each round on a freshly reopened engine.
// With `compact`, some operations are compact_range calls over random ranges.
void run_model(const char* name, const DBOptions& options, int rounds, bool compact) {
  const std::uint64_t seed = cascade::testing::test_seed(name);
  CAPTURE(seed);
  std::mt19937_64 rng(seed);
  IoLoop loop;
  FaultFileSystem fs;
  fs.set_yield_on_io(true);
  Model model;
  run_fiber(loop, [&] {
    for (int round = 0; round < rounds; ++round) {
      CAPTURE(round);
      auto db = open_db(fs, "/db", options);
      check_all_gets(*db, model, rng);
      for (int op = 0; op < 1500; ++op) {
        unsigned dice = rng() % 100;
        if (dice < 50) {
          std::string k = random_key(rng), v = random_value(rng);
          REQUIRE(db->put(k, v, {.sync = rng() % 8 == 0}));
          model[k] = v;
        } else if (dice < 65) {
          std::string k = random_key(rng);
          REQUIRE(db->del(k));
          model.erase(k);
        } else if (dice < 70) {
          WriteBatch batch;
          for (int i = 0, n = 1 + static_cast<int>(rng() % 8); i < n; ++i) {
            std::string k = random_key(rng);
            if (rng() % 3 == 0) {
              batch.del(k);
              model.erase(k);
            } else {
              std::string v = random_value(rng).substr(0, 3000);
              batch.put(k, v);
              model[k] = v;
            }
          }
          REQUIRE(db->write(batch));
        } else if (compact && dice < 71) {
          std::optional<std::string> lo, hi;
          if (rng() % 2 == 0) lo = random_key(rng);
          if (rng() % 2 == 0) hi = random_key(rng);
          REQUIRE(db->compact_range(lo, hi));
        } else if (dice < 92) {
          std::string k = random_key(rng);
          auto it = model.find(k);
          auto got = get_ok(*db, k);
          REQUIRE((it == model.end() ? got == std::nullopt : got == it->second));
        } else {
          check_scan(*db, model, rng, nullptr);
        }
      }
      DBStats s = db->stats();
      MESSAGE("round " << round << ": flushes " << s.flushes << ", compactions "
                       << s.compactions << ", trivial moves " << s.trivial_moves
                       << ", L0 files " << s.level0_files << ", stalls " << s.write_stalls);
      REQUIRE(db->close());
      if (compact) CHECK(table_files_in(fs, "/db") == db->live_table_files());
    }
  });
  CHECK(!model.empty());
}

}  // namespace

TEST_CASE("db matches a map model through flushes and reopens, values up to 1 MiB") {
  run_model("db model", small_options(), 4, false);
}

TEST_CASE("db matches a map model through compactions and reopens") {
  DBOptions options = compacting_options();
  // Tinier still: every few flushes moves data down several levels.
  options.compaction.base_level_size = 128 << 10;
  options.compaction.target_file_size = 32 << 10;
  run_model("db model compaction", options, 6, true);
}

namespace {

void run_snapshot_model(const char* name, const DBOptions& options, bool compact) {
  const std::uint64_t seed = cascade::testing::test_seed(name);
  CAPTURE(seed);
  std::mt19937_64 rng(seed);
  IoLoop loop;
  FaultFileSystem fs;
  fs.set_yield_on_io(true);
  run_fiber(loop, [&] {
    auto db = open_db(fs, "/db", options);
    Model model;
    std::vector<std::pair<Snapshot, Model>> snapshots;
    for (int op = 0; op < 6000; ++op) {
      std::string k = random_key(rng);
      if (rng() % 4 == 0) {
        REQUIRE(db->del(k));
        model.erase(k);
      } else {
        std::string v = random_value(rng).substr(0, 2000);
        REQUIRE(db->put(k, v));
        model[k] = v;
      }
      if (op % 1500 == 0) snapshots.emplace_back(db->snapshot(), model);
    }
    CHECK(db->stats().flushes >= 3);
    if (compact) {
      REQUIRE(db->compact_range(std::nullopt, std::nullopt));
      CHECK(db->stats().compactions > 0);
    }
    CHECK(db->snapshots().size() == snapshots.size());
    for (auto& [snap, snap_model] : snapshots) {
      ReadOptions o;
      o.snapshot = &snap;
      for (int i = 0; i < 300; ++i) {
        std::string k = random_key(rng);
        auto it = snap_model.find(k);
        auto got = get_ok(*db, k, o);
        REQUIRE((it == snap_model.end() ? got == std::nullopt : got == it->second));
      }
      for (int i = 0; i < 10; ++i) check_scan(*db, snap_model, rng, &snap);
    }
    snapshots.clear();
    CHECK(db->snapshots().empty());
    REQUIRE(db->close());
  });
}

}  // namespace

TEST_CASE("db snapshot reads stay fixed while writes and flushes go on") {
  run_snapshot_model("db snapshot", small_options(), false);
}

TEST_CASE("db snapshot reads stay fixed while compactions go on") {
  run_snapshot_model("db snapshot compaction", compacting_options(), true);
}
