// The score index bounds a sorted set's header keeps (CollectionHeader::index_low and
// index_high): their encoding, and a model test of ZSet's adds, updates, removes and pops
// from both ends, each committed and the set reopened from its stored record, so the
// bounds are the ones a later command reads.
#include <doctest/doctest.h>

#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "src/types/zset.h"
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
using cascade::types::test_util::load_record;

namespace {


// Pops `count` members from one end as ZPOPMIN/ZPOPMAX do (commands/zset_walk.cc).
std::vector<std::string> pop(ZSet& z, bool max, int count) {
  std::vector<std::pair<std::string, double>> popped;
  auto c = z.index();
  if (max) {
    c.seek_to_last();
  } else {
    c.seek_to_first();
  }
  for (int n = 0; n < count && c.valid(); ++n) {
    popped.emplace_back(std::string(z.index_member(c.key())), z.index_score(c.key()));
    if (max) {
      c.prev();
    } else {
      c.next();
    }
  }
  REQUIRE(c.status());
  if (c.valid() && !popped.empty()) {
    if (max) {
      z.removed_above(c.key());
    } else {
      z.removed_below(c.key());
    }
  }
  std::vector<std::string> out;
  for (const auto& [member, score] : popped) {
    REQUIRE(z.remove(member, score));
    out.push_back(member);
  }
  return out;
}

}  // namespace

TEST_CASE("a sorted set header carries its index bounds, and malformed bounds are corruption") {
  CollectionHeader h;
  h.version = 9;
  h.size = 2;
  std::string plain;
  append_collection_payload(plain, KeyType::kZSet, h);
  CHECK(plain.size() == 16);  // no bounds: the format every sorted set had before them

  h.index_low = std::string("\x80\x00\x00\x00\x00\x00\x00\x01m1", 10);
  h.index_high = std::string("\xc0\x00\x00\x00\x00\x00\x00\x00", 8);
  std::string bounded;
  append_collection_payload(bounded, KeyType::kZSet, h);
  CHECK(bounded.size() == 16 + 4 + 10 + 4 + 8);
  auto decoded = decode_collection_payload(KeyType::kZSet, bounded);
  REQUIRE(decoded);
  CHECK(decoded->size == 2);
  CHECK(decoded->index_low == h.index_low);
  CHECK(decoded->index_high == h.index_high);

  // Bounds belong to sorted sets only; a truncated or overlong one is corruption.
  CHECK(decode_collection_payload(KeyType::kSet, bounded).error().is_corruption());
  CHECK(decode_collection_payload(KeyType::kZSet, bounded.substr(0, bounded.size() - 1))
            .error()
            .is_corruption());
  CHECK(decode_collection_payload(KeyType::kZSet, bounded + "x").error().is_corruption());
  std::string overlong = plain;
  engine::put_fixed32(overlong, kMaxIndexBound + 1);
  overlong.append(kMaxIndexBound + 1, 'a');
  engine::put_fixed32(overlong, 0);
  CHECK(decode_collection_payload(KeyType::kZSet, overlong).error().is_corruption());
}

