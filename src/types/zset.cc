// See zset.h.
#include "src/types/zset.h"

#include <algorithm>

namespace cascade::types {

namespace {
constexpr std::size_t kScoreBytes = 8;

// The index suffix `s` (sortable score | member) as a lower bound of at most
// kMaxIndexBound bytes: itself, or its score alone, which sorts before it.
std::string low_bound_of(std::string_view s) {
  return std::string(s.size() <= kMaxIndexBound ? s : s.substr(0, kScoreBytes));
}

// An exclusive upper bound above the suffix `s`: s | 0x00, or past every entry of its
// score (the score bytes plus one, as a big-endian number: never all 0xff, that would be
// a NaN, so the carry stops inside them).
std::string high_bound_of(std::string_view s) {
  if (s.size() < kMaxIndexBound) return std::string(s) + '\0';
  std::string out(s.substr(0, kScoreBytes));
  std::size_t i = out.size();
  while (i > 0 && static_cast<std::uint8_t>(out[i - 1]) == 0xff) out[--i] = 0;
  out[i - 1] = static_cast<char>(static_cast<std::uint8_t>(out[i - 1]) + 1);
  return out;
}
}  // namespace

StagedWrites::Cursor ZSet::index() { return score_index(c_); }

void ZSet::removed_below(std::string_view next) {
  c_.header().index_low = low_bound_of(next.substr(c_.prefix().size() + 1));
}

void ZSet::removed_above(std::string_view next) {
  c_.header().index_high = high_bound_of(next.substr(c_.prefix().size() + 1));
}

Result<std::optional<double>> ZSet::score(std::string_view member) {
  std::string suffix;
  suffix.reserve(1 + member.size());
  suffix.push_back(kZSetMemberTag);
  suffix.append(member);
  Result<std::optional<std::string>> value = c_.get(suffix);
  if (!value) return value.error();
  if (!value->has_value()) return std::optional<double>();
  Result<double> score = decode_score_value(**value);
  if (!score) return score.error();
  return std::optional<double>(*score);
}

Status ZSet::set(std::string_view member, double score, std::optional<double> old) {
  if (score == 0) score = 0.0;  // -0 is stored as +0 (file comment)
  std::string suffix;
  suffix.push_back(kZSetMemberTag);
  suffix.append(member);
  std::string value;
  append_score_value(value, score);
  c_.put(suffix, value);
  const std::size_t skip = c_.prefix().size() + 1;
  if (old) {
    if (*old == score) return Status::ok();  // -0 and +0 included: one index key
    const std::string old_key = index_key(*old, member);
    c_.writes().del(old_key);
    if (has_rank_index()) {
      if (Status s = rank_.removed(std::string_view(old_key).substr(skip)); !s) return s;
    }
  } else {
    ++c_.header().size;
  }
  std::string key = index_key(score, member);
  // Keep the bounds around the new entry.
  CollectionHeader& h = c_.header();
  std::string_view in_index = std::string_view(key).substr(c_.prefix().size() + 1);
  if (in_index < std::string_view(h.index_low)) h.index_low = low_bound_of(in_index);
  if (!h.index_high.empty() && in_index >= std::string_view(h.index_high)) {
    h.index_high = high_bound_of(in_index);
  }
  c_.writes().put(key, {});
  if (has_rank_index()) return rank_.added(in_index);
  return Status::ok();
}

Status ZSet::remove(std::string_view member, double score) {
  std::string suffix;
  suffix.push_back(kZSetMemberTag);
  suffix.append(member);
  c_.del(suffix);
  const std::string key = index_key(score, member);
  c_.writes().del(key);
  --c_.header().size;
  if (!has_rank_index()) return Status::ok();
  return rank_.removed(std::string_view(key).substr(c_.prefix().size() + 1));
}

Status ZSet::index_for(std::uint64_t distance) {
  if (distance <= rank_shape_.walk) return Status::ok();
  switch (build_) {
    case RankBuild::kNever: return Status::ok();
    case RankBuild::kAsk:
      wanted_ = true;
      return Status::cancelled(std::string(kRankIndexWanted));
    case RankBuild::kOnDemand: break;
  }
  if (Status s = rank_.build(); !s) return s;
  built_ = true;
  return Status::ok();
}

std::string ZSet::index_key(double score, std::string_view member) const {
  std::string key;
  key.reserve(c_.prefix().size() + 1 + kScoreBytes + member.size());
  key.append(c_.prefix());
  key.push_back(kZSetScoreTag);
  append_score_key(key, score);
  key.append(member);
  return key;
}

// The 8 score bytes end the key; adding one to them as a big-endian number gives the first
// key past every entry of that score. They are never all 0xff (that would be a NaN), so
// the carry stops inside them.
std::string ZSet::index_key_after(double score) const {
  std::string key = index_key(score);
  std::size_t i = key.size();
  while (i > 0 && static_cast<std::uint8_t>(key[i - 1]) == 0xff) key[--i] = 0;
  key[i - 1] = static_cast<char>(static_cast<std::uint8_t>(key[i - 1]) + 1);
  return key;
}

double ZSet::index_score(std::string_view key) const {
  return decode_score_key(key.substr(c_.prefix().size() + 1, kScoreBytes));
}

std::string_view ZSet::index_member(std::string_view key) const {
  return key.substr(c_.prefix().size() + 1 + kScoreBytes);
}

std::string_view ZSet::entry_member(std::string_view key) const {
  return key.substr(c_.prefix().size() + 1);
}

Status ZSet::seek_rank(StagedWrites::Cursor& c, std::uint64_t rank) {
  const std::uint64_t size = this->size();
  if (!has_rank_index()) {
    if (Status s = index_for(std::min(rank, size - 1 - rank)); !s) return s;
  }
  if (has_rank_index()) return rank_.seek_rank(c, rank);
  if (rank <= size - 1 - rank) {
    c.seek_to_first();
    for (std::uint64_t i = 0; i < rank && c.valid(); ++i) c.next();
  } else {
    c.seek_to_last();
    for (std::uint64_t i = size - 1; i > rank && c.valid(); --i) c.prev();
  }
  return Status::ok();
}

Result<std::uint64_t> ZSet::rank_of(std::string_view key) {
  if (!has_rank_index()) {
    // kNever walks all the way; else the walk stops past the limit, which builds.
    const std::uint64_t limit = build_ == RankBuild::kNever ? size() : rank_shape_.walk;
    Result<std::optional<std::uint64_t>> walked = walked_rank_of(key, limit);
    if (!walked) return walked.error();
    if (walked->has_value()) return **walked;
    if (Status s = index_for(limit + 1); !s) return s;
  }
  return rank_.rank_of(key.substr(c_.prefix().size() + 1));
}

// A set without a rank index: two cursors step forward in turn, one from the first entry
// towards the member and one from the member towards the end: whichever arrives first
// knows the rank (the header's size gives the other side's count), after as many steps as
// the member is far from the nearer end. Both move forward, since an engine cursor's step
// back costs more than its step forward.
Result<std::optional<std::uint64_t>> ZSet::walked_rank_of(std::string_view key,
                                                         std::uint64_t limit) {
  StagedWrites::Cursor from_first = index();
  StagedWrites::Cursor from_member = index();
  from_first.seek_to_first();
  from_member.seek(key);
  for (std::uint64_t steps = 0; steps <= limit; ++steps) {
    if (!from_first.valid() || !from_member.valid()) {
      if (!from_first.status()) return from_first.status();
      if (!from_member.status()) return from_member.status();
      return Status::corruption("a sorted set's score index lacks one of its members");
    }
    if (from_first.key() == key) return std::optional<std::uint64_t>(steps);
    from_member.next();
    if (!from_member.valid() && from_member.status()) {
      return std::optional<std::uint64_t>(size() - 1 - steps);
    }
    from_first.next();
  }
  return std::optional<std::uint64_t>();
}

void seek_before(StagedWrites::Cursor& c, std::string_view key) {
  c.seek_for_prev(key);
  if (c.valid() && c.key() == key) c.prev();
}

}  // namespace cascade::types
