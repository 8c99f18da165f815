// See exec_transaction.h.
#include "src/commands/exec_transaction.h"

#include <algorithm>
#include <span>

#include "src/commands/blocking.h"
#include "src/commands/key_command.h"
#include "src/types/key_locks.h"
#include "src/types/key_slot.h"
#include "src/types/keyspace.h"

namespace cascade::commands {

ExecTransaction::ExecTransaction(server::ServerState& server, std::uint64_t client_id, bool sync)
    : server_(server), client_id_(client_id), sync_(sync) {}

void ExecTransaction::add_key(std::uint32_t db, std::string_view key) {
  keys_.emplace_back(db, std::string(key));
}

ExecTransaction::Share* ExecTransaction::share_of(runtime::ShardId shard) {
  for (Share& share : shares_) {
    if (share.shard == shard) return &share;
  }
  return nullptr;
}

Status ExecTransaction::lock() {
  shares_.clear();
  watch_changed_ = false;
  for (const auto& [db, key] : keys_) {
    const auto shard = static_cast<runtime::ShardId>(types::key_shard(key, server_.shard_count()));
    Share* share = share_of(shard);
    if (share == nullptr) {
      shares_.emplace_back();
      share = &shares_.back();
      share->shard = shard;
      share->out.shard = shard;
    }
    share->locks.add(db, key);
  }
  std::sort(shares_.begin(), shares_.end(),
            [](const Share& a, const Share& b) { return a.shard < b.shard; });
  const bool fence = shares_.size() > 1;
  const std::int64_t now_ms = unix_time_ms();
  for (Share& share : shares_) {
    Status s = server_.runtime().submit(share.shard, [&]() -> Status {
      types::Keyspace* keyspace = server_.this_shard().keyspace();
      if (keyspace == nullptr) return Status::shutdown("the shard's keyspace is closed");
      share.locks.lock(keyspace->locks(), fence);
      share.locked = true;
      // Every earlier write of the locked keys visible (see run_transaction's read_keys):
      // the queued commands then read nothing unacknowledged but the EXEC's own writes.
      keyspace->engine().wait_visible(keyspace->engine().last_inserted());
      share.writes = std::make_unique<types::StagedWrites>(keyspace->engine());
      share.writes->set_exec_client(client_id_);
      if (keyspace->watches().changed(client_id_, now_ms)) watch_changed_ = true;
      return Status::ok();
    }).get();
    if (!s) return s;
  }
  return Status::ok();
}

types::StagedWrites* ExecTransaction::writes_for(std::uint32_t db, std::string_view key,
                                                 runtime::ShardId shard) {
  Share* share = share_of(shard);
  if (share != nullptr && share->locked &&
      std::binary_search(share->locks.stripes().begin(), share->locks.stripes().end(),
                         types::KeyLocks::stripe_index(db, key))) {
    return share->writes.get();
  }
  missing_.emplace_back(db, std::string(key));
  return nullptr;
}

types::StagedWrites* ExecTransaction::staged_on(runtime::ShardId shard) {
  Share* share = share_of(shard);
  return share != nullptr && share->locked ? share->writes.get() : nullptr;
}

void ExecTransaction::prepare_retry() {
  for (auto& key : missing_) keys_.push_back(std::move(key));
  missing_.clear();
}

Status ExecTransaction::commit() {
  std::vector<ShardBatch*> writers;
  for (Share& share : shares_) {
    share.wrote = false;
    if (!share.writes || share.writes->empty()) continue;
    // The staged map is plain memory, written on the share's shard before the EXEC's
    // fiber got the replies back (the runtime's calls order the two).
    share.writes->append_to(share.out.batch);
    writers.push_back(&share.out);
    share.wrote = true;
  }
  return commit_shard_batches(server_, writers, sync_);
}

void ExecTransaction::wake_blocked() const {
  for (const Share& share : shares_) {
    if (!share.wrote) continue;
    // Copies: the post runs after this EXEC may be gone.
    std::vector<std::pair<std::uint32_t, std::string>> keys;
    for (const auto& [db, key] : keys_) {
      if (types::key_shard(key, server_.shard_count()) == share.shard) keys.emplace_back(db, key);
    }
    server::ServerState* server = &server_;
    (void)server_.runtime().post(share.shard, [server, keys = std::move(keys)]() {
      for (const auto& [db, key] : keys) {
        const std::string_view view = key;
        wake_blocked_keys(*server, db, std::span<const std::string_view>(&view, 1));
      }
    });
  }
}

void ExecTransaction::unlock(bool unwatch) {
  std::vector<runtime::ShardId> ids;
  for (const Share& share : shares_) {
    if (share.locked || unwatch) ids.push_back(share.shard);
  }
  if (ids.empty()) return;
  (void)server_.runtime().run_on(std::span<const runtime::ShardId>(ids), [this, unwatch] {
    types::Keyspace* keyspace = server_.this_shard().keyspace();
    Share* share = share_of(runtime::this_shard_id());
    if (keyspace == nullptr || share == nullptr) return;
    // Staged writes are dropped before the stripes go: nothing of an attempt outlives them.
    share->writes.reset();
    if (share->locked) share->locks.unlock(keyspace->locks());
    share->locked = false;
    if (unwatch) keyspace->watches().unwatch(client_id_);
  });
}

types::StagedWrites* exec_writes_for(ExecTransaction& txn, std::uint32_t db, std::string_view key,
                                     std::size_t shard) {
  return txn.writes_for(db, key, static_cast<runtime::ShardId>(shard));
}

}  // namespace cascade::commands
