// ShardState: the server's per-shard half: this shard's listeners, its client connections,
// its counters, its view of the configuration and its keyspace (its engine).
//
// Ownership and threads: ServerState creates one per shard before the runtime starts;
// afterwards only fibers of that shard touch it (other shards reach it through
// Runtime::submit/run_on). Nothing in it is locked or atomic. Statistics are kept per shard
// and summed on demand (INFO), so counting a command costs one add on a private line.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "src/runtime/event.h"
#include "src/runtime/shard.h"
#include "src/runtime/socket.h"
#include "src/runtime/wait_group.h"
#include "src/server/blocked_keys.h"
#include "src/server/live_config.h"
#include "src/types/keyspace.h"

namespace cascade::server {

class Connection;

struct ShardStats {
  std::uint64_t connections_received = 0;
  std::uint64_t rejected_connections = 0;
  std::uint64_t commands_processed = 0;
  std::uint64_t error_replies = 0;
  std::uint64_t net_input_bytes = 0;
  std::uint64_t net_output_bytes = 0;
  std::uint64_t reads_processed = 0;
  std::uint64_t writes_processed = 0;
  std::uint64_t moved_connections = 0;  // handed to the shard of their keys (connection.h)
  // Key batches this shard ran for another shard's connection and replied to itself
  // (commands/key_batch.h, "Replies from the keys' shard").
  std::uint64_t batches_replied_from_key_shard = 0;
  std::uint64_t expired_keys = 0;  // filled from the keyspace when summed (INFO)

  void add(const ShardStats& other);
};

class ShardState {
 public:
  ShardState(runtime::ShardId id, const LiveConfig& config) : id_(id), config_(config) {}
  ShardState(const ShardState&) = delete;
  ShardState& operator=(const ShardState&) = delete;

  runtime::ShardId id() const { return id_; }
  // Valid until the calling fiber next suspends (see ConfigView).
  const ServerConfig& config() { return config_.get(); }
  ShardStats& stats() { return stats_; }

  // ---- storage (shard_storage.h opens and closes it) -----------------------------------
  // The keys this shard owns; null before start-up opened the engine and after shutdown.
  types::Keyspace* keyspace() { return keyspace_.get(); }
  // engine::DB::accepts_writes() of this shard's engine, from any thread while the server
  // serves clients (the keyspace is attached before the first and detached after the
  // last); true without a keyspace (its writes fail on their own).
  bool accepts_writes() const {
    return keyspace_ == nullptr || keyspace_->engine().accepts_writes();
  }
  // engine::DB::fits_one_record() of this shard's engine, from any thread as above.
  bool fits_one_record(const engine::WriteBatch& batch) const {
    return keyspace_ == nullptr || keyspace_->engine().fits_one_record(batch);
  }
  void attach_keyspace(std::unique_ptr<types::Keyspace> keyspace) { keyspace_ = std::move(keyspace); }
  std::unique_ptr<types::Keyspace> detach_keyspace() { return std::move(keyspace_); }
  // The engine sequence of the last checkpoint (or of the engine's open): INFO's
  // rdb_changes_since_last_save counts the sequences after it.
  std::uint64_t saved_sequence() const { return saved_sequence_; }
  void set_saved_sequence(std::uint64_t sequence) { saved_sequence_ = sequence; }

  // ---- connections of this shard (Connection registers itself) ------------------------
  void add_connection(std::uint64_t id, Connection* connection) { connections_[id] = connection; }
  void remove_connection(std::uint64_t id) { connections_.erase(id); }
  Connection* find_connection(std::uint64_t id) const;
  const std::unordered_map<std::uint64_t, Connection*>& connections() const { return connections_; }

  // The clients blocked on keys this shard owns (src/commands/blocking.h).
  BlockedKeys& blocked_keys() { return blocked_keys_; }

  // Multi-shard writes this shard coordinated whose decision records and applied markers
  // await deletion (src/commands/shard_commit.cc): one fiber at a time drains them in
  // batches, so the syncs that deletion needs are shared by every write that finished
  // meanwhile.
  struct FinishedTransaction {
    std::uint64_t txid = 0;
    // Written with copies (src/types/multi_shard_log.h): every writer holds a decision
    // record and a marker; else only the coordinator the record, the others markers.
    bool copies = false;
    std::vector<runtime::ShardId> others;  // the writers but the coordinator
    bool writes_on(runtime::ShardId shard) const {
      return std::find(others.begin(), others.end(), shard) != others.end();
    }
    // Where its records are, `coordinator` being the shard that coordinated it.
    bool holds_decision(runtime::ShardId shard, runtime::ShardId coordinator) const {
      return shard == coordinator || (copies && writes_on(shard));
    }
    bool holds_marker(runtime::ShardId shard, runtime::ShardId coordinator) const {
      return shard == coordinator ? copies : writes_on(shard);
    }
  };
  struct DecisionCleanup {
    std::vector<FinishedTransaction> pending;
    bool draining = false;
  };
  DecisionCleanup& decision_cleanup() { return decision_cleanup_; }

  // ---- lifecycle ----------------------------------------------------------------------
  std::vector<runtime::Socket>& listeners() { return listeners_; }
  // Every fiber the server runs on this shard (listeners, connections) is counted here,
  // so stopping can wait for them.
  runtime::WaitGroup& fibers() { return fibers_; }
  bool stopping() const { return stopping_; }
  // Stops accepting and asks every connection to close once its current replies are
  // out; a connection waiting for input closes at once.
  void begin_stop();
  // Set by begin_stop(): wakes the shard's periodic fibers (the idle-buffer trimmer).
  runtime::Event& stop_event() { return stop_event_; }
  // Gives back the buffers of connections that have waited for input `idle_after` or
  // longer (Connection::trim_if_idle). Returns the bytes given back.
  std::size_t trim_idle_connections(runtime::TimePoint now, runtime::Duration idle_after);
  // Closes connections that are still busy (e.g. writing to a client that does not read).
  void force_close_connections();

 private:
  runtime::ShardId id_;
  ConfigView config_;
  ShardStats stats_;
  std::unique_ptr<types::Keyspace> keyspace_;
  std::uint64_t saved_sequence_ = 0;
  std::unordered_map<std::uint64_t, Connection*> connections_;
  BlockedKeys blocked_keys_;
  DecisionCleanup decision_cleanup_;
  std::vector<runtime::Socket> listeners_;
  runtime::WaitGroup fibers_;
  bool stopping_ = false;
  runtime::Event stop_event_;
};

}  // namespace cascade::server
