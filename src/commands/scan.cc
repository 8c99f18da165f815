// The keyspace-wide family: KEYS SCAN RANDOMKEY DBSIZE FLUSHDB FLUSHALL. Each works on every
// shard (each shard's engine holds its slice of every database), only ever in the client's
// database (SELECT), and never shows an expired key (types::walk_keys skips them).
//
// KEYS and DBSIZE fork to every shard at once and join; a glob pattern's literal head (the
// bytes before its first special character) bounds each shard's walk. DBSIZE counts by
// walking (O(N)): there is no per-database counter yet, and one would have to stay exact
// across expiry and crashes.
//
// RANDOMKEY draws a shard, then a point between that shard's first and last key, and
// answers the live key next to it (random, not uniform over keys: see random_point).
//
// SCAN visits the shards in order, one walk per shard at a time, examining at most COUNT
// records per call (MATCH and TYPE filter after that, as in Redis); the cursor names the
// shard and the resume key (scan_cursor.h), so a key present for the whole scan is always
// returned, possibly twice.
//
// FLUSHDB and FLUSHALL ([ASYNC|SYNC] alike) give the databases a fresh id on every shard in
// one small write per shard (types::Keyspace::flush): O(1) in the number of keys for the
// client; the old keys are deleted in the background. The shards flush at once, each on
// its own: a client on another connection may, for a moment, see one shard flushed and
// another not (Redis's FLUSHDB is atomic; cascade's is atomic per shard until the
// multi-shard protocol of DESIGN.md exists). The reply waits for every shard.
#include <random>

#include "resp/decimal.h"
#include "src/commands/command_families.h"
#include "src/commands/exec_transaction.h"
#include "src/commands/key_command.h"
#include "src/commands/random_seed.h"
#include "src/commands/scan_cursor.h"
#include "src/server/glob_match.h"
#include "src/types/key_walk.h"

