// The persistence family: SAVE, BGSAVE, LASTSAVE.
//
// Every acknowledged write is already durable in the engines' WALs; a save here makes a
// checkpoint: a consistent copy of every shard's data in dir/checkpoints/<name>, a point
// to restore to (src/server/server_checkpoint.h says how). It costs a memtable flush per
// shard and a hard link per table, not a copy of the data set.
//
//   SAVE              makes the checkpoint before replying +OK. It blocks only its own
//                     connection; other clients go on, and their writes after the flush
//                     are not in it.
//   BGSAVE [SCHEDULE] starts one in a background fiber and replies
//                     +Background saving started.
//   LASTSAVE          the unix time of the last successful save (the start before one).
// One save at a time (src/server/save_state.h): SAVE or BGSAVE while one runs gets Redis's
// "ERR Background save already in progress", except BGSAVE SCHEDULE during a SAVE, which
// replies +Background saving scheduled and runs once that SAVE is done.
#include <chrono>

#include "src/commands/command_families.h"
#include "src/server/command_context.h"
#include "src/server/error_replies.h"
#include "src/server/server_checkpoint.h"

namespace cascade::commands {
namespace {

using namespace cascade::server;

std::int64_t unix_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void save(CommandContext& ctx) {
  if (!ctx.server.saves().try_begin(SaveKind::kForeground, unix_seconds())) {
    ctx.error(kErrBgsaveInProgress);
    return;
  }
  if (Status s = run_save(ctx.server, SaveKind::kForeground); !s) {
    ctx.error(kErrSaveFailed);
    return;
  }
  ctx.reply.ok();
}

// BGSAVE [SCHEDULE]
void bgsave(CommandContext& ctx) {
  bool schedule = false;
  if (ctx.argc() == 2) {
    if (!equals_ignore_case(ctx.arg(1), "schedule")) {
      ctx.error(kErrSyntax);
      return;
    }
    schedule = true;
  } else if (ctx.argc() > 2) {
    ctx.error(kErrSyntax);
    return;
  }
  if (ctx.server.saves().try_begin(SaveKind::kBackground, unix_seconds())) {
    start_background_save(ctx.server);
    ctx.reply.simple_string("Background saving started");
  } else if (schedule && ctx.server.saves().schedule()) {
    ctx.reply.simple_string("Background saving scheduled");
  } else {
    ctx.error(kErrBgsaveInProgress);
  }
}

void lastsave(CommandContext& ctx) {
  ctx.reply.integer(ctx.server.saves().report().last_save_time);
}

constexpr std::string_view kLastsaveTips[] = {"nondeterministic_output"};

constexpr CommandSpec kCommands[] = {
    {.name = "save", .arity = 1, .flags = kCmdAdmin | kCmdNoscript | kCmdNoMulti,
     .categories = kAclDangerous, .group = "server", .since = "1.0.0",
     .summary = "Makes a checkpoint of every shard before replying",
     .complexity = "O(N) where N is the number of table files", .handler = save},
    {.name = "bgsave", .arity = -1, .flags = kCmdAdmin | kCmdNoscript,
     .categories = kAclDangerous, .group = "server", .since = "1.0.0",
     .summary = "Makes a checkpoint of every shard in the background",
     .complexity = "O(1)", .handler = bgsave},
    {.name = "lastsave", .arity = 1, .flags = kCmdLoading | kCmdStale | kCmdFast,
     .categories = kAclAdmin | kAclDangerous, .group = "server", .since = "1.0.0",
     .summary = "Returns the unix time of the last successful save",
     .complexity = "O(1)", .tips = kLastsaveTips, .handler = lastsave},
};

}  // namespace

std::span<const CommandSpec> save_commands() { return kCommands; }

}  // namespace cascade::commands
