#include "engine/memtable/memtable.h"

#include <doctest/doctest.h>

#include <iterator>
#include <map>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/write_batch.h"
#include "tests/support/test_seed.h"

using namespace cascade::engine;
using cascade::Result;
using cascade::Status;

namespace {

std::string internal_key(std::string_view user, SequenceNumber seq, ValueType type) {
  std::string s;
  append_internal_key(s, user, seq, type);
  return s;
}

// The model: every entry keyed by (user key, trailer), ordered as internal keys are.
struct ModelKey {
  std::string user;
  std::uint64_t trailer;
};
struct ModelLess {
  bool operator()(const ModelKey& a, const ModelKey& b) const {
    if (a.user != b.user) return a.user < b.user;
    return a.trailer > b.trailer;
  }
};
using Model = std::map<ModelKey, std::string, ModelLess>;

std::string model_internal_key(const ModelKey& k) {
  std::string s = k.user;
  put_fixed64(s, k.trailer);
  return s;
}

// Keys chosen to stress the prefix comparison: shared 8-byte prefixes, zero bytes that
// look like padding, 0xff bytes, the empty key.
class KeyPool {
 public:
  explicit KeyPool(std::mt19937_64& rng) : rng_(rng) {
    keys_ = {"", std::string(1, '\0'), "a", std::string("a\0", 2), std::string("a\0\0", 3),
             "abcdefgh", "abcdefgh\x01", "abcdefgi", std::string(9, '\xff')};
    for (int i = 0; i < 150; ++i) keys_.push_back(random_key());
  }
  const std::string& existing() { return keys_[rng_() % keys_.size()]; }
  std::string random_key() {
    static const std::string kStems[] = {"", "user:", "abcdefgh", std::string(8, '\0')};
    std::string k = kStems[rng_() % 4];
    std::size_t n = rng_() % 6;
    for (std::size_t i = 0; i < n; ++i) k.push_back("\x00\x01az\xfe\xff"[rng_() % 6]);
    return k;
  }

 private:
  std::mt19937_64& rng_;
  std::vector<std::string> keys_;
};

// Checks get() against the model for one key and snapshot.
void check_get(const MemTable& mem, const Model& model, const std::string& user,
               SequenceNumber snapshot) {
  LookupResult got = mem.get(user, snapshot);
  auto it = model.lower_bound({user, pack_trailer(snapshot, kValueTypeForSeek)});
  if (it == model.end() || it->first.user != user) {
    REQUIRE(got.state == LookupState::kNotPresent);
    return;
  }
  auto type = static_cast<ValueType>(it->first.trailer & 0xff);
  REQUIRE(got.sequence == (it->first.trailer >> 8));
  if (type == ValueType::kDeletion) {
    REQUIRE(got.state == LookupState::kDeleted);
  } else {
    REQUIRE(got.state == LookupState::kFound);
    REQUIRE(got.type == type);
    REQUIRE(got.value == it->second);
  }
}

// Seeks both to an internal key, then takes random steps each way comparing every entry.
void check_walk(const MemTable& mem, const Model& model, std::mt19937_64& rng,
                const std::string& user, std::uint64_t trailer) {
  MemTable::Iterator it(mem);
  std::string target = model_internal_key({user, trailer});
  it.seek(target);
  auto expect = model.lower_bound({user, trailer});
  for (int step = 0; step < 40; ++step) {
    if (expect == model.end()) {
      REQUIRE_FALSE(it.valid());
      return;
    }
    REQUIRE(it.valid());
    REQUIRE(it.key() == model_internal_key(expect->first));
    REQUIRE(it.value() == expect->second);
    if (rng() % 3 == 0) {
      if (expect == model.begin()) {
        it.prev();
        REQUIRE_FALSE(it.valid());
        return;
      }
      --expect;
      it.prev();
    } else {
      ++expect;
      it.next();
    }
  }
}

// An iterator kept open while the memtable grows, and the entry it stands on.
struct OpenIterator {
  std::unique_ptr<MemTable::Iterator> it;
  ModelKey at;
};

void check_open_iterator_steps(OpenIterator& open, const Model& model, bool forward) {
  auto here = model.find(open.at);
  REQUIRE(here != model.end());
  REQUIRE(open.it->key() == model_internal_key(open.at));
  if (forward) {
    open.it->next();
    ++here;
  } else {
    open.it->prev();
    here = here == model.begin() ? model.end() : std::prev(here);
  }
  if (here == model.end()) {
    REQUIRE_FALSE(open.it->valid());
    open.it.reset();
    return;
  }
  REQUIRE(open.it->valid());
  REQUIRE(open.it->key() == model_internal_key(here->first));
  open.at = here->first;
}

}  // namespace

