// See shard_commit.h; the record formats are in src/types/multi_shard_log.h.
#include "src/commands/shard_commit.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <memory>
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

Status write_here(server::ServerState& server, engine::WriteBatch& batch,
                  const engine::WriteOptions& options) {
  types::Keyspace* keyspace = server.this_shard().keyspace();
  if (keyspace == nullptr) return Status::shutdown("the shard's keyspace is closed");
  return keyspace->engine().write(batch, options);
}

// Makes the WALs of `others` durable: all of them (step 3 of the protocol: the parts are
// durable before their decision goes), or, with `acknowledged_only`, the writes each
// acknowledged unsynced (step 0 when writes are acknowledged unsynced, everysec and no:
// recovery may write a part whose shard lost its unsynced tail, and without this barrier
// that shard would then show this write without writes it acknowledged before it;
// multi_shard_log.h). Parts of earlier multi-shard writes are durable through their
// decisions and need no sync here, so a shard that took only those syncs nothing.
Status sync_wals(server::ServerState& server, const std::vector<runtime::ShardId>& others,
                 bool acknowledged_only) {
  auto synced = server.runtime().run_on(std::span<const runtime::ShardId>(others), [&] {
    types::Keyspace* keyspace = server.this_shard().keyspace();
    if (keyspace == nullptr) return Status::shutdown("the shard's keyspace is closed");
    return acknowledged_only ? keyspace->engine().sync_wal_acknowledged()
                             : keyspace->engine().sync_wal();
  });
  for (Status& s : synced) {
    if (!s) return s;
  }
  return Status::ok();
}

// Off the client's path: deletes the records of the multi-shard writes this shard
// coordinated, in batches. For each batch: the other shards sync their WALs (the parts
// were written unsynced, and a decision may go only once its parts are durable), then one
// synced batch deletes the decision records, and only then each other shard deletes its
// markers (a marker must outlive its decision record, or recovery would write its part
// again over newer data). Writes that finish while a batch is being deleted wait for the
// next one, so under load one round of syncs serves many writes. A failure leaves the
// records to the next start-up's recovery, which completes and removes them.
void drain_decisions(server::ServerState* server) {
  server::ShardState::DecisionCleanup& cleanup = server->this_shard().decision_cleanup();
  while (!cleanup.pending.empty()) {
    std::vector<server::ShardState::FinishedTransaction> batch;
    batch.swap(cleanup.pending);
    std::vector<runtime::ShardId> others;
    for (const auto& done : batch) others.insert(others.end(), done.others.begin(), done.others.end());
    std::sort(others.begin(), others.end());
    others.erase(std::unique(others.begin(), others.end()), others.end());
    Status durable = sync_wals(*server, others, false);
    types::Keyspace* keyspace = server->this_shard().keyspace();
    if (!durable || keyspace == nullptr) {
      if (!durable) server->logger().warning("Could not sync multi-shard parts: {}", durable.to_string());
      continue;
    }
    engine::WriteBatch decisions;
    for (const auto& done : batch) decisions.del(types::decision_key(done.txid));
    engine::WriteOptions synced;
    synced.sync = true;
    if (Status s = keyspace->engine().write(decisions, synced); !s) {
      server->logger().warning("Could not delete {} multi-shard decisions: {}", batch.size(),
                               s.to_string());
      continue;
    }
    const runtime::ShardId coordinator = server->this_shard().id();
    for (runtime::ShardId shard : others) {
      auto markers = std::make_shared<engine::WriteBatch>();
      for (const auto& done : batch) {
        if (std::find(done.others.begin(), done.others.end(), shard) != done.others.end()) {
          markers->del(types::applied_marker_key(coordinator, done.txid));
        }
      }
      (void)server->runtime().post(shard, [server, markers]() {
        types::Keyspace* here = server->this_shard().keyspace();
        if (here == nullptr) return;
        // Nothing waits on these deletes being durable: a marker a crash leaves without its
        // decision is deleted by recovery. So they do not make the next multi-shard write's
        // step 0 sync this shard.
        Status s = here->engine().write(*markers, engine::WriteOptions{.durable_elsewhere = true});
        if (!s) server->logger().warning("Could not delete applied markers: {}", s.to_string());
      });
    }
  }
  cleanup.draining = false;
}

