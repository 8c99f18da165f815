// Running a single-key command where its key lives, and answering where the client is.
//
// A key belongs to shard key_shard(key, N) (src/types/key_slot.h). run_key_command(ctx,
// key, body) runs `body` on that shard: right there in the connection's fiber when it is
// the connection's own shard, else through Runtime::submit while the connection's fiber
// waits (the connection's later commands wait too, so replies keep their order). `body`
// gets a KeyTarget (that shard's keyspace, the client's database, the clock, the sync
// rule) and returns a KeyReply: a plain value that owns its bytes, carried back and written
// into the connection's ReplyWriter on the connection's shard. So no shard ever writes into
// another shard's buffers, and the command's arguments (views into the connection's input
// buffer, alive for the whole call) are only read while the connection waits.
//
// Inside EXEC (ctx.exec set) the key's stripe is already held by the transaction
// (exec_transaction.h): the KeyTarget carries the transaction's staged writes of the key's
// shard (KeyTarget::txn), so the body neither locks nor commits. A key whose stripe the
// transaction does not hold is not run at all: the transaction notes it and runs again
// with it locked, and the reply of this attempt is dropped.
//
// Engine errors become server::storage_error()'s reply (kErrStorage; kErrStorageCorruption
// for corruption, kErrNoSpace, Redis's MISCONF text, for a full disk), logged in full on
// the key's shard.
#pragma once

#include <algorithm>
#include <cstdint>
#include <span>
#include <string>
#include <vector>
#include <string_view>
#include <utility>

#include "resp/reply_writer.h"
#include "src/server/command_context.h"
#include "src/server/error_replies.h"
#include "src/server/shard_storage.h"
#include "src/types/key_slot.h"
#include "src/types/keyspace.h"

namespace cascade::commands {

class ExecTransaction;

// One reply, computed on the key's shard. Aggregates (arrays, maps, sets) hold their
// elements in `items`, or (long replies of bulk strings: SMEMBERS, HGETALL, LRANGE, ZRANGE)
// already encoded in `encoded`, one string for them all rather than an object each; a map
// holds 2 x pairs elements, key then value. Maps and sets are
// written as RESP3 maps and sets, as flat arrays in RESP2; a double as RESP3's double or a
// bulk string in RESP2 (ReplyWriter decides).
struct KeyReply {
  enum class Kind : std::uint8_t {
    kNull, kOk, kInteger, kBulk, kSimple, kError, kDouble, kNullArray, kArray, kMap, kSet
  };
  Kind kind = Kind::kNull;
  std::int64_t integer = 0;
  std::string text;  // the bulk payload, the simple string or the error text
  double real = 0;
  std::vector<KeyReply> items;
  resp::EncodedElements encoded;  // an aggregate's elements when `items` is empty

  static KeyReply null() { return {}; }
  static KeyReply ok() { return make(Kind::kOk); }
  static KeyReply number(std::int64_t v) {
    KeyReply r = make(Kind::kInteger);
    r.integer = v;
    return r;
  }
  static KeyReply bulk(std::string payload) { return with_text(Kind::kBulk, std::move(payload)); }
  static KeyReply simple(std::string_view text) { return with_text(Kind::kSimple, std::string(text)); }
  static KeyReply error(std::string_view text) { return with_text(Kind::kError, std::string(text)); }
  static KeyReply real_number(double v) {
    KeyReply r = make(Kind::kDouble);
    r.real = v;
    return r;
  }
  static KeyReply null_array() { return make(Kind::kNullArray); }
  static KeyReply array(std::vector<KeyReply> items = {}) {
    return aggregate(Kind::kArray, std::move(items));
  }
  static KeyReply map(std::vector<KeyReply> items = {}) {
    return aggregate(Kind::kMap, std::move(items));
  }
  static KeyReply set(std::vector<KeyReply> items = {}) {
    return aggregate(Kind::kSet, std::move(items));
  }
  // Aggregates of encoded elements (a map: keys and values alternating).
  static KeyReply encoded_array(resp::EncodedElements elements) {
    return with_encoded(Kind::kArray, std::move(elements));
  }
  static KeyReply encoded_map(resp::EncodedElements elements) {
    return with_encoded(Kind::kMap, std::move(elements));
  }
  static KeyReply encoded_set(resp::EncodedElements elements) {
    return with_encoded(Kind::kSet, std::move(elements));
  }
  // Elements of an aggregate, whichever way they are held.
  std::size_t elements() const { return items.empty() ? encoded.count() : items.size(); }
  bool is_error() const { return kind == Kind::kError; }

 private:
  static KeyReply make(Kind kind) {
    KeyReply r;
    r.kind = kind;
    return r;
  }
  static KeyReply with_text(Kind kind, std::string text) {
    KeyReply r = make(kind);
    r.text = std::move(text);
    return r;
  }
  static KeyReply with_encoded(Kind kind, resp::EncodedElements elements) {
    KeyReply r = make(kind);
    r.encoded = std::move(elements);
    return r;
  }
  static KeyReply aggregate(Kind kind, std::vector<KeyReply> items) {
    KeyReply r = make(kind);
    r.items = std::move(items);
    return r;
  }
};

// What a command body gets on the key's shard.
struct KeyTarget {
  types::Keyspace& keyspace;
  std::uint32_t db;
  std::string_view key;
  bool sync;            // each write waits for its WAL sync (appendfsync always)
  std::int64_t now_ms;  // the command's clock: unix time in ms, read once
  server::Logger& logger;
  std::int64_t proto_max_bulk_len;

