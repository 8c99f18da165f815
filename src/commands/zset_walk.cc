// See zset_walk.h.
#include "src/commands/zset_walk.h"

#include <string>
#include <utility>
#include <vector>

namespace cascade::commands {

using types::StagedWrites;
using types::ZSet;

namespace {

void step(StagedWrites::Cursor& c, bool reverse) {
  if (reverse) {
    c.prev();
  } else {
    c.next();
  }
}

// An offset up to this many entries is stepped over; a longer one is a rank lookup and a
// rank seek (about the cost of that many steps), through the rank index, which they build
// when the offset reaches far (types/zset.h), unless the ZSet may not build one.
constexpr std::int64_t kSteppedOffset = 256;

// Moves `c` (valid) `offset` entries on in the walk's direction; false when that is past
// the index's end.
Result<bool> skip(ZSet& z, StagedWrites::Cursor& c, bool reverse, std::int64_t offset) {
  if (offset <= kSteppedOffset || !z.ranks_are_cheap()) {
    for (std::int64_t i = 0; i < offset && c.valid(); ++i) step(c, reverse);
    return c.valid();
  }
  Result<std::uint64_t> rank = z.rank_of(std::string(c.key()));
  if (!rank) return rank.error();
  const auto distance = static_cast<std::uint64_t>(offset);
  if (reverse ? distance > *rank : distance >= z.size() - *rank) return false;
  if (Status s = z.seek_rank(c, reverse ? *rank - distance : *rank + distance); !s) return s;
  return true;
}

// From the range's first entry (c positioned there, or invalid): skips the offset, then
// visits entries while `inside` holds, at most limit.count of them.
template <typename Inside>
Status emit(ZSet& z, StagedWrites::Cursor& c, bool reverse, ZLimit limit, Inside inside,
            const ZVisit& visit) {
  if (limit.offset < 0) return Status::ok();
  if (limit.offset > 0 && c.valid()) {
    Result<bool> left = skip(z, c, reverse, limit.offset);
    if (!left) return left.error();
    if (!*left) return c.status();
  }
  for (std::int64_t n = limit.count; n != 0 && c.valid(); --n) {
    const double score = z.index_score(c.key());
    const std::string_view member = z.index_member(c.key());
    if (!inside(score, member)) break;
    visit(score, member);
    step(c, reverse);
  }
  return c.status();
}

}  // namespace

Status walk_rank(ZSet& z, std::int64_t start, std::int64_t stop, bool reverse,
                 const ZVisit& visit) {
  const auto size = static_cast<std::int64_t>(z.size());
  if (start < 0) start += size;
  if (stop < 0) stop += size;
  if (start < 0) start = 0;
  if (start > stop || start >= size) return Status::ok();
  if (stop >= size) stop = size - 1;
  StagedWrites::Cursor c = z.index();
  const auto first = static_cast<std::uint64_t>(reverse ? size - 1 - start : start);
  if (Status s = z.seek_rank(c, first); !s) return s;
  return emit(z, c, reverse, ZLimit{.offset = 0, .count = stop - start + 1},
              [](double, std::string_view) { return true; }, visit);
}

Status walk_score(ZSet& z, const ScoreRange& range, bool reverse, ZLimit limit,
                  const ZVisit& visit) {
  if (range.empty()) return Status::ok();
  StagedWrites::Cursor c = z.index();
  if (!reverse) {
    c.seek(z.index_key(range.min));
    while (c.valid() && !range.above_min(z.index_score(c.key()))) c.next();
    return emit(z, c, false, limit,
                [&](double score, std::string_view) { return range.below_max(score); }, visit);
  }
  types::seek_before(c, z.index_key_after(range.max));
  while (c.valid() && !range.below_max(z.index_score(c.key()))) c.prev();
  return emit(z, c, true, limit,
              [&](double score, std::string_view) { return range.above_min(score); }, visit);
}

namespace {

// Every score equal: members are in bytewise order under that one score, so the range's
// start is a seek.
Status walk_lex_sorted(ZSet& z, StagedWrites::Cursor& c, double score, const LexRange& range,
                       bool reverse, ZLimit limit, const ZVisit& visit) {
  using Kind = LexBound::Kind;
  if (!reverse) {
    if (range.min.kind == Kind::kPlusInfinity) return Status::ok();
    if (range.min.kind == Kind::kMinusInfinity) {
      c.seek_to_first();
    } else {
      c.seek(z.index_key(score, range.min.value));
      if (c.valid() && !range.above_min(z.index_member(c.key()))) c.next();
    }
    return emit(z, c, false, limit,
                [&](double, std::string_view m) { return range.below_max(m); }, visit);
  }
  if (range.max.kind == Kind::kMinusInfinity) return Status::ok();
  if (range.max.kind == Kind::kPlusInfinity) {
    c.seek_to_last();
  } else {
    c.seek_for_prev(z.index_key(score, range.max.value));
    if (c.valid() && !range.below_max(z.index_member(c.key()))) c.prev();
  }
  return emit(z, c, true, limit,
              [&](double, std::string_view m) { return range.above_min(m); }, visit);
}

// Mixed scores: Redis's listpack walk, literally (file comment of zset_walk.h).
Status walk_lex_mixed(ZSet& z, StagedWrites::Cursor& c, const LexRange& range, bool reverse,
                      ZLimit limit, const ZVisit& visit) {
  c.seek_to_last();
  if (!c.valid() || !range.above_min(z.index_member(c.key()))) return c.status();
  c.seek_to_first();
  if (!c.valid() || !range.below_max(z.index_member(c.key()))) return c.status();
  if (!reverse) {
    while (c.valid() && !range.above_min(z.index_member(c.key()))) c.next();
    if (c.valid() && !range.below_max(z.index_member(c.key()))) return Status::ok();
    return emit(z, c, false, limit,
                [&](double, std::string_view m) { return range.below_max(m); }, visit);
  }
  c.seek_to_last();
  while (c.valid() && !range.below_max(z.index_member(c.key()))) c.prev();
  if (c.valid() && !range.above_min(z.index_member(c.key()))) return Status::ok();
  return emit(z, c, true, limit,
              [&](double, std::string_view m) { return range.above_min(m); }, visit);
}

}  // namespace

Status walk_lex(ZSet& z, const LexRange& range, bool reverse, ZLimit limit,
                const ZVisit& visit) {
  if (range.empty()) return Status::ok();
  StagedWrites::Cursor c = z.index();
  c.seek_to_first();
  if (!c.valid()) return c.status();
  const double lowest = z.index_score(c.key());
  c.seek_to_last();
  if (!c.valid()) return c.status();
  const double highest = z.index_score(c.key());
  if (lowest == highest) return walk_lex_sorted(z, c, lowest, range, reverse, limit, visit);
  return walk_lex_mixed(z, c, range, reverse, limit, visit);
}

Status walk_request(ZSet& z, const ZRangeRequest& request, const ZVisit& visit) {
  const ZLimit limit{.offset = request.offset, .count = request.count};
  switch (request.by) {
    case ZRangeRequest::By::kScore:
      return walk_score(z, request.score, request.reverse, limit, visit);
    case ZRangeRequest::By::kLex:
      return walk_lex(z, request.lex, request.reverse, limit, visit);
    default:
      return walk_rank(z, request.start, request.stop, request.reverse, visit);
  }
}

// The popped entries are read first and removed after: the cursor then never meets its
// own deletions.
Status pop_members(ZSet& z, bool max, std::int64_t count, ScoredReply& out) {
  std::vector<std::pair<std::string, double>> popped;
  StagedWrites::Cursor c = z.index();
  if (max) {
    c.seek_to_last();
  } else {
    c.seek_to_first();
  }
  for (std::int64_t n = 0; n < count && c.valid(); ++n, step(c, max)) {
    popped.emplace_back(std::string(z.index_member(c.key())), z.index_score(c.key()));
  }
  if (!c.status()) return c.status();
  if (c.valid() && !popped.empty()) {  // the next pop from this end starts here
    if (max) {
      z.removed_above(c.key());
    } else {
      z.removed_below(c.key());
    }
  }
  for (const auto& [member, score] : popped) {
    if (Status s = z.remove(member, score); !s) return s;
    out.add(score, member);
  }
  return Status::ok();
}

}  // namespace cascade::commands
