// Walking a sorted set's score index over a range, as ZRANGE and its relatives see it:
// by rank, by score or by member (lex), forwards or in reverse, with LIMIT's offset and
// count. Each member in the range is handed to `visit` in reply order; the walk stops at
// the range's end, so memory stays with the caller (a reply, or a count).
//
// Costs: a range by score starts with one seek; a range by rank starts with a rank seek
// (types/zset.h: the rank index, or a walk from the nearer end in a small set); LIMIT's
// offset is stepped over, or when long, in a set with a rank index, found as the rank of
// the range's first entry plus the offset. A range by member is a seek only when every score is equal (the first and last
// entries tell, two seeks): that is the case Redis defines BYLEX for. With mixed scores
// Redis's answer is the walk of its small (listpack) encoding over (score, member) order,
// which is followed here literally: skip to the first member >= min, then take members
// while they are <= max (mirrored in reverse).
//
// Calling rules: those of the Collection under the ZSet.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>

#include "src/commands/zset_args.h"
#include "src/commands/zset_reply.h"
#include "src/runtime/result.h"
#include "src/types/zset.h"

namespace cascade::commands {

using ZVisit = std::function<void(double score, std::string_view member)>;

struct ZLimit {
  std::int64_t offset = 0;  // negative: nothing (Redis walks past the end)
  std::int64_t count = -1;  // negative: no limit
};

// Redis's indexes: negative ones count from the end; out-of-range ends are clipped.
// Reverse ranks count from the highest score.
Status walk_rank(types::ZSet& z, std::int64_t start, std::int64_t stop, bool reverse,
                 const ZVisit& visit);
Status walk_score(types::ZSet& z, const ScoreRange& range, bool reverse, ZLimit limit,
                  const ZVisit& visit);
Status walk_lex(types::ZSet& z, const LexRange& range, bool reverse, ZLimit limit,
                const ZVisit& visit);
// The range a ZRANGE request names (parse_zrange).
Status walk_request(types::ZSet& z, const ZRangeRequest& request, const ZVisit& visit);

// Removes up to `count` members from the low (or high, `max`) end and adds them to `out`
// in pop order (ZPOPMIN, ZPOPMAX, ZMPOP).
Status pop_members(types::ZSet& z, bool max, std::int64_t count, ScoredReply& out);

}  // namespace cascade::commands
