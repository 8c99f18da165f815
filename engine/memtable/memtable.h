// MemTable: the newest writes of one shard, in memory, ordered by internal key.
//
// Every write (put, delete, value pointer) becomes one entry (memtable_entry.h) copied into
// the memtable's arena and indexed by a B+tree (btree.h) in internal-key order: user key
// ascending, then sequence descending, so the newest version of a key comes first.
// Nothing is allocated per entry outside the arena, and nothing is removed: a delete is an
// entry of type kDeletion. When approximate_memory_usage() passes the size target
// (kDefaultMemTableSize) the engine makes the memtable immutable and flushes it.
//
// Index choice, measured with tests/bench/engine_memtable_bench.cc: 1M random 16-byte keys,
// 64-byte values, debugoptimized build, 2-core VM shared with other builds (so ranges over
// three invocations of median-of-3 runs; the skiplists varied most):
//
//                   insert ns/op   get ns/op   full scan ms   arena MiB
//   B+tree (kept)       370-406      549-640          25-29       113.6
//   skiplist          1424-3982    2211-5129        151-333       117.1
//   skiplist + prefix 1235-2840    2155-2754        157-168       117.1
//
// The skiplist (branching 4, nodes pointing at their entry) loses by 4-10x on every
// operation, with or without the 8-byte key prefix copied into its nodes: its cost is one
// dependent cache miss per hop, which the B+tree's contiguous node arrays avoid. On
// ascending keys the B+tree inserts in ~30 ns and packs its leaves (104.8 MiB). The
// skiplist survives only inside the benchmark.
//
// Point index. Beside the tree a hash table maps each user key to its newest entry
// (point_index.h), so get() at a snapshot that sees that entry, which is every read but a
// snapshot's or a transaction's, reads one slot and one entry instead of descending the
// tree; a key without a version is answered by the table alone while it holds every key.
// It costs at most an eighth of the size target (8 MiB of a 64 MiB memtable, counted in
// approximate_memory_usage(), so a memtable holds up to 1/8 fewer entries before its
// flush) and a slot write per insert. bench-engine-memtable, 500,000 random 20-byte keys after a
// 4-byte shared prefix, 64-byte values, medians of 3 runs, before -> after:
//
//                          insert ns/op    get ns/op
//   random, add()              476 -> 553  623 -> 218
//   random, add_all x16        606 -> 605  616 -> 214
//   ascending, add()            92 -> 176  642 -> 206
//   ascending, add_all x16     162 -> 202  651 -> 205
//
// The engine inserts through add_all(), whose prefetch of the slots hides most of their
// misses on random keys; ascending keys, whose tree paths were already cached, pay one.
// add_all() also hands each insert the leaf its prefetch found (BTree::InsertHint), so
// the insert searches that leaf alone instead of descending the tree a second time; same
// benchmark, add_all x16 without -> with the hints: random 621 -> 481 ns, ascending
// 226 -> 185 ns (the server: redis-benchmark SET -P 16 over 1M keys, 1.77 -> 1.49-1.65
// us of server CPU per SET; ZADD 9.1 -> 8.2-8.5 us, two alternating rounds each).
//
// Who may call what: one shard's thread only, no locks. While the memtable is mutable it
// has one writer (the engine's write path) and any number of iterators (user scans, a
// flush); iterators stay valid and keep their position while entries are added, and see
// added entries when they step past them (btree.h). Once mark_immutable() is called no entry
// is ever added again. Iterators, and the views they and get() return, must not outlive
// the memtable.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

#include "engine/format/internal_key.h"
#include "engine/memtable/arena.h"
#include "engine/memtable/btree.h"
#include "engine/memtable/point_index.h"
#include "engine/write_batch.h"

namespace cascade::engine {

constexpr std::size_t kDefaultMemTableSize = 64 * 1024 * 1024;

// What get() found for a user key at a snapshot.
enum class LookupState {
  kNotPresent,  // no version at or below the snapshot: look in older data
  kFound,       // the newest visible version holds a value (inline or a value pointer)
  kDeleted,     // the newest visible version is a tombstone: the key does not exist
};

struct LookupResult {
  LookupState state = LookupState::kNotPresent;
  ValueType type = ValueType::kValue;  // kValue or kValuePointer when found
  SequenceNumber sequence = 0;         // of the version found (found or deleted)
  std::string_view value;              // a view into the memtable's arena when found
};

class MemTable {
 public:
  // `pool`: where the arena's huge blocks come from and go back to (arena.h); may be null.
  // `size_target`: the size at which the engine retires it, which sizes its point index.
  explicit MemTable(std::shared_ptr<HugeBlockPool> pool = nullptr,
                    std::size_t size_target = kDefaultMemTableSize);
  MemTable(const MemTable&) = delete;
  MemTable& operator=(const MemTable&) = delete;

