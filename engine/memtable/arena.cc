// See arena.h for the block scheme and its invariants.
#include "engine/memtable/arena.h"

#include <sys/mman.h>

#include <cassert>
#include <cstdint>
#include <new>

namespace cascade::engine {

// Maps twice the size and unmaps the ends, leaving kHugeBlockSize bytes on a
// kHugeBlockSize boundary.
char* map_huge_block() {
  constexpr std::size_t kSize = Arena::kHugeBlockSize;
  void* mapped = ::mmap(nullptr, 2 * kSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mapped == MAP_FAILED) return nullptr;
  auto* start = static_cast<char*>(mapped);
  const auto at = reinterpret_cast<std::uintptr_t>(start);
  char* aligned = start + ((kSize - (at & (kSize - 1))) & (kSize - 1));
  if (aligned > start) ::munmap(start, static_cast<std::size_t>(aligned - start));
  char* end = aligned + kSize;
  if (end < start + 2 * kSize) ::munmap(end, static_cast<std::size_t>(start + 2 * kSize - end));
  (void)::madvise(aligned, kSize, MADV_HUGEPAGE);  // advice: no huge page is no error
  return aligned;
}

void unmap_huge_block(char* block) { ::munmap(block, Arena::kHugeBlockSize); }

HugeBlockPool::~HugeBlockPool() {
  for (char* block : free_) unmap_huge_block(block);
}

char* HugeBlockPool::acquire() {
  if (char* kept = take()) return kept;
  return map_();
}

char* HugeBlockPool::take() {
  std::lock_guard lock(mu_);
  if (free_.empty()) return nullptr;
  char* block = free_.back();
  free_.pop_back();
  return block;
}

void HugeBlockPool::give(char* block) {
  {
    std::lock_guard lock(mu_);
    if ((free_.size() + 1) * Arena::kHugeBlockSize <= capacity_) {
      free_.push_back(block);
      return;
    }
  }
  unmap_huge_block(block);
}

void HugeBlockPool::set_capacity(std::size_t bytes) {
  std::vector<char*> excess;
  {
    std::lock_guard lock(mu_);
    capacity_ = bytes;
    while (!free_.empty() && free_.size() * Arena::kHugeBlockSize > capacity_) {
      excess.push_back(free_.back());
      free_.pop_back();
    }
  }
  for (char* block : excess) unmap_huge_block(block);
}

std::size_t HugeBlockPool::kept_bytes() const {
  std::lock_guard lock(mu_);
  return free_.size() * Arena::kHugeBlockSize;
}

std::size_t HugeBlockPool::capacity() const {
  std::lock_guard lock(mu_);
  return capacity_;
}

Arena::~Arena() {
  for (const Block& block : blocks_) {
    if (block.mapped && pool_) {
      pool_->give(block.data);
    } else if (block.mapped) {
      ::munmap(block.data, block.bytes);
    } else {
      ::operator delete(block.data, std::align_val_t{kMaxAlignment});
    }
  }
}

char* Arena::allocate_fallback(std::size_t bytes, std::size_t alignment) {
  assert(bytes > 0);
  assert(alignment > 0 && (alignment & (alignment - 1)) == 0 && alignment <= kMaxAlignment);
  allocated_bytes_ += bytes;
  if (bytes > kLargeAllocation) {
    // Its own block: the current block keeps its free tail for the small requests to come.
    return new_block(bytes);
  }
  // Blocks start kMaxAlignment-aligned, so a fresh block needs no padding.
  char* huge = block_bytes_ >= kHugeAfter ? new_huge_block() : nullptr;
  cursor_ = huge != nullptr ? huge : new_block(kBlockSize);
  limit_ = cursor_ + (huge != nullptr ? kHugeBlockSize : kBlockSize);
  char* result = cursor_;
  cursor_ += bytes;
  return result;
}

char* Arena::new_block(std::size_t bytes) {
  auto* block = static_cast<char*>(::operator new(bytes, std::align_val_t{kMaxAlignment}));
  blocks_.push_back({block, bytes, false});
  block_bytes_ += bytes;
  return block;
}

// A block the pool kept, else a fresh one. Null if the mapping fails: the caller falls back
// to an ordinary block.
char* Arena::new_huge_block() {
  char* block = pool_ ? pool_->acquire() : map_huge_block();
  if (block == nullptr) return nullptr;
  blocks_.push_back({block, kHugeBlockSize, true});
  block_bytes_ += kHugeBlockSize;
  return block;
}

}  // namespace cascade::engine
