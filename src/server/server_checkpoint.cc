// See server_checkpoint.h for the layout and the restore procedure.
#include "src/server/server_checkpoint.h"

#include <fmt/format.h>
#include <time.h>

#include <cerrno>
#include <chrono>

#include "engine/db.h"
#include "src/runtime/file_system.h"
#include "src/runtime/scheduler.h"
#include "src/server/shard_count_file.h"

namespace cascade::server {
namespace {

constexpr std::string_view kPartialSuffix = ".tmp";

std::int64_t unix_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string checkpoint_name() {
  const auto now = std::chrono::system_clock::now();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch());
  const time_t seconds = static_cast<time_t>(ms.count() / 1000);
  tm utc{};
  gmtime_r(&seconds, &utc);
  return fmt::format("{:04}{:02}{:02}-{:02}{:02}{:02}-{:03}", utc.tm_year + 1900,
                     utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                     ms.count() % 1000);
}

// Removes `path` and everything under it.
Status remove_tree(runtime::FileSystem& fs, const std::string& path) {
  auto listing = fs.list_dir(path);
  if (!listing) return listing.error();
  for (const std::string& name : *listing) {
    const std::string child = path + "/" + name;
    Status s = fs.remove(child);
    if (!s && s.sys_errno() == EISDIR) s = remove_tree(fs, child);
    if (!s) return s;
  }
  return fs.remove_dir(path);
}

// Removes what failed or crashed saves left in `root` (partial checkpoints).
void remove_partial_checkpoints(runtime::FileSystem& fs, const std::string& root,
                                Logger& logger) {
  auto listing = fs.list_dir(root);
  if (!listing) return;
  for (const std::string& name : *listing) {
    if (!name.ends_with(kPartialSuffix)) continue;
    const std::string path = root + "/" + name;
    if (Status s = remove_tree(fs, path); !s) {
      logger.warning("Can't remove the partial checkpoint {}: {}", path, s.to_string());
    } else {
      logger.notice("Removed the partial checkpoint {}", path);
    }
  }
}

// A name under `root` that is not taken, whole or partial.
Result<std::string> unused_name(runtime::FileSystem& fs, const std::string& root) {
  const std::string base = checkpoint_name();
  for (int i = 0; i < 1000; ++i) {
    std::string name = i == 0 ? base : fmt::format("{}-{}", base, i);
    auto whole = fs.exists(root + "/" + name);
    if (!whole) return whole.error();
    auto partial = fs.exists(root + "/" + name + std::string(kPartialSuffix));
    if (!partial) return partial.error();
    if (!*whole && !*partial) return name;
  }
  return Status::io_error("no free checkpoint name under " + root);
}

// Every shard's engine checkpoint into `dir`/shard-NNN, at once.
Status checkpoint_shards(ServerState& state, const std::string& dir) {
  auto results = state.runtime().run_on_each([&state, &dir]() -> Status {
    ShardState& shard = state.this_shard();
    types::Keyspace* keyspace = shard.keyspace();
    if (keyspace == nullptr) {
      return Status::shutdown("shard " + std::to_string(shard.id()) + " has no engine");
    }
    auto info = keyspace->engine().checkpoint(shard_directory(dir, shard.id()));
    if (!info) return info.error();
    shard.set_saved_sequence(info->sequence);
    return Status::ok();
  });
  for (Status& s : results) {
    if (!s) return s;
  }
  return Status::ok();
}

}  // namespace

Result<std::string> checkpoint_server(ServerState& state) {
  runtime::FileSystem& fs = runtime::real_file_system();
  const std::string data_dir = state.config().snapshot()->dir;
  const std::string root = data_dir + "/" + std::string(kCheckpointsDirName);
  if (Status s = fs.make_dir(root); !s) return s;
  if (Status s = fs.sync_dir(data_dir); !s) return s;
  remove_partial_checkpoints(fs, root, state.logger());

  auto name = unused_name(fs, root);
  if (!name) return name.error();
  const std::string partial = root + "/" + *name + std::string(kPartialSuffix);
  const std::string whole = root + "/" + *name;
  if (Status s = fs.make_dir(partial); !s) return s;
  if (Status s = checkpoint_shards(state, partial); !s) return s;
  // Written last: a data directory whose shards file exists is complete (shard_count_file.h).
  auto count = load_or_create_shard_count(fs, partial, state.shard_count());
  if (!count) return count.error();
  if (Status s = fs.rename(partial, whole); !s) return s;
  if (Status s = fs.sync_dir(root); !s) return s;
  return whole;
}

Status run_save(ServerState& state, SaveKind kind) {
  Logger& logger = state.logger();
  auto dir = checkpoint_server(state);
  if (dir) {
    logger.notice("{} saved a checkpoint in {}",
                  kind == SaveKind::kBackground ? "Background save" : "SAVE", *dir);
  } else {
    logger.warning("{} failed: {}", kind == SaveKind::kBackground ? "Background save" : "SAVE",
                   dir.error().to_string());
  }
  if (state.saves().finish(dir.has_value(), unix_seconds(), dir ? *dir : std::string())) {
    start_background_save(state);
  }
  return dir.status();
}

void start_background_save(ServerState& state) {
  ShardState& shard = state.this_shard();
  shard.fibers().add();
  state.logger().notice("Background saving started");
  runtime::Scheduler::current()->spawn(
      [&state, &shard] {
        (void)run_save(state, SaveKind::kBackground);
        shard.fibers().done();
      },
      {.priority = runtime::Priority::kBackground, .stack = runtime::StackSize::kLarge,
       .name = "bgsave"});
}

}  // namespace cascade::server
