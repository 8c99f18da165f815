// The list family, single-key commands: LPUSH RPUSH LPUSHX RPUSHX LPOP RPOP LLEN LRANGE
// LINDEX LSET LINSERT LREM LTRIM LPOS. (LMOVE RPOPLPUSH LMPOP are list_moves.cc; the
// blocking pops list_blocking.cc.)
//
// A list is a collection (src/types/collection.h) whose elements are member entries at
// contiguous indexes [head, tail); types::List (src/types/list.h) keeps that invariant, so a
// position is one seek. Reads take no lock (like GET); writes run under the key's lock and
// commit members and metadata in one engine batch (collection_access.h). A command that
// adds elements wakes the clients blocked on the key (blocking.h) once its write is
// committed.
//
// Index arguments follow Redis: negative counts from the end (-1 the last element);
// LRANGE and LTRIM clamp out-of-range bounds; LINDEX and LSET do not.
#include <algorithm>
#include <string>
#include <vector>

#include "resp/decimal.h"
#include "src/commands/blocking.h"
#include "src/commands/collection_access.h"
#include "src/commands/command_families.h"
#include "src/commands/list_commands.h"
#include "src/server/dispatcher.h"
#include "src/types/list.h"

namespace cascade::commands {

using namespace cascade::server;
using types::KeyType;
using types::List;
using types::ListEnd;

std::optional<std::int64_t> parse_list_index(std::string_view text) {
  std::int64_t v = 0;
  if (!resp::parse_int64(text, &v)) return std::nullopt;
  return v;
}

KeyReply bulk_array(const std::vector<std::string>& elements) {
  resp::EncodedElements items;
  for (const std::string& e : elements) items.bulk(e);
  return KeyReply::encoded_array(std::move(items));
}

namespace {

constexpr std::string_view kErrNotPositive = "ERR value is out of range, must be positive";
constexpr std::string_view kErrIndexOutOfRange = "ERR index out of range";
constexpr std::string_view kErrRankZero =
    "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or "
    "use negative to start from the end of the list";
constexpr std::string_view kErrCountNegative = "ERR COUNT can't be negative";
constexpr std::string_view kErrMaxlenNegative = "ERR MAXLEN can't be negative";

// A Redis index (negative from the end) as a position, when it names an element.
std::optional<std::uint64_t> position_of(std::int64_t index, std::uint64_t size) {
  const auto n = static_cast<std::int64_t>(size);
  if (index < 0) index += n;
  if (index < 0 || index >= n) return std::nullopt;
  return static_cast<std::uint64_t>(index);
}

// LRANGE/LTRIM's clamping: the positions [first, last] the bounds cover, or nullopt when
// they cover none.
std::optional<std::pair<std::uint64_t, std::uint64_t>> clamp_range(std::int64_t start,
                                                                   std::int64_t stop,
                                                                   std::uint64_t size) {
  const auto n = static_cast<std::int64_t>(size);
  if (start < 0) start = std::max<std::int64_t>(start + n, 0);
  if (stop < 0) stop += n;
  if (start > stop || start >= n) return std::nullopt;
  if (stop >= n) stop = n - 1;
  return std::pair<std::uint64_t, std::uint64_t>(start, stop);
}

// ---- LPUSH RPUSH LPUSHX RPUSHX ----------------------------------------------------------

// Key handlers: a pipeline's pushes run in its key batches (key_batch.h).
KeyReply push(KeyTarget& t, const KeyCall& call, ListEnd end, bool only_existing) {
  CollectionWrite w(t, KeyType::kList);
  if (!w.ok()) return std::move(w.failure);
  if (!w.exists()) {
    if (only_existing) return w.commit_unchanged(KeyReply::number(0));
    w.create();
  }
  List list(w.coll());
  for (std::size_t i = 2; i < call.args.size(); ++i) list.push(end, call.args[i]);
  KeyReply reply = w.commit(KeyReply::number(static_cast<std::int64_t>(list.size())));
  if (!reply.is_error()) wake_blocked_here(*t.server, t);
  return reply;
}

KeyReply lpush(KeyTarget& t, const KeyCall& call) { return push(t, call, ListEnd::kHead, false); }
KeyReply rpush(KeyTarget& t, const KeyCall& call) { return push(t, call, ListEnd::kTail, false); }
KeyReply lpushx(KeyTarget& t, const KeyCall& call) { return push(t, call, ListEnd::kHead, true); }
KeyReply rpushx(KeyTarget& t, const KeyCall& call) { return push(t, call, ListEnd::kTail, true); }

// ---- LPOP RPOP ---------------------------------------------------------------------------

// Without a count: one element or null. With one: an array (empty for 0), or a null array
// when the key is missing, as Redis 7.0 answers.
void pop(CommandContext& ctx, ListEnd end) {
  std::optional<std::uint64_t> count;
  if (ctx.argc() == 3) {
    std::int64_t n = 0;
    if (!resp::parse_int64(ctx.arg(2), &n) || n < 0) {
      ctx.error(kErrNotPositive);
      return;
    }
    count = static_cast<std::uint64_t>(n);
  } else if (ctx.argc() > 3) {
    ctx.error(wrong_arity_text(ctx.command.name));
    return;
  }
  run_key_command(ctx, ctx.arg(1), [end, count](KeyTarget& t) {
    CollectionWrite w(t, KeyType::kList);
    if (!w.ok()) return std::move(w.failure);
    if (!w.exists()) {
      return w.commit_unchanged(count ? KeyReply::null_array() : KeyReply::null());
    }
    List list(w.coll());
    Result<std::vector<std::string>> popped = list.pop(end, count.value_or(1));
    if (!popped) return w.storage_error(popped.error());
    if (!count) return w.commit(KeyReply::bulk(std::move(popped->front())));
    if (popped->empty()) return w.commit_unchanged(KeyReply::array());
    return w.commit(bulk_array(std::move(*popped)));
  });
}

void lpop(CommandContext& ctx) { pop(ctx, ListEnd::kHead); }
void rpop(CommandContext& ctx) { pop(ctx, ListEnd::kTail); }

// ---- LLEN LINDEX LRANGE ------------------------------------------------------------------

void llen(CommandContext& ctx) {
  run_key_command(ctx, ctx.arg(1), [](KeyTarget& t) {
    CollectionRead r(t, KeyType::kList);
    if (!r.ok()) return std::move(r.failure);
    return KeyReply::number(r.exists() ? static_cast<std::int64_t>(r.coll().size()) : 0);
  });
}

// LINDEX and LSET look at the key before the index (Redis's order): a missing key answers
// null (LINDEX) or "no such key" (LSET) whatever the index says.
void lindex(CommandContext& ctx) {
  run_key_command(ctx, ctx.arg(1), [&ctx](KeyTarget& t) {
    CollectionRead r(t, KeyType::kList);
    if (!r.ok()) return std::move(r.failure);
    if (!r.exists()) return KeyReply::null();
    const std::optional<std::int64_t> index = parse_list_index(ctx.arg(2));
    if (!index) return KeyReply::error(kErrNotInteger);
    const std::optional<std::uint64_t> pos = position_of(*index, r.coll().size());
    if (!pos) return KeyReply::null();
    List list(r.coll());
    Result<std::string> element = list.at(*pos);
    if (!element) return r.storage_error(element.error());
    return KeyReply::bulk(std::move(*element));
  });
}

void lrange(CommandContext& ctx) {
  const std::optional<std::int64_t> start = parse_list_index(ctx.arg(2));
  const std::optional<std::int64_t> stop = parse_list_index(ctx.arg(3));
  if (!start || !stop) {
    ctx.error(kErrNotInteger);
    return;
  }
  run_key_command(ctx, ctx.arg(1), [start, stop](KeyTarget& t) {
    CollectionRead r(t, KeyType::kList);
    if (!r.ok()) return std::move(r.failure);
    if (!r.exists()) return KeyReply::array();
    const auto range = clamp_range(*start, *stop, r.coll().size());
    if (!range) return KeyReply::array();
    resp::EncodedElements items;
    List list(r.coll());
    Status s = list.scan(range->first, range->second, [&items](std::uint64_t, std::string_view v) {
      items.bulk(v);
      return true;
    });
    if (!s) return r.storage_error(s);
    return KeyReply::encoded_array(std::move(items));
  });
}

// ---- LSET LINSERT LREM LTRIM -------------------------------------------------------------

void lset(CommandContext& ctx) {
  run_key_command(ctx, ctx.arg(1), [&ctx](KeyTarget& t) {
    CollectionWrite w(t, KeyType::kList);
    if (!w.ok()) return std::move(w.failure);
    if (!w.exists()) return w.commit_unchanged(KeyReply::error(kErrNoSuchKey));
    const std::optional<std::int64_t> index = parse_list_index(ctx.arg(2));
    if (!index) return w.commit_unchanged(KeyReply::error(kErrNotInteger));
    const std::optional<std::uint64_t> pos = position_of(*index, w.coll().size());
    if (!pos) return w.commit_unchanged(KeyReply::error(kErrIndexOutOfRange));
    List(w.coll()).set(*pos, ctx.arg(3));
    return w.commit(KeyReply::ok());
  });
}

// The position of the first element equal to `pivot`, scanning from the head.
Result<std::optional<std::uint64_t>> find_first(List& list, std::string_view pivot) {
  std::optional<std::uint64_t> found;
  Status s = list.scan(0, list.size() - 1, [&](std::uint64_t pos, std::string_view v) {
    if (v != pivot) return true;
    found = pos;
    return false;
  });
  if (!s) return s;
  return found;
}

void linsert(CommandContext& ctx) {
  bool after = false;
  if (equals_ignore_case(ctx.arg(2), "after")) {
    after = true;
  } else if (!equals_ignore_case(ctx.arg(2), "before")) {
    ctx.error(kErrSyntax);
    return;
  }
  run_key_command(ctx, ctx.arg(1), [&ctx, after](KeyTarget& t) {
    CollectionWrite w(t, KeyType::kList);
    if (!w.ok()) return std::move(w.failure);
    if (!w.exists()) return w.commit_unchanged(KeyReply::number(0));
    List list(w.coll());
    Result<std::optional<std::uint64_t>> pivot = find_first(list, ctx.arg(3));
    if (!pivot) return w.storage_error(pivot.error());
    if (!*pivot) return w.commit_unchanged(KeyReply::number(-1));
    if (Status s = list.insert(**pivot + (after ? 1 : 0), ctx.arg(4)); !s) return w.storage_error(s);
    return w.commit(KeyReply::number(static_cast<std::int64_t>(list.size())));
  });
}

// The positions (ascending) of the elements equal to `value` that LREM count removes:
// the first |count| from the head (count > 0), from the tail (count < 0), or all (0).
Result<std::vector<std::uint64_t>> matches_to_remove(List& list, std::string_view value,
                                                     std::int64_t count) {
  std::vector<std::uint64_t> found;
  // |count| without overflow at INT64_MIN.
  const std::uint64_t magnitude =
      count < 0 ? static_cast<std::uint64_t>(-(count + 1)) + 1 : static_cast<std::uint64_t>(count);
  const std::uint64_t limit = count == 0 ? UINT64_MAX : magnitude;
  auto visit = [&](std::uint64_t pos, std::string_view v) {
    if (v == value) found.push_back(pos);
    return found.size() < limit;
  };
  Status s = count < 0 ? list.scan_backward(0, list.size() - 1, visit)
                       : list.scan(0, list.size() - 1, visit);
  if (!s) return s;
  if (count < 0) std::reverse(found.begin(), found.end());
  return found;
}

void lrem(CommandContext& ctx) {
  std::int64_t count = 0;
  if (!resp::parse_int64(ctx.arg(2), &count)) {
    ctx.error(kErrNotInteger);
    return;
  }
  run_key_command(ctx, ctx.arg(1), [&ctx, count](KeyTarget& t) {
    CollectionWrite w(t, KeyType::kList);
    if (!w.ok()) return std::move(w.failure);
    if (!w.exists()) return w.commit_unchanged(KeyReply::number(0));
    List list(w.coll());
    Result<std::vector<std::uint64_t>> found = matches_to_remove(list, ctx.arg(3), count);
    if (!found) return w.storage_error(found.error());
    if (found->empty()) return w.commit_unchanged(KeyReply::number(0));
    if (Status s = list.remove(*found); !s) return w.storage_error(s);
    return w.commit(KeyReply::number(static_cast<std::int64_t>(found->size())));
  });
}

void ltrim(CommandContext& ctx) {
  const std::optional<std::int64_t> start = parse_list_index(ctx.arg(2));
  const std::optional<std::int64_t> stop = parse_list_index(ctx.arg(3));
  if (!start || !stop) {
    ctx.error(kErrNotInteger);
    return;
  }
  run_key_command(ctx, ctx.arg(1), [start, stop](KeyTarget& t) {
    CollectionWrite w(t, KeyType::kList);
    if (!w.ok()) return std::move(w.failure);
    if (!w.exists()) return w.commit_unchanged(KeyReply::ok());
    List list(w.coll());
    const auto range = clamp_range(*start, *stop, list.size());
    if (!range) {
      // Everything goes: the key's deletion is one metadata write; the members of its
      // version are unreachable from then on, as after DEL (collection.h, "Versions").
      w.coll().header().size = 0;
      return w.commit(KeyReply::ok());
    }
    if (range->first == 0 && range->second + 1 == list.size()) {
      // Nothing to trim; Redis still counts LTRIM of an existing list as a change (WATCH).
      if (Status s = w.lock().commit(/*changed=*/true); !s) return w.storage_error(s);
      return KeyReply::ok();
    }
    list.trim(range->first, range->second);
    return w.commit(KeyReply::ok());
  });
}

// ---- LPOS ----------------------------------------------------------------------------------

struct LposOptions {
  std::int64_t rank = 1;
  std::optional<std::int64_t> count;  // given: an array reply; 0 = every match
  std::int64_t maxlen = 0;            // 0 = no limit
};

// Redis's option parsing: each option's errors in the order the arguments come.
bool parse_lpos_options(CommandContext& ctx, LposOptions& o) {
  for (std::size_t i = 3; i < ctx.argc(); i += 2) {
    const std::string_view name = ctx.arg(i);
    const bool has_value = i + 1 < ctx.argc();
    std::int64_t v = 0;
    if (!has_value) {
      ctx.error(kErrSyntax);
      return false;
    }
    const bool is_int = resp::parse_int64(ctx.arg(i + 1), &v);
    if (equals_ignore_case(name, "rank")) {
      if (!is_int) return ctx.error(kErrNotInteger), false;
      if (v == 0) return ctx.error(kErrRankZero), false;
      o.rank = v;
    } else if (equals_ignore_case(name, "count")) {
      // COUNT and MAXLEN answer their own error for anything but a number >= 0, text too.
      if (!is_int || v < 0) return ctx.error(kErrCountNegative), false;
      o.count = v;
    } else if (equals_ignore_case(name, "maxlen")) {
      if (!is_int || v < 0) return ctx.error(kErrMaxlenNegative), false;
      o.maxlen = v;
    } else {
      ctx.error(kErrSyntax);
      return false;
    }
  }
  return true;
}

// The matching positions: from the head for a positive rank, from the tail for a negative
// one, skipping the first |rank| - 1 matches, looking at no more than maxlen elements.
// (A rank of INT64_MIN has no positive counterpart; Redis 7.0 then takes every match from
// the tail, as if the rank were -1.)
Result<std::vector<std::int64_t>> lpos_matches(List& list, std::string_view element,
                                               const LposOptions& o) {
  const bool backward = o.rank < 0;
  const std::uint64_t skip =
      o.rank == INT64_MIN ? 0 : static_cast<std::uint64_t>(backward ? -o.rank : o.rank) - 1;
  std::uint64_t limit = 1;  // matches to return
  if (o.count) limit = *o.count == 0 ? UINT64_MAX : static_cast<std::uint64_t>(*o.count);
  const std::uint64_t n = list.size();
  const std::uint64_t span =
      o.maxlen == 0 ? n : std::min<std::uint64_t>(n, static_cast<std::uint64_t>(o.maxlen));
  std::vector<std::int64_t> found;
  std::uint64_t matches = 0;
  auto visit = [&](std::uint64_t pos, std::string_view v) {
    if (v != element) return true;
    if (++matches <= skip) return true;
    found.push_back(static_cast<std::int64_t>(pos));
    return found.size() < limit;
  };
  Status s = backward ? list.scan_backward(n - span, n - 1, visit) : list.scan(0, span - 1, visit);
  if (!s) return s;
  return found;
}

void lpos(CommandContext& ctx) {
  LposOptions options;
  if (!parse_lpos_options(ctx, options)) return;
  run_key_command(ctx, ctx.arg(1), [&ctx, options](KeyTarget& t) {
    CollectionRead r(t, KeyType::kList);
    if (!r.ok()) return std::move(r.failure);
    if (!r.exists()) return options.count ? KeyReply::array() : KeyReply::null();
    List list(r.coll());
    Result<std::vector<std::int64_t>> found = lpos_matches(list, ctx.arg(2), options);
    if (!found) return r.storage_error(found.error());
    if (!options.count) return found->empty() ? KeyReply::null() : KeyReply::number(found->front());
    std::vector<KeyReply> items;
    for (std::int64_t pos : *found) items.push_back(KeyReply::number(pos));
    return KeyReply::array(std::move(items));
  });
}

// ---- the table -------------------------------------------------------------------------

constexpr KeySpec kInsert[] = {{.flags = kKeyRW | kKeyInsert}};
constexpr KeySpec kUpdate[] = {{.flags = kKeyRW | kKeyUpdate}};
constexpr KeySpec kAccessDelete[] = {{.flags = kKeyRW | kKeyAccess | kKeyDelete}};
constexpr KeySpec kDelete[] = {{.flags = kKeyRW | kKeyDelete}};
constexpr KeySpec kRead[] = {{.flags = kKeyRO | kKeyAccess}};
constexpr KeySpec kReadNoAccess[] = {{.flags = kKeyRO}};

constexpr CommandSpec kCommands[] = {
    {.name = "lpush", .arity = -3, .flags = kCmdWrite | kCmdDenyoom | kCmdFast,
     .categories = kAclList, .first_key = 1, .last_key = 1, .key_step = 1, .group = "list",
     .since = "1.0.0", .summary = "Prepends elements to a list, creating it if needed",
     .complexity = "O(1) for each element added", .key_specs = kInsert, .handler = run_key_handler,
     .key_handler = lpush},
    {.name = "rpush", .arity = -3, .flags = kCmdWrite | kCmdDenyoom | kCmdFast,
     .categories = kAclList, .first_key = 1, .last_key = 1, .key_step = 1, .group = "list",
     .since = "1.0.0", .summary = "Appends elements to a list, creating it if needed",
     .complexity = "O(1) for each element added", .key_specs = kInsert, .handler = run_key_handler,
     .key_handler = rpush},
    {.name = "lpushx", .arity = -3, .flags = kCmdWrite | kCmdDenyoom | kCmdFast,
     .categories = kAclList, .first_key = 1, .last_key = 1, .key_step = 1, .group = "list",
     .since = "2.2.0", .summary = "Prepends elements to a list only when it exists",
     .complexity = "O(1) for each element added", .key_specs = kInsert, .handler = run_key_handler,
     .key_handler = lpushx},
    {.name = "rpushx", .arity = -3, .flags = kCmdWrite | kCmdDenyoom | kCmdFast,
     .categories = kAclList, .first_key = 1, .last_key = 1, .key_step = 1, .group = "list",
     .since = "2.2.0", .summary = "Appends elements to a list only when it exists",
     .complexity = "O(1) for each element added", .key_specs = kInsert, .handler = run_key_handler,
     .key_handler = rpushx},
    {.name = "lpop", .arity = -2, .flags = kCmdWrite | kCmdFast, .categories = kAclList,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "list", .since = "1.0.0",
     .summary = "Removes and returns the first elements of a list",
     .complexity = "O(N) where N is the number of elements returned",
     .key_specs = kAccessDelete, .handler = lpop},
    {.name = "rpop", .arity = -2, .flags = kCmdWrite | kCmdFast, .categories = kAclList,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "list", .since = "1.0.0",
     .summary = "Removes and returns the last elements of a list",
     .complexity = "O(N) where N is the number of elements returned",
     .key_specs = kAccessDelete, .handler = rpop},
    {.name = "llen", .arity = 2, .flags = kCmdReadonly | kCmdFast, .categories = kAclList,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "list", .since = "1.0.0",
     .summary = "Returns the length of a list", .complexity = "O(1)",
     .key_specs = kReadNoAccess, .handler = llen},
    {.name = "lindex", .arity = 3, .flags = kCmdReadonly, .categories = kAclList,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "list", .since = "1.0.0",
     .summary = "Returns the element at an index of a list",
     .complexity = "O(1): one seek at any index", .key_specs = kRead, .handler = lindex},
    {.name = "lrange", .arity = 4, .flags = kCmdReadonly, .categories = kAclList,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "list", .since = "1.0.0",
     .summary = "Returns a range of elements of a list",
     .complexity = "O(N) where N is the number of elements returned (one seek, then a scan)",
     .key_specs = kRead, .handler = lrange},
    {.name = "lset", .arity = 4, .flags = kCmdWrite | kCmdDenyoom, .categories = kAclList,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "list", .since = "1.0.0",
     .summary = "Sets the element at an index of a list",
     .complexity = "O(1): one seek at any index", .key_specs = kUpdate, .handler = lset},
    {.name = "linsert", .arity = 5, .flags = kCmdWrite | kCmdDenyoom, .categories = kAclList,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "list", .since = "2.2.0",
     .summary = "Inserts an element before or after another element of a list",
     .complexity = "O(N) where N is the number of elements before the pivot plus the shorter "
                   "side shifted",
     .key_specs = kInsert, .handler = linsert},
    {.name = "lrem", .arity = 4, .flags = kCmdWrite, .categories = kAclList, .first_key = 1,
     .last_key = 1, .key_step = 1, .group = "list", .since = "1.0.0",
     .summary = "Removes elements equal to a value from a list",
     .complexity = "O(N+M) where N is the length of the list and M the elements removed",
     .key_specs = kDelete, .handler = lrem},
    {.name = "ltrim", .arity = 4, .flags = kCmdWrite, .categories = kAclList, .first_key = 1,
     .last_key = 1, .key_step = 1, .group = "list", .since = "1.0.0",
     .summary = "Keeps only a range of elements of a list",
     .complexity = "O(N) where N is the number of elements removed", .key_specs = kDelete,
     .handler = ltrim},
    {.name = "lpos", .arity = -3, .flags = kCmdReadonly, .categories = kAclList,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "list", .since = "6.0.6",
     .summary = "Returns the positions of elements equal to a value in a list",
     .complexity = "O(N) where N is the number of elements scanned", .key_specs = kRead,
     .handler = lpos},
};

}  // namespace

std::span<const CommandSpec> list_commands() { return kCommands; }

}  // namespace cascade::commands
