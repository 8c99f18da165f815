// See shard_commit.h; the record formats are in src/types/multi_shard_log.h.
#include "src/commands/shard_commit.h"

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "src/runtime/scheduler.h"
#include "src/types/keyspace.h"
#include "src/types/multi_shard_log.h"

namespace cascade::commands {
namespace {

// The debug crash points of shard_commit.h, read at each multi-shard write.
void crash_point(std::string_view name) {
  const char* armed = std::getenv("CASCADE_CRASH_POINT");
  if (armed != nullptr && name == armed) ::kill(::getpid(), SIGKILL);
}

// CASCADE_DEBUG_PART_DELAY_MS=<n>: waits n ms between the decision and the other parts, so
// a test can observe (and must never observe) a multi-shard write half applied.
void debug_part_delay() {
  const char* armed = std::getenv("CASCADE_DEBUG_PART_DELAY_MS");
  if (armed != nullptr) runtime::this_fiber::sleep_for(std::chrono::milliseconds(std::atoi(armed)));
}

Status write_here(server::ServerState& server, engine::WriteBatch& batch, bool sync) {
  types::Keyspace* keyspace = server.this_shard().keyspace();
  if (keyspace == nullptr) return Status::shutdown("the shard's keyspace is closed");
  engine::WriteOptions options;
  options.sync = sync;
  return keyspace->engine().write(batch, options);
}

// Off the client's path, once every part is durable: the decision record is deleted,
// synced, and only then the markers (a marker must outlive its decision record, or
// recovery would write its part again). Shards closed meanwhile keep theirs until the
// next start-up removes them.
Status clean_up(server::ServerState& server_state, runtime::ShardId coordinator,
                std::uint64_t txid, std::vector<runtime::ShardId> others) {
  server::ServerState* server = &server_state;
  return server->runtime().post(coordinator, [server, coordinator, txid, others]() {
    types::Keyspace* keyspace = server->this_shard().keyspace();
    if (keyspace == nullptr) return;
    engine::WriteOptions synced;
    synced.sync = true;
    if (Status s = keyspace->engine().del(types::decision_key(txid), synced); !s) {
      server->logger().warning("Could not delete multi-shard decision {}: {}", txid,
                               s.to_string());
      return;
    }
    for (runtime::ShardId shard : others) {
      (void)server->runtime().post(shard, [server, coordinator, txid]() {
        types::Keyspace* here = server->this_shard().keyspace();
        if (here == nullptr) return;
        Status s = here->engine().del(types::applied_marker_key(coordinator, txid));
        if (!s) server->logger().warning("Could not delete an applied marker: {}", s.to_string());
      });
    }
  });
}

// Step 0 of the protocol when writes are acknowledged unsynced (everysec, no): every
// other shard makes its WAL durable before the decision is. Recovery may write a part
// whose shard lost its unsynced tail; without this barrier that shard would then show
// this write without writes acknowledged before it (multi_shard_log.h).
Status sync_earlier_writes(server::ServerState& server, const std::vector<runtime::ShardId>& others) {
  auto synced = server.runtime().run_on(std::span<const runtime::ShardId>(others), [&server] {
    types::Keyspace* keyspace = server.this_shard().keyspace();
    if (keyspace == nullptr) return Status::shutdown("the shard's keyspace is closed");
    return keyspace->engine().sync_wal();
  });
  for (Status& s : synced) {
    if (!s) return s;
  }
  return Status::ok();
}

// The decision-record protocol (multi_shard_log.h) over >= 2 writing shards.
Status commit_across(server::ServerState& server, std::span<ShardBatch* const> writers, bool sync) {
  types::Decision decision{.txid = server.next_transaction_id(), .coordinator = writers[0]->shard};
  for (std::size_t i = 1; i < writers.size(); ++i) {
    decision.parts.push_back({writers[i]->shard, std::string(writers[i]->batch.contents())});
  }
  ShardBatch& coordinator = *writers[0];
  coordinator.batch.put(types::decision_key(decision.txid), types::encode_decision(decision));
  std::vector<runtime::ShardId> others;
  for (std::size_t i = 1; i < writers.size(); ++i) others.push_back(writers[i]->shard);
  if (!sync) {
    if (Status s = sync_earlier_writes(server, others); !s) return s;
  }
  crash_point("multi-shard-before-decision");
  Status decided = server.runtime().submit(coordinator.shard, [&] {
    return write_here(server, coordinator.batch, true);
  }).get();
  if (!decided) return decided;
  crash_point("multi-shard-after-decision");
  debug_part_delay();

  const std::uint64_t txid = decision.txid;
  const std::uint32_t coordinator_id = decision.coordinator;
  auto parts = server.runtime().run_on(std::span<const runtime::ShardId>(others), [&]() -> Status {
    const runtime::ShardId here = runtime::this_shard_id();
    for (ShardBatch* part : writers) {
      if (part->shard != here) continue;
      part->batch.put(types::applied_marker_key(coordinator_id, txid), {});
      Status s = write_here(server, part->batch, true);
      if (s) crash_point("multi-shard-after-part");
      return s;
    }
    return Status::ok();
  });
  for (Status& s : parts) {
    // The decision stands: recovery applies the missing part at the next start.
    if (!s) return s;
  }
  return clean_up(server, coordinator.shard, txid, others);
}

}  // namespace

Status commit_shard_batches(server::ServerState& server, std::span<ShardBatch* const> writers,
                            bool sync) {
  if (writers.empty()) return Status::ok();
  if (writers.size() == 1) {
    ShardBatch& only = *writers[0];
    return server.runtime().submit(only.shard, [&] { return write_here(server, only.batch, sync); }).get();
  }
  return commit_across(server, writers, sync);
}

}  // namespace cascade::commands
