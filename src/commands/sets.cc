// The set family: SADD SREM SMEMBERS SISMEMBER SMISMEMBER SCARD SPOP SRANDMEMBER SSCAN on one
// key; SMOVE, SINTER, SINTERCARD, SUNION, SDIFF and the *STORE variants over several.
//
// A set is a collection (src/types/collection.h): its metadata record holds the version and
// the member count, and each member is one engine entry, member prefix + member -> empty.
// Single-key commands run on the key's shard (collection_access.h). The multi-key commands
// run as transactions (transaction.h): their keys are locked in the global order, the
// records read, and member work runs on each key's shard (TxnView::on_shard): scans and
// membership probes of the sources there, then the destination's member entries staged on
// the destination's shard and committed with its metadata record: one batch on one shard,
// or the multi-shard decision protocol when SMOVE or a *STORE spans shards, so a crash
// never leaves half of one.
//
// Memory: SINTER, SINTERCARD, SDIFF and their stores stream the first operand (the smallest
// for intersections) in chunks of kChunk members, each chunk probed against the other sets
// on their shards (a seek per member), so only the result, or for SINTERCARD nothing but a
// count, is held. SUNION holds its result, as its reply does.
#include <random>
#include <string>
#include <vector>

#include "resp/decimal.h"
#include "src/commands/collection_access.h"
#include "src/commands/command_families.h"
#include "src/commands/member_scan.h"
#include "src/commands/random_seed.h"
#include "src/commands/scan_cursor.h"
#include "src/server/dispatcher.h"
#include "src/types/member_sample.h"

