// The sorted-set family, ranges of one key: ZRANGE ZREVRANGE ZRANGEBYSCORE ZREVRANGEBYSCORE
// ZRANGEBYLEX ZREVRANGEBYLEX ZCOUNT ZLEXCOUNT ZRANK ZREVRANK ZREMRANGEBYRANK
// ZREMRANGEBYSCORE ZREMRANGEBYLEX. The walks and their costs are in zset_walk.h; the
// argument grammar in zset_args.h. (ZRANGESTORE, over two keys, is in zset_multi.cc.)
#include <string>
#include <utility>
#include <vector>

#include "resp/decimal.h"
#include "src/commands/collection_access.h"
#include "src/commands/command_families.h"
#include "src/commands/zset_access.h"
#include "src/commands/zset_args.h"
#include "src/commands/zset_reply.h"
#include "src/commands/zset_walk.h"
#include "src/server/dispatcher.h"
#include "src/types/zset.h"

namespace cascade::commands {
namespace {

using namespace cascade::server;
using types::KeyType;
using types::ZSet;
using By = ZRangeRequest::By;

// ---- ZRANGE and its older forms ------------------------------------------------------------

void zrange_generic(CommandContext& ctx, By by, bool reverse_preset, bool reverse) {
  ZRangeRequest request;
  request.by = by;
  request.reverse = reverse;
  if (std::string_view e = parse_zrange(ctx.args, 1, false, reverse_preset, &request); !e.empty()) {
    return ctx.error(e);
  }
  const bool resp3 = ctx.reply.resp3();
  run_key_command(ctx, ctx.arg(1), [&](KeyTarget& t) {
    return read_ranked_zset(t, [&](ZSetRead& r) {
      ScoredReply out(resp3, request.withscores);
      if (!r.exists()) return out.finish();
      Status s = walk_request(r.zset(), request, [&](double score, std::string_view member) {
        out.add(score, member);
      });
      if (!s) return r.storage_error(s);
      return out.finish();
    });
  });
}

void zrange(CommandContext& ctx) { zrange_generic(ctx, By::kAuto, false, false); }
void zrevrange(CommandContext& ctx) { zrange_generic(ctx, By::kRank, true, true); }
void zrangebyscore(CommandContext& ctx) { zrange_generic(ctx, By::kScore, true, false); }
void zrevrangebyscore(CommandContext& ctx) { zrange_generic(ctx, By::kScore, true, true); }
void zrangebylex(CommandContext& ctx) { zrange_generic(ctx, By::kLex, true, false); }
void zrevrangebylex(CommandContext& ctx) { zrange_generic(ctx, By::kLex, true, true); }

// ---- ZCOUNT ZLEXCOUNT ------------------------------------------------------------------------

// Counting walks the range (no order-statistics index yet, types/zset.h).
template <typename Walk>
void count_range(CommandContext& ctx, Walk walk) {
  run_key_command(ctx, ctx.arg(1), [&](KeyTarget& t) {
    CollectionRead r(t, KeyType::kZSet);
    if (!r.ok()) return std::move(r.failure);
    if (!r.exists()) return KeyReply::number(0);
    ZSet z(r.coll());
    std::int64_t n = 0;
    Status s = walk(z, [&n](double, std::string_view) { ++n; });
    if (!s) return r.storage_error(s);
    return KeyReply::number(n);
  });
}

void zcount(CommandContext& ctx) {
  std::optional<ScoreRange> range = parse_score_range(ctx.arg(2), ctx.arg(3));
  if (!range) return ctx.error(kErrMinMaxNotFloat);
  count_range(ctx, [&](ZSet& z, const ZVisit& visit) {
    return walk_score(z, *range, false, ZLimit{}, visit);
  });
}

void zlexcount(CommandContext& ctx) {
  std::optional<LexRange> range = parse_lex_range(ctx.arg(2), ctx.arg(3));
  if (!range) return ctx.error(kErrMinMaxNotLex);
  count_range(ctx, [&](ZSet& z, const ZVisit& visit) {
    return walk_lex(z, *range, false, ZLimit{}, visit);
  });
}

// ---- ZRANK ZREVRANK --------------------------------------------------------------------------

void zrank_generic(CommandContext& ctx, bool reverse) {
  run_key_command(ctx, ctx.arg(1), [&](KeyTarget& t) {
    return read_ranked_zset(t, [&](ZSetRead& r) {
      if (!r.exists()) return KeyReply::null();
      ZSet& z = r.zset();
      Result<std::optional<double>> score = z.score(ctx.arg(2));
      if (!score) return r.storage_error(score.error());
      if (!score->has_value()) return KeyReply::null();
      Result<std::uint64_t> rank = z.rank_of(z.index_key(**score, ctx.arg(2)));
      if (!rank) return r.storage_error(rank.error());
      const std::uint64_t n = reverse ? z.size() - 1 - *rank : *rank;
      return KeyReply::number(static_cast<std::int64_t>(n));
    });
  });
}

void zrank(CommandContext& ctx) { zrank_generic(ctx, false); }
void zrevrank(CommandContext& ctx) { zrank_generic(ctx, true); }

// ---- ZREMRANGEBYRANK ZREMRANGEBYSCORE ZREMRANGEBYLEX -----------------------------------------

// The range's entries are read first, then removed: the walk never meets its own deletions.
template <typename Walk>
void remove_range(CommandContext& ctx, Walk walk) {
  run_key_command(ctx, ctx.arg(1), [&](KeyTarget& t) {
    CollectionWrite w(t, KeyType::kZSet);
    if (!w.ok()) return std::move(w.failure);
    if (!w.exists()) return w.commit_unchanged(KeyReply::number(0));
    // A far rank builds the rank index (types/zset.h), committed with the removals.
    ZSet z(w.coll(), types::RankBuild::kOnDemand);
    std::vector<std::pair<std::string, double>> doomed;
    Status s = walk(z, [&doomed](double score, std::string_view member) {
      doomed.emplace_back(std::string(member), score);
    });
    if (!s) return w.storage_error(s);
    if (doomed.empty()) {
      if (z.built_rank_index()) return w.commit_quietly(KeyReply::number(0));
      return w.commit_unchanged(KeyReply::number(0));
    }
    for (const auto& [member, score] : doomed) {
      if (Status s = z.remove(member, score); !s) return w.storage_error(s);
    }
    return w.commit(KeyReply::number(static_cast<std::int64_t>(doomed.size())));
  });
}

void zremrangebyrank(CommandContext& ctx) {
  std::int64_t start = 0, stop = 0;
  if (!resp::parse_int64(ctx.arg(2), &start) || !resp::parse_int64(ctx.arg(3), &stop)) {
    return ctx.error(kErrNotInteger);
  }
  remove_range(ctx, [&](ZSet& z, const ZVisit& visit) {
    return walk_rank(z, start, stop, false, visit);
  });
}

void zremrangebyscore(CommandContext& ctx) {
  std::optional<ScoreRange> range = parse_score_range(ctx.arg(2), ctx.arg(3));
  if (!range) return ctx.error(kErrMinMaxNotFloat);
  remove_range(ctx, [&](ZSet& z, const ZVisit& visit) {
    return walk_score(z, *range, false, ZLimit{}, visit);
  });
}

void zremrangebylex(CommandContext& ctx) {
  std::optional<LexRange> range = parse_lex_range(ctx.arg(2), ctx.arg(3));
  if (!range) return ctx.error(kErrMinMaxNotLex);
  remove_range(ctx, [&](ZSet& z, const ZVisit& visit) {
    return walk_lex(z, *range, false, ZLimit{}, visit);
  });
}

// ---- the table -----------------------------------------------------------------------------

constexpr KeySpec kRead[] = {{.flags = kKeyRO | kKeyAccess}};
constexpr KeySpec kDelete[] = {{.flags = kKeyRW | kKeyDelete}};

constexpr CommandSpec read_command(std::string_view name, int arity, std::string_view since,
                                   std::string_view summary, std::string_view complexity,
                                   server::CommandHandler handler) {
  return {.name = name, .arity = arity, .flags = kCmdReadonly, .categories = kAclSortedSet,
          .first_key = 1, .last_key = 1, .key_step = 1, .group = "sorted-set", .since = since,
          .summary = summary, .complexity = complexity,
          .key_specs = kRead,
          .handler = handler};
}

constexpr std::string_view kRangeCost =
    "O(M) for M members returned, plus the walk to the range's start: one seek by score, "
    "the distance to the nearer end by rank";

constexpr CommandSpec kCommands[] = {
    read_command("zrange", -4, "1.2.0", "Returns members of a sorted set in a range of ranks, scores or members",
                 kRangeCost, zrange),
    read_command("zrevrange", -4, "1.2.0", "Returns members of a sorted set in a range of ranks, highest first",
                 kRangeCost, zrevrange),
    read_command("zrangebyscore", -4, "1.0.5", "Returns members of a sorted set in a range of scores",
                 kRangeCost, zrangebyscore),
    read_command("zrevrangebyscore", -4, "2.2.0",
                 "Returns members of a sorted set in a range of scores, highest first", kRangeCost,
                 zrevrangebyscore),
    read_command("zrangebylex", -4, "2.8.9", "Returns members of a sorted set in a range of members",
                 kRangeCost, zrangebylex),
    read_command("zrevrangebylex", -4, "2.8.9",
                 "Returns members of a sorted set in a range of members, highest first", kRangeCost,
                 zrevrangebylex),
    {.name = "zcount", .arity = 4, .flags = kCmdReadonly | kCmdFast, .categories = kAclSortedSet,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "sorted-set", .since = "2.0.0",
     .summary = "Counts the members of a sorted set in a range of scores",
     .complexity = "O(M) for M members in the range (walked: no order-statistics index)",
     .key_specs = kRead, .handler = zcount},
    {.name = "zlexcount", .arity = 4, .flags = kCmdReadonly | kCmdFast,
     .categories = kAclSortedSet, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "sorted-set", .since = "2.8.9",
     .summary = "Counts the members of a sorted set in a range of members",
     .complexity = "O(M) for M members in the range (walked: no order-statistics index)",
     .key_specs = kRead, .handler = zlexcount},
    {.name = "zrank", .arity = 3, .flags = kCmdReadonly | kCmdFast, .categories = kAclSortedSet,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "sorted-set", .since = "2.0.0",
     .summary = "Returns the rank of a member in a sorted set, lowest score first",
     .complexity = "O(distance to the nearer end): no order-statistics index yet",
     .key_specs = kRead, .handler = zrank},
    {.name = "zrevrank", .arity = 3, .flags = kCmdReadonly | kCmdFast,
     .categories = kAclSortedSet, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "sorted-set", .since = "2.0.0",
     .summary = "Returns the rank of a member in a sorted set, highest score first",
     .complexity = "O(distance to the nearer end): no order-statistics index yet",
     .key_specs = kRead, .handler = zrevrank},
    {.name = "zremrangebyrank", .arity = 4, .flags = kCmdWrite, .categories = kAclSortedSet,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "sorted-set", .since = "2.0.0",
     .summary = "Removes the members of a sorted set in a range of ranks",
     .complexity = kRangeCost, .key_specs = kDelete, .handler = zremrangebyrank},
    {.name = "zremrangebyscore", .arity = 4, .flags = kCmdWrite, .categories = kAclSortedSet,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "sorted-set", .since = "1.2.0",
     .summary = "Removes the members of a sorted set in a range of scores",
     .complexity = kRangeCost, .key_specs = kDelete, .handler = zremrangebyscore},
    {.name = "zremrangebylex", .arity = 4, .flags = kCmdWrite, .categories = kAclSortedSet,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "sorted-set", .since = "2.8.9",
     .summary = "Removes the members of a sorted set in a range of members",
     .complexity = kRangeCost, .key_specs = kDelete, .handler = zremrangebylex},
};

}  // namespace

std::span<const CommandSpec> zset_range_commands() { return kCommands; }

}  // namespace cascade::commands
