// See point_index.h for the layout and its invariants.
#include "engine/memtable/point_index.h"

#include <sys/mman.h>

#include <algorithm>
#include <bit>

#include "engine/memtable/memtable_entry.h"

namespace cascade::engine {

namespace {
// What a disabled index points at: one empty slot, so prefetch() needs no test.
const std::uint64_t kNoSlots[1] = {0};
}  // namespace

PointIndex::PointIndex(std::size_t memtable_size) {
  const std::size_t slots = std::bit_floor(std::max<std::size_t>(1024, memtable_size / 64));
  // NORESERVE: the pages are zero until a key lands on them, and are counted as the
  // memtable's whether touched or not; no commit charge is due before then.
  void* mapped = ::mmap(nullptr, slots * sizeof(std::uint64_t), PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (mapped == MAP_FAILED) {
    // Without its table the memtable answers every lookup from its tree, as it did before
    // the index existed: slower, never wrong. Not an error worth failing a write for.
    slots_ = const_cast<std::uint64_t*>(kNoSlots);
    disabled_ = true;
    complete_ = false;
    return;
  }
  slots_ = static_cast<std::uint64_t*>(mapped);
  mask_ = slots - 1;
  max_used_ = slots / 4 * 3;
}

PointIndex::~PointIndex() {
  if (slots_ != kNoSlots) ::munmap(slots_, (mask_ + 1) * sizeof(std::uint64_t));
}

void PointIndex::prefetch_entry(std::uint64_t hash) const {
  const std::uint64_t tag = tag_of(hash);
  for (std::size_t i = home(hash), probed = 0; probed <= mask_; i = (i + 1) & mask_, ++probed) {
    const std::uint64_t slot = slots_[i];
    if (slot == 0) return;
    if ((slot & ~kPointerMask) == tag) {
      __builtin_prefetch(entry_of(slot));
      return;
    }
  }
}

void PointIndex::record(std::uint64_t hash, std::string_view user_key, SequenceNumber sequence,
                        const char* entry) {
  if (disabled_) return;
  const auto address = reinterpret_cast<std::uintptr_t>(entry);
  if ((address & ~kPointerMask) != 0) {
    disabled_ = true;
    complete_ = false;
    return;
  }
  const std::uint64_t tag = tag_of(hash);
  for (std::size_t i = home(hash);; i = (i + 1) & mask_) {
    const std::uint64_t slot = slots_[i];
    if (slot == 0) {
      if (used_ == max_used_) {
        complete_ = false;
        return;
      }
      slots_[i] = tag | address;
      ++used_;
      return;
    }
    if ((slot & ~kPointerMask) != tag) continue;
    const char* held = entry_of(slot);
    const std::string_view held_key = entry_internal_key(held);
    if (extract_user_key(held_key) != user_key) continue;
    if ((extract_trailer(held_key) >> 8) < sequence) slots_[i] = tag | address;
    return;
  }
}

const char* PointIndex::newest(std::uint64_t hash, std::string_view user_key) const {
  if (disabled_) return nullptr;
  const std::uint64_t tag = tag_of(hash);
  for (std::size_t i = home(hash);; i = (i + 1) & mask_) {
    const std::uint64_t slot = slots_[i];
    if (slot == 0) return nullptr;
    if ((slot & ~kPointerMask) != tag) continue;
    const char* held = entry_of(slot);
    if (entry_user_key(held) == user_key) return held;
  }
}

}  // namespace cascade::engine
