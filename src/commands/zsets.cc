// The sorted-set family, single-key commands on members: ZADD ZINCRBY ZREM ZSCORE ZMSCORE
// ZCARD ZPOPMIN ZPOPMAX ZRANDMEMBER ZSCAN. Ranges are in zset_ranges.cc, the commands over
// several keys in zset_multi.cc.
//
// A sorted set is a collection (src/types/zset.h: two entries per member, one by member
// and one in the score index). Reads take no lock (like GET); writes run under the key's
// lock and commit their member entries and the metadata record in one engine batch
// (collection_access.h). Arguments are checked before the key is looked at, in Redis's
// order, since the first error is the one the client sees.
#include <algorithm>
#include <charconv>
#include <random>
#include <string>
#include <unordered_set>
#include <vector>

#include "resp/decimal.h"
#include "src/commands/blocking.h"
#include "src/commands/collection_access.h"
#include "src/commands/command_families.h"
#include "src/commands/random_seed.h"
#include "src/commands/scan_cursor.h"
#include "src/commands/zset_access.h"
#include "src/commands/zset_args.h"
#include "src/commands/zset_reply.h"
#include "src/commands/zset_walk.h"
#include "src/server/dispatcher.h"
#include "src/server/glob_match.h"
#include "src/types/zset.h"

