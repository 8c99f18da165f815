// ServerState: what every shard and every command may reach of the server as a whole:
// the live configuration, the command table, the logger, the runtime (for cross-shard
// calls), client ids and counts, process facts for INFO, the state of saves, and the way
// to ask for shutdown.
//
// Threads: the members are either immutable after construction, atomic, or thread-safe
// objects themselves (LiveConfig, Logger, ShutdownSignal). Per-shard state is reached by
// shard id and belongs to that shard's thread (see shard_state.h).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "src/runtime/runtime.h"
#include "src/server/command_table.h"
#include "src/server/live_config.h"
#include "src/server/logger.h"
#include "src/server/save_state.h"
#include "src/server/shard_state.h"
#include "src/server/shutdown_signal.h"

namespace cascade::server {

// The Redis version whose behaviour cascade matches; HELLO and INFO report it.
inline constexpr std::string_view kRedisCompatVersion = "7.0.15";

struct ProcessFacts {
  std::string executable;   // absolute path of the binary
  std::string config_file;  // absolute path, or empty
  std::string run_id;       // 40 random hex characters, new at every start
};

class ServerState {
 public:
  ServerState(Config config, Logger& logger, const CommandTable& commands,
              std::size_t shard_count, ProcessFacts facts = {});
  ServerState(const ServerState&) = delete;
  ServerState& operator=(const ServerState&) = delete;

  LiveConfig& config() { return config_; }
  Logger& logger() { return logger_; }
  const CommandTable& commands() const { return commands_; }
  const ProcessFacts& facts() const { return facts_; }

  std::size_t shard_count() const { return shards_.size(); }
  ShardState& shard(runtime::ShardId id) { return *shards_[id]; }
  // The ShardState of the shard running the caller.
  ShardState& this_shard() { return shard(runtime::this_shard_id()); }

  // The runtime the server runs on; set once it has started.
  void attach_runtime(runtime::Runtime* runtime) { runtime_ = runtime; }
  runtime::Runtime& runtime() { return *runtime_; }
  // False in unit tests that drive connections without shards' threads.
  bool has_runtime() const { return runtime_ != nullptr; }

  // Client ids are unique for the life of the process and never reused.
  std::uint64_t next_client_id() { return next_client_id_.fetch_add(1, std::memory_order_relaxed); }
  // Connected clients, over all shards. try_admit() counts a new client unless the limit
  // is reached; release() uncounts a closed one.
  bool try_admit(std::int64_t maxclients);
  void release_client() { connected_clients_.fetch_sub(1, std::memory_order_relaxed); }
  std::int64_t connected_clients() const { return connected_clients_.load(std::memory_order_relaxed); }
  // Clients parked in a blocking command (INFO's blocked_clients).
  void count_blocked_client(std::int64_t delta) { blocked_clients_.fetch_add(delta, std::memory_order_relaxed); }
  std::int64_t blocked_clients() const { return blocked_clients_.load(std::memory_order_relaxed); }
  // Moves of clients between shards that have finished: the client is registered on its
  // new shard and gone from the old one. A pass over every shard's clients (CLIENT LIST,
  // CLIENT KILL) can miss a moving client only if a move finishes during it (it visits
  // the new shard before the client arrives and the old one after it left), so a pass
  // that saw this count unchanged saw every client. The old shard counts the move in the
  // same run of its thread that drops the client, so a visit that finds the client gone
  // is followed by a read that sees the count grown.
  void count_finished_move() { finished_moves_.fetch_add(1, std::memory_order_acq_rel); }
  std::uint64_t finished_moves() const { return finished_moves_.load(std::memory_order_acquire); }

  std::chrono::system_clock::time_point started_at() const { return started_at_; }
  runtime::TimePoint started_steady() const { return started_steady_; }

  // Asks the main thread to shut down (SHUTDOWN command). False if nobody listens.
  void attach_shutdown(ShutdownSignal* signal) { shutdown_ = signal; }
  bool request_shutdown(ShutdownCause cause);
  bool shutdown_requested() const { return shutdown_ != nullptr && shutdown_->requested(); }

  // Ids of multi-shard writes (src/types/multi_shard_log.h): unique and increasing for the
  // data directory's life. Recovery starts them past every id found on disk.
  std::uint64_t next_transaction_id() { return next_txid_.fetch_add(1); }
  void start_transaction_ids_at(std::uint64_t first) { next_txid_.store(first); }
  // SAVE and BGSAVE: the one running, and the last one's outcome (save_state.h).
  SaveState& saves() { return saves_; }

  // Applies the parts of a new configuration that live outside it (the log level).
  void apply_live_settings();

 private:
  LiveConfig config_;
  Logger& logger_;
  const CommandTable& commands_;
  ProcessFacts facts_;
  std::vector<std::unique_ptr<ShardState>> shards_;
  runtime::Runtime* runtime_ = nullptr;
  ShutdownSignal* shutdown_ = nullptr;
  std::atomic<std::uint64_t> next_client_id_{1};
  std::atomic<std::int64_t> connected_clients_{0};
  std::atomic<std::int64_t> blocked_clients_{0};
  std::atomic<std::uint64_t> finished_moves_{0};
  std::atomic<std::uint64_t> next_txid_{1};
  std::chrono::system_clock::time_point started_at_ = std::chrono::system_clock::now();
  runtime::TimePoint started_steady_ = runtime::Clock::now();
  SaveState saves_{std::chrono::duration_cast<std::chrono::seconds>(
                       started_at_.time_since_epoch()).count()};
};

}  // namespace cascade::server