// Queues the records of a finished multi-shard write for deletion on its coordinator.
Status clean_up(server::ServerState& server_state, runtime::ShardId coordinator,
                std::uint64_t txid, std::vector<runtime::ShardId> others) {
  server::ServerState* server = &server_state;
  return server->runtime().post(coordinator, [server, txid, others = std::move(others)]() mutable {
    server::ShardState::DecisionCleanup& cleanup = server->this_shard().decision_cleanup();
    cleanup.pending.push_back({txid, std::move(others)});
    if (cleanup.draining) return;
    cleanup.draining = true;
    drain_decisions(server);
  });
}

// `batch` written on this shard, then the caller's after_write for it.
Status write_then(server::ServerState& server, ShardBatch& part, const engine::WriteOptions& options,
                  const CommitSteps& steps) {
  Status s = write_here(server, part.batch, options);
  if (steps.after_write) steps.after_write(part.shard, s.is_ok());
  return s;
}

// Step 2 of multi_shard_log.h: each other writer's part, with its applied marker, then the
// clean-up is queued. The parts' errors are returned (the decision stands either way).
Status write_parts(server::ServerState& server, std::span<ShardBatch* const> writers,
                   std::uint64_t txid, const std::vector<runtime::ShardId>& others,
                   const CommitSteps& steps) {
  const std::uint32_t coordinator_id = writers[0]->shard;
  auto parts = server.runtime().run_on(std::span<const runtime::ShardId>(others), [&]() -> Status {
    const runtime::ShardId here = runtime::this_shard_id();
    for (ShardBatch* part : writers) {
      if (part->shard != here) continue;
      part->batch.put(types::applied_marker_key(coordinator_id, txid), {});
      // Written, not synced (under any appendfsync): the durable decision holds this
      // part, recovery writes it if the shard's WAL lost it, and the clean-up syncs it
      // before the decision goes.
      Status s = write_then(server, *part,
                            engine::WriteOptions{.sync = false, .durable_elsewhere = true}, steps);
      if (s) crash_point("multi-shard-after-part");
      return s;
    }
    return Status::ok();
  });
  for (Status& s : parts) {
    // The decision stands: recovery applies the missing part at the next start.
    if (!s) return s;
  }
  return clean_up(server, writers[0]->shard, txid, others);
}

// The decision-record protocol (multi_shard_log.h) over >= 2 writing shards.
Status commit_across(server::ServerState& server, std::span<ShardBatch* const> writers, bool sync,
                     const CommitSteps& steps) {
  types::Decision decision{.txid = server.next_transaction_id(), .coordinator = writers[0]->shard};
  for (std::size_t i = 1; i < writers.size(); ++i) {
    decision.parts.push_back({writers[i]->shard, std::string(writers[i]->batch.contents())});
  }
  ShardBatch& coordinator = *writers[0];
  coordinator.batch.put(types::decision_key(decision.txid), types::encode_decision(decision));
  std::vector<runtime::ShardId> others;
  for (std::size_t i = 1; i < writers.size(); ++i) others.push_back(writers[i]->shard);
  if (!sync && !steps.acknowledged_synced) {
    if (Status s = sync_wals(server, others, true); !s) return s;
  }
  crash_point("multi-shard-before-decision");
  Status decided = server.runtime().submit(coordinator.shard, [&] {
    return write_here(server, coordinator.batch, engine::WriteOptions{.sync = true});
  }).get();
  if (!decided) return decided;
  crash_point("multi-shard-after-decision");
  debug_part_delay();
  return write_parts(server, writers, decision.txid, others, steps);
}

}  // namespace

Status commit_shard_batches(server::ServerState& server, std::span<ShardBatch* const> writers,
                            bool sync, const CommitSteps& steps) {
  if (writers.empty()) return Status::ok();
  if (writers.size() == 1) {
    ShardBatch& only = *writers[0];
    return server.runtime()
        .submit(only.shard, [&] { return write_then(server, only, engine::WriteOptions{.sync = sync}, steps); })
        .get();
  }
  // The coordinator is the caller's own shard when it writes, else the lowest writer:
  // its decision is then written without a round trip.
  std::vector<ShardBatch*> ordered(writers.begin(), writers.end());
  const runtime::ShardId here = runtime::this_shard_id();
  auto local = std::find_if(ordered.begin(), ordered.end(),
                            [here](const ShardBatch* b) { return b->shard == here; });
  if (local != ordered.end()) std::rotate(ordered.begin(), local, local + 1);
  return commit_across(server, ordered, sync, steps);
}

}  // namespace cascade::commands
