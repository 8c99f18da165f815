// DUMP and RESTORE: a value in Redis's own serialization (types/dump_payload.h), so a
// string dumped by redis-server restores here and the other way round.
//
// RESTORE key ttl payload [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency], checked
// in Redis 7.0's order: the options (syntax, IDLETIME >= 0, FREQ 0..255, IDLETIME and FREQ
// exclusive), then on the key's shard under its lock: BUSYKEY unless REPLACE, the TTL, the
// payload's version and checksum, its format. A TTL of 0 means no expiry; ABSTTL makes it
// a unix time in ms; a TTL already past deletes the key (with REPLACE) and answers OK.
// IDLETIME and FREQ are checked and accepted, and change nothing: cascade tracks neither
// access times nor frequencies (see object.cc).
//
// Collections: DUMP walks the collection's members (through CollectionRead, so it holds no
// lock and sees one consistent engine state per step) into the plain RDB types; RESTORE
// decodes the whole payload first (a bad one changes nothing), then writes a fresh version
// of the key, every member and the metadata record in one engine batch under the key's lock.
#include "resp/decimal.h"
#include "src/commands/blocking.h"
#include "src/commands/command_families.h"
#include "src/commands/collection_access.h"
#include "src/commands/key_command.h"
#include "src/commands/string_access.h"
#include "src/types/dump_payload.h"
#include "src/types/zset.h"

