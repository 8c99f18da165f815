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
//     index, as does a failed mapping: nothing is found and nothing is complete, and the
//     memtable answers from its tree.
//
// Size. memtable_size / 64 slots rounded down to a power of two, at least 1024: at most 8
// bytes of slot per 64 bytes of memtable (an eighth; between a sixteenth and an eighth
// for sizes that are not a power of two), room for 3/4 * slots keys, which entries of
// about 85 bytes or more (a 16-byte key, its trailer and a 64-byte value) never exceed in
// a memtable of a power-of-two size. Smaller entries (collection members with short
// values) can fill it: misses then descend the tree too. The array is an anonymous
// mapping: its pages are zero and cost nothing until a key lands on them (keys land on
// random pages, so a few thousand keys touch most of them: a memtable in use pays the
// whole table), and a new memtable never pays to clear the previous one's.
//
// Concurrency: single-threaded, as the memtable.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "engine/format/internal_key.h"

namespace cascade::engine {

class PointIndex {
 public:
  explicit PointIndex(std::size_t memtable_size);
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
  void prefetch(std::uint64_t hash) const { __builtin_prefetch(&slots_[home(hash)]); }
  // Asks the cache for the entry of the first slot on the probe whose tag matches, without
  // reading any entry (so a batch's entry misses overlap): once prefetch() has brought the
  // slot in, this is the entry newest() will almost always read.
  void prefetch_entry(std::uint64_t hash) const;

  bool complete() const { return complete_; }
  std::size_t slot_count() const { return mask_ + 1; }
  std::size_t keys() const { return used_; }
  // The mapping's size: what the memtable's flush threshold counts for it (0 when the
  // mapping failed and the index is disabled).
  std::size_t memory_usage() const { return disabled_by_failure() ? 0 : (mask_ + 1) * sizeof(std::uint64_t); }

 private:
  static constexpr int kTagShift = 48;
  static constexpr std::uint64_t kPointerMask = (std::uint64_t{1} << kTagShift) - 1;

  bool disabled_by_failure() const { return mask_ == 0; }
  // The slot holding user_key's entry, or the empty slot where its probe ends.
  std::size_t probe(std::uint64_t hash, std::string_view user_key) const;
  std::size_t home(std::uint64_t hash) const { return hash & mask_; }
  static std::uint64_t tag_of(std::uint64_t hash) { return hash >> kTagShift << kTagShift; }
  static const char* entry_of(std::uint64_t slot) {
    return reinterpret_cast<const char*>(slot & kPointerMask);
  }

  std::uint64_t* slots_ = nullptr;
  std::size_t mask_ = 0;
  std::size_t used_ = 0;
  std::size_t max_used_ = 0;
  bool complete_ = true;
  bool disabled_ = false;
};

}  // namespace cascade::engine
