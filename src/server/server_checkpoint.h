// Checkpoints of the whole server, the work behind SAVE and BGSAVE (src/commands/save.cc):
// every shard's engine checkpointed (engine/checkpoint.h) into one directory.
//
// Layout (src/types/FORMAT.md, "Checkpoints"):
//   dir/checkpoints/<name>/shards       the shard count file, as in a data directory
//   dir/checkpoints/<name>/shard-NNN/   shard NNN's engine checkpoint
// <name> is the UTC time the checkpoint began, YYYYmmdd-HHMMSS-mmm. It is built as
// <name>.tmp and renamed to <name> only once every shard's checkpoint and the shards file
// are durable, then checkpoints/ is synced: a directory without ".tmp" is whole. A ".tmp"
// one is what a failure or a crash left; the next save removes it.
//
// Restoring: a checkpoint is a data directory. Stop the server and start one on it,
//     cascade-server --dir dir/checkpoints/<name>
// (or on a copy of it, `cp -a`, to keep the checkpoint itself unchanged: a server writes
// into its --dir). The shard count comes from the checkpoint's shards file. Checkpoint and
// source share their table files by hard link; both sides only ever create and delete
// files, never change one, so neither can alter the other's data.
//
// Consistency: each shard's part holds a prefix of that shard's writes, as of its flush
// at checkpoint time. The shards are checkpointed at once but not at one instant, so a
// write spanning shards may be in one shard's part and not in another's (until the
// multi-shard write protocol of DESIGN.md exists).
//
// Calling rules: from a fiber on any shard of the running server.
#pragma once

#include <string>

#include "src/runtime/result.h"
#include "src/server/save_state.h"
#include "src/server/server_state.h"

namespace cascade::server {

inline constexpr std::string_view kCheckpointsDirName = "checkpoints";

// Makes a checkpoint of every shard; returns its directory.
Result<std::string> checkpoint_server(ServerState& state);

// Runs the save SaveState::try_begin just admitted: checkpoint_server, then records and
// logs the outcome. If a BGSAVE was scheduled meanwhile, starts it (start_background_save).
Status run_save(ServerState& state, SaveKind kind);

// Runs an admitted BGSAVE in a background fiber of the calling shard, counted in its
// fibers() so the server's stop waits for it.
void start_background_save(ServerState& state);

}  // namespace cascade::server
