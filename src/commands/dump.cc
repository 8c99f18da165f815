// DUMP and RESTORE: a value in Redis's own serialization (types/dump_payload.h), so a
// string dumped by redis-server restores here and the other way round.
//
// RESTORE key ttl payload [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency], checked
// in Redis 7.0's order: the options (syntax, IDLETIME >= 0, FREQ 0..255, IDLETIME and FREQ
// exclusive), then on the key's shard under its lock: BUSYKEY unless REPLACE, the TTL, the
// payload's version and checksum, its format. A TTL of 0 means no expiry; ABSTTL makes it
// a unix time in ms; a TTL already past deletes the key (with REPLACE) and answers OK.
// IDLETIME and FREQ are checked and accepted, and change nothing: cascade tracks neither
// access times nor frequencies (see object.cc). Only strings can be restored: cascade
// stores no other type yet, and says so.
#include "resp/decimal.h"
#include "src/commands/command_families.h"
#include "src/commands/key_command.h"
#include "src/commands/string_access.h"
#include "src/types/dump_payload.h"

namespace cascade::commands {
namespace {

using namespace cascade::server;

void dump(CommandContext& ctx) {
  run_key_command(ctx, ctx.arg(1), [](KeyTarget& t) {
    auto record = t.read();
    if (!record) return storage_failure(t, record.error());
    if (!*record) return KeyReply::null();
    return KeyReply::bulk(types::dump_string((*record)->payload()));
  });
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
  types::DumpedValue restored = types::restore_string(payload);
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
  } else {
    s = lock.put_string(expire, restored.value);
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
  run_key_command(ctx, ctx.arg(1), [&options, ttl, payload](KeyTarget& t) {
    return restore_on_shard(t, options, ttl, payload);
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
