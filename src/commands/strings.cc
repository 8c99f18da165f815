// The string family, reading and writing whole values: GET SET SETNX SETEX PSETEX GETSET
// GETDEL GETEX APPEND STRLEN GETRANGE SUBSTR SETRANGE (the counters are in counters.cc).
//
// A string is one metadata record with its value inline (src/types/key_record.h). Every
// command runs on the key's shard (key_command.h); those that write hold the key's lock
// from their read to their write's acknowledgement (types::LockedKey), so two commands on
// one key never interleave even though engine calls suspend. Checks come in Redis's order
// (syntax, then the expiry argument or the key's type, as each command does), since
// clients see which error wins. A write keeps the key's expiry where Redis does (APPEND,
// SETRANGE, the counters) and clears it where Redis does (SET without KEEPTTL, GETSET).
#include <climits>
#include <optional>
#include <string>

#include "resp/decimal.h"
#include "src/commands/command_families.h"
#include "src/commands/expiry_options.h"
#include "src/commands/key_command.h"
#include "src/commands/string_access.h"

namespace cascade::commands {
namespace {

using namespace cascade::server;
using types::KeyType;
using types::StoredRecord;

// ---- GET STRLEN GETRANGE -------------------------------------------------------------

// GET and SET declare key handlers, so pipelines batch them (key_batch.h).
KeyReply get(KeyTarget& t, const KeyCall&) {
  StringRead r = read_string(t);
  if (!r.ok()) return std::move(r.failure);
  return r.record ? KeyReply::bulk(r.record->take_payload()) : KeyReply::null();
}

void strlen_command(CommandContext& ctx) {
  run_key_command(ctx, ctx.arg(1), [](KeyTarget& t) {
    StringRead r = read_string(t);
    if (!r.ok()) return std::move(r.failure);
    return KeyReply::number(r.record ? static_cast<std::int64_t>(r.record->payload().size()) : 0);
  });
}

// Redis's GETRANGE index rules: negative indexes count from the end, both are clamped,
// and an empty range (or two negative indexes in the wrong order) is an empty string.
std::string_view substring(std::string_view s, std::int64_t start, std::int64_t end) {
  const auto length = static_cast<std::int64_t>(s.size());
  if (start < 0 && end < 0 && start > end) return {};
  if (start < 0) start += length;
  if (end < 0) end += length;
  if (start < 0) start = 0;
  if (end < 0) end = 0;
  if (end >= length) end = length - 1;
  if (start > end || length == 0) return {};
  return s.substr(static_cast<std::size_t>(start), static_cast<std::size_t>(end - start + 1));
}

void getrange(CommandContext& ctx) {
  std::int64_t start = 0, end = 0;
  if (!resp::parse_int64(ctx.arg(2), &start) || !resp::parse_int64(ctx.arg(3), &end)) {
    ctx.error(kErrNotInteger);
    return;
  }
  run_key_command(ctx, ctx.arg(1), [start, end](KeyTarget& t) {
    StringRead r = read_string(t);
    if (!r.ok()) return std::move(r.failure);
    if (!r.record) return KeyReply::bulk({});
    return KeyReply::bulk(std::string(substring(r.record->payload(), start, end)));
  });
}

// ---- SET and its variants ------------------------------------------------------------

struct SetRequest {
  std::string_view value;
  std::uint32_t flags = 0;  // ExpiryFlag
  std::optional<std::int64_t> expire_ms = std::nullopt;
  KeyReply done = KeyReply::ok();         // the reply when the value was set
  KeyReply aborted = KeyReply::null();    // the reply when NX/XX said no
};

// Redis's setGenericCommand on the key's shard. Without NX, XX, GET or KEEPTTL the old
// record does not matter (a SET replaces any value of any type), so it is not read: a plain
// SET costs one engine write, no get. (Redis would count an expired record it replaces in
// expired_keys; here active expiry or compaction never sees that record, so it is not.)
// Such a SET is a blind write (types::KeyLocks): it does not hold the key's lock while its
// write waits for the WAL. Inside EXEC (t.txn) the write is staged like any other.
KeyReply set_value(KeyTarget& t, const SetRequest& request) {
  if (t.txn == nullptr && !(request.flags & (kOptNx | kOptXx | kOptGet | kOptKeepTtl))) {
    const types::Keyspace::StringPut put{t.key, request.value, request.expire_ms};
    if (Status s = t.keyspace.put_strings(t.db, std::span(&put, 1), t.sync); !s) {
      return storage_failure(t, s);
    }
    return request.done;
  }
  types::LockedKey lock = t.lock();
  auto loaded = lock.load(t.now_ms);
  if (!loaded) return storage_failure(t, loaded.error());
  std::optional<StoredRecord>& old = *loaded;
  const bool want_old = (request.flags & kOptGet) != 0;
  if (want_old && old && old->type != KeyType::kString) return KeyReply::error(kErrWrongType);
  KeyReply old_value = old ? KeyReply::bulk(std::string(old->payload())) : KeyReply::null();
  if (((request.flags & kOptNx) && old) || ((request.flags & kOptXx) && !old)) {
    return want_old ? std::move(old_value) : request.aborted;
  }
  std::optional<std::int64_t> expire = request.expire_ms;
  if ((request.flags & kOptKeepTtl) && old) expire = old->expire_ms;
  if (Status s = lock.put_string(expire, request.value); !s) return storage_failure(t, s);
  return want_old ? std::move(old_value) : request.done;
}

// Resolves the expiry argument of `options` into request.expire_ms; false after replying
// with the error.
bool resolve_expiry(CommandContext& ctx, const ExpiryOptions& options, SetRequest& request) {
  if (!(options.flags & kOptAnyExpiry)) return true;
  std::int64_t when = 0;
  switch (absolute_expire_ms(options, unix_time_ms(), &when)) {
    case ExpireCheck::kOk: request.expire_ms = when; return true;
    case ExpireCheck::kNotInteger: ctx.error(kErrNotInteger); return false;
    case ExpireCheck::kInvalid: ctx.error(invalid_expire_text(ctx.command.name)); return false;
  }
  return false;
}

void run_set(CommandContext& ctx, std::string_view key, SetRequest& request) {
  run_key_command(ctx, key, [&request](KeyTarget& t) { return set_value(t, request); });
}

// SET key value [options], wholly on the key's shard (its clock resolves the expiry).
KeyReply set(KeyTarget& t, const KeyCall& call) {
  ExpiryOptions options;
  if (!parse_expiry_options(call.args, 3, OptionsOf::kSet, options)) {
    return KeyReply::error(kErrSyntax);
  }
  SetRequest request{.value = call.args[2], .flags = options.flags};
  if (options.flags & kOptAnyExpiry) {
    std::int64_t when = 0;
    switch (absolute_expire_ms(options, t.now_ms, &when)) {
      case ExpireCheck::kOk: request.expire_ms = when; break;
      case ExpireCheck::kNotInteger: return KeyReply::error(kErrNotInteger);
      case ExpireCheck::kInvalid: return KeyReply::error(invalid_expire_text(call.command.name));
    }
  }
  return set_value(t, request);
}

// SET key value: no option, so a plain overwrite (key_batch.h).
bool set_is_plain_overwrite(std::span<const std::string_view> args) { return args.size() == 3; }

void setnx(CommandContext& ctx) {
  SetRequest request{.value = ctx.arg(2), .flags = kOptNx, .done = KeyReply::number(1),
                     .aborted = KeyReply::number(0)};
  run_set(ctx, ctx.arg(1), request);
}

// SETEX key seconds value / PSETEX key milliseconds value.
void set_with_expiry(CommandContext& ctx, std::uint32_t unit_flag) {
  ExpiryOptions options{.flags = unit_flag, .expire_arg = ctx.arg(2)};
  SetRequest request{.value = ctx.arg(3), .flags = unit_flag};
  if (!resolve_expiry(ctx, options, request)) return;
  run_set(ctx, ctx.arg(1), request);
}
void setex(CommandContext& ctx) { set_with_expiry(ctx, kOptEx); }
void psetex(CommandContext& ctx) { set_with_expiry(ctx, kOptPx); }

void getset(CommandContext& ctx) {
  SetRequest request{.value = ctx.arg(2), .flags = kOptGet};
  run_set(ctx, ctx.arg(1), request);
}

// ---- GETDEL GETEX --------------------------------------------------------------------

void getdel(CommandContext& ctx) {
  run_key_command(ctx, ctx.arg(1), [](KeyTarget& t) {
    types::LockedKey lock = t.lock();
    StringRead r = load_string(t, lock);
    if (!r.ok()) return std::move(r.failure);
    if (!r.record) return KeyReply::null();
    if (Status s = lock.erase(); !s) return storage_failure(t, s);
    return KeyReply::bulk(r.record->take_payload());
  });
}

// After the value is known: the new expiry GETEX asks for, applied.
KeyReply getex_apply(KeyTarget& t, types::LockedKey& lock, StoredRecord& record,
                     const ExpiryOptions& options, std::string_view command) {
  std::optional<std::int64_t> when;
  if (options.flags & kOptAnyExpiry) {
    std::int64_t ms = 0;
    switch (absolute_expire_ms(options, t.now_ms, &ms)) {
      case ExpireCheck::kOk: when = ms; break;
      case ExpireCheck::kNotInteger: return KeyReply::error(kErrNotInteger);
      case ExpireCheck::kInvalid: return KeyReply::error(invalid_expire_text(command));
    }
  }
  Status s;
  if (when && *when <= t.now_ms) {
    s = lock.erase();  // EXAT/PXAT in the past
  } else if (when) {
    s = lock.set_expiry(record, when);
  } else if ((options.flags & kOptPersist) && record.expire_ms) {
    s = lock.set_expiry(record, std::nullopt);
  }
  if (!s) return storage_failure(t, s);
  return KeyReply::bulk(record.take_payload());
}

void getex(CommandContext& ctx) {
  ExpiryOptions options;
  if (!parse_expiry_options(ctx.args, 2, OptionsOf::kGetex, options)) {
    ctx.error(kErrSyntax);
    return;
  }
  const std::string_view command = ctx.command.name;
  run_key_command(ctx, ctx.arg(1), [&options, command](KeyTarget& t) {
    types::LockedKey lock = t.lock();
    StringRead r = load_string(t, lock);
    if (!r.ok()) return std::move(r.failure);
    if (!r.record) return KeyReply::null();
    return getex_apply(t, lock, *r.record, options, command);
  });
}

// ---- APPEND SETRANGE -----------------------------------------------------------------

// Does a string of `length` bytes (or an overflowing size) pass proto-max-bulk-len?
bool too_long(const KeyTarget& t, std::uint64_t length) {
  return length > static_cast<std::uint64_t>(t.proto_max_bulk_len);
}

void append(CommandContext& ctx) {
  const std::string_view tail = ctx.arg(2);
  run_key_command(ctx, ctx.arg(1), [tail](KeyTarget& t) {
    types::LockedKey lock = t.lock();
    StringRead r = load_string(t, lock);
    if (!r.ok()) return std::move(r.failure);
    std::string value;
    std::optional<std::int64_t> expire;
    if (r.record) {
      if (too_long(t, r.record->payload().size() + tail.size())) {
        return KeyReply::error(kErrStringTooLong);
      }
      expire = r.record->expire_ms;
      value = r.record->take_payload();
    }
    value.append(tail);
    // Redis stores a value it appended to "raw"; a new key's value by its content.
    const bool raw = r.record.has_value();
    if (Status s = lock.put_string(expire, value, raw); !s) return storage_failure(t, s);
    return KeyReply::number(static_cast<std::int64_t>(value.size()));
  });
}

void setrange(CommandContext& ctx) {
  std::int64_t offset = 0;
  if (!resp::parse_int64(ctx.arg(2), &offset)) {
    ctx.error(kErrNotInteger);
    return;
  }
  if (offset < 0) {
    ctx.error(kErrOffsetOutOfRange);
    return;
  }
  const std::string_view patch = ctx.arg(3);
  run_key_command(ctx, ctx.arg(1), [offset, patch](KeyTarget& t) {
    types::LockedKey lock = t.lock();
    StringRead r = load_string(t, lock);
    if (!r.ok()) return std::move(r.failure);
    if (patch.empty()) {
      return KeyReply::number(r.record ? static_cast<std::int64_t>(r.record->payload().size()) : 0);
    }
    const std::uint64_t end = static_cast<std::uint64_t>(offset) + patch.size();
    if (too_long(t, end)) return KeyReply::error(kErrStringTooLong);
    std::optional<std::int64_t> expire = r.record ? r.record->expire_ms : std::nullopt;
    std::string value = r.record ? r.record->take_payload() : std::string();
    if (value.size() < end) value.resize(end, '\0');
    value.replace(static_cast<std::size_t>(offset), patch.size(), patch);
    if (Status s = lock.put_string(expire, value, /*raw_string=*/true); !s) {
      return storage_failure(t, s);
    }
    return KeyReply::number(static_cast<std::int64_t>(value.size()));
  });
}

// ---- the table -----------------------------------------------------------------------

constexpr KeySpec kRead[] = {{.flags = kKeyRO | kKeyAccess}};
constexpr KeySpec kReadLength[] = {{.flags = kKeyRO}};
constexpr KeySpec kSetSpec[] = {
    {.flags = kKeyRW | kKeyAccess | kKeyUpdate | kKeyVariableFlags}};
constexpr KeySpec kOverwrite[] = {{.flags = kKeyOW | kKeyUpdate}};
constexpr KeySpec kInsertIfMissing[] = {{.flags = kKeyOW | kKeyInsert}};
constexpr KeySpec kReadUpdate[] = {{.flags = kKeyRW | kKeyAccess | kKeyUpdate}};
constexpr KeySpec kReadDelete[] = {{.flags = kKeyRW | kKeyAccess | kKeyDelete}};
constexpr KeySpec kInsert[] = {{.flags = kKeyRW | kKeyInsert}};
constexpr KeySpec kUpdate[] = {{.flags = kKeyRW | kKeyUpdate}};

constexpr CommandSpec kCommands[] = {
    {.name = "get", .arity = 2, .flags = kCmdReadonly | kCmdFast, .categories = kAclString,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "string", .since = "1.0.0",
     .summary = "Returns the string value of a key", .complexity = "O(1)",
     .key_specs = kRead, .handler = run_key_handler, .key_handler = get},
    {.name = "set", .arity = -3, .flags = kCmdWrite | kCmdDenyoom, .categories = kAclString,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "string", .since = "1.0.0",
     .summary = "Stores a string value, with conditions (NX, XX), an expiry and the old value "
                "on request",
     .complexity = "O(1)", .key_specs = kSetSpec, .handler = run_key_handler,
     .key_handler = set, .plain_overwrite = set_is_plain_overwrite},
    {.name = "setnx", .arity = 3, .flags = kCmdWrite | kCmdDenyoom | kCmdFast,
     .categories = kAclString, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "string", .since = "1.0.0",
     .summary = "Stores a string value only if the key does not exist", .complexity = "O(1)",
     .key_specs = kInsertIfMissing, .handler = setnx},
    {.name = "setex", .arity = 4, .flags = kCmdWrite | kCmdDenyoom, .categories = kAclString,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "string", .since = "2.0.0",
     .summary = "Stores a string value that expires after a number of seconds",
     .complexity = "O(1)", .key_specs = kOverwrite, .handler = setex},
    {.name = "psetex", .arity = 4, .flags = kCmdWrite | kCmdDenyoom, .categories = kAclString,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "string", .since = "2.6.0",
     .summary = "Stores a string value that expires after a number of milliseconds",
     .complexity = "O(1)", .key_specs = kOverwrite, .handler = psetex},
    {.name = "getset", .arity = 3, .flags = kCmdWrite | kCmdDenyoom | kCmdFast,
     .categories = kAclString, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "string", .since = "1.0.0",
     .summary = "Stores a string value and returns the one it replaced", .complexity = "O(1)",
     .key_specs = kReadUpdate, .handler = getset},
    {.name = "getdel", .arity = 2, .flags = kCmdWrite | kCmdFast, .categories = kAclString,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "string", .since = "6.2.0",
     .summary = "Returns a string value and deletes its key", .complexity = "O(1)",
     .key_specs = kReadDelete, .handler = getdel},
    {.name = "getex", .arity = -2, .flags = kCmdWrite | kCmdFast, .categories = kAclString,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "string", .since = "6.2.0",
     .summary = "Returns a string value and changes or removes its expiry",
     .complexity = "O(1)", .key_specs = kReadUpdate, .handler = getex},
    {.name = "append", .arity = 3, .flags = kCmdWrite | kCmdDenyoom | kCmdFast,
     .categories = kAclString, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "string", .since = "2.0.0",
     .summary = "Adds bytes at the end of a string value, creating it if needed",
     .complexity = "O(1) amortized", .key_specs = kInsert, .handler = append},
    {.name = "strlen", .arity = 2, .flags = kCmdReadonly | kCmdFast, .categories = kAclString,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "string", .since = "2.2.0",
     .summary = "Returns the length of a string value", .complexity = "O(1)",
     .key_specs = kReadLength, .handler = strlen_command},
    {.name = "getrange", .arity = 4, .flags = kCmdReadonly, .categories = kAclString,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "string", .since = "2.4.0",
     .summary = "Returns the bytes of a string value between two indexes",
     .complexity = "O(N) where N is the length of the returned string", .key_specs = kRead,
     .handler = getrange},
    {.name = "substr", .arity = 4, .flags = kCmdReadonly, .categories = kAclString,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "string", .since = "1.0.0",
     .summary = "The old name of GETRANGE",
     .complexity = "O(N) where N is the length of the returned string", .key_specs = kRead,
     .handler = getrange},
    {.name = "setrange", .arity = 4, .flags = kCmdWrite | kCmdDenyoom, .categories = kAclString,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "string", .since = "2.2.0",
     .summary = "Overwrites part of a string value at an offset, padding with zero bytes",
     .complexity = "O(1), not counting the time taken to copy the new string",
     .key_specs = kUpdate, .handler = setrange},
};

}  // namespace

std::span<const CommandSpec> string_commands() { return kCommands; }

}  // namespace cascade::commands
