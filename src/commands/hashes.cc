// The hash family: HSET HMSET HSETNX HGET HMGET HDEL HLEN HSTRLEN HEXISTS HGETALL HKEYS
// HVALS HINCRBY HINCRBYFLOAT HRANDFIELD HSCAN.
//
// A hash is a collection (src/types/collection.h): its metadata record holds the version
// and the field count, and each field is one engine entry, member prefix + field -> value.
// Reads take no lock (like GET); writes run under the key's lock and commit their field
// writes and the metadata record in one engine batch (collection_access.h). Every command
// but HGETALL, HKEYS and HVALS reads only the fields it names (a seek each); HRANDFIELD
// samples (types::MemberSampler) and HSCAN pages (member_scan.h).
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "resp/decimal.h"
#include "src/commands/collection_access.h"
#include "src/commands/command_families.h"
#include "src/commands/member_scan.h"
#include "src/commands/number_text.h"
#include "src/commands/random_seed.h"
#include "src/commands/scan_cursor.h"
#include "src/server/dispatcher.h"
#include "src/types/member_sample.h"

namespace cascade::commands {
namespace {

using namespace cascade::server;
using types::KeyType;

// ---- HSET HMSET ------------------------------------------------------------------------

// Fields and values alternate from argument 2; Redis checks the pairing before the key.
// Key handlers: a pipeline's HSETs run in its key batches (key_batch.h).
KeyReply set_fields(KeyTarget& t, const KeyCall& call, bool reply_ok) {
  const std::span<const std::string_view> args = call.args;
  if (args.size() % 2 != 0) return KeyReply::error(wrong_arity_text(reply_ok ? "hmset" : "hset"));
  CollectionWrite w(t, KeyType::kHash);
  if (!w.ok()) return std::move(w.failure);
  if (!w.exists()) w.create();
  types::Collection& hash = w.coll();
  std::int64_t added = 0;
  for (std::size_t i = 2; i + 1 < args.size(); i += 2) {
    Result<std::optional<std::string>> old = hash.get(args[i]);
    if (!old) return w.storage_error(old.error());
    if (!old->has_value()) {
      ++added;
      ++hash.header().size;
    }
    hash.put(args[i], args[i + 1]);
  }
  return w.commit(reply_ok ? KeyReply::ok() : KeyReply::number(added));
}

KeyReply hset(KeyTarget& t, const KeyCall& call) { return set_fields(t, call, false); }
KeyReply hmset(KeyTarget& t, const KeyCall& call) { return set_fields(t, call, true); }

void hsetnx(CommandContext& ctx) {
  run_key_command(ctx, ctx.arg(1), [&ctx](KeyTarget& t) {
    CollectionWrite w(t, KeyType::kHash);
    if (!w.ok()) return std::move(w.failure);
    if (w.exists()) {
      Result<std::optional<std::string>> old = w.coll().get(ctx.arg(2));
      if (!old) return w.storage_error(old.error());
      if (old->has_value()) return w.commit_unchanged(KeyReply::number(0));
    } else {
      w.create();
    }
    w.coll().put(ctx.arg(2), ctx.arg(3));
    ++w.coll().header().size;
    return w.commit(KeyReply::number(1));
  });
}

// ---- HINCRBY HINCRBYFLOAT ----------------------------------------------------------------

// Redis's texts for a field holding something that is not a number.
constexpr std::string_view kErrHashNotInteger = "ERR hash value is not an integer";
constexpr std::string_view kErrHashNotFloat = "ERR hash value is not a float";
constexpr std::string_view kErrIncrementNotFinite = "ERR value is NaN or Infinity";

// Sets `field` to the text `compute` makes of its current value (nullopt: missing), under
// the key's lock; `compute` returns the new text or an error reply.
template <typename Compute>
KeyReply update_field(KeyTarget& t, std::string_view field, Compute&& compute) {
  CollectionWrite w(t, KeyType::kHash);
  if (!w.ok()) return std::move(w.failure);
  std::optional<std::string> old;
  if (w.exists()) {
    Result<std::optional<std::string>> read = w.coll().get(field);
    if (!read) return w.storage_error(read.error());
    old = std::move(*read);
  }
  KeyReply reply = compute(old);
  if (reply.is_error()) return w.commit_unchanged(std::move(reply));
  if (!w.exists()) w.create();
  if (!old) ++w.coll().header().size;
  // The new value as the field stores it: the reply's bulk text, or the integer's decimal.
  const std::string stored =
      reply.kind == KeyReply::Kind::kBulk ? reply.text : std::to_string(reply.integer);
  w.coll().put(field, stored);
  return w.commit(std::move(reply));
}

void hincrby(CommandContext& ctx) {
  std::int64_t increment = 0;
  if (!resp::parse_int64(ctx.arg(3), &increment)) {
    ctx.error(kErrNotInteger);
    return;
  }
  run_key_command(ctx, ctx.arg(1), [&ctx, increment](KeyTarget& t) {
    return update_field(t, ctx.arg(2), [increment](const std::optional<std::string>& old) {
      std::int64_t value = 0;
      if (old && !resp::parse_int64(*old, &value)) return KeyReply::error(kErrHashNotInteger);
      if ((increment < 0 && value < 0 && increment < INT64_MIN - value) ||
          (increment > 0 && value > 0 && increment > INT64_MAX - value)) {
        return KeyReply::error(kErrIncrOverflow);
      }
      return KeyReply::number(value + increment);
    });
  });
}

void hincrbyfloat(CommandContext& ctx) {
  long double increment = 0;
  if (!parse_long_double(ctx.arg(3), &increment)) {
    ctx.error(kErrNotFloat);
    return;
  }
  if (std::isnan(increment) || std::isinf(increment)) {
    ctx.error(kErrIncrementNotFinite);
    return;
  }
  run_key_command(ctx, ctx.arg(1), [&ctx, increment](KeyTarget& t) {
    return update_field(t, ctx.arg(2), [increment](const std::optional<std::string>& old) {
      long double value = 0;
      if (old && !parse_long_double(*old, &value)) return KeyReply::error(kErrHashNotFloat);
      value += increment;
      if (std::isnan(value) || std::isinf(value)) return KeyReply::error(kErrNanOrInfinity);
      return KeyReply::bulk(format_long_double(value));
    });
  });
}

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

void hmget(CommandContext& ctx) {
  run_key_command(ctx, ctx.arg(1), [&ctx](KeyTarget& t) {
    CollectionRead r(t, KeyType::kHash);
    if (!r.ok()) return std::move(r.failure);
    std::vector<KeyReply> items;
    items.reserve(ctx.argc() - 2);
    for (std::size_t i = 2; i < ctx.argc(); ++i) {
      if (!r.exists()) {
        items.push_back(KeyReply::null());
        continue;
      }
      Result<std::optional<std::string>> value = r.coll().get(ctx.arg(i));
      if (!value) return r.storage_error(value.error());
      items.push_back(value->has_value() ? KeyReply::bulk(std::move(**value)) : KeyReply::null());
    }
    return KeyReply::array(std::move(items));
  });
}

void hstrlen(CommandContext& ctx) {
  run_key_command(ctx, ctx.arg(1), [&ctx](KeyTarget& t) {
    CollectionRead r(t, KeyType::kHash);
    if (!r.ok()) return std::move(r.failure);
    if (!r.exists()) return KeyReply::number(0);
    Result<std::optional<std::string>> value = r.coll().get(ctx.arg(2));
    if (!value) return r.storage_error(value.error());
    return KeyReply::number(value->has_value() ? static_cast<std::int64_t>((*value)->size()) : 0);
  });
}

void hlen(CommandContext& ctx) {
  run_key_command(ctx, ctx.arg(1), [](KeyTarget& t) {
    CollectionRead r(t, KeyType::kHash);
    if (!r.ok()) return std::move(r.failure);
    return KeyReply::number(r.exists() ? static_cast<std::int64_t>(r.coll().size()) : 0);
  });
}

// The whole hash: fields, values or both (a map).
enum class Whole : std::uint8_t { kFields, kValues, kBoth };

void read_whole(CommandContext& ctx, Whole what) {
  run_key_command(ctx, ctx.arg(1), [what](KeyTarget& t) {
    CollectionRead r(t, KeyType::kHash);
    if (!r.ok()) return std::move(r.failure);
    resp::EncodedElements items;  // encoded as read: no object per field
    const auto finish = [what](resp::EncodedElements out) {
      return what == Whole::kBoth ? KeyReply::encoded_map(std::move(out))
                                  : KeyReply::encoded_array(std::move(out));
    };
    if (!r.exists()) return finish(std::move(items));
    const std::size_t skip = r.coll().prefix().size();
    types::StagedWrites::Cursor c = r.coll().cursor();
    for (c.seek_to_first(); c.valid(); c.next()) {
      if (what != Whole::kValues) items.bulk(c.key().substr(skip));
      if (what != Whole::kFields) items.bulk(c.value());
    }
    if (!c.status()) return r.storage_error(c.status());
    return finish(std::move(items));
  });
}

void hgetall(CommandContext& ctx) { read_whole(ctx, Whole::kBoth); }
void hkeys(CommandContext& ctx) { read_whole(ctx, Whole::kFields); }
void hvals(CommandContext& ctx) { read_whole(ctx, Whole::kValues); }

// ---- HRANDFIELD ----------------------------------------------------------------------------

constexpr std::string_view kErrCountRange =
    "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807";
constexpr std::string_view kErrValueOutOfRange = "ERR value is out of range";

// HRANDFIELD key: one field, or null.
KeyReply random_field(KeyTarget& t) {
  CollectionRead r(t, KeyType::kHash);
  if (!r.ok()) return std::move(r.failure);
  if (!r.exists()) return KeyReply::null();
  std::vector<types::SampledMember> picked;
  types::MemberSampler sampler(r.coll(), random_seed(), &t.keyspace.probe_ranges(),
                               types::MemberSampler::RangesUse::kLookOnly);
  if (Status s = sampler.draw_with_repeats(1, picked); !s) return r.storage_error(s);
  if (picked.empty()) return KeyReply::null();
  return KeyReply::bulk(std::move(picked[0].suffix));
}

// HRANDFIELD key count [WITHVALUES]: distinct fields for count >= 0, -count independent
// draws otherwise. With values, RESP3 pairs each field with its value in an array of two;
// RESP2 flattens.
KeyReply random_fields(KeyTarget& t, std::int64_t count, bool with_values, bool resp3) {
  CollectionRead r(t, KeyType::kHash);
  if (!r.ok()) return std::move(r.failure);
  std::vector<KeyReply> items;
  if (!r.exists() || count == 0) return KeyReply::array(std::move(items));
  std::vector<types::SampledMember> picked;
  types::MemberSampler sampler(r.coll(), random_seed(), &t.keyspace.probe_ranges(),
                               types::MemberSampler::RangesUse::kLookOnly);
  Status s = count > 0 ? sampler.draw_distinct(static_cast<std::uint64_t>(count), picked)
                       : sampler.draw_with_repeats(static_cast<std::uint64_t>(-count), picked);
  if (!s) return r.storage_error(s);
  items.reserve(picked.size() * (with_values && !resp3 ? 2 : 1));
  for (types::SampledMember& m : picked) {
    if (!with_values) {
      items.push_back(KeyReply::bulk(std::move(m.suffix)));
    } else if (resp3) {
      std::vector<KeyReply> pair;
      pair.push_back(KeyReply::bulk(std::move(m.suffix)));
      pair.push_back(KeyReply::bulk(std::move(m.value)));
      items.push_back(KeyReply::array(std::move(pair)));
    } else {
      items.push_back(KeyReply::bulk(std::move(m.suffix)));
      items.push_back(KeyReply::bulk(std::move(m.value)));
    }
  }
  return KeyReply::array(std::move(items));
}

void hrandfield(CommandContext& ctx) {
  if (ctx.argc() == 2) {
    run_key_command(ctx, ctx.arg(1), [](KeyTarget& t) { return random_field(t); });
    return;
  }
  std::int64_t count = 0;
  if (!resp::parse_int64(ctx.arg(2), &count)) {
    ctx.error(kErrNotInteger);
    return;
  }
  if (count == INT64_MIN) {
    ctx.error(kErrCountRange);
    return;
  }
  const bool with_values = ctx.argc() == 4;
  if (ctx.argc() > 4 || (with_values && !equals_ignore_case(ctx.arg(3), "withvalues"))) {
    ctx.error(kErrSyntax);
    return;
  }
  // Redis's bound: count field-value pairs must not overflow a long.
  if (with_values && (count < -INT64_MAX / 2 || count > INT64_MAX / 2)) {
    ctx.error(kErrValueOutOfRange);
    return;
  }
  const bool resp3 = ctx.reply.resp3();
  run_key_command(ctx, ctx.arg(1), [count, with_values, resp3](KeyTarget& t) {
    return random_fields(t, count, with_values, resp3);
  });
}

// ---- HSCAN ---------------------------------------------------------------------------------

void hscan(CommandContext& ctx) {
  const std::optional<std::uint64_t> cursor = parse_cursor(ctx.arg(2));
  if (!cursor) {
    ctx.error(kErrInvalidCursor);
    return;
  }
  const MemberScanOptions options = parse_member_scan_options(ctx);
  run_key_command(ctx, ctx.arg(1), [&options, cursor](KeyTarget& t) {
    CollectionRead r(t, KeyType::kHash);
    if (!r.ok()) return std::move(r.failure);
    if (!r.exists()) return empty_member_scan();
    if (!options.error.empty()) return KeyReply::error(options.error);
    Result<MemberScanPage> page = scan_members(r.coll(), t.keyspace.scan_positions(),
                                               t.keyspace.ids().id_of(t.db), *cursor, options);
    if (!page) return r.storage_error(page.error());
    return member_scan_reply(std::move(*page), true);
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
constexpr KeySpec kInsert[] = {{.flags = kKeyRW | kKeyInsert}};
constexpr KeySpec kIncrement[] = {{.flags = kKeyRW | kKeyAccess | kKeyUpdate}};
constexpr std::string_view kAnyOrder[] = {"nondeterministic_output_order"};
constexpr std::string_view kRandom[] = {"nondeterministic_output"};

constexpr CommandSpec kCommands[] = {
    {.name = "hsetnx", .arity = 4, .flags = kCmdWrite | kCmdDenyoom | kCmdFast,
     .categories = kAclHash, .first_key = 1, .last_key = 1, .key_step = 1, .group = "hash",
     .since = "2.0.0", .summary = "Sets the value of a field in a hash only when the field is missing",
     .complexity = "O(1)", .key_specs = kInsert, .handler = hsetnx},
    {.name = "hmget", .arity = -3, .flags = kCmdReadonly | kCmdFast, .categories = kAclHash,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "hash", .since = "2.0.0",
     .summary = "Returns the values of the given fields of a hash",
     .complexity = "O(N) where N is the number of fields being requested.",
     .key_specs = kRead, .handler = hmget},
    {.name = "hkeys", .arity = 2, .flags = kCmdReadonly, .categories = kAclHash,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "hash", .since = "2.0.0",
     .summary = "Returns every field of a hash",
     .complexity = "O(N) where N is the size of the hash.", .tips = kAnyOrder,
     .key_specs = kRead, .handler = hkeys},
    {.name = "hvals", .arity = 2, .flags = kCmdReadonly, .categories = kAclHash,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "hash", .since = "2.0.0",
     .summary = "Returns every value of a hash",
     .complexity = "O(N) where N is the size of the hash.", .tips = kAnyOrder,
     .key_specs = kRead, .handler = hvals},
    {.name = "hstrlen", .arity = 3, .flags = kCmdReadonly | kCmdFast, .categories = kAclHash,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "hash", .since = "3.2.0",
     .summary = "Returns the length of a hash field's value", .complexity = "O(1)",
     .key_specs = kReadNoAccess, .handler = hstrlen},
    {.name = "hincrby", .arity = 4, .flags = kCmdWrite | kCmdDenyoom | kCmdFast,
     .categories = kAclHash, .first_key = 1, .last_key = 1, .key_step = 1, .group = "hash",
     .since = "2.0.0", .summary = "Adds an integer to a hash field's integer value",
     .complexity = "O(1)", .key_specs = kIncrement, .handler = hincrby},
    {.name = "hincrbyfloat", .arity = 4, .flags = kCmdWrite | kCmdDenyoom | kCmdFast,
     .categories = kAclHash, .first_key = 1, .last_key = 1, .key_step = 1, .group = "hash",
     .since = "2.6.0", .summary = "Adds a floating point number to a hash field's value",
     .complexity = "O(1)", .key_specs = kIncrement, .handler = hincrbyfloat},
    {.name = "hrandfield", .arity = -2, .flags = kCmdReadonly, .categories = kAclHash,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "hash", .since = "6.2.0",
     .summary = "Returns random fields of a hash, with their values if asked",
     .complexity = "O(N) where N is the number of fields returned", .tips = kRandom,
     .key_specs = kRead, .handler = hrandfield},
    {.name = "hscan", .arity = -3, .flags = kCmdReadonly, .categories = kAclHash,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "hash", .since = "2.8.0",
     .summary = "Iterates over the fields and values of a hash",
     .complexity = "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.",
     .tips = kRandom, .key_specs = kRead, .handler = hscan},
    {.name = "hset", .arity = -4, .flags = kCmdWrite | kCmdDenyoom | kCmdFast,
     .categories = kAclHash, .first_key = 1, .last_key = 1, .key_step = 1, .group = "hash",
     .since = "2.0.0", .summary = "Creates or modifies the value of a field in a hash",
     .complexity = "O(1) for each field/value pair added", .key_specs = kUpdate,
     .handler = run_key_handler,
     .key_handler = hset},
    {.name = "hmset", .arity = -4, .flags = kCmdWrite | kCmdDenyoom | kCmdFast,
     .categories = kAclHash, .first_key = 1, .last_key = 1, .key_step = 1, .group = "hash",
     .since = "2.0.0", .summary = "Sets the values of multiple fields",
     .complexity = "O(N) where N is the number of fields being set", .key_specs = kUpdate,
     .handler = run_key_handler,
     .key_handler = hmset},
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
     .complexity = "O(N) where N is the size of the hash", .tips = kAnyOrder,
     .key_specs = kRead, .handler = hgetall},
    {.name = "hdel", .arity = -3, .flags = kCmdWrite | kCmdFast, .categories = kAclHash,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "hash", .since = "2.0.0",
     .summary = "Deletes one or more fields and their values from a hash",
     .complexity = "O(N) where N is the number of fields to be removed",
     .key_specs = kDelete, .handler = hdel},
};

}  // namespace

std::span<const CommandSpec> hash_commands() { return kCommands; }

}  // namespace cascade::commands
