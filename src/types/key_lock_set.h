// KeyLockSet: the stripes (key_locks.h) of several keys of one shard, taken together by a
// multi-key command and released together.
//
// The deadlock rule. A command that holds several stripes takes them in one global order:
// shard by ascending id, and inside a shard by ascending stripe index, each stripe once
// however many of the command's keys hash to it. Single-key commands hold one stripe and
// wait for nothing else while they hold it. So every wait is for a stripe later in the
// order than any the waiter holds, and no cycle of waits can form. The cross-shard part of
// the order is kept by the coordinator (src/commands/transaction.h), which locks shard
// after shard; this class keeps the order inside one shard.
//
// Calling rules: lock() from a fiber of the shard whose KeyLocks it is given; unlock() from
// anywhere on that shard's thread, possibly another fiber (the stripes have no owner). A
// set must be unlocked before it is locked again, and add() only while it is unlocked.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

#include "src/types/key_locks.h"

namespace cascade::types {

class KeyLockSet {
 public:
  void add(std::uint32_t db, std::string_view key) {
    stripes_.push_back(KeyLocks::stripe_index(db, key));
    sorted_ = false;
  }

  // `fence`: also fence the stripes (key_locks.h), for a write that spans shards.
  void lock(KeyLocks& locks, bool fence = false) {
    sort_stripes();
    for (std::size_t index : stripes_) {
      locks.stripe(index).acquire();
      locks.wait_for_blind_writes(index);
      if (fence) locks.set_fence(index, true);
    }
    locked_ = true;
  }

  // lock() if every stripe is free now; else takes none and returns false. Never waits
  // for a stripe, so it may be tried on several shards at once, out of the global order
  // (a holder waiting for nothing cannot be part of a cycle of waits); it does wait for
  // blind writes in flight on the stripes it took, as lock() does.
  bool try_lock(KeyLocks& locks, bool fence = false) {
    sort_stripes();
    for (std::size_t n = 0; n < stripes_.size(); ++n) {
      if (!locks.stripe(stripes_[n]).try_acquire()) {
        while (n > 0) locks.stripe(stripes_[--n]).release();
        return false;
      }
    }
    for (std::size_t index : stripes_) {
      locks.wait_for_blind_writes(index);
      if (fence) locks.set_fence(index, true);
    }
    locked_ = true;
    return true;
  }

  void unlock(KeyLocks& locks) {
    if (!locked_) return;
    for (std::size_t index : stripes_) {
      locks.set_fence(index, false);
      locks.stripe(index).release();
    }
    locked_ = false;
  }

  // Hands the held stripes to the returned set, to be unlocked by it (on this shard's
  // thread, possibly after this set is gone); this one is left unlocked and empty.
  KeyLockSet hand_over() {
    KeyLockSet taken = std::move(*this);
    stripes_.clear();
    sorted_ = true;
    locked_ = false;
    return taken;
  }

  bool locked() const { return locked_; }
  // The distinct stripe indexes in the order lock() takes them (after a lock()).
  const std::vector<std::size_t>& stripes() const { return stripes_; }

 private:
  void sort_stripes() {
    if (sorted_) return;
    std::sort(stripes_.begin(), stripes_.end());
    stripes_.erase(std::unique(stripes_.begin(), stripes_.end()), stripes_.end());
    sorted_ = true;
  }

  std::vector<std::size_t> stripes_;
  bool sorted_ = true;
  bool locked_ = false;
};

}  // namespace cascade::types
