// MemTableIterator: a MemTable (memtable/memtable.h) seen through the InternalIterator
// interface, so the merging iterator can take the mutable and the immutable memtables as
// children. A memtable never fails: status() is always ok. seek_for_prev uses the
// interface's default (a seek and at most one step back).
//
// The memtable must outlive the iterator. Entries added to a mutable memtable while the
// iterator lives are seen when the iterator steps past their position (btree.h); a DB
// iterator at a snapshot hides them by sequence.
#pragma once

#include <string_view>

#include "engine/iterator/internal_iterator.h"
#include "engine/memtable/memtable.h"

namespace cascade::engine {

class MemTableIterator final : public InternalIterator {
 public:
  explicit MemTableIterator(const MemTable& mem) : it_(mem) {}

  bool valid() const override { return it_.valid(); }
  Status status() const override { return Status::ok(); }
  std::string_view key() const override { return it_.key(); }
  std::string_view value() const override { return it_.value(); }

  void seek_to_first() override { it_.seek_to_first(); }
  void seek_to_last() override { it_.seek_to_last(); }
  void seek(std::string_view target) override { it_.seek(target); }
  void next() override { it_.next(); }
  void prev() override { it_.prev(); }

 private:
  MemTable::Iterator it_;
};

}  // namespace cascade::engine
