// Snapshots: a read view fixed at a sequence number, and the list of live ones.
//
// A Snapshot taken at sequence S sees exactly the writes with sequences <= S: every write
// acknowledged before snapshot() returned, none after. It is a move-only RAII handle:
// destroying it (or release()) removes it from its engine's SnapshotList. The engine keeps
// every version a live snapshot may read; sequences() tells compaction which older versions are
// still needed.
//
// A Snapshot must not outlive its engine. One shard's thread; no call suspends.
#pragma once

#include <cstddef>
#include <set>
#include <vector>

#include "engine/format/internal_key.h"

namespace cascade::engine {

class SnapshotList {
 public:
  using Entry = std::multiset<SequenceNumber>::iterator;

  Entry add(SequenceNumber s) { return live_.insert(s); }
  void remove(Entry e) { live_.erase(e); }
  bool empty() const { return live_.empty(); }
  std::size_t size() const { return live_.size(); }
  // The oldest live snapshot's sequence; requires !empty().
  SequenceNumber oldest() const { return *live_.begin(); }
  // Every live snapshot's sequence, ascending, once each (compaction's snapshot stripes).
  std::vector<SequenceNumber> sequences() const {
    std::vector<SequenceNumber> out;
    for (SequenceNumber s : live_) {
      if (out.empty() || out.back() != s) out.push_back(s);
    }
    return out;
  }

 private:
  std::multiset<SequenceNumber> live_;  // iterators stay valid until erased
};

class Snapshot {
 public:
  Snapshot() = default;
  Snapshot(SnapshotList& list, SequenceNumber sequence)
      : list_(&list), entry_(list.add(sequence)), sequence_(sequence) {}
  Snapshot(Snapshot&& other) noexcept { *this = std::move(other); }
  Snapshot& operator=(Snapshot&& other) noexcept {
    if (this != &other) {
      release();
      list_ = other.list_;
      entry_ = other.entry_;
      sequence_ = other.sequence_;
      other.list_ = nullptr;
    }
    return *this;
  }
  Snapshot(const Snapshot&) = delete;
  Snapshot& operator=(const Snapshot&) = delete;
  ~Snapshot() { release(); }

  void release() {
    if (list_ != nullptr) list_->remove(entry_);
    list_ = nullptr;
  }
  bool valid() const { return list_ != nullptr; }
  SequenceNumber sequence() const { return sequence_; }

 private:
  SnapshotList* list_ = nullptr;
  SnapshotList::Entry entry_{};
  SequenceNumber sequence_ = 0;
};

}  // namespace cascade::engine
