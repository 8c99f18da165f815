// The sorted-set family over several keys: ZUNION ZINTER ZDIFF ZUNIONSTORE ZINTERSTORE
// ZDIFFSTORE ZINTERCARD ZRANGESTORE ZMPOP. The keys may live on several shards, so each
// runs as a transaction (transaction.h): decide reads the sources' members on their
// shards and stages the destination's members on its shard (TxnView::on_shard), and the
// commit writes them with the metadata records, crash-atomic across shards.
//
// Memory: a union gathers every source's members (its result is written or returned whole
// anyway); an intersection holds only its smallest source and probes the others member by
// member, a difference only its first source. ZRANGESTORE holds only its range, ZMPOP only
// what it pops.
//
// Redis's order of checks, followed here: numkeys and the key count first, then every
// source's type (WRONGTYPE), then the options (WEIGHTS, AGGREGATE, WITHSCORES, LIMIT).
// Sets are sources too, each member with score 1 (the collection format of sets).
#include <algorithm>
#include <cmath>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "resp/decimal.h"
#include "src/commands/command_families.h"
#include "src/commands/transaction.h"
#include "src/commands/zset_args.h"
#include "src/commands/zset_reply.h"
#include "src/commands/zset_walk.h"
#include "src/server/dispatcher.h"
#include "src/types/collection.h"
#include "src/types/zset.h"

