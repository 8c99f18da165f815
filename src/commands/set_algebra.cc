// The set commands over several keys: SMOVE, SINTER SINTERCARD SUNION SDIFF and
// SINTERSTORE SUNIONSTORE SDIFFSTORE (the single-key ones are in sets.cc).
//
// Each runs as a transaction (transaction.h) over all its keys, so it reads one consistent
// state of them and its writes land whole, also across shards and crashes. The records come
// from the view; member work runs on each key's shard through TxnView::on_shard:
//   - a streamed operand (the smallest set of an intersection, the first of a difference)
//     is read kChunk members at a time, resuming after the last member read;
//   - each chunk is sent to every other operand's shard and filtered there by a point read
//     per member (kept when present for SINTER, when absent for SDIFF);
//   - a *STORE then stages the result as the destination's members under a fresh version
//     on its shard, and its metadata record through the view (an empty result deletes the
//     destination, as in Redis; any old type, expiry or members are replaced).
// So memory holds one chunk plus the result (SINTERCARD: one chunk and a count). SUNION
// reads each operand whole into its (sorted) result.
//
// Replies list members in member order (Redis's order is its hash table's; clients may not
// rely on any).
#include <algorithm>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "resp/decimal.h"
#include "src/commands/command_families.h"
#include "src/commands/transaction.h"
#include "src/server/dispatcher.h"
#include "src/types/collection.h"

