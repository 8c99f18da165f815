// DBIterator: what a user scan sees. It walks an InternalIterator (in the engine, the
// MergingIterator over every source) at a snapshot and shows, for each user key, only the
// newest version whose sequence is <= the snapshot; a key whose newest visible version is a
// tombstone is hidden, and so are all versions newer than the snapshot.
//
// Bounds. lower_bound is inclusive, upper_bound exclusive, both on user keys (bytewise).
// A prefix P restricts the scan to keys starting with P, which is the range
// [P, successor(P)) where successor(P) drops trailing 0xff bytes and increments the last
// byte (no upper end if P is all 0xff); it is intersected with the bounds. Seeks outside
// the range clamp to it: seek() below the range lands on its first key, seek_for_prev()
// above it on its last key; the other way round the iterator is invalid.
//
// Prefix filters: the seam. DBIterator only turns the prefix into bounds. Skipping tables
// is the engine's job, done before the DBIterator exists: when it builds the merging
// iterator's children for options with a prefix, it leaves out every table whose
// TableReader::may_contain_prefix(prefix) says no. A table without the prefix has no entry
// in the range, not even a tombstone (the filter covers every entry), so leaving it out
// changes nothing this iterator can show.
//
// Positions, per direction (K = the current user key):
//   forward:  the inner iterator is on the entry shown (K's newest visible version), so
//             key() and value() are views into the inner iterator: no copy.
//   backward: versions arrive oldest first, so K's newest visible version is known only
//             after stepping past it; the inner iterator is on the last entry before K's
//             entries (or invalid), and K and its value are copies held in two buffers
//             reused from step to step (no allocation once they have grown).
// Forward stepping also copies K into the reused buffer before moving, to recognise K's
// older versions after the inner iterator's views have changed.
//
// Views: key() and value() stay valid until this iterator moves (seek*, next, prev) or is
// destroyed. type() says whether the entry held the value itself (kValue) or a value-log
// pointer (kValuePointer). With a ValueResolver, a pointer is resolved as soon as the
// iterator lands on its entry and value() is the value either way (a failed resolution is
// an error like any other); without one, value() is the encoded pointer.
//
// Errors: a malformed internal key is Corruption; an inner or resolver error (IO,
// Corruption) is reported by status(). Either makes the iterator invalid until the next seek.
//
// One shard's thread; calls may suspend the calling fiber on IO (tables).
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "engine/format/internal_key.h"
#include "engine/iterator/internal_iterator.h"
#include "engine/iterator/value_resolver.h"
#include "engine/vlog/value_pointer.h"
#include "src/runtime/result.h"

namespace cascade::engine {

struct DBIteratorOptions {
  SequenceNumber snapshot = kMaxSequenceNumber;     // newest sequence visible
  std::optional<std::string_view> lower_bound;     // inclusive; copied at construction
  std::optional<std::string_view> upper_bound;     // exclusive; copied at construction
  std::optional<std::string_view> prefix;          // only keys starting with it
};

class DBIterator {
 public:
  DBIterator(std::unique_ptr<InternalIterator> inner, const DBIteratorOptions& options,
             std::unique_ptr<ValueResolver> resolver = nullptr);
  DBIterator(const DBIterator&) = delete;
  DBIterator& operator=(const DBIterator&) = delete;

  // Hidden entries (older or invisible versions) stepped over one at a time before a
  // forward walk seeks past them instead: a seek costs about as much as a few steps.
  static constexpr std::size_t kMaxSequentialSkips = 8;

  bool valid() const { return valid_; }
  Status status() const;

  void seek_to_first();
  void seek_to_last();
  // The first key >= user_key in range.
  void seek(std::string_view user_key);
  // The last key <= user_key in range.
  void seek_for_prev(std::string_view user_key);
  void next();  // requires valid()
  void prev();  // requires valid()

  // Require valid(); views valid until the iterator moves.
  std::string_view key() const { return forward_ ? current_user_key_ : saved_key_; }
  std::string_view value() const {
    if (resolved_) return resolved_value_;
    return forward_ ? inner_->value() : saved_value_;
  }
  // The value's first bytes, read from the tree alone: the whole value of a kValue entry
  // or a resolved pointer; for an unresolved pointer (ReadOptions::resolve_values false)
  // the head it carries (value_pointer.h: DBOptions::vlog_value_head_size bytes, or the
  // whole value if shorter). Nothing for an unresolved pointer written without a head or
  // malformed: the caller reads the value (DB::get) instead.
  std::optional<std::string_view> value_head() const {
    if (current_type_ != ValueType::kValuePointer || resolved_) return value();
    return value_pointer_head(value());
  }
  ValueType type() const { return current_type_; }  // kValue or kValuePointer
  SequenceNumber sequence() const { return current_sequence_; }

  // Deleted keys stepped over since construction, in either direction: keys whose newest
  // visible version is a tombstone. A walk over a range whose keys were mostly removed
  // pays for each of them, so a caller that can choose (MemberSampler: a whole read or a
  // few seeks) watches this to learn how sparse the range is.
  std::uint64_t tombstones_passed() const { return tombstones_passed_; }

 private:
  void find_next_visible(bool skipping);
  void find_prev_visible();
  bool parse_current(ParsedInternalKey& out);
  bool stop_on_inner_error();
  void start(bool forward);
  void resolve_current(std::string_view user_key, std::string_view pointer);

  std::unique_ptr<InternalIterator> inner_;
  SequenceNumber snapshot_;
  bool has_lower_ = false;
  bool has_upper_ = false;
  std::string lower_;  // effective bounds: the options' bounds intersected with the prefix
  std::string upper_;

  bool valid_ = false;
  bool forward_ = true;
  Status status_;                       // our own errors (malformed keys)
  std::string_view current_user_key_;   // forward: views the inner key
  ValueType current_type_ = ValueType::kValue;
  SequenceNumber current_sequence_ = 0;
  std::string saved_key_;    // backward: K; forward: the key whose older versions to skip
  std::string saved_value_;  // backward: K's value
  std::string seek_key_;     // encoded internal seek targets, reused
  std::unique_ptr<ValueResolver> resolver_;  // null: pointers are shown as they are
  bool resolved_ = false;                    // value() is resolved_value_
  std::string_view resolved_value_;          // owned by resolver_
  std::uint64_t tombstones_passed_ = 0;
};

}  // namespace cascade::engine