namespace cascade::commands {
namespace {

using namespace cascade::server;
using types::Collection;
using types::KeyType;
using types::ZSet;

using Members = std::vector<std::pair<std::string, double>>;

KeyReply storage_reply(CommandContext& ctx, const Status& s) {
  ctx.server.logger().warning("Storage error in a sorted-set command: {}", s.to_string());
  return KeyReply::error(server::storage_error(s));
}

// Every member of declared key i (a zset or a set; present), with its score.
Status read_members(TxnView& view, std::size_t i, Members& out) {
  const types::StoredRecord& record = *view.record(i);
  return view.on_shard(i, [&](TxnShard& shard) -> Status {
    Result<Collection> c = Collection::open(shard.writes, shard.db_id, view.key(i).key,
                                            record.type, record);
    if (!c) return c.error();
    const std::size_t skip = c->prefix().size();
    if (record.type == KeyType::kSet) {
      types::StagedWrites::Cursor cursor = c->cursor();
      for (cursor.seek_to_first(); cursor.valid(); cursor.next()) {
        out.emplace_back(std::string(cursor.key().substr(skip)), 1.0);
      }
      return cursor.status();
    }
    ZSet z(*c);
    types::StagedWrites::Cursor cursor = z.index();
    for (cursor.seek_to_first(); cursor.valid(); cursor.next()) {
      out.emplace_back(std::string(z.index_member(cursor.key())), z.index_score(cursor.key()));
    }
    return cursor.status();
  });
}

std::uint64_t source_size(TxnView& view, std::size_t i) {
  const auto& record = view.record(i);
  if (!record) return 0;
  Result<types::CollectionHeader> header = types::decode_collection_payload(record->type, record->payload());
  return header ? header->size : 0;
}

// Replaces declared key i with a new sorted set of `members` (distinct), or deletes it
// when there are none. The members go to a fresh version on the key's shard.
Status store_members(TxnView& view, std::size_t i, const Members& members) {
  if (members.empty()) {
    if (view.record(i)) view.erase(i);
    return Status::ok();
  }
  types::CollectionHeader header;
  Status s = view.on_shard(i, [&](TxnShard& shard) -> Status {
    Result<Collection> c = Collection::open(shard.writes, shard.db_id, view.key(i).key,
                                            KeyType::kZSet, std::nullopt);
    if (!c) return c.error();
    c->create(shard.keyspace.new_version(view.now_ms));
    // A new version: no rank index, until a far rank query builds one (types/zset.h).
    ZSet z(*c);
    for (const auto& [member, score] : members) {
      if (Status s = z.set(member, score, std::nullopt); !s) return s;
    }
    header = c->header();
    return Status::ok();
  });
  if (!s) return s;
  std::string payload;
  types::append_collection_payload(payload, KeyType::kZSet, header);
  view.put(i, KeyType::kZSet, std::nullopt, payload);
  return Status::ok();
}

// ---- ZUNION ZINTER ZDIFF and their STORE forms, ZINTERCARD ------------------------------------

enum class SetOp : std::uint8_t { kUnion, kInter, kDiff };
enum class Aggregate : std::uint8_t { kSum, kMin, kMax };

struct SetOpRequest {
  SetOp op = SetOp::kUnion;
  std::size_t first_source = 0;  // argument index of the first source key
  std::size_t sources = 0;
  std::vector<double> weights;
  Aggregate aggregate = Aggregate::kSum;
  bool withscores = false;
  std::int64_t limit = 0;  // ZINTERCARD; 0: none
  std::string_view option_error;  // reported after the sources' types, as Redis does
};

// Redis's arithmetic: a NaN sum (inf + -inf) becomes 0; MIN and MAX keep the current
// value when a comparison with NaN fails.
void aggregate_into(double& target, double value, Aggregate a) {
  if (a == Aggregate::kSum) {
    target += value;
    if (std::isnan(target)) target = 0.0;
  } else if (a == Aggregate::kMin) {
    target = value < target ? value : target;
  } else {
    target = value > target ? value : target;
  }
}

// Parses what follows the source keys into `r` (errors kept in option_error).
void parse_set_options(CommandContext& ctx, std::size_t j, bool store, bool card, SetOpRequest& r) {
  r.weights.assign(r.sources, 1.0);
  while (j < ctx.argc()) {
    const std::size_t remaining = ctx.argc() - j;
    const std::string_view opt = ctx.arg(j);
    if (r.op != SetOp::kDiff && !card && remaining >= r.sources + 1 && equals_ignore_case(opt, "weights")) {
      ++j;
      for (std::size_t i = 0; i < r.sources; ++i, ++j) {
        if (!parse_score(ctx.arg(j), &r.weights[i])) {
          r.option_error = kErrWeightNotFloat;
          return;
        }
      }
    } else if (r.op != SetOp::kDiff && !card && remaining >= 2 && equals_ignore_case(opt, "aggregate")) {
      const std::string_view how = ctx.arg(j + 1);
      if (equals_ignore_case(how, "sum")) r.aggregate = Aggregate::kSum;
      else if (equals_ignore_case(how, "min")) r.aggregate = Aggregate::kMin;
      else if (equals_ignore_case(how, "max")) r.aggregate = Aggregate::kMax;
      else {
        r.option_error = kErrSyntax;
        return;
      }
      j += 2;
    } else if (!store && !card && equals_ignore_case(opt, "withscores")) {
      r.withscores = true;
      ++j;
    } else if (card && remaining >= 2 && equals_ignore_case(opt, "limit")) {
      if (!resp::parse_int64(ctx.arg(j + 1), &r.limit) || r.limit < 0) {
        r.option_error = kErrLimitNegative;
        return;
      }
      j += 2;
    } else {
      r.option_error = kErrSyntax;
      return;
    }
  }
}

// The scores in declared key i of the candidates still `alive` (nullopt: not a member),
// looked up one by one on the key's shard: an intersection or a difference never loads
// the other sources whole, only the set it starts from.
Status probe(TxnView& view, std::size_t i, const Members& candidates,
             const std::vector<bool>& alive, std::vector<std::optional<double>>& found) {
  found.assign(candidates.size(), std::nullopt);
  const types::StoredRecord& record = *view.record(i);
  return view.on_shard(i, [&](TxnShard& shard) -> Status {
    Result<Collection> c = Collection::open(shard.writes, shard.db_id, view.key(i).key,
                                            record.type, record);
    if (!c) return c.error();
    ZSet z(*c);
    for (std::size_t m = 0; m < candidates.size(); ++m) {
      if (!alive[m]) continue;
      if (record.type == KeyType::kSet) {
        Result<std::optional<std::string>> v = c->get(candidates[m].first);
        if (!v) return v.error();
        if (v->has_value()) found[m] = 1.0;
        continue;
      }
      Result<std::optional<double>> score = z.score(candidates[m].first);
      if (!score) return score.error();
      found[m] = *score;
    }
    return Status::ok();
  });
}

// Drops the members no longer alive, keeping the others' order.
void keep_alive(Members& members, const std::vector<bool>& alive) {
  std::size_t kept = 0;
  for (std::size_t m = 0; m < members.size(); ++m) {
    if (!alive[m]) continue;
    if (kept != m) members[kept] = std::move(members[m]);
    ++kept;
  }
  members.resize(kept);
}

double weighted(const SetOpRequest& r, std::size_t i, double score) {
  const double v = r.weights[i] * score;
  return std::isnan(v) ? 0.0 : v;
}

// Every source read whole, aggregated in `order`.
Status union_of(TxnView& view, const SetOpRequest& r, std::size_t base,
                const std::vector<std::size_t>& order, Members& result) {
  std::unordered_map<std::string, std::size_t> at;  // member -> its place in result
  for (std::size_t i : order) {
    if (!view.record(base + i)) continue;
    Members source;
    if (Status s = read_members(view, base + i, source); !s) return s;
    for (auto& [member, score] : source) {
      const double v = weighted(r, i, score);
      auto [it, fresh] = at.try_emplace(member, result.size());
      if (fresh) {
        result.emplace_back(std::move(member), v);
      } else {
        aggregate_into(result[it->second].second, v, r.aggregate);
      }
    }
  }
  return Status::ok();
}

// The smallest source read whole, the others probed in `order` (Redis aggregates a member
// found in them without its NaN-to-0 rule for the weighted value; SUM's rule still applies).
Status inter_of(TxnView& view, const SetOpRequest& r, std::size_t base,
                const std::vector<std::size_t>& order, Members& result) {
  const std::size_t first = order[0];
  if (!view.record(base + first)) return Status::ok();
  if (Status s = read_members(view, base + first, result); !s) return s;
  std::vector<bool> alive(result.size(), true);
  for (auto& entry : result) entry.second = weighted(r, first, entry.second);
  std::vector<std::optional<double>> found;
  for (std::size_t k = 1; k < order.size(); ++k) {
    if (!view.record(base + order[k])) {  // cannot happen: a missing source sorts first
      result.clear();
      return Status::ok();
    }
    if (Status s = probe(view, base + order[k], result, alive, found); !s) return s;
    for (std::size_t m = 0; m < result.size(); ++m) {
      if (!alive[m]) continue;
      if (!found[m]) {
        alive[m] = false;
      } else {
        aggregate_into(result[m].second, *found[m] * r.weights[order[k]], r.aggregate);
      }
    }
  }
  keep_alive(result, alive);
  return Status::ok();
}

// The first source read whole, the others probed; scores are the first source's.
Status diff_of(TxnView& view, const SetOpRequest& r, std::size_t base, Members& result) {
  if (!view.record(base)) return Status::ok();
  if (Status s = read_members(view, base, result); !s) return s;
  std::vector<bool> alive(result.size(), true);
  std::vector<std::optional<double>> found;
  for (std::size_t k = 1; k < r.sources; ++k) {
    if (!view.record(base + k)) continue;
    if (Status s = probe(view, base + k, result, alive, found); !s) return s;
    for (std::size_t m = 0; m < result.size(); ++m) {
      if (found[m]) alive[m] = false;
    }
  }
  keep_alive(result, alive);
  return Status::ok();
}

// The result as Redis's destination set holds it: by score, then by member.
Members compute_set_op(TxnView& view, const SetOpRequest& r, std::size_t base, Status& status) {
  // Sources in ascending size (a stable sort, as glibc's qsort is): SUM adds in this order.
  std::vector<std::size_t> order(r.sources);
  for (std::size_t i = 0; i < r.sources; ++i) order[i] = i;
  if (r.op != SetOp::kDiff) {
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      return source_size(view, base + a) < source_size(view, base + b);
    });
  }
  Members result;
  switch (r.op) {
    case SetOp::kUnion: status = union_of(view, r, base, order, result); break;
    case SetOp::kInter: status = inter_of(view, r, base, order, result); break;
    case SetOp::kDiff: status = diff_of(view, r, base, result); break;
  }
  if (!status) return {};
  std::sort(result.begin(), result.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second < b.second : a.first < b.first;
  });
  return result;
}