  // Records (user_key, seq) -> value. Each (user_key, seq) is added once; a deletion's value
  // is empty. Sizes must fit in 32 bits.
  void add(SequenceNumber seq, ValueType type, std::string_view user_key,
           std::string_view value);
  // add() for each record, in order; the index's paths to a group of them are fetched into
  // the cache together first (BTree::prefetch), so a batch of random keys waits for its
  // cache misses side by side. A group is at most BTree::kMaxPrefetch records.
  void add_all(std::span<const WriteBatchRecord> records);

  // The newest version of user_key whose sequence is <= snapshot. `hash` is
  // key_hash(user_key) (engine/format/checksum.h), which the caller reuses for the tables.
  LookupResult get(std::string_view user_key, std::uint64_t hash, SequenceNumber snapshot) const;
  LookupResult get(std::string_view user_key, SequenceNumber snapshot) const;
  // Brings the point index's slots for the given keys, then their newest entries, into the
  // cache, a step at a time for all of them, so the get()s that follow find them there: a
  // pipeline's lookups of random keys then wait for their cache misses side by side. At
  // most BTree::kMaxPrefetch keys are used; changes nothing.
  void prefetch_lookups(std::span<const std::string_view> user_keys) const;
  // Brings the tree's paths to where new versions of the given keys go (BTree::prefetch),
  // for a batch of read-modify-writes (INCR after INCR) whose inserts come one at a time,
  // each a batch of one that add_all() has nothing to overlap with. At most
  // BTree::kMaxPrefetch keys are used; changes nothing.
  void prefetch_inserts(std::span<const std::string_view> user_keys) const;

  // Heap bytes held (entries, index nodes, arena slack, the point index's slots): what the
  // flush threshold reads.
  std::size_t approximate_memory_usage() const {
    return arena_.memory_usage() + points_.memory_usage();
  }
  // Whether every key is in the point index (a miss there then proves absence).
  bool point_index_complete() const { return points_.complete(); }
  // The point index's share of approximate_memory_usage(): chunks of the shard's huge
  // block pool (or one allocation for a small table), which the allocator's counts do not
  // all see.
  std::size_t point_index_bytes() const { return points_.memory_usage(); }
  std::size_t entry_count() const { return index_.size(); }
  bool empty() const { return index_.size() == 0; }

  void mark_immutable() { immutable_ = true; }
  bool is_immutable() const { return immutable_; }

  // Walks every entry (all versions, tombstones included) in internal-key order.
  class Iterator {
   public:
    explicit Iterator(const MemTable& mem) : it_(mem.index_) {}

    bool valid() const { return it_.valid(); }
    // First entry whose internal key is >= internal_key (user key + 8-byte trailer).
    void seek(std::string_view internal_key) { it_.seek(internal_key); }
    void seek_to_first() { it_.seek_to_first(); }
    void seek_to_last() { it_.seek_to_last(); }
    void next() { it_.next(); }
    void prev() { it_.prev(); }

    // Views into the arena, valid for the memtable's life. Require valid().
    std::string_view key() const { return entry_internal_key(it_.entry()); }
    std::string_view value() const { return entry_value(it_.entry()); }

   private:
    BTree::Iterator it_;
  };

 private:
  // `hint`: where add_all's prefetch found the key's leaf, or empty. Returns what
  // BTree::insert(entry, hint) returns.
  BTree::InsertHint add_hashed(SequenceNumber seq, ValueType type, std::string_view user_key,
                  std::string_view value, std::uint64_t hash,
                  const BTree::InsertHint& hint = {});

  Arena arena_;
  BTree index_;
  // User key -> newest entry: get() at a snapshot that sees the newest version reads no
  // tree node (point_index.h); older snapshots, and misses once it is incomplete, descend.
  PointIndex points_;
  bool immutable_ = false;
};

}  // namespace cascade::engine
