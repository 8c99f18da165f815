// CommandContext: everything a command handler is given. A handler reads its arguments,
// writes exactly one reply through `reply` (or none when it closes the connection without
// one, as SHUTDOWN does), and may change the client's session state.
//
// Rules for handlers:
//   - args[0] is the command name as the client typed it; for a subcommand args[1] is the
//     subcommand. Arity was checked before the call, so args.size() is within it.
//   - Error replies go through error(), which counts them for INFO; texts come from
//     error_replies.h (Redis's exact words).
//   - args are views into the connection's input buffer: valid for the whole call, even
//     across suspensions, but not after it returns.
//   - A handler runs in the connection's fiber on its shard; it may suspend (cross-shard
//     calls), which delays only this connection.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

#include "resp/reply_writer.h"
#include "src/server/client_state.h"
#include "src/server/command_table.h"
#include "src/server/server_state.h"
#include "src/server/shard_state.h"

namespace cascade::commands {
class ExecTransaction;
}

namespace cascade::server {

class Connection;

struct CommandContext {
  std::span<const std::string_view> args;
  const CommandSpec& command;
  resp::ReplyWriter& reply;
  Connection& connection;
  ClientState& client;
  ShardState& shard;
  ServerState& server;
  // Set while the command runs inside EXEC: its keys are the transaction's
  // (src/commands/exec_transaction.h); null otherwise. A blocking command seeing it set
  // must not wait (Redis runs it as if its timeout had passed at once): the transaction
  // holds its keys' locks, so nothing could ever wake it.
  commands::ExecTransaction* exec = nullptr;

  std::size_t argc() const { return args.size(); }
  std::string_view arg(std::size_t i) const { return args[i]; }

  void error(std::string_view text) {
    ++shard.stats().error_replies;
    reply.error(text);
  }
};

}  // namespace cascade::server
