// The blocking list pops: BLPOP BRPOP BLMPOP BLMOVE BRPOPLPUSH, on the protocol of
// blocking.h. Each supplies the "try" of one key: the pop its non-blocking form does, made
// only when it is the client's turn on that key. Every timeout (and CLIENT UNBLOCK TIMEOUT)
// answers a null array, as Redis 7.0 does for every blocked list command.
#include <string>
#include <vector>

#include "src/commands/blocking.h"
#include "src/commands/collection_access.h"
#include "src/commands/command_families.h"
#include "src/commands/list_commands.h"
#include "src/server/dispatcher.h"

namespace cascade::commands {
namespace {

using namespace cascade::server;
using types::KeyType;
using types::List;
using types::ListEnd;

void reply_unless_closed(CommandContext& ctx, std::optional<KeyReply> reply) {
  if (reply) write_key_reply(ctx, std::move(*reply));
}

// Pops up to `count` elements of `key` on its shard if it may (blocking.h, steps 1 and 3).
// `shape` builds the served reply from the popped elements.
template <typename Shape>
KeyReply try_pop(CommandContext& ctx, std::string_view key, std::size_t index,
                 BlockingSession* session, ListEnd end, std::uint64_t count, Shape shape) {
  return call_on_key_shard(ctx, key, [&](KeyTarget& t) {
    CollectionWrite w(t, KeyType::kList);
    const bool turn = blocking_turn(ctx, t, session, index, KeyType::kList);
    if (!w.ok()) {
      // Enrolled, a key of another type is a key with nothing to pop (yet).
      return session == nullptr ? std::move(w.failure) : KeyReply::null_array();
    }
    if (!turn || !w.exists()) return w.commit_unchanged(KeyReply::null_array());
    Result<std::vector<std::string>> popped = List(w.coll()).pop(end, count);
    if (!popped) return w.storage_error(popped.error());
    return w.commit(shape(std::move(*popped)));
  });
}

// ---- BLPOP BRPOP ------------------------------------------------------------------------------

void blocking_pop(CommandContext& ctx, ListEnd end) {
  std::optional<runtime::TimePoint> deadline;
  if (!parse_block_timeout(ctx, ctx.arg(ctx.argc() - 1), deadline)) return;
  const std::vector<std::string_view> keys =
      distinct_keys(ctx.args.subspan(1, ctx.argc() - 2));
  auto try_key = [&](std::size_t i, BlockingSession* session) {
    const std::string_view key = keys[i];
    return try_pop(ctx, key, i, session, end, 1, [key](std::vector<std::string> popped) {
      std::vector<KeyReply> items;
      items.push_back(KeyReply::bulk(std::string(key)));
      items.push_back(KeyReply::bulk(std::move(popped.front())));
      return KeyReply::array(std::move(items));
    });
  };
  reply_unless_closed(
      ctx, run_blocking(ctx, keys, KeyType::kList, deadline, try_key, KeyReply::null_array()));
}

void blpop(CommandContext& ctx) { blocking_pop(ctx, ListEnd::kHead); }
void brpop(CommandContext& ctx) { blocking_pop(ctx, ListEnd::kTail); }

// ---- BLMPOP ---------------------------------------------------------------------------------

void blmpop(CommandContext& ctx) {
  // Redis reads the timeout last, after numkeys, the keys, the side and COUNT.
  std::optional<MultiPopArgs> args = parse_multi_pop(ctx, 2);
  if (!args) return;
  std::optional<runtime::TimePoint> deadline;
  if (!parse_block_timeout(ctx, ctx.arg(1), deadline)) return;
  const std::vector<std::string_view> keys = distinct_keys(args->keys);
  auto try_key = [&](std::size_t i, BlockingSession* session) {
    const std::string_view key = keys[i];
    return try_pop(ctx, key, i, session, args->end, args->count,
                   [key](std::vector<std::string> popped) {
                     std::vector<KeyReply> items;
                     items.push_back(KeyReply::bulk(std::string(key)));
                     items.push_back(bulk_array(std::move(popped)));
                     return KeyReply::array(std::move(items));
                   });
  };
  reply_unless_closed(
      ctx, run_blocking(ctx, keys, KeyType::kList, deadline, try_key, KeyReply::null_array()));
}

// ---- BLMOVE BRPOPLPUSH ------------------------------------------------------------------------

// The move is a transaction over both keys (list_moves.cc); whether it is this client's turn
// on the source is asked on the source's shard just before.
void blocking_move(CommandContext& ctx, ListEnd from, ListEnd to, std::string_view timeout) {
  std::optional<runtime::TimePoint> deadline;
  if (!parse_block_timeout(ctx, timeout, deadline)) return;
  const std::string_view src = ctx.arg(1);
  const std::string_view dst = ctx.arg(2);
  auto try_key = [&](std::size_t, BlockingSession* session) {
    bool turn = true;
    call_on_key_shard(ctx, src, [&](KeyTarget& t) {
      turn = blocking_turn(ctx, t, session, 0, KeyType::kList);
      // Enrolled, a source of another type has nothing to move (yet), as in try_pop.
      if (turn && session != nullptr) {
        CollectionRead r(t, KeyType::kList);
        turn = r.ok() && r.exists();
      }
      return KeyReply::ok();
    });
    if (!turn) return KeyReply::null();
    return move_list_element(ctx, src, dst, from, to);
  };
  if (ctx.exec != nullptr) {
    // Inside EXEC it never waits; an empty source answers a null bulk there (Redis 7.0's
    // blmoveGenericCommand), not the null array of a timeout.
    write_key_reply(ctx, try_key(0, nullptr));
    return;
  }
  const std::string_view keys[] = {src};
  reply_unless_closed(
      ctx, run_blocking(ctx, keys, KeyType::kList, deadline, try_key, KeyReply::null_array()));
}

void blmove(CommandContext& ctx) {
  const std::optional<ListEnd> from = parse_list_end(ctx.arg(3));
  const std::optional<ListEnd> to = parse_list_end(ctx.arg(4));
  if (!from || !to) {
    ctx.error(kErrSyntax);
    return;
  }
  blocking_move(ctx, *from, *to, ctx.arg(5));
}

void brpoplpush(CommandContext& ctx) {
  blocking_move(ctx, ListEnd::kTail, ListEnd::kHead, ctx.arg(3));
}

// ---- the table -------------------------------------------------------------------------

constexpr std::uint32_t kBlockingWrite = kCmdWrite | kCmdNoscript | kCmdBlocking;
constexpr KeySpec kPopKeys[] = {{.flags = kKeyRW | kKeyAccess | kKeyDelete, .last_key = -2}};
constexpr KeySpec kPopNumkeys[] = {
    {.flags = kKeyRW | kKeyAccess | kKeyDelete, .begin_index = 2, .find = FindKeys::kKeynum}};
constexpr KeySpec kMove[] = {{.flags = kKeyRW | kKeyAccess | kKeyDelete},
                             {.flags = kKeyRW | kKeyInsert, .begin_index = 2}};

constexpr CommandSpec kCommands[] = {
    {.name = "blpop", .arity = -3, .flags = kBlockingWrite, .categories = kAclList,
     .first_key = 1, .last_key = -2, .key_step = 1, .group = "list", .since = "2.0.0",
     .summary = "Pops the first element of the first non-empty list, or blocks until one "
                "has an element or the timeout passes",
     .complexity = "O(N) where N is the number of provided keys", .key_specs = kPopKeys,
     .handler = blpop},
    {.name = "brpop", .arity = -3, .flags = kBlockingWrite, .categories = kAclList,
     .first_key = 1, .last_key = -2, .key_step = 1, .group = "list", .since = "2.0.0",
     .summary = "Pops the last element of the first non-empty list, or blocks until one "
                "has an element or the timeout passes",
     .complexity = "O(N) where N is the number of provided keys", .key_specs = kPopKeys,
     .handler = brpop},
    {.name = "blmpop", .arity = -5, .flags = kCmdWrite | kCmdBlocking | kCmdMovableKeys,
     .categories = kAclList, .group = "list", .since = "7.0.0",
     .summary = "Pops elements from the first non-empty list among several, or blocks until "
                "one has elements or the timeout passes",
     .complexity = "O(N+M) where N is the number of keys given and M the elements returned",
     .key_specs = kPopNumkeys, .handler = blmpop},
    {.name = "blmove", .arity = 6, .flags = kBlockingWrite | kCmdDenyoom,
     .categories = kAclList, .first_key = 1, .last_key = 2, .key_step = 1, .group = "list",
     .since = "6.2.0",
     .summary = "Moves an element from one list to another, or blocks until the source has "
                "one or the timeout passes",
     .complexity = "O(1)", .key_specs = kMove, .handler = blmove},
    {.name = "brpoplpush", .arity = 4, .flags = kBlockingWrite | kCmdDenyoom,
     .categories = kAclList, .first_key = 1, .last_key = 2, .key_step = 1, .group = "list",
     .since = "2.2.0",
     .summary = "Moves the last element of a list to the head of another, or blocks until "
                "the source has one or the timeout passes",
     .complexity = "O(1)", .key_specs = kMove, .handler = brpoplpush},
};

}  // namespace

std::span<const CommandSpec> list_blocking_commands() { return kCommands; }

}  // namespace cascade::commands
