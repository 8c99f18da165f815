// See shard_storage.h.
#include "src/server/shard_storage.h"

#include "engine/db.h"
#include "src/runtime/file_system.h"
#include "src/server/shard_count_file.h"
#include "src/server/shard_state.h"
#include "src/types/key_record.h"

namespace cascade::server {
namespace {

bool sync_disabled(const ServerConfig& config) {
  return !config.appendonly || config.appendfsync == "no";
}

}  // namespace

engine::DBOptions engine_options(const ServerConfig& config, Logger& logger) {
  engine::DBOptions options;
  options.memtable_size = static_cast<std::size_t>(config.memtable_size);
  options.block_cache_size = static_cast<std::size_t>(config.block_cache_size);
  options.min_blob_size = static_cast<std::size_t>(config.min_blob_size);
  // Records moved to the value log keep their header in the tree: active expiry and key
  // counts read types and expiries without touching the value log.
  options.vlog_value_head_size = types::kRecordHeaderMaxSize;
  options.wal.geometry.segment_count = static_cast<std::uint32_t>(config.wal_segments);
  options.wal.geometry.segment_size = static_cast<std::uint64_t>(config.wal_segment_size);
  options.wal.sync_policy =
      sync_disabled(config) ? engine::WalSyncPolicy::kNo : engine::WalSyncPolicy::kEverySec;
  options.wal.log = [&logger](const std::string& message) { logger.warning("{}", message); };
  options.compaction.rate_limit = static_cast<std::uint64_t>(config.compaction_rate_limit);
  // A clean shutdown leaves nothing for the next start to replay from the WAL.
  options.flush_on_close = true;
  return options;
}

bool sync_every_write(const ServerConfig& config) {
  return config.appendonly && config.appendfsync == "always";
}

void apply_live_storage_settings(ShardState& shard, const ServerConfig& config) {
  types::Keyspace* keyspace = shard.keyspace();
  if (keyspace == nullptr) return;
  engine::DB& db = keyspace->engine();
  db.set_memtable_size(static_cast<std::size_t>(config.memtable_size));
  db.set_block_cache_size(static_cast<std::size_t>(config.block_cache_size));
  db.set_min_blob_size(static_cast<std::size_t>(config.min_blob_size));
  db.set_compaction_rate_limit(static_cast<std::uint64_t>(config.compaction_rate_limit));
}

Status open_shard_storage(ShardState& shard, const ServerConfig& config, Logger& logger) {
  const std::string dir = shard_directory(config.dir, shard.id());
  runtime::FileSystem& fs = runtime::real_file_system();
  Status made = fs.make_dir(dir);
  if (made) made = fs.sync_dir(config.dir);
  // Expired records and stale collection members are dropped by compaction; the keyspace
  // keeps the filter alive for the engine's lifetime.
  auto filter = std::make_unique<types::KeyspaceFilter>();
  engine::DBOptions options = engine_options(config, logger);
  options.compaction.filter = filter.get();
  auto db = made ? engine::DB::open(fs, dir, options)
                 : Result<std::unique_ptr<engine::DB>>(made);
  if (!db) {
    return Status(db.error().code(), "Can't open the storage engine of shard " +
                                         std::to_string(shard.id()) + " in " + dir + ": " +
                                         db.error().to_string());
  }
  shard.set_saved_sequence((*db)->stats().last_sequence);
  auto keyspace = std::make_unique<types::Keyspace>(std::move(*db), std::move(filter));
  keyspace->set_database_count(static_cast<std::uint32_t>(config.databases));
  if (Status s = keyspace->open(); !s) {
    (void)keyspace->close();
    return Status(s.code(), "Can't load the database ids of shard " +
                                std::to_string(shard.id()) + ": " + s.to_string());
  }
  shard.attach_keyspace(std::move(keyspace));
  return Status::ok();
}

void close_shard_storage(ShardState& shard, Logger& logger) {
  std::unique_ptr<types::Keyspace> keyspace = shard.detach_keyspace();
  if (!keyspace) return;
  if (Status s = keyspace->close(); !s) {
    logger.warning("Closing the storage engine of shard {} failed: {}", shard.id(),
                   s.to_string());
  }
}

}  // namespace cascade::server
