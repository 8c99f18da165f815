// See probe_ranges.h.
#include "src/types/probe_ranges.h"

#include <algorithm>
#include <utility>

namespace cascade::types {

std::optional<ProbeRanges::Range> ProbeRanges::find(std::string_view prefix,
                                                    std::uint64_t size) {
  for (Entry& e : entries_) {
    if (e.prefix != prefix) continue;
    if (++e.uses > kReuses || size > e.size) return std::nullopt;
    e.last_use = ++clock_;
    return e.range;
  }
  return std::nullopt;
}

void ProbeRanges::keep(std::string_view prefix, Range range, std::uint64_t size) {
  Entry* slot = nullptr;
  for (Entry& e : entries_) {
    if (e.prefix == prefix) slot = &e;
  }
  if (slot == nullptr && entries_.size() < kCapacity) slot = &entries_.emplace_back();
  if (slot == nullptr) {
    slot = &*std::min_element(entries_.begin(), entries_.end(),
                              [](const Entry& a, const Entry& b) { return a.last_use < b.last_use; });
  }
  slot->prefix.assign(prefix);
  slot->range = std::move(range);
  slot->size = size;
  slot->uses = 0;
  slot->last_use = ++clock_;
}

}  // namespace cascade::types
