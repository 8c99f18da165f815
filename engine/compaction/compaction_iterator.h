// CompactionIterator: the entries a compaction writes, drawn from the merged inputs (every
// version and tombstone, in internal-key order), after dropping what no reader can need.
//
// Snapshot stripes. The live snapshots S1 < S2 < ... < Sn (taken when the job starts; a
// later snapshot sees every input entry, like a read of the newest data) cut the sequence
// space into stripes: an entry with sequence s lies in stripe i = the number of snapshots
// below s. A reader at Sj sees, of each key, the newest version of the stripes <= j-th; a
// read of the newest data sees the newest version overall. So of each user key only the
// newest version of every stripe can be seen, and the rules are, per entry:
// 1. An entry with a newer version of its key in the same stripe is superseded: dropped.
// 2. A tombstone in stripe 0 (no snapshot below it) whose key no deeper level may hold is
//    dropped: everything it hides is in stripe 0 of the inputs (dropped by rule 1) or
//    nowhere.
// 3. A value entry in the top stripe (above every snapshot: none can see it) is offered
//    to the compaction filter; kDrop removes it as a tombstone would (compaction_filter.h):
//    it vanishes if it is in stripe 0 and no deeper level may hold its key, else it
//    becomes a tombstone at its sequence (rule 1 then drops the older versions of its
//    stripe).
// 4. A kept kValuePointer entry is offered to the value handler's relocate().
// Unacknowledged entries. An entry above `visible` (the engine's visible sequence when the
// job starts) belonged to a write still waiting on the WAL then (db.h, "Write path"):
// readers will see it only later, each at its own sequence, so such an entry is a stripe
// of its own: never superseded, filtered or dropped, and it supersedes nothing below it.
// Every input entry not written (rules 1-3) is reported to the value handler's dropped().
//
// Views: key() and value() stay valid until the iterator moves. Errors of the input, a
// malformed key (Corruption) or a failed relocation end the iteration: valid() is false
// and status() says why. One fiber; next() may suspend on input IO.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/compaction/compaction.h"
#include "engine/compaction/compaction_filter.h"
#include "engine/compaction/compaction_value_hooks.h"
#include "engine/iterator/internal_iterator.h"

namespace cascade::engine {

struct CompactionIteratorOptions {
  std::vector<SequenceNumber> snapshots;  // ascending
  SequenceNumber visible = kMaxSequenceNumber;  // entries above it: unacknowledged (above)
  DeeperLevels* deeper = nullptr;         // null: no deeper level holds anything
  int output_level = 1;
  const CompactionFilter* filter = nullptr;
  CompactionValueHandler* value_handler = nullptr;
};

struct CompactionIteratorStats {
  std::uint64_t input_entries = 0;
  std::uint64_t input_bytes = 0;  // keys and values
  std::uint64_t superseded = 0;
  std::uint64_t tombstones_dropped = 0;
  std::uint64_t filtered = 0;  // the filter said kDrop (dropped or made a tombstone)
  std::uint64_t relocated = 0;
};

class CompactionIterator {
 public:
  CompactionIterator(InternalIterator& input, CompactionIteratorOptions options);

  void seek_to_first();
  void next();
  bool valid() const { return valid_; }
  Status status() const { return status_; }
  std::string_view key() const { return key_; }
  std::string_view value() const { return value_; }
  std::string_view user_key() const { return extract_user_key(key_); }
  const CompactionIteratorStats& stats() const { return stats_; }

 private:
  // Moves the input forward from its current entry to the next entry to output.
  void find_next_output();
  // Decides about the input's current entry: true if it is to be output (key_/value_ set).
  bool process(std::string_view ikey, std::string_view value);
  std::size_t stripe_of(SequenceNumber s) const;
  bool may_be_underneath(std::string_view user_key);
  void drop(const ParsedInternalKey& k, std::string_view value);

  InternalIterator& input_;
  CompactionIteratorOptions options_;
  bool valid_ = false;
  Status status_;
  std::string_view key_;
  std::string_view value_;
  std::string key_buffer_;    // a tombstone made by the filter
  std::string value_buffer_;  // a relocated value

  std::string current_user_key_;  // of the last input entry processed
  bool has_current_key_ = false;
  std::size_t current_stripe_ = 0;  // of the newest kept version of current_user_key_
  CompactionIteratorStats stats_;
};

}  // namespace cascade::engine
