#include "engine/iterator/internal_iterator.h"

#include "engine/format/internal_key.h"

namespace cascade::engine {

// seek() lands on the first entry >= target: that entry is the answer when it equals the
// target, its predecessor otherwise. Past the end (with no error) the answer is the last
// entry.
void InternalIterator::seek_for_prev(std::string_view target) {
  seek(target);
  if (valid()) {
    if (compare_internal_keys(key(), target) > 0) prev();
    return;
  }
  if (status().is_ok()) seek_to_last();
}

}  // namespace cascade::engine
