// The rank index of sorted sets (zset_rank.h): a model check of ZSet's rank_of and
// seek_rank against a sorted model through adds, score updates, removes, pops from both
// ends, range removals and rank queries (the far ones build the index on demand), with
// small buckets, fanout and walk limit so the index is built early and grows several levels
// and shrinks again, each command committed (some commands do many writes, so the index
// reads its own staged changes), the database reopened now and then, and every record
// checked against the entries after every command; and the on-demand policy itself.
#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
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

// Buckets of up to 8 entries, nodes of up to 4 separators: depth 5 at a few hundred members;
// a rank more than 8 entries from both ends builds the index.
constexpr RankShape kShape{.bucket = 4, .fanout = 2, .walk = 8};


using Model = std::set<std::pair<double, std::string>>;

// Every member's rank both ways (rank_of, and seek_rank landing on it).
void check_ranks(ZSet& z, const Model& model, std::uint64_t seed, int step) {
  REQUIRE(z.size() == model.size());
  std::uint64_t rank = 0;
  for (const auto& entry : model) {
    const double score = entry.first;
    const std::string& member = entry.second;
    auto got = z.rank_of(z.index_key(score, member));
    REQUIRE_MESSAGE(got, got.error().to_string());
    REQUIRE_MESSAGE(*got == rank, "seed " << seed << " step " << step << " member " << member);
    auto c = z.index();
    REQUIRE(z.seek_rank(c, rank));
    REQUIRE(c.valid());
    REQUIRE_MESSAGE(z.index_member(c.key()) == member, "seed " << seed << " step " << step);
    ++rank;
  }
}

}  // namespace

TEST_CASE("shortest_separator is the shortest prefix of an entry above the entry before it") {
  CHECK(shortest_separator("abc", "abd") == "abd");
  CHECK(shortest_separator("abc", "b") == "b");
  CHECK(shortest_separator("a", "abcdef") == "ab");
  CHECK(shortest_separator("", "xyz") == "x");
  CHECK(shortest_separator(std::string("a\x01z", 3), "a\x02") == std::string("a\x02", 2));
}

TEST_CASE("a sorted set header carries its rank index height; a bad height is corruption") {
  CollectionHeader h;
  h.version = 3;
  h.size = 1000;
  h.rank_height = 3;
  std::string payload;
  append_collection_payload(payload, KeyType::kZSet, h);
  CHECK(payload.size() == 16 + 4 + 4 + 1);  // empty bounds, then the height
  auto decoded = decode_collection_payload(KeyType::kZSet, payload);
  REQUIRE(decoded);
  CHECK(decoded->rank_height == 3);
  CHECK(decoded->index_low.empty());

  h.rank_height = 0;  // no index: the payload of before the index, read as "no index"
  std::string plain;
  append_collection_payload(plain, KeyType::kZSet, h);
  CHECK(plain.size() == 16);
  CHECK(decode_collection_payload(KeyType::kZSet, plain)->rank_height == 0);

  std::string zero = payload;
  zero.back() = 0;
  CHECK(decode_collection_payload(KeyType::kZSet, zero).error().is_corruption());
  std::string tall = payload;
  tall.back() = static_cast<char>(kMaxRankHeight + 1);
  CHECK(decode_collection_payload(KeyType::kZSet, tall).error().is_corruption());
  CHECK(decode_collection_payload(KeyType::kZSet, payload + "x").error().is_corruption());
}

