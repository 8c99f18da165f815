#include "engine/iterator/vector_iterator.h"

#include <algorithm>
#include <cassert>

#include "engine/format/internal_key.h"

namespace cascade::engine {

namespace {

bool entry_less(const VectorIterator::Entry& a, const VectorIterator::Entry& b) {
  return compare_internal_keys(a.first, b.first) < 0;
}

}  // namespace

VectorIterator::VectorIterator(std::vector<Entry> entries) : entries_(std::move(entries)) {
  std::sort(entries_.begin(), entries_.end(), entry_less);
  assert(std::adjacent_find(entries_.begin(), entries_.end(), [](const Entry& a, const Entry& b) {
           return compare_internal_keys(a.first, b.first) == 0;
         }) == entries_.end());
}

void VectorIterator::seek(std::string_view target) {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), target,
                             [](const Entry& e, std::string_view t) {
                               return compare_internal_keys(e.first, t) < 0;
                             });
  pos_ = static_cast<std::size_t>(it - entries_.begin());
}

void VectorIterator::seek_for_prev(std::string_view target) {
  auto it = std::upper_bound(entries_.begin(), entries_.end(), target,
                             [](std::string_view t, const Entry& e) {
                               return compare_internal_keys(t, e.first) < 0;
                             });
  pos_ = it == entries_.begin() ? kInvalid : static_cast<std::size_t>(it - entries_.begin()) - 1;
}

}  // namespace cascade::engine