namespace cascade::commands {
namespace {

using namespace cascade::server;
using types::KeyType;

constexpr std::size_t kChunk = 512;

constexpr std::string_view kErrNumkeys = "ERR numkeys should be greater than 0";
constexpr std::string_view kErrNumkeysTooMany =
    "ERR Number of keys can't be greater than number of args";
constexpr std::string_view kErrLimitNegative = "ERR LIMIT can't be negative";

// Decide's reply for a failed engine read, logged as the transaction's own failures are.
KeyReply storage_reply(ServerState& server, const Status& status) {
  server.logger().warning("Storage error in a set command: {}", status.to_string());
  return KeyReply::error(server::storage_error(status));
}

bool is_set(const std::optional<types::StoredRecord>& record) {
  return record && record->type == KeyType::kSet;
}

// The operands [first, view.size()): WRONGTYPE if any exists as another type.
bool operands_are_sets(const TxnView& view, std::size_t first) {
  for (std::size_t i = first; i < view.size(); ++i) {
    if (view.record(i) && !is_set(view.record(i))) return false;
  }
  return true;
}

std::uint64_t set_size(const TxnView& view, std::size_t i) {
  const auto& record = view.record(i);
  if (!is_set(record)) return 0;
  Result<types::CollectionHeader> header =
      types::decode_collection_payload(KeyType::kSet, record->payload());
  return header ? header->size : 0;
}

// Opens declared key i's set on its shard (inside on_shard work).
Result<types::Collection> open_set(TxnView& view, std::size_t i, TxnShard& shard) {
  return types::Collection::open(shard.writes, shard.db_id, view.key(i).key, KeyType::kSet,
                                 view.record(i));
}

// The next chunk of operand i's members after `after` (none: from the first); `done` once
// the set is exhausted.
Status read_chunk(TxnView& view, std::size_t i, std::optional<std::string>& after,
                  std::vector<std::string>& chunk, bool& done) {
  chunk.clear();
  return view.on_shard(i, [&](TxnShard& shard) -> Status {
    Result<types::Collection> set = open_set(view, i, shard);
    if (!set) return set.error();
    if (!set->exists()) {
      done = true;
      return Status::ok();
    }
    const std::size_t skip = set->prefix().size();
    types::StagedWrites::Cursor c = set->cursor();
    if (after) {
      c.seek(set->member_key(*after));
      if (c.valid() && c.key().substr(skip) == *after) c.next();
    } else {
      c.seek_to_first();
    }
    for (; c.valid() && chunk.size() < kChunk; c.next()) chunk.emplace_back(c.key().substr(skip));
    done = !c.valid();
    if (!chunk.empty()) after = chunk.back();
    return c.status();
  });
}

// Keeps the members of `chunk` whose presence in operand i is `present`.
Status filter_chunk(TxnView& view, std::size_t i, bool present, std::vector<std::string>& chunk) {
  return view.on_shard(i, [&](TxnShard& shard) -> Status {
    Result<types::Collection> set = open_set(view, i, shard);
    if (!set) return set.error();
    std::size_t kept = 0;
    for (std::size_t i = 0; i < chunk.size(); ++i) {
      bool found = false;
      if (set->exists()) {
        Result<std::optional<std::string>> value = set->get(chunk[i]);
        if (!value) return value.error();
        found = value->has_value();
      }
      if (found != present) continue;
      if (kept != i) chunk[kept] = std::move(chunk[i]);
      ++kept;
    }
    chunk.resize(kept);
    return Status::ok();
  });
}

// Streams the result of an intersection (intersect) or a difference of the operands
// [first, view.size()) into `sink` chunk by chunk; sink returns false to stop early.
template <typename Sink>
Status combine(TxnView& view, std::size_t first, bool intersect, Sink&& sink) {
  std::vector<std::size_t> order;
  for (std::size_t i = first; i < view.size(); ++i) order.push_back(i);
  if (intersect) {
    for (std::size_t i : order) {
      if (!view.record(i)) return Status::ok();  // a missing operand: empty
    }
    // Smallest first: the streamed operand bounds the work, the others are probed.
    std::stable_sort(order.begin(), order.end(), [&view](std::size_t a, std::size_t b) {
      return set_size(view, a) < set_size(view, b);
    });
  } else if (!view.record(first)) {
    return Status::ok();
  }
  std::optional<std::string> after;
  std::vector<std::string> chunk;
  for (bool done = false; !done;) {
    if (Status s = read_chunk(view, order[0], after, chunk, done); !s) return s;
    for (std::size_t k = 1; k < order.size() && !chunk.empty(); ++k) {
      if (!view.record(order[k])) continue;  // only differences get here with one
      if (Status s = filter_chunk(view, order[k], intersect, chunk); !s) return s;
    }
    if (!chunk.empty() && !sink(chunk)) break;
  }
  return Status::ok();
}

Status unite(TxnView& view, std::size_t first, std::set<std::string, std::less<>>& out) {
  for (std::size_t i = first; i < view.size(); ++i) {
    std::optional<std::string> after;
    std::vector<std::string> chunk;
    for (bool done = !view.record(i); !done;) {
      if (Status s = read_chunk(view, i, after, chunk, done); !s) return s;
      for (std::string& member : chunk) out.insert(std::move(member));
    }
  }
  return Status::ok();
}

enum class SetOp : std::uint8_t { kInter, kUnion, kDiff };

// The operation's members over operands [first, view.size()), sorted.
Status compute(TxnView& view, std::size_t first, SetOp op, std::vector<std::string>& out) {
  if (op == SetOp::kUnion) {
    std::set<std::string, std::less<>> all;
    if (Status s = unite(view, first, all); !s) return s;
    out.assign(std::make_move_iterator(all.begin()), std::make_move_iterator(all.end()));
    return Status::ok();
  }
  return combine(view, first, op == SetOp::kInter, [&out](std::vector<std::string>& chunk) {
    for (std::string& member : chunk) out.push_back(std::move(member));
    return true;
  });
}

// Stages `members` (sorted, distinct) as declared key 0's new set, replacing whatever it
// held; no members: the key is deleted.
Status store_result(TxnView& view, const std::vector<std::string>& members) {
  if (members.empty()) {
    if (view.record(0)) view.erase(0);
    return Status::ok();
  }
  types::CollectionHeader header;
  Status s = view.on_shard(0, [&](TxnShard& shard) -> Status {
    Result<types::Collection> set = types::Collection::open(
        shard.writes, shard.db_id, view.key(0).key, KeyType::kSet, std::nullopt);
    if (!set) return set.error();
    set->create(shard.keyspace.new_version(shard.now_ms));
    for (const std::string& member : members) set->put(member, {});
    set->header().size = members.size();
    header = set->header();
    return Status::ok();
  });
  if (!s) return s;
  std::string payload;
  types::append_collection_payload(payload, KeyType::kSet, header);
  view.put(0, KeyType::kSet, std::nullopt, payload);
  return Status::ok();
}

std::vector<TxnKey> keys_from(const CommandContext& ctx, std::size_t first, std::size_t end) {
  std::vector<TxnKey> keys;
  for (std::size_t i = first; i < end; ++i) keys.push_back({client_db(ctx), ctx.arg(i)});
  return keys;
}

KeyReply members_reply(std::vector<std::string> members) {
  std::vector<KeyReply> items;
  items.reserve(members.size());
  for (std::string& m : members) items.push_back(KeyReply::bulk(std::move(m)));
  return KeyReply::set(std::move(items));
}

// ---- SINTER SUNION SDIFF and their stores -------------------------------------------------

void read_op(CommandContext& ctx, SetOp op) {
  const std::vector<TxnKey> keys = keys_from(ctx, 1, ctx.argc());
  ServerState& server = ctx.server;
  write_key_reply(ctx, run_transaction(ctx, keys, [&server, op](TxnView& view) {
    if (!operands_are_sets(view, 0)) return KeyReply::error(kErrWrongType);
    std::vector<std::string> members;
    if (Status s = compute(view, 0, op, members); !s) return storage_reply(server, s);
    return members_reply(std::move(members));
  }));
}

void store_op(CommandContext& ctx, SetOp op) {
  const std::vector<TxnKey> keys = keys_from(ctx, 1, ctx.argc());
  ServerState& server = ctx.server;
  write_key_reply(ctx, run_transaction(ctx, keys, [&server, op](TxnView& view) {
    if (!operands_are_sets(view, 1)) return KeyReply::error(kErrWrongType);
    std::vector<std::string> members;
    if (Status s = compute(view, 1, op, members); !s) return storage_reply(server, s);
    if (Status s = store_result(view, members); !s) return storage_reply(server, s);
    return KeyReply::number(static_cast<std::int64_t>(members.size()));
  }));
}

void sinter(CommandContext& ctx) { read_op(ctx, SetOp::kInter); }
void sunion(CommandContext& ctx) { read_op(ctx, SetOp::kUnion); }
void sdiff(CommandContext& ctx) { read_op(ctx, SetOp::kDiff); }
void sinterstore(CommandContext& ctx) { store_op(ctx, SetOp::kInter); }
void sunionstore(CommandContext& ctx) { store_op(ctx, SetOp::kUnion); }
void sdiffstore(CommandContext& ctx) { store_op(ctx, SetOp::kDiff); }

// ---- SINTERCARD ----------------------------------------------------------------------------

void sintercard(CommandContext& ctx) {
  std::int64_t numkeys = 0;
  if (!resp::parse_int64(ctx.arg(1), &numkeys) || numkeys < 1) {
    ctx.error(kErrNumkeys);
    return;
  }
  if (static_cast<std::uint64_t>(numkeys) > ctx.argc() - 2) {
    ctx.error(kErrNumkeysTooMany);
    return;
  }
  const std::size_t end = 2 + static_cast<std::size_t>(numkeys);
  std::int64_t limit = 0;  // 0: no limit
  for (std::size_t i = end; i < ctx.argc(); i += 2) {
    if (!equals_ignore_case(ctx.arg(i), "limit") || i + 1 >= ctx.argc()) {
      ctx.error(kErrSyntax);
      return;
    }
    if (!resp::parse_int64(ctx.arg(i + 1), &limit) || limit < 0) {
      ctx.error(kErrLimitNegative);
      return;
    }
  }
  const std::vector<TxnKey> keys = keys_from(ctx, 2, end);
  ServerState& server = ctx.server;
  write_key_reply(ctx, run_transaction(ctx, keys, [&server, limit](TxnView& view) {
    if (!operands_are_sets(view, 0)) return KeyReply::error(kErrWrongType);
    std::int64_t count = 0;
    Status s = combine(view, 0, true, [&count, limit](std::vector<std::string>& chunk) {
      count += static_cast<std::int64_t>(chunk.size());
      if (limit > 0 && count >= limit) {
        count = limit;
        return false;
      }
      return true;
    });
    if (!s) return storage_reply(server, s);
    return KeyReply::number(count);
  }));
}

// ---- SMOVE ---------------------------------------------------------------------------------

// Stages declared key i's metadata record to match `set` (deleted when it became empty).
void stage_header(TxnView& view, std::size_t i, const types::Collection& set) {
  if (set.size() == 0) {
    view.erase(i);
    return;
  }
  std::string payload;
  types::append_collection_payload(payload, KeyType::kSet, set.header());
  view.put(i, KeyType::kSet, set.expire_ms(), payload);
}

// Moves `member` between the two declared keys' sets (they differ); false when the source
// does not hold it. A destination that holds it already is not written (nor touched for
// WATCH: Redis signals only the keys SMOVE changed).
Result<bool> move_member(TxnView& view, std::string_view member) {
  std::optional<types::Collection> source, destination;
  bool held = false;
  bool added = false;
  Status s = view.on_shard(0, [&](TxnShard& shard) -> Status {
    Result<types::Collection> set = open_set(view, 0, shard);
    if (!set) return set.error();
    Result<std::optional<std::string>> value = set->get(member);
    if (!value) return value.error();
    held = value->has_value();
    if (held) {
      set->del(member);
      --set->header().size;
    }
    source.emplace(std::move(*set));
    return Status::ok();
  });
  if (!s) return s;
  if (!held) return false;
  s = view.on_shard(1, [&](TxnShard& shard) -> Status {
    Result<types::Collection> set = open_set(view, 1, shard);
    if (!set) return set.error();
    if (!set->exists()) set->create(shard.keyspace.new_version(shard.now_ms));
    Result<std::optional<std::string>> value = set->get(member);
    if (!value) return value.error();
    if (!value->has_value()) {
      set->put(member, {});
      ++set->header().size;
      added = true;
    }
    destination.emplace(std::move(*set));
    return Status::ok();
  });
  if (!s) return s;
  stage_header(view, 0, *source);
  if (added) stage_header(view, 1, *destination);
  return true;
}

void smove(CommandContext& ctx) {
  const std::vector<TxnKey> keys = keys_from(ctx, 1, 3);
  const std::string_view member = ctx.arg(3);
  ServerState& server = ctx.server;
  write_key_reply(ctx, run_transaction(ctx, keys, [&server, member](TxnView& view) {
    // Redis's order: a missing source answers 0 before the types are checked.
    if (!view.record(0)) return KeyReply::number(0);
    if (!operands_are_sets(view, 0)) return KeyReply::error(kErrWrongType);
    if (view.key(0).key == view.key(1).key) {  // one set: only membership is answered
      std::vector<std::string> probe{std::string(member)};
      if (Status s = filter_chunk(view, 0, true, probe); !s) return storage_reply(server, s);
      return KeyReply::number(probe.empty() ? 0 : 1);
    }
    Result<bool> moved = move_member(view, member);
    if (!moved) return storage_reply(server, moved.error());
    return KeyReply::number(*moved ? 1 : 0);
  }));
}

// ---- the table -------------------------------------------------------------------------

constexpr KeySpec kReadAll[] = {{.flags = kKeyRO | kKeyAccess, .last_key = -1}};
constexpr KeySpec kReadNumkeys[] = {{.flags = kKeyRO | kKeyAccess, .find = FindKeys::kKeynum}};
// A *STORE's destination, then its sources.
constexpr KeySpec kSources = {.flags = kKeyRO | kKeyAccess, .begin_index = 2, .last_key = -1};
constexpr KeySpec kStoreUpdate[] = {{.flags = kKeyRW | kKeyUpdate}, kSources};
constexpr KeySpec kStoreOverwrite[] = {{.flags = kKeyOW | kKeyUpdate}, kSources};
constexpr KeySpec kMoveKeys[] = {{.flags = kKeyRW | kKeyAccess | kKeyDelete},
                                 {.flags = kKeyRW | kKeyInsert, .begin_index = 2}};
constexpr std::string_view kAnyOrder[] = {"nondeterministic_output_order"};

constexpr CommandSpec kCommands[] = {
    {.name = "smove", .arity = 4, .flags = kCmdWrite | kCmdFast, .categories = kAclSet,
     .first_key = 1, .last_key = 2, .key_step = 1, .group = "set", .since = "1.0.0",
     .summary = "Moves a member from one set to another", .complexity = "O(1)",
     .key_specs = kMoveKeys, .handler = smove},
    {.name = "sinter", .arity = -2, .flags = kCmdReadonly, .categories = kAclSet,
     .first_key = 1, .last_key = -1, .key_step = 1, .group = "set", .since = "1.0.0",
     .summary = "Returns the intersection of sets",
     .complexity = "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.",
     .tips = kAnyOrder, .key_specs = kReadAll, .handler = sinter},
    {.name = "sintercard", .arity = -3, .flags = kCmdReadonly | kCmdMovableKeys,
     .categories = kAclSet, .first_key = 0, .last_key = 0, .key_step = 0, .group = "set",
     .since = "7.0.0", .summary = "Returns the number of members of the intersection of sets",
     .complexity = "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.",
     .key_specs = kReadNumkeys, .handler = sintercard},
    {.name = "sunion", .arity = -2, .flags = kCmdReadonly, .categories = kAclSet,
     .first_key = 1, .last_key = -1, .key_step = 1, .group = "set", .since = "1.0.0",
     .summary = "Returns the union of sets",
     .complexity = "O(N) where N is the total number of elements in all given sets.",
     .tips = kAnyOrder, .key_specs = kReadAll, .handler = sunion},
    {.name = "sdiff", .arity = -2, .flags = kCmdReadonly, .categories = kAclSet,
     .first_key = 1, .last_key = -1, .key_step = 1, .group = "set", .since = "1.0.0",
     .summary = "Returns the members of the first set missing from the others",
     .complexity = "O(N) where N is the total number of elements in all given sets.",
     .tips = kAnyOrder, .key_specs = kReadAll, .handler = sdiff},
    {.name = "sinterstore", .arity = -3, .flags = kCmdWrite | kCmdDenyoom, .categories = kAclSet,
     .first_key = 1, .last_key = -1, .key_step = 1, .group = "set", .since = "1.0.0",
     .summary = "Stores the intersection of sets in a key",
     .complexity = "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.",
     .key_specs = kStoreUpdate, .handler = sinterstore},
    {.name = "sunionstore", .arity = -3, .flags = kCmdWrite | kCmdDenyoom, .categories = kAclSet,
     .first_key = 1, .last_key = -1, .key_step = 1, .group = "set", .since = "1.0.0",
     .summary = "Stores the union of sets in a key",
     .complexity = "O(N) where N is the total number of elements in all given sets.",
     .key_specs = kStoreOverwrite, .handler = sunionstore},
    {.name = "sdiffstore", .arity = -3, .flags = kCmdWrite | kCmdDenyoom, .categories = kAclSet,
     .first_key = 1, .last_key = -1, .key_step = 1, .group = "set", .since = "1.0.0",
     .summary = "Stores the difference of sets in a key",
     .complexity = "O(N) where N is the total number of elements in all given sets.",
     .key_specs = kStoreOverwrite, .handler = sdiffstore},
};

}  // namespace

std::span<const CommandSpec> set_algebra_commands() { return kCommands; }

}  // namespace cascade::commands
