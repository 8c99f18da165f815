// Commands that carry a key's value to another name or database: RENAME RENAMENX COPY
// MOVE. Each is one transaction over its two keys (transaction.h), so a rename between keys
// of two shards is atomic (no locking reader sees both or neither) and whole after a crash.
// The value keeps its type and its expiry (absolute, so it expires at the same instant).
// A string is its metadata record, so carrying the record carries the value. A collection's
// members are stored under its key's name (src/types/collection.h), so they are copied to
// the destination under a fresh version there, in the same transaction (so the copy is as
// atomic and crash-safe as the record): O(members), not Redis's O(1) for RENAME, and the
// members are held in memory meanwhile. The source's old members, and any collection the
// destination held, become garbage that compaction and the sweeper reclaim.
//
// Checks come in Redis's order: COPY and MOVE parse their options (and reject copying a key
// onto itself) before looking at any key; RENAME reports a missing source before anything.
#include <climits>

#include "resp/decimal.h"
#include "src/commands/command_families.h"
#include "src/commands/transaction.h"
#include "src/types/collection.h"

namespace cascade::commands {
namespace {

using namespace cascade::server;

// Copies declared key `from`'s value to declared key `to` (which must differ).
Status carry(TxnView& view, std::size_t from, std::size_t to) {
  const types::StoredRecord& source = *view.record(from);
  if (!types::is_collection(source.type)) {
    view.put(to, source.type, source.expire_ms, source.payload(), source.raw_string);
    return Status::ok();
  }
  std::vector<std::pair<std::string, std::string>> members;  // suffix, value
  types::CollectionHeader header;
  std::size_t rank_records = 0;
  Status s = view.on_shard(from, [&](TxnShard& shard) -> Status {
    Result<types::Collection> c = types::Collection::open(
        shard.writes, shard.db_id, view.key(from).key, source.type, source);
    if (!c) return c.error();
    header = c->header();
    const std::size_t skip = c->prefix().size();
    types::StagedWrites::Cursor cursor = c->cursor();
    for (cursor.seek_to_first(); cursor.valid(); cursor.next()) {
      members.emplace_back(cursor.key().substr(skip), cursor.value());
      // A sorted set's rank index records are copied as they are (their keys hold no
      // version), with the header that names their height.
      const char tag = members.back().first[0];
      if (source.type == types::KeyType::kZSet &&
          (tag == types::kZSetRankTag || tag == types::kZSetCountTag)) {
        ++rank_records;
      }
    }
    return cursor.status();
  });
  if (!s) return s;
  if (members.size() - rank_records !=
      header.size * (source.type == types::KeyType::kZSet ? 2 : 1)) {
    return Status::corruption("collection holds " + std::to_string(members.size()) +
                              " member entries, its metadata says " + std::to_string(header.size));
  }
  header.version = view.fresh_version(to);
  s = view.on_shard(to, [&](TxnShard& shard) -> Status {
    const std::string prefix = types::member_prefix(shard.db_id, view.key(to).key, header.version);
    std::string key;
    for (const auto& [suffix, value] : members) {
      key.assign(prefix);
      key.append(suffix);
      shard.writes.put(key, value);
    }
    return Status::ok();
  });
  if (!s) return s;
  std::string payload;
  types::append_collection_payload(payload, source.type, header);
  view.put(to, source.type, source.expire_ms, payload);
  return Status::ok();
}

// The reply for a failed carry.
KeyReply carry_failure(const Status& s) {
  return KeyReply::error(server::storage_error(s));
}

bool same_key(const TxnKey& a, const TxnKey& b) { return a.db == b.db && a.key == b.key; }

void rename_generic(CommandContext& ctx, bool only_if_new) {
  const TxnKey keys[] = {{client_db(ctx), ctx.arg(1)}, {client_db(ctx), ctx.arg(2)}};
  write_key_reply(ctx, run_transaction(ctx, keys, [&keys, only_if_new](TxnView& view) {
    if (!view.record(0)) return KeyReply::error(kErrNoSuchKey);
    if (same_key(keys[0], keys[1])) return only_if_new ? KeyReply::number(0) : KeyReply::ok();
    if (only_if_new && view.record(1)) return KeyReply::number(0);
    if (Status s = carry(view, 0, 1); !s) return carry_failure(s);
    view.erase(0);
    return only_if_new ? KeyReply::number(1) : KeyReply::ok();
  }));
}

void rename(CommandContext& ctx) { rename_generic(ctx, false); }
void renamenx(CommandContext& ctx) { rename_generic(ctx, true); }

// A database number argument: an int, then within `databases`; "" when it is both.
std::string_view parse_db(CommandContext& ctx, std::string_view arg, std::uint32_t& out) {
  std::int64_t id = 0;
  if (!resp::parse_int64(arg, &id) || id < INT_MIN || id > INT_MAX) return kErrNotInteger;
  if (id < 0 || id >= ctx.shard.config().databases) return kErrDbIndexOutOfRange;
  out = static_cast<std::uint32_t>(id);
  return {};
}

void copy(CommandContext& ctx) {
  std::uint32_t target_db = client_db(ctx);
  bool replace = false;
  for (std::size_t j = 3; j < ctx.argc(); ++j) {
    if (equals_ignore_case(ctx.arg(j), "replace")) {
      replace = true;
    } else if (equals_ignore_case(ctx.arg(j), "db") && j + 1 < ctx.argc()) {
      if (std::string_view e = parse_db(ctx, ctx.arg(++j), target_db); !e.empty()) {
        ctx.error(e);
        return;
      }
    } else {
      ctx.error(kErrSyntax);
      return;
    }
  }
  const TxnKey keys[] = {{client_db(ctx), ctx.arg(1)}, {target_db, ctx.arg(2)}};
  if (same_key(keys[0], keys[1])) {
    ctx.error(kErrSameObject);
    return;
  }
  write_key_reply(ctx, run_transaction(ctx, keys, [replace](TxnView& view) {
    if (!view.record(0) || (view.record(1) && !replace)) return KeyReply::number(0);
    if (Status s = carry(view, 0, 1); !s) return carry_failure(s);
    return KeyReply::number(1);
  }));
}

void move(CommandContext& ctx) {
  std::uint32_t target_db = 0;
  if (std::string_view e = parse_db(ctx, ctx.arg(2), target_db); !e.empty()) {
    ctx.error(e);
    return;
  }
  if (target_db == client_db(ctx)) {
    ctx.error(kErrSameObject);
    return;
  }
  const TxnKey keys[] = {{client_db(ctx), ctx.arg(1)}, {target_db, ctx.arg(1)}};
  write_key_reply(ctx, run_transaction(ctx, keys, [](TxnView& view) {
    if (!view.record(0) || view.record(1)) return KeyReply::number(0);
    if (Status s = carry(view, 0, 1); !s) return carry_failure(s);
    view.erase(0);
    return KeyReply::number(1);
  }));
}

constexpr KeySpec kRenameKeys[] = {{.flags = kKeyRW | kKeyAccess | kKeyDelete},
                                   {.flags = kKeyOW | kKeyUpdate, .begin_index = 2}};
constexpr KeySpec kRenameNxKeys[] = {{.flags = kKeyRW | kKeyAccess | kKeyDelete},
                                     {.flags = kKeyOW | kKeyInsert, .begin_index = 2}};
constexpr KeySpec kCopyKeys[] = {{.flags = kKeyRO | kKeyAccess},
                                 {.flags = kKeyOW | kKeyUpdate, .begin_index = 2}};
constexpr KeySpec kMoveKeys[] = {{.flags = kKeyRW | kKeyAccess | kKeyUpdate}};

constexpr CommandSpec kCommands[] = {
    {.name = "rename", .arity = 3, .flags = kCmdWrite, .categories = kAclKeyspace,
     .first_key = 1, .last_key = 2, .key_step = 1, .group = "generic", .since = "1.0.0",
     .summary = "Gives a key's value, with its expiry, a new name, replacing what it held",
     .complexity = "O(1)", .key_specs = kRenameKeys, .handler = rename},
    {.name = "renamenx", .arity = 3, .flags = kCmdWrite | kCmdFast, .categories = kAclKeyspace,
     .first_key = 1, .last_key = 2, .key_step = 1, .group = "generic", .since = "1.0.0",
     .summary = "Renames a key only if the new name is free", .complexity = "O(1)",
     .key_specs = kRenameNxKeys, .handler = renamenx},
    {.name = "copy", .arity = -3, .flags = kCmdWrite | kCmdDenyoom, .categories = kAclKeyspace,
     .first_key = 1, .last_key = 2, .key_step = 1, .group = "generic", .since = "6.2.0",
     .summary = "Copies a key's value and expiry to another key, in this or another database",
     .complexity = "O(N) worst case for collections, where N is the number of nested items. "
                   "O(1) for string values.",
     .key_specs = kCopyKeys, .handler = copy},
    {.name = "move", .arity = 3, .flags = kCmdWrite | kCmdFast, .categories = kAclKeyspace,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "generic", .since = "1.0.0",
     .summary = "Moves a key to another database unless it exists there", .complexity = "O(1)",
     .key_specs = kMoveKeys, .handler = move},
};

}  // namespace

std::span<const CommandSpec> key_move_commands() { return kCommands; }

}  // namespace cascade::commands
