// Connection: one client, served by one fiber on the shard that accepted it.
//
// The loop (run()), one turn per batch of input:
//   1. recv() what is available into the one input buffer (at most one syscall), with the
//      idle `timeout` as its deadline;
//   2. close if the unprocessed input passes client-query-buffer-limit (Redis logs and
//      closes such a client without a reply);
//   3. parse every complete command and execute them in order (pipelining), queuing the
//      replies in the ReplyWriter's buffer;
//   4. send everything queued with one writev (several only when the buffer holds more
//      segments than one call takes, or when a batch's replies pass kFlushThreshold).
// So a batch costs one recv and one writev however many commands it holds; parsing,
// dispatch and replies allocate nothing per command once the buffers are warm.
//
// Protocol errors: the replies of the commands before the bad one are sent, then the
// parser's error (Redis's text), then the connection closes, as Redis does.
//
// Closing from elsewhere (request_close(), from another fiber of this shard: CLIENT KILL,
// server shutdown): a connection waiting for input is woken and closes at once; a busy one
// (executing, or sending replies) finishes the batch it is in and sends its replies first,
// so in-flight replies go out. force_close() also abandons a send in progress.
//
// process_input() is the IO-free core: tests drive a Connection built without a socket by
// filling input() and calling it, then reading output().
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "resp/input_buffer.h"
#include "resp/reply_writer.h"
#include "resp/request_parser.h"
#include "src/runtime/socket.h"
#include "src/server/client_state.h"

namespace cascade::server {

class ServerState;
class ShardState;
struct CommandSpec;
struct Dispatch;

class Connection {
 public:
  // Takes over an accepted socket (an empty Socket in tests: then run() must not be used).
  Connection(ServerState& server, ShardState& shard, runtime::Socket socket);
  ~Connection();  // leaves the shard's registry
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // The fiber body: serves the client until it leaves or is closed; closes the socket.
  void run();

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

  ClientState& client() { return client_; }
  const ClientState& client() const { return client_; }
  resp::RespVersion resp_version() const { return out_.version(); }
  void set_resp_version(resp::RespVersion version);

  void request_close();
  void force_close();
  bool closing() const { return closing_; }

 private:
  enum class Phase : std::uint8_t { kWaitingForInput, kBusy };

  bool read_some();
  bool flush();
  void execute(std::span<const std::string_view> args);
  bool queue_in_multi(const Dispatch& dispatch, std::span<const std::string_view> args,
                      resp::ReplyWriter& writer);
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
  // Replies suppressed by CLIENT REPLY OFF/SKIP are written here and dropped; made on first use.
  std::unique_ptr<resp::ReplyWriter> discard_;
  Phase phase_ = Phase::kBusy;
  bool closing_ = false;
};

}  // namespace cascade::server
