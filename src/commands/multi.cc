// The transaction family: MULTI EXEC DISCARD WATCH UNWATCH, with Redis 7.0's behaviour.
//
// MULTI starts queuing: from then on the connection (src/server/connection.cc) answers
// +QUEUED to every command but EXEC DISCARD MULTI WATCH QUIT RESET and keeps a copy of it;
// a command refused while queuing (unknown, wrong arity, not allowed in a transaction)
// marks the transaction aborted, and its EXEC answers EXECABORT. MULTI inside MULTI and
// WATCH inside MULTI are errors that do not abort.
//
// EXEC runs the queue as one atomic step (exec_transaction.h) and answers an array of the
// commands' replies, errors included (a command failing at run time does not stop the
// others, nor undo anything: Redis has no rollback); a null array when a watched key
// changed. EXEC, DISCARD and RESET end the client's watches; so does UNWATCH.
//
// The replies of one attempt are written to a scratch writer and copied to the client only
// when the attempt commits: an attempt that runs again (exec_transaction.h) or fails to
// commit leaves no trace in the output.
#include <string>
#include <vector>

#include "src/commands/command_families.h"
#include "src/commands/exec_transaction.h"
#include "src/commands/key_command.h"
#include "src/commands/transaction.h"
#include "src/server/client_watches.h"
#include "src/server/connection.h"
#include "src/server/dispatcher.h"

