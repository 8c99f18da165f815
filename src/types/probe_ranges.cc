// See probe_ranges.h.
#include "src/types/probe_ranges.h"

#include <algorithm>
#include <utility>

namespace cascade::types {

const ProbeRanges::Range* ProbeRanges::find(std::string_view prefix) {
  for (Entry& e : entries_) {
    if (e.prefix != prefix) continue;
    if (++e.uses > kReuses) return nullptr;
    e.last_use = ++clock_;
    return &e.range;
  }
  return nullptr;
}

void ProbeRanges::keep(std::string_view prefix, Range range) {
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
  slot->uses = 0;
  slot->last_use = ++clock_;
}

}  // namespace cascade::types
