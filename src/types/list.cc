// See list.h for the layout invariant and what each operation costs.
#include "src/types/list.h"

#include <algorithm>

namespace cascade::types {

std::string list_index_suffix(std::uint64_t index) {
  std::string out;
  out.reserve(8);
  append_u64_be(out, index);
  return out;
}

namespace {

Status gap_at(std::uint64_t index) {
  return Status::corruption("list element at index " + std::to_string(index) +
                            " is missing (the list's indexes must be contiguous)");
}

}  // namespace

Result<std::string> List::at(std::uint64_t pos) {
  Result<std::optional<std::string>> value = c_.get(suffix_at(pos));
  if (!value) return value.error();
  if (!value->has_value()) return gap_at(c_.header().head + pos);
  return std::move(**value);
}

void List::set(std::uint64_t pos, std::string_view value) { c_.put(suffix_at(pos), value); }

void List::push(ListEnd end, std::string_view value) {
  CollectionHeader& h = c_.header();
  if (end == ListEnd::kHead) {
    --h.head;
    c_.put(list_index_suffix(h.head), value);
  } else {
    c_.put(list_index_suffix(h.tail), value);
    ++h.tail;
  }
  ++h.size;
}

Result<std::vector<std::string>> List::pop(ListEnd end, std::uint64_t count) {
  count = std::min(count, size());
  std::vector<std::string> out;
  if (count == 0) return out;
  out.reserve(count);
  if (count == 1) {
    // One element (LPOP, RPOP, BLPOP, BRPOP): a point read of its index costs
    // far less than building a cursor over every source of the engine.
    Result<std::string> one = at(end == ListEnd::kHead ? 0 : size() - 1);
    if (!one) return one.error();
    out.push_back(std::move(*one));
  } else {
    auto collect = [&out](std::uint64_t, std::string_view v) {
      out.emplace_back(v);
      return true;
    };
    const Status s = end == ListEnd::kHead ? scan(0, count - 1, collect)
                                           : scan_backward(size() - count, size() - 1, collect);
    if (!s) return s;
  }
  CollectionHeader& h = c_.header();
  for (std::uint64_t i = 0; i < count; ++i) {
    if (end == ListEnd::kHead) {
      c_.del(list_index_suffix(h.head++));
    } else {
      c_.del(list_index_suffix(--h.tail));
    }
  }
  h.size -= count;
  return out;
}

Status List::scan(std::uint64_t first, std::uint64_t last,
                  const std::function<bool(std::uint64_t, std::string_view)>& visit) {
  const std::size_t skip = c_.prefix().size();
  StagedWrites::Cursor cursor = c_.cursor();
  std::uint64_t pos = first;
  for (cursor.seek(c_.member_key(suffix_at(first))); pos <= last; cursor.next(), ++pos) {
    if (!cursor.valid()) break;
    if (load_u64_be(cursor.key().substr(skip)) != c_.header().head + pos) break;
    if (!visit(pos, cursor.value())) return Status::ok();
  }
  if (!cursor.status()) return cursor.status();
  if (pos <= last) return gap_at(c_.header().head + pos);
  return Status::ok();
}

Status List::scan_backward(std::uint64_t first, std::uint64_t last,
                           const std::function<bool(std::uint64_t, std::string_view)>& visit) {
  const std::size_t skip = c_.prefix().size();
  StagedWrites::Cursor cursor = c_.cursor();
  std::uint64_t pos = last;
  bool done = false;
  for (cursor.seek_for_prev(c_.member_key(suffix_at(last))); !done; cursor.prev()) {
    if (!cursor.valid()) break;
    if (load_u64_be(cursor.key().substr(skip)) != c_.header().head + pos) break;
    if (!visit(pos, cursor.value())) return Status::ok();
    if (pos == first) {
      done = true;
      break;
    }
    --pos;
  }
  if (!cursor.status()) return cursor.status();
  if (!done) return gap_at(c_.header().head + pos);
  return Status::ok();
}

Result<std::vector<std::string>> List::kept_between(std::uint64_t first, std::uint64_t last,
                                                    std::span<const std::uint64_t> skip) {
  std::vector<std::string> kept;
  std::size_t next_skip = 0;
  Status s = scan(first, last, [&](std::uint64_t pos, std::string_view v) {
    while (next_skip < skip.size() && skip[next_skip] < pos) ++next_skip;
    if (next_skip < skip.size() && skip[next_skip] == pos) return true;
    kept.emplace_back(v);
    return true;
  });
  if (!s) return s;
  return kept;
}

Status List::insert(std::uint64_t pos, std::string_view value) {
  CollectionHeader& h = c_.header();
  const std::uint64_t n = size();
  if (pos <= n - pos) {
    // The `pos` elements before the new one move one slot towards the head.
    std::vector<std::string> before;
    if (pos > 0) {
      Result<std::vector<std::string>> kept = kept_between(0, pos - 1, {});
      if (!kept) return kept.error();
      before = std::move(*kept);
    }
    --h.head;
    for (std::uint64_t j = 0; j < pos; ++j) c_.put(suffix_at(j), before[j]);
  } else {
    // The n - pos elements from `pos` on move one slot towards the tail.
    Result<std::vector<std::string>> after = kept_between(pos, n - 1, {});
    if (!after) return after.error();
    for (std::uint64_t j = 0; j < after->size(); ++j) c_.put(suffix_at(pos + 1 + j), (*after)[j]);
    ++h.tail;
  }
  c_.put(suffix_at(pos), value);
  ++h.size;
  return Status::ok();
}

Status List::remove(std::span<const std::uint64_t> positions) {
  if (positions.empty()) return Status::ok();
  CollectionHeader& h = c_.header();
  const std::uint64_t n = size();
  const std::uint64_t k = positions.size();
  const std::uint64_t first = positions.front();
  const std::uint64_t last = positions.back();
  const std::uint64_t after_cost = n - first - k;   // kept elements after the first removal
  const std::uint64_t before_cost = last + 1 - k;   // kept elements before the last removal
  if (after_cost <= before_cost) {
    Result<std::vector<std::string>> kept = kept_between(first, n - 1, positions);
    if (!kept) return kept.error();
    for (std::uint64_t j = 0; j < kept->size(); ++j) c_.put(suffix_at(first + j), (*kept)[j]);
    for (std::uint64_t pos = n - k; pos < n; ++pos) c_.del(suffix_at(pos));
    h.tail -= k;
  } else {
    Result<std::vector<std::string>> kept = kept_between(0, last, positions);
    if (!kept) return kept.error();
    for (std::uint64_t j = 0; j < kept->size(); ++j) c_.put(suffix_at(k + j), (*kept)[j]);
    for (std::uint64_t pos = 0; pos < k; ++pos) c_.del(suffix_at(pos));
    h.head += k;
  }
  h.size -= k;
  return Status::ok();
}

void List::trim(std::uint64_t first, std::uint64_t last) {
  CollectionHeader& h = c_.header();
  const std::uint64_t n = size();
  for (std::uint64_t pos = 0; pos < first; ++pos) c_.del(suffix_at(pos));
  for (std::uint64_t pos = last + 1; pos < n; ++pos) c_.del(suffix_at(pos));
  h.head += first;
  h.size = last - first + 1;
  h.tail = h.head + h.size;
}

}  // namespace cascade::types