namespace cascade::commands {
namespace {

using namespace cascade::server;

void multi(CommandContext& ctx) {
  if (ctx.client.multi.active) {
    ctx.error(kErrMultiNested);
    return;
  }
  ctx.client.multi.active = true;
  ctx.reply.ok();
}

void discard(CommandContext& ctx) {
  if (!ctx.client.multi.active) {
    ctx.error(kErrDiscardWithoutMulti);
    return;
  }
  ctx.client.multi = MultiState{};
  unwatch_all(ctx.server, ctx.client);
  ctx.reply.ok();
}

// ---- WATCH UNWATCH ------------------------------------------------------------------------

// Registers the watch on the key's shard under the key's stripe, so no write to the key is
// in flight: the expiry it records is the key's current one (watch_registry.h).
KeyReply watch_key(KeyTarget& t, std::uint64_t client) {
  runtime::Semaphore& stripe = t.keyspace.locks().stripe_for(t.db, t.key);
  stripe.acquire();
  // The key's last writer may have released the stripe before its WAL write completed
  // (types::LockedKey): its write, and its watch touch, are in once it is visible.
  t.keyspace.engine().wait_visible(t.keyspace.engine().last_inserted());
  Result<std::optional<types::StoredRecord>> record = t.keyspace.read(t.db, t.key, t.now_ms);
  if (record) {
    std::optional<std::int64_t> expire_ms;
    if (record->has_value()) expire_ms = (*record)->expire_ms;
    t.keyspace.watches().watch(client, t.db, t.key, expire_ms);
  }
  stripe.release();
  if (!record) return storage_failure(t, record.error());
  return KeyReply::ok();
}

void watch(CommandContext& ctx) {
  if (ctx.client.multi.active) {
    ctx.error(kErrWatchInMulti);
    return;
  }
  const std::uint64_t id = ctx.client.id;
  const std::uint32_t db = client_db(ctx);
  for (std::size_t i = 1; i < ctx.argc(); ++i) {
    const std::string_view key = ctx.arg(i);
    bool known = false;
    for (const WatchedKey& w : ctx.client.watched) known = known || (w.db == db && w.key == key);
    if (known) continue;
    KeyReply r = call_on_key_shard(ctx, key, [id](KeyTarget& t) { return watch_key(t, id); });
    if (r.is_error()) {
      write_key_reply(ctx, std::move(r));
      return;
    }
    ctx.client.watched.push_back(WatchedKey{db, std::string(key)});
  }
  ctx.reply.ok();
}

void unwatch(CommandContext& ctx) {
  unwatch_all(ctx.server, ctx.client);
  ctx.reply.ok();
}

// ---- EXEC ---------------------------------------------------------------------------------

// The keys at the command table's key positions (command_table.h's conventions).
void add_table_keys(ExecTransaction& txn, std::uint32_t db, const QueuedCommand& queued) {
  const CommandSpec& spec = *queued.spec;
  if (spec.first_key <= 0) return;
  const int argc = static_cast<int>(queued.args.size());
  const int last = spec.last_key < 0 ? argc + spec.last_key : spec.last_key;
  const int step = spec.key_step > 0 ? spec.key_step : 1;
  for (int i = spec.first_key; i <= last && i < argc; i += step) txn.add_key(db, queued.args[i]);
}

// Runs the queue once, the replies into `replies`.
void run_queue(CommandContext& ctx, ExecTransaction& txn, const std::vector<QueuedCommand>& queue,
               resp::ReplyWriter& replies) {
  std::vector<std::string_view> args;
  for (const QueuedCommand& queued : queue) {
    args.assign(queued.args.begin(), queued.args.end());
    CommandContext inner{args,         *queued.spec, replies,    ctx.connection,
                         ctx.client,   ctx.shard,    ctx.server, &txn};
    ctx.client.last_command = queued.spec;
    queued.spec->handler(inner);
    ++ctx.shard.stats().commands_processed;
    if (txn.needs_retry()) return;
  }
}

KeyReply storage_reply(ServerState& server, const Status& s) {
  if (s.code() == StatusCode::kShutdown) return KeyReply::error(kErrShardUnavailable);
  server.logger().warning("Storage error in EXEC: {}", s.to_string());
  return KeyReply::error(server::storage_error(s));
}

void exec(CommandContext& ctx) {
  if (!ctx.client.multi.active) {
    ctx.error(kErrExecWithoutMulti);
    return;
  }
  const std::vector<QueuedCommand> queue = std::move(ctx.client.multi.queue);
  const bool aborted = ctx.client.multi.aborted;
  ctx.client.multi = MultiState{};
  if (aborted) {
    unwatch_all(ctx.server, ctx.client);
    ctx.error(kErrExecAbort);
    return;
  }

  ExecTransaction txn(ctx.server, ctx.client.id, sync_every_write(ctx.shard.config()));
  for (const QueuedCommand& queued : queue) add_table_keys(txn, client_db(ctx), queued);
  for (const WatchedKey& w : ctx.client.watched) txn.add_key(w.db, w.key);
  ctx.client.watched.clear();  // the unlock below ends the watches, on every shard they are on

  const int db = ctx.client.db;
  for (;;) {
    if (Status s = txn.lock(); !s) {
      txn.unlock(true);
      write_key_reply(ctx, storage_reply(ctx.server, s));
      return;
    }
    if (txn.watch_changed()) {
      txn.unlock(true);
      ctx.reply.null_array();
      return;
    }
    resp::ReplyWriter replies(ctx.connection.resp_version());
    run_queue(ctx, txn, queue, replies);
    ctx.client.last_command = &ctx.command;  // CLIENT LIST shows cmd=exec, as Redis does
    if (txn.needs_retry()) {
      txn.unlock(false);
      ctx.client.db = db;
      txn.prepare_retry();
      continue;
    }
    Status committed = txn.commit();
    txn.unlock(true);
    if (!committed) {
      write_key_reply(ctx, storage_reply(ctx.server, committed));
      return;
    }
    txn.wake_blocked();
    ctx.reply.array(queue.size());
    ctx.reply.buffer().append(replies.buffer().to_string());
    return;
  }
}

constexpr std::uint32_t kTxnFlags = kCmdNoscript | kCmdLoading | kCmdStale | kCmdFast | kCmdAllowBusy;
constexpr KeySpec kWatchKeys[] = {{.flags = kKeyRO, .last_key = -1}};

constexpr CommandSpec kCommands[] = {
    {.name = "multi", .arity = 1, .flags = kTxnFlags, .categories = kAclTransaction,
     .group = "transactions", .since = "1.2.0",
     .summary = "Starts a transaction: the following commands are queued until EXEC",
     .complexity = "O(1)", .handler = multi},
    {.name = "exec", .arity = 1, .flags = kCmdNoscript | kCmdLoading | kCmdStale | kCmdSkipSlowlog,
     .categories = kAclTransaction, .group = "transactions", .since = "1.2.0",
     .summary = "Runs the queued commands as one atomic step, unless a watched key changed",
     .complexity = "Depends on the commands in the transaction", .handler = exec},
    {.name = "discard", .arity = 1, .flags = kTxnFlags, .categories = kAclTransaction,
     .group = "transactions", .since = "2.0.0",
     .summary = "Drops the queued commands and ends the transaction",
     .complexity = "O(N), when N is the number of queued commands", .handler = discard},
    {.name = "watch", .arity = -2, .flags = kTxnFlags, .categories = kAclTransaction,
     .first_key = 1, .last_key = -1, .key_step = 1, .group = "transactions", .since = "2.2.0",
     .summary = "Makes the next EXEC fail if any of the keys changes before it",
     .complexity = "O(1) for every key.", .key_specs = kWatchKeys, .handler = watch},
    {.name = "unwatch", .arity = 1, .flags = kTxnFlags, .categories = kAclTransaction,
     .group = "transactions", .since = "2.2.0",
     .summary = "Forgets every key the connection WATCHes",
     .complexity = "O(1)", .handler = unwatch},
};

}  // namespace

std::span<const CommandSpec> multi_commands() { return kCommands; }

}  // namespace cascade::commands
