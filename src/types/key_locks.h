// KeyLocks: per-shard mutual exclusion per key, for commands that read a key, decide, and
// write it back (INCR, APPEND, SET NX/XX/GET, GETDEL, EXPIRE...). Engine calls suspend the
// calling fiber, so without a lock another fiber's command on the same key could run
// between the read and the write (DESIGN.md, "Lessons from the peers": atomicity comes from
// key locks held across suspensions).
//
// A fixed table of kStripes fiber Mutexes; a key (with its database) hashes to one stripe.
// Two keys sharing a stripe only wait for each other; they never deadlock as long as a
// fiber holds at most one stripe at a time, which every single-key command does. (Multi-key
// commands will need to take stripes in index order.) Waiters acquire in FIFO order
// (runtime::Mutex hands the lock over), so a hot key cannot starve a command.
//
// Every write to a key's records holds its stripe from its read to its write's
// acknowledgement. Plain reads take no lock: one engine get is atomic by itself.
//
// Calling rules: the shard's fibers only (runtime::Mutex).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "src/runtime/mutex.h"

namespace cascade::types {

class KeyLocks {
 public:
  static constexpr std::size_t kStripes = 1024;

  runtime::Mutex& stripe_for(std::uint32_t db, std::string_view key) {
    return stripes_[stripe_index(db, key)];
  }
  static std::size_t stripe_index(std::uint32_t db, std::string_view key);

 private:
  std::array<runtime::Mutex, kStripes> stripes_;
};

}  // namespace cascade::types