namespace cascade::commands {
namespace {

using namespace cascade::server;

// Walks a collection's members into a payload; the walk must find exactly the header's
// member count, or the collection is corrupt.
KeyReply dump_collection(CollectionRead& r, types::KeyType type) {
  types::Collection& c = r.coll();
  types::DumpWriter writer(type, c.size());
  const std::size_t skip = c.prefix().size();
  std::uint64_t seen = 0;
  // A zset is dumped from its by-member entries (member -> score).
  types::StagedWrites::Cursor cursor =
      type == types::KeyType::kZSet ? c.cursor(std::string_view(&types::kZSetMemberTag, 1))
                                    : c.cursor();
  for (cursor.seek_to_first(); cursor.valid(); cursor.next(), ++seen) {
    const std::string_view suffix = cursor.key().substr(skip);
    switch (type) {
      case types::KeyType::kHash:
        writer.add(suffix);
        writer.add(cursor.value());
        break;
      case types::KeyType::kSet: writer.add(suffix); break;
      case types::KeyType::kList: writer.add(cursor.value()); break;
      case types::KeyType::kZSet: {
        Result<double> score = types::decode_score_value(cursor.value());
        if (!score) return r.storage_error(score.error());
        writer.add(suffix.substr(1));
        writer.add_score(*score);
        break;
      }
      case types::KeyType::kString: break;
    }
  }
  if (!cursor.status()) return r.storage_error(cursor.status());
  if (seen != c.size()) {
    return r.storage_error(Status::corruption("collection holds " + std::to_string(seen) +
                                              " members, its metadata says " +
                                              std::to_string(c.size())));
  }
  return KeyReply::bulk(writer.finish());
}

void dump(CommandContext& ctx) {
  run_key_command(ctx, ctx.arg(1), [](KeyTarget& t) {
    auto record = t.read();
    if (!record) return storage_failure(t, record.error());
    if (!*record) return KeyReply::null();
    const types::KeyType type = (*record)->type;
    if (type == types::KeyType::kString) {
      return KeyReply::bulk(types::dump_string((*record)->payload()));
    }
    CollectionRead r(t, type);
    if (!r.ok()) return std::move(r.failure);
    if (!r.exists()) return KeyReply::null();  // deleted between the two reads
    return dump_collection(r, type);
  });
}

// Stages a restored collection as a new version of the key (replacing whatever it held).
Status stage_collection(KeyTarget& t, types::LockedKey& lock, types::DumpedObject& object,
                        std::optional<std::int64_t> expire) {
  Result<types::Collection> opened = types::Collection::open(
      lock.writes(), lock.db_id(), t.key, object.type, std::nullopt);
  if (!opened) return opened.error();
  types::Collection& c = *opened;
  c.create(lock.keyspace().new_version(t.now_ms));
  c.set_expire_ms(expire);
  types::CollectionHeader& header = c.header();
  std::string suffix;
  switch (object.type) {
    case types::KeyType::kHash:
      for (const auto& [field, value] : object.pairs) c.put(field, value);
      header.size = object.pairs.size();
      break;
    case types::KeyType::kSet:
      for (const std::string& member : object.items) c.put(member, {});
      header.size = object.items.size();
      break;
    case types::KeyType::kList:
      for (const std::string& element : object.items) {
        suffix.clear();
        types::append_u64_be(suffix, header.tail++);
        c.put(suffix, element);
      }
      header.size = object.items.size();
      break;
    case types::KeyType::kZSet:
      for (const auto& [member, score] : object.scored) {
        std::string value;
        types::append_score_value(value, score);
        suffix.assign(1, types::kZSetMemberTag);
        suffix.append(member);
        c.put(suffix, value);
        suffix.assign(1, types::kZSetScoreTag);
        types::append_score_key(suffix, score);
        suffix.append(member);
        c.put(suffix, {});
      }
      // No rank index: it is built by the first rank query far from the ends (types/zset.h).
      header.size = object.scored.size();
      break;
    case types::KeyType::kString: break;
  }
  c.finish();
  return Status::ok();
}

struct RestoreOptions {
  bool replace = false;
  bool absolute = false;
};

// The option loop; the error text or empty.
std::string_view parse_restore_options(CommandContext& ctx, RestoreOptions& options) {
  bool idletime = false, freq = false;
  for (std::size_t j = 4; j < ctx.argc(); ++j) {
    const std::string_view name = ctx.arg(j);
    const bool has_value = j + 1 < ctx.argc();
    std::int64_t value = 0;
    if (equals_ignore_case(name, "replace")) {
      options.replace = true;
    } else if (equals_ignore_case(name, "absttl")) {
      options.absolute = true;
    } else if (equals_ignore_case(name, "idletime") && has_value && !freq) {
      if (!resp::parse_int64(ctx.arg(++j), &value)) return kErrNotInteger;
      if (value < 0) return kErrBadIdletime;
      idletime = true;
    } else if (equals_ignore_case(name, "freq") && has_value && !idletime) {
      if (!resp::parse_int64(ctx.arg(++j), &value)) return kErrNotInteger;
      if (value < 0 || value > 255) return kErrBadFreq;
      freq = true;
    } else {
      return kErrSyntax;
    }
  }
  return {};
}

KeyReply restore_on_shard(KeyTarget& t, const RestoreOptions& options,
                          std::string_view ttl_text, std::string_view payload) {
  types::LockedKey lock = t.lock();
  auto loaded = lock.load(t.now_ms);
  if (!loaded) return storage_failure(t, loaded.error());
  if (*loaded && !options.replace) return KeyReply::error(kErrBusyKey);
  std::int64_t ttl = 0;
  if (!resp::parse_int64(ttl_text, &ttl)) return KeyReply::error(kErrNotInteger);
  if (ttl < 0) return KeyReply::error(kErrBadTtl);
  types::DumpedObject restored = types::restore_object(payload);
  switch (restored.check) {
    case types::DumpCheck::kOk: break;
    case types::DumpCheck::kBadVersionOrChecksum: return KeyReply::error(kErrBadDumpPayload);
    case types::DumpCheck::kBadFormat: return KeyReply::error(kErrBadDataFormat);
    case types::DumpCheck::kUnsupportedType: return KeyReply::error(kErrDumpTypeUnsupported);
  }
  std::optional<std::int64_t> expire;
  if (ttl != 0) expire = options.absolute ? ttl : t.now_ms + ttl;
  Status s;
  if (expire && *expire <= t.now_ms) {
    if (*loaded) s = lock.erase();
  } else if (restored.type == types::KeyType::kString) {
    s = lock.put_string(expire, restored.value);
  } else {
    s = stage_collection(t, lock, restored, expire);
    if (s) s = lock.commit();
  }
  if (!s) return storage_failure(t, s);
  return KeyReply::ok();
}

void restore(CommandContext& ctx) {
  RestoreOptions options;
  if (std::string_view error = parse_restore_options(ctx, options); !error.empty()) {
    ctx.error(error);
    return;
  }
  const std::string_view ttl = ctx.arg(2), payload = ctx.arg(3);
  run_key_command(ctx, ctx.arg(1), [&ctx, &options, ttl, payload](KeyTarget& t) {
    KeyReply reply = restore_on_shard(t, options, ttl, payload);
    // A restored list or sorted set may end a blocked client's wait, as Redis signals every
    // key RESTORE creates (a restored string only costs a waiter a try).
    if (!reply.is_error()) wake_blocked_here(ctx.server, t);
    return reply;
  });
}

constexpr KeySpec kDumpKey[] = {{.flags = kKeyRO | kKeyAccess}};
constexpr KeySpec kRestoreKey[] = {{.flags = kKeyOW | kKeyUpdate}};
constexpr std::string_view kDumpTips[] = {"nondeterministic_output"};

constexpr CommandSpec kCommands[] = {
    {.name = "dump", .arity = 2, .flags = kCmdReadonly, .categories = kAclKeyspace,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "generic", .since = "2.6.0",
     .summary = "Serializes a key's value in Redis's DUMP format",
     .complexity = "O(1) to access the key and O(N*M) to serialize it", .tips = kDumpTips,
     .key_specs = kDumpKey, .handler = dump},
    {.name = "restore", .arity = -4, .flags = kCmdWrite | kCmdDenyoom,
     .categories = kAclKeyspace | kAclDangerous, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "generic", .since = "2.6.0",
     .summary = "Creates a key from a value serialized by DUMP",
     .complexity = "O(1) to create the new key and O(N*M) to reconstruct the serialized value",
     .key_specs = kRestoreKey, .handler = restore},
};

}  // namespace

std::span<const CommandSpec> dump_commands() { return kCommands; }

}  // namespace cascade::commands
