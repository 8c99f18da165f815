// The hash family: HSET HMSET HGET HDEL HLEN HEXISTS HGETALL.
//
// A hash is a collection (src/types/collection.h): its metadata record holds the version
// and the field count, and each field is one engine entry, member prefix + field -> value.
// Reads take no lock (like GET); writes run under the key's lock and commit their field
// writes and the metadata record in one engine batch (collection_access.h).
#include <string>
#include <vector>

#include "src/commands/collection_access.h"
#include "src/commands/command_families.h"
#include "src/server/dispatcher.h"

namespace cascade::commands {
namespace {

using namespace cascade::server;
using types::KeyType;

// ---- HSET HMSET ------------------------------------------------------------------------

// Fields and values alternate from argument 2; Redis checks the pairing before the key.
void set_fields(CommandContext& ctx, bool reply_ok) {
  if (ctx.argc() % 2 != 0) {
    ctx.error(wrong_arity_text(reply_ok ? "hmset" : "hset"));
    return;
  }
  run_key_command(ctx, ctx.arg(1), [&ctx, reply_ok](KeyTarget& t) {
    CollectionWrite w(t, KeyType::kHash);
    if (!w.ok()) return std::move(w.failure);
    if (!w.exists()) w.create();
    types::Collection& hash = w.coll();
    std::int64_t added = 0;
    for (std::size_t i = 2; i + 1 < ctx.argc(); i += 2) {
      Result<std::optional<std::string>> old = hash.get(ctx.arg(i));
      if (!old) return w.storage_error(old.error());
      if (!old->has_value()) {
        ++added;
        ++hash.header().size;
      }
      hash.put(ctx.arg(i), ctx.arg(i + 1));
    }
    return w.commit(reply_ok ? KeyReply::ok() : KeyReply::number(added));
  });
}

void hset(CommandContext& ctx) { set_fields(ctx, false); }
void hmset(CommandContext& ctx) { set_fields(ctx, true); }

// ---- HGET HEXISTS HLEN HGETALL -------------------------------------------------------------

void hget(CommandContext& ctx) {
  run_key_command(ctx, ctx.arg(1), [&ctx](KeyTarget& t) {
    CollectionRead r(t, KeyType::kHash);
    if (!r.ok()) return std::move(r.failure);
    if (!r.exists()) return KeyReply::null();
    Result<std::optional<std::string>> value = r.coll().get(ctx.arg(2));
    if (!value) return r.storage_error(value.error());
    return value->has_value() ? KeyReply::bulk(std::move(**value)) : KeyReply::null();
  });
}

void hexists(CommandContext& ctx) {
  run_key_command(ctx, ctx.arg(1), [&ctx](KeyTarget& t) {
    CollectionRead r(t, KeyType::kHash);
    if (!r.ok()) return std::move(r.failure);
    if (!r.exists()) return KeyReply::number(0);
    Result<std::optional<std::string>> value = r.coll().get(ctx.arg(2));
    if (!value) return r.storage_error(value.error());
    return KeyReply::number(value->has_value() ? 1 : 0);
  });
}

void hlen(CommandContext& ctx) {
  run_key_command(ctx, ctx.arg(1), [](KeyTarget& t) {
    CollectionRead r(t, KeyType::kHash);
    if (!r.ok()) return std::move(r.failure);
    return KeyReply::number(r.exists() ? static_cast<std::int64_t>(r.coll().size()) : 0);
  });
}

void hgetall(CommandContext& ctx) {
  run_key_command(ctx, ctx.arg(1), [](KeyTarget& t) {
    CollectionRead r(t, KeyType::kHash);
    if (!r.ok()) return std::move(r.failure);
    std::vector<KeyReply> items;
    if (!r.exists()) return KeyReply::map(std::move(items));
    const std::size_t skip = r.coll().prefix().size();
    items.reserve(2 * r.coll().size());
    types::StagedWrites::Cursor c = r.coll().cursor();
    for (c.seek_to_first(); c.valid(); c.next()) {
      items.push_back(KeyReply::bulk(std::string(c.key().substr(skip))));
      items.push_back(KeyReply::bulk(std::string(c.value())));
    }
    if (!c.status()) return r.storage_error(c.status());
    return KeyReply::map(std::move(items));
  });
}

// ---- HDEL --------------------------------------------------------------------------------

void hdel(CommandContext& ctx) {
  run_key_command(ctx, ctx.arg(1), [&ctx](KeyTarget& t) {
    CollectionWrite w(t, KeyType::kHash);
    if (!w.ok()) return std::move(w.failure);
    if (!w.exists()) return w.commit_unchanged(KeyReply::number(0));
    types::Collection& hash = w.coll();
    std::int64_t removed = 0;
    for (std::size_t i = 2; i < ctx.argc(); ++i) {
      Result<std::optional<std::string>> old = hash.get(ctx.arg(i));
      if (!old) return w.storage_error(old.error());
      if (!old->has_value()) continue;
      ++removed;
      --hash.header().size;
      hash.del(ctx.arg(i));
    }
    if (removed == 0) return w.commit_unchanged(KeyReply::number(0));
    return w.commit(KeyReply::number(removed));
  });
}

// ---- the table -------------------------------------------------------------------------

constexpr KeySpec kRead[] = {{.flags = kKeyRO | kKeyAccess}};
constexpr KeySpec kReadNoAccess[] = {{.flags = kKeyRO}};
constexpr KeySpec kUpdate[] = {{.flags = kKeyRW | kKeyUpdate}};
constexpr KeySpec kDelete[] = {{.flags = kKeyRW | kKeyDelete}};

constexpr CommandSpec kCommands[] = {
    {.name = "hset", .arity = -4, .flags = kCmdWrite | kCmdDenyoom | kCmdFast,
     .categories = kAclHash, .first_key = 1, .last_key = 1, .key_step = 1, .group = "hash",
     .since = "2.0.0", .summary = "Creates or modifies the value of a field in a hash",
     .complexity = "O(1) for each field/value pair added", .key_specs = kUpdate,
     .handler = hset},
    {.name = "hmset", .arity = -4, .flags = kCmdWrite | kCmdDenyoom | kCmdFast,
     .categories = kAclHash, .first_key = 1, .last_key = 1, .key_step = 1, .group = "hash",
     .since = "2.0.0", .summary = "Sets the values of multiple fields",
     .complexity = "O(N) where N is the number of fields being set", .key_specs = kUpdate,
     .handler = hmset},
    {.name = "hget", .arity = 3, .flags = kCmdReadonly | kCmdFast, .categories = kAclHash,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "hash", .since = "2.0.0",
     .summary = "Returns the value of a field in a hash", .complexity = "O(1)",
     .key_specs = kRead, .handler = hget},
    {.name = "hexists", .arity = 3, .flags = kCmdReadonly | kCmdFast, .categories = kAclHash,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "hash", .since = "2.0.0",
     .summary = "Determines whether a field exists in a hash", .complexity = "O(1)",
     .key_specs = kReadNoAccess, .handler = hexists},
    {.name = "hlen", .arity = 2, .flags = kCmdReadonly | kCmdFast, .categories = kAclHash,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "hash", .since = "2.0.0",
     .summary = "Returns the number of fields in a hash", .complexity = "O(1)",
     .key_specs = kReadNoAccess, .handler = hlen},
    {.name = "hgetall", .arity = 2, .flags = kCmdReadonly, .categories = kAclHash,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "hash", .since = "2.0.0",
     .summary = "Returns all fields and values in a hash",
     .complexity = "O(N) where N is the size of the hash", .key_specs = kRead,
     .handler = hgetall},
    {.name = "hdel", .arity = -3, .flags = kCmdWrite | kCmdFast, .categories = kAclHash,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "hash", .since = "2.0.0",
     .summary = "Deletes one or more fields and their values from a hash",
     .complexity = "O(N) where N is the number of fields to be removed",
     .key_specs = kDelete, .handler = hdel},
};

}  // namespace

std::span<const CommandSpec> hash_commands() { return kCommands; }

}  // namespace cascade::commands
