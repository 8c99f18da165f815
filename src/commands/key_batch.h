// KeyBatch: a pipeline's consecutive single-key commands (those declaring a
// CommandSpec::key_handler: GET, SET), run together instead of one at a time.
//
// One at a time, each command whose key lives on another shard costs a cross-shard round
// trip while the connection waits, so a pipeline of 16 commands over 2 shards waits for
// about 8 round trips in a row, and under appendfsync always for 16 WAL syncs in a row.
// Batched, the connection sends one call per shard holding any of the batch's keys, runs
// its own shard's commands inline meanwhile, and waits once. On each shard the commands run
// in their order, and a run of consecutive plain overwrites (SET key value: no option, no
// read, reply OK) becomes one engine write (types::Keyspace::put_strings): one WAL record,
// and under appendfsync always one sync for the run (it touches the keys' WATCHes like any
// write). Never used between MULTI and EXEC (the connection queues those commands) nor
// inside EXEC (the queued commands run through their handlers with ctx.exec set), so
// commands here take their own locks and commit at once (KeyTarget::txn is null).
//
// Order. Replies go out in the order the commands came. Commands on one key run in their
// order (a key has one shard, and a shard runs its part in order), so a pipeline reads its
// own writes. Under appendfsync always a row of write commands on distinct keys runs at
// once on its shard (run_concurrently), each still waiting for its own sync; anything
// else, or the row's key coming again, waits for the row to end. Commands on keys of different shards run at once, so another client may see
// them take effect in another order than they were sent: a pipeline "SET a 1, SET b 1"
// can be seen by a concurrent reader as b set before a. Redis, single-threaded, never
// shows that; nothing a client was told is contradicted (each command is acknowledged
// only after it took effect, and no command's reply depends on another key's command in
// the same batch), which is the same freedom the commands would have if sent on separate
// connections. Commands that touch the session, several keys or several shards are not
// batched: the connection runs the batch before them (connection.h), so they see every
// earlier command done.
//
// Durability: unchanged. Each command's reply waits for its own write's acknowledgement
// (a shared write's, for a run of overwrites), and locks are held as each command holds
// them alone.
//
// Memory: the batch keeps views into the connection's input buffer, valid until the
// connection's next read, and run() happens before it. Its vectors are reused, so a warm
// connection's batch allocates only what a cross-shard call does (its future and task).
//
// Replies from the keys' shard. An unpipelined command on a key of another shard costs two
// thread wake-ups when the threads sleep: the call wakes the key's shard, and its answer
// wakes the connection's, which then sends the reply. When the batch ends what the client
// sent (the connection has nothing more to run) and no reply of the connection waits to go
// before it, start_remote() has the key's shard send the replies itself, straight to the
// client's socket (runtime::Socket::send_now), and the connection goes back to its recv at
// once. It takes the outcome up with finish_remote() when the client's next bytes arrive
// (the future is ready by then, as the client only sends after its reply: no wake-up) or
// before it closes. One wake-up per command instead of two. The batch's arguments are
// copied first: the connection reads into its input buffer meanwhile. What the socket did
// not take at once (a full send buffer) comes back, and the key's shard wakes the
// connection through its ReplyWake (the client, waiting for the rest of its reply, sends
// nothing that would), which then sends it, before any later reply. Until finish_remote()
// the connection must not write to the socket, close it or hand it over, and must not
// touch the batch.
//
// Calling rules: the connection's fiber; add() then run(), which suspends while the other
// shards work; or add(), start_remote() and later finish_remote().
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "resp/reply_writer.h"
#include "src/commands/key_command.h"
#include "src/runtime/future.h"
#include "src/server/client_state.h"
#include "src/server/command_table.h"
#include "src/server/server_state.h"
#include "src/server/shard_state.h"

namespace cascade::commands {

// How a batch's shard wakes the connection that started it remotely, when the socket did
// not take every reply: `wake(target)` runs on shard `home`, where the connection lives.
// Shared by the connection, its key batch and the wakes in flight; the connection clears
// `target` when it goes, on `home`, so a late wake finds nothing.
struct ReplyWake {
  runtime::ShardId home = 0;
  void (*wake)(void* target) = nullptr;
  void* target = nullptr;  // read and written on `home` only
};

class KeyBatch {
 public:
  // More commands than this are run in several batches (bounds the replies held at once).
  static constexpr std::size_t kMaxCommands = 64;

