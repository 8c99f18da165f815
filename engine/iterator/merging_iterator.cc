#include "engine/iterator/merging_iterator.h"

#include <cassert>
#include <utility>

#include "engine/format/internal_key.h"

namespace cascade::engine {

MergingIterator::MergingIterator(std::vector<std::unique_ptr<InternalIterator>> children)
    : children_(std::move(children)) {
  heap_.reserve(children_.size());
}

template <MergingIterator::Direction kDirection>
bool MergingIterator::before(const Slot& a, const Slot& b) {
  int c = compare_internal_keys(a.key, b.key);
  if (c != 0) return kDirection == Direction::kForward ? c < 0 : c > 0;
  return a.order < b.order;
}

// Restores the heap below `index` after its slot's key changed (it can only have moved
// away from the top's side: the top child stepped in the heap's direction).
//
// A slot already in place (a scan within one source, or a heap of one) is left untouched:
// copying it out and back measured 13% of an LRANGE of 600 elements, the reload stalling
// on the key just stored into it.
template <MergingIterator::Direction kDirection>
void MergingIterator::sift_down(std::size_t index) {
  const std::size_t n = heap_.size();
  std::size_t child = 2 * index + 1;
  if (child >= n) return;
  if (child + 1 < n && before<kDirection>(heap_[child + 1], heap_[child])) ++child;
  if (!before<kDirection>(heap_[child], heap_[index])) return;
  const Slot moving = heap_[index];
  for (;;) {
    heap_[index] = heap_[child];
    index = child;
    child = 2 * index + 1;
    if (child >= n) break;
    if (child + 1 < n && before<kDirection>(heap_[child + 1], heap_[child])) ++child;
    if (!before<kDirection>(heap_[child], moving)) break;
  }
  heap_[index] = moving;
}

void MergingIterator::build_heap() {
  for (std::size_t i = heap_.size() / 2; i-- > 0;) {
    if (direction_ == Direction::kForward) {
      sift_down<Direction::kForward>(i);
    } else {
      sift_down<Direction::kBackward>(i);
    }
  }
}

void MergingIterator::begin_positioning(Direction direction) {
  status_ = Status::ok();
  heap_.clear();
  direction_ = direction;
}

// A key shorter than its trailer cannot be compared: it is Corruption, not a crash.
bool MergingIterator::key_is_sound(std::string_view key) {
  if (key.size() >= kTrailerSize) return true;
  if (status_.is_ok()) status_ = Status::corruption("merging iterator: internal key shorter than 8 bytes");
  return false;
}

void MergingIterator::add_if_valid(InternalIterator* child, std::uint32_t order) {
  if (child->valid()) {
    if (key_is_sound(child->key())) heap_.push_back(Slot{child, child->key(), order});
    return;
  }
  if (status_.is_ok()) {
    Status s = child->status();
    if (!s.is_ok()) status_ = std::move(s);
  }
}

void MergingIterator::seek_to_first() {
  begin_positioning(Direction::kForward);
  for (std::uint32_t i = 0; i < children_.size(); ++i) {
    children_[i]->seek_to_first();
    add_if_valid(children_[i].get(), i);
  }
  build_heap();
}

void MergingIterator::seek_to_last() {
  begin_positioning(Direction::kBackward);
  for (std::uint32_t i = 0; i < children_.size(); ++i) {
    children_[i]->seek_to_last();
    add_if_valid(children_[i].get(), i);
  }
  build_heap();
}

void MergingIterator::seek(std::string_view target) {
  begin_positioning(Direction::kForward);
  for (std::uint32_t i = 0; i < children_.size(); ++i) {
    children_[i]->seek(target);
    add_if_valid(children_[i].get(), i);
  }
  build_heap();
}

void MergingIterator::seek_for_prev(std::string_view target) {
  begin_positioning(Direction::kBackward);
  for (std::uint32_t i = 0; i < children_.size(); ++i) {
    children_[i]->seek_for_prev(target);
    add_if_valid(children_[i].get(), i);
  }
  build_heap();
}

// Every child but the current one goes to its first entry > K. The current child is not
// moved, so `current.key` (its view) stays valid while the others seek.
void MergingIterator::switch_to_forward() {
  Slot current = heap_.front();
  heap_.clear();
  direction_ = Direction::kForward;
  for (std::uint32_t i = 0; i < children_.size(); ++i) {
    InternalIterator* child = children_[i].get();
    if (child != current.child) {
      child->seek(current.key);
      if (child->valid() && key_is_sound(child->key()) &&
          compare_internal_keys(child->key(), current.key) == 0) {
        child->next();
      }
      add_if_valid(child, i);
    } else {
      heap_.push_back(current);
    }
  }
  build_heap();
}

// Every child but the current one goes to its last entry < K.
void MergingIterator::switch_to_backward() {
  Slot current = heap_.front();
  heap_.clear();
  direction_ = Direction::kBackward;
  for (std::uint32_t i = 0; i < children_.size(); ++i) {
    InternalIterator* child = children_[i].get();
    if (child != current.child) {
      child->seek_for_prev(current.key);
      if (child->valid() && key_is_sound(child->key()) &&
          compare_internal_keys(child->key(), current.key) == 0) {
        child->prev();
      }
      add_if_valid(child, i);
    } else {
      heap_.push_back(current);
    }
  }
  build_heap();
}

// The top child has just stepped: refresh its slot, or drop it if it ran out (keeping its
// error, which ends the merge).
void MergingIterator::after_top_moved() {
  Slot& top = heap_.front();
  if (top.child->valid()) {
    top.key = top.child->key();
    if (!key_is_sound(top.key)) return;
  } else {
    Status s = top.child->status();
    if (!s.is_ok() && status_.is_ok()) status_ = std::move(s);
    top = heap_.back();
    heap_.pop_back();
    if (heap_.empty()) return;
  }
  if (direction_ == Direction::kForward) {
    sift_down<Direction::kForward>(0);
  } else {
    sift_down<Direction::kBackward>(0);
  }
}

void MergingIterator::next() {
  assert(valid());
  if (direction_ != Direction::kForward) {
    switch_to_forward();
    if (!status_.is_ok()) return;
  }
  heap_.front().child->next();
  after_top_moved();
}

void MergingIterator::prev() {
  assert(valid());
  if (direction_ != Direction::kBackward) {
    switch_to_backward();
    if (!status_.is_ok()) return;
  }
  heap_.front().child->prev();
  after_top_moved();
}

}  // namespace cascade::engine
