// Shared by the iterator tests: encoded-key helpers, a child that fails on demand, and
// random multi-version data split over vector-backed and memtable children.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/format/internal_key.h"
#include "engine/iterator/internal_iterator.h"
#include "engine/iterator/memtable_iterator.h"
#include "engine/iterator/vector_iterator.h"
#include "engine/memtable/memtable.h"

namespace cascade::engine::iterator_test {

inline std::string ikey(std::string_view user, SequenceNumber seq,
                        ValueType type = ValueType::kValue) {
  std::string s;
  append_internal_key(s, user, seq, type);
  return s;
}

// Passes everything through to its child until `moves_before_failure` positioning calls
// have been made, then turns invalid with `error` for good (every later call too).
class FailingIterator final : public InternalIterator {
 public:
  FailingIterator(std::unique_ptr<InternalIterator> child, int moves_before_failure,
                  Status error)
      : child_(std::move(child)), left_(moves_before_failure), error_(std::move(error)) {}

  bool valid() const override { return !failed_ && child_->valid(); }
  Status status() const override { return failed_ ? error_ : child_->status(); }
  std::string_view key() const override { return child_->key(); }
  std::string_view value() const override { return child_->value(); }
  void seek_to_first() override { if (tick()) child_->seek_to_first(); }
  void seek_to_last() override { if (tick()) child_->seek_to_last(); }
  void seek(std::string_view t) override { if (tick()) child_->seek(t); }
  void seek_for_prev(std::string_view t) override { if (tick()) child_->seek_for_prev(t); }
  void next() override { if (tick()) child_->next(); }
  void prev() override { if (tick()) child_->prev(); }

 private:
  bool tick() {
    if (left_-- <= 0) failed_ = true;
    return !failed_;
  }

  std::unique_ptr<InternalIterator> child_;
  int left_;
  Status error_;
  bool failed_ = false;
};

// One written version, as the model sees it.
struct Version {
  std::string user_key;
  SequenceNumber seq;
  ValueType type;
  std::string value;
};

// Keys over a small alphabet (with 0x00 and 0xff, to test prefix successors) so that
// children overlap and keys share prefixes; every version gets a unique sequence.
inline std::vector<Version> random_versions(std::mt19937_64& rng, int user_keys,
                                            int versions) {
  static constexpr char kAlphabet[] = {'a', 'b', 'c', '\0', '\xff'};
  std::vector<std::string> keys;
  for (int i = 0; i < user_keys; ++i) {
    std::string k;
    int len = 1 + static_cast<int>(rng() % 3);
    for (int j = 0; j < len; ++j) k.push_back(kAlphabet[rng() % sizeof(kAlphabet)]);
    keys.push_back(k);
  }
  std::vector<SequenceNumber> seqs(versions);
  for (int i = 0; i < versions; ++i) seqs[i] = static_cast<SequenceNumber>(i + 1);
  std::shuffle(seqs.begin(), seqs.end(), rng);
  std::vector<Version> out;
  for (int i = 0; i < versions; ++i) {
    Version v;
    v.user_key = keys[rng() % keys.size()];
    v.seq = seqs[i];
    int t = static_cast<int>(rng() % 10);
    v.type = t < 3 ? ValueType::kDeletion : t < 5 ? ValueType::kValuePointer : ValueType::kValue;
    if (v.type != ValueType::kDeletion) v.value = "v" + std::to_string(v.seq);
    out.push_back(std::move(v));
  }
  return out;
}

// Splits versions over `children` sources at random: about half vector-backed, half real
// memtables (kept alive in `memtables`). Some children may be empty.
inline std::vector<std::unique_ptr<InternalIterator>> split_into_children(
    std::mt19937_64& rng, const std::vector<Version>& versions, int children,
    std::vector<std::unique_ptr<MemTable>>& memtables) {
  std::vector<std::vector<VectorIterator::Entry>> parts(children);
  for (const Version& v : versions) {
    parts[rng() % children].emplace_back(ikey(v.user_key, v.seq, v.type), v.value);
  }
  std::vector<std::unique_ptr<InternalIterator>> out;
  for (auto& part : parts) {
    if (rng() % 2 == 0) {
      out.push_back(std::make_unique<VectorIterator>(std::move(part)));
      continue;
    }
    auto mem = std::make_unique<MemTable>();
    for (const auto& [key, value] : part) {
      ParsedInternalKey p;
      parse_internal_key(key, p);
      mem->add(p.sequence, p.type, p.user_key, value);
    }
    out.push_back(std::make_unique<MemTableIterator>(*mem));
    memtables.push_back(std::move(mem));
  }
  return out;
}

}  // namespace cascade::engine::iterator_test
