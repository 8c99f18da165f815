// See point_index.h for the layout and its invariants.
#include "engine/memtable/point_index.h"

#include <sys/mman.h>

#include <algorithm>
#include <bit>
#include <cstring>

#include "engine/memtable/memtable_entry.h"

namespace cascade::engine {

namespace {
// What a disabled index reads: one empty slot, so prefetch() and probes need no test.
std::uint64_t kNoSlots[1] = {0};
std::uint64_t* const kNoChunks[1] = {kNoSlots};

constexpr std::size_t kMaxSlots = std::size_t{1} << 32;

// One 2 MiB chunk of empty slots that every index of the process reads where no key has
// landed yet: read-only, so its pages stay the kernel's zero page and a stray write faults.
// Null if it cannot be mapped (big tables are then disabled).
std::uint64_t* zero_chunk() {
  static std::uint64_t* const chunk = [] {
    void* mapped = ::mmap(nullptr, Arena::kHugeBlockSize, PROT_READ,
                          MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    return mapped == MAP_FAILED ? nullptr : static_cast<std::uint64_t*>(mapped);
  }();
  return chunk;
}
}  // namespace

PointIndex::PointIndex(std::size_t memtable_size, std::shared_ptr<HugeBlockPool> pool)
    : pool_(std::move(pool)) {
  const std::size_t slots =
      std::min(kMaxSlots, std::bit_floor(std::max<std::size_t>(1024, memtable_size / 64)));
  const int slot_bits = std::countr_zero(slots);
  small_ = slot_bits < kChunkShift;
  std::uint64_t* first = nullptr;
  if (small_) {
    // Mapped, as the chunks are, so that all of an index's memory is outside the heap
    // (INFO adds it to what the allocator reports), and written at once: no page is read
    // before its first write.
    void* mapped = ::mmap(nullptr, slots * sizeof(std::uint64_t), PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mapped != MAP_FAILED) {
      first = static_cast<std::uint64_t*>(mapped);
      std::memset(first, 0, slots * sizeof(std::uint64_t));
      held_bytes_ = slots * sizeof(std::uint64_t);
    }
  } else {
    first = zero_ = zero_chunk();
  }
  if (first == nullptr) {
    // Without its table the memtable answers every lookup from its tree, as it did before
    // the index existed: slower, never wrong. Not an error worth failing a write for.
    chunks_.assign(kNoChunks, kNoChunks + 1);
    failed_ = true;
    disable();
    return;
  }
  chunk_shift_ = small_ ? slot_bits : kChunkShift;
  chunk_mask_ = (std::size_t{1} << chunk_shift_) - 1;
  chunks_.assign(slots >> chunk_shift_, first);
  mask_ = slots - 1;
  max_used_ = slots / 4 * 3;
}

PointIndex::~PointIndex() {
  if (failed_ && held_bytes_ == 0) return;
  if (small_) {
    ::munmap(chunks_[0], held_bytes_);
    return;
  }
  for (std::uint64_t* chunk : chunks_) {
    if (chunk == zero_) continue;
    char* block = reinterpret_cast<char*>(chunk);
    if (pool_) {
      pool_->give(block);
    } else {
      unmap_huge_block(block);
    }
  }
}

void PointIndex::disable() {
  disabled_ = true;
  complete_ = false;
}

bool PointIndex::take_chunk(std::size_t i) {
  char* block = pool_ ? pool_->acquire() : map_huge_block();
  if (block == nullptr) {
    failed_ = true;
    disable();
    return false;
  }
  // A pooled block holds its last user's bytes; a fresh one is zero but unwritten, and
  // writing it first is what keeps its pages from being copied (see the header).
  std::memset(block, 0, Arena::kHugeBlockSize);
  chunks_[i >> chunk_shift_] = reinterpret_cast<std::uint64_t*>(block);
  held_bytes_ += Arena::kHugeBlockSize;
  return true;
}

// Every table has an empty slot (at most 3/4 are used; a disabled index's one slot is
// empty), so every probe below ends.
void PointIndex::prefetch_entry(std::uint64_t hash) const {
  const std::uint64_t tag = tag_of(hash);
  for (std::size_t i = home(hash);; i = (i + 1) & mask_) {
    const std::uint64_t slot = this->slot(i);
    if (slot == 0) return;
    if ((slot & ~kPointerMask) == tag) return __builtin_prefetch(entry_of(slot));
  }
}

std::size_t PointIndex::probe(std::uint64_t hash, std::string_view user_key) const {
  const std::uint64_t tag = tag_of(hash);
  for (std::size_t i = home(hash);; i = (i + 1) & mask_) {
    const std::uint64_t slot = this->slot(i);
    if (slot == 0) return i;
    if ((slot & ~kPointerMask) == tag && entry_user_key(entry_of(slot)) == user_key) return i;
  }
}

void PointIndex::record(std::uint64_t hash, std::string_view user_key, SequenceNumber sequence,
                        const char* entry) {
  if (disabled_) return;
  const auto address = reinterpret_cast<std::uintptr_t>(entry);
  if ((address & ~kPointerMask) != 0) {
    disable();
    return;
  }
  const std::size_t i = probe(hash, user_key);
  std::uint64_t& held = slot(i);
  if (held == 0) {
    if (used_ == max_used_) {
      complete_ = false;
      return;
    }
    if (chunks_[i >> chunk_shift_] == zero_ && !take_chunk(i)) return;
    ++used_;
  } else if ((extract_trailer(entry_internal_key(entry_of(held))) >> 8) >= sequence) {
    return;  // it holds a newer version already
  }
  slot(i) = tag_of(hash) | address;  // not `held`: its chunk may have just been taken
}

const char* PointIndex::newest(std::uint64_t hash, std::string_view user_key) const {
  if (disabled_) return nullptr;
  const std::uint64_t found = slot(probe(hash, user_key));
  return found == 0 ? nullptr : entry_of(found);
}

}  // namespace cascade::engine
