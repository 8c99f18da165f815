// The string counters: INCR DECR INCRBY DECRBY INCRBYFLOAT. The value is a string holding a
// number (number_text.h: Redis's exact parsing and formatting); a missing key counts as 0.
// Each runs under the key's lock from read to acknowledged write, and keeps the key's
// expiry, as Redis does.
//
// Check order, as Redis's: INCRBY/DECRBY read their increment before the key; INCRBYFLOAT
// reads the key's type and value first, then the increment (the same error either way).
#include <climits>
#include <cmath>

#include "resp/decimal.h"
#include "src/commands/command_families.h"
#include "src/commands/key_command.h"
#include "src/commands/number_text.h"
#include "src/commands/string_access.h"

namespace cascade::commands {
namespace {

using namespace cascade::server;

bool add_overflows(std::int64_t value, std::int64_t increment) {
  return (increment < 0 && value < 0 && increment < LLONG_MIN - value) ||
         (increment > 0 && value > 0 && increment > LLONG_MAX - value);
}

KeyReply add_integer(KeyTarget& t, std::int64_t increment) {
  types::LockedKey lock = t.lock();
  StringRead r = load_string(t, lock);
  if (!r.ok()) return std::move(r.failure);
  std::int64_t value = 0;
  if (r.record && !resp::parse_int64(r.record->payload(), &value)) {
    return KeyReply::error(kErrNotInteger);
  }
  if (add_overflows(value, increment)) return KeyReply::error(kErrIncrOverflow);
  value += increment;
  char digits[resp::kMaxInt64Chars];
  const std::size_t length = resp::format_int64(value, digits);
  Status s = lock.put_string(r.record ? r.record->expire_ms : std::nullopt,
                             std::string_view(digits, length));
  if (!s) return storage_failure(t, s);
  return KeyReply::number(value);
}

void run_add(CommandContext& ctx, std::int64_t increment) {
  run_key_command(ctx, ctx.arg(1),
                  [increment](KeyTarget& t) { return add_integer(t, increment); });
}

void incr(CommandContext& ctx) { run_add(ctx, 1); }
void decr(CommandContext& ctx) { run_add(ctx, -1); }

void incrby(CommandContext& ctx) {
  std::int64_t increment = 0;
  if (!resp::parse_int64(ctx.arg(2), &increment)) {
    ctx.error(kErrNotInteger);
    return;
  }
  run_add(ctx, increment);
}

void decrby(CommandContext& ctx) {
  std::int64_t decrement = 0;
  if (!resp::parse_int64(ctx.arg(2), &decrement)) {
    ctx.error(kErrNotInteger);
    return;
  }
  if (decrement == LLONG_MIN) {  // its negation does not exist
    ctx.error(kErrDecrOverflow);
    return;
  }
  run_add(ctx, -decrement);
}

void incrbyfloat(CommandContext& ctx) {
  const std::string_view increment_text = ctx.arg(2);
  run_key_command(ctx, ctx.arg(1), [increment_text](KeyTarget& t) {
    types::LockedKey lock = t.lock();
    StringRead r = load_string(t, lock);
    if (!r.ok()) return std::move(r.failure);
    long double value = 0, increment = 0;
    if ((r.record && !parse_long_double(r.record->payload(), &value)) ||
        !parse_long_double(increment_text, &increment)) {
      return KeyReply::error(kErrNotFloat);
    }
    value += increment;
    if (std::isnan(value) || std::isinf(value)) return KeyReply::error(kErrNanOrInfinity);
    std::string text = format_long_double(value);
    if (Status s = lock.put_string(r.record ? r.record->expire_ms : std::nullopt, text); !s) {
      return storage_failure(t, s);
    }
    return KeyReply::bulk(std::move(text));
  });
}

constexpr KeySpec kReadUpdate[] = {{.flags = kKeyRW | kKeyAccess | kKeyUpdate}};
constexpr std::uint32_t kCounterFlags = kCmdWrite | kCmdDenyoom | kCmdFast;

constexpr CommandSpec kCommands[] = {
    {.name = "incr", .arity = 2, .flags = kCounterFlags, .categories = kAclString,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "string", .since = "1.0.0",
     .summary = "Adds one to the integer in a string value", .complexity = "O(1)",
     .key_specs = kReadUpdate, .handler = incr},
    {.name = "decr", .arity = 2, .flags = kCounterFlags, .categories = kAclString,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "string", .since = "1.0.0",
     .summary = "Subtracts one from the integer in a string value", .complexity = "O(1)",
     .key_specs = kReadUpdate, .handler = decr},
    {.name = "incrby", .arity = 3, .flags = kCounterFlags, .categories = kAclString,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "string", .since = "1.0.0",
     .summary = "Adds an integer to the integer in a string value", .complexity = "O(1)",
     .key_specs = kReadUpdate, .handler = incrby},
    {.name = "decrby", .arity = 3, .flags = kCounterFlags, .categories = kAclString,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "string", .since = "1.0.0",
     .summary = "Subtracts an integer from the integer in a string value",
     .complexity = "O(1)", .key_specs = kReadUpdate, .handler = decrby},
    {.name = "incrbyfloat", .arity = 3, .flags = kCounterFlags, .categories = kAclString,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "string", .since = "2.6.0",
     .summary = "Adds a floating point number to the number in a string value",
     .complexity = "O(1)", .key_specs = kReadUpdate, .handler = incrbyfloat},
};

}  // namespace

std::span<const CommandSpec> counter_commands() { return kCommands; }

}  // namespace cascade::commands
