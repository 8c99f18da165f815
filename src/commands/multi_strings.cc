// The string commands over several keys: MGET MSET MSETNX. Each runs as one transaction
// (transaction.h), so it is atomic across shards: an MGET never sees half of an MSET, and
// an MSET is whole or absent after a crash.
//
// Redis's semantics: MGET answers nil for a missing key and for a key of another type;
// MSET overwrites whatever the keys held (any type) and clears their expiry, a repeated key
// taking its last value; MSETNX writes nothing (and answers 0) if any key exists.
#include <string>
#include <vector>

#include "src/commands/command_families.h"
#include "src/commands/transaction.h"
#include "src/server/dispatcher.h"

namespace cascade::commands {
namespace {

using namespace cascade::server;

std::vector<TxnKey> keys_from(const CommandContext& ctx, std::size_t first, std::size_t step) {
  std::vector<TxnKey> keys;
  for (std::size_t i = first; i < ctx.argc(); i += step) keys.push_back({client_db(ctx), ctx.arg(i)});
  return keys;
}

void mget(CommandContext& ctx) {
  const std::vector<TxnKey> keys = keys_from(ctx, 1, 1);
  std::vector<std::optional<std::string>> values(keys.size());
  KeyReply r = run_transaction(ctx, keys, [&values](TxnView& view) {
    for (std::size_t i = 0; i < view.size(); ++i) {
      const auto& record = view.record(i);
      if (record && record->type == types::KeyType::kString) values[i] = std::string(record->payload());
    }
    return KeyReply::ok();
  });
  if (r.kind == KeyReply::Kind::kError) {
    write_key_reply(ctx, std::move(r));
    return;
  }
  ctx.reply.array(values.size());
  for (auto& value : values) {
    if (value) {
      ctx.reply.bulk_owned(std::move(*value));
    } else {
      ctx.reply.null();
    }
  }
}

// MSET and MSETNX; `only_if_none` is MSETNX.
void mset_generic(CommandContext& ctx, bool only_if_none) {
  if (ctx.argc() % 2 == 0) {
    ctx.error(wrong_arity_text(ctx.command.name));
    return;
  }
  const std::vector<TxnKey> keys = keys_from(ctx, 1, 2);
  // MSET never looks at what the keys held: they are not read.
  const TxnOptions options{.read_records = only_if_none};
  KeyReply r = run_transaction(ctx, keys, [&ctx, only_if_none](TxnView& view) {
    if (only_if_none) {
      for (std::size_t i = 0; i < view.size(); ++i) {
        if (view.record(i)) return KeyReply::number(0);
      }
    }
    for (std::size_t i = 0; i < view.size(); ++i) view.put_string(i, std::nullopt, ctx.arg(2 + 2 * i));
    return only_if_none ? KeyReply::number(1) : KeyReply::ok();
  }, options);
  write_key_reply(ctx, std::move(r));
}

void mset(CommandContext& ctx) { mset_generic(ctx, false); }
void msetnx(CommandContext& ctx) { mset_generic(ctx, true); }

constexpr KeySpec kReadKeys[] = {{.flags = kKeyRO | kKeyAccess, .last_key = -1}};
constexpr KeySpec kOverwritePairs[] = {{.flags = kKeyOW | kKeyUpdate, .last_key = -1, .key_step = 2}};
constexpr KeySpec kInsertPairs[] = {{.flags = kKeyOW | kKeyInsert, .last_key = -1, .key_step = 2}};
constexpr std::string_view kMgetTips[] = {"request_policy:multi_shard"};
constexpr std::string_view kMsetTips[] = {"request_policy:multi_shard",
                                          "response_policy:all_succeeded"};
constexpr std::string_view kMsetnxTips[] = {"request_policy:multi_shard",
                                            "response_policy:agg_min"};

constexpr CommandSpec kCommands[] = {
    {.name = "mget", .arity = -2, .flags = kCmdReadonly | kCmdFast, .categories = kAclString,
     .first_key = 1, .last_key = -1, .key_step = 1, .group = "string", .since = "1.0.0",
     .summary = "Returns the string values of several keys, atomically across shards",
     .complexity = "O(N) where N is the number of keys to retrieve", .tips = kMgetTips,
     .key_specs = kReadKeys, .handler = mget},
    {.name = "mset", .arity = -3, .flags = kCmdWrite | kCmdDenyoom, .categories = kAclString,
     .first_key = 1, .last_key = -1, .key_step = 2, .group = "string", .since = "1.0.1",
     .summary = "Stores several string values at once, atomically across shards",
     .complexity = "O(N) where N is the number of keys to set", .tips = kMsetTips,
     .key_specs = kOverwritePairs, .handler = mset},
    {.name = "msetnx", .arity = -3, .flags = kCmdWrite | kCmdDenyoom, .categories = kAclString,
     .first_key = 1, .last_key = -1, .key_step = 2, .group = "string", .since = "1.0.1",
     .summary = "Stores several string values only if none of the keys exists",
     .complexity = "O(N) where N is the number of keys to set", .tips = kMsetnxTips,
     .key_specs = kInsertPairs, .handler = msetnx},
};

}  // namespace

std::span<const CommandSpec> multi_string_commands() { return kCommands; }

}  // namespace cascade::commands