// numkeys at argument `at`; fills r.sources and r.first_source, or returns the error text.
std::string_view parse_numkeys(CommandContext& ctx, std::string_view name, std::size_t at,
                               SetOpRequest& r, std::string& message) {
  std::int64_t n = 0;
  if (!resp::parse_int64(ctx.arg(at), &n)) return kErrNotInteger;
  if (n < 1) {
    message = "ERR at least 1 input key is needed for '" + std::string(name) + "' command";
    return message;
  }
  if (static_cast<std::uint64_t>(n) > ctx.argc() - at - 1) return kErrSyntax;
  r.sources = static_cast<std::size_t>(n);
  r.first_source = at + 1;
  return {};
}

void set_op_command(CommandContext& ctx, std::string_view name, SetOp op, bool store, bool card) {
  SetOpRequest r;
  r.op = op;
  std::string message;
  if (std::string_view e = parse_numkeys(ctx, name, store ? 2 : 1, r, message); !e.empty()) {
    return ctx.error(e);
  }
  parse_set_options(ctx, r.first_source + r.sources, store, card, r);
  std::vector<TxnKey> keys;
  if (store) keys.push_back({client_db(ctx), ctx.arg(1)});
  const std::size_t base = keys.size();
  for (std::size_t i = 0; i < r.sources; ++i) keys.push_back({client_db(ctx), ctx.arg(r.first_source + i)});
  const bool resp3 = ctx.reply.resp3();
  KeyReply reply = run_transaction(ctx, keys, [&](TxnView& view) -> KeyReply {
    for (std::size_t i = 0; i < r.sources; ++i) {
      const auto& record = view.record(base + i);
      if (record && record->type != KeyType::kZSet && record->type != KeyType::kSet) {
        return KeyReply::error(kErrWrongType);
      }
    }
    if (!r.option_error.empty()) return KeyReply::error(r.option_error);
    Status status;
    Members result = compute_set_op(view, r, base, status);
    if (!status) return storage_reply(ctx, status);
    if (card) {
      auto n = static_cast<std::int64_t>(result.size());
      if (r.limit > 0) n = std::min(n, r.limit);
      return KeyReply::number(n);
    }
    if (store) {
      if (Status s = store_members(view, 0, result); !s) return storage_reply(ctx, s);
      return KeyReply::number(static_cast<std::int64_t>(result.size()));
    }
    ScoredReply out(resp3, r.withscores);
    for (const auto& [member, score] : result) out.add(score, member);
    return out.finish();
  });
  write_key_reply(ctx, std::move(reply));
}

