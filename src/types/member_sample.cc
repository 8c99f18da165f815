// See member_sample.h for the distribution each path gives.
#include "src/types/member_sample.h"

#include <algorithm>
#include <optional>
#include <set>

namespace cascade::types {

Result<bool> MemberSampler::read_all(std::vector<SampledMember>& out, bool give_up_when_sparse) {
  const std::size_t skip = collection_.prefix().size();
  StagedWrites::Cursor c = collection_.cursor();
  bool whole = true;
  for (c.seek_to_first(); c.valid(); c.next()) {
    if (give_up_when_sparse && c.tombstones_passed() > kSparseTombstones) {
      whole = false;
      break;
    }
    out.push_back({std::string(c.key().substr(skip)), std::string(c.value())});
  }
  tombstones_passed_ += c.tombstones_passed();
  if (!c.status()) return c.status();
  return whole;
}

Status MemberSampler::select_in_one_pass(std::uint64_t count, std::vector<SampledMember>& out) {
  const std::size_t skip = collection_.prefix().size();
  std::uint64_t left = collection_.size();
  StagedWrites::Cursor c = collection_.cursor();
  for (c.seek_to_first(); c.valid() && count > 0; c.next(), --left) {
    // Take this member with probability (still needed) / (still unseen).
    if (left == 0 || uniform(1, left) <= count) {
      out.push_back({std::string(c.key().substr(skip)), std::string(c.value())});
      --count;
    }
  }
  tombstones_passed_ += c.tombstones_passed();
  return c.status();
}

Status MemberSampler::prepare_probes(StagedWrites::Cursor& cursor) {
  const std::size_t skip = collection_.prefix().size();
  std::optional<ProbeRanges::Range> kept;
  if (ranges_ != nullptr) kept = ranges_->find(collection_.prefix(), collection_.size());
  if (kept) {
    first_ = std::move(kept->first);
    last_ = std::move(kept->last);
  } else {
    cursor.seek_to_first();
    if (cursor.valid()) first_.assign(cursor.key().substr(skip));
    cursor.seek_to_last();
    if (cursor.valid()) last_.assign(cursor.key().substr(skip));
    if (!cursor.status()) return cursor.status();
    if (ranges_ != nullptr) {
      ranges_->keep(collection_.prefix(), {first_, last_}, collection_.size());
    }
  }
  split_ = 0;
  while (split_ < first_.size() && split_ < last_.size() && first_[split_] == last_[split_]) {
    ++split_;
  }
  // The byte values both suffixes use from the split on (the split bytes included: two
  // samples alone may show one digit); none: any byte.
  std::uint8_t low = 0xff, high = 0;
  for (const std::string* s : {&first_, &last_}) {
    for (std::size_t i = split_; i < s->size(); ++i) {
      low = std::min(low, static_cast<std::uint8_t>((*s)[i]));
      high = std::max(high, static_cast<std::uint8_t>((*s)[i]));
    }
  }
  if (low > high) low = 0, high = 0xff;
  tail_low_ = low;
  tail_high_ = high;
  // Tails at least as long as the longer of the two: a probe shorter than the members
  // lands on the first member of its block (member:1 before member:10..member:19), so
  // short probes would favour those. Up to 8 bytes more reach longer members in between.
  const std::size_t longest = std::max(first_.size(), last_.size());
  tail_min_ = std::min<std::size_t>(kMaxTail, longest > split_ + 1 ? longest - split_ - 1 : 0);
  tail_max_ = std::min<std::size_t>(kMaxTail, tail_min_ + 8);
  return Status::ok();
}

// Past the last member: on to the first, found from first_ rather than from the start of
// the collection, before which a set SPOP is emptying keeps the tombstones of every member
// popped there (a probe's random tail can pass last_, so this is not rare).
void MemberSampler::wrap(StagedWrites::Cursor& cursor) {
  cursor.seek(collection_.member_key(first_));
  if (!cursor.valid() && cursor.status()) cursor.seek_to_first();  // first_ is out of date
}

std::string MemberSampler::random_probe() {
  std::string probe = last_.substr(0, split_);
  if (split_ >= last_.size()) return probe;  // one member only: first_ == last_
  const std::uint8_t low = split_ < first_.size() ? static_cast<std::uint8_t>(first_[split_]) : 0;
  probe.push_back(static_cast<char>(uniform(low, static_cast<std::uint8_t>(last_[split_]))));
  const std::uint64_t tail = uniform(tail_min_, tail_max_);
  for (std::uint64_t i = 0; i < tail; ++i) {
    probe.push_back(static_cast<char>(uniform(tail_low_, tail_high_)));
  }
  return probe;
}

// A probe whose split byte no member has (the '0' of "user:0xyz" when "user:0" is the only
// such member) lands on the first member after that empty stretch, which would be drawn as
// often as a whole populated byte value; so such a landing is redrawn, up to
// kProbeAttempts times, the last landing kept whatever it is.
void MemberSampler::land(StagedWrites::Cursor& cursor) {
  const std::size_t skip = collection_.prefix().size();
  for (int attempt = 1;; ++attempt) {
    const std::string probe = random_probe();
    cursor.seek(collection_.member_key(probe));
    if (!cursor.valid() && cursor.status()) wrap(cursor);
    if (!cursor.valid() || attempt == kProbeAttempts || probe.size() <= split_) return;
    const std::string_view landed = cursor.key().substr(skip);
    if (landed.size() > split_ && landed[split_] == probe[split_]) return;
  }
}

Status MemberSampler::draw_with_repeats(std::uint64_t count, std::vector<SampledMember>& out) {
  const std::uint64_t size = collection_.size();
  if (size <= std::max(kExactLimit, count)) {
    std::vector<SampledMember> all;
    Result<bool> whole = read_all(all, /*give_up_when_sparse=*/count < size &&
                                                                size >= kMinProbedSize);
    if (!whole) return whole.status();
    if (*whole) {
      if (all.empty()) return Status::ok();
      for (std::uint64_t i = 0; i < count; ++i) out.push_back(all[uniform(0, all.size() - 1)]);
      return Status::ok();
    }
  }
  const std::size_t skip = collection_.prefix().size();
  StagedWrites::Cursor c = collection_.cursor();
  Status s = prepare_probes(c);
  for (std::uint64_t i = 0; s && i < count; ++i) {
    land(c);
    if (!c.valid()) {
      s = c.status();
      break;
    }
    out.push_back({std::string(c.key().substr(skip)), std::string(c.value())});
  }
  tombstones_passed_ += c.tombstones_passed();
  return s;
}

Status MemberSampler::draw_distinct(std::uint64_t count, std::vector<SampledMember>& out) {
  const std::uint64_t size = collection_.size();
  count = std::min(count, size);
  if (count == 0) return Status::ok();
  if (size <= kExactLimit) {
    // Probes serve a sparse small collection while the walk past drawn members stays short.
    std::vector<SampledMember> all;
    Result<bool> whole = read_all(all, /*give_up_when_sparse=*/count <= size / 2 &&
                                                                size >= kMinProbedSize);
    if (!whole) return whole.status();
    if (*whole) {
      count = std::min<std::uint64_t>(count, all.size());
      for (std::uint64_t i = 0; i < count; ++i) {  // a partial Fisher-Yates shuffle
        std::swap(all[i], all[uniform(i, all.size() - 1)]);
        out.push_back(std::move(all[i]));
      }
      return Status::ok();
    }
  } else if (count >= size / 4) {
    return select_in_one_pass(count, out);
  }
  StagedWrites::Cursor c = collection_.cursor();
  Status s = draw_distinct_by_probes(c, count, out);
  tombstones_passed_ += c.tombstones_passed();
  return s;
}

Status MemberSampler::draw_distinct_by_probes(StagedWrites::Cursor& c, std::uint64_t count,
                                              std::vector<SampledMember>& out) {
  const std::size_t skip = collection_.prefix().size();
  if (Status s = prepare_probes(c); !s) return s;
  std::set<std::string, std::less<>> drawn;
  while (drawn.size() < count) {
    land(c);
    // Walk on past members already drawn; count < size, so one is always left (a bounded
    // walk: at most `count` steps and one wrap).
    for (std::uint64_t steps = 0; c.valid() && steps <= count + 1; ++steps) {
      const std::string_view suffix = c.key().substr(skip);
      if (!drawn.contains(suffix)) break;
      c.next();
      if (!c.valid() && c.status()) wrap(c);
    }
    if (!c.valid() && !c.status()) return c.status();
    if (!c.valid() || drawn.contains(c.key().substr(skip))) {
      return Status::corruption("a collection's size exceeds its members");
    }
    const std::string_view suffix = c.key().substr(skip);
    drawn.emplace(suffix);
    out.push_back({std::string(suffix), std::string(c.value())});
  }
  return Status::ok();
}

}  // namespace cascade::types