TEST_CASE("sorted set pops start at the next live entry and adds keep the bounds valid") {
  const std::uint64_t seed = testing::test_seed("zset bounds");
  std::mt19937_64 rng(seed);
  IoLoop loop;
  FaultFileSystem fs;
  run_fiber(loop, [&] {
    auto db = open_db(fs, "/db", small_options());
    std::map<std::string, double> model;
    int steps = 0, pops = 0, started_at_live = 0;
    for (; steps < 1500; ++steps) {
      StagedWrites w(*db);
      auto c = Collection::open(w, 0, "z", KeyType::kZSet, load_record(*db, "z"));
      REQUIRE(c);
      if (!c->exists()) c->create(1000 + static_cast<std::uint64_t>(steps));
      ZSet z(*c);
      const int op = static_cast<int>(rng() % 10);
      if (op < 5 || model.empty()) {  // add or update; some members longer than a bound
        std::string member = "m" + std::to_string(rng() % 300);
        if (rng() % 8 == 0) member.append(100, 'x');
        double score = static_cast<double>(static_cast<int>(rng() % 200) - 100);
        auto old = z.score(member);
        REQUIRE(old);
        REQUIRE(z.set(member, score, *old));
        model[member] = score;
      } else if (op < 6) {  // remove one
        auto it = std::next(model.begin(), static_cast<long>(rng() % model.size()));
        REQUIRE(z.remove(it->first, it->second));
        model.erase(it);
      } else {  // pop from either end
        const bool max = op >= 8;
        const int count = 1 + static_cast<int>(rng() % 3);
        std::vector<std::pair<double, std::string>> order;
        for (const auto& [m, s] : model) order.emplace_back(s, m);
        std::sort(order.begin(), order.end());
        if (max) std::reverse(order.begin(), order.end());
        std::vector<std::string> expected;
        for (int i = 0; i < count && i < static_cast<int>(order.size()); ++i) {
          expected.push_back(order[i].second);
          model.erase(order[i].second);
        }
        CHECK(pop(z, max, count) == expected);
        ++pops;
      }
      c->finish();
      REQUIRE(w.commit(false));

      // Reopened, the index walks the model's order both ways.
      StagedWrites r(*db);
      auto again = Collection::open(r, 0, "z", KeyType::kZSet, load_record(*db, "z"));
      REQUIRE(again);
      REQUIRE(again->exists() == !model.empty());
      if (model.empty()) continue;
      ZSet zr(*again);
      std::vector<std::pair<double, std::string>> order;
      for (const auto& [m, s] : model) order.emplace_back(s, m);
      std::sort(order.begin(), order.end());
      std::vector<std::pair<double, std::string>> forward, backward;
      auto cur = zr.index();
      for (cur.seek_to_first(); cur.valid(); cur.next()) {
        forward.emplace_back(zr.index_score(cur.key()), std::string(zr.index_member(cur.key())));
      }
      for (cur.seek_to_last(); cur.valid(); cur.prev()) {
        backward.emplace_back(zr.index_score(cur.key()), std::string(zr.index_member(cur.key())));
      }
      std::reverse(backward.begin(), backward.end());
      REQUIRE_MESSAGE(forward == order, "seed " << seed << " step " << steps);
      REQUIRE(backward == order);
      // A bound kept after a pop from the low end names the first live entry itself
      // (unless that member is too long to keep), so the next pop seeks straight to it.
      const std::string& low = again->header().index_low;
      if (low.size() > 8) {
        std::string first = zr.index_key(order.front().first, order.front().second);
        if (low == first.substr(again->prefix().size() + 1)) ++started_at_live;
      }
    }
    MESSAGE("pops " << pops << ", states whose low bound is the first live entry "
                    << started_at_live);
    CHECK(pops > 300);
    CHECK(started_at_live > 100);
    REQUIRE(db->close());
  });
}

TEST_CASE("a thousand pops from a sorted set's low end each start at a live entry") {
  IoLoop loop;
  FaultFileSystem fs;
  run_fiber(loop, [&] {
    auto db = open_db(fs, "/db", small_options());
    {
      StagedWrites w(*db);
      auto c = Collection::open(w, 0, "q", KeyType::kZSet, std::nullopt);
      REQUIRE(c);
      c->create(5);
      ZSet z(*c);
      for (int i = 0; i < 2000; ++i) REQUIRE(z.set("job" + std::to_string(i), i, std::nullopt));
      c->finish();
      REQUIRE(w.commit(false));
    }
    for (int i = 0; i < 1000; ++i) {
      StagedWrites w(*db);
      auto c = Collection::open(w, 0, "q", KeyType::kZSet, load_record(*db, "q"));
      REQUIRE(c);
      ZSet z(*c);
      // Without the bound this cursor's range starts before the i deleted entries.
      auto before = z.index();
      before.seek_to_first();
      REQUIRE(before.valid());
      CHECK(z.index_member(before.key()) == "job" + std::to_string(i));
      if (i > 0) {
        CHECK(c->header().index_low ==
              z.index_key(i, "job" + std::to_string(i)).substr(c->prefix().size() + 1));
      }
      CHECK(pop(z, false, 1) == std::vector<std::string>{"job" + std::to_string(i)});
      c->finish();
      REQUIRE(w.commit(false));
    }
    REQUIRE(db->close());
  });
}
