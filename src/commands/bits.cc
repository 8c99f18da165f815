// The bit family on string values: SETBIT GETBIT BITCOUNT BITPOS (BITFIELD is in
// bitfield.cc; the arithmetic in bit_ops.h). A missing key reads as an endless run of zero
// bits; SETBIT grows the string with zero bytes to reach its bit and keeps the key's
// expiry, under the key's lock from read to acknowledged write.
//
// Check order is Redis 7.0's, since clients see which error wins: SETBIT/GETBIT check the
// offset (and SETBIT's bit) before the key; BITPOS checks its bit argument, then the key,
// then the range; BITCOUNT looks the key up before it reads its range (a missing key
// counts 0 whatever the range says), and answers 0 for an inverted negative range before
// it reads the BYTE|BIT word.
#include "resp/decimal.h"
#include "src/commands/bit_ops.h"
#include "src/commands/command_families.h"
#include "src/commands/key_command.h"
#include "src/commands/string_access.h"

namespace cascade::commands {
namespace {

using namespace cascade::server;

// Redis's bit offset: an integer in [0, proto-max-bulk-len * 8).
bool parse_offset(CommandContext& ctx, std::string_view text, std::uint64_t& offset) {
  std::int64_t value = 0;
  if (!resp::parse_int64(text, &value) || value < 0 ||
      (value >> 3) >= ctx.shard.config().proto_max_bulk_len) {
    ctx.error(kErrBitOffset);
    return false;
  }
  offset = static_cast<std::uint64_t>(value);
  return true;
}

void setbit(CommandContext& ctx) {
  std::uint64_t offset = 0;
  if (!parse_offset(ctx, ctx.arg(2), offset)) return;
  std::int64_t bit = 0;
  if (!resp::parse_int64(ctx.arg(3), &bit) || (bit != 0 && bit != 1)) {
    ctx.error(kErrBitValue);
    return;
  }
  run_key_command(ctx, ctx.arg(1), [offset, bit](KeyTarget& t) {
    types::LockedKey lock = t.lock();
    StringRead r = load_string(t, lock);
    if (!r.ok()) return std::move(r.failure);
    std::optional<std::int64_t> expire = r.record ? r.record->expire_ms : std::nullopt;
    std::string value = r.record ? r.record->take_payload() : std::string();
    if (value.size() <= offset >> 3) value.resize((offset >> 3) + 1, '\0');
    const bool old = get_bit(value, offset);
    set_bit(value, offset, bit != 0);
    if (Status s = lock.put_string(expire, value, /*raw_string=*/true); !s) {
      return storage_failure(t, s);
    }
    return KeyReply::number(old ? 1 : 0);
  });
}

void getbit(CommandContext& ctx) {
  std::uint64_t offset = 0;
  if (!parse_offset(ctx, ctx.arg(2), offset)) return;
  run_key_command(ctx, ctx.arg(1), [offset](KeyTarget& t) {
    StringRead r = read_string(t);
    if (!r.ok()) return std::move(r.failure);
    return KeyReply::number(r.record && get_bit(r.record->payload(), offset) ? 1 : 0);
  });
}

// The BYTE|BIT argument at args[i]; nullopt (a syntax error) for anything else.
std::optional<bool> parse_unit(std::string_view text) {
  if (equals_ignore_case(text, "bit")) return true;
  if (equals_ignore_case(text, "byte")) return false;
  return std::nullopt;
}

void bitcount(CommandContext& ctx) {
  const std::span<const std::string_view> args = ctx.args;
  run_key_command(ctx, ctx.arg(1), [args](KeyTarget& t) {
    StringRead r = read_string(t);
    if (!r.ok()) return std::move(r.failure);
    if (!r.record) return KeyReply::number(0);
    const std::string_view value = r.record->payload();
    if (args.size() == 2) return KeyReply::number(count_bits(value, bit_range(value.size(), 0, -1, false)));
    if (args.size() != 4 && args.size() != 5) return KeyReply::error(kErrSyntax);
    std::int64_t start = 0, end = 0;
    if (!resp::parse_int64(args[2], &start) || !resp::parse_int64(args[3], &end)) {
      return KeyReply::error(kErrNotInteger);
    }
    // Redis answers an inverted negative range before it reads the unit.
    if (start < 0 && end < 0 && start > end) return KeyReply::number(0);
    std::optional<bool> in_bits = false;
    if (args.size() == 5 && !(in_bits = parse_unit(args[4]))) return KeyReply::error(kErrSyntax);
    return KeyReply::number(count_bits(value, bit_range(value.size(), start, end, *in_bits)));
  });
}

// BITPOS's answer for an existing string (see bit_ops.h for the range rules).
KeyReply bitpos_in(std::string_view value, bool bit, std::span<const std::string_view> args) {
  if (args.size() > 6) return KeyReply::error(kErrSyntax);
  std::int64_t start = 0, end = -1;
  bool in_bits = false;
  const bool end_given = args.size() >= 5;
  if (args.size() >= 4 && !resp::parse_int64(args[3], &start)) {
    return KeyReply::error(kErrNotInteger);
  }
  if (args.size() == 6) {
    std::optional<bool> unit = parse_unit(args[5]);
    if (!unit) return KeyReply::error(kErrSyntax);
    in_bits = *unit;
  }
  if (end_given && !resp::parse_int64(args[4], &end)) return KeyReply::error(kErrNotInteger);
  const BitRange range = bit_range(value.size(), start, end, in_bits);
  if (range.empty()) return KeyReply::number(-1);
  const std::int64_t found = find_bit(value, bit, range);
  // Looking for a 0 with no end given, the string continues with zeros past its end.
  if (found < 0 && !bit && !end_given) return KeyReply::number(range.last + 1);
  return KeyReply::number(found);
}

void bitpos(CommandContext& ctx) {
  std::int64_t bit = 0;
  if (!resp::parse_int64(ctx.arg(2), &bit)) {
    ctx.error(kErrNotInteger);
    return;
  }
  if (bit != 0 && bit != 1) {
    ctx.error(kErrBitposBit);
    return;
  }
  const std::span<const std::string_view> args = ctx.args;
  run_key_command(ctx, ctx.arg(1), [args, bit](KeyTarget& t) {
    StringRead r = read_string(t);
    if (!r.ok()) return std::move(r.failure);
    if (!r.record) return KeyReply::number(bit ? -1 : 0);
    return bitpos_in(r.record->payload(), bit != 0, args);
  });
}

constexpr KeySpec kReadAccess[] = {{.flags = kKeyRO | kKeyAccess}};
constexpr KeySpec kReadWrite[] = {{.flags = kKeyRW | kKeyAccess | kKeyUpdate}};

constexpr CommandSpec kCommands[] = {
    {.name = "setbit", .arity = 4, .flags = kCmdWrite | kCmdDenyoom, .categories = kAclBitmap,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "bitmap", .since = "2.2.0",
     .summary = "Sets or clears one bit of a string value and returns its old state",
     .complexity = "O(1)", .key_specs = kReadWrite, .handler = setbit},
    {.name = "getbit", .arity = 3, .flags = kCmdReadonly | kCmdFast, .categories = kAclBitmap,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "bitmap", .since = "2.2.0",
     .summary = "Returns one bit of a string value", .complexity = "O(1)",
     .key_specs = kReadAccess, .handler = getbit},
    {.name = "bitcount", .arity = -2, .flags = kCmdReadonly, .categories = kAclBitmap,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "bitmap", .since = "2.6.0",
     .summary = "Counts the set bits of a string value, in a byte or bit range",
     .complexity = "O(N)", .key_specs = kReadAccess, .handler = bitcount},
    {.name = "bitpos", .arity = -3, .flags = kCmdReadonly, .categories = kAclBitmap,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "bitmap", .since = "2.8.7",
     .summary = "Finds the first set or clear bit of a string value, in a byte or bit range",
     .complexity = "O(N)", .key_specs = kReadAccess, .handler = bitpos},
};

}  // namespace

std::span<const CommandSpec> bit_commands() { return kCommands; }

}  // namespace cascade::commands