TEST_CASE("ranks through the rank index match a model as the set grows and shrinks") {
  const std::uint64_t seed = testing::test_seed("zset rank");
  std::mt19937_64 rng(seed);
  IoLoop loop;
  FaultFileSystem fs;
  run_fiber(loop, [&] {
    auto db = open_db(fs, "/db", small_options());
    Model model;
    std::map<std::string, double> scores;
    int max_height = 0, reopens = 0, merges_seen = 0, built_at = -1;
    bool indexed = false;  // a far rank query was committed: the index exists from then on
    std::size_t peak = 0;
    const int kSteps = 700;
    for (int step = 0; step < kSteps; ++step) {
      const bool growing = step < kSteps / 2;
      StagedWrites w(*db);
      auto c = Collection::open(w, 0, "z", KeyType::kZSet, load_record(*db, "z"));
      REQUIRE(c);
      if (!c->exists()) c->create(1000 + static_cast<std::uint64_t>(step));
      std::optional<ZSet> writer;  // its cursors end before a reopen closes the engine
      ZSet& z = writer.emplace(*c, RankBuild::kOnDemand, kShape);
      const int ops = 1 + static_cast<int>(rng() % 12);
      for (int o = 0; o < ops; ++o) {
        const int op = static_cast<int>(rng() % 100);
        const int add_share = growing ? 85 : 25;
        if (op >= 97 && !model.empty()) {  // ZRANGE / ZRANK at a random rank
          const std::uint64_t rank = rng() % model.size();
          const auto& [score, member] = *std::next(model.begin(), static_cast<long>(rank));
          const bool far = std::min<std::uint64_t>(rank, model.size() - 1 - rank) > kShape.walk;
          const bool had = z.has_rank_index();
          if (rng() % 2 == 0) {
            auto c = z.index();
            REQUIRE(z.seek_rank(c, rank));
            REQUIRE(c.valid());
            REQUIRE_MESSAGE(z.index_member(c.key()) == member, "seed " << seed << " step " << step);
          } else {
            auto got = z.rank_of(z.index_key(score, member));
            REQUIRE(got);
            REQUIRE_MESSAGE(*got == rank, "seed " << seed << " step " << step);
          }
          // Built by a far query only, once.
          CHECK(z.has_rank_index() == (had || far));
          if (!had && far) built_at = step;
        } else if (op < add_share || scores.empty()) {  // ZADD / ZINCRBY: new member or new score
          std::string member = "m" + std::to_string(rng() % 5000);
          if (rng() % 10 == 0) member.append(40, 'x');  // long members: long separators
          // Few distinct scores, so many entries share one and order by member.
          const double score = static_cast<double>(static_cast<int>(rng() % 40) - 20);
          auto old = z.score(member);
          REQUIRE(old);
          REQUIRE(z.set(member, score, *old));
          if (old->has_value()) model.erase({**old, member});
          model.insert({score, member});
          scores[member] = score;
        } else if (op < add_share + 6) {  // ZREM
          auto it = std::next(scores.begin(), static_cast<long>(rng() % scores.size()));
          REQUIRE(z.remove(it->first, it->second));
          model.erase({it->second, it->first});
          scores.erase(it);
        } else if (op < add_share + 14) {  // ZPOPMIN / ZPOPMAX of a few
          const bool max = rng() % 2 == 0;
          const int count = 1 + static_cast<int>(rng() % 5);
          std::vector<std::pair<double, std::string>> popped;
          for (int i = 0; i < count && !model.empty(); ++i) {
            popped.push_back(max ? *model.rbegin() : *model.begin());
            model.erase(popped.back());
            scores.erase(popped.back().second);
          }
          if (!model.empty() && !popped.empty()) {  // as commands/zset_walk.cc pop_members
            const auto& next = max ? *model.rbegin() : *model.begin();
            const std::string key = z.index_key(next.first, next.second);
            if (max) {
              z.removed_above(key);
            } else {
              z.removed_below(key);
            }
          }
          for (const auto& [score, member] : popped) REQUIRE(z.remove(member, score));
        } else {  // ZREMRANGEBYSCORE of one score
          const double score = static_cast<double>(static_cast<int>(rng() % 40) - 20);
          std::vector<std::string> doomed;
          for (auto it = model.lower_bound({score, ""}); it != model.end() && it->first == score;
               ++it) {
            doomed.push_back(it->second);
          }
          for (const std::string& member : doomed) {
            REQUIRE(z.remove(member, score));
            model.erase({score, member});
            scores.erase(member);
          }
        }
        if (model.empty()) break;
      }
      const bool was_indexed = z.has_rank_index();
      if (!indexed) CHECK(was_indexed == z.built_rank_index());
      indexed = was_indexed;
      c->finish();
      REQUIRE(w.commit(false));
      writer.reset();
      peak = std::max(peak, model.size());
      if (model.empty()) continue;

      if (rng() % 60 == 0) {  // reopen: the index is what the engine holds
        REQUIRE(db->close());
        db = open_db(fs, "/db", small_options());
        ++reopens;
      }
      StagedWrites r(*db);
      auto again = Collection::open(r, 0, "z", KeyType::kZSet, load_record(*db, "z"));
      REQUIRE(again);
      REQUIRE(again->exists());
      ZSet zr(*again, RankBuild::kNever, kShape);
      CHECK(zr.has_rank_index() == indexed);
      // Without an index there is not one record of it (check_rank_index verifies that).
      Status checked = zr.check_rank_index();
      REQUIRE_MESSAGE(checked, "seed " << seed << " step " << step << ": " << checked.to_string());
      max_height = std::max<int>(max_height, again->header().rank_height);
      if (!growing && model.size() < peak / 2) ++merges_seen;
      if (step % 25 == 0 || step == kSteps - 1) check_ranks(zr, model, seed, step);
    }
    MESSAGE("peak " << peak << " members, height " << max_height << ", final "
                    << model.size() << ", reopens " << reopens << ", built at step " << built_at);
    CHECK(built_at > 0);  // the first steps ran without an index
    CHECK(max_height >= 5);
    CHECK(merges_seen > 0);
    REQUIRE(db->close());
  });
}