// The model test's body over a memtable sized for `size_target` (which sizes its point
// index); returns whether the point index still held every key at the end.
bool check_against_model(const char* seed_name, std::size_t size_target) {
  std::uint64_t seed = cascade::testing::test_seed(seed_name);
  MESSAGE("CASCADE_SEED=" << seed);
  std::mt19937_64 rng(seed);
  KeyPool keys(rng);
  MemTable mem(nullptr, size_target);
  Model model;
  std::vector<OpenIterator> open(4);
  SequenceNumber seq = 0;

  for (int op = 0; op < 30000; ++op) {
    INFO("op " << op);
    unsigned dice = rng() % 100;
    if (dice < 55) {
      const std::string& user = keys.existing();
      ValueType type = rng() % 4 == 0 ? ValueType::kDeletion
                       : rng() % 8 == 0 ? ValueType::kValuePointer
                                        : ValueType::kValue;
      std::string value =
          type == ValueType::kDeletion ? "" : std::string(rng() % 40, 'a' + rng() % 26);
      mem.add(++seq, type, user, value);
      model[{user, pack_trailer(seq, type)}] = value;
    } else if (dice < 57) {
      // A run of ascending or descending keys, which the index packs specially (btree.h).
      int at = 300000 + static_cast<int>(rng() % 100000), direction = rng() % 2 == 0 ? 1 : -1;
      for (int i = 0; i < 60; ++i) {
        at += direction * static_cast<int>(1 + rng() % 3);
        std::string user = "run:" + std::to_string(at);
        mem.add(++seq, ValueType::kValue, user, "r");
        model[{user, pack_trailer(seq, ValueType::kValue)}] = "r";
      }
    } else if (dice < 80) {
      std::string user = rng() % 4 == 0 ? keys.random_key() : keys.existing();
      // Half at the newest snapshot, which the point index answers alone.
      const unsigned when = rng() % 4;
      const SequenceNumber snapshot = when == 0   ? kMaxSequenceNumber
                                      : when == 1 ? seq
                                                  : rng() % (seq + 2);
      check_get(mem, model, user, snapshot);
    } else if (dice < 90) {
      std::string user = rng() % 2 == 0 ? keys.random_key() : keys.existing();
      auto type = static_cast<ValueType>(rng() % 3);
      check_walk(mem, model, rng, user, pack_trailer(rng() % (seq + 2), type));
    } else {
      OpenIterator& o = open[rng() % open.size()];
      if (!o.it) {
        o.it = std::make_unique<MemTable::Iterator>(mem);
        o.it->seek_to_first();
        if (!o.it->valid()) {
          o.it.reset();
          continue;
        }
        o.at = model.begin()->first;
      } else {
        check_open_iterator_steps(o, model, rng() % 2 == 0);
      }
    }
  }
  CHECK(mem.entry_count() == model.size());

  MemTable::Iterator it(mem);
  auto expect = model.rbegin();
  for (it.seek_to_last(); it.valid(); it.prev(), ++expect) {
    REQUIRE(expect != model.rend());
    REQUIRE(it.key() == model_internal_key(expect->first));
  }
  CHECK(expect == model.rend());
  return mem.point_index_complete();
}

TEST_CASE("memtable matches a sorted-map model under random writes, reads and walks") {
  CHECK(check_against_model("memtable", kDefaultMemTableSize));
}

// The smallest point index (1024 slots) fills up early with the runs' keys: from then on
// misses descend the tree and the keys it holds must still be answered exactly.
TEST_CASE("memtable matches the model with a point index that filled up") {
  CHECK_FALSE(check_against_model("memtable full index", 1));
}