  // Inside MULTI/EXEC: the transaction's staged writes on this shard (it holds the locks
  // of every key its commands name, and commits them together); null otherwise.
  types::StagedWrites* txn = nullptr;
  // The newest engine sequence a standalone lock()'s reads may have seen: the reply waits
  // until it is visible (types::LockedKey, "Early lock release"; run_on_this_shard).
  engine::SequenceNumber observed = 0;
  // The server, for what a command does beyond its key (a push waking blocked clients).
  server::ServerState* server = nullptr;

  types::LockedKey lock() {
    if (txn != nullptr) return types::LockedKey(keyspace, db, key, *txn);
    return types::LockedKey(keyspace, db, key, sync, &observed);
  }
  // A plain read: no lock, but it waits out a multi-shard write holding the key
  // (types::KeyLocks::wait_unfenced).
  Result<std::optional<types::StoredRecord>> read() {
    if (txn != nullptr) {
      types::LockedKey held(keyspace, db, key, *txn);
      return held.load(now_ms);
    }
    keyspace.locks().wait_unfenced(db, key);
    return keyspace.read(db, key, now_ms);
  }
};

// A command's arguments and spec, as a CommandSpec::key_handler receives them on the key's
// shard (args[1] is the key). The views stay valid while the call runs.
struct KeyCall {
  std::span<const std::string_view> args;
  const server::CommandSpec& command;
};

std::int64_t unix_time_ms();

// The reply for an engine failure, logged with the key's shard and the command.
KeyReply storage_failure(const KeyTarget& target, const Status& status);

// Writes a KeyReply to the client (errors counted in the shard's stats).
void write_key_reply(server::CommandContext& ctx, KeyReply&& reply);
void write_key_reply(resp::ReplyWriter& out, server::ShardStats& stats, KeyReply&& reply);

// Inside EXEC: the transaction's staged writes on `shard` if it holds the stripe of (db,
// key); else nullptr, and the key is noted for the transaction's next attempt.
types::StagedWrites* exec_writes_for(ExecTransaction& txn, std::uint32_t db, std::string_view key,
                                     std::size_t shard);
// The reply of a command that an EXEC attempt could not run (never reaches the client).
inline constexpr std::string_view kErrExecRetry = "ERR the transaction runs again";

// Builds the KeyTarget on the shard running the caller.
template <typename Body>
KeyReply run_on_this_shard(server::ServerState& server, std::uint32_t db, std::string_view key,
                           Body& body, types::StagedWrites* txn) {
  server::ShardState& shard = server.this_shard();
  types::Keyspace* keyspace = shard.keyspace();
  if (keyspace == nullptr) return KeyReply::error(server::kErrShardUnavailable);
  const server::ServerConfig& config = shard.config();
  KeyTarget target{*keyspace,          db,
                   key,                server::sync_every_write(config),
                   unix_time_ms(),     server.logger(),
                   config.proto_max_bulk_len,
                   txn};
  target.server = &server;
  KeyReply reply = body(target);
  // What the body read under the key's lock may include writes still waiting on the WAL:
  // a command that wrote waited for its own write, which comes after them; one that did
  // not waits here, so no client learns of a write before it is acknowledged.
  if (target.observed != 0) keyspace->engine().wait_visible(target.observed);
  return reply;
}

// Runs body(KeyTarget&) -> KeyReply on the shard owning `key` and returns its reply.
template <typename Body>
KeyReply call_on_key_shard(server::CommandContext& ctx, std::string_view key, Body&& body) {
  server::ServerState& server = ctx.server;
  const auto db = static_cast<std::uint32_t>(ctx.client.db);
  const std::size_t target = types::key_shard(key, server.shard_count());
  types::StagedWrites* txn = nullptr;
  if (ctx.exec != nullptr) {
    txn = exec_writes_for(*ctx.exec, db, key, target);
    if (txn == nullptr) return KeyReply::error(kErrExecRetry);
  }
  if (target == ctx.shard.id()) return run_on_this_shard(server, db, key, body, txn);
  Result<KeyReply> reply = server.runtime()
                               .submit(static_cast<runtime::ShardId>(target),
                                       [&server, db, key, &body, txn]() {
                                         return run_on_this_shard(server, db, key, body, txn);
                                       })
                               .get();
  if (!reply) return KeyReply::error(server::kErrShardUnavailable);
  return std::move(*reply);
}

template <typename Body>
void run_key_command(server::CommandContext& ctx, std::string_view key, Body&& body) {
  write_key_reply(ctx, call_on_key_shard(ctx, key, std::forward<Body>(body)));
}

// The handler of a command declared with a key_handler, when it runs alone (outside a key
// batch): its key_handler on the key's shard.
void run_key_handler(server::CommandContext& ctx);

}  // namespace cascade::commands
