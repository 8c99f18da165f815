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
// Every write to a key's records holds its stripe from its read to its write's entry into
// the engine (see "Early lock release" below). Plain reads take no lock: one engine get is
// atomic by itself. But a
// write spanning shards lands on one shard before another, so a stripe it holds is also
// fenced, and a plain read of a fenced stripe first waits for its release
// (wait_unfenced()): a client cannot read the new value on one shard and then the old one
// on another. A stripe is fenced only while held, so the wait is one acquire and release.
//
// Blind writes. A write that reads nothing of the key (a plain SET: Keyspace::put_strings)
// takes the stripe only to enter in order: it marks itself in flight on the stripe
// (begin_blind_write), releases the stripe, and does its engine write unlocked, so under
// appendfsync always the next writers of a hot key join the same WAL group instead of
// waiting a sync each. Whoever then locks the stripe to read the key (LockedKey, a
// KeyLockSet) first waits until no blind write is in flight (wait_for_blind_writes), so it
// reads the value the last of them wrote: plain reads see only visible writes (the engine
// publishes a write once its WAL wait is over, engine/db.h "Write path"), so no reader
// ever sees a value before its write could be acknowledged.
//
// Early lock release. A read-modify-write command (types::LockedKey) releases its stripe
// once its last write is in the engine's memtable, before that write's WAL wait; the next
// holder reads it (unacknowledged reads) and its own write, later in the log, is
// acknowledged after it. So the writes of one hot key share WAL groups: the release wakes
// the next holder into the same scheduler round (LockedKey::write_last,
// runtime::Scheduler::WakeInRound), where the group's leader writes only at the round's
// end. Two blind writes in flight at once on one key were concurrent (neither was
// acknowledged when the other began), so either may end up last; a connection's own
// writes never overlap like that.
//
// Calling rules: the shard's fibers take stripes; any code on the shard thread may release.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "src/runtime/condition_variable.h"
#include "src/runtime/semaphore.h"

namespace cascade::types {

class KeyLocks {
 public:
  // A multi-key write holds its stripes across its WAL syncs. With 1,024 stripes, fifty
  // clients' 10-key MSETs (about 500 stripes held at once across two shards) collided on
  // nearly every command and ran as a convoy; 16,384 (1 MiB a shard, a cache line each)
  // make a false collision rare: MSET -c 50, 3 alternating runs, 1.3-1.8x the commands per
  // second.
  static constexpr std::size_t kStripes = 16384;

  runtime::Semaphore& stripe_for(std::uint32_t db, std::string_view key) {
    return stripes_[stripe_index(db, key)].lock;
  }
  runtime::Semaphore& stripe(std::size_t index) { return stripes_[index].lock; }
  // Asks the cache for stripe `index` (a pipeline's read-modify-writes fetch theirs side
  // by side before taking them one after another).
  void prefetch(std::size_t index) const { __builtin_prefetch(&stripes_[index], 1); }

  // Only by the holder of the stripe, which clears the fence before releasing it.
  void set_fence(std::size_t index, bool on) { stripes_[index].fenced = on; }
  // From a fiber: returns once `key`'s stripe is not held by a fencing writer.
  void wait_unfenced(std::uint32_t db, std::string_view key) {
    Stripe& stripe = stripes_[stripe_index(db, key)];
    if (!stripe.fenced) return;
    stripe.lock.acquire();
    stripe.lock.release();
  }

  static std::size_t stripe_index(std::uint32_t db, std::string_view key);

  // Blind writes (see above): begin by the stripe's holder, end by the writer once its
  // engine write is acknowledged (or failed).
  void begin_blind_write(std::size_t index) { ++stripes_[index].blind_writes; }
  void end_blind_write(std::size_t index) {
    if (--stripes_[index].blind_writes == 0) blind_writes_done_.notify_all();
  }
  // By the holder of stripe `index`, from a fiber: returns once no blind write is in flight
  // on it (none can start meanwhile: starting one takes the stripe).
  void wait_for_blind_writes(std::size_t index) {
    if (stripes_[index].blind_writes == 0) return;
    blind_writes_done_.wait([this, index] { return stripes_[index].blind_writes == 0; });
  }

 private:
  // Everything a command reads of its stripe on one cache line: with the lock, the fence
  // and the blind-write count in three arrays, taking a random key's stripe missed the
  // cache up to three times (1 MiB a shard this way, 0.6 MiB before).
  struct alignas(64) Stripe {
    runtime::Semaphore lock{1};  // a free stripe holds its one permit
    std::uint32_t blind_writes = 0;
    bool fenced = false;
  };
  static_assert(sizeof(Stripe) == 64);
  std::array<Stripe, kStripes> stripes_;
  runtime::ConditionVariable blind_writes_done_;
};

}  // namespace cascade::types
