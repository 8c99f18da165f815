// Connection: one client, served by one fiber on the shard that accepted it.
//
// The loop (run()), one turn per batch of input:
//   1. recv() what is available into the one input buffer (at most one syscall), with the
//      idle `timeout` as its deadline;
//   2. close if the unprocessed input passes client-query-buffer-limit (Redis logs and
//      closes such a client without a reply);
//   3. parse every complete command and execute them in order (pipelining), queuing the
//      replies in the ReplyWriter's buffer; consecutive single-key commands that declare a
//      key handler (GET, SET) are gathered into a commands::KeyBatch and run together, one
//      cross-shard call per shard (key_batch.h says what order that keeps); any other
//      command first runs the batch gathered before it;
//   4. send everything queued with one writev (several only when the buffer holds more
//      segments than one call takes, or when a batch's replies pass kFlushThreshold).
// So a batch costs one recv and one writev however many commands it holds; parsing,
// dispatch and replies allocate nothing per command once the buffers are warm (a key
// batch: one future and task per other shard it calls). process_input() returns with the
// key batch run: no command is left pending across reads.
//
// Protocol errors: the replies of the commands before the bad one are sent, then the
// parser's error (Redis's text), then the connection closes, as Redis does.
//
// Closing from elsewhere (request_close(), from another fiber of this shard: CLIENT KILL,
// server shutdown): a connection waiting for input is woken and closes at once; a busy one
// (executing, or sending replies) finishes the batch it is in and sends its replies first,
// so in-flight replies go out. force_close() also abandons a send in progress.
//
// Blocking commands (BLPOP...; src/commands/blocking.h) park this connection's own fiber in
// block_wait(): no other fiber and no other stack per blocked client. The wait watches the
// socket for a hangup (Socket::wait_hangup, reading nothing) with the command's deadline,
// and is interrupted by block_signal (a key got elements: a message from the key's shard),
// block_unblock (CLIENT UNBLOCK) or request_close.
//
// Memory of an idle client: the input buffer is allocated by the first read at kFirstRead
// bytes and the read size doubles while reads fill it (up to kReadChunk), so a client that
// sends small commands keeps a small buffer and a pipelining one gets full-size reads
// after a few batches; the reply buffer is allocated by the first reply. A busy
// connection keeps what it grew to (no allocation per batch). Once it has waited for
// input 2 s, the shard's trimmer (listener.cc, once a second, as Redis's client cron frees
// idle query buffers) calls trim_if_idle, which frees both: the pending recv is
// interrupted, the input buffer freed, and the connection then waits for readability
// (Socket::wait_readable) holding no buffer, allocating one again when bytes arrive.
//
// Moving to the keys' shard. A connection lives on the shard that accepted it, so each
// command on a key of another shard is a cross-shard call: two thread wake-ups when the
// threads sleep. A client that works one key (a queue, a counter, redis-benchmark's list
// rows) pays that on every command, for half its commands with two shards. So once
// kMoveAfter single-key commands in a row named keys of one other shard, and the
// connection is between batches with nothing that ties it to this shard (no input or
// reply pending, no MULTI, no WATCH, not blocked, not closing), run() hands it over: the
// socket's descriptor and the ClientState (its id, name, database, AUTH, reply mode) go
// to that shard in a message, where a new Connection and fiber take them up (listener.cc,
// adopt_moved_client); the client notices nothing, and keeps its id in CLIENT LIST. The
// new shard registers the client before the old one lets it go, so CLIENT KILL, CLIENT
// LIST and a shutdown, which visit every shard, find it on one or both (they count an id
// once), and a close that reaches the old shard meanwhile is passed on. A
// client whose keys are spread over the shards never gets such a run (with two shards, a
// run of 64 random keys on one other shard has a chance of 2^-64), so it stays. INFO's
// moved_connections counts the hand-overs. Such a client's commands on the other shard's
// keys, when they end its input, are answered by that shard straight to the socket
// (commands/key_batch.h, "Replies from the keys' shard"): one wake-up instead of two.
//
// process_input() is the IO-free core: tests drive a Connection built without a socket by
// filling input() and calling it, then reading output().
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>
#include <string_view>
#include <utility>

#include "resp/input_buffer.h"
#include "resp/reply_writer.h"
#include "resp/request_parser.h"
#include "src/commands/key_batch.h"
#include "src/runtime/shard.h"
#include "src/runtime/socket.h"
#include "src/server/client_state.h"

namespace cascade::server {

class ServerState;
class ShardState;
struct CommandSpec;
struct Dispatch;

// A connection on its way to another shard (see "Moving to the keys' shard" above). The
// socket still names the old shard's reactor: the new shard adopts its descriptor
// (Socket::release, Socket::adopt); a handoff dropped on the way closes it.
struct ClientHandoff {
  runtime::ShardId target = 0;
  runtime::Socket socket;
  ClientState client;
  resp::RespVersion version = resp::RespVersion::kResp2;
  std::uint64_t block_wait = 0;  // the last blocking wait's number (BlockedKeys names waits by it)
};

class Connection {
 public:
  // Single-key commands on one other shard, in a row, before the connection moves there.
  static constexpr std::uint32_t kMoveAfter = 64;
  // Key batches with more argument bytes than this run the usual way, not from their
  // keys' shard (which would copy them).
  static constexpr std::size_t kRemoteArgBytes = 64 << 10;