TEST_CASE("get returns the newest version at or below the snapshot among many") {
  MemTable mem;
  constexpr SequenceNumber kVersions = 5000;
  mem.add(1, ValueType::kValue, "before", "x");
  for (SequenceNumber s = 10; s < 10 + kVersions; ++s) {
    if (s % 7 == 0) {
      mem.add(s, ValueType::kDeletion, "hot", "");
    } else {
      mem.add(s, ValueType::kValue, "hot", std::to_string(s));
    }
  }
  mem.add(2, ValueType::kValue, "hotter", "y");

  CHECK(mem.get("hot", 9).state == LookupState::kNotPresent);
  for (SequenceNumber s = 10; s < 10 + kVersions; ++s) {
    LookupResult r = mem.get("hot", s);
    REQUIRE(r.sequence == s);
    if (s % 7 == 0) {
      REQUIRE(r.state == LookupState::kDeleted);
    } else {
      REQUIRE(r.state == LookupState::kFound);
      REQUIRE(r.value == std::to_string(s));
    }
  }
  CHECK(mem.get("hot", kMaxSequenceNumber).sequence == 10 + kVersions - 1);
  CHECK(mem.get("hot", UINT64_MAX).sequence == 10 + kVersions - 1);

  // Versions come newest first, between the neighbouring keys.
  MemTable::Iterator it(mem);
  it.seek(internal_key("hot", kMaxSequenceNumber, kValueTypeForSeek));
  SequenceNumber expect = 10 + kVersions;
  for (; it.valid() && extract_user_key(it.key()) == "hot"; it.next()) {
    REQUIRE((extract_trailer(it.key()) >> 8) == --expect);
  }
  CHECK(expect == 10);
  REQUIRE(it.valid());
  CHECK(extract_user_key(it.key()) == "hotter");
}

TEST_CASE("empty keys and empty values are ordinary entries") {
  MemTable mem;
  mem.add(1, ValueType::kValue, "", "empty key");
  mem.add(2, ValueType::kValue, "k", "");
  LookupResult r = mem.get("", 5);
  CHECK(r.state == LookupState::kFound);
  CHECK(r.value == "empty key");
  r = mem.get("k", 5);
  CHECK(r.state == LookupState::kFound);
  CHECK(r.value.empty());
  CHECK(mem.get(std::string_view("\0", 1), 5).state == LookupState::kNotPresent);

  MemTable::Iterator it(mem);
  it.seek_to_first();
  REQUIRE(it.valid());
  CHECK(it.key() == internal_key("", 1, ValueType::kValue));
}

TEST_CASE("a value pointer is found with its type") {
  MemTable mem;
  mem.add(3, ValueType::kValuePointer, "big", "file=7,offset=4096,size=900");
  LookupResult r = mem.get("big", 3);
  CHECK(r.state == LookupState::kFound);
  CHECK(r.type == ValueType::kValuePointer);
  CHECK(r.value == "file=7,offset=4096,size=900");
}

TEST_CASE("large values are stored whole and counted in memory usage") {
  MemTable mem;
  std::string one_mib(1 << 20, 'v');
  one_mib[12345] = 'w';
  std::size_t before = mem.approximate_memory_usage();
  mem.add(1, ValueType::kValue, "large", one_mib);
  mem.add(2, ValueType::kValue, "medium", std::string(100000, 'm'));
  CHECK(mem.approximate_memory_usage() - before >= (1 << 20) + 100000);
  CHECK(mem.get("large", 5).value == one_mib);
  CHECK(mem.get("medium", 5).value.size() == 100000);
}

TEST_CASE("memory usage tracks what was added closely enough to trigger a flush") {
  MemTable mem(nullptr, 4 << 20);  // sized for the target it is filled to, as the engine does
  std::size_t raw = 0;
  int n = 0;
  while (mem.approximate_memory_usage() < (4 << 20)) {
    std::string key = "key" + std::to_string(n);
    mem.add(++n, ValueType::kValue, key, std::string(64, 'v'));
    raw += key.size() + kTrailerSize + 64;
  }
  // Index nodes, the point index's slots (an eighth of the target) and length prefixes cost
  // something, but far less than the data here.
  CHECK(mem.approximate_memory_usage() > raw);
  CHECK(mem.approximate_memory_usage() < raw * 3 / 2 + (4 << 20) / 8);
  CHECK(mem.entry_count() == static_cast<std::size_t>(n));
}

