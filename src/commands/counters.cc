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

// Key handlers (KeyHandler): a pipeline's counters run in its key batches
// (key_batch.h), one cross-shard call per shard instead of one per command.
KeyReply incr(KeyTarget& t, const KeyCall&) { return add_integer(t, 1); }
KeyReply decr(KeyTarget& t, const KeyCall&) { return add_integer(t, -1); }

KeyReply incrby(KeyTarget& t, const KeyCall& call) {
  std::int64_t increment = 0;
  if (!resp::parse_int64(call.args[2], &increment)) return KeyReply::error(kErrNotInteger);
  return add_integer(t, increment);
}

KeyReply decrby(KeyTarget& t, const KeyCall& call) {
  std::int64_t decrement = 0;
  if (!resp::parse_int64(call.args[2], &decrement)) return KeyReply::error(kErrNotInteger);
  // Its negation does not exist.
  if (decrement == LLONG_MIN) return KeyReply::error(kErrDecrOverflow);
  return add_integer(t, -decrement);
}

KeyReply incrbyfloat(KeyTarget& t, const KeyCall& call) {
  const std::string_view increment_text = call.args[2];
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
}

constexpr KeySpec kReadUpdate[] = {{.flags = kKeyRW | kKeyAccess | kKeyUpdate}};
constexpr std::uint32_t kCounterFlags = kCmdWrite | kCmdDenyoom | kCmdFast;

constexpr CommandSpec kCommands[] = {
    {.name = "incr", .arity = 2, .flags = kCounterFlags, .categories = kAclString,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "string", .since = "1.0.0",
     .summary = "Adds one to the integer in a string value", .complexity = "O(1)",
     .key_specs = kReadUpdate, .handler = run_key_handler,
     .key_handler = incr},
    {.name = "decr", .arity = 2, .flags = kCounterFlags, .categories = kAclString,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "string", .since = "1.0.0",
     .summary = "Subtracts one from the integer in a string value", .complexity = "O(1)",
     .key_specs = kReadUpdate, .handler = run_key_handler,
     .key_handler = decr},
    {.name = "incrby", .arity = 3, .flags = kCounterFlags, .categories = kAclString,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "string", .since = "1.0.0",
     .summary = "Adds an integer to the integer in a string value", .complexity = "O(1)",
     .key_specs = kReadUpdate, .handler = run_key_handler,
     .key_handler = incrby},
    {.name = "decrby", .arity = 3, .flags = kCounterFlags, .categories = kAclString,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "string", .since = "1.0.0",
     .summary = "Subtracts an integer from the integer in a string value",
     .complexity = "O(1)", .key_specs = kReadUpdate, .handler = run_key_handler,
     .key_handler = decrby},
    {.name = "incrbyfloat", .arity = 3, .flags = kCounterFlags, .categories = kAclString,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "string", .since = "2.6.0",
     .summary = "Adds a floating point number to the number in a string value",
     .complexity = "O(1)", .key_specs = kReadUpdate, .handler = run_key_handler,
     .key_handler = incrbyfloat},
};

}  // namespace

std::span<const CommandSpec> counter_commands() { return kCommands; }

}  // namespace cascade::commands
