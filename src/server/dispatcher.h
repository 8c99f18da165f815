// Dispatch: from a parsed argument list to the CommandSpec that will run it, with Redis
// 7.0's checks in Redis's order and its exact error texts:
//
//   1. look the name up (case-insensitive)      -> ERR unknown command 'x', with args beginning with: 'a' 'b'
//   2. the command's arity                      -> ERR wrong number of arguments for 'x' command
//   3. a container's subcommand                 -> ERR unknown subcommand 'y'. Try X HELP.
//   4. the subcommand's arity                   -> ERR wrong number of arguments for 'x|y' command
//   5. authentication, unless the command is no_auth -> NOAUTH Authentication required.
//
// So an unknown command or a wrong arity is reported even to a client that has not
// authenticated yet, as Redis does. resolve_command() decides; write_dispatch_error()
// writes the reply. Neither allocates on success; the error texts that quote arguments are
// built on the error path only.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "resp/reply_writer.h"
#include "src/server/command_table.h"

namespace cascade::server {

enum class DispatchError : std::uint8_t {
  kNone,
  kUnknownCommand,
  kWrongArity,         // of the command or of its subcommand (spec names which)
  kUnknownSubcommand,  // spec is the container
  kNoAuth,
};

struct Dispatch {
  const CommandSpec* spec = nullptr;  // what runs (a subcommand's spec for containers)
  DispatchError error = DispatchError::kNone;
};

// args must hold at least the command name.
Dispatch resolve_command(const CommandTable& table, std::span<const std::string_view> args,
                         bool auth_required);

// The error text of a failed dispatch (without "-" and CRLF).
std::string dispatch_error_text(const Dispatch& dispatch, std::span<const std::string_view> args);

// Redis's arity error for a command or subcommand name: "ERR wrong number of arguments for
// 'name' command" (also used by handlers that check counts beyond the arity).
std::string wrong_arity_text(std::string_view full_name);

}  // namespace cascade::server