  bool empty() const { return entries_.empty(); }
  std::size_t size() const { return entries_.size(); }

  // Queues a command declaring a key_handler, whose key args[1] lives on `shard`.
  void add(const server::CommandSpec& spec, std::span<const std::string_view> args,
           std::size_t shard);

  // Runs every queued command (for `client`, from its connection's fiber on `here`), writes
  // their replies to `out` in order, counts them in here's stats, and empties the batch.
  void run(server::ServerState& server, server::ShardState& here, server::ClientState& client,
           resp::ReplyWriter& out);

  // Replies from the keys' shard (above). The shard every queued command's key lives on,
  // when that is one shard other than `here`.
  std::optional<std::uint32_t> one_other_shard(std::uint32_t here) const;
  // The bytes of the queued commands' arguments (start_remote copies them).
  std::size_t arg_bytes() const;
  // The connection's wake, given once before the first start_remote().
  void set_reply_wake(std::shared_ptr<const ReplyWake> wake) { wake_ = std::move(wake); }
  // Starts the queued commands on that shard, replying in `version` to the socket `fd`;
  // the reply wake if some replies are left unsent.
  void start_remote(server::ServerState& server, server::ClientState& client, int fd,
                    resp::RespVersion version);
  bool in_flight() const { return remote_.valid(); }
  // Waits for the started commands; writes to `out` the replies their shard could not send
  // (or, if it never ran them, an error for each) and empties the batch.
  void finish_remote(server::ShardState& here, resp::ReplyWriter& out);

 private:
  struct Entry {
    const server::CommandSpec* spec;
    std::uint32_t first_arg;  // in args_
    std::uint32_t argc;
    std::uint32_t shard;
  };

  std::span<const std::string_view> args_of(const Entry& e) const {
    return std::span<const std::string_view>(args_).subspan(e.first_arg, e.argc);
  }
  bool is_plain_overwrite(const Entry& e) const {
    return e.spec->plain_overwrite != nullptr && e.spec->plain_overwrite(args_of(e));
  }
  // Writes replies_ to `out` in order, counting them in `stats`.
  void write_replies(resp::ReplyWriter& out, server::ShardStats& stats);
  // On `shard`'s thread: runs that shard's entries in order, filling their replies.
  void run_shard(server::ServerState& server, std::uint32_t db, std::uint32_t shard);
  // One entry through its key handler, on this shard.
  KeyReply run_entry(server::ServerState& server, std::uint32_t db, std::size_t i);
  // Write commands on distinct keys (all on this shard), under appendfsync always: each in
  // a fiber of its own but the last, which runs in the caller's; returns when all are done.
  // Each waits for its own WAL sync, so they share syncs instead of waiting one each in a
  // row (INCR -P 16 -c 50, always: 190k -> 370k/s). Commands on one key stay in order:
  // a repeated key ends the row before it.
  void run_concurrently(server::ServerState& server, std::uint32_t db,
                        std::span<const std::size_t> indexes);
  // On `shard`'s thread, before run_shard's loop: the keys its commands will read (all
  // but the plain overwrites, which read nothing), up to engine::BTree::kMaxPrefetch, are
  // fetched into the cache together (types::Keyspace::prefetch): a pipeline of GETs of
  // random keys otherwise waits for each lookup's memtable misses in turn.
  void prefetch_reads(server::ServerState& server, std::uint32_t db, std::uint32_t shard);
  // The entries at `indexes` (all on this shard, all plain overwrites) as one write.
  void run_overwrites(server::ServerState& server, std::uint32_t db,
                      std::span<const std::size_t> indexes);

  std::vector<Entry> entries_;
  std::vector<std::string_view> args_;
  std::vector<KeyReply> replies_;
  std::vector<std::uint32_t> remote_shards_;
  std::vector<runtime::Future<void>> pending_;
  // A batch started by start_remote(): its arguments' bytes, its shard's outcome, and the
  // bytes the socket did not take.
  std::string owned_args_;
  runtime::Future<void> remote_;
  std::string unsent_;
  std::shared_ptr<const ReplyWake> wake_;
};

}  // namespace cascade::commands
