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
      if (ranges_ != nullptr && updates_) {
        ranges_->mark_sparse(collection_.prefix(), kept());
        kept().sparse = true;
      }
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
  ProbeRanges::Kept& kept = this->kept();
  bool found = false;
  if (kept.range && (!kept.refresh || !updates_)) {
    first_ = kept.range->first;  // copies: a second draw of this sampler reads them again
    last_ = kept.range->last;
    found = true;
  } else if (kept.range) {
    // From the kept ends inward: no member lies outside them (see ProbeRanges).
    cursor.seek(collection_.member_key(kept.range->first));
    const bool have_first = cursor.valid();
    if (have_first) first_.assign(cursor.key().substr(skip));
    cursor.seek_for_prev(collection_.member_key(kept.range->last));
    found = have_first && cursor.valid() && first_ <= cursor.key().substr(skip);
    if (found) last_.assign(cursor.key().substr(skip));
    if (!cursor.status()) return cursor.status();
  }
  if (!found) {
    cursor.seek_to_first();
    if (cursor.valid()) first_.assign(cursor.key().substr(skip));
    cursor.seek_to_last();
    if (cursor.valid()) last_.assign(cursor.key().substr(skip));
    if (!cursor.status()) return cursor.status();
  }
  if (ranges_ != nullptr && updates_ && (!kept.range || kept.refresh)) {
    ranges_->keep(collection_.prefix(), kept, {first_, last_});
    kept.range = ProbeRanges::Range{first_, last_};
    kept.refresh = false;
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
  if (!seek_member(cursor, first_) && cursor.status()) cursor.seek_to_first();  // out of date
}

bool MemberSampler::seek_member(StagedWrites::Cursor& cursor, std::string_view from) {
  EmptyStretches* empty = kept().empty.get();
  std::optional<EmptyStretches::Stretch> known;
  if (empty != nullptr) known = empty->holding(from);
  if (known && known->to_end) return false;
  const std::uint64_t passed_before = cursor.tombstones_passed();
  cursor.seek(collection_.member_key(known ? std::string_view(known->end) : from));
  if (empty == nullptr || !updates_ || !cursor.status()) return cursor.valid();
  // Nothing lives between `from` (or the start of the stretch it fell in) and where the
  // seek stopped. Worth keeping when the seek passed many removed members, or when the
  // stretch's end has been removed since (its walk would be repeated).
  const bool many = cursor.tombstones_passed() - passed_before >= kStretchAfter;
  const std::string_view start = known ? std::string_view(known->start) : from;
  if (!cursor.valid()) {
    if (many || known) empty->add_to_end(start);
    return false;
  }
  const std::string_view landed = cursor.key().substr(collection_.prefix().size());
  if (many || (known && landed != known->end)) empty->add(start, landed);
  return true;
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
    if (!seek_member(cursor, probe) && cursor.status()) wrap(cursor);
    if (!cursor.valid() || attempt == kProbeAttempts || probe.size() <= split_) return;
    const std::string_view landed = cursor.key().substr(skip);
    if (landed.size() > split_ && landed[split_] == probe[split_]) return;
  }
}

ProbeRanges::Kept& MemberSampler::kept() {
  if (!kept_) {
    kept_.emplace();
    if (ranges_ != nullptr && updates_) {
      kept_ = ranges_->find(collection_.prefix(), collection_.size());
    } else if (ranges_ != nullptr) {
      if (auto peeked = ranges_->peek(collection_.prefix(), collection_.size())) {
        kept_ = std::move(*peeked);
      }
    }
  }
  return *kept_;
}

void MemberSampler::popped(std::uint64_t size) {
  if (ranges_ != nullptr && updates_ && kept_ && kept_->empty != nullptr) {
    ranges_->removed(collection_.prefix(), *kept_, size);
  }
}

// A collection an earlier read found sparse goes to the probes at once, whatever its size:
// the read would pass the same removed members again, and the kept empty stretches spare
// the probes their walks. (Asked without a lookup: a small collection read whole takes
// no entry of ProbeRanges.)
bool MemberSampler::probe_instead_of_reading(bool probes_can_serve) {
  return probes_can_serve && ranges_ != nullptr &&
         ranges_->known_sparse(collection_.prefix(), collection_.size());
}

bool MemberSampler::give_up_when_sparse(bool probes_can_serve) const {
  return probes_can_serve && collection_.size() >= kMinProbedSize;
}

Status MemberSampler::draw_with_repeats(std::uint64_t count, std::vector<SampledMember>& out) {
  const std::uint64_t size = collection_.size();
  if (size <= std::max(kExactLimit, count)) {
    const bool probes_can_serve = count < size;
    if (!probe_instead_of_reading(probes_can_serve)) {
      std::vector<SampledMember> all;
      Result<bool> whole = read_all(all, give_up_when_sparse(probes_can_serve));
      if (!whole) return whole.status();
      if (*whole) {
        if (all.empty()) return Status::ok();
        for (std::uint64_t i = 0; i < count; ++i) out.push_back(all[uniform(0, all.size() - 1)]);
        return Status::ok();
      }
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
    const bool probes_can_serve = count <= size / 2;
    if (!probe_instead_of_reading(probes_can_serve)) {
      std::vector<SampledMember> all;
      Result<bool> whole = read_all(all, give_up_when_sparse(probes_can_serve));
      if (!whole) return whole.status();
      if (*whole) {
        count = std::min<std::uint64_t>(count, all.size());
        for (std::uint64_t i = 0; i < count; ++i) {  // a partial Fisher-Yates shuffle
          std::swap(all[i], all[uniform(i, all.size() - 1)]);
          out.push_back(std::move(all[i]));
        }
        return Status::ok();
      }
    }
  } else if (count >= size / 4) {
    return select_in_one_pass(count, out);
  }
  const std::size_t before = out.size();
  StagedWrites::Cursor c = collection_.cursor();
  Result<bool> done = draw_distinct_by_probes(c, count, out);
  tombstones_passed_ += c.tombstones_passed();
  if (!done) return done.status();
  if (*done) return Status::ok();
  // The probes reached fewer members than `count`: a kept range or stretch out of date hid
  // some (members added outside it while others were removed, which the size does not
  // show). Forget the record and read the collection; fewer members there is corruption.
  out.resize(before);
  if (ranges_ != nullptr) ranges_->forget(collection_.prefix());
  if (Status s = select_in_one_pass(count, out); !s) return s;
  if (out.size() - before < count) return Status::corruption("a collection's size exceeds its members");
  return Status::ok();
}

Result<bool> MemberSampler::draw_distinct_by_probes(StagedWrites::Cursor& c, std::uint64_t count,
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
    if (!c.valid() || drawn.contains(c.key().substr(skip))) return false;
    const std::string_view suffix = c.key().substr(skip);
    drawn.emplace(suffix);
    out.push_back({std::string(suffix), std::string(c.value())});
  }
  return true;
}

}  // namespace cascade::types
