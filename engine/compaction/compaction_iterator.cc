// The drop rules of compaction (compaction_iterator.h).
#include "engine/compaction/compaction_iterator.h"

#include <algorithm>
#include <limits>

namespace cascade::engine {

CompactionIterator::CompactionIterator(InternalIterator& input, CompactionIteratorOptions options)
    : input_(input), options_(std::move(options)) {}

void CompactionIterator::seek_to_first() {
  has_current_key_ = false;
  input_.seek_to_first();
  find_next_output();
}

void CompactionIterator::next() {
  if (!valid_) return;
  input_.next();
  find_next_output();
}

void CompactionIterator::find_next_output() {
  valid_ = false;
  while (input_.valid()) {
    if (process(input_.key(), input_.value())) {
      valid_ = true;
      return;
    }
    if (!status_.is_ok()) return;
    input_.next();
  }
  if (status_.is_ok()) status_ = input_.status();
}

std::size_t CompactionIterator::stripe_of(SequenceNumber s) const {
  const auto& snaps = options_.snapshots;
  return static_cast<std::size_t>(std::lower_bound(snaps.begin(), snaps.end(), s) -
                                  snaps.begin());
}

bool CompactionIterator::may_be_underneath(std::string_view user_key) {
  return options_.deeper != nullptr && options_.deeper->may_hold(user_key);
}

void CompactionIterator::drop(const ParsedInternalKey& k, std::string_view value) {
  if (options_.value_handler != nullptr) options_.value_handler->dropped(k.user_key, k.type, value);
}

bool CompactionIterator::process(std::string_view ikey, std::string_view value) {
  ParsedInternalKey k;
  if (!parse_internal_key(ikey, k)) {
    status_ = Status::corruption("compaction input holds a malformed internal key");
    return false;
  }
  ++stats_.input_entries;
  stats_.input_bytes += ikey.size() + value.size();
  const bool unacknowledged = k.sequence > options_.visible;
  const std::size_t stripe =
      unacknowledged ? std::numeric_limits<std::size_t>::max() : stripe_of(k.sequence);
  const bool same_key = has_current_key_ && k.user_key == current_user_key_;
  if (same_key && stripe == current_stripe_ && !unacknowledged) {  // rule 1
    ++stats_.superseded;
    drop(k, value);
    return false;
  }
  if (!same_key) {
    current_user_key_.assign(k.user_key);
    has_current_key_ = true;
  }
  current_stripe_ = stripe;
  key_ = ikey;
  value_ = value;

  if (k.type == ValueType::kDeletion) {
    if (stripe == 0 && !may_be_underneath(k.user_key)) {  // rule 2
      ++stats_.tombstones_dropped;
      drop(k, value);
      return false;
    }
    return true;
  }
  if (options_.filter != nullptr && stripe == options_.snapshots.size() &&
      options_.filter->filter(options_.output_level, k.user_key, k.type, value) ==
          CompactionFilter::Decision::kDrop) {  // rule 3
    ++stats_.filtered;
    drop(k, value);
    if (stripe == 0 && !may_be_underneath(k.user_key)) return false;
    key_buffer_.clear();
    append_internal_key(key_buffer_, k.user_key, k.sequence, ValueType::kDeletion);
    key_ = key_buffer_;
    value_ = {};
    return true;
  }
  if (k.type == ValueType::kValuePointer && options_.value_handler != nullptr) {  // rule 4
    auto relocated = options_.value_handler->relocate(k.user_key, value);
    if (!relocated) {
      status_ = relocated.error();
      return false;
    }
    if (*relocated) {
      ++stats_.relocated;
      value_buffer_ = std::move(**relocated);
      value_ = value_buffer_;
    }
  }
  return true;
}

}  // namespace cascade::engine
