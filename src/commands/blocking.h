// Blocking commands (BLPOP BRPOP BLMOVE BRPOPLPUSH BLMPOP BZPOPMIN BZPOPMAX BZMPOP):
// how a client waits for keys of any shard and who wakes it.
//
// Pieces:
//   - each shard's BlockedKeys (src/server/blocked_keys.h): per (db, key) the FIFO of
//     clients waiting for that key, with a "woken" mark per waiter;
//   - the client's connection fiber, parked in Connection::block_wait: no extra fiber, no
//     extra stack; it also watches its socket for a hangup;
//   - a wake-up: a message (Runtime::post) from the key's shard to the connection's shard
//     naming (client id, wait number, key index); it only rings the bell, it carries nothing.
//
// The protocol, for a client C blocking on keys k1..kn with a deadline:
//   1. fast path: each key in order, on its shard under the key's lock: a key of another type
//      is an error; a key with elements and nobody of C's kind (list or sorted set,
//      blocked_keys.h) queued on it is served at once;
//   2. otherwise C enrolls on every key's shard (BlockingSession::enroll), and only then
//      tries each key again: an element pushed between 1 and 2 is found by this try, one
//      pushed after the enrollment signals C. So no wake-up is ever lost;
//   3. a try of key k (on k's shard) first clears C's woken mark there and checks whether a
//      client of C's kind that blocked before C is still queued on k: then it is not C's
//      turn and C does not pop (FIFO per key; that client holds or will get the turn). Else
//      C pops under the key's lock; another client may have taken the element first, or k
//      may now hold another type (as Redis 7.0, C then keeps waiting: no WRONGTYPE once
//      blocked), then C waits again;
//   4. a write that adds elements to k, once committed (wake_blocked_*), marks the first
//      unwoken waiter of each kind on k and rings its bell; C, woken, tries the keys it was
//      rung for;
//   5. C leaves every key's queue when it is served, times out, disconnects, or is unblocked
//      (CLIENT UNBLOCK); a leaving client passes the turn on (signals k again if others
//      wait), so a turn it held is never lost. A client that leaves without being served
//      popped nothing.
// A spurious wake-up only costs a try. Commands inside MULTI/EXEC do not signal on their own:
// the transaction calls wake_blocked_keys() on each shard after its commit.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "src/commands/key_command.h"
#include "src/runtime/timer_queue.h"
#include "src/server/connection.h"
#include "src/types/key_record.h"

namespace cascade::commands {

// ---- waking ---------------------------------------------------------------------------------

// From a key command's body (on the key's shard, after its commit): the key got elements.
// Does nothing inside MULTI/EXEC (t.txn): see the file comment.
void wake_blocked_here(server::ServerState& server, const KeyTarget& t);
// On this shard: every key (of database `db`) that got elements. The hook for MULTI/EXEC's
// commit, for multi-key transactions (transaction.h: RENAME, COPY, MOVE, LMOVE, *STORE...)
// and for other commands that create or fill lists or sorted sets (RESTORE).
void wake_blocked_keys(server::ServerState& server, std::uint32_t db,
                       std::span<const std::string_view> keys);

// ---- the timeout argument -------------------------------------------------------------------

// Redis's timeout in seconds (a float; 0 waits forever), as a deadline from now (nullopt:
// forever). Writes Redis's error and returns false when it is not valid.
bool parse_block_timeout(server::CommandContext& ctx, std::string_view text,
                         std::optional<runtime::TimePoint>& deadline);

// ---- waiting ------------------------------------------------------------------------------

// A try of key i: on the key's shard (or through a transaction), pops if it may. Its reply
// is the command's reply when served (or an error that ends the command); KeyReply kinds
// kNull and kNullArray mean "nothing for this client yet". `session` is null in the fast
// path (step 1: the try must not pop when others are queued on the key) and set once the
// client is enrolled (then the try asks session->my_turn_here(i) on the key's shard).
class BlockingSession;
using BlockingTry = std::function<KeyReply(std::size_t key, BlockingSession* session)>;

// Inside a try, on key t's shard under its lock: may this client pop from t now (steps 1
// and 3)? Must be asked on every try once enrolled, also when the key turns out to hold
// another type, since it clears the client's woken mark (else the key's turn stays with a
// client that will not retry).
bool blocking_turn(server::CommandContext& ctx, const KeyTarget& t, BlockingSession* session,
                   std::size_t index, types::KeyType kind);

// Runs the protocol above for `keys` (distinct), waiting as a client of `kind`, until
// served, the deadline, CLIENT UNBLOCK or a disconnect; returns the reply to send
// (`timed_out` at the deadline or on UNBLOCK TIMEOUT; inside EXEC at once after the fast
// path), or nullopt when the connection is closing (CLIENT KILL, hangup, shutdown: as
// Redis, a client closed while blocked gets no reply).
std::optional<KeyReply> run_blocking(server::CommandContext& ctx,
                                     std::span<const std::string_view> keys, types::KeyType kind,
                                     std::optional<runtime::TimePoint> deadline,
                                     const BlockingTry& try_key, KeyReply timed_out);

// One client's enrollment on its keys' shards for one blocking call.
class BlockingSession {
 public:
  BlockingSession(server::CommandContext& ctx, std::span<const std::string_view> keys,
                  types::KeyType kind);
  ~BlockingSession();  // leaves every queue if still enrolled
  BlockingSession(const BlockingSession&) = delete;
  BlockingSession& operator=(const BlockingSession&) = delete;

  void enroll();
  void leave();
  // On key i's shard, inside a try: clears this client's woken mark there; false when a
  // client that blocked earlier is still queued on the key (not this client's turn).
  bool my_turn_here(std::size_t i);
  server::Connection::BlockWake wait(std::optional<runtime::TimePoint> deadline);
  std::vector<std::size_t> take_signals();

 private:
  server::CommandContext& ctx_;
  std::span<const std::string_view> keys_;
  types::KeyType kind_;
  std::uint32_t db_;
  std::uint64_t client_id_;
  std::uint64_t wait_ = 0;
  bool enrolled_ = false;
};

// Keys of a blocking command with duplicates dropped (the first occurrence kept), so each
// key has one queue entry per client.
std::vector<std::string_view> distinct_keys(std::span<const std::string_view> keys);

}  // namespace cascade::commands
