// The keyspace family, for keys of any type: DEL UNLINK EXISTS TOUCH TYPE, the expiry setters
// EXPIRE PEXPIRE EXPIREAT PEXPIREAT PERSIST and the readers TTL PTTL EXPIRETIME
// PEXPIRETIME.
//
// DEL, UNLINK, EXISTS and TOUCH take several keys and run as one transaction
// (transaction.h): atomic across shards, as Redis's are over their keys, and a DEL over
// several shards is whole or absent after a crash. UNLINK is DEL (nothing is freed in the
// background here); TOUCH is EXISTS (no access times are kept). An expired key counts as
// missing everywhere and is deleted by the write commands that meet it
// (types::LockedKey::load).
#include <climits>

#include "resp/decimal.h"
#include "src/commands/command_families.h"
#include "src/commands/expiry_options.h"
#include "src/commands/key_command.h"
#include "src/commands/transaction.h"

namespace cascade::commands {
namespace {

using namespace cascade::server;

// ---- DEL UNLINK EXISTS TOUCH TYPE -------------------------------------------------------

std::vector<TxnKey> all_keys(const CommandContext& ctx) {
  std::vector<TxnKey> keys;
  for (std::size_t i = 1; i < ctx.argc(); ++i) keys.push_back({client_db(ctx), ctx.arg(i)});
  return keys;
}

void del(CommandContext& ctx) {
  const std::vector<TxnKey> keys = all_keys(ctx);
  write_key_reply(ctx, run_transaction(ctx, keys, [](TxnView& view) {
    std::int64_t deleted = 0;
    for (std::size_t i = 0; i < view.size(); ++i) {
      if (!view.record(i)) continue;  // missing, or deleted by an earlier mention
      view.erase(i);
      ++deleted;
    }
    return KeyReply::number(deleted);
  }));
}

// EXISTS and TOUCH: the keys that exist, a repeated key once per mention.
void exists(CommandContext& ctx) {
  const std::vector<TxnKey> keys = all_keys(ctx);
  write_key_reply(ctx, run_transaction(ctx, keys, [](TxnView& view) {
    std::int64_t found = 0;
    for (std::size_t i = 0; i < view.size(); ++i) found += view.record(i) ? 1 : 0;
    return KeyReply::number(found);
  }));
}

void type(CommandContext& ctx) {
  run_key_command(ctx, ctx.arg(1), [](KeyTarget& t) {
    auto record = t.read();
    if (!record) return storage_failure(t, record.error());
    if (!*record) return KeyReply::simple("none");
    return KeyReply::simple(types::key_type_name((*record)->type));
  });
}

// ---- EXPIRE PEXPIRE EXPIREAT PEXPIREAT PERSIST --------------------------------------

// Redis's expireGenericCommand: options, then the time (overflow is an invalid expire
// time; a negative one is allowed and deletes the key), then the key and the condition.
void expire_generic(CommandContext& ctx, bool relative, bool seconds) {
  ExpireCondition condition;
  if (std::string error = parse_expire_condition(ctx.args, 3, condition); !error.empty()) {
    ctx.error(error);
    return;
  }
  std::int64_t when = 0;
  if (!resp::parse_int64(ctx.arg(2), &when)) {
    ctx.error(kErrNotInteger);
    return;
  }
  const std::int64_t base = relative ? unix_time_ms() : 0;
  if ((seconds && (when > LLONG_MAX / 1000 || when < LLONG_MIN / 1000)) ||
      (seconds ? when * 1000 : when) > LLONG_MAX - base) {
    ctx.error(invalid_expire_text(ctx.command.name));
    return;
  }
  when = (seconds ? when * 1000 : when) + base;
  run_key_command(ctx, ctx.arg(1), [when, condition](KeyTarget& t) {
    types::LockedKey lock = t.lock();
    auto loaded = lock.load(t.now_ms);
    if (!loaded) return storage_failure(t, loaded.error());
    if (!*loaded) return KeyReply::number(0);
    const types::StoredRecord& record = **loaded;
    if (!expire_condition_allows(condition, record.expire_ms.value_or(-1), when)) {
      return KeyReply::number(0);
    }
    Status s = when <= t.now_ms ? lock.erase() : lock.set_expiry(record, when);
    if (!s) return storage_failure(t, s);
    return KeyReply::number(1);
  });
}

void expire(CommandContext& ctx) { expire_generic(ctx, true, true); }
void pexpire(CommandContext& ctx) { expire_generic(ctx, true, false); }
void expireat(CommandContext& ctx) { expire_generic(ctx, false, true); }
void pexpireat(CommandContext& ctx) { expire_generic(ctx, false, false); }

void persist(CommandContext& ctx) {
  run_key_command(ctx, ctx.arg(1), [](KeyTarget& t) {
    types::LockedKey lock = t.lock();
    auto loaded = lock.load(t.now_ms);
    if (!loaded) return storage_failure(t, loaded.error());
    if (!*loaded || !(*loaded)->expire_ms) return KeyReply::number(0);
    if (Status s = lock.set_expiry(**loaded, std::nullopt); !s) return storage_failure(t, s);
    return KeyReply::number(1);
  });
}

// ---- TTL PTTL EXPIRETIME PEXPIRETIME -------------------------------------------------

// -2 for a missing key, -1 for one without expiry; else the time left (or the absolute
// time), never below 0, in ms or in seconds rounded to the nearest.
void ttl_generic(CommandContext& ctx, bool milliseconds, bool absolute) {
  run_key_command(ctx, ctx.arg(1), [milliseconds, absolute](KeyTarget& t) {
    auto record = t.read();
    if (!record) return storage_failure(t, record.error());
    if (!*record) return KeyReply::number(-2);
    if (!(*record)->expire_ms) return KeyReply::number(-1);
    std::int64_t ttl = *(*record)->expire_ms - (absolute ? 0 : t.now_ms);
    if (ttl < 0) ttl = 0;
    return KeyReply::number(milliseconds ? ttl : (ttl + 500) / 1000);
  });
}

void ttl(CommandContext& ctx) { ttl_generic(ctx, false, false); }
void pttl(CommandContext& ctx) { ttl_generic(ctx, true, false); }
void expiretime(CommandContext& ctx) { ttl_generic(ctx, false, true); }
void pexpiretime(CommandContext& ctx) { ttl_generic(ctx, true, true); }

// ---- the table -----------------------------------------------------------------------

constexpr KeySpec kDeleteKeys[] = {{.flags = kKeyRM | kKeyDelete, .last_key = -1}};
constexpr KeySpec kReadKeys[] = {{.flags = kKeyRO, .last_key = -1}};
constexpr KeySpec kReadKey[] = {{.flags = kKeyRO}};
constexpr KeySpec kReadAccess[] = {{.flags = kKeyRO | kKeyAccess}};
constexpr KeySpec kUpdateKey[] = {{.flags = kKeyRW | kKeyUpdate}};
constexpr std::string_view kSumTips[] = {"request_policy:multi_shard",
                                         "response_policy:agg_sum"};
constexpr std::string_view kTtlTips[] = {"nondeterministic_output"};

constexpr CommandSpec expire_spec(std::string_view name, std::string_view since,
                                  std::string_view summary, CommandHandler handler) {
  return {.name = name, .arity = -3, .flags = kCmdWrite | kCmdFast, .categories = kAclKeyspace,
          .first_key = 1, .last_key = 1, .key_step = 1, .group = "generic", .since = since,
          .summary = summary, .complexity = "O(1)", .key_specs = kUpdateKey,
          .handler = handler};
}

constexpr CommandSpec ttl_spec(std::string_view name, std::string_view since,
                               std::string_view summary, std::span<const std::string_view> tips,
                               CommandHandler handler) {
  return {.name = name, .arity = 2, .flags = kCmdReadonly | kCmdFast, .categories = kAclKeyspace,
          .first_key = 1, .last_key = 1, .key_step = 1, .group = "generic", .since = since,
          .summary = summary, .complexity = "O(1)", .tips = tips, .key_specs = kReadAccess,
          .handler = handler};
}

constexpr CommandSpec kCommands[] = {
    {.name = "del", .arity = -2, .flags = kCmdWrite, .categories = kAclKeyspace,
     .first_key = 1, .last_key = -1, .key_step = 1, .group = "generic", .since = "1.0.0",
     .summary = "Deletes keys and says how many existed",
     .complexity = "O(N) where N is the number of keys", .tips = kSumTips,
     .key_specs = kDeleteKeys, .handler = del},
    {.name = "unlink", .arity = -2, .flags = kCmdWrite | kCmdFast, .categories = kAclKeyspace,
     .first_key = 1, .last_key = -1, .key_step = 1, .group = "generic", .since = "4.0.0",
     .summary = "Deletes keys and says how many existed (the same as DEL here)",
     .complexity = "O(N) where N is the number of keys", .tips = kSumTips,
     .key_specs = kDeleteKeys, .handler = del},
    {.name = "exists", .arity = -2, .flags = kCmdReadonly | kCmdFast, .categories = kAclKeyspace,
     .first_key = 1, .last_key = -1, .key_step = 1, .group = "generic", .since = "1.0.0",
     .summary = "Counts the given keys that exist, a repeated key once per mention",
     .complexity = "O(N) where N is the number of keys", .tips = kSumTips,
     .key_specs = kReadKeys, .handler = exists},
    {.name = "touch", .arity = -2, .flags = kCmdReadonly | kCmdFast, .categories = kAclKeyspace,
     .first_key = 1, .last_key = -1, .key_step = 1, .group = "generic", .since = "3.2.1",
     .summary = "Counts the given keys that exist (no access times are kept to update)",
     .complexity = "O(N) where N is the number of keys that will be touched.", .tips = kSumTips,
     .key_specs = kReadKeys, .handler = exists},
    {.name = "type", .arity = 2, .flags = kCmdReadonly | kCmdFast, .categories = kAclKeyspace,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "generic", .since = "1.0.0",
     .summary = "Names the type of the value at a key, or none", .complexity = "O(1)",
     .key_specs = kReadKey, .handler = type},
    expire_spec("expire", "1.0.0", "Sets a key's expiry in seconds from now", expire),
    expire_spec("pexpire", "2.6.0", "Sets a key's expiry in milliseconds from now", pexpire),
    expire_spec("expireat", "1.2.0", "Sets a key's expiry as a unix time in seconds", expireat),
    expire_spec("pexpireat", "2.6.0", "Sets a key's expiry as a unix time in milliseconds",
                pexpireat),
    {.name = "persist", .arity = 2, .flags = kCmdWrite | kCmdFast, .categories = kAclKeyspace,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "generic", .since = "2.2.0",
     .summary = "Removes a key's expiry", .complexity = "O(1)", .key_specs = kUpdateKey,
     .handler = persist},
    ttl_spec("ttl", "1.0.0", "Returns the seconds a key has left to live", kTtlTips, ttl),
    ttl_spec("pttl", "2.6.0", "Returns the milliseconds a key has left to live", kTtlTips, pttl),
    ttl_spec("expiretime", "7.0.0", "Returns a key's expiry as a unix time in seconds", {},
             expiretime),
    ttl_spec("pexpiretime", "7.0.0", "Returns a key's expiry as a unix time in milliseconds", {},
             pexpiretime),
};

}  // namespace

std::span<const CommandSpec> key_commands() { return kCommands; }

}  // namespace cascade::commands
