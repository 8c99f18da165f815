// VectorIterator: an InternalIterator over (internal key, value) pairs it owns, for tests
// and for small in-memory sources. The pairs are sorted by internal key at construction;
// two pairs with the same internal key are a caller's bug (asserted in debug builds).
// It never fails: status() is always ok. Views point into the owned strings and stay
// valid for the iterator's life.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/iterator/internal_iterator.h"

namespace cascade::engine {

class VectorIterator final : public InternalIterator {
 public:
  using Entry = std::pair<std::string, std::string>;  // encoded internal key, value

  explicit VectorIterator(std::vector<Entry> entries);

  bool valid() const override { return pos_ < entries_.size(); }
  Status status() const override { return Status::ok(); }
  std::string_view key() const override { return entries_[pos_].first; }
  std::string_view value() const override { return entries_[pos_].second; }

  void seek_to_first() override { pos_ = 0; }
  void seek_to_last() override { pos_ = entries_.empty() ? kInvalid : entries_.size() - 1; }
  void seek(std::string_view target) override;
  void seek_for_prev(std::string_view target) override;
  void next() override { ++pos_; }
  void prev() override { pos_ = pos_ == 0 ? kInvalid : pos_ - 1; }

 private:
  static constexpr std::size_t kInvalid = static_cast<std::size_t>(-1);

  std::vector<Entry> entries_;
  std::size_t pos_ = kInvalid;  // entries_.size() or more means invalid
};

}  // namespace cascade::engine
