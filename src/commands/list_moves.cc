// The list commands over several keys: LMOVE RPOPLPUSH LMPOP.
//
// Their keys may live on different shards, so each runs as one transaction
// (transaction.h): the keys' locks are taken in the global order, decide reads the records
// and the few members it needs (TxnView::get_members: the element at an end of a list, one
// seek each), and stages the member and record writes of every key, which commit as one
// engine batch per shard, or through the decision record when two shards are written
// (crash-atomic either way). So LMOVE never shows the element in both lists or in neither.
#include <string>
#include <vector>

#include "resp/decimal.h"
#include "src/commands/blocking.h"
#include "src/commands/command_families.h"
#include "src/commands/list_commands.h"
#include "src/commands/transaction.h"
#include "src/server/dispatcher.h"
#include "src/types/collection.h"

namespace cascade::commands {

using namespace cascade::server;
using types::CollectionHeader;
using types::KeyType;
using types::ListEnd;

std::optional<ListEnd> parse_list_end(std::string_view text) {
  if (equals_ignore_case(text, "left")) return ListEnd::kHead;
  if (equals_ignore_case(text, "right")) return ListEnd::kTail;
  return std::nullopt;
}

namespace {

constexpr std::string_view kErrNumkeys = "ERR numkeys should be greater than 0";
constexpr std::string_view kErrCount = "ERR count should be greater than 0";

// A failure inside decide: logged here, since decide's reply is all the caller sees.
KeyReply decide_failure(CommandContext& ctx, const Status& s) {
  ctx.server.logger().warning("Storage error in {}: {}", ctx.command.name, s.to_string());
  return KeyReply::error(server::storage_error(s));
}

// Declared key i's list header (it must be a list record).
Result<CollectionHeader> header_of(TxnView& view, std::size_t i) {
  return types::decode_collection_payload(KeyType::kList, view.record(i)->payload());
}

std::string element_key(TxnView& view, std::size_t i, const CollectionHeader& h,
                         std::uint64_t index) {
  std::string key = types::member_prefix(view.db_id(i), view.key(i).key, h.version);
  types::append_u64_be(key, index);
  return key;
}

// Stages key i's record for header h (its deletion when the list became empty).
void stage_list(TxnView& view, std::size_t i, const CollectionHeader& h,
                std::optional<std::int64_t> expire_ms) {
  if (h.size == 0) {
    view.erase(i);
    return;
  }
  std::string payload;
  types::append_collection_payload(payload, KeyType::kList, h);
  view.put(i, KeyType::kList, expire_ms, payload);
}

// Pops up to `count` elements from `end` of declared key i (a list), nearest first.
Result<std::vector<std::string>> pop_staged(TxnView& view, std::size_t i, ListEnd end,
                                            std::uint64_t count) {
  Result<CollectionHeader> h = header_of(view, i);
  if (!h) return h.error();
  count = std::min(count, h->size);
  std::vector<std::string> keys;
  keys.reserve(count);
  for (std::uint64_t j = 0; j < count; ++j) {
    keys.push_back(element_key(view, i, *h, end == ListEnd::kHead ? h->head + j : h->tail - 1 - j));
  }
  Result<std::vector<std::optional<std::string>>> values = view.get_members(i, keys);
  if (!values) return values.error();
  std::vector<std::string> out;
  out.reserve(count);
  for (std::uint64_t j = 0; j < count; ++j) {
    if (!(*values)[j]) return Status::corruption("a list element inside [head, tail) is missing");
    out.push_back(std::move(*(*values)[j]));
    view.del_member(i, std::move(keys[j]));
  }
  if (end == ListEnd::kHead) {
    h->head += count;
  } else {
    h->tail -= count;
  }
  h->size -= count;
  stage_list(view, i, *h, view.record(i)->expire_ms);
  return out;
}

// Pushes `value` at `end` of declared key i (a list or missing: then a new list, with
// `new_expire_ms`).
Status push_staged(TxnView& view, std::size_t i, ListEnd end, std::string_view value,
                   std::optional<std::int64_t> new_expire_ms = std::nullopt) {
  CollectionHeader h;
  std::optional<std::int64_t> expire_ms = new_expire_ms;
  if (view.record(i)) {
    Result<CollectionHeader> found = header_of(view, i);
    if (!found) return found.error();
    h = *found;
    expire_ms = view.record(i)->expire_ms;
  } else {
    h.version = view.fresh_version(i);
  }
  const std::uint64_t index = end == ListEnd::kHead ? --h.head : h.tail++;
  ++h.size;
  view.put_member(i, element_key(view, i, h, index), value);
  stage_list(view, i, h, expire_ms);
  return Status::ok();
}

bool holds_other_type(const TxnView& view, std::size_t i) {
  return view.record(i) && view.record(i)->type != KeyType::kList;
}

}  // namespace

KeyReply move_list_element(CommandContext& ctx, std::string_view src, std::string_view dst,
                           ListEnd from, ListEnd to) {
  const TxnKey keys[] = {{client_db(ctx), src}, {client_db(ctx), dst}};
  KeyReply reply = run_transaction(ctx, keys, [&ctx, from, to](TxnView& view) {
    if (!view.record(0)) return KeyReply::null();
    if (holds_other_type(view, 0) || holds_other_type(view, 1)) {
      return KeyReply::error(kErrWrongType);
    }
    // One key (a rotation): popping its only element erases the record, and the push
    // makes the list again, with the expiry it had (Redis never deletes it).
    const std::optional<std::int64_t> expire_ms = view.record(0)->expire_ms;
    const bool one_key = view.key(0).key == view.key(1).key;
    Result<std::vector<std::string>> popped = pop_staged(view, 0, from, 1);
    if (!popped) return decide_failure(ctx, popped.error());
    if (Status s = push_staged(view, 1, to, popped->front(),
                               one_key ? expire_ms : std::nullopt);
        !s) {
      return decide_failure(ctx, s);
    }
    return KeyReply::bulk(std::move(popped->front()));
  });
  // The transaction wakes dst's waiters after its commit (transaction.h); inside EXEC, the
  // EXEC does after its own.
  return reply;
}

KeyReply pop_first_list(CommandContext& ctx, std::span<const std::string_view> keys,
                        ListEnd end, std::uint64_t count) {
  std::vector<TxnKey> txn_keys;
  txn_keys.reserve(keys.size());
  for (std::string_view key : keys) txn_keys.push_back({client_db(ctx), key});
  return run_transaction(ctx, txn_keys, [&ctx, end, count](TxnView& view) {
    for (std::size_t i = 0; i < view.size(); ++i) {
      if (!view.record(i)) continue;
      if (holds_other_type(view, i)) return KeyReply::error(kErrWrongType);
      Result<std::vector<std::string>> popped = pop_staged(view, i, end, count);
      if (!popped) return decide_failure(ctx, popped.error());
      std::vector<KeyReply> items;
      items.push_back(KeyReply::bulk(std::string(view.key(i).key)));
      items.push_back(bulk_array(std::move(*popped)));
      return KeyReply::array(std::move(items));
    }
    return KeyReply::null_array();
  });
}

std::optional<MultiPopArgs> parse_multi_pop(CommandContext& ctx, std::size_t first) {
  std::int64_t numkeys = 0;
  if (!resp::parse_int64(ctx.arg(first), &numkeys) || numkeys <= 0) {
    ctx.error(kErrNumkeys);
    return std::nullopt;
  }
  const std::size_t where = first + 1 + static_cast<std::size_t>(std::min<std::int64_t>(
                                            numkeys, static_cast<std::int64_t>(ctx.argc())));
  if (where >= ctx.argc()) {
    ctx.error(kErrSyntax);
    return std::nullopt;
  }
  MultiPopArgs args;
  const std::optional<ListEnd> end = parse_list_end(ctx.arg(where));
  if (!end) {
    ctx.error(kErrSyntax);
    return std::nullopt;
  }
  args.end = *end;
  bool counted = false;
  for (std::size_t i = where + 1; i < ctx.argc(); ++i) {
    std::int64_t count = 0;
    if (!counted && equals_ignore_case(ctx.arg(i), "count") && i + 1 < ctx.argc()) {
      if (!resp::parse_int64(ctx.arg(i + 1), &count) || count <= 0) {
        ctx.error(kErrCount);
        return std::nullopt;
      }
      args.count = static_cast<std::uint64_t>(count);
      counted = true;
      ++i;
      continue;
    }
    ctx.error(kErrSyntax);
    return std::nullopt;
  }
  for (std::size_t i = first + 1; i < where; ++i) args.keys.push_back(ctx.arg(i));
  return args;
}

namespace {

void lmove(CommandContext& ctx) {
  const std::optional<ListEnd> from = parse_list_end(ctx.arg(3));
  const std::optional<ListEnd> to = parse_list_end(ctx.arg(4));
  if (!from || !to) {
    ctx.error(kErrSyntax);
    return;
  }
  write_key_reply(ctx, move_list_element(ctx, ctx.arg(1), ctx.arg(2), *from, *to));
}

void rpoplpush(CommandContext& ctx) {
  write_key_reply(ctx, move_list_element(ctx, ctx.arg(1), ctx.arg(2), ListEnd::kTail, ListEnd::kHead));
}

void lmpop(CommandContext& ctx) {
  std::optional<MultiPopArgs> args = parse_multi_pop(ctx, 1);
  if (!args) return;
  write_key_reply(ctx, pop_first_list(ctx, args->keys, args->end, args->count));
}

constexpr KeySpec kMove[] = {{.flags = kKeyRW | kKeyAccess | kKeyDelete},
                             {.flags = kKeyRW | kKeyInsert, .begin_index = 2}};

constexpr KeySpec kPopNumkeys[] = {
    {.flags = kKeyRW | kKeyAccess | kKeyDelete, .find = FindKeys::kKeynum}};

constexpr CommandSpec kCommands[] = {
    {.name = "lmove", .arity = 5, .flags = kCmdWrite | kCmdDenyoom, .categories = kAclList,
     .first_key = 1, .last_key = 2, .key_step = 1, .group = "list", .since = "6.2.0",
     .summary = "Moves an element from one end of a list to an end of another",
     .complexity = "O(1)", .key_specs = kMove, .handler = lmove},
    {.name = "rpoplpush", .arity = 3, .flags = kCmdWrite | kCmdDenyoom, .categories = kAclList,
     .first_key = 1, .last_key = 2, .key_step = 1, .group = "list", .since = "1.2.0",
     .summary = "Moves the last element of a list to the head of another",
     .complexity = "O(1)", .key_specs = kMove, .handler = rpoplpush},
    {.name = "lmpop", .arity = -4, .flags = kCmdWrite | kCmdMovableKeys, .categories = kAclList,
     .group = "list", .since = "7.0.0",
     .summary = "Pops elements from the first non-empty list among several",
     .complexity = "O(N+M) where N is the number of keys given and M the elements returned",
     .key_specs = kPopNumkeys, .handler = lmpop},
};

}  // namespace

std::span<const CommandSpec> list_move_commands() { return kCommands; }

}  // namespace cascade::commands