namespace cascade::commands {
namespace {

using namespace cascade::server;
using types::KeyType;

constexpr std::string_view kErrCountPositive = "ERR value is out of range, must be positive";
constexpr std::string_view kErrCountRange =
    "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807";

KeyReply bulk_set(const std::vector<std::string>& members) {
  resp::EncodedElements items;
  for (const std::string& m : members) items.bulk(m);
  return KeyReply::encoded_set(std::move(items));
}

// ---- SADD SREM ---------------------------------------------------------------------------

// A key handler: a pipeline's SADDs run in its key batches (key_batch.h).
KeyReply sadd(KeyTarget& t, const KeyCall& call) {
  CollectionWrite w(t, KeyType::kSet);
  if (!w.ok()) return std::move(w.failure);
  if (!w.exists()) w.create();
  types::Collection& set = w.coll();
  std::int64_t added = 0;
  for (std::size_t i = 2; i < call.args.size(); ++i) {
    Result<std::optional<std::string>> old = set.get(call.args[i]);
    if (!old) return w.storage_error(old.error());
    if (old->has_value()) continue;
    set.put(call.args[i], {});
    ++set.header().size;
    ++added;
  }
  if (added == 0) return w.commit_unchanged(KeyReply::number(0));
  return w.commit(KeyReply::number(added));
}

void srem(CommandContext& ctx) {
  run_key_command(ctx, ctx.arg(1), [&ctx](KeyTarget& t) {
    CollectionWrite w(t, KeyType::kSet);
    if (!w.ok()) return std::move(w.failure);
    if (!w.exists()) return w.commit_unchanged(KeyReply::number(0));
    types::Collection& set = w.coll();
    std::int64_t removed = 0;
    for (std::size_t i = 2; i < ctx.argc() && set.size() > 0; ++i) {
      Result<std::optional<std::string>> old = set.get(ctx.arg(i));
      if (!old) return w.storage_error(old.error());
      if (!old->has_value()) continue;
      set.del(ctx.arg(i));
      --set.header().size;
      ++removed;
    }
    if (removed == 0) return w.commit_unchanged(KeyReply::number(0));
    return w.commit(KeyReply::number(removed));
  });
}

// ---- SMEMBERS SISMEMBER SMISMEMBER SCARD ---------------------------------------------------

// Every member of `set`, in member order, encoded as they are read (a whole set may be
// millions of members: no object per member).
Status read_members(types::Collection& set, resp::EncodedElements& out) {
  const std::size_t skip = set.prefix().size();
  types::StagedWrites::Cursor c = set.cursor();
  for (c.seek_to_first(); c.valid(); c.next()) out.bulk(c.key().substr(skip));
  return c.status();
}

void smembers(CommandContext& ctx) {
  run_key_command(ctx, ctx.arg(1), [](KeyTarget& t) {
    CollectionRead r(t, KeyType::kSet);
    if (!r.ok()) return std::move(r.failure);
    resp::EncodedElements members;
    if (r.exists()) {
      if (Status s = read_members(r.coll(), members); !s) return r.storage_error(s);
    }
    return KeyReply::encoded_set(std::move(members));
  });
}

void sismember(CommandContext& ctx) {
  run_key_command(ctx, ctx.arg(1), [&ctx](KeyTarget& t) {
    CollectionRead r(t, KeyType::kSet);
    if (!r.ok()) return std::move(r.failure);
    if (!r.exists()) return KeyReply::number(0);
    Result<std::optional<std::string>> found = r.coll().get(ctx.arg(2));
    if (!found) return r.storage_error(found.error());
    return KeyReply::number(found->has_value() ? 1 : 0);
  });
}

void smismember(CommandContext& ctx) {
  run_key_command(ctx, ctx.arg(1), [&ctx](KeyTarget& t) {
    CollectionRead r(t, KeyType::kSet);
    if (!r.ok()) return std::move(r.failure);
    std::vector<KeyReply> items;
    for (std::size_t i = 2; i < ctx.argc(); ++i) {
      bool found = false;
      if (r.exists()) {
        Result<std::optional<std::string>> value = r.coll().get(ctx.arg(i));
        if (!value) return r.storage_error(value.error());
        found = value->has_value();
      }
      items.push_back(KeyReply::number(found ? 1 : 0));
    }
    return KeyReply::array(std::move(items));
  });
}

void scard(CommandContext& ctx) {
  run_key_command(ctx, ctx.arg(1), [](KeyTarget& t) {
    CollectionRead r(t, KeyType::kSet);
    if (!r.ok()) return std::move(r.failure);
    return KeyReply::number(r.exists() ? static_cast<std::int64_t>(r.coll().size()) : 0);
  });
}

// ---- SPOP SRANDMEMBER ----------------------------------------------------------------------

// SPOP key [count]: without a count one member or null; with one, a set of up to count
// distinct members (all of them, and the key deleted, when count >= the size).
KeyReply pop_members(KeyTarget& t, std::optional<std::uint64_t> count) {
  CollectionWrite w(t, KeyType::kSet);
  if (!w.ok()) return std::move(w.failure);
  if (!w.exists() || count == 0) {
    return w.commit_unchanged(count ? KeyReply::set() : KeyReply::null());
  }
  types::Collection& set = w.coll();
  std::vector<std::string> popped;
  if (count && *count >= set.size()) {
    // All of it: the key goes in one metadata write, its entries become garbage.
    resp::EncodedElements all;
    if (Status s = read_members(set, all); !s) return w.storage_error(s);
    set.header().size = 0;
    return w.commit(KeyReply::encoded_set(std::move(all)));
  }
  std::vector<types::SampledMember> picked;
  types::MemberSampler sampler(set, random_seed(), &t.keyspace.probe_ranges());
  if (Status s = sampler.draw_distinct(count.value_or(1), picked); !s) return w.storage_error(s);
  for (types::SampledMember& m : picked) {
    set.del(m.suffix);
    --set.header().size;
    popped.push_back(std::move(m.suffix));
  }
  sampler.popped(set.size());
  if (!count) {
    if (popped.empty()) return w.commit_unchanged(KeyReply::null());
    KeyReply reply = KeyReply::bulk(std::move(popped[0]));
    return w.commit(std::move(reply));
  }
  return w.commit(bulk_set(popped));
}

void spop(CommandContext& ctx) {
  if (ctx.argc() > 3) {
    ctx.error(kErrSyntax);
    return;
  }
  std::optional<std::uint64_t> count;
  if (ctx.argc() == 3) {
    std::int64_t value = 0;
    if (!resp::parse_int64(ctx.arg(2), &value) || value < 0) {
      ctx.error(kErrCountPositive);
      return;
    }
    count = static_cast<std::uint64_t>(value);
  }
  run_key_command(ctx, ctx.arg(1), [count](KeyTarget& t) { return pop_members(t, count); });
}

// SRANDMEMBER key [count]: one member or null; or distinct members for count >= 0, and
// -count independent draws otherwise (an array, as Redis answers).
KeyReply random_members(KeyTarget& t, std::optional<std::int64_t> count) {
  CollectionRead r(t, KeyType::kSet);
  if (!r.ok()) return std::move(r.failure);
  if (!r.exists() || count == 0) return count ? KeyReply::array() : KeyReply::null();
  std::vector<types::SampledMember> picked;
  types::MemberSampler sampler(r.coll(), random_seed(), &t.keyspace.probe_ranges(),
                               types::MemberSampler::RangesUse::kLookOnly);
  const std::int64_t n = count.value_or(-1);
  Status s = n > 0 ? sampler.draw_distinct(static_cast<std::uint64_t>(n), picked)
                   : sampler.draw_with_repeats(static_cast<std::uint64_t>(-n), picked);
  if (!s) return r.storage_error(s);
  if (!count) {
    return picked.empty() ? KeyReply::null() : KeyReply::bulk(std::move(picked[0].suffix));
  }
  std::vector<KeyReply> items;
  items.reserve(picked.size());
  for (types::SampledMember& m : picked) items.push_back(KeyReply::bulk(std::move(m.suffix)));
  return KeyReply::array(std::move(items));
}

void srandmember(CommandContext& ctx) {
  if (ctx.argc() > 3) {
    ctx.error(kErrSyntax);
    return;
  }
  std::optional<std::int64_t> count;
  if (ctx.argc() == 3) {
    std::int64_t value = 0;
    if (!resp::parse_int64(ctx.arg(2), &value)) {
      ctx.error(kErrNotInteger);
      return;
    }
    if (value == INT64_MIN) {
      ctx.error(kErrCountRange);
      return;
    }
    count = value;
  }
  run_key_command(ctx, ctx.arg(1), [count](KeyTarget& t) { return random_members(t, count); });
}

// ---- SSCAN ---------------------------------------------------------------------------------

void sscan(CommandContext& ctx) {
  const std::optional<std::uint64_t> cursor = parse_cursor(ctx.arg(2));
  if (!cursor) {
    ctx.error(kErrInvalidCursor);
    return;
  }
  const MemberScanOptions options = parse_member_scan_options(ctx);
  run_key_command(ctx, ctx.arg(1), [&options, cursor](KeyTarget& t) {
    CollectionRead r(t, KeyType::kSet);
    if (!r.ok()) return std::move(r.failure);
    if (!r.exists()) return empty_member_scan();
    if (!options.error.empty()) return KeyReply::error(options.error);
    Result<MemberScanPage> page = scan_members(r.coll(), t.keyspace.scan_positions(),
                                               t.keyspace.ids().id_of(t.db), *cursor, options);
    if (!page) return r.storage_error(page.error());
    return member_scan_reply(std::move(*page), false);
  });
}

// ---- the table -------------------------------------------------------------------------

constexpr KeySpec kRead[] = {{.flags = kKeyRO | kKeyAccess}};
constexpr KeySpec kReadNoAccess[] = {{.flags = kKeyRO}};
constexpr KeySpec kInsert[] = {{.flags = kKeyRW | kKeyInsert}};
constexpr KeySpec kDelete[] = {{.flags = kKeyRW | kKeyDelete}};
constexpr KeySpec kPop[] = {{.flags = kKeyRW | kKeyAccess | kKeyDelete}};
constexpr std::string_view kAnyOrder[] = {"nondeterministic_output_order"};
constexpr std::string_view kRandom[] = {"nondeterministic_output"};

constexpr CommandSpec kCommands[] = {
    {.name = "sadd", .arity = -3, .flags = kCmdWrite | kCmdDenyoom | kCmdFast,
     .categories = kAclSet, .first_key = 1, .last_key = 1, .key_step = 1, .group = "set",
     .since = "1.0.0", .summary = "Adds members to a set, creating it if needed",
     .complexity = "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.",
     .key_specs = kInsert, .handler = run_key_handler,
     .key_handler = sadd},
    {.name = "srem", .arity = -3, .flags = kCmdWrite | kCmdFast, .categories = kAclSet,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "set", .since = "1.0.0",
     .summary = "Removes members from a set, deleting it when it empties",
     .complexity = "O(N) where N is the number of members to be removed.",
     .key_specs = kDelete, .handler = srem},
    {.name = "smembers", .arity = 2, .flags = kCmdReadonly, .categories = kAclSet,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "set", .since = "1.0.0",
     .summary = "Returns every member of a set", .complexity = "O(N) where N is the set cardinality.",
     .tips = kAnyOrder, .key_specs = kRead, .handler = smembers},
    {.name = "sismember", .arity = 3, .flags = kCmdReadonly | kCmdFast, .categories = kAclSet,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "set", .since = "1.0.0",
     .summary = "Tells whether a member belongs to a set", .complexity = "O(1)",
     .key_specs = kReadNoAccess, .handler = sismember},
    {.name = "smismember", .arity = -3, .flags = kCmdReadonly | kCmdFast, .categories = kAclSet,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "set", .since = "6.2.0",
     .summary = "Tells, for each of several members, whether it belongs to a set",
     .complexity = "O(N) where N is the number of elements being checked for membership",
     .key_specs = kRead, .handler = smismember},
    {.name = "scard", .arity = 2, .flags = kCmdReadonly | kCmdFast, .categories = kAclSet,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "set", .since = "1.0.0",
     .summary = "Returns the number of members of a set", .complexity = "O(1)",
     .key_specs = kReadNoAccess, .handler = scard},
    {.name = "spop", .arity = -2, .flags = kCmdWrite | kCmdFast, .categories = kAclSet,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "set", .since = "1.0.0",
     .summary = "Removes and returns random members of a set",
     .complexity = "Without the count argument O(1), otherwise O(N) where N is the value of the passed count.",
     .tips = kRandom, .key_specs = kPop, .handler = spop},
    {.name = "srandmember", .arity = -2, .flags = kCmdReadonly, .categories = kAclSet,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "set", .since = "1.0.0",
     .summary = "Returns random members of a set, distinct or drawn with repeats",
     .complexity = "Without the count argument O(1), otherwise O(N) where N is the absolute value of the passed count.",
     .tips = kRandom, .key_specs = kRead, .handler = srandmember},
    {.name = "sscan", .arity = -3, .flags = kCmdReadonly, .categories = kAclSet,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "set", .since = "2.8.0",
     .summary = "Iterates over the members of a set",
     .complexity = "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.",
     .tips = kRandom, .key_specs = kRead, .handler = sscan},
};

}  // namespace

std::span<const CommandSpec> set_commands() { return kCommands; }

}  // namespace cascade::commands
