// PointIndex: a hash table beside the memtable's B+tree from each user key to its newest
// entry, so a point lookup at the latest snapshot costs a slot and an entry read instead of
// a descent through the tree (one cache miss per level on random keys).
//
// Layout. A power-of-two array of 64-bit slots, open addressing with linear probing. A
// slot is 0 (empty) or tag << 48 | entry pointer, the tag being the top 16 bits of the
// key's hash: a probe reads an entry only when its tag matches (1 in 65536 otherwise).
// Entries never move (memtable_entry.h), so a slot stays valid for the memtable's life.
//
// Invariants:
//   - A user key has at most one slot, and it points to the entry of its highest sequence
//     added so far (record() keeps the newer of the two).
//   - Slots are never emptied, so a probe for an indexed key always reaches its slot
//     before an empty one.
//   - At most 3/4 of the slots are used: every probe ends. A key arriving when the table is
//     that full is not indexed and the index stops being complete(); its keys already in
//     keep being updated, so a hit stays exact, but a miss no longer proves absence.
//   - An entry whose address does not fit in 48 bits (a 5-level page table) disables the
//     index, as does table memory that cannot be had: nothing is found and nothing is
//     complete, and the memtable answers from its tree.
//
// Size. memtable_size / 64 slots rounded down to a power of two, at least 1024 and at most
// 2^32: at most 8 bytes of slot per 64 bytes of memtable (an eighth; between a sixteenth
// and an eighth for sizes that are not a power of two), room for 3/4 * slots keys, which
// entries of about 85 bytes or more (a 16-byte key, its trailer and a 64-byte value) never
// exceed in a memtable of a power-of-two size. Smaller entries (collection members with
// short values) can fill it: misses then descend the tree too. The whole table is counted
// as the memtable's from the start (keys land on random slots, so a memtable in use soon
// touches all of it).
//
// Memory. A table of 2 MiB or more (a memtable of 16 MiB or more) is made of 2 MiB chunks
// taken from the shard's HugeBlockPool (arena.h), the blocks its memtables pass on, and
// given back when the memtable dies; a chunk is taken when the first key lands in it, and
// until then it reads as the process's one read-only zero chunk, so an idle shard holds
// none. A taken chunk is cleared by writing it. Why not one anonymous mapping per table:
// its pages were read (by a probe) before they were written, so each page was first mapped
// to the kernel's zero page and then copied on the first write, and that copy flushes the
// TLB of every core running the process with an interprocessor interrupt. With 2,048 pages
// per 8 MiB table, redis-benchmark SET of 4 KiB values (-P 16, a memtable filled every few
// hundred milliseconds) spent 11% of the server's CPU there. A smaller table is one
// mapping of its own, written whole at construction. No index memory comes from the heap.
//
// Concurrency: single-threaded, as the memtable.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "engine/format/internal_key.h"
#include "engine/memtable/arena.h"

namespace cascade::engine {

class PointIndex {
 public:
  // `pool` (may be null: chunks are then mapped and unmapped here) lends the 2 MiB chunks.
  explicit PointIndex(std::size_t memtable_size, std::shared_ptr<HugeBlockPool> pool = nullptr);
  ~PointIndex();
  PointIndex(const PointIndex&) = delete;
  PointIndex& operator=(const PointIndex&) = delete;

  // `hash` is key_hash(user_key) (engine/format/checksum.h) for every call below.
  // Records `entry` (user_key at `sequence`) as its key's newest version unless the key's
  // slot already holds a newer one.
  void record(std::uint64_t hash, std::string_view user_key, SequenceNumber sequence,
              const char* entry);
  // The entry of user_key's highest sequence, or nullptr: when complete(), nullptr means
  // the memtable holds no version of it.
  const char* newest(std::uint64_t hash, std::string_view user_key) const;
  // Asks the cache for the slot where a probe for `hash` starts.
  void prefetch(std::uint64_t hash) const { __builtin_prefetch(&slot(home(hash))); }
  // Asks the cache for the entry of the first slot on the probe whose tag matches, without
  // reading any entry (so a batch's entry misses overlap): once prefetch() has brought the
  // slot in, this is the entry newest() will almost always read.
  void prefetch_entry(std::uint64_t hash) const;

  bool complete() const { return complete_; }
  std::size_t slot_count() const { return mask_ + 1; }
  std::size_t keys() const { return used_; }
  // The table's size: what the memtable's flush threshold counts for it; once memory for
  // it could not be had (the index is then disabled), only what it holds.
  std::size_t memory_usage() const {
    return failed_ ? held_bytes_ : (mask_ + 1) * sizeof(std::uint64_t);
  }
  // Bytes of table memory taken so far (a big table's chunks are taken as keys land).
  std::size_t held_bytes() const { return held_bytes_; }

 private:
  static constexpr int kTagShift = 48;
  static constexpr std::uint64_t kPointerMask = (std::uint64_t{1} << kTagShift) - 1;

  // 2 MiB of slots: one huge block.
  static constexpr int kChunkShift = 18;
  static_assert((std::size_t{8} << kChunkShift) == Arena::kHugeBlockSize);

  std::uint64_t& slot(std::size_t i) const { return chunks_[i >> chunk_shift_][i & chunk_mask_]; }
  // Gives slot i's chunk memory of its own; false (and the index disabled) when none can be had.
  bool take_chunk(std::size_t i);
  void disable();
  // The slot holding user_key's entry, or the empty slot where its probe ends.
  std::size_t probe(std::uint64_t hash, std::string_view user_key) const;
  std::size_t home(std::uint64_t hash) const { return hash & mask_; }
  static std::uint64_t tag_of(std::uint64_t hash) { return hash >> kTagShift << kTagShift; }
  static const char* entry_of(std::uint64_t slot) {
    return reinterpret_cast<const char*>(slot & kPointerMask);
  }

  // Chunk c holds slots [c << chunk_shift_, (c + 1) << chunk_shift_); a chunk no key has
  // landed in yet is the shared zero chunk. A small table is one chunk (chunk_shift_ its
  // size's log); a disabled one is one chunk of one empty slot.
  std::vector<std::uint64_t*> chunks_;
  std::uint64_t* zero_ = nullptr;  // the shared zero chunk (big tables)
  int chunk_shift_ = 0;
  std::size_t chunk_mask_ = 0;
  std::size_t mask_ = 0;
  std::size_t used_ = 0;
  std::size_t max_used_ = 0;
  std::size_t held_bytes_ = 0;
  std::shared_ptr<HugeBlockPool> pool_;
  bool small_ = false;     // one mapping of its own rather than pool chunks
  bool complete_ = true;
  bool disabled_ = false;
  bool failed_ = false;    // memory could not be had: disabled for good
};

}  // namespace cascade::engine
