#include "engine/cache/ghost_queue.h"

#include <algorithm>
#include <bit>

namespace cascade::engine {

void GhostQueue::resize(std::size_t capacity) {
  ring_.assign(capacity, 0);
  slots_.assign(std::bit_ceil(std::max<std::size_t>(2 * capacity, 2)), Slot{});
  next_seq_ = 0;
  live_ = 0;
}

std::size_t GhostQueue::find(std::uint64_t hash) const {
  for (std::size_t i = hash & mask();; i = (i + 1) & mask()) {
    if (slots_[i].hash == hash) return i;
    if (slots_[i].hash == 0) return kAbsent;
  }
}

void GhostQueue::add(std::uint64_t hash) {
  if (ring_.empty()) return;
  hash = nonzero(hash);
  if (next_seq_ >= ring_.size()) {
    std::uint64_t oldest = next_seq_ - ring_.size();
    std::size_t i = find(ring_[oldest % ring_.size()]);
    if (i != kAbsent && slots_[i].seq == oldest) erase_slot(i);
  }
  ring_[next_seq_ % ring_.size()] = hash;
  std::size_t i = hash & mask();
  while (slots_[i].hash != 0 && slots_[i].hash != hash) i = (i + 1) & mask();
  if (slots_[i].hash == 0) ++live_;
  slots_[i] = Slot{hash, next_seq_};
  ++next_seq_;
}

bool GhostQueue::take(std::uint64_t hash) {
  if (ring_.empty()) return false;
  std::size_t i = find(nonzero(hash));
  if (i == kAbsent) return false;
  erase_slot(i);
  return true;
}

// Backward-shift deletion: later members of the probe run move into the hole unless their
// home slot lies cyclically in (hole, their position], so every lookup still finds them
// without tombstones.
void GhostQueue::erase_slot(std::size_t hole) {
  for (std::size_t j = (hole + 1) & mask(); slots_[j].hash != 0; j = (j + 1) & mask()) {
    std::size_t home = slots_[j].hash & mask();
    bool stays = hole < j ? (home > hole && home <= j) : (home > hole || home <= j);
    if (!stays) {
      slots_[hole] = slots_[j];
      hole = j;
    }
  }
  slots_[hole] = Slot{};
  --live_;
}

}  // namespace cascade::engine
