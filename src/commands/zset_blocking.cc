// The blocking sorted-set pops: BZPOPMIN BZPOPMAX BZMPOP, on the protocol of blocking.h, as
// clients of the sorted-set kind (a client blocked here is not woken by, and does not queue
// behind, clients waiting for a list on the same key). Each supplies the "try" of one key:
// the pop ZPOPMIN/ZMPOP does on that key, made only when it is the client's turn there.
// Every timeout (and CLIENT UNBLOCK TIMEOUT) answers a null array, as Redis 7.0 does; so
// does an empty key inside MULTI/EXEC, where they never wait.
#include <string>
#include <vector>

#include "src/commands/blocking.h"
#include "src/commands/collection_access.h"
#include "src/commands/command_families.h"
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

void reply_unless_closed(CommandContext& ctx, std::optional<KeyReply> reply) {
  if (reply) write_key_reply(ctx, std::move(*reply));
}

// Pops up to `count` members of `key` (lowest scores first, or highest with `max`) on its
// shard if it may (blocking.h, steps 1 and 3). `shape` builds the served reply from the key
// and the popped members (a ScoredReply it was handed, already filled).
template <typename Shape>
KeyReply try_zpop(CommandContext& ctx, std::string_view key, std::size_t index,
                  BlockingSession* session, bool max, std::int64_t count, ScoredReply popped,
                  Shape shape) {
  return call_on_key_shard(ctx, key, [&](KeyTarget& t) {
    CollectionWrite w(t, KeyType::kZSet);
    const bool turn = blocking_turn(ctx, t, session, index, KeyType::kZSet);
    if (!w.ok()) {
      // Enrolled, a key of another type is a key with nothing to pop (yet), as Redis 7.0.
      return session == nullptr ? std::move(w.failure) : KeyReply::null_array();
    }
    if (!turn || !w.exists()) return w.commit_unchanged(KeyReply::null_array());
    ZSet z(w.coll());
    if (Status s = pop_members(z, max, count, popped); !s) return w.storage_error(s);
    return w.commit(shape(popped.finish()));
  });
}

// ---- BZPOPMIN BZPOPMAX --------------------------------------------------------------------

// Served: [key, member, score], the score a double in RESP3.
void blocking_zpop(CommandContext& ctx, bool max) {
  std::optional<runtime::TimePoint> deadline;
  if (!parse_block_timeout(ctx, ctx.arg(ctx.argc() - 1), deadline)) return;
  const std::vector<std::string_view> keys = distinct_keys(ctx.args.subspan(1, ctx.argc() - 2));
  auto try_key = [&](std::size_t i, BlockingSession* session) {
    const std::string_view key = keys[i];
    // Built as reply objects in both protocols (ScoredReply's RESP3 form, flat): the pair
    // is spliced after the key, which an encoded array could not be. The reply writer
    // degrades the score to a bulk string for a RESP2 client.
    return try_zpop(ctx, key, i, session, max, 1, ScoredReply(true, true, false),
                    [key](KeyReply pair) {
                      std::vector<KeyReply> items;
                      items.push_back(KeyReply::bulk(std::string(key)));
                      for (KeyReply& item : pair.items) items.push_back(std::move(item));
                      return KeyReply::array(std::move(items));
                    });
  };
  reply_unless_closed(
      ctx, run_blocking(ctx, keys, KeyType::kZSet, deadline, try_key, KeyReply::null_array()));
}

void bzpopmin(CommandContext& ctx) { blocking_zpop(ctx, false); }
void bzpopmax(CommandContext& ctx) { blocking_zpop(ctx, true); }

// ---- BZMPOP -------------------------------------------------------------------------------

// BZMPOP timeout numkeys key... MIN|MAX [COUNT count]. Redis 7.0 reads the timeout after
// the other arguments (a bad numkeys is reported before a bad timeout). Served:
// [key, [[member, score]...]], as ZMPOP.
void bzmpop(CommandContext& ctx) {
  ZmpopArgs args;
  if (std::string_view error = parse_zmpop_args(ctx.args, 2, args); !error.empty()) {
    return ctx.error(error);
  }
  std::optional<runtime::TimePoint> deadline;
  if (!parse_block_timeout(ctx, ctx.arg(1), deadline)) return;
  const std::vector<std::string_view> keys = distinct_keys(args.keys);
  auto try_key = [&](std::size_t i, BlockingSession* session) {
    const std::string_view key = keys[i];
    return try_zpop(ctx, key, i, session, args.max, args.count, ScoredReply(true, true),
                    [key](KeyReply members) {
                      std::vector<KeyReply> items;
                      items.push_back(KeyReply::bulk(std::string(key)));
                      items.push_back(std::move(members));
                      return KeyReply::array(std::move(items));
                    });
  };
  reply_unless_closed(
      ctx, run_blocking(ctx, keys, KeyType::kZSet, deadline, try_key, KeyReply::null_array()));
}

// ---- the table ------------------------------------------------------------------------------

constexpr std::uint32_t kBlockingWrite = kCmdWrite | kCmdNoscript | kCmdBlocking;
constexpr std::uint32_t kAclCategories = kAclSortedSet;
constexpr KeySpec kPopKeys[] = {{.flags = kKeyRW | kKeyAccess | kKeyDelete, .last_key = -2}};
constexpr KeySpec kPopNumkeys[] = {
    {.flags = kKeyRW | kKeyAccess | kKeyDelete, .begin_index = 2, .find = FindKeys::kKeynum}};

constexpr CommandSpec kCommands[] = {
    {.name = "bzpopmin", .arity = -3, .flags = kBlockingWrite | kCmdFast,
     .categories = kAclCategories, .first_key = 1, .last_key = -2, .key_step = 1,
     .group = "sorted-set", .since = "5.0.0",
     .summary = "Removes and returns the member with the lowest score from the first "
                "non-empty sorted set, or blocks until one has members or the timeout passes",
     .complexity = "O(log(N)) with N the members of the sorted set popped from",
     .key_specs = kPopKeys, .handler = bzpopmin},
    {.name = "bzpopmax", .arity = -3, .flags = kBlockingWrite | kCmdFast,
     .categories = kAclCategories, .first_key = 1, .last_key = -2, .key_step = 1,
     .group = "sorted-set", .since = "5.0.0",
     .summary = "Removes and returns the member with the highest score from the first "
                "non-empty sorted set, or blocks until one has members or the timeout passes",
     .complexity = "O(log(N)) with N the members of the sorted set popped from",
     .key_specs = kPopKeys, .handler = bzpopmax},
    {.name = "bzmpop", .arity = -5, .flags = kCmdWrite | kCmdBlocking | kCmdMovableKeys,
     .categories = kAclCategories, .group = "sorted-set", .since = "7.0.0",
     .summary = "Removes and returns members with the lowest or highest scores from the "
                "first non-empty sorted set, or blocks until one has members or the timeout "
                "passes",
     .complexity = "O(K) + O(M*log(N)): K keys given, M members popped, N members of the set",
     .key_specs = kPopNumkeys, .handler = bzmpop},
};

}  // namespace

std::span<const CommandSpec> zset_blocking_commands() { return kCommands; }

}  // namespace cascade::commands
