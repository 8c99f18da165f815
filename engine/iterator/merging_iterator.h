// MergingIterator: N child InternalIterators merged into one, in internal-key order, both
// directions. The engine builds one over its sources, newest first: the mutable memtable,
// the immutable memtables, the L0 tables newest first, then one iterator per level from
// L1 down. It owns its children.
//
// How it works. The children that are valid sit in a binary heap whose top is the current
// entry: a min-heap on the child's key going forward, a max-heap going backward. Each heap
// slot caches its child's key view, so comparisons touch only the heap's array and make no
// virtual call; the view is refreshed whenever that child moves (and only its owner
// moves it). A step moves the top child and sifts it down: one virtual step plus
// O(log N) comparisons.
//
// Invariants (current key K = key()):
//   forward:  every child other than the current one is positioned at its first entry
//             > K, or is invalid (it holds nothing > K);
//   backward: every child other than the current one is positioned at its last entry
//             < K, or is invalid (it holds nothing < K).
// So a direction switch repositions every other child: prev() after forward steps seeks
// each one to its last entry < K (seek_for_prev(K), one more step back if it landed on
// K itself); next() after backward steps seeks each to its first entry > K. The current
// child never moves during a switch, which keeps K's view valid throughout. A switch
// costs one seek per child; runs of steps in one direction cost none.
//
// Children must not hold the same internal key (sequence numbers are unique per write);
// equal keys would be ordered by child position (earlier first) but one of them could be
// skipped across a direction switch.
//
// Errors: when a child turns invalid with a non-ok status (an IO error, Corruption), the
// merge stops: valid() is false and status() is that child's status, the first one seen,
// until the next seek, which asks every child again. A child key shorter than the 8-byte
// trailer is Corruption too (it cannot be compared).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "engine/iterator/internal_iterator.h"

namespace cascade::engine {

class MergingIterator final : public InternalIterator {
 public:
  explicit MergingIterator(std::vector<std::unique_ptr<InternalIterator>> children);

  bool valid() const override { return status_.is_ok() && !heap_.empty(); }
  Status status() const override { return status_; }
  std::string_view key() const override { return heap_.front().key; }
  std::string_view value() const override { return heap_.front().child->value(); }

  void seek_to_first() override;
  void seek_to_last() override;
  void seek(std::string_view target) override;
  void seek_for_prev(std::string_view target) override;
  void next() override;
  void prev() override;

  std::size_t child_count() const { return children_.size(); }

 private:
  enum class Direction : std::uint8_t { kForward, kBackward };

  struct Slot {
    InternalIterator* child;
    std::string_view key;  // child->key(), refreshed whenever the child moves
    std::uint32_t order;   // position in children_: breaks ties, earlier first
  };

  void begin_positioning(Direction direction);
  bool key_is_sound(std::string_view key);
  void add_if_valid(InternalIterator* child, std::uint32_t order);
  void build_heap();
  void switch_to_forward();
  void switch_to_backward();
  void after_top_moved();
  template <Direction kDirection>
  void sift_down(std::size_t index);
  template <Direction kDirection>
  static bool before(const Slot& a, const Slot& b);

  std::vector<std::unique_ptr<InternalIterator>> children_;
  std::vector<Slot> heap_;
  Direction direction_ = Direction::kForward;
  Status status_;
};

}  // namespace cascade::engine
