// types::List over a real engine against a std::deque model: random pushes, pops, sets,
// inserts, removals and trims, each committed as one batch, the list read back whole and
// by position after every step, and the indexes checked to stay contiguous ([head, tail)
// holds exactly size entries). The seed is printed; CASCADE_SEED=<seed> replays it.
#include "src/types/list.h"

#include <doctest/doctest.h>

#include <cstdlib>
#include <deque>
#include <random>
#include <string>
#include <vector>

#include "src/types/keyspace.h"
#include "tests/unit/engine/db/db_test_util.h"

using namespace cascade;
using namespace cascade::types;
using cascade::engine::db_test::open_db;
using cascade::engine::db_test::run_fiber;
using cascade::engine::db_test::small_options;
using cascade::runtime::testing::IoLoop;
using cascade::test_support::FaultFileSystem;

namespace {

constexpr std::int64_t kNow = 1'700'000'000'000;
constexpr std::uint32_t kDb = 0;
const std::string kKey = "list";

// Opens the key under its lock, runs fn(list, collection), commits.
template <typename Fn>
void edit(Keyspace& keyspace, Fn fn) {
  LockedKey lock(keyspace, kDb, kKey, false);
  auto record = lock.load(kNow);
  REQUIRE(record);
  auto c = Collection::open(lock.writes(), lock.db_id(), kKey, KeyType::kList, *record);
  REQUIRE(c);
  if (!c->exists()) c->create(keyspace.new_version(kNow));
  List list(*c);
  fn(list, *c);
  c->finish();
  REQUIRE(lock.commit());
}

std::vector<std::string> read_all(Keyspace& keyspace, CollectionHeader* header) {
  auto record = keyspace.read(kDb, kKey, kNow);
  REQUIRE(record);
  if (!record->has_value()) return {};
  StagedWrites none(keyspace.engine());
  auto c = Collection::open(none, keyspace.ids().id_of(kDb), kKey, KeyType::kList, *record);
  REQUIRE(c);
  *header = c->header();
  // Every member entry of the version, in key order: exactly [head, tail).
  std::vector<std::string> out;
  std::uint64_t expected = c->header().head;
  auto cursor = c->cursor();
  for (cursor.seek_to_first(); cursor.valid(); cursor.next()) {
    CHECK(load_u64_be(cursor.key().substr(c->prefix().size())) == expected);
    ++expected;
    out.emplace_back(cursor.value());
  }
  REQUIRE(cursor.status());
  CHECK(expected == c->header().tail);
  List list(*c);
  if (list.size() > 0) {  // one position read back by a seek
    const std::uint64_t mid = list.size() / 2;
    auto at = list.at(mid);
    REQUIRE(at);
    CHECK(*at == out[mid]);
  }
  return out;
}

}  // namespace

TEST_CASE("a list keeps its elements at contiguous indexes through random edits") {
  const unsigned seed = std::getenv("CASCADE_SEED") != nullptr
                            ? static_cast<unsigned>(std::strtoul(std::getenv("CASCADE_SEED"), nullptr, 10))
                            : std::random_device{}();
  INFO("seed " << seed);
  MESSAGE("list model test seed " << seed);
  std::mt19937 rng(seed);
  IoLoop loop;
  FaultFileSystem fs;
  run_fiber(loop, [&] {
    auto keyspace = std::make_unique<Keyspace>(open_db(fs, "/db", small_options()));
    REQUIRE(keyspace->open());
    std::deque<std::string> model;
    int next_value = 0;
    auto value = [&] { return "v" + std::to_string(next_value++ % 7); };
    for (int step = 0; step < 400; ++step) {
      const int op = static_cast<int>(rng() % 8);
      edit(*keyspace, [&](List& list, Collection&) {
        const std::uint64_t n = list.size();
        if (op <= 1 || n == 0) {
          const std::string v = value();
          const bool head = rng() % 2 == 0;
          list.push(head ? ListEnd::kHead : ListEnd::kTail, v);
          if (head) model.push_front(v); else model.push_back(v);
        } else if (op == 2) {
          const std::uint64_t count = rng() % (n + 2);
          const bool head = rng() % 2 == 0;
          auto popped = list.pop(head ? ListEnd::kHead : ListEnd::kTail, count);
          REQUIRE(popped);
          for (const std::string& v : *popped) {
            CHECK(v == (head ? model.front() : model.back()));
            if (head) model.pop_front(); else model.pop_back();
          }
        } else if (op == 3) {
          const std::uint64_t pos = rng() % n;
          const std::string v = value();
          list.set(pos, v);
          model[pos] = v;
        } else if (op == 4 || op == 5) {
          const std::uint64_t pos = rng() % (n + 1);
          const std::string v = value();
          REQUIRE(list.insert(pos, v));
          model.insert(model.begin() + static_cast<std::ptrdiff_t>(pos), v);
        } else if (op == 6) {
          std::vector<std::uint64_t> positions;
          for (std::uint64_t p = 0; p < n; ++p) {
            if (rng() % 4 == 0) positions.push_back(p);
          }
          REQUIRE(list.remove(positions));
          for (auto it = positions.rbegin(); it != positions.rend(); ++it) {
            model.erase(model.begin() + static_cast<std::ptrdiff_t>(*it));
          }
        } else {
          const std::uint64_t first = rng() % n;
          const std::uint64_t last = first + rng() % (n - first);
          list.trim(first, last);
          model.erase(model.begin() + static_cast<std::ptrdiff_t>(last + 1), model.end());
          model.erase(model.begin(), model.begin() + static_cast<std::ptrdiff_t>(first));
        }
      });
      CollectionHeader header;
      const std::vector<std::string> stored = read_all(*keyspace, &header);
      REQUIRE(stored == std::vector<std::string>(model.begin(), model.end()));
      if (!model.empty()) CHECK(header.size == model.size());
    }
    REQUIRE(keyspace->close());
  });
}

TEST_CASE("a list scan reads a range forward and backward from one seek") {
  IoLoop loop;
  FaultFileSystem fs;
  run_fiber(loop, [&] {
    auto keyspace = std::make_unique<Keyspace>(open_db(fs, "/db", small_options()));
    REQUIRE(keyspace->open());
    edit(*keyspace, [](List& list, Collection&) {
      for (int i = 0; i < 100; ++i) list.push(ListEnd::kTail, std::to_string(i));
      for (int i = 1; i <= 5; ++i) list.push(ListEnd::kHead, "-" + std::to_string(i));
    });
    edit(*keyspace, [](List& list, Collection&) {
      std::vector<std::string> seen;
      REQUIRE(list.scan(50, 53, [&](std::uint64_t, std::string_view v) {
        seen.emplace_back(v);
        return true;
      }));
      CHECK(seen == std::vector<std::string>{"45", "46", "47", "48"});
      seen.clear();
      REQUIRE(list.scan_backward(0, 6, [&](std::uint64_t pos, std::string_view v) {
        seen.emplace_back(v);
        return pos > 3;
      }));
      CHECK(seen == std::vector<std::string>{"1", "0", "-1", "-2"});
      auto first = list.at(0);
      REQUIRE(first);
      CHECK(*first == "-5");
    });
    REQUIRE(keyspace->close());
  });
}
