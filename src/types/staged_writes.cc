// See staged_writes.h.
#include "src/types/staged_writes.h"

#include <algorithm>

namespace cascade::types {

engine::ReadOptions StagedWrites::read_options() {
  engine::ReadOptions options;
  if (unacknowledged_) {
    options.unacknowledged = true;
    observed_ = std::max(observed_, db_.last_inserted());
  }
  return options;
}

Result<std::optional<std::string>> StagedWrites::get(std::string_view key) {
  if (auto it = staged_.find(key); it != staged_.end()) return it->second;
  return db_.get(key, read_options());
}

void StagedWrites::put(std::string_view key, std::string_view value) {
  auto it = staged_.find(key);
  if (it == staged_.end()) {
    staged_.emplace(std::string(key), std::string(value));
  } else {
    it->second = std::string(value);
  }
}

void StagedWrites::del(std::string_view key) {
  auto it = staged_.find(key);
  if (it == staged_.end()) {
    staged_.emplace(std::string(key), std::nullopt);
  } else {
    it->second.reset();
  }
}

void StagedWrites::append_to(engine::WriteBatch& batch) const {
  for (const auto& [key, value] : staged_) {
    if (value) {
      batch.put(key, *value);
    } else {
      batch.del(key);
    }
  }
}

Status StagedWrites::commit(bool sync) {
  if (staged_.empty()) return Status::ok();
  engine::WriteBatch batch;
  append_to(batch);
  staged_.clear();
  engine::WriteOptions options;
  options.sync = sync;
  return db_.write(batch, options);
}

// ---- Cursor ----------------------------------------------------------------------------
//
// Invariant between steps, forward: the engine iterator is on the first engine key not yet
// passed and staged_ (when staged_valid_) on the first staged key not yet passed, both in
// range; the current entry is the smaller of the two (the staged one on a tie). Backward:
// the same with "last" and "larger".

StagedWrites::Cursor::Cursor(StagedWrites& owner, std::string lower, std::string upper)
    : owner_(owner), lower_(std::move(lower)), upper_(std::move(upper)) {
  engine::ReadOptions options = owner_.read_options();
  options.lower_bound = lower_;
  if (!upper_.empty()) options.upper_bound = upper_;
  engine_ = owner_.db_.iterator(options);
}

bool StagedWrites::Cursor::in_range(std::string_view key) const {
  return key >= std::string_view(lower_) && (upper_.empty() || key < std::string_view(upper_));
}

void StagedWrites::Cursor::seek_to_first() { seek(lower_); }

void StagedWrites::Cursor::seek_to_last() {
  forward_ = false;
  engine_->seek_to_last();
  Map& map = owner_.staged_;
  auto it = upper_.empty() ? map.end() : map.lower_bound(upper_);
  staged_valid_ = it != map.begin();
  if (staged_valid_) {
    staged_ = std::prev(it);
    staged_valid_ = in_range(staged_->first);
  }
  settle();
}

void StagedWrites::Cursor::seek(std::string_view key) {
  forward_ = true;
  if (key < std::string_view(lower_)) key = lower_;
  engine_->seek(key);
  Map& map = owner_.staged_;
  staged_ = map.lower_bound(key);
  staged_valid_ = staged_ != map.end() && in_range(staged_->first);
  settle();
}

void StagedWrites::Cursor::seek_for_prev(std::string_view key) {
  if (!upper_.empty() && key >= std::string_view(upper_)) {
    seek_to_last();
    return;
  }
  forward_ = false;
  engine_->seek_for_prev(key);
  Map& map = owner_.staged_;
  auto it = map.upper_bound(key);
  staged_valid_ = it != map.begin();
  if (staged_valid_) {
    staged_ = std::prev(it);
    staged_valid_ = in_range(staged_->first);
  }
  settle();
}

void StagedWrites::Cursor::settle() {
  Map& map = owner_.staged_;
  for (;;) {
    const bool engine_valid = engine_->valid();
    if (!engine_valid && !engine_->status()) {
      status_ = engine_->status();
      valid_ = false;
      return;
    }
    if (!engine_valid && !staged_valid_) {
      valid_ = false;
      return;
    }
    // Which source holds the current entry: the smaller key forward, the larger backward,
    // the staged write on a tie (it hides the engine's entry).
    bool take_staged = staged_valid_;
    bool tie = false;
    if (engine_valid && staged_valid_) {
      const std::string_view ek = engine_->key();
      const std::string_view sk = staged_->first;
      tie = ek == sk;
      take_staged = tie || (forward_ ? sk < ek : sk > ek);
    }
    if (!take_staged) {
      key_ = engine_->key();
      value_ = engine_->value();
      valid_ = true;
      return;
    }
    if (staged_->second) {
      key_ = staged_->first;
      staged_value_.assign(*staged_->second);
      value_ = staged_value_;
      valid_ = true;
      return;
    }
    // A staged deletion: skip it, and the engine entry it hides.
    if (tie) {
      if (forward_) {
        engine_->next();
      } else {
        engine_->prev();
      }
    }
    if (forward_) {
      ++staged_;
      staged_valid_ = staged_ != map.end() && in_range(staged_->first);
    } else if (staged_ == map.begin()) {
      staged_valid_ = false;
    } else {
      --staged_;
      staged_valid_ = in_range(staged_->first);
    }
  }
}

void StagedWrites::Cursor::next() {
  if (!forward_) {
    const std::string at(key_);
    seek(at);
    if (valid_ && key_ == at) next();
    return;
  }
  Map& map = owner_.staged_;
  // Both tests before either source moves: key_ may view the engine iterator's key (then
  // the same bytes: no comparison needed, the usual case of a read with nothing staged).
  const auto is_key = [this](std::string_view k) {
    return (k.data() == key_.data() && k.size() == key_.size()) || k == key_;
  };
  const bool engine_here = engine_->valid() && is_key(engine_->key());
  const bool staged_here = staged_valid_ && staged_->first == key_;
  if (engine_here) engine_->next();
  if (staged_here) {
    ++staged_;
    staged_valid_ = staged_ != map.end() && in_range(staged_->first);
  }
  settle();
}

void StagedWrites::Cursor::prev() {
  if (forward_) {
    const std::string at(key_);
    seek_for_prev(at);
    if (valid_ && key_ == at) prev();
    return;
  }
  Map& map = owner_.staged_;
  const bool engine_here = engine_->valid() && engine_->key() == key_;
  const bool staged_here = staged_valid_ && staged_->first == key_;
  if (engine_here) engine_->prev();
  if (staged_here) {
    if (staged_ == map.begin()) {
      staged_valid_ = false;
    } else {
      --staged_;
      staged_valid_ = in_range(staged_->first);
    }
  }
  settle();
}

}  // namespace cascade::types
