// See shard_commit.h; the record formats are in src/types/multi_shard_log.h.
#include "src/commands/shard_commit.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <functional>
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
bool crash_armed(std::string_view name) {
  const char* armed = std::getenv("CASCADE_CRASH_POINT");
  return armed != nullptr && name == armed;
}

void crash_point(std::string_view name) {
  if (crash_armed(name)) ::kill(::getpid(), SIGKILL);
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

// Makes the WALs of `shards` durable: all of them (step 3 of the protocol: the parts are
// durable before their decision records go), or, with `acknowledged_only`, the writes each
// acknowledged unsynced (step 0 when writes are acknowledged unsynced, everysec and no:
// recovery may write a part whose shard lost its unsynced tail, and without this barrier
// that shard would then show this write without writes it acknowledged before it;
// multi_shard_log.h). Parts of earlier multi-shard writes held by a synced decision
// record, or by copies over every shard, need no sync here, so a shard that took only
// those syncs nothing.
Status sync_wals(server::ServerState& server, const std::vector<runtime::ShardId>& shards,
                 bool acknowledged_only) {
  auto synced = server.runtime().run_on(std::span<const runtime::ShardId>(shards), [&] {
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

// How long the clean-up lets finished writes gather before a round of deletes (each round
// costs every involved shard two syncs), unless this many are waiting already. Records
// waiting are harmless: recovery would only find every part applied.
constexpr std::chrono::milliseconds kCleanupPause{50};
constexpr std::size_t kCleanupBatch = 4096;

// CASCADE_DEBUG_CLEANUP_PAUSE_MS=<n> gathers n ms instead: a test that counts WAL syncs
// keeps the clean-up's own out of its window.
std::chrono::milliseconds cleanup_pause() {
  const char* armed = std::getenv("CASCADE_DEBUG_CLEANUP_PAUSE_MS");
  return armed != nullptr ? std::chrono::milliseconds(std::atoi(armed)) : kCleanupPause;
}

// Off the client's path: deletes the records of the multi-shard writes this shard
// coordinated, in batches. For each batch: every shard holding a part syncs its WAL (the
// parts were written unsynced, and a decision record may go only once every part it could
// complete is durable), then the decision records are deleted, synced, on every shard that
// holds one, and only then every shard deletes its markers (a marker must outlive every
// decision record naming its part, or recovery would write the part again over newer
// data). Writes that finish while a batch is being deleted wait for the next one, so under
// load one round of syncs serves many writes. A failure leaves the records to the next
// start-up's recovery, which completes and removes them. A stopping shard drains at once.
void drain_decisions(server::ServerState* server) {
  server::ShardState& shard_state = server->this_shard();
  server::ShardState::DecisionCleanup& cleanup = shard_state.decision_cleanup();
  const runtime::ShardId coordinator = shard_state.id();
  while (!cleanup.pending.empty()) {
    if (cleanup.pending.size() < kCleanupBatch && !shard_state.stopping()) {
      (void)shard_state.stop_event().wait_for(cleanup_pause());
    }
    std::vector<server::ShardState::FinishedTransaction> batch;
    batch.swap(cleanup.pending);
    std::vector<runtime::ShardId> holders;  // shards with a decision record to delete
    std::vector<runtime::ShardId> parts;    // shards with a part (and a marker)
    for (const auto& done : batch) {
      for (runtime::ShardId shard : done.others) {
        if (done.holds_decision(shard, coordinator)) holders.push_back(shard);
        parts.push_back(shard);
      }
      holders.push_back(coordinator);
      if (done.holds_marker(coordinator, coordinator)) parts.push_back(coordinator);
    }
    for (auto* ids : {&holders, &parts}) {
      std::sort(ids->begin(), ids->end());
      ids->erase(std::unique(ids->begin(), ids->end()), ids->end());
    }
    Status s = sync_wals(*server, parts, false);
    if (!s) {
      server->logger().warning("Could not sync multi-shard parts: {}", s.to_string());
      continue;
    }
    auto deleted = server->runtime().run_on(std::span<const runtime::ShardId>(holders), [&]() -> Status {
      types::Keyspace* keyspace = server->this_shard().keyspace();
      if (keyspace == nullptr) return Status::shutdown("the shard's keyspace is closed");
      const runtime::ShardId here = runtime::this_shard_id();
      engine::WriteBatch decisions;
      for (const auto& done : batch) {
        if (done.holds_decision(here, coordinator)) decisions.del(types::decision_key(done.txid));
      }
      return keyspace->engine().write(decisions, engine::WriteOptions{.sync = true});
    });
    for (Status& d : deleted) {
      if (!d && s) s = d;
    }
    if (!s) {
      server->logger().warning("Could not delete {} multi-shard decisions: {}", batch.size(),
                               s.to_string());
      continue;
    }
    for (runtime::ShardId shard : parts) {
      auto markers = std::make_shared<engine::WriteBatch>();
      for (const auto& done : batch) {
        if (done.holds_marker(shard, coordinator)) {
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
                server::ShardState::FinishedTransaction done) {
  server::ServerState* server = &server_state;
  return server->runtime().post(coordinator, [server, done = std::move(done)]() mutable {
    server::ShardState& shard = server->this_shard();
    server::ShardState::DecisionCleanup& cleanup = shard.decision_cleanup();
    cleanup.pending.push_back(std::move(done));
    if (cleanup.draining) return;
    cleanup.draining = true;
    // Counted with the shard's fibers, so a stop lets it finish (stop_event cuts its
    // gathering short) before the storage closes: a clean stop leaves no records.
    shard.fibers().add();
    drain_decisions(server);
    shard.fibers().done();
  });
}

// `part` written on this shard, then the caller's hook for it (CommitSteps::after_write or
// after_write_held).
using AfterWrite = std::function<void(runtime::ShardId shard, bool written)>;
Status write_then(server::ServerState& server, ShardBatch& part, const engine::WriteOptions& options,
                  const AfterWrite& after) {
  Status s = write_here(server, part.batch, options);
  if (after) after(part.shard, s.is_ok());
  return s;
}

// The batch of `writers` that belongs to the calling shard; null when none does.
ShardBatch* batch_here(std::span<ShardBatch* const> writers) {
  const runtime::ShardId here = runtime::this_shard_id();
  for (ShardBatch* part : writers) {
    if (part->shard == here) return part;
  }
  return nullptr;
}

// Step 2 of multi_shard_log.h: each other writer's part, its records already added, then
// the clean-up is queued. Parts are written WriteOptions::decided (check_parts() ran), so
// what refuses one (an IO error; a disk that filled meanwhile with no room left for it)
// also stops its engine acknowledging writes until it reopens; it is returned, the
// decision stands, and recovery writes the part.
Status write_parts(server::ServerState& server, std::span<ShardBatch* const> writers,
                   server::ShardState::FinishedTransaction done,
                   const engine::WriteOptions& options, const AfterWrite& after) {
  auto parts = server.runtime().run_on(std::span<const runtime::ShardId>(done.others), [&]() -> Status {
    ShardBatch* part = batch_here(writers);
    if (part == nullptr) return Status::ok();
    Status s = write_then(server, *part, options, after);
    if (s) crash_point("multi-shard-after-part");
    return s;
  });
  for (Status& s : parts) {
    // The decision stands: recovery applies the missing part at the next start.
    if (!s) return s;
  }
  return clean_up(server, writers[0]->shard, std::move(done));
}

// Once the coordinator's batch is written the write is decided, and every other part must
// land (WriteOptions::decided). A part its engine would refuse refuses the whole write
// here, before any batch: a writer whose flushes fail for want of space, or a part too
// large for one WAL record. (Refused after its decision, it would leave the write half
// visible until a restart, whose recovery could not write it either.) `writers` hold
// their final records.
Status check_parts(server::ServerState& server, std::span<ShardBatch* const> writers) {
  for (const ShardBatch* w : writers) {
    const server::ShardState& shard = server.shard(w->shard);
    if (!shard.accepts_writes()) {
      return Status::no_space("shard " + std::to_string(w->shard) +
                              " refuses writes until its flush lands (disk full?)");
    }
    if (!shard.fits_one_record(w->batch)) {
      return Status::invalid_argument("the part of shard " + std::to_string(w->shard) +
                                      " is larger than a wal segment holds");
    }
  }
  return Status::ok();
}

// The coordinator's batch (writers[0]), between the crash points named after the decision,
// then the debug delay before the other parts.
Status write_coordinator(server::ServerState& server, std::span<ShardBatch* const> writers,
                         const engine::WriteOptions& options, const CommitSteps& steps) {
  crash_point("multi-shard-before-decision");
  ShardBatch& coordinator = *writers[0];
  Status decided = server.runtime().submit(coordinator.shard, [&] {
    return write_then(server, coordinator, options, steps.after_write_held);
  }).get();
  if (!decided) return decided;
  crash_point("multi-shard-after-decision");
  debug_part_delay();
  return Status::ok();
}

// Under appendfsync always (and for writes over more than kMaxCopyWriters shards): the
// coordinator's batch carries the one decision record and is synced; the other parts
// follow, written unsynced with their markers.
Status commit_synced(server::ServerState& server, std::span<ShardBatch* const> writers,
                     server::ShardState::FinishedTransaction done, const CommitSteps& steps) {
  types::Decision decision{.txid = done.txid, .coordinator = writers[0]->shard, .parts = {}};
  for (std::size_t i = 1; i < writers.size(); ++i) {
    decision.parts.push_back({writers[i]->shard, std::string(writers[i]->batch.contents())});
    writers[i]->batch.put(types::applied_marker_key(decision.coordinator, done.txid), {});
  }
  ShardBatch& coordinator = *writers[0];
  coordinator.batch.put(types::decision_key(done.txid), types::encode_decision(decision));
  if (Status s = check_parts(server, writers.subspan(1)); !s) return s;
  if (Status s = write_coordinator(server, writers, engine::WriteOptions{.sync = true}, steps); !s) {
    return s;
  }
  // Not synced, and under everysec acknowledged from the WAL's tail: the durable decision
  // holds these parts, recovery writes a part its shard's WAL lost, and the clean-up
  // syncs them before the decision goes.
  return write_parts(server, writers, std::move(done),
                     engine::WriteOptions{.durable_elsewhere = true, .in_tail_suffices = true,
                                          .decided = true},
                     steps.after_write);
}

// CASCADE_CRASH_POINT=multi-shard-part-without-decision: what a power loss can leave of a
// write with copies: every other writer's batch in its WAL, the coordinator's lost. They
// are written (to the page cache, which a SIGKILL keeps), the coordinator's never is, and
// the process dies.
void lose_the_coordinator(server::ServerState& server, std::span<ShardBatch* const> writers,
                          const std::vector<runtime::ShardId>& others) {
  (void)server.runtime().run_on(std::span<const runtime::ShardId>(others), [&]() -> Status {
    ShardBatch* part = batch_here(writers);
    return part == nullptr ? Status::ok() : write_here(server, part->batch, {});
  });
  ::kill(::getpid(), SIGKILL);
}

// Under everysec and no: every writer's batch carries its marker and a copy of the
// decision record listing every other writer's part, and none is synced. Whichever of
// them a crash leaves, recovery completes the others from its copy. Each writer logs the
// whole write, so the copies are for writes over at most this many shards; wider ones
// take the synced decision record, which logs it about twice.
constexpr std::size_t kMaxCopyWriters = 4;

Status commit_with_copies(server::ServerState& server, std::span<ShardBatch* const> writers,
                          server::ShardState::FinishedTransaction done, const CommitSteps& steps) {
  const std::uint32_t coordinator_id = writers[0]->shard;
  // Every copy is encoded before any record joins a batch: a copy holds the parts alone.
  std::vector<std::string> copies;
  for (std::size_t i = 0; i < writers.size(); ++i) {
    types::Decision copy{.txid = done.txid, .coordinator = coordinator_id, .parts = {}};
    for (std::size_t j = 0; j < writers.size(); ++j) {
      if (j == i) continue;
      copy.parts.push_back({writers[j]->shard, std::string(writers[j]->batch.contents())});
    }
    copies.push_back(types::encode_decision(copy));
  }
  for (std::size_t i = 0; i < writers.size(); ++i) {
    writers[i]->batch.put(types::decision_key(done.txid), copies[i]);
    writers[i]->batch.put(types::applied_marker_key(coordinator_id, done.txid), {});
  }
  if (Status s = check_parts(server, writers.subspan(1)); !s) return s;
  // A write over every shard is held by its copies against any later multi-shard write
  // (whose shards it covers) and needs no step 0 of its own; one over fewer is synced by
  // the step 0 of the next multi-shard write on its shards.
  const bool spans_all = writers.size() == server.shard_count();
  if (crash_armed("multi-shard-part-without-decision")) {
    lose_the_coordinator(server, writers, done.others);
  }
  // Into the page cache before the client is answered, as any everysec write: a process
  // crash then keeps at least this copy.
  if (Status s = write_coordinator(server, writers,
                                   engine::WriteOptions{.durable_elsewhere = spans_all}, steps);
      !s) {
    return s;
  }
  // The coordinator's copy, written, holds these against a process crash: they are
  // acknowledged from the WAL's tail. Their shards keep the stripes (after_write_held)
  // until the caller releases them after the commit, when every batch of this write has its
  // place in its WAL: a write that reads what this one wrote, and so must not survive
  // without it, then follows every batch of it in every WAL, which is what lets a write
  // over every shard skip the later writes' step 0 (multi_shard_log.h).
  return write_parts(server, writers, std::move(done),
                     engine::WriteOptions{.durable_elsewhere = spans_all, .in_tail_suffices = true,
                                          .decided = true},
                     steps.after_write_held);
}

}  // namespace

Status commit_shard_batches(server::ServerState& server, std::span<ShardBatch* const> writers,
                            bool sync, const CommitSteps& steps) {
  if (writers.empty()) return Status::ok();
  if (writers.size() == 1) {
    ShardBatch& only = *writers[0];
    return server.runtime()
        .submit(only.shard, [&] {
          return write_then(server, only, engine::WriteOptions{.sync = sync}, steps.after_write);
        })
        .get();
  }
  // The coordinator is the caller's own shard when it writes, else the lowest writer:
  // its batch is then written without a round trip.
  std::vector<ShardBatch*> ordered(writers.begin(), writers.end());
  const runtime::ShardId here = runtime::this_shard_id();
  auto local = std::find_if(ordered.begin(), ordered.end(),
                            [here](const ShardBatch* b) { return b->shard == here; });
  if (local != ordered.end()) std::rotate(ordered.begin(), local, local + 1);
  // Step 0 (multi_shard_log.h) on every writer, the coordinator too, unless the caller
  // took it. Under always it finds nothing to sync, unless appendfsync was everysec a
  // moment ago: writes acknowledged then must not be overtaken by this one's late parts.
  if (!steps.acknowledged_synced) {
    std::vector<runtime::ShardId> all;
    for (ShardBatch* w : ordered) all.push_back(w->shard);
    if (Status s = sync_wals(server, all, true); !s) return s;
  }
  const bool copies = !sync && ordered.size() <= kMaxCopyWriters;
  server::ShardState::FinishedTransaction done{
      .txid = server.next_transaction_id(), .copies = copies, .others = {}};
  for (std::size_t i = 1; i < ordered.size(); ++i) done.others.push_back(ordered[i]->shard);
  return copies ? commit_with_copies(server, ordered, std::move(done), steps)
                : commit_synced(server, ordered, std::move(done), steps);
}

}  // namespace cascade::commands
