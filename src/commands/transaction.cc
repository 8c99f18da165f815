// See transaction.h for the steps and src/types/multi_shard_log.h for the commit protocol.
#include "src/commands/transaction.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <string>
#include <unordered_map>

#include "engine/write_batch.h"
#include "src/server/shard_storage.h"
#include "src/types/key_lock_set.h"
#include "src/types/key_slot.h"
#include "src/types/multi_shard_log.h"

namespace cascade::commands {

// ---- TxnView ----------------------------------------------------------------------------

namespace {

struct TxnKeyHash {
  std::size_t operator()(const TxnKey& k) const {
    return std::hash<std::string_view>{}(k.key) ^ (std::size_t{k.db} * 0x9E3779B97F4A7C15ull);
  }
};
struct TxnKeyEqual {
  bool operator()(const TxnKey& a, const TxnKey& b) const { return a.db == b.db && a.key == b.key; }
};

}  // namespace

// One hash lookup per declared key, so an MSET of many keys stays linear.
TxnView::TxnView(std::span<const TxnKey> keys) {
  slot_of_.reserve(keys.size());
  slots_.reserve(keys.size());
  std::unordered_map<TxnKey, std::size_t, TxnKeyHash, TxnKeyEqual> index(keys.size());
  for (const TxnKey& key : keys) {
    auto [it, fresh] = index.try_emplace(key, slots_.size());
    if (fresh) slots_.push_back(Slot{.key = key});
    slot_of_.push_back(it->second);
  }
}

void TxnView::put(std::size_t i, types::KeyType type, std::optional<std::int64_t> expire_ms,
                  std::string_view payload) {
  Slot& slot = slots_[slot_of_[i]];
  types::StoredRecord record;
  types::append_record(record.bytes, type, expire_ms, payload);
  record.type = type;
  record.expire_ms = expire_ms;
  record.payload_offset = record.bytes.size() - payload.size();
  slot.record = std::move(record);
  slot.dirty = true;
}

void TxnView::erase(std::size_t i) {
  Slot& slot = slots_[slot_of_[i]];
  slot.record.reset();
  slot.dirty = true;
}

// ---- the coordinator --------------------------------------------------------------------

namespace {

// The debug crash points of transaction.h; nullptr-safe, read at each multi-shard write.
void crash_point(std::string_view name) {
  const char* armed = std::getenv("CASCADE_CRASH_POINT");
  if (armed != nullptr && name == armed) ::kill(::getpid(), SIGKILL);
}

struct ShardShare {
  runtime::ShardId shard = 0;
  std::vector<std::size_t> slots;
  types::KeyLockSet locks;
  engine::WriteBatch batch;
  bool writes = false;
  // Member entries staged by decide through TxnView::on_shard (made on the shard).
  std::unique_ptr<types::StagedWrites> members;
};

}  // namespace

class Transaction {
 public:
  Transaction(server::ServerState& server, std::span<const TxnKey> keys,
              const server::ServerConfig& config)
      : server_(server), view_(keys), sync_(server::sync_every_write(config)) {
    view_.now_ms = unix_time_ms();
    view_.proto_max_bulk_len = config.proto_max_bulk_len;
    for (std::size_t s = 0; s < view_.slots_.size(); ++s) {
      TxnView::Slot& slot = view_.slots_[s];
      slot.shard = types::key_shard(slot.key.key, server.shard_count());
      share_for(static_cast<runtime::ShardId>(slot.shard)).slots.push_back(s);
    }
    std::sort(shares_.begin(), shares_.end(),
              [](const ShardShare& a, const ShardShare& b) { return a.shard < b.shard; });
    for (ShardShare& share : shares_) {
      for (std::size_t s : share.slots) share.locks.add(view_.slots_[s].key.db, view_.slots_[s].key.key);
    }
    view_.run_on_shard_ = [this](std::size_t slot, const TxnShardFn& fn) {
      return run_on_slot_shard(slot, fn);
    };
  }

  KeyReply run(const TxnDecide& decide) {
    if (shares_.size() == 1) return run_single_shard(decide);
    return run_multi_shard(decide);
  }