namespace cascade::commands {
namespace {

using namespace cascade::server;

// The bytes every key matching `pattern` starts with.
std::string_view literal_head(std::string_view pattern) {
  const std::size_t special = pattern.find_first_of("*?[\\");
  return special == std::string_view::npos ? pattern : pattern.substr(0, special);
}

// What one shard's walk sends back.
struct ShardKeys {
  std::vector<std::string> keys;
  std::int64_t count = 0;             // keys counted, or records examined (SCAN)
  std::uint32_t token = 0;            // SCAN: the resume key's types::ScanPositions token
  std::optional<std::string> resume;  // where the walk stopped; none when done
  std::string error;                  // the reply's text when the walk failed
};

std::string shard_failure(ServerState& server, const Status& status) {
  server.logger().warning("Storage error on shard {} during a keyspace walk: {}",
                          runtime::this_shard_id(), status.to_string());
  return std::string(server::storage_error(status));
}

// Runs walk_keys on the calling shard, filling `out`. Inside EXEC (`exec` set) the walk
// sees the transaction's writes staged on this shard, as Redis's DBSIZE, KEYS, SCAN and
// RANDOMKEY inside EXEC see the commands queued before them.
template <typename Fn>
void walk_here(ServerState& server, ExecTransaction* exec, types::KeyWalk walk, ShardKeys& out,
               Fn&& fn) {
  types::Keyspace* keyspace = server.this_shard().keyspace();
  if (keyspace == nullptr) {
    out.error = kErrShardUnavailable;
    return;
  }
  walk.now_ms = unix_time_ms();
  types::StagedWrites* staged =
      exec == nullptr ? nullptr : exec->staged_on(runtime::this_shard_id());
  auto resume = types::walk_keys(*keyspace, walk, fn, staged);
  if (!resume) {
    out.error = shard_failure(server, resume.error());
    return;
  }
  out.resume = std::move(*resume);
}

// Runs body() -> ShardKeys on every shard; the first error wins.
template <typename Body>
bool gather(CommandContext& ctx, const Body& body, std::vector<ShardKeys>& parts) {
  for (auto& part : ctx.server.runtime().run_on_each(body)) {
    if (!part) {
      ctx.error(kErrShardUnavailable);
      return false;
    }
    if (!part->error.empty()) {
      ctx.error(part->error);
      return false;
    }
    parts.push_back(std::move(*part));
  }
  return true;
}

// ---- KEYS DBSIZE ---------------------------------------------------------------------

void keys(CommandContext& ctx) {
  const std::string_view pattern = ctx.arg(1);
  const bool all = pattern == "*";
  const auto db = static_cast<std::uint32_t>(ctx.client.db);
  ServerState& server = ctx.server;
  ExecTransaction* exec = ctx.exec;
  std::vector<ShardKeys> parts;
  auto body = [&server, exec, db, pattern, all]() {
    ShardKeys out;
    walk_here(server, exec, {.db = db, .prefix = literal_head(pattern)}, out,
              [&out, pattern, all](std::string_view key, const types::RecordView&) {
                if (all || glob_match(pattern, key)) out.keys.emplace_back(key);
              });
    return out;
  };
  if (!gather(ctx, body, parts)) return;
  std::size_t total = 0;
  for (const ShardKeys& part : parts) total += part.keys.size();
  ctx.reply.array(total);
  for (const ShardKeys& part : parts) {
    for (const std::string& key : part.keys) ctx.reply.bulk(key);
  }
}

void dbsize(CommandContext& ctx) {
  const auto db = static_cast<std::uint32_t>(ctx.client.db);
  ServerState& server = ctx.server;
  ExecTransaction* exec = ctx.exec;
  std::vector<ShardKeys> parts;
  auto body = [&server, exec, db]() {
    ShardKeys out;
    walk_here(server, exec, {.db = db}, out,
              [&out](std::string_view, const types::RecordView&) { ++out.count; });
    return out;
  };
  if (!gather(ctx, body, parts)) return;
  std::int64_t total = 0;
  for (const ShardKeys& part : parts) total += part.count;
  ctx.reply.integer(total);
}

// ---- SCAN ----------------------------------------------------------------------------

struct ScanOptions {
  std::string_view pattern;
  bool match = false;
  std::int64_t count = 10;
  std::optional<std::string_view> type;
};

// Redis's option loop: later options override earlier ones. False after the error reply.
bool parse_scan_options(CommandContext& ctx, ScanOptions& options) {
  for (std::size_t i = 2; i < ctx.argc(); i += 2) {
    const std::string_view name = ctx.arg(i);
    if (i + 1 >= ctx.argc()) {
      ctx.error(kErrSyntax);
      return false;
    }
    if (equals_ignore_case(name, "count")) {
      if (!resp::parse_int64(ctx.arg(i + 1), &options.count)) {
        ctx.error(kErrNotInteger);
        return false;
      }
      if (options.count < 1) {
        ctx.error(kErrSyntax);
        return false;
      }
    } else if (equals_ignore_case(name, "match")) {
      options.pattern = ctx.arg(i + 1);
      options.match = options.pattern != "*";
    } else if (equals_ignore_case(name, "type")) {
      options.type = ctx.arg(i + 1);
    } else {
      ctx.error(kErrSyntax);
      return false;
    }
  }
  return true;
}

// One shard's share of a SCAN call: from the cursor's position, at most `budget` records.
ShardKeys scan_shard(ServerState& server, ExecTransaction* exec, std::uint32_t db,
                     const ScanCursor& cursor, const ScanOptions& options, std::size_t budget) {
  ShardKeys out;
  types::Keyspace* keyspace = server.this_shard().keyspace();
  std::string from = cursor.head;
  if (keyspace != nullptr) {
    auto exact = keyspace->scan_positions().recall(cursor.token, db, cursor.head);
    if (exact) from.assign(*exact);
  }
  const std::string_view prefix = options.match ? literal_head(options.pattern) : "";
  walk_here(server, exec, {.db = db, .from = from, .prefix = prefix, .max_examined = budget}, out,
            [&out, &options](std::string_view key, const types::RecordView& record) {
              ++out.count;
              if (options.match && !glob_match(options.pattern, key)) return;
              if (options.type &&
                  !equals_ignore_case(*options.type, types::key_type_name(record.type))) {
                return;
              }
              out.keys.emplace_back(key);
            });
  if (out.error.empty() && out.resume) {
    out.token = keyspace->scan_positions().remember(db, *out.resume);
  }
  return out;
}

void scan(CommandContext& ctx) {
  const std::optional<std::uint64_t> value = parse_cursor(ctx.arg(1));
  if (!value) {
    ctx.error(kErrInvalidCursor);
    return;
  }
  ScanOptions options;
  if (!parse_scan_options(ctx, options)) return;
  ScanCursor cursor = ScanCursor::decode(*value);
  const auto db = static_cast<std::uint32_t>(ctx.client.db);
  ServerState& server = ctx.server;
  ExecTransaction* exec = ctx.exec;
  const std::size_t shards = server.shard_count();
  std::vector<std::string> found;
  std::uint64_t next = 0;
  // At most one walk per shard, COUNT records in all; a finished shard passes what is left
  // of the budget to the next one.
  auto budget = static_cast<std::size_t>(std::min<std::int64_t>(options.count, 1 << 20));
  while (cursor.shard < shards) {
    Result<ShardKeys> part = server.runtime()
                                 .submit(cursor.shard, [&server, exec, db, &cursor, &options, budget] {
                                   return scan_shard(server, exec, db, cursor, options, budget);
                                 })
                                 .get();
    if (!part || !part->error.empty()) {
      ctx.error(part ? std::string_view(part->error) : kErrShardUnavailable);
      return;
    }
    for (std::string& key : part->keys) found.push_back(std::move(key));
    if (part->resume) {
      next = ScanCursor::at(cursor.shard, part->token, *part->resume).encode();
      break;
    }
    const std::size_t examined = static_cast<std::size_t>(part->count);
    cursor = ScanCursor{cursor.shard + 1, 0, {}};
    if (examined >= budget || cursor.shard >= shards) {
      next = cursor.shard >= shards ? 0 : cursor.encode();
      break;
    }
    budget -= examined;
  }
  ctx.reply.array(2);
  ctx.reply.bulk(std::to_string(next));
  ctx.reply.array(found.size());
  for (const std::string& key : found) ctx.reply.bulk(key);
}

// ---- RANDOMKEY -----------------------------------------------------------------------

// A random point between the first and the last key of this shard's database: their first
// eight bytes read as numbers, and a number drawn uniformly between them. Keys that share
// a long prefix still spread (the draw lands among their differing bytes only when those
// are in the first eight), so this is random but not uniform over keys.
std::string random_point(types::Keyspace& keyspace, std::uint32_t db, std::uint64_t seed) {
  const std::string head = keyspace.engine_key(db, "");
  engine::ReadOptions options;
  options.prefix = head;
  std::unique_ptr<engine::DBIterator> it = keyspace.engine().iterator(options);
  auto first_bytes = [&it, &head]() {
    std::uint64_t v = 0;
    const std::string_view key = it->key().substr(head.size());
    for (std::size_t i = 0; i < 8; ++i) v = (v << 8) | (i < key.size() ? static_cast<std::uint8_t>(key[i]) : 0);
    return v;
  };
  it->seek_to_first();
  if (!it->valid()) return {};
  const std::uint64_t low = first_bytes();
  it->seek_to_last();
  if (!it->valid()) return {};
  const std::uint64_t high = first_bytes();
  const std::uint64_t span = high - low;
  const std::uint64_t point = low + (span == UINT64_MAX ? seed : seed % (span + 1));
  std::string out(8, '\0');
  for (std::size_t i = 0; i < 8; ++i) out[i] = static_cast<char>(point >> (8 * (7 - i)));
  return out;
}

// The last live key at or before `point` in this shard's database, or none.
std::optional<std::string> live_key_before(types::Keyspace& keyspace, std::uint32_t db,
                                           std::string_view point, Status& status) {
  const std::string head = keyspace.engine_key(db, "");
  engine::ReadOptions options;
  options.prefix = head;
  std::unique_ptr<engine::DBIterator> it = keyspace.engine().iterator(options);
  const std::int64_t now = unix_time_ms();
  for (it->seek_for_prev(keyspace.engine_key(db, point)); it->valid(); it->prev()) {
    Result<types::RecordView> record = types::decode_record(it->value());
    if (!record) {
      status = record.error();
      return std::nullopt;
    }
    if (!record->expired_at(now)) return std::string(it->key().substr(head.size()));
  }
  status = it->status();
  return std::nullopt;
}

// A live key near a random point of this shard's database: half the time the first at or
// after it, half the time the last at or before it (so the first and the last key can be
// drawn too), wrapping to the whole database when that side has none.
// Inside EXEC only the walk forward sees the staged writes (random_point and
// live_key_before read the engine's keys alone).
ShardKeys random_key_here(ServerState& server, ExecTransaction* exec, std::uint32_t db,
                          std::uint64_t seed) {
  ShardKeys out;
  types::Keyspace* keyspace = server.this_shard().keyspace();
  const std::string point = keyspace != nullptr ? random_point(*keyspace, db, seed) : "";
  if (keyspace != nullptr && !point.empty() && (seed >> 63) != 0 && exec == nullptr) {
    Status status;
    std::optional<std::string> key = live_key_before(*keyspace, db, point, status);
    if (!status) {
      out.error = shard_failure(server, status);
      return out;
    }
    if (key) {
      out.keys.push_back(std::move(*key));
      return out;
    }
  }
  for (std::string_view from : {std::string_view(point), std::string_view()}) {
    types::KeyWalk walk{.db = db, .from = from};
    walk_here(server, exec, walk, out, [&out](std::string_view key, const types::RecordView&) {
      out.keys.emplace_back(key);
      return false;  // the first live key is the answer
    });
    if (!out.error.empty() || !out.keys.empty()) break;
  }
  return out;
}

void randomkey(CommandContext& ctx) {
  const std::uint64_t seed = random_seed();
  const auto db = static_cast<std::uint32_t>(ctx.client.db);
  ServerState& server = ctx.server;
  ExecTransaction* exec = ctx.exec;
  const std::size_t shards = server.shard_count();
  for (std::size_t i = 0; i < shards; ++i) {
    const auto shard = static_cast<runtime::ShardId>((seed + i) % shards);
    Result<ShardKeys> part =
        server.runtime()
            .submit(shard, [&server, exec, db, seed] {
              return random_key_here(server, exec, db, seed);
            })
            .get();
    if (!part || !part->error.empty()) {
      ctx.error(part ? std::string_view(part->error) : kErrShardUnavailable);
      return;
    }
    if (!part->keys.empty()) {
      ctx.reply.bulk(part->keys.front());
      return;
    }
  }
  ctx.reply.null();
}

// ---- FLUSHDB FLUSHALL ----------------------------------------------------------------

void flush_generic(CommandContext& ctx, bool all) {
  if (ctx.argc() > 2 || (ctx.argc() == 2 && !equals_ignore_case(ctx.arg(1), "async") &&
                         !equals_ignore_case(ctx.arg(1), "sync"))) {
    ctx.error(kErrSyntax);
    return;
  }
  std::vector<std::uint32_t> dbs;
  if (all) {
    for (std::int64_t db = 0; db < ctx.shard.config().databases; ++db) {
      dbs.push_back(static_cast<std::uint32_t>(db));
    }
  } else {
    dbs.push_back(static_cast<std::uint32_t>(ctx.client.db));
  }
  ServerState& server = ctx.server;
  auto results = server.runtime().run_on_each([&server, &dbs]() -> std::string {
    ShardState& shard = server.this_shard();
    types::Keyspace* keyspace = shard.keyspace();
    if (keyspace == nullptr) return std::string(kErrShardUnavailable);
    Status s = keyspace->flush(dbs, sync_every_write(shard.config()));
    return s ? std::string() : shard_failure(server, s);
  });
  for (auto& result : results) {
    if (!result || !result->empty()) {
      ctx.error(result ? std::string_view(*result) : kErrShardUnavailable);
      return;
    }
  }
  ctx.reply.ok();
}

void flushdb(CommandContext& ctx) { flush_generic(ctx, false); }
void flushall(CommandContext& ctx) { flush_generic(ctx, true); }

// ---- the table -----------------------------------------------------------------------

constexpr std::string_view kKeysTips[] = {"request_policy:all_shards",
                                          "nondeterministic_output_order"};
constexpr std::string_view kScanTips[] = {"nondeterministic_output", "request_policy:special"};
constexpr std::string_view kRandomTips[] = {"request_policy:all_shards",
                                            "nondeterministic_output"};
constexpr std::string_view kSizeTips[] = {"request_policy:all_shards",
                                          "response_policy:agg_sum"};
constexpr std::string_view kFlushTips[] = {"request_policy:all_shards",
                                           "response_policy:all_succeeded"};

constexpr CommandSpec kCommands[] = {
    {.name = "keys", .arity = 2, .flags = kCmdReadonly,
     .categories = kAclKeyspace | kAclDangerous, .group = "generic", .since = "1.0.0",
     .summary = "Lists the keys of the database that match a glob pattern",
     .complexity = "O(N) with N being the number of keys in the database", .tips = kKeysTips,
     .handler = keys},
    {.name = "scan", .arity = -2, .flags = kCmdReadonly, .categories = kAclKeyspace,
     .group = "generic", .since = "2.8.0",
     .summary = "Walks the keys of the database a few at a time with a cursor",
     .complexity = "O(1) for every call. O(N) for a complete iteration", .tips = kScanTips,
     .handler = scan},
    {.name = "randomkey", .arity = 1, .flags = kCmdReadonly, .categories = kAclKeyspace,
     .group = "generic", .since = "1.0.0", .summary = "Returns a key of the database at random",
     .complexity = "O(1)", .tips = kRandomTips, .handler = randomkey},
    {.name = "dbsize", .arity = 1, .flags = kCmdReadonly | kCmdFast, .categories = kAclKeyspace,
     .group = "server", .since = "1.0.0", .summary = "Counts the keys of the database",
     .complexity = "O(N) here: the keys are counted", .tips = kSizeTips, .handler = dbsize},
    {.name = "flushdb", .arity = -1, .flags = kCmdWrite,
     .categories = kAclKeyspace | kAclDangerous, .group = "server", .since = "1.0.0",
     .summary = "Deletes every key of the database",
     .complexity = "O(1) for the client; the keys are deleted in the background",
     .tips = kFlushTips, .handler = flushdb},
    {.name = "flushall", .arity = -1, .flags = kCmdWrite,
     .categories = kAclKeyspace | kAclDangerous, .group = "server", .since = "1.0.0",
     .summary = "Deletes every key of every database",
     .complexity = "O(databases) for the client; the keys are deleted in the background",
     .tips = kFlushTips, .handler = flushall},
};

}  // namespace

std::span<const CommandSpec> scan_commands() { return kCommands; }

}  // namespace cascade::commands
