// The server family: TIME, SHUTDOWN (INFO is in info.cc).
//
// SHUTDOWN asks the main thread to stop the server (shutdown_signal.h) and closes the
// calling connection without a reply, as Redis does on success. Every acknowledged write
// is already durable, so nothing needs saving; SHUTDOWN SAVE still makes a checkpoint
// first, as SAVE does (src/server/server_checkpoint.h), and if it fails (or another save
// is running) the server keeps running and the reply is Redis's "Errors trying to
// SHUTDOWN", unless FORCE is given. NOSAVE and NOW are accepted (there are no save points
// and no replicas to wait for).
#include <sys/time.h>

#include <chrono>
#include <string>

#include "src/commands/command_families.h"
#include "src/server/command_context.h"
#include "src/server/error_replies.h"
#include "src/server/server_checkpoint.h"

namespace cascade::commands {
namespace {

using namespace cascade::server;

void time_command(CommandContext& ctx) {
  timeval tv{};
  gettimeofday(&tv, nullptr);
  ctx.reply.array(2);
  ctx.reply.bulk(std::to_string(tv.tv_sec));
  ctx.reply.bulk(std::to_string(tv.tv_usec));
}

// SHUTDOWN SAVE's checkpoint; false (and logged) if it could not be made.
bool save_before_shutdown(CommandContext& ctx) {
  const std::int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                               std::chrono::system_clock::now().time_since_epoch()).count();
  if (!ctx.server.saves().try_begin(SaveKind::kForeground, now)) {
    ctx.server.logger().warning("SHUTDOWN SAVE: another save is in progress");
    return false;
  }
  return run_save(ctx.server, SaveKind::kForeground).is_ok();
}

// SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]
void shutdown(CommandContext& ctx) {
  bool save = false, nosave = false, abort = false, force = false;
  for (std::size_t i = 1; i < ctx.argc(); ++i) {
    const std::string_view arg = ctx.arg(i);
    if (equals_ignore_case(arg, "save")) {
      save = true;
    } else if (equals_ignore_case(arg, "nosave")) {
      nosave = true;
    } else if (equals_ignore_case(arg, "abort")) {
      abort = true;
    } else if (equals_ignore_case(arg, "force")) {
      force = true;
    } else if (!equals_ignore_case(arg, "now")) {
      ctx.error(kErrSyntax);
      return;
    }
  }
  if ((save && nosave) || (abort && ctx.argc() != 2)) {
    ctx.error(kErrSyntax);
    return;
  }
  if (abort) {
    ctx.error(kErrNoShutdownInProgress);
    return;
  }
  if (save && !save_before_shutdown(ctx) && !force) {
    ctx.error(kErrShutdownFailed);
    return;
  }
  if (!ctx.server.request_shutdown(ShutdownCause::kCommand)) {
    ctx.error(kErrShutdownFailed);
    return;
  }
  ctx.client.close_after_reply = true;
}

constexpr std::string_view kTimeTips[] = {"nondeterministic_output"};

constexpr CommandSpec kCommands[] = {
    {.name = "time", .arity = 1, .flags = kCmdLoading | kCmdStale | kCmdFast, .group = "server",
     .since = "2.6.0", .summary = "Returns the server's clock: seconds and microseconds",
     .complexity = "O(1)", .tips = kTimeTips, .handler = time_command},
    {.name = "shutdown", .arity = -1,
     .flags = kCmdAdmin | kCmdNoscript | kCmdLoading | kCmdStale | kCmdNoMulti | kCmdAllowBusy,
     .group = "server", .since = "1.0.0",
     .summary = "Stops the server after closing every connection",
     .complexity = "O(N) where N is the number of client connections", .handler = shutdown},
};

}  // namespace

std::span<const CommandSpec> server_commands() { return kCommands; }

}  // namespace cascade::commands
