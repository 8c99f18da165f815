// KeyLocks: per-shard mutual exclusion per key, for commands that read a key, decide, and
// write it back (INCR, APPEND, SET NX/XX/GET, GETDEL, EXPIRE...). Engine calls suspend the
// calling fiber, so without a lock another fiber's command on the same key could run
// between the read and the write (DESIGN.md, "Lessons from the peers": atomicity comes from
// key locks held across suspensions).
//
// A fixed table of kStripes locks; a key (with its database) hashes to one stripe. Two keys
// sharing a stripe only wait for each other. No deadlock: a single-key command holds one
// stripe at a time, and a multi-key command (key_lock_set.h) takes its stripes in one
// global order, by shard id, then stripe index. Waiters acquire in FIFO order (the
// semaphore hands the permit over), so a hot key cannot starve a command.
//
// A stripe is a one-permit runtime::Semaphore rather than a Mutex because a multi-shard
// command takes a shard's stripes in one cross-shard call and releases them in a later one,
// which another worker fiber of the shard may run: the lock has no owning fiber.
//
// Every write to a key's records holds its stripe from its read to its write's
// acknowledgement. Plain reads take no lock: one engine get is atomic by itself. But a
// write spanning shards lands on one shard before another, so a stripe it holds is also
// fenced, and a plain read of a fenced stripe first waits for its release
// (wait_unfenced()): a client cannot read the new value on one shard and then the old one
// on another. A stripe is fenced only while held, so the wait is one acquire and release.
//
// Calling rules: the shard's fibers take stripes; any code on the shard thread may release.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "src/runtime/semaphore.h"

namespace cascade::types {

class KeyLocks {
 public:
  static constexpr std::size_t kStripes = 1024;

  runtime::Semaphore& stripe_for(std::uint32_t db, std::string_view key) {
    return stripes_[stripe_index(db, key)];
  }
  runtime::Semaphore& stripe(std::size_t index) { return stripes_[index]; }

  // Only by the holder of the stripe, which clears the fence before releasing it.
  void set_fence(std::size_t index, bool on) { fenced_[index] = on; }
  // From a fiber: returns once `key`'s stripe is not held by a fencing writer.
  void wait_unfenced(std::uint32_t db, std::string_view key) {
    const std::size_t index = stripe_index(db, key);
    if (!fenced_[index]) return;
    stripes_[index].acquire();
    stripes_[index].release();
  }

  static std::size_t stripe_index(std::uint32_t db, std::string_view key);

 private:
  // A free stripe holds its one permit.
  struct Stripe : runtime::Semaphore {
    Stripe() : runtime::Semaphore(1) {}
  };
  std::array<Stripe, kStripes> stripes_;
  std::array<bool, kStripes> fenced_{};
};

}  // namespace cascade::types
