// See arena.h for the block scheme and its invariants.
#include "engine/memtable/arena.h"

#include <cassert>
#include <new>

namespace cascade::engine {

Arena::~Arena() {
  for (char* block : blocks_) ::operator delete(block, std::align_val_t{kMaxAlignment});
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
  cursor_ = new_block(kBlockSize);
  limit_ = cursor_ + kBlockSize;
  char* result = cursor_;
  cursor_ += bytes;
  return result;
}

char* Arena::new_block(std::size_t bytes) {
  auto* block = static_cast<char*>(::operator new(bytes, std::align_val_t{kMaxAlignment}));
  blocks_.push_back(block);
  block_bytes_ += bytes;
  return block;
}

}  // namespace cascade::engine
