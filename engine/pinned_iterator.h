// Adapters the engine puts under its merging iterator.
//
// PinnedIterator forwards every call to an inner InternalIterator and holds a shared
// pointer to whatever the inner one reads (a memtable, an open table), so a scan keeps
// its sources alive after a flush dropped the memtable or a compaction evicted the table.
// ErrorIterator is an empty source that reports an error: a table that could not be
// opened makes the whole scan fail with that error instead of silently missing its keys.
#pragma once

#include <memory>
#include <string_view>
#include <utility>

#include "engine/iterator/internal_iterator.h"

namespace cascade::engine {

class PinnedIterator final : public InternalIterator {
 public:
  PinnedIterator(std::unique_ptr<InternalIterator> inner, std::shared_ptr<const void> pin)
      : pin_(std::move(pin)), inner_(std::move(inner)) {}

  bool valid() const override { return inner_->valid(); }
  Status status() const override { return inner_->status(); }
  std::string_view key() const override { return inner_->key(); }
  std::string_view value() const override { return inner_->value(); }
  void seek_to_first() override { inner_->seek_to_first(); }
  void seek_to_last() override { inner_->seek_to_last(); }
  void seek(std::string_view target) override { inner_->seek(target); }
  void seek_for_prev(std::string_view target) override { inner_->seek_for_prev(target); }
  void next() override { inner_->next(); }
  void prev() override { inner_->prev(); }

 private:
  std::shared_ptr<const void> pin_;  // declared first: destroyed after inner_
  std::unique_ptr<InternalIterator> inner_;
};

class ErrorIterator final : public InternalIterator {
 public:
  explicit ErrorIterator(Status status) : status_(std::move(status)) {}

  bool valid() const override { return false; }
  Status status() const override { return status_; }
  std::string_view key() const override { return {}; }
  std::string_view value() const override { return {}; }
  void seek_to_first() override {}
  void seek_to_last() override {}
  void seek(std::string_view) override {}
  void seek_for_prev(std::string_view) override {}
  void next() override {}
  void prev() override {}

 private:
  Status status_;
};

}  // namespace cascade::engine
