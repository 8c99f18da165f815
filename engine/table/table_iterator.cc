// Two-level iteration over handles and the blocks they name (table_iterator.h).
#include "engine/table/table_iterator.h"

namespace cascade::engine {

Status TwoLevelIterator::status() const {
  if (!status_.is_ok()) return status_;
  if (Status s = outer_->status(); !s.is_ok()) return s;
  return inner_ ? inner_->status() : Status::ok();
}

// Opens the block the outer iterator points at, unless it is already open.
void TwoLevelIterator::open_inner() {
  if (!outer_->valid()) {
    inner_.reset();
    return;
  }
  std::string_view value = outer_->value();
  if (inner_ && value == inner_handle_) return;
  inner_.reset();
  std::string_view in = value;
  auto handle = decode_block_handle(in);
  if (!handle) {
    status_ = handle.error();
    return;
  }
  auto block = load_(*handle);
  if (!block) {
    status_ = block.error();
    return;
  }
  inner_handle_.assign(value);
  inner_ = std::make_unique<PinnedBlockIterator>(std::move(*block));
}

// True when the current inner block stopped on corruption: that ends the iteration.
bool TwoLevelIterator::inner_failed() {
  if (!status_.is_ok()) return true;
  if (inner_ && !inner_->status().is_ok()) {
    status_ = inner_->status();
    return true;
  }
  return false;
}

void TwoLevelIterator::skip_empty_forward() {
  while (!inner_failed() && (!inner_ || !inner_->valid())) {
    if (!outer_->valid()) {
      inner_.reset();
      return;
    }
    outer_->next();
    open_inner();
    if (inner_) inner_->seek_to_first();
  }
}

void TwoLevelIterator::skip_empty_backward() {
  while (!inner_failed() && (!inner_ || !inner_->valid())) {
    if (!outer_->valid()) {
      inner_.reset();
      return;
    }
    outer_->prev();
    open_inner();
    if (inner_) inner_->seek_to_last();
  }
}

void TwoLevelIterator::seek_to_first() {
  status_ = Status::ok();
  outer_->seek_to_first();
  open_inner();
  if (inner_) inner_->seek_to_first();
  skip_empty_forward();
}

void TwoLevelIterator::seek_to_last() {
  status_ = Status::ok();
  outer_->seek_to_last();
  open_inner();
  if (inner_) inner_->seek_to_last();
  skip_empty_backward();
}

void TwoLevelIterator::seek(std::string_view target) {
  status_ = Status::ok();
  outer_->seek(target);
  open_inner();
  if (inner_) inner_->seek(target);
  skip_empty_forward();
}

void TwoLevelIterator::next() {
  inner_->next();
  skip_empty_forward();
}

void TwoLevelIterator::prev() {
  inner_->prev();
  skip_empty_backward();
}

}  // namespace cascade::engine