// 500 members, committed: `z` opened on them with `build`.
struct Filled {
  StagedWrites writes;
  std::optional<Collection> coll;
  std::optional<ZSet> z;
  Filled(std::unique_ptr<engine::DB>& db, RankBuild build) : writes(*db) {
    auto c = Collection::open(writes, 0, "z", KeyType::kZSet, load_record(*db, "z"));
    REQUIRE(c);
    coll.emplace(std::move(*c));
    z.emplace(*coll, build, kShape);
  }
};

void fill(std::unique_ptr<engine::DB>& db, Model& model) {
  StagedWrites w(*db);
  auto c = Collection::open(w, 0, "z", KeyType::kZSet, std::nullopt);
  REQUIRE(c);
  c->create(7);
  ZSet z(*c, RankBuild::kOnDemand, kShape);
  for (int i = 0; i < 500; ++i) {
    const double score = (i * 7919) % 113;
    const std::string member = "e" + std::to_string(i);
    REQUIRE(z.set(member, score, std::nullopt));
    model.insert({score, member});
  }
  CHECK(!z.has_rank_index());
  c->finish();
  REQUIRE(w.commit(false));
}

TEST_CASE("a set filled by adds has no rank index until a rank far from both ends") {
  IoLoop loop;
  FaultFileSystem fs;
  run_fiber(loop, [&] {
    auto db = open_db(fs, "/db", small_options());
    Model model;
    fill(db, model);
    const std::vector<std::pair<double, std::string>> order(model.begin(), model.end());
    const std::uint64_t n = order.size();
    {
      Filled f(db, RankBuild::kOnDemand);
      ZSet& z = *f.z;
      CHECK(f.coll->header().rank_height == 0);
      REQUIRE(z.check_rank_index());  // height 0: no separator or count record at all
      // Near either end (at most `walk` entries away): walked, nothing built.
      for (std::uint64_t rank : {std::uint64_t{0}, std::uint64_t{kShape.walk}, n - 1,
                                 n - 1 - kShape.walk}) {
        auto c = z.index();
        REQUIRE(z.seek_rank(c, rank));
        REQUIRE(c.valid());
        CHECK(z.index_member(c.key()) == order[rank].second);
        auto got = z.rank_of(z.index_key(order[rank].first, order[rank].second));
        REQUIRE(got);
        CHECK(*got == rank);
      }
      CHECK(!z.has_rank_index());
      CHECK(!z.built_rank_index());
      // One step farther builds it, and answers through it.
      auto c = z.index();
      REQUIRE(z.seek_rank(c, kShape.walk + 1));
      REQUIRE(c.valid());
      CHECK(z.index_member(c.key()) == order[kShape.walk + 1].second);
      CHECK(z.built_rank_index());
      REQUIRE(z.has_rank_index());
      REQUIRE(z.check_rank_index());
      check_ranks(z, model, 0, 0);
      // Not committed: the engine still holds no index.
    }
    {
      Filled f(db, RankBuild::kAsk);  // a plain reader: refuses a far rank, builds nothing
      ZSet& z = *f.z;
      const auto& [score, member] = order[n / 2];
      auto got = z.rank_of(z.index_key(score, member));
      REQUIRE(!got);
      CHECK(z.rank_index_wanted());
      CHECK(!z.has_rank_index());
      CHECK(f.writes.empty());
    }
    {
      Filled f(db, RankBuild::kNever);  // walks however far
      ZSet& z = *f.z;
      const auto& [score, member] = order[n / 2];
      auto got = z.rank_of(z.index_key(score, member));
      REQUIRE(got);
      CHECK(*got == n / 2);
      auto c = z.index();
      REQUIRE(z.seek_rank(c, n / 3));
      CHECK(z.index_member(c.key()) == order[n / 3].second);
      CHECK(!z.has_rank_index());
      CHECK(f.writes.empty());
    }
    {
      // rank_of far from both ends builds too; committed, it is there after a reopen.
      Filled f(db, RankBuild::kOnDemand);
      ZSet& z = *f.z;
      const auto& [score, member] = order[n / 2];
      auto got = z.rank_of(z.index_key(score, member));
      REQUIRE(got);
      CHECK(*got == n / 2);
      CHECK(z.built_rank_index());
      f.coll->finish();
      REQUIRE(f.writes.commit(false));
    }
    REQUIRE(db->close());
    db = open_db(fs, "/db", small_options());
    {
      Filled f(db, RankBuild::kOnDemand);
      CHECK(f.coll->header().rank_height > 0);
      REQUIRE(f.z->check_rank_index());
      check_ranks(*f.z, model, 0, 1);
      CHECK(!f.z->built_rank_index());
      // Kept by writes from then on.
      REQUIRE(f.z->set("late", 5.5, std::nullopt));
      model.insert({5.5, "late"});
      REQUIRE(f.z->check_rank_index());
      check_ranks(*f.z, model, 0, 2);
    }
    REQUIRE(db->close());
  });
}

TEST_CASE("an entry lost behind the index's back is found by the checker and by a rank seek") {
  IoLoop loop;
  FaultFileSystem fs;
  run_fiber(loop, [&] {
    auto db = open_db(fs, "/db", small_options());
    StagedWrites w(*db);
    auto c = Collection::open(w, 0, "z", KeyType::kZSet, std::nullopt);
    REQUIRE(c);
    c->create(9);
    ZSet z(*c, RankBuild::kOnDemand, kShape);
    for (int i = 0; i < 100; ++i) REQUIRE(z.set("m" + std::to_string(i), i, std::nullopt));
    auto middle = z.index();
    REQUIRE(z.seek_rank(middle, 50));  // builds the index
    REQUIRE(z.has_rank_index());
    REQUIRE(z.check_rank_index());
    // The last entry goes without its count: its bucket now counts one entry too many.
    w.del(z.index_key(99, "m99"));
    CHECK(z.check_rank_index().is_corruption());
    auto last = z.index();
    CHECK(z.seek_rank(last, 99).is_corruption());
    REQUIRE(db->close());
  });
}