 private:
  ShardShare& share_for(runtime::ShardId shard) {
    for (ShardShare& share : shares_) {
      if (share.shard == shard) return share;
    }
    shares_.push_back(ShardShare{.shard = shard});
    return shares_.back();
  }

  // Runs fn where the slot's key lives, with that shard's member writes (made on first
  // use there, as StagedWrites reads the shard's engine). A call to the caller's own shard
  // runs inline (Runtime::submit), so a single-shard transaction makes no extra hop.
  Status run_on_slot_shard(std::size_t slot, const TxnShardFn& fn) {
    const TxnView::Slot& s = view_.slots_[slot];
    ShardShare& share = share_for(static_cast<runtime::ShardId>(s.shard));
    return server_.runtime().submit(share.shard, [&]() -> Status {
      types::Keyspace* keyspace = server_.this_shard().keyspace();
      if (keyspace == nullptr) return Status::shutdown("the shard's keyspace is closed");
      if (!share.members) share.members = std::make_unique<types::StagedWrites>(keyspace->engine());
      TxnShard access{*keyspace, *share.members, keyspace->ids().id_of(s.key.db)};
      return fn(access);
    }).get();
  }

  // On share.shard: takes its stripes, then reads its keys.
  // A multi-shard transaction fences its stripes so plain reads wait for it (key_locks.h).
  Status lock_and_read(ShardShare& share) {
    types::Keyspace* keyspace = server_.this_shard().keyspace();
    if (keyspace == nullptr) return Status::shutdown("the shard's keyspace is closed");
    share.locks.lock(keyspace->locks(), shares_.size() > 1);
    for (std::size_t s : share.slots) {
      TxnView::Slot& slot = view_.slots_[s];
      auto record = keyspace->read(slot.key.db, slot.key.key, view_.now_ms);
      if (!record) return record.error();
      slot.record = std::move(*record);
      slot.engine_key = keyspace->engine_key(slot.key.db, slot.key.key);
    }
    return Status::ok();
  }

  void unlock(ShardShare& share) {
    types::Keyspace* keyspace = server_.this_shard().keyspace();
    if (keyspace != nullptr) share.locks.unlock(keyspace->locks());
  }

  // Turns the staged writes into each share's batch; returns how many shares write.
  std::size_t stage_batches() {
    std::size_t writers = 0;
    for (ShardShare& share : shares_) {
      // Member entries first: a metadata record never shares a key with them.
      if (share.members && !share.members->empty()) {
        share.members->append_to(share.batch);
        share.writes = true;
      }
      for (std::size_t s : share.slots) {
        const TxnView::Slot& slot = view_.slots_[s];
        if (!slot.dirty) continue;
        if (slot.record) {
          share.batch.put(slot.engine_key, slot.record->bytes);
        } else {
          share.batch.del(slot.engine_key);
        }
        share.writes = true;
      }
      if (share.writes) ++writers;
    }
    return writers;
  }

  Status write_here(engine::WriteBatch& batch, bool sync) {
    types::Keyspace* keyspace = server_.this_shard().keyspace();
    if (keyspace == nullptr) return Status::shutdown("the shard's keyspace is closed");
    engine::WriteOptions options;
    options.sync = sync;
    return keyspace->engine().write(batch, options);
  }

  KeyReply failure(const Status& status) {
    server_.logger().warning("Storage error in a multi-key command: {}", status.to_string());
    return KeyReply::error(status.is_corruption() ? server::kErrStorageCorruption
                                                  : server::kErrStorage);
  }

  KeyReply run_single_shard(const TxnDecide& decide) {
    ShardShare& share = shares_[0];
    Result<KeyReply> reply = server_.runtime().submit(share.shard, [&]() -> KeyReply {
      Status s = lock_and_read(share);
      KeyReply out = s ? decide(view_) : failure(s);
      if (s && out.kind != KeyReply::Kind::kError && stage_batches() != 0) {
        if (Status w = write_here(share.batch, sync_); !w) out = failure(w);
      }
      unlock(share);
      return out;
    }).get();
    if (!reply) return KeyReply::error(server::kErrShardUnavailable);
    return std::move(*reply);
  }