void zunion(CommandContext& ctx) { set_op_command(ctx, "zunion", SetOp::kUnion, false, false); }
void zinter(CommandContext& ctx) { set_op_command(ctx, "zinter", SetOp::kInter, false, false); }
void zdiff(CommandContext& ctx) { set_op_command(ctx, "zdiff", SetOp::kDiff, false, false); }
void zunionstore(CommandContext& ctx) { set_op_command(ctx, "zunionstore", SetOp::kUnion, true, false); }
void zinterstore(CommandContext& ctx) { set_op_command(ctx, "zinterstore", SetOp::kInter, true, false); }
void zdiffstore(CommandContext& ctx) { set_op_command(ctx, "zdiffstore", SetOp::kDiff, true, false); }
void zintercard(CommandContext& ctx) { set_op_command(ctx, "zintercard", SetOp::kInter, false, true); }

// ---- ZRANGESTORE -----------------------------------------------------------------------------

void zrangestore(CommandContext& ctx) {
  ZRangeRequest request;
  if (std::string_view e = parse_zrange(ctx.args, 2, true, false, &request); !e.empty()) {
    return ctx.error(e);
  }
  const TxnKey keys[] = {{client_db(ctx), ctx.arg(1)}, {client_db(ctx), ctx.arg(2)}};
  KeyReply reply = run_transaction(ctx, keys, [&](TxnView& view) -> KeyReply {
    const auto& source = view.record(1);
    Members range;
    if (source) {
      if (source->type != KeyType::kZSet) return KeyReply::error(kErrWrongType);
      Status s = view.on_shard(1, [&](TxnShard& shard) -> Status {
        Result<Collection> c = Collection::open(shard.writes, shard.db_id, view.key(1).key,
                                                KeyType::kZSet, source);
        if (!c) return c.error();
        ZSet z(*c);
        return walk_request(z, request, [&](double score, std::string_view member) {
          range.emplace_back(std::string(member), score);
        });
      });
      if (!s) return storage_reply(ctx, s);
    }
    if (Status s = store_members(view, 0, range); !s) return storage_reply(ctx, s);
    return KeyReply::number(static_cast<std::int64_t>(range.size()));
  });
  write_key_reply(ctx, std::move(reply));
}

// ---- ZMPOP -------------------------------------------------------------------------------------

