// ClientState: what the server knows about one client connection beyond its buffers: its
// identity, its session settings (RESP version lives in the connection's ReplyWriter) and
// what CLIENT LIST reports. Commands read and change it through CommandContext.
//
// Owned by the Connection, touched only by fibers of the connection's shard.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "src/runtime/timer_queue.h"

namespace cascade::server {

struct CommandSpec;

// CLIENT REPLY: ON sends replies; OFF sends none; SKIP suppresses the reply of the next
// command only (kSkipNext while CLIENT REPLY SKIP itself runs, kSkip for the one after).
enum class ReplyMode : std::uint8_t { kOn, kOff, kSkipNext, kSkip };

// MULTI ... EXEC: the commands queued since MULTI, each with its own copy of its arguments
// (the parsed arguments are views into the input buffer, gone after the command).
struct QueuedCommand {
  const CommandSpec* spec = nullptr;
  std::vector<std::string> args;
};
struct MultiState {
  bool active = false;   // between MULTI and EXEC/DISCARD/RESET
  bool aborted = false;  // a command was refused while queuing: EXEC answers EXECABORT
  std::vector<QueuedCommand> queue;
};
// A key the client WATCHes; the watch itself lives in the key's shard's WatchRegistry.
struct WatchedKey {
  std::uint32_t db = 0;
  std::string key;
};

struct ClientState {
  std::uint64_t id = 0;
  std::string addr;   // "ip:port" of the peer
  std::string laddr;  // "ip:port" of our end
  int fd = -1;

  std::string name;      // CLIENT SETNAME / HELLO SETNAME; empty = none
  std::string lib_name;  // CLIENT SETINFO
  std::string lib_ver;
  int db = 0;            // SELECT; kept for the data layer
  bool authenticated = false;
  ReplyMode reply_mode = ReplyMode::kOn;
  bool no_evict = false;
  bool no_touch = false;
  // Set by a command (QUIT, CLIENT KILL of itself, SHUTDOWN): send what is queued, close.
  bool close_after_reply = false;

  MultiState multi;
  std::vector<WatchedKey> watched;  // since WATCH, until EXEC/DISCARD/UNWATCH/RESET

  runtime::TimePoint created{};
  runtime::TimePoint last_interaction{};
  const CommandSpec* last_command = nullptr;  // the running or last run command
};

// Redis's rule for CLIENT SETNAME and HELLO SETNAME: printable ASCII without spaces
// ('!' to '~'); the empty name clears it.
inline bool is_valid_client_name(std::string_view name) {
  for (char c : name) {
    if (c < '!' || c > '~') return false;
  }
  return true;
}

}  // namespace cascade::server
