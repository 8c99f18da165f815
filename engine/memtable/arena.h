// Arena: a bump allocator for one memtable's entries and index nodes.
//
// Memory comes from blocks of kBlockSize bytes, each aligned to kMaxAlignment. A request is
// carved from the current block by moving a pointer; when it does not fit, a new block
// starts and the old block's unused tail is abandoned. A request larger than
// kLargeAllocation gets a block of exactly its size, so a large value wastes no tail and the
// current block keeps serving small requests.
//
// Huge blocks. Once an arena holds kHugeAfter bytes, its next blocks are kHugeBlockSize
// (2 MiB), mapped on their own and 2 MiB-aligned, with MADV_HUGEPAGE: one TLB entry then
// covers what 512 would at 4 KiB pages. A memtable's index and entries are reached by
// pointer in key order, which in a 64 MiB memtable is all over its memory; with small
// pages nearly every step of a B+tree descent missed the TLB too. A small memtable (a test,
// a quiet shard) never reaches kHugeAfter and costs no 2 MiB page. Where the kernel gives
// no huge page (THP off, memory fragmented) the block is an ordinary mapping.
//
// Invariants:
//   - Nothing is freed before the arena dies; every pointer handed out stays valid (and its
//     bytes unmoved) until then. Memtable entries and iterators rely on this.
//   - memory_usage() is the bytes obtained from the heap for blocks plus the bookkeeping
//     vector; it is exact up to the allocator's own headers, so it can drive the memtable's
//     flush threshold.
//
// Block reuse. An arena given a HugeBlockPool takes its huge blocks from the pool first and
// gives them back when it dies, so the memtables of one shard pass their 2 MiB blocks on
// instead of mapping fresh ones: a fresh mapping costs a page fault and the kernel zeroing
// 2 MiB on first touch, 8% of the CPU of a write-heavy run. A reused block holds the old
// memtable's bytes; nothing reads arena memory it did not write (ordinary blocks are not
// zeroed either).
//
// The memtable's point index (point_index.h) takes its 2 MiB chunks from the same pool and
// gives them back the same way, clearing each itself: a block may come from either user.
//
// Concurrency: an arena is single-threaded (one shard owns the memtable); no atomics. The
// pool takes a mutex per 2 MiB block, so a memtable may die on any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

namespace cascade::engine {

// Maps kHugeBlockSize (2 MiB) bytes on a 2 MiB boundary (a huge page must be aligned to its
// size), advised MADV_HUGEPAGE; null when the mapping fails. Undone by unmap_huge_block.
char* map_huge_block();
void unmap_huge_block(char* block);

// Free huge blocks kept between the memtables of one shard. It keeps at most capacity()
// bytes (blocks given beyond it are unmapped), so it holds no more than one memtable's
// worth beyond what the shard's memtables already reached.
class HugeBlockPool {
 public:
  // `map` makes a fresh block when none is kept (tests give one that fails).
  explicit HugeBlockPool(std::size_t capacity, char* (*map)() = map_huge_block)
      : capacity_(capacity), map_(map) {}
  ~HugeBlockPool();  // unmaps every block it keeps
  HugeBlockPool(const HugeBlockPool&) = delete;
  HugeBlockPool& operator=(const HugeBlockPool&) = delete;

  // A kept block, or null when none is.
  char* take();
  // A kept block, else a fresh mapping; null when that fails. Its bytes are whatever its
  // last user left (zero only when fresh).
  char* acquire();
  // Keeps `block` (kHugeBlockSize bytes, 2 MiB-aligned) or unmaps it past the capacity.
  void give(char* block);
  // Unmaps kept blocks beyond the new capacity.
  void set_capacity(std::size_t bytes);

  std::size_t kept_bytes() const;
  std::size_t capacity() const;

 private:
  mutable std::mutex mu_;
  std::size_t capacity_;
  char* (*map_)();
  std::vector<char*> free_;
};

class Arena {
 public:
  static constexpr std::size_t kBlockSize = 64 * 1024;
  static constexpr std::size_t kLargeAllocation = kBlockSize / 4;
  static constexpr std::size_t kMaxAlignment = 64;  // one cache line
  static constexpr std::size_t kHugeBlockSize = std::size_t{2} << 20;
  static constexpr std::size_t kHugeAfter = std::size_t{4} << 20;

  // `pool` may be null: huge blocks are then mapped and unmapped by this arena alone.
  explicit Arena(std::shared_ptr<HugeBlockPool> pool = nullptr) : pool_(std::move(pool)) {}
  ~Arena();
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;

  // `bytes` > 0. The result has no particular alignment.
  char* allocate(std::size_t bytes) { return allocate_aligned(bytes, 1); }

  // `alignment` is a power of two no larger than kMaxAlignment.
  char* allocate_aligned(std::size_t bytes, std::size_t alignment);

  // Bytes held: block sizes plus the block list's capacity.
  std::size_t memory_usage() const {
    return block_bytes_ + blocks_.capacity() * sizeof(Block);
  }
  // Bytes handed out by allocate*, without padding or abandoned tails.
  std::size_t allocated_bytes() const { return allocated_bytes_; }
  std::size_t block_count() const { return blocks_.size(); }

 private:
  char* allocate_fallback(std::size_t bytes, std::size_t alignment);
  char* new_block(std::size_t bytes);
  char* new_huge_block();

  struct Block {
    char* data;
    std::size_t bytes;
    bool mapped;  // a huge block: munmap, not operator delete
  };

  char* cursor_ = nullptr;  // next free byte of the current block
  char* limit_ = nullptr;   // one past the current block's last byte
  std::size_t block_bytes_ = 0;
  std::size_t allocated_bytes_ = 0;
  std::vector<Block> blocks_;
  std::shared_ptr<HugeBlockPool> pool_;
};

inline char* Arena::allocate_aligned(std::size_t bytes, std::size_t alignment) {
  auto at = reinterpret_cast<std::uintptr_t>(cursor_);
  std::size_t pad = (alignment - (at & (alignment - 1))) & (alignment - 1);
  if (bytes + pad <= static_cast<std::size_t>(limit_ - cursor_)) {
    char* result = cursor_ + pad;
    cursor_ = result + bytes;
    allocated_bytes_ += bytes;
    return result;
  }
  return allocate_fallback(bytes, alignment);
}

}  // namespace cascade::engine
