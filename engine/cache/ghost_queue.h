// S3-FIFO's ghost queue: the hashes of the last N keys evicted from the small queue, so a
// block that comes back soon after being dropped as "seen once" is admitted straight into
// the main queue.
//
// Only 64-bit key hashes are kept, never keys or data: a false match needs two live keys
// with one hash and merely admits a block to main. The memory is fixed at resize():
// a ring of N hashes in eviction order (8 bytes each) and an open-addressing set over them
// (linear probing, at most half full, 16 bytes a slot, 2 slots per ring position), about
// 40 bytes per remembered key, and nothing is allocated afterwards.
//
// Each set slot records the ring sequence number its hash was last added at. When the ring
// overwrites its oldest position, the set drops that hash only if the slot still carries
// that position's sequence: a hash added again later, or taken (take()) since, is not
// disturbed by its stale older ring position.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace cascade::engine {

class GhostQueue {
 public:
  explicit GhostQueue(std::size_t capacity = 0) { resize(capacity); }

  // Remembers at most `capacity` hashes; forgets everything remembered so far.
  void resize(std::size_t capacity);
  std::size_t capacity() const { return ring_.size(); }
  std::size_t size() const { return live_; }

  // Remembers `hash` as the newest; forgets the oldest when full.
  void add(std::uint64_t hash);
  // Forgets `hash`; true if it was remembered.
  bool take(std::uint64_t hash);
  bool contains(std::uint64_t hash) const { return find(nonzero(hash)) != kAbsent; }

 private:
  struct Slot {
    std::uint64_t hash = 0;  // 0 = empty
    std::uint64_t seq = 0;
  };
  static constexpr std::size_t kAbsent = ~std::size_t{0};

  static std::uint64_t nonzero(std::uint64_t h) { return h == 0 ? 1 : h; }
  std::size_t mask() const { return slots_.size() - 1; }
  std::size_t find(std::uint64_t hash) const;
  void erase_slot(std::size_t i);

  std::vector<std::uint64_t> ring_;  // hash added at sequence s lives at ring_[s % size]
  std::vector<Slot> slots_;          // power-of-two size >= 2 * ring_.size()
  std::uint64_t next_seq_ = 0;
  std::size_t live_ = 0;
};

}  // namespace cascade::engine