TEST_CASE("a write batch applied with its sequences reads back through the memtable") {
  WriteBatch batch;
  batch.put("a", "1");
  batch.del("b");
  batch.put("a", "2");
  batch.set_sequence(100);
  MemTable mem;
  mem.add(50, ValueType::kValue, "b", "old");
  Status s = batch.for_each([&](const WriteBatchRecord& r) {
    mem.add(r.sequence, r.type, r.key, r.value);
  });
  REQUIRE(s.is_ok());
  CHECK(mem.get("a", 100).value == "1");
  CHECK(mem.get("a", 102).value == "2");
  CHECK(mem.get("b", 100).value == "old");
  CHECK(mem.get("b", 101).state == LookupState::kDeleted);
}

// add_all prefetches each group's tree paths and the entries that overwritten keys tie
// with, then inserts; the memtable it builds must equal the one add() builds, entry for
// entry, whatever the group sizes (past BTree::kMaxPrefetch too) and however often keys
// repeat (the ties), starting from an empty tree and from a deep one.
TEST_CASE("add_all builds the same memtable as add, group by group") {
  std::uint64_t seed = cascade::testing::test_seed("memtable add_all");
  MESSAGE("CASCADE_SEED=" << seed);
  std::mt19937_64 rng(seed);
  MemTable one, grouped;
  SequenceNumber seq = 0;
  std::vector<std::string> keys;  // the records' key and value bytes live here
  std::vector<std::string> values;
  keys.reserve(60000);
  values.reserve(60000);
  for (int round = 0; round < 400; ++round) {
    const std::size_t n = round < 4 ? round : rng() % 80;  // 0..79: past kMaxPrefetch
    std::vector<WriteBatchRecord> group;
    for (std::size_t i = 0; i < n; ++i) {
      // Few distinct keys with a long shared beginning: prefixes tie on every overwrite.
      keys.push_back("user:session:" + std::to_string(rng() % 5000));
      values.push_back(std::to_string(rng()));
      const ValueType type = rng() % 10 == 0 ? ValueType::kDeletion : ValueType::kValue;
      group.push_back({++seq, type, keys.back(),
                       type == ValueType::kDeletion ? std::string_view() : values.back()});
    }
    for (const WriteBatchRecord& r : group) one.add(r.sequence, r.type, r.key, r.value);
    grouped.add_all(group);
  }
  REQUIRE(one.entry_count() == grouped.entry_count());
  MemTable::Iterator a(one), b(grouped);
  a.seek_to_first();
  b.seek_to_first();
  std::size_t compared = 0;
  for (; a.valid() && b.valid(); a.next(), b.next(), ++compared) {
    REQUIRE(a.key() == b.key());
    REQUIRE(a.value() == b.value());
  }
  CHECK_FALSE(a.valid());
  CHECK_FALSE(b.valid());
  CHECK(compared == one.entry_count());
  CHECK(compared > 10000);
}

TEST_CASE("prefetch_lookups and prefetch_inserts leave every lookup's answer as it was") {
  MemTable mem;
  std::vector<std::string> probes;
  mem.prefetch_lookups({});  // an empty memtable: a root leaf, nothing to fetch
  mem.prefetch_inserts({});
  for (int i = 0; i < 20000; ++i) {  // several levels of index
    const std::string key = "k:" + std::to_string(i * 7919 % 20000);
    mem.add(static_cast<SequenceNumber>(i + 1), i % 13 == 0 ? ValueType::kDeletion : ValueType::kValue,
            key, i % 13 == 0 ? std::string() : "v" + std::to_string(i));
  }
  for (int i = 0; i < 70; ++i) probes.push_back("k:" + std::to_string(i * 997 % 25000));  // some absent
  std::vector<std::string_view> views(probes.begin(), probes.end());
  std::vector<LookupResult> before;
  for (std::string_view key : views) before.push_back(mem.get(key, kMaxSequenceNumber));
  for (std::size_t n : {std::size_t{1}, std::size_t{2}, std::size_t{32}, views.size()}) {
    mem.prefetch_lookups(std::span<const std::string_view>(views.data(), n));  // past 32: the first 32
    mem.prefetch_inserts(std::span<const std::string_view>(views.data(), n));
    for (std::size_t i = 0; i < views.size(); ++i) {
      const LookupResult r = mem.get(views[i], kMaxSequenceNumber);
      CHECK(r.state == before[i].state);
      CHECK(r.sequence == before[i].sequence);
      CHECK(r.value == before[i].value);
    }
  }
}