  // Takes over an accepted socket (an empty Socket in tests: then run() must not be used).
  Connection(ServerState& server, ShardState& shard, runtime::Socket socket);
  // Takes up a connection handed over by another shard: same client, same id.
  Connection(ServerState& server, ShardState& shard, runtime::Socket socket, ClientHandoff moved);
  ~Connection();  // leaves the shard's registry
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // The fiber body: serves the client until it leaves or is closed, and closes the socket;
  // or until it should move to the shard of its keys: then take_handoff() has it.
  void run();
  std::optional<ClientHandoff> take_handoff() { return std::exchange(handoff_, std::nullopt); }

  enum class InputResult : std::uint8_t {
    kNeedMore,  // no complete command left in the input
    kFlush,     // replies passed kFlushThreshold: send them, then call again
    kClose,     // send what is queued, then close (QUIT, protocol error, kill...)
  };
  InputResult process_input();

  resp::InputBuffer& input() { return in_; }
  const resp::InputBuffer& input() const { return in_; }
  resp::ReplyBuffer& output() { return out_.buffer(); }
  const resp::ReplyBuffer& output() const { return out_.buffer(); }

  // Bytes this connection holds beyond its fiber's stack: the object, its input and reply
  // arrays and the parser's argument storage (CLIENT LIST's tot-mem).
  std::size_t memory_usage() const;

  ClientState& client() { return client_; }
  const ClientState& client() const { return client_; }
  resp::RespVersion resp_version() const { return out_.version(); }
  void set_resp_version(resp::RespVersion version);

  // From the shard's trimmer: when this connection has waited for input since `now -
  // idle_after` with nothing pending, frees its reply buffer and has its input buffer
  // freed (interrupting the pending recv). Returns the bytes it gives back.
  std::size_t trim_if_idle(runtime::TimePoint now, runtime::Duration idle_after);

  void request_close();
  void force_close();
  bool closing() const { return closing_; }

  // ---- blocking commands ------------------------------------------------------------------
  enum class BlockWake : std::uint8_t {
    kSignaled,        // a key got elements: retry the keys take_block_signals() names
    kTimedOut,        // the deadline passed
    kUnblocked,       // CLIENT UNBLOCK (TIMEOUT): answer as at the deadline
    kUnblockedError,  // CLIENT UNBLOCK ERROR
    kClosed,          // the client hung up, or the connection is being closed
  };
  // Starts a blocking wait over `keys` keys; returns its wait number (unique per connection).
  std::uint64_t begin_block(std::size_t keys);
  void end_block();
  bool blocked() const { return block_.active; }
  // Parks this fiber until one of BlockWake happens (at once if one already has).
  BlockWake block_wait(std::optional<runtime::TimePoint> deadline);
  // The key indexes signaled since the last call, ascending; clears them.
  std::vector<std::size_t> take_block_signals();
  // From a wake-up message: key `key_index` of wait `wait` got elements (ignored when that
  // wait is over).
  void block_signal(std::uint64_t wait, std::size_t key_index);
  // CLIENT UNBLOCK: false when the client is not blocked.
  bool block_unblock(bool error);

 private:
  enum class Phase : std::uint8_t { kWaitingForInput, kBusy };

  bool read_some();
  bool flush();
  // Counts the command toward a move; returns the shard of its key when it names one key
  // (at args[first_key]), so the caller does not hash the key again.
  std::optional<runtime::ShardId> track_key_shard(const CommandSpec& spec,
                                                  std::span<const std::string_view> args);
  bool should_move() const;
  void execute(std::span<const std::string_view> args);
  bool queue_in_multi(const Dispatch& dispatch, std::span<const std::string_view> args,
                      resp::ReplyWriter& writer);
  void run_key_batch();
  // At the end of the client's input: runs the key batch, or starts it on its keys' shard
  // replying from there (commands/key_batch.h, "Replies from the keys' shard").
  void end_input_batch();
  // Takes up a batch started so: its unsent replies go to out_. Before the connection
  // writes to its socket, closes it or moves.
  void settle_remote_batch();
  // ReplyWake's callback, on this shard: replies of a remote batch wait for the recv.
  static void wake_for_unsent(void* self);
  bool interrupted_only(const Status& error) const;
  resp::ReplyWriter& writer_for(const CommandSpec* spec);
  void advance_reply_mode();
  bool auth_required();
  void log_query_buffer_overflow();

  ServerState& server_;
  ShardState& shard_;
  runtime::Socket socket_;
  ClientState client_;
  resp::InputBuffer in_;
  resp::RequestParser parser_;
  resp::ReplyWriter out_;
  commands::KeyBatch key_batch_;
  // Replies suppressed by CLIENT REPLY OFF/SKIP are written here and dropped; made on first use.
  std::unique_ptr<resp::ReplyWriter> discard_;
  Phase phase_ = Phase::kBusy;
  bool closing_ = false;
  std::size_t read_size_;            // the next recv asks for this much room
  bool trim_requested_ = false;      // trim_if_idle interrupted the pending recv
  bool unsent_wake_ = false;         // the keys' shard interrupted it: replies wait to go
  std::shared_ptr<commands::ReplyWake> reply_wake_;  // made by the first remote batch
  bool wait_before_read_ = false;    // trimmed: wait for readability with no buffer
  runtime::ShardId key_shard_ = 0;    // the shard of the last single-key command
  std::uint32_t key_shard_run_ = 0;   // single-key commands in a row on key_shard_
  std::optional<ClientHandoff> handoff_;

  enum class Unblock : std::uint8_t { kNone, kTimeout, kError };
  struct BlockState {
    bool active = false;
    bool polling = false;  // parked in wait_hangup: a wake must interrupt it
    std::uint64_t wait = 0;
    std::vector<bool> signaled;
    bool any_signaled = false;
    Unblock unblock = Unblock::kNone;
  };
  BlockState block_;
  void wake_block();
};

}  // namespace cascade::server