// Pops from the first of the keys that exists; a key of another type before it is
// WRONGTYPE. Replies [key, [[member, score]...]], or a null array when every key is missing.
void zmpop(CommandContext& ctx) {
  ZmpopArgs args;
  if (std::string_view error = parse_zmpop_args(ctx.args, 1, args); !error.empty()) {
    return ctx.error(error);
  }
  const bool max = args.max;
  const std::int64_t count = args.count;
  std::vector<TxnKey> keys;
  for (std::string_view key : args.keys) keys.push_back({client_db(ctx), key});
  KeyReply reply = run_transaction(ctx, keys, [&](TxnView& view) -> KeyReply {
    for (std::size_t i = 0; i < view.size(); ++i) {
      const auto& record = view.record(i);
      if (!record) continue;
      if (record->type != KeyType::kZSet) return KeyReply::error(kErrWrongType);
      ScoredReply popped(true, true);
      types::CollectionHeader header;
      Status s = view.on_shard(i, [&](TxnShard& shard) -> Status {
        Result<Collection> c = Collection::open(shard.writes, shard.db_id, view.key(i).key,
                                                KeyType::kZSet, record);
        if (!c) return c.error();
        ZSet z(*c);
        Status p = pop_members(z, max, count, popped);
        header = c->header();
        return p;
      });
      if (!s) return storage_reply(ctx, s);
      if (header.size == 0) {
        view.erase(i);
      } else {
        std::string payload;
        types::append_collection_payload(payload, KeyType::kZSet, header);
        view.put(i, KeyType::kZSet, record->expire_ms, payload);
      }
      std::vector<KeyReply> items;
      items.push_back(KeyReply::bulk(std::string(view.key(i).key)));
      items.push_back(popped.finish());
      return KeyReply::array(std::move(items));
    }
    return KeyReply::null_array();
  });
  write_key_reply(ctx, std::move(reply));
}

// ---- the table -----------------------------------------------------------------------------

// COMMAND INFO: these find their keys through numkeys (Redis's "keynum" key specs); first,
// last and step are Redis's legacy values (the destination of a *STORE, else none).
constexpr KeySpec kStoreRange[] = {{.flags = kKeyOW | kKeyUpdate},
                                   {.flags = kKeyRO | kKeyAccess, .begin_index = 2}};
constexpr KeySpec kReadNumkeys[] = {{.flags = kKeyRO | kKeyAccess, .find = FindKeys::kKeynum}};
constexpr KeySpec kStoreNumkeys[] = {
    {.flags = kKeyOW | kKeyUpdate},
    {.flags = kKeyRO | kKeyAccess, .begin_index = 2, .find = FindKeys::kKeynum}};
constexpr KeySpec kPopNumkeys[] = {
    {.flags = kKeyRW | kKeyAccess | kKeyDelete, .find = FindKeys::kKeynum}};

constexpr CommandSpec set_op(std::string_view name, int arity, std::uint32_t flags, int first,
                             std::string_view since, std::string_view summary,
                             server::CommandHandler handler,
                             std::span<const KeySpec> key_specs) {
  return {.name = name, .arity = arity, .flags = flags | kCmdMovableKeys,
          .categories = kAclSortedSet, .first_key = first, .last_key = first, .key_step = first,
          .group = "sorted-set", .since = since, .summary = summary,
          .complexity = "O(N) for N members of the sources, plus O(M*log(M)) to order M results",
          .key_specs = key_specs, .handler = handler};
}

constexpr CommandSpec kCommands[] = {
    set_op("zunion", -3, kCmdReadonly, 0, "6.2.0", "Returns the union of sorted sets", zunion,
           kReadNumkeys),
    set_op("zinter", -3, kCmdReadonly, 0, "6.2.0", "Returns the intersection of sorted sets", zinter,
           kReadNumkeys),
    set_op("zdiff", -3, kCmdReadonly, 0, "6.2.0", "Returns the difference of sorted sets", zdiff,
           kReadNumkeys),
    set_op("zunionstore", -4, kCmdWrite | kCmdDenyoom, 1, "2.0.0",
           "Stores the union of sorted sets in a key", zunionstore, kStoreNumkeys),
    set_op("zinterstore", -4, kCmdWrite | kCmdDenyoom, 1, "2.0.0",
           "Stores the intersection of sorted sets in a key", zinterstore, kStoreNumkeys),
    set_op("zdiffstore", -4, kCmdWrite | kCmdDenyoom, 1, "6.2.0",
           "Stores the difference of sorted sets in a key", zdiffstore, kStoreNumkeys),
    set_op("zintercard", -3, kCmdReadonly, 0, "7.0.0",
           "Counts the members of the intersection of sorted sets", zintercard, kReadNumkeys),
    set_op("zmpop", -4, kCmdWrite, 0, "7.0.0",
           "Removes and returns members with the lowest or highest scores from the first non-empty sorted set",
           zmpop, kPopNumkeys),
    {.name = "zrangestore", .arity = -5, .flags = kCmdWrite | kCmdDenyoom,
     .categories = kAclSortedSet, .first_key = 1, .last_key = 2, .key_step = 1,
     .group = "sorted-set", .since = "6.2.0",
     .summary = "Stores a range of a sorted set's members in a key",
     .complexity = "O(M) for M members stored, plus the walk to the range's start",
     .key_specs = kStoreRange, .handler = zrangestore},
};

}  // namespace

std::span<const CommandSpec> zset_multi_commands() { return kCommands; }

}  // namespace cascade::commands
