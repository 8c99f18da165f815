// List: the element operations of one list key over its Collection (collection.h; the
// bytes are in src/types/FORMAT.md, "Collections").
//
// Layout invariant: the list's elements are the member entries whose suffix is an index in
// [head, tail) (u64 BE), with no gaps, so the element at logical position i (0 = first) is
// the entry at index head + i. Every operation keeps that invariant:
//   - reading position i is one point read (head + i): LINDEX, LSET and LRANGE seek, they
//     never walk from an end;
//   - a push takes the slot just outside an end (head - 1 or tail): no other entry moves;
//   - a pop, or a trim, deletes entries at an end and moves head or tail: O(removed);
//   - an insert or a removal in the middle shifts the elements of the shorter side (those
//     before or those after the change) by the number of slots needed, so indexes stay
//     contiguous and the cost is bounded by min(before, after), not by the list's size.
// The header (head, tail, size) is updated in the Collection; the caller's finish() writes
// it (or deletes the key when the list became empty).
//
// Writes are staged (StagedWrites): a shift reads the moved elements first, then stages
// their new positions; reads after writes in one List call are never needed.
//
// Calling rules: as Collection's (the key's shard, under its lock for writes).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "src/runtime/result.h"
#include "src/types/collection.h"

namespace cascade::types {

enum class ListEnd : std::uint8_t { kHead, kTail };

// The member suffix of list index `index` (8 bytes, big-endian).
std::string list_index_suffix(std::uint64_t index);

class List {
 public:
  explicit List(Collection& c) : c_(c) {}

  std::uint64_t size() const { return c_.header().size; }

  // The element at position `pos` (< size()).
  Result<std::string> at(std::uint64_t pos);
  void set(std::uint64_t pos, std::string_view value);

  void push(ListEnd end, std::string_view value);
  // Removes and returns up to `count` elements from `end`, nearest first.
  Result<std::vector<std::string>> pop(ListEnd end, std::uint64_t count);

  // Calls visit(position, element) for positions first..last (inclusive, last < size()), in
  // order; visit returns false to stop early. One seek, then a scan.
  Status scan(std::uint64_t first, std::uint64_t last,
              const std::function<bool(std::uint64_t, std::string_view)>& visit);
  // The same, from `last` down to `first`.
  Status scan_backward(std::uint64_t first, std::uint64_t last,
                       const std::function<bool(std::uint64_t, std::string_view)>& visit);

  // Inserts `value` so that it becomes position `pos` (<= size()), shifting the shorter side.
  Status insert(std::uint64_t pos, std::string_view value);
  // Removes the elements at `positions` (ascending, distinct, each < size()), closing the
  // gaps by shifting the shorter side.
  Status remove(std::span<const std::uint64_t> positions);
  // Keeps positions [first, last] (first <= last < size()) and deletes the rest.
  void trim(std::uint64_t first, std::uint64_t last);

 private:
  std::string suffix_at(std::uint64_t pos) const {
    return list_index_suffix(c_.header().head + pos);
  }
  // The elements at positions [first, last] except those in `skip` (ascending), in order.
  Result<std::vector<std::string>> kept_between(std::uint64_t first, std::uint64_t last,
                                                std::span<const std::uint64_t> skip);

  Collection& c_;
};

}  // namespace cascade::types
