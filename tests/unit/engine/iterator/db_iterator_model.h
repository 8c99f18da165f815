// The model the DBIterator tests check against: every version in a std::map keyed by
// (user key, sequence), what a scan at a snapshot over a range must show, and random
// operation mixes applied to the iterator and to a cursor over the model's answer.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "engine/iterator/db_iterator.h"
#include "tests/unit/engine/iterator/iterator_test_util.h"

namespace cascade::engine::iterator_test {

struct Visible {
  std::string key;
  std::string value;
  ValueType type;
  SequenceNumber seq;
};

struct Range {
  std::optional<std::string> lower, upper, prefix;

  bool contains(const std::string& k) const {
    if (lower && k < *lower) return false;
    if (upper && k >= *upper) return false;
    return !prefix || k.compare(0, prefix->size(), *prefix) == 0;
  }
  DBIteratorOptions options(SequenceNumber snapshot) const {
    DBIteratorOptions o;
    o.snapshot = snapshot;
    if (lower) o.lower_bound = *lower;
    if (upper) o.upper_bound = *upper;
    if (prefix) o.prefix = *prefix;
    return o;
  }
};

// The model: every version keyed by (user key, sequence).
using Model = std::map<std::pair<std::string, SequenceNumber>, Version>;

// What a scan at `snapshot` over `range` must show, in key order.
inline std::vector<Visible> visible_entries(const Model& model, SequenceNumber snapshot,
                                     const Range& range) {
  std::vector<Visible> out;
  for (auto it = model.begin(); it != model.end();) {
    const std::string& key = it->first.first;
    const Version* newest = nullptr;
    for (; it != model.end() && it->first.first == key; ++it) {
      if (it->first.second <= snapshot) newest = &it->second;
    }
    if (newest != nullptr && newest->type != ValueType::kDeletion && range.contains(key)) {
      out.push_back({key, newest->value, newest->type, newest->seq});
    }
  }
  return out;
}

inline std::string random_user_key(std::mt19937_64& rng, int max_len) {
  static constexpr char kAlphabet[] = {'a', 'b', 'c', '\0', '\xff'};
  std::string k(rng() % (max_len + 1), 'a');
  for (char& c : k) c = kAlphabet[rng() % sizeof(kAlphabet)];
  return k;
}

inline Range random_range(std::mt19937_64& rng) {
  Range r;
  if (rng() % 3 == 0) r.lower = random_user_key(rng, 3);
  if (rng() % 3 == 0) r.upper = random_user_key(rng, 3);
  if (rng() % 8 == 0 && r.lower) r.upper = r.lower;  // lower == upper: nothing in range
  if (rng() % 3 == 0) r.prefix = random_user_key(rng, 2);
  return r;
}

inline void require_same(const DBIterator& it, const std::vector<Visible>& expected, long pos) {
  bool model_valid = pos >= 0 && pos < static_cast<long>(expected.size());
  REQUIRE(it.status().is_ok());
  REQUIRE(it.valid() == model_valid);
  if (!model_valid) return;
  const Visible& e = expected[pos];
  REQUIRE(it.key() == e.key);
  REQUIRE(it.value() == e.value);
  REQUIRE(it.type() == e.type);
  REQUIRE(it.sequence() == e.seq);
}

// One random operation applied to the iterator and to the model's cursor.
inline void random_op(std::mt19937_64& rng, DBIterator& it, const std::vector<Visible>& expected,
               long& pos) {
  bool valid = pos >= 0 && pos < static_cast<long>(expected.size());
  int kind = static_cast<int>(rng() % 10);
  if (kind >= 4 && !valid) kind = static_cast<int>(rng() % 4);
  std::string target = random_user_key(rng, 3);
  auto first_at_or_after = [&](const std::string& t) {
    auto p = std::find_if(expected.begin(), expected.end(), [&](const Visible& v) { return v.key >= t; });
    return p == expected.end() ? -1L : static_cast<long>(p - expected.begin());
  };
  auto last_at_or_before = [&](const std::string& t) {
    long p = -1;
    for (long i = 0; i < static_cast<long>(expected.size()); ++i) {
      if (expected[i].key <= t) p = i;
    }
    return p;
  };
  switch (kind) {
    case 0: it.seek_to_first(); pos = expected.empty() ? -1 : 0; break;
    case 1: it.seek_to_last(); pos = static_cast<long>(expected.size()) - 1; break;
    case 2: it.seek(target); pos = first_at_or_after(target); break;
    case 3: it.seek_for_prev(target); pos = last_at_or_before(target); break;
    case 4: case 5: case 6: it.next(); ++pos; break;
    default: it.prev(); --pos; break;
  }
}

}  // namespace cascade::engine::iterator_test
