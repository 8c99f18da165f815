// BITFIELD and BITFIELD_RO: integer fields of 1-64 bits at any bit offset of a string
// value (bit_ops.h). Every operation is parsed before the key is touched, so a bad one
// fails the whole command with nothing changed; the operations then run in order on one
// copy of the value and, if any of them writes, the value is stored once, under the key's
// lock (atomic as in Redis). A command that writes creates the key, and grows it with zero
// bytes to its farthest written field, even when every write fails under OVERFLOW FAIL, as
// Redis does. Offsets are bits, or, written "#n", n times the field's width.
#include <cstdint>
#include <vector>

#include "resp/decimal.h"
#include "src/commands/bit_ops.h"
#include "src/commands/command_families.h"
#include "src/commands/key_command.h"
#include "src/commands/string_access.h"

namespace cascade::commands {
namespace {

using namespace cascade::server;

struct FieldOp {
  enum class Kind : std::uint8_t { kGet, kSet, kIncrBy };
  Kind kind = Kind::kGet;
  FieldType type;
  std::uint64_t offset = 0;
  std::int64_t value = 0;  // SET's value, INCRBY's increment
  Overflow overflow = Overflow::kWrap;
};

struct FieldProgram {
  std::vector<FieldOp> ops;
  bool writes = false;
  std::uint64_t end_byte = 0;  // one past the farthest byte a write reaches
};

// "n" or "#n" (n fields of the type's width), inside [0, proto-max-bulk-len * 8).
bool parse_field_offset(std::string_view text, int bits, std::int64_t max_bytes,
                        std::uint64_t& out) {
  const bool fields = !text.empty() && text[0] == '#';
  std::int64_t value = 0;
  if (!resp::parse_int64(fields ? text.substr(1) : text, &value)) return false;
  __int128 offset = value;
  if (fields) offset *= bits;
  if (offset < 0 || (offset >> 3) >= max_bytes) return false;
  out = static_cast<std::uint64_t>(offset);
  return true;
}

// Redis's parse loop; the error text or empty.
std::string_view parse_program(CommandContext& ctx, bool readonly, FieldProgram& program) {
  Overflow overflow = Overflow::kWrap;
  const std::int64_t max_bytes = ctx.shard.config().proto_max_bulk_len;
  for (std::size_t j = 2; j < ctx.argc(); ++j) {
    const std::string_view name = ctx.arg(j);
    const std::size_t left = ctx.argc() - j - 1;
    FieldOp op;
    if (equals_ignore_case(name, "get") && left >= 2) {
      op.kind = FieldOp::Kind::kGet;
    } else if (equals_ignore_case(name, "set") && left >= 3) {
      op.kind = FieldOp::Kind::kSet;
    } else if (equals_ignore_case(name, "incrby") && left >= 3) {
      op.kind = FieldOp::Kind::kIncrBy;
    } else if (equals_ignore_case(name, "overflow") && left >= 1) {
      const std::string_view mode = ctx.arg(++j);
      if (equals_ignore_case(mode, "wrap")) overflow = Overflow::kWrap;
      else if (equals_ignore_case(mode, "sat")) overflow = Overflow::kSat;
      else if (equals_ignore_case(mode, "fail")) overflow = Overflow::kFail;
      else return kErrBitfieldOverflow;
      continue;
    } else {
      return kErrSyntax;
    }
    std::optional<FieldType> type = parse_field_type(ctx.arg(j + 1));
    if (!type) return kErrBitfieldType;
    op.type = *type;
    if (!parse_field_offset(ctx.arg(j + 2), type->bits, max_bytes, op.offset)) {
      return kErrBitOffset;
    }
    op.overflow = overflow;
    if (op.kind != FieldOp::Kind::kGet) {
      if (!resp::parse_int64(ctx.arg(j + 3), &op.value)) return kErrNotInteger;
      program.writes = true;
      program.end_byte = std::max(program.end_byte, (op.offset + type->bits - 1) / 8 + 1);
    }
    j += op.kind == FieldOp::Kind::kGet ? 2 : 3;
    program.ops.push_back(op);
  }
  // Only once every operation parsed, as Redis checks it.
  if (readonly && program.writes) return kErrBitfieldReadonly;
  return {};
}

// Runs the program on `value`; one reply entry per operation (nullopt: a failed write).
void run_program(const FieldProgram& program, std::string& value,
                 std::vector<std::optional<std::int64_t>>& out) {
  for (const FieldOp& op : program.ops) {
    const std::int64_t old = read_field(value, op.offset, op.type);
    if (op.kind == FieldOp::Kind::kGet) {
      out.emplace_back(old);
      continue;
    }
    // SET of an unsigned field takes the value as Redis does: its 64 bits unsigned.
    __int128 wanted = op.value;
    if (op.kind == FieldOp::Kind::kIncrBy) {
      wanted = __int128{old} + op.value;
    } else if (!op.type.is_signed) {
      wanted = static_cast<std::uint64_t>(op.value);
    } else if (op.type.bits < 64 && op.overflow == Overflow::kSat) {
      // Redis tests a signed SET against its maximum as `0 > max - value` in 64-bit
      // arithmetic, which wraps for a value within `max` of INT64_MIN: such a value
      // saturates to the field's maximum there, not its minimum. Its behaviour is the
      // reference (FAIL and WRAP come out the same either way).
      const std::int64_t max = (std::int64_t{1} << (op.type.bits - 1)) - 1;
      if (op.value <= INT64_MIN + max) wanted = __int128{max} + 1;
    }
    std::optional<std::int64_t> stored = fit_field(op.type, wanted, op.overflow);
    if (stored) write_field(value, op.offset, op.type, *stored);
    if (op.kind == FieldOp::Kind::kSet) {
      out.push_back(stored ? std::optional<std::int64_t>(old) : std::nullopt);
    } else {
      out.push_back(stored);
    }
  }
}

KeyReply bitfield_on_shard(KeyTarget& t, const FieldProgram& program,
                           std::vector<std::optional<std::int64_t>>& out) {
  if (!program.writes) {
    StringRead r = read_string(t);
    if (!r.ok()) return std::move(r.failure);
    std::string value = r.record ? r.record->take_payload() : std::string();
    run_program(program, value, out);
    return KeyReply::ok();
  }
  types::LockedKey lock = t.lock();
  StringRead r = load_string(t, lock);
  if (!r.ok()) return std::move(r.failure);
  std::optional<std::int64_t> expire = r.record ? r.record->expire_ms : std::nullopt;
  std::string value = r.record ? r.record->take_payload() : std::string();
  if (value.size() < program.end_byte) value.resize(program.end_byte, '\0');
  run_program(program, value, out);
  if (Status s = lock.put_string(expire, value, /*raw_string=*/true); !s) {
    return storage_failure(t, s);
  }
  return KeyReply::ok();
}

void bitfield_generic(CommandContext& ctx, bool readonly) {
  FieldProgram program;
  if (std::string_view error = parse_program(ctx, readonly, program); !error.empty()) {
    ctx.error(error);
    return;
  }
  // The body fills `results` on the key's shard while this fiber waits for it.
  std::vector<std::optional<std::int64_t>> results;
  KeyReply reply = call_on_key_shard(ctx, ctx.arg(1), [&program, &results](KeyTarget& t) {
    return bitfield_on_shard(t, program, results);
  });
  if (reply.kind == KeyReply::Kind::kError) {
    write_key_reply(ctx, std::move(reply));
    return;
  }
  ctx.reply.array(results.size());
  for (const std::optional<std::int64_t>& result : results) {
    if (result) {
      ctx.reply.integer(*result);
    } else {
      ctx.reply.null();
    }
  }
}

void bitfield(CommandContext& ctx) { bitfield_generic(ctx, false); }
void bitfield_ro(CommandContext& ctx) { bitfield_generic(ctx, true); }

constexpr KeySpec kReadWrite[] = {
    {.flags = kKeyRW | kKeyAccess | kKeyUpdate | kKeyVariableFlags}};
constexpr KeySpec kReadAccess[] = {{.flags = kKeyRO | kKeyAccess}};

constexpr CommandSpec kCommands[] = {
    {.name = "bitfield", .arity = -2, .flags = kCmdWrite | kCmdDenyoom,
     .categories = kAclBitmap, .first_key = 1, .last_key = 1, .key_step = 1, .group = "bitmap",
     .since = "3.2.0",
     .summary = "Reads, writes and increments integer fields of any width in a string value",
     .complexity = "O(1) for each subcommand specified", .key_specs = kReadWrite,
     .handler = bitfield},
    {.name = "bitfield_ro", .arity = -2, .flags = kCmdReadonly | kCmdFast,
     .categories = kAclBitmap, .first_key = 1, .last_key = 1, .key_step = 1, .group = "bitmap",
     .since = "6.0.0", .summary = "Reads integer fields of a string value (BITFIELD's GET only)",
     .complexity = "O(1) for each subcommand specified", .key_specs = kReadAccess,
     .handler = bitfield_ro},
};

}  // namespace

std::span<const CommandSpec> bitfield_commands() { return kCommands; }

}  // namespace cascade::commands