  KeyReply run_multi_shard(const TxnDecide& decide) {
    KeyReply reply = lock_all();
    if (reply.kind != KeyReply::Kind::kError) {
      reply = decide(view_);
      if (reply.kind != KeyReply::Kind::kError) {
        if (Status s = commit(); !s) reply = failure(s);
      }
    }
    unlock_all();
    return reply;
  }

  // Shard after shard, in ascending id order (the deadlock rule).
  KeyReply lock_all() {
    for (ShardShare& share : shares_) {
      Status s = server_.runtime().submit(share.shard, [&] { return lock_and_read(share); }).get();
      if (!s) return s.code() == StatusCode::kShutdown ? KeyReply::error(server::kErrShardUnavailable) : failure(s);
    }
    return KeyReply::ok();
  }

  void unlock_all() {
    std::vector<runtime::ShardId> ids;
    for (const ShardShare& share : shares_) ids.push_back(share.shard);
    (void)server_.runtime().run_on(std::span<const runtime::ShardId>(ids), [this] {
      const runtime::ShardId here = runtime::this_shard_id();
      for (ShardShare& share : shares_) {
        if (share.shard == here) unlock(share);
      }
    });
  }

  Status commit() {
    std::vector<ShardShare*> writers;
    if (stage_batches() == 0) return Status::ok();
    for (ShardShare& share : shares_) {
      if (share.writes) writers.push_back(&share);
    }
    if (writers.size() == 1) {
      ShardShare& only = *writers[0];
      return server_.runtime().submit(only.shard, [&] { return write_here(only.batch, sync_); }).get();
    }
    return commit_across(writers);
  }

  // The decision-record protocol (multi_shard_log.h) over >= 2 writing shards.
  Status commit_across(const std::vector<ShardShare*>& writers) {
    types::Decision decision{.txid = server_.next_transaction_id(),
                             .coordinator = writers[0]->shard};
    for (std::size_t i = 1; i < writers.size(); ++i) {
      decision.parts.push_back({writers[i]->shard, std::string(writers[i]->batch.contents())});
    }
    ShardShare& coordinator = *writers[0];
    coordinator.batch.put(types::decision_key(decision.txid), types::encode_decision(decision));
    crash_point("multi-shard-before-decision");
    Status decided = server_.runtime().submit(coordinator.shard, [&] {
      return write_here(coordinator.batch, true);
    }).get();
    if (!decided) return decided;
    crash_point("multi-shard-after-decision");

    std::vector<runtime::ShardId> others;
    for (std::size_t i = 1; i < writers.size(); ++i) others.push_back(writers[i]->shard);
    const std::uint64_t txid = decision.txid;
    const std::uint32_t coordinator_id = decision.coordinator;
    auto parts = server_.runtime().run_on(std::span<const runtime::ShardId>(others), [&]() -> Status {
      const runtime::ShardId here = runtime::this_shard_id();
      for (ShardShare* share : writers) {
        if (share->shard != here) continue;
        share->batch.put(types::applied_marker_key(coordinator_id, txid), {});
        Status s = write_here(share->batch, true);
        if (s) crash_point("multi-shard-after-part");
        return s;
      }
      return Status::ok();
    });
    for (Status& s : parts) {
      // The decision stands: recovery applies the missing part at the next start.
      if (!s) return s;
    }
    return clean_up(coordinator.shard, txid, others);
  }

  // Off the client's path, once every part is durable: the decision record is deleted,
  // synced, and only then the markers (a marker must outlive its decision record, or
  // recovery would write its part again). Shards closed meanwhile keep theirs until the
  // next start-up removes them.
  Status clean_up(runtime::ShardId coordinator, std::uint64_t txid,
                  std::vector<runtime::ShardId> others) {
    server::ServerState* server = &server_;
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

  server::ServerState& server_;
  TxnView view_;
  bool sync_;
  std::vector<ShardShare> shares_;
};

KeyReply run_transaction(server::CommandContext& ctx, std::span<const TxnKey> keys,
                         const TxnDecide& decide) {
  Transaction txn(ctx.server, keys, ctx.shard.config());
  return txn.run(decide);
}

}  // namespace cascade::commands
