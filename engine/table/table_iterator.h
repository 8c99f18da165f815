// Iterators over a table: a two-level iterator (an outer iterator whose values are block
// handles, and the blocks they name), used twice: top index -> index partitions gives
// the whole index, and index -> data blocks gives the table's entries.
//
// Invariants: while valid(), key()/value() view the current block, which the iterator
// keeps pinned; they stay valid until the iterator moves. An error (a failed read, a
// corrupt block, a malformed handle) makes the iterator invalid with that status and it
// stays so until the next seek; corruption is never returned as an entry. Empty blocks
// are skipped in both directions.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "engine/iterator/internal_iterator.h"
#include "engine/table/block.h"
#include "engine/table/block_reader.h"
#include "src/runtime/result.h"

namespace cascade::engine {

// An iterator over one pinned block.
class PinnedBlockIterator final : public InternalIterator {
 public:
  explicit PinnedBlockIterator(BlockRef block)
      : block_(std::move(block)), it_(block_->iterator(kInternalKeyComparator)) {}

  bool valid() const override { return it_.valid(); }
  Status status() const override { return it_.status(); }
  std::string_view key() const override { return it_.key(); }
  std::string_view value() const override { return it_.value(); }
  void seek_to_first() override { it_.seek_to_first(); }
  void seek_to_last() override { it_.seek_to_last(); }
  void seek(std::string_view target) override { it_.seek(target); }
  void next() override { it_.next(); }
  void prev() override { it_.prev(); }

 private:
  BlockRef block_;
  BlockIterator it_;
};

class TwoLevelIterator final : public InternalIterator {
 public:
  using BlockLoader = std::function<Result<BlockRef>(const BlockHandle&)>;

  TwoLevelIterator(std::unique_ptr<InternalIterator> outer, BlockLoader load)
      : outer_(std::move(outer)), load_(std::move(load)) {}

  bool valid() const override { return status_.is_ok() && inner_ && inner_->valid(); }
  Status status() const override;
  std::string_view key() const override { return inner_->key(); }
  std::string_view value() const override { return inner_->value(); }
  void seek_to_first() override;
  void seek_to_last() override;
  void seek(std::string_view target) override;
  void next() override;
  void prev() override;

 private:
  void open_inner();
  void skip_empty_forward();
  void skip_empty_backward();
  bool inner_failed();

  std::unique_ptr<InternalIterator> outer_;
  BlockLoader load_;
  std::unique_ptr<PinnedBlockIterator> inner_;
  std::string inner_handle_;  // the outer value inner_ was opened from
  Status status_;
};

}  // namespace cascade::engine
