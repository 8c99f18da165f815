#include "engine/iterator/db_iterator.h"

#include <cassert>
#include <utility>

namespace cascade::engine {

namespace {

// The smallest string greater than every string starting with `prefix`, or nullopt if
// there is none (the prefix is empty or all 0xff).
std::optional<std::string> prefix_successor(std::string_view prefix) {
  std::string s(prefix);
  while (!s.empty() && static_cast<unsigned char>(s.back()) == 0xff) s.pop_back();
  if (s.empty()) return std::nullopt;
  s.back() = static_cast<char>(static_cast<unsigned char>(s.back()) + 1);
  return s;
}

}  // namespace

DBIterator::DBIterator(std::unique_ptr<InternalIterator> inner, const DBIteratorOptions& options,
                       std::unique_ptr<ValueResolver> resolver)
    : inner_(std::move(inner)), snapshot_(options.snapshot), resolver_(std::move(resolver)) {
  if (options.lower_bound) {
    has_lower_ = true;
    lower_ = *options.lower_bound;
  }
  if (options.upper_bound) {
    has_upper_ = true;
    upper_ = *options.upper_bound;
  }
  if (options.prefix) {
    if (!has_lower_ || lower_ < *options.prefix) lower_ = *options.prefix;
    has_lower_ = true;
    if (auto end = prefix_successor(*options.prefix)) {
      if (!has_upper_ || *end < upper_) upper_ = std::move(*end);
      has_upper_ = true;
    }
  }
}

Status DBIterator::status() const {
  if (!status_.is_ok()) return status_;
  return inner_->status();
}

bool DBIterator::parse_current(ParsedInternalKey& out) {
  if (parse_internal_key(inner_->key(), out)) return true;
  status_ = Status::corruption("db iterator: malformed internal key");
  valid_ = false;
  return false;
}

// The inner iterator has just turned invalid: true (and we are invalid) if it failed.
bool DBIterator::stop_on_inner_error() {
  if (inner_->status().is_ok()) return false;
  valid_ = false;
  return true;
}

void DBIterator::start(bool forward) {
  forward_ = forward;
  valid_ = false;
  resolved_ = false;
  status_ = Status::ok();
}

// The iterator just landed on a valid entry: resolve it if it is a pointer.
void DBIterator::resolve_current(std::string_view user_key, std::string_view pointer) {
  resolved_ = false;
  if (current_type_ != ValueType::kValuePointer || !resolver_) return;
  auto value = resolver_->resolve(user_key, pointer);
  if (!value) {
    status_ = value.error();
    valid_ = false;
    return;
  }
  resolved_value_ = *value;
  resolved_ = true;
}

// From the inner position forward: the first entry that is visible, in range and not
// hidden — hidden are the versions of saved_key_ and of keys before it when `skipping`
// (older versions of a key already shown or deleted), and any key whose newest visible
// version is a tombstone.
//
// A key written many times (a collection's metadata record under a stream of writes) can
// have thousands of versions in the memtable and level 0; stepping over them one by one
// made every pass over it linear in its history. After kMaxSequentialSkips hidden entries
// in a row the iterator seeks instead: past every version of saved_key_, or to the first
// version of the current key the snapshot can see. Either target is after the current
// entry, so the walk always advances.
void DBIterator::find_next_visible(bool skipping) {
  std::size_t skipped = 0;
  while (inner_->valid()) {
    ParsedInternalKey ik;
    if (!parse_current(ik)) return;
    if (has_upper_ && ik.user_key >= upper_) break;
    const bool hidden_older = skipping && ik.user_key <= saved_key_;
    if (ik.sequence <= snapshot_ && !hidden_older) {
      if (ik.type != ValueType::kDeletion) {
        current_user_key_ = ik.user_key;
        current_type_ = ik.type;
        current_sequence_ = ik.sequence;
        valid_ = true;
        resolve_current(ik.user_key, inner_->value());
        return;
      }
      ++tombstones_passed_;
      saved_key_.assign(ik.user_key);
      skipping = true;
      skipped = 0;
    } else if (++skipped > kMaxSequentialSkips) {
      skipped = 0;
      seek_key_.clear();
      if (hidden_older) {
        // (saved_key_, 0, kDeletion) is saved_key_'s largest internal key.
        append_internal_key(seek_key_, saved_key_, 0, ValueType::kDeletion);
      } else {
        append_internal_key(seek_key_, ik.user_key, snapshot_, kValueTypeForSeek);
      }
      inner_->seek(seek_key_);
      continue;
    }
    inner_->next();
  }
  valid_ = false;
  if (!inner_->valid()) stop_on_inner_error();
}

// From the inner position backward: versions of a key arrive oldest first, so the last
// visible one seen before the user key changes is its newest visible version. It becomes
// the current entry unless it is a tombstone; the inner iterator is left on the first
// entry of a smaller key (or invalid).
void DBIterator::find_prev_visible() {
  bool have = false;  // saved_key_/current_type_ hold a candidate (maybe a tombstone)
  while (inner_->valid()) {
    ParsedInternalKey ik;
    if (!parse_current(ik)) return;
    if (has_lower_ && ik.user_key < lower_) break;
    if (have && ik.user_key != saved_key_) {
      if (current_type_ != ValueType::kDeletion) break;
      ++tombstones_passed_;
      have = false;
    }
    if (ik.sequence <= snapshot_ && !(has_upper_ && ik.user_key >= upper_)) {
      if (!have) saved_key_.assign(ik.user_key);
      have = true;
      current_type_ = ik.type;
      current_sequence_ = ik.sequence;
      if (ik.type != ValueType::kDeletion) saved_value_.assign(inner_->value());
    }
    inner_->prev();
  }
  valid_ = have && current_type_ != ValueType::kDeletion;
  if (have && !valid_) ++tombstones_passed_;  // the range's first key was deleted
  if (!inner_->valid() && stop_on_inner_error()) return;
  if (valid_) resolve_current(saved_key_, saved_value_);
}

void DBIterator::seek_to_first() {
  if (has_lower_) {
    seek(lower_);
    return;
  }
  start(true);
  inner_->seek_to_first();
  find_next_visible(false);
}

void DBIterator::seek_to_last() {
  start(false);
  if (has_upper_) {
    // The smallest internal key of user key upper_: everything before it is < upper_.
    seek_key_.clear();
    append_internal_key(seek_key_, upper_, kMaxSequenceNumber, kValueTypeForSeek);
    inner_->seek_for_prev(seek_key_);
  } else {
    inner_->seek_to_last();
  }
  find_prev_visible();
}

void DBIterator::seek(std::string_view user_key) {
  start(true);
  if (has_lower_ && user_key < lower_) user_key = lower_;
  if (has_upper_ && user_key >= upper_) return;
  // (user_key, snapshot) sorts before every version of user_key visible to the snapshot
  // and after every newer one.
  seek_key_.clear();
  append_internal_key(seek_key_, user_key, snapshot_, kValueTypeForSeek);
  inner_->seek(seek_key_);
  find_next_visible(false);
}

void DBIterator::seek_for_prev(std::string_view user_key) {
  if (has_upper_ && user_key >= upper_) {
    seek_to_last();
    return;
  }
  start(false);
  if (has_lower_ && user_key < lower_) return;
  // (user_key, 0, kDeletion) is the largest internal key of user_key: the seek lands on
  // user_key's oldest version, or before it.
  seek_key_.clear();
  append_internal_key(seek_key_, user_key, 0, ValueType::kDeletion);
  inner_->seek_for_prev(seek_key_);
  find_prev_visible();
}

void DBIterator::next() {
  assert(valid_);
  if (forward_) {
    saved_key_.assign(current_user_key_);
    inner_->next();
  } else {
    // The inner iterator is before K's entries (or off the front); saved_key_ holds K.
    forward_ = true;
    if (inner_->valid()) {
      inner_->next();
    } else {
      inner_->seek_to_first();
    }
  }
  find_next_visible(true);
}

void DBIterator::prev() {
  assert(valid_);
  if (forward_) {
    // The inner iterator is on K's newest visible version. What lies before it is K's
    // newer versions, invisible to the snapshot (find_prev_visible skips them), and then
    // smaller keys: one step back is enough.
    forward_ = false;
    inner_->prev();
  }
  find_prev_visible();
}

}  // namespace cascade::engine
