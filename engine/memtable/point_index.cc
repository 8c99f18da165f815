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

// Every table has an empty slot (at most 3/4 are used; a disabled index's one slot is
// empty), so every probe below ends.
void PointIndex::prefetch_entry(std::uint64_t hash) const {
  const std::uint64_t tag = tag_of(hash);
  for (std::size_t i = home(hash);; i = (i + 1) & mask_) {
    const std::uint64_t slot = slots_[i];
    if (slot == 0) return;
    if ((slot & ~kPointerMask) == tag) return __builtin_prefetch(entry_of(slot));
  }
}

std::size_t PointIndex::probe(std::uint64_t hash, std::string_view user_key) const {
  const std::uint64_t tag = tag_of(hash);
  for (std::size_t i = home(hash);; i = (i + 1) & mask_) {
    const std::uint64_t slot = slots_[i];
    if (slot == 0) return i;
    if ((slot & ~kPointerMask) == tag && entry_user_key(entry_of(slot)) == user_key) return i;
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
  const std::size_t i = probe(hash, user_key);
  if (slots_[i] == 0) {
    if (used_ == max_used_) {
      complete_ = false;
      return;
    }
    ++used_;
  } else if ((extract_trailer(entry_internal_key(entry_of(slots_[i]))) >> 8) >= sequence) {
    return;  // it holds a newer version already
  }
  slots_[i] = tag_of(hash) | address;
}

const char* PointIndex::newest(std::uint64_t hash, std::string_view user_key) const {
  if (disabled_) return nullptr;
  const std::uint64_t slot = slots_[probe(hash, user_key)];
  return slot == 0 ? nullptr : entry_of(slot);
}

}  // namespace cascade::engine
