// InternalIterator: the one cursor interface over sorted internal keys (format/internal_key.h)
// that every source of entries implements — memtables (memtable_iterator.h), table blocks
// and tables (table/table_iterator.h), in-memory vectors (vector_iterator.h) — and that the
// merging iterator (merging_iterator.h) both consumes and implements.
//
// Contract, for every implementation:
//   - Order: encoded internal keys in compare_internal_keys() order (user key ascending,
//     then sequence descending). Every version and every tombstone is an entry.
//   - seek(t): the first entry >= t. seek_for_prev(t): the last entry <= t.
//     seek_to_first()/seek_to_last(): the first/last entry. Any of them on an empty source
//     leaves the iterator invalid with an ok status.
//   - next()/prev() require valid(); stepping off either end makes the iterator invalid.
//   - key()/value() require valid(). They are views that stay valid until the iterator
//     moves (any seek, next or prev) or is destroyed, and no longer: a block iterator
//     rebuilds prefix-compressed keys in a buffer it reuses. (A memtable's views happen to
//     live as long as the memtable; callers must not rely on it through this interface.)
//   - Errors (a failed read, Corruption) make the iterator invalid and are reported by
//     status(); corruption is never returned as an entry. An error stays until the next
//     seek. status() is ok whenever valid() is true; it returns by value, so callers on a
//     hot path ask for it only once valid() turns false.
//
// Who may call what: one shard's thread; an iterator is not shared between fibers. Calls
// may suspend the calling fiber on IO (tables).
#pragma once

#include <string_view>

#include "src/runtime/result.h"

namespace cascade::engine {

class InternalIterator {
 public:
  virtual ~InternalIterator() = default;

  virtual bool valid() const = 0;
  virtual Status status() const = 0;
  virtual std::string_view key() const = 0;
  virtual std::string_view value() const = 0;

  virtual void seek_to_first() = 0;
  virtual void seek_to_last() = 0;
  // Positions at the first entry whose key is >= target.
  virtual void seek(std::string_view target) = 0;
  // Positions at the last entry whose key is <= target. The default is a seek and at most
  // one step back; sources with a cheaper way override it.
  virtual void seek_for_prev(std::string_view target);
  virtual void next() = 0;
  virtual void prev() = 0;
};

}  // namespace cascade::engine