namespace cascade::commands {
namespace {

using namespace cascade::server;
using types::KeyType;
using types::ZSet;

bool equals_nocase(std::string_view a, std::string_view b) { return equals_ignore_case(a, b); }

// ---- ZADD ZINCRBY --------------------------------------------------------------------------

struct ZaddOptions {
  bool nx = false, xx = false, gt = false, lt = false, ch = false, incr = false;
};

struct ZaddOutcome {
  std::int64_t added = 0, updated = 0, processed = 0;
  double last_score = 0;
};

// One score-member pair, as Redis's zsetAdd: NaN from INCR is the only failure.
Result<bool> zadd_one(ZSet& z, const ZaddOptions& o, double score, std::string_view member,
                      ZaddOutcome& out) {
  Result<std::optional<double>> old = z.score(member);
  if (!old) return old.error();
  if (!old->has_value()) {
    if (o.xx) return true;
    if (Status s = z.set(member, score, std::nullopt); !s) return s;
    ++out.added;
    ++out.processed;
    out.last_score = score;
    return true;
  }
  const double current = **old;
  if (o.nx) return true;
  if (o.incr) {
    score += current;
    if (std::isnan(score)) return false;
  }
  if ((o.lt && score >= current) || (o.gt && score <= current)) return true;
  out.last_score = score;
  ++out.processed;
  if (score != current) {
    if (Status s = z.set(member, score, current); !s) return s;
    ++out.updated;
  }
  return true;
}

void zadd_pairs(CommandContext& ctx, std::size_t first, const ZaddOptions& o) {
  std::vector<double> scores;
  for (std::size_t i = first; i < ctx.argc(); i += 2) {
    double score = 0;
    if (!parse_score(ctx.arg(i), &score)) {
      ctx.error(kErrNotFloat);
      return;
    }
    scores.push_back(score);
  }
  run_key_command(ctx, ctx.arg(1), [&](KeyTarget& t) {
    CollectionWrite w(t, KeyType::kZSet);
    if (!w.ok()) return std::move(w.failure);
    ZaddOutcome out;
    auto reply = [&] {
      if (o.incr) return out.processed != 0 ? KeyReply::real_number(out.last_score) : KeyReply::null();
      return KeyReply::number(o.ch ? out.added + out.updated : out.added);
    };
    if (!w.exists()) {
      if (o.xx) return w.commit_unchanged(reply());
      w.create();
    }
    ZSet z(w.coll());
    for (std::size_t j = 0; j < scores.size(); ++j) {
      Result<bool> done = zadd_one(z, o, scores[j], ctx.arg(first + 2 * j + 1), out);
      if (!done) return w.storage_error(done.error());
      if (!*done) return KeyReply::error(kErrScoreNaN);
    }
    if (out.added + out.updated == 0) return w.commit_unchanged(reply());
    KeyReply done = w.commit(reply());
    // Only a member added can end a wait: clients block on empty or missing keys.
    if (!done.is_error() && out.added != 0) wake_blocked_here(ctx.server, t);
    return done;
  });
}

void zadd(CommandContext& ctx) {
  ZaddOptions o;
  std::size_t i = 2;
  for (; i < ctx.argc(); ++i) {
    const std::string_view opt = ctx.arg(i);
    if (equals_nocase(opt, "nx")) o.nx = true;
    else if (equals_nocase(opt, "xx")) o.xx = true;
    else if (equals_nocase(opt, "ch")) o.ch = true;
    else if (equals_nocase(opt, "incr")) o.incr = true;
    else if (equals_nocase(opt, "gt")) o.gt = true;
    else if (equals_nocase(opt, "lt")) o.lt = true;
    else break;
  }
  const std::size_t elements = ctx.argc() - i;
  if (elements == 0 || elements % 2 != 0) return ctx.error(kErrSyntax);
  if (o.nx && o.xx) return ctx.error(kErrZaddXxNx);
  if ((o.gt && o.nx) || (o.lt && o.nx) || (o.gt && o.lt)) return ctx.error(kErrZaddGtLtNx);
  if (o.incr && elements > 2) return ctx.error(kErrZaddIncrPairs);
  zadd_pairs(ctx, i, o);
}

// ZINCRBY key increment member: ZADD key INCR increment member.
void zincrby(CommandContext& ctx) { zadd_pairs(ctx, 2, ZaddOptions{.incr = true}); }

// ---- ZREM ----------------------------------------------------------------------------------

void zrem(CommandContext& ctx) {
  run_key_command(ctx, ctx.arg(1), [&ctx](KeyTarget& t) {
    CollectionWrite w(t, KeyType::kZSet);
    if (!w.ok()) return std::move(w.failure);
    if (!w.exists()) return w.commit_unchanged(KeyReply::number(0));
    ZSet z(w.coll());
    std::int64_t removed = 0;
    for (std::size_t i = 2; i < ctx.argc(); ++i) {
      Result<std::optional<double>> score = z.score(ctx.arg(i));
      if (!score) return w.storage_error(score.error());
      if (!score->has_value()) continue;
      if (Status s = z.remove(ctx.arg(i), **score); !s) return w.storage_error(s);
      ++removed;
    }
    if (removed == 0) return w.commit_unchanged(KeyReply::number(0));
    return w.commit(KeyReply::number(removed));
  });
}

// ---- ZSCORE ZMSCORE ZCARD --------------------------------------------------------------------

void zscore(CommandContext& ctx) {
  run_key_command(ctx, ctx.arg(1), [&ctx](KeyTarget& t) {
    CollectionRead r(t, KeyType::kZSet);
    if (!r.ok()) return std::move(r.failure);
    if (!r.exists()) return KeyReply::null();
    ZSet z(r.coll());
    Result<std::optional<double>> score = z.score(ctx.arg(2));
    if (!score) return r.storage_error(score.error());
    return score->has_value() ? KeyReply::real_number(**score) : KeyReply::null();
  });
}

void zmscore(CommandContext& ctx) {
  run_key_command(ctx, ctx.arg(1), [&ctx](KeyTarget& t) {
    CollectionRead r(t, KeyType::kZSet);
    if (!r.ok()) return std::move(r.failure);
    std::vector<KeyReply> items;
    items.reserve(ctx.argc() - 2);
    for (std::size_t i = 2; i < ctx.argc(); ++i) {
      if (!r.exists()) {
        items.push_back(KeyReply::null());
        continue;
      }
      ZSet z(r.coll());
      Result<std::optional<double>> score = z.score(ctx.arg(i));
      if (!score) return r.storage_error(score.error());
      items.push_back(score->has_value() ? KeyReply::real_number(**score) : KeyReply::null());
    }
    return KeyReply::array(std::move(items));
  });
}

void zcard(CommandContext& ctx) {
  run_key_command(ctx, ctx.arg(1), [](KeyTarget& t) {
    CollectionRead r(t, KeyType::kZSet);
    if (!r.ok()) return std::move(r.failure);
    return KeyReply::number(r.exists() ? static_cast<std::int64_t>(r.coll().size()) : 0);
  });
}

// ---- ZPOPMIN ZPOPMAX -------------------------------------------------------------------------

// Without a count: one flat [member, score] (empty when the key is missing). With one, up
// to count members, as pairs in RESP3. The count is checked before the key, 0 after it.
void zpop(CommandContext& ctx, bool max) {
  if (ctx.argc() > 3) return ctx.error(kErrSyntax);
  std::int64_t count = 1;
  const bool counted = ctx.argc() == 3;
  if (counted && (!resp::parse_int64(ctx.arg(2), &count) || count < 0)) {
    return ctx.error(kErrPositive);
  }
  const bool resp3 = ctx.reply.resp3();
  run_key_command(ctx, ctx.arg(1), [&](KeyTarget& t) {
    CollectionWrite w(t, KeyType::kZSet);
    if (!w.ok()) return std::move(w.failure);
    ScoredReply out(resp3, true, counted);
    if (!w.exists() || count == 0) return w.commit_unchanged(out.finish());
    ZSet z(w.coll());
    if (Status s = pop_members(z, max, count, out); !s) return w.storage_error(s);
    return w.commit(out.finish());
  });
}

void zpopmin(CommandContext& ctx) { zpop(ctx, false); }
void zpopmax(CommandContext& ctx) { zpop(ctx, true); }

// ---- ZRANDMEMBER -------------------------------------------------------------------------------

constexpr std::int64_t kMaxRandomPicks = std::int64_t{1} << 26;

// Ascending ranks of the picks, in pick order: `count` distinct ones (count < size), or
// `count` independent ones (repeat).
std::vector<std::uint64_t> random_ranks(std::uint64_t size, std::uint64_t count, bool repeat) {
  runtime::SplitMix64 rng(random_seed());
  std::vector<std::uint64_t> ranks;
  ranks.reserve(count);
  std::uniform_int_distribution<std::uint64_t> any(0, size - 1);
  if (repeat) {
    for (std::uint64_t i = 0; i < count; ++i) ranks.push_back(any(rng));
    return ranks;
  }
  // Floyd's sampling: count distinct values of [0, size) with count draws.
  std::vector<std::uint64_t> chosen;
  std::unordered_set<std::uint64_t> taken;
  for (std::uint64_t j = size - count; j < size; ++j) {
    std::uint64_t r = std::uniform_int_distribution<std::uint64_t>(0, j)(rng);
    if (!taken.insert(r).second) {
      r = j;
      taken.insert(r);
    }
    chosen.push_back(r);
  }
  std::shuffle(chosen.begin(), chosen.end(), rng);
  return chosen;
}

// One walk of the index in rank order visits every picked rank (no order-statistics index
// yet: the walk is as long as the highest pick).
Status pick_members(ZSet& z, const std::vector<std::uint64_t>& ranks, ScoredReply& out) {
  std::vector<std::uint64_t> sorted = ranks;
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  std::vector<std::pair<std::string, double>> found(sorted.size());
  types::StagedWrites::Cursor c = z.index();
  c.seek_to_first();
  std::uint64_t rank = 0;
  for (std::size_t i = 0; i < sorted.size() && c.valid(); c.next(), ++rank) {
    if (rank != sorted[i]) continue;
    found[i] = {std::string(z.index_member(c.key())), z.index_score(c.key())};
    ++i;
  }
  if (!c.status()) return c.status();
  for (std::uint64_t r : ranks) {
    const auto i = static_cast<std::size_t>(std::lower_bound(sorted.begin(), sorted.end(), r) - sorted.begin());
    out.add(found[i].second, found[i].first);
  }
  return Status::ok();
}

KeyReply zrandmember_count(KeyTarget& t, std::int64_t count, bool withscores, bool resp3) {
  CollectionRead r(t, KeyType::kZSet);
  if (!r.ok()) return std::move(r.failure);
  ScoredReply out(resp3, withscores);
  if (!r.exists() || count == 0) return out.finish();
  ZSet z(r.coll());
  const std::uint64_t size = z.size();
  const bool repeat = count < 0;
  const std::uint64_t n = repeat ? static_cast<std::uint64_t>(-count) : static_cast<std::uint64_t>(count);
  if (!repeat && n >= size) {
    types::StagedWrites::Cursor c = z.index();
    for (c.seek_to_first(); c.valid(); c.next()) out.add(z.index_score(c.key()), z.index_member(c.key()));
    if (!c.status()) return r.storage_error(c.status());
    return out.finish();
  }
  if (Status s = pick_members(z, random_ranks(size, n, repeat), out); !s) return r.storage_error(s);
  return out.finish();
}

void zrandmember(CommandContext& ctx) {
  if (ctx.argc() == 2) {
    run_key_command(ctx, ctx.arg(1), [](KeyTarget& t) {
      return read_ranked_zset(t, [](ZSetRead& r) {
        if (!r.exists()) return KeyReply::null();
        ZSet& z = r.zset();
        types::StagedWrites::Cursor c = z.index();
        if (Status s = z.seek_rank(c, random_ranks(z.size(), 1, true)[0]); !s) {
          return r.storage_error(s);
        }
        if (!c.valid()) return r.storage_error(c.status());
        return KeyReply::bulk(std::string(z.index_member(c.key())));
      });
    });
    return;
  }
  std::int64_t count = 0;
  if (!resp::parse_int64(ctx.arg(2), &count)) return ctx.error(kErrNotInteger);
  if (count == INT64_MIN) {
    return ctx.error("ERR value is out of range, value must between -9223372036854775807 and "
                     "9223372036854775807");
  }
  const bool withscores = ctx.argc() == 4;
  if (ctx.argc() > 4 || (withscores && !equals_nocase(ctx.arg(3), "withscores"))) {
    return ctx.error(kErrSyntax);
  }
  if (withscores && (count < -INT64_MAX / 2 || count > INT64_MAX / 2)) return ctx.error(kErrOutOfRange);
  // Redis would start streaming 2^63 picks; a reply is built whole here, so a count past
  // kMaxRandomPicks (far beyond any real use) is refused rather than exhausting memory.
  if (count < -kMaxRandomPicks) return ctx.error(kErrOutOfRange);
  const bool resp3 = ctx.reply.resp3();
  run_key_command(ctx, ctx.arg(1), [&](KeyTarget& t) {
    return zrandmember_count(t, count, withscores, resp3);
  });
}

// ---- ZSCAN ---------------------------------------------------------------------------------

// The cursor is a ScanCursor (scan_cursor.h) over the member entries, in member order: its
// token names the exact member to resume at in the shard's ScanPositions, its head that
// member's first bytes, from which the scan resumes (repeating, never skipping) once the
// token's entry is reused. Positions are filed under a hash of the key, so one zset's
// scan does not resume at another's member.
std::uint32_t scan_owner(std::uint32_t db, std::string_view key) {
  return static_cast<std::uint32_t>(std::hash<std::string_view>{}(key) * 31 + db);
}

std::string score_text(double score) {
  if (std::isinf(score)) return score > 0 ? "inf" : "-inf";
  char text[32];
  const auto result = std::to_chars(text, text + sizeof text, score, std::chars_format::general, 17);
  return std::string(text, result.ptr);
}

struct ZscanOptions {
  std::int64_t count = 10;
  std::string_view pattern;
  bool match = false;
};

KeyReply zscan_body(KeyTarget& t, const ScanCursor& cursor, const ZscanOptions& o) {
  CollectionRead r(t, KeyType::kZSet);
  if (!r.ok()) return std::move(r.failure);
  std::vector<KeyReply> items;
  std::string next = "0";
  if (r.exists()) {
    ZSet z(r.coll());
    types::ScanPositions& positions = t.keyspace.scan_positions();
    const std::uint32_t owner = scan_owner(t.db, t.key);
    std::string start(1, types::kZSetMemberTag);
    if (auto exact = positions.recall(cursor.token, owner, cursor.head)) {
      start.append(*exact);
    } else {
      start.append(cursor.head);
    }
    types::StagedWrites::Cursor c = z.members();
    c.seek(r.coll().member_key(start));
    for (std::int64_t n = 0; n < o.count && c.valid(); ++n, c.next()) {
      const std::string_view member = z.entry_member(c.key());
      if (o.match && !glob_match(o.pattern, member)) continue;
      Result<double> score = types::decode_score_value(c.value());
      if (!score) return r.storage_error(score.error());
      items.push_back(KeyReply::bulk(std::string(member)));
      items.push_back(KeyReply::bulk(score_text(*score)));
    }
    if (!c.status()) return r.storage_error(c.status());
    if (c.valid()) {
      const std::string_view member = z.entry_member(c.key());
      const std::uint32_t token = positions.remember(owner, member);
      next = std::to_string(ScanCursor::at(0, token, member).encode());
    }
  }
  std::vector<KeyReply> reply;
  reply.push_back(KeyReply::bulk(std::move(next)));
  reply.push_back(KeyReply::array(std::move(items)));
  return KeyReply::array(std::move(reply));
}

void zscan(CommandContext& ctx) {
  std::optional<std::uint64_t> value = parse_cursor(ctx.arg(2));
  if (!value) return ctx.error(kErrInvalidCursor);
  const ScanCursor cursor = ScanCursor::decode(*value);
  // Redis reads the options only once the key exists and is a sorted set.
  std::string_view option_error;
  ZscanOptions o;
  for (std::size_t i = 3; i < ctx.argc() && option_error.empty(); i += 2) {
    const bool has_value = i + 1 < ctx.argc();
    if (has_value && equals_nocase(ctx.arg(i), "count")) {
      if (!resp::parse_int64(ctx.arg(i + 1), &o.count)) option_error = kErrNotInteger;
      else if (o.count < 1) option_error = kErrSyntax;
    } else if (has_value && equals_nocase(ctx.arg(i), "match")) {
      o.pattern = ctx.arg(i + 1);
      o.match = o.pattern != "*";
    } else {
      option_error = kErrSyntax;
    }
  }
  run_key_command(ctx, ctx.arg(1), [&](KeyTarget& t) {
    if (!option_error.empty()) {
      CollectionRead r(t, KeyType::kZSet);
      if (!r.ok()) return std::move(r.failure);
      if (r.exists()) return KeyReply::error(option_error);
      std::vector<KeyReply> empty;
      empty.push_back(KeyReply::bulk("0"));
      empty.push_back(KeyReply::array());
      return KeyReply::array(std::move(empty));
    }
    return zscan_body(t, cursor, o);
  });
}

// ---- the table -----------------------------------------------------------------------------

constexpr KeySpec kRead[] = {{.flags = kKeyRO | kKeyAccess}};
constexpr KeySpec kReadNoAccess[] = {{.flags = kKeyRO}};
constexpr KeySpec kUpdate[] = {{.flags = kKeyRW | kKeyUpdate}};
constexpr KeySpec kReadUpdate[] = {{.flags = kKeyRW | kKeyAccess | kKeyUpdate}};
constexpr KeySpec kDelete[] = {{.flags = kKeyRW | kKeyDelete}};
constexpr KeySpec kPop[] = {{.flags = kKeyRW | kKeyAccess | kKeyDelete}};
constexpr std::string_view kNondeterministic[] = {"nondeterministic_output"};

constexpr CommandSpec kCommands[] = {
    {.name = "zadd", .arity = -4, .flags = kCmdWrite | kCmdDenyoom | kCmdFast,
     .categories = kAclSortedSet, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "sorted-set", .since = "1.2.0",
     .summary = "Adds members to a sorted set, or updates their scores",
     .complexity = "O(log(N)) for each member added or updated, plus the index entries written",
     .key_specs = kUpdate, .handler = zadd},
    {.name = "zincrby", .arity = 4, .flags = kCmdWrite | kCmdDenyoom | kCmdFast,
     .categories = kAclSortedSet, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "sorted-set", .since = "1.2.0",
     .summary = "Increments the score of a member of a sorted set", .complexity = "O(log(N))",
     .key_specs = kReadUpdate, .handler = zincrby},
    {.name = "zrem", .arity = -3, .flags = kCmdWrite | kCmdFast, .categories = kAclSortedSet,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "sorted-set", .since = "1.2.0",
     .summary = "Removes members from a sorted set",
     .complexity = "O(M*log(N)) for M members removed", .key_specs = kDelete,
     .handler = zrem},
    {.name = "zscore", .arity = 3, .flags = kCmdReadonly | kCmdFast,
     .categories = kAclSortedSet, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "sorted-set", .since = "1.2.0",
     .summary = "Returns the score of a member of a sorted set", .complexity = "O(1)",
     .key_specs = kRead, .handler = zscore},
    {.name = "zmscore", .arity = -3, .flags = kCmdReadonly | kCmdFast,
     .categories = kAclSortedSet, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "sorted-set", .since = "6.2.0",
     .summary = "Returns the scores of several members of a sorted set",
     .complexity = "O(N) for N members asked", .key_specs = kRead, .handler = zmscore},
    {.name = "zcard", .arity = 2, .flags = kCmdReadonly | kCmdFast,
     .categories = kAclSortedSet, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "sorted-set", .since = "1.2.0",
     .summary = "Returns the number of members of a sorted set", .complexity = "O(1)",
     .key_specs = kReadNoAccess, .handler = zcard},
    {.name = "zpopmin", .arity = -2, .flags = kCmdWrite | kCmdFast,
     .categories = kAclSortedSet, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "sorted-set", .since = "5.0.0",
     .summary = "Removes and returns the members with the lowest scores",
     .complexity = "O(M) for M members popped", .key_specs = kPop, .handler = zpopmin},
    {.name = "zpopmax", .arity = -2, .flags = kCmdWrite | kCmdFast,
     .categories = kAclSortedSet, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "sorted-set", .since = "5.0.0",
     .summary = "Removes and returns the members with the highest scores",
     .complexity = "O(M) for M members popped", .key_specs = kPop, .handler = zpopmax},
    {.name = "zrandmember", .arity = -2, .flags = kCmdReadonly,
     .categories = kAclSortedSet, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "sorted-set", .since = "6.2.0",
     .summary = "Returns random members of a sorted set",
     .complexity = "O(N) without an order-statistics index: one walk up to the highest pick",
     .tips = kNondeterministic, .key_specs = kRead, .handler = zrandmember},
    {.name = "zscan", .arity = -3, .flags = kCmdReadonly, .categories = kAclSortedSet,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "sorted-set", .since = "2.8.0",
     .summary = "Iterates over the members and scores of a sorted set",
     .complexity = "O(1) for every call. O(N) for a complete iteration",
     .tips = kNondeterministic, .key_specs = kRead, .handler = zscan},
};

}  // namespace

std::span<const CommandSpec> zset_commands() { return kCommands; }

}  // namespace cascade::commands
