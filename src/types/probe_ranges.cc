// See probe_ranges.h.
#include "src/types/probe_ranges.h"

#include <algorithm>
#include <iterator>
#include <utility>

namespace cascade::types {

std::optional<EmptyStretches::Stretch> EmptyStretches::holding(std::string_view probe) const {
  if (tail_ && probe >= *tail_) return Stretch{.start = *tail_, .end = {}, .to_end = true};
  auto it = by_start_.upper_bound(probe);  // the first stretch starting past the probe
  if (it == by_start_.begin()) return std::nullopt;
  --it;
  if (probe >= it->second) return std::nullopt;
  return Stretch{.start = it->first, .end = it->second};
}

void EmptyStretches::absorb(std::string& start, std::string& end) {
  // At most the stretch before `start` reaches into the new one (they are disjoint and
  // none touches another); those starting inside [start, end] are swallowed.
  auto it = by_start_.upper_bound(start);
  if (it != by_start_.begin()) {
    auto before = std::prev(it);
    if (before->second >= start) {
      start = before->first;
      end = std::max(end, before->second);
      bytes_ -= cost(before->first, before->second);
      it = by_start_.erase(before);
    }
  }
  while (it != by_start_.end() && it->first <= end) {
    end = std::max(end, it->second);
    bytes_ -= cost(it->first, it->second);
    it = by_start_.erase(it);
  }
}

void EmptyStretches::make_room(std::size_t added) {
  if (bytes_ + added <= kMaxBytes) return;
  by_start_.clear();
  tail_.reset();
  bytes_ = 0;
}

void EmptyStretches::add(std::string_view start_view, std::string_view end_view) {
  if (start_view >= end_view) return;
  if (tail_ && end_view >= *tail_) {
    add_to_end(start_view);
    return;
  }
  std::string start(start_view), end(end_view);
  absorb(start, end);
  if (cost(start, end) > kMaxBytes) return;
  make_room(cost(start, end));
  bytes_ += cost(start, end);
  by_start_.emplace(std::move(start), std::move(end));
}

void EmptyStretches::add_to_end(std::string_view start_view) {
  std::string start(tail_ ? std::min(*tail_, std::string(start_view)) : std::string(start_view));
  if (tail_) bytes_ -= cost(*tail_, {});
  tail_.reset();
  // Everything from `start` on: the stretch reaching into it and all after it.
  auto it = by_start_.upper_bound(start);
  if (it != by_start_.begin() && std::prev(it)->second >= start) {
    start = std::prev(it)->first;
    --it;
  }
  for (auto gone = it; gone != by_start_.end(); ++gone) bytes_ -= cost(gone->first, gone->second);
  by_start_.erase(it, by_start_.end());
  if (cost(start, {}) > kMaxBytes) return;
  make_room(cost(start, {}));
  bytes_ += cost(start, {});
  tail_ = std::move(start);
}

ProbeRanges::Entry& ProbeRanges::entry(std::string_view prefix) {
  for (Entry& e : entries_) {
    if (e.prefix == prefix) return e;
  }
  Entry* slot = nullptr;
  if (entries_.size() < kCapacity) {
    slot = &entries_.emplace_back();
  } else {
    slot = &*std::min_element(entries_.begin(), entries_.end(),
                              [](const Entry& a, const Entry& b) { return a.last_use < b.last_use; });
    *slot = Entry{};
  }
  slot->prefix.assign(prefix);
  return *slot;  // no stretches yet: find() starts them
}

ProbeRanges::Kept ProbeRanges::find(std::string_view prefix, std::uint64_t size) {
  Entry& e = entry(prefix);
  e.last_use = ++clock_;
  if (e.empty == nullptr || size > e.size || ++e.stretch_uses > kStretchReuses) {
    // Grown since the last draw (members may lie anywhere, even inside a stretch), or due
    // for a fresh look anyway.
    e.range.reset();
    e.empty = std::make_shared<EmptyStretches>();
    e.sparse = false;
    e.stretch_uses = 0;
  }
  e.size = size;
  Kept kept{.range = e.range, .refresh = false, .sparse = e.sparse, .empty = e.empty};
  if (kept.range && ++e.uses > kReuses) kept.refresh = true;
  return kept;
}

const ProbeRanges::Entry* ProbeRanges::lookup(std::string_view prefix) const {
  for (const Entry& e : entries_) {
    if (e.prefix == prefix) return &e;
  }
  return nullptr;
}

ProbeRanges::Entry* ProbeRanges::current(std::string_view prefix, const Kept& as_of) {
  Entry* e = const_cast<Entry*>(lookup(prefix));
  return e != nullptr && as_of.empty != nullptr && e->empty == as_of.empty ? e : nullptr;
}

std::optional<ProbeRanges::Kept> ProbeRanges::peek(std::string_view prefix,
                                                   std::uint64_t size) const {
  const Entry* e = lookup(prefix);
  if (e == nullptr || e->size != size) return std::nullopt;
  return Kept{.range = e->range, .refresh = false, .sparse = e->sparse, .empty = e->empty};
}

bool ProbeRanges::known_sparse(std::string_view prefix, std::uint64_t size) const {
  const Entry* e = lookup(prefix);
  return e != nullptr && e->sparse && size <= e->size;
}

void ProbeRanges::keep(std::string_view prefix, const Kept& as_of, Range range) {
  Entry* e = current(prefix, as_of);
  if (e == nullptr) return;
  e->range = std::move(range);
  e->uses = 0;
  e->last_use = ++clock_;
}

void ProbeRanges::mark_sparse(std::string_view prefix, const Kept& as_of) {
  if (Entry* e = current(prefix, as_of)) e->sparse = true;
}

void ProbeRanges::removed(std::string_view prefix, const Kept& as_of, std::uint64_t size) {
  if (Entry* e = current(prefix, as_of)) e->size = std::min(e->size, size);
}

void ProbeRanges::forget(std::string_view prefix) {
  for (Entry& e : entries_) {
    if (e.prefix == prefix) e = Entry{};  // an empty prefix names no collection
  }
}

}  // namespace cascade::types
