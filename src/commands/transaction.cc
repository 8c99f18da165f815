// See transaction.h for the steps and src/types/multi_shard_log.h for the commit protocol.
#include "src/commands/transaction.h"

#include <algorithm>
#include <array>
#include <memory>
#include <string>
#include <unordered_map>

#include "src/commands/exec_transaction.h"
#include "src/commands/blocking.h"
#include "src/commands/shard_commit.h"
#include "src/server/shard_storage.h"
#include "src/types/key_lock_set.h"
#include "src/types/key_slot.h"

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
                  std::string_view payload, bool raw_string) {
  Slot& slot = slots_[slot_of_[i]];
  types::StoredRecord record;
  types::append_record(record.bytes, type, expire_ms, payload, raw_string);
  record.type = type;
  record.expire_ms = expire_ms;
  record.raw_string = raw_string;
  record.payload_offset = record.bytes.size() - payload.size();
  slot.record = std::move(record);
  slot.dirty = true;
}

void TxnView::erase(std::size_t i) {
  Slot& slot = slots_[slot_of_[i]];
  slot.record.reset();
  slot.dirty = true;
}

Result<std::vector<std::optional<std::string>>> TxnView::get_members(
    std::size_t i, std::span<const std::string> engine_keys) {
  Slot& slot = slots_[slot_of_[i]];
  std::vector<std::optional<std::string>> out(engine_keys.size());
  std::vector<std::size_t> missing;  // indexes of keys not staged: read on the shard
  for (std::size_t k = 0; k < engine_keys.size(); ++k) {
    auto it = slot.members.find(engine_keys[k]);
    if (it != slot.members.end()) {
      out[k] = it->second;
    } else {
      missing.push_back(k);
    }
  }
  if (missing.empty()) return out;
  auto read_here = [&]() -> Status {
    types::Keyspace* keyspace = server_->this_shard().keyspace();
    if (keyspace == nullptr) return Status::shutdown("the shard's keyspace is closed");
    for (std::size_t k : missing) {
      Result<std::optional<std::string>> value = slot.exec_writes != nullptr
                                                     ? slot.exec_writes->get(engine_keys[k])
                                                     : keyspace->engine().get(engine_keys[k]);
      if (!value) return value.error();
      out[k] = std::move(*value);
    }
    return Status::ok();
  };
  const auto shard = static_cast<runtime::ShardId>(slot.shard);
  Status s = server_->runtime().submit(shard, read_here).get();
  if (!s) return s;
  return out;
}

void TxnView::put_member(std::size_t i, std::string engine_key, std::string_view value) {
  slots_[slot_of_[i]].members.insert_or_assign(std::move(engine_key), std::string(value));
}

void TxnView::del_member(std::size_t i, std::string engine_key) {
  slots_[slot_of_[i]].members.insert_or_assign(std::move(engine_key), std::nullopt);
}

Status TxnView::on_shard(std::size_t i, const TxnShardWork& work) {
  return run_on_shard_(slot_of_[i], work);
}

// ---- the coordinator --------------------------------------------------------------------

namespace {

struct ShardShare {
  runtime::ShardId shard = 0;
  std::vector<std::size_t> slots;
  types::KeyLockSet locks;
  ShardBatch out;
  // Member writes staged by TxnView::on_shard work outside EXEC; made on the shard when
  // first needed. Inside EXEC, on_shard work stages into exec_writes instead.
  std::unique_ptr<types::StagedWrites> staged;
  bool writes = false;
  // Its written keys' watchers and blocked clients were told, where its batch was written.
  bool signalled = false;
  types::StagedWrites* exec_writes = nullptr;  // inside EXEC: the transaction's, on this shard
};

}  // namespace

class Transaction {
 public:
  Transaction(server::ServerState& server, std::span<const TxnKey> keys,
              const server::ServerConfig& config, const TxnOptions& options, bool writes)
      : server_(server), view_(keys), sync_(server::sync_every_write(config)), options_(options),
        writes_(writes) {
    view_.records_read_ = options.read_records;
    view_.now_ms = unix_time_ms();
    view_.proto_max_bulk_len = config.proto_max_bulk_len;
    view_.server_ = &server;
    for (std::size_t s = 0; s < view_.slots_.size(); ++s) {
      TxnView::Slot& slot = view_.slots_[s];
      slot.shard = types::key_shard(slot.key.key, server.shard_count());
      share_for(static_cast<runtime::ShardId>(slot.shard)).slots.push_back(s);
    }
    std::sort(shares_.begin(), shares_.end(),
              [](const ShardShare& a, const ShardShare& b) { return a.shard < b.shard; });
    for (ShardShare& share : shares_) {
      share.out.shard = share.shard;
      for (std::size_t s : share.slots) share.locks.add(view_.slots_[s].key.db, view_.slots_[s].key.key);
    }
    view_.run_on_shard_ = [this](std::size_t slot, const TxnShardWork& work) {
      return run_on_shard(slot, work);
    };
  }

  KeyReply run(const TxnDecide& decide, ExecTransaction* exec) {
    if (exec != nullptr) return run_in_exec(decide, *exec);
    if (shares_.size() == 1) return run_single_shard(decide);
    return run_multi_shard(decide);
  }

 private:
  ShardShare& share_for(runtime::ShardId shard) {
    for (ShardShare& share : shares_) {
      if (share.shard == shard) return share;
    }
    shares_.emplace_back();
    shares_.back().shard = shard;
    return shares_.back();
  }

  // On share.shard: reads its keys (their stripes already held: by this transaction, or
  // by the EXEC it runs in, whose staged writes it then reads through).
  Status read_keys(ShardShare& share, types::Keyspace& keyspace) {
    // The stripes are held: once the writes already in the memtable are visible, every
    // earlier write of these keys is (a single-key writer releases its stripe before its
    // WAL write completes), and plain reads see all this transaction may build on.
    // Not when nothing is read: this transaction's writes then take sequences after those
    // writes, so they win, and its reply waits for its own writes, which come after them.
    if (options_.read_records) keyspace.engine().wait_visible(keyspace.engine().last_inserted());
    if (options_.read_records && share.exec_writes == nullptr) prefetch_keys(share, keyspace);
    for (std::size_t s : share.slots) {
      TxnView::Slot& slot = view_.slots_[s];
      if (options_.read_records) {
        Result<std::optional<types::StoredRecord>> record =
            share.exec_writes != nullptr
                ? types::LockedKey(keyspace, slot.key.db, slot.key.key, *share.exec_writes)
                      .load(view_.now_ms)
                : keyspace.read(slot.key.db, slot.key.key, view_.now_ms);
        if (!record) return record.error();
        slot.record = std::move(*record);
      }
      slot.engine_key = keyspace.engine_key(slot.key.db, slot.key.key);
      slot.db_id = keyspace.ids().id_of(slot.key.db);
      slot.fresh_version = keyspace.new_version(view_.now_ms);
      slot.exec_writes = share.exec_writes;
    }
    return Status::ok();
  }

  // The share's keys (up to the engine's prefetch width) fetched into the cache together
  // before read_keys reads them one by one (types::Keyspace::prefetch).
  void prefetch_keys(const ShardShare& share, types::Keyspace& keyspace) {
    std::array<std::string_view, engine::BTree::kMaxPrefetch> keys;
    std::size_t n = 0;
    for (std::size_t s : share.slots) {
      if (n == keys.size()) break;
      keys[n++] = view_.slots_[s].key.key;
    }
    // Every slot of a share has the same database only in the common case; prefetching
    // under the first key's is a hint, never a correctness matter.
    if (n > 1) keyspace.prefetch(view_.slots_[share.slots[0]].key.db, std::span(keys.data(), n));
  }

  // On share.shard: takes its stripes, then reads its keys. With `barrier` (a writing
  // multi-shard transaction, on every shard), step 0 of multi_shard_log.h too: the shard's
  // WAL is synced through what it has acknowledged unsynced, now that no write of these
  // keys can come between (shard_commit.h, CommitSteps::acknowledged_synced).
  // A multi-shard transaction fences its stripes so plain reads wait for it (key_locks.h).
  Status lock_and_read(ShardShare& share, bool barrier = false) {
    types::Keyspace* keyspace = server_.this_shard().keyspace();
    if (keyspace == nullptr) return Status::shutdown("the shard's keyspace is closed");
    share.locks.lock(keyspace->locks(), shares_.size() > 1);
    return read_then_sync(share, *keyspace, barrier);
  }

  // read_keys, then step 0 when `barrier`: after the reads, whose wait for the memtable's
  // pending writes makes the writes they build on acknowledged, so the sync covers them
  // too (a read-modify-write releases its stripe before its WAL write; synced before it,
  // an LMOVE could survive a power loss that took the RPUSH it moved from).
  Status read_then_sync(ShardShare& share, types::Keyspace& keyspace, bool barrier) {
    if (Status s = read_keys(share, keyspace); !s) return s;
    if (barrier) return keyspace.engine().sync_wal_acknowledged();
    return Status::ok();
  }

  // On share.shard, before its stripes are released: the written keys' watchers learn of
  // the write (watch_registry.h).
  void touch_written(const ShardShare& share) {
    types::Keyspace* keyspace = server_.this_shard().keyspace();
    if (keyspace == nullptr) return;
    for (std::size_t s : share.slots) {
      const TxnView::Slot& slot = view_.slots_[s];
      if (!slot.dirty && slot.members.empty()) continue;
      const std::uint64_t writer = slot.exec_writes != nullptr ? slot.exec_writes->exec_client() : 0;
      keyspace->watches().touch(slot.key.db, slot.key.key, writer);
    }
  }

  // On share.shard, after the commit (outside EXEC, whose commit wakes its own keys): a key
  // this transaction left holding a list or a sorted set may end a blocked client's wait
  // (RENAME, COPY, MOVE, SMOVE's kin, LMOVE, the *STORE commands: Redis signals every key
  // they create). A key that only got smaller wakes nobody worth waking, but telling the
  // two apart costs more than the try a spurious wake-up costs its client.
  void wake_written(const ShardShare& share) {
    for (std::size_t s : share.slots) {
      const TxnView::Slot& slot = view_.slots_[s];
      if (!slot.dirty || !slot.record) continue;
      if (slot.record->type != types::KeyType::kList && slot.record->type != types::KeyType::kZSet) {
        continue;
      }
      const std::string_view key = slot.key.key;
      wake_blocked_keys(server_, slot.key.db, std::span<const std::string_view>(&key, 1));
    }
  }

  void unlock(ShardShare& share) {
    types::Keyspace* keyspace = server_.this_shard().keyspace();
    if (keyspace != nullptr) share.locks.unlock(keyspace->locks());
  }

  // The shard's thread (submit runs in place when it is the caller's own shard). The
  // connection's fiber waits meanwhile, so work may use decide's locals.
  Status run_on_shard(std::size_t slot, const TxnShardWork& work) {
    const TxnView::Slot& target = view_.slots_[slot];
    ShardShare& share = share_for(static_cast<runtime::ShardId>(target.shard));
    return server_.runtime().submit(share.shard, [&]() -> Status {
      types::Keyspace* keyspace = server_.this_shard().keyspace();
      if (keyspace == nullptr) return Status::shutdown("the shard's keyspace is closed");
      types::StagedWrites* writes = share.exec_writes;
      if (writes == nullptr) {
        if (!share.staged) share.staged = std::make_unique<types::StagedWrites>(keyspace->engine());
        writes = share.staged.get();
      }
      TxnShard here{*keyspace, *writes, keyspace->ids().id_of(target.key.db), view_.now_ms};
      return work(here);
    }).get();
  }

  // Turns the staged writes into each share's batch; returns how many shares write. A
  // share with member writes gets its metadata writes merged into the same StagedWrites
  // first, so the batch holds each engine key once, in key order.
  std::size_t stage_batches() {
    std::size_t writers = 0;
    for (ShardShare& share : shares_) {
      for (std::size_t s : share.slots) {
        const TxnView::Slot& slot = view_.slots_[s];
        for (const auto& [key, value] : slot.members) {
          // With on_shard work staged too, everything goes through one StagedWrites, so
          // the batch holds each engine key once.
          if (share.staged) {
            value ? share.staged->put(key, *value) : share.staged->del(key);
          } else if (value) {
            share.out.batch.put(key, *value);
          } else {
            share.out.batch.del(key);
          }
          share.writes = true;
        }
        if (!slot.dirty) continue;
        if (share.staged) {
          if (slot.record) {
            share.staged->put(slot.engine_key, slot.record->bytes);
          } else {
            share.staged->del(slot.engine_key);
          }
        } else if (slot.record) {
          share.out.batch.put(slot.engine_key, slot.record->bytes);
        } else {
          share.out.batch.del(slot.engine_key);
        }
        share.writes = true;
      }
      if (share.staged && !share.staged->empty()) {
        share.staged->append_to(share.out.batch);
        share.writes = true;
      }
      if (share.writes) ++writers;
    }
    return writers;
  }

  KeyReply failure(const Status& status) {
    server_.logger().warning("Storage error in a multi-key command: {}", status.to_string());
    return KeyReply::error(server::storage_error(status));
  }

  KeyReply run_single_shard(const TxnDecide& decide) {
    ShardShare& share = shares_[0];
    Result<KeyReply> reply = server_.runtime().submit(share.shard, [&]() -> KeyReply {
      Status s = lock_and_read(share);
      KeyReply out = s ? decide(view_) : failure(s);
      if (s && out.kind != KeyReply::Kind::kError && stage_batches() != 0) {
        ShardBatch* only = &share.out;
        if (Status w = commit_shard_batches(server_, std::span<ShardBatch* const>(&only, 1), sync_); !w) {
          out = failure(w);
        } else {
          touch_written(share);
          wake_written(share);
        }
      }
      unlock(share);
      return out;
    }).get();
    if (!reply) return KeyReply::error(server::kErrShardUnavailable);
    return std::move(*reply);
  }

  // Round trips: one for every shard to lock and read at once (when the stripes are free),
  // then the commit's: the coordinator's batch (none when it is the caller's shard), then
  // the other parts. Every written key's watchers and blocked clients learn of the write
  // in the call that wrote it. A part under the synced decision record releases its
  // stripes in that call too (CommitSteps::after_write); every other shard's stripes are
  // released after the commit, posted without waiting (release_all_posted).
  KeyReply run_multi_shard(const TxnDecide& decide) {
    // Step 0 under every policy: under always it finds nothing to sync, unless
    // appendfsync just changed (shard_commit.cc says why).
    const bool barrier = writes_;
    KeyReply reply = lock_all(barrier);
    bool committed = false;
    if (reply.kind != KeyReply::Kind::kError) {
      reply = decide(view_);
      if (reply.kind != KeyReply::Kind::kError) {
        if (Status s = commit(barrier); !s) {
          reply = failure(s);
        } else {
          committed = true;
        }
      }
    }
    release_all_posted(committed);
    return reply;
  }

  // First every shard at once, each taking its stripes only if all are free (one round
  // trip, the connection's own shard inline meanwhile); if any shard found one held, the
  // stripes taken go back and the shards are locked one after another in ascending id
  // order, waiting as needed (the deadlock rule).
  KeyReply lock_all(bool barrier) {
    std::vector<runtime::ShardId> ids;
    for (const ShardShare& share : shares_) ids.push_back(share.shard);
    std::vector<Status> tried = server_.runtime().run_on(std::span<const runtime::ShardId>(ids), [&] {
      const runtime::ShardId here = runtime::this_shard_id();
      for (ShardShare& share : shares_) {
        if (share.shard == here) return try_lock_and_read(share, barrier);
      }
      return Status::ok();
    });
    bool busy = false;
    for (const Status& s : tried) {
      if (s.code() == StatusCode::kBusy) {
        busy = true;
      } else if (!s) {
        return lock_failure(s);
      }
    }
    if (!busy) return KeyReply::ok();
    unlock_all();
    return lock_in_order(barrier);
  }

  // On share.shard: lock_and_read if its stripes are all free now, else kBusy.
  Status try_lock_and_read(ShardShare& share, bool barrier) {
    types::Keyspace* keyspace = server_.this_shard().keyspace();
    if (keyspace == nullptr) return Status::shutdown("the shard's keyspace is closed");
    if (!share.locks.try_lock(keyspace->locks(), true)) return Status(StatusCode::kBusy, "a stripe is held");
    return read_then_sync(share, *keyspace, barrier);
  }

  KeyReply lock_in_order(bool barrier) {
    for (ShardShare& share : shares_) {
      Status s = server_.runtime().submit(share.shard, [&] {
        return lock_and_read(share, barrier);
      }).get();
      if (!s) return lock_failure(s);
    }
    return KeyReply::ok();
  }

  KeyReply lock_failure(const Status& s) {
    return s.code() == StatusCode::kShutdown ? KeyReply::error(server::kErrShardUnavailable) : failure(s);
  }

  // On a share's shard: the watches and blocked clients of a committed write learn of it,
  // and the stripes go.
  void release(ShardShare& share, bool committed) {
    if (committed) signal_written(share);
    unlock(share);
  }

  // On a share's shard, once its batch is written: the watches and blocked clients of its
  // keys learn of the write (once).
  void signal_written(ShardShare& share) {
    if (share.signalled) return;
    share.signalled = true;
    touch_written(share);
    wake_written(share);
  }

  // Releases every share still holding its stripes, and waits for it (before locking in
  // order again). The locks' state was last changed on the shard's thread by a call this
  // fiber waited for, so reading it here is ordered after.
  void unlock_all() {
    std::vector<runtime::ShardId> ids;
    for (const ShardShare& share : shares_) {
      if (share.locks.locked()) ids.push_back(share.shard);
    }
    if (ids.empty()) return;
    (void)server_.runtime().run_on(std::span<const runtime::ShardId>(ids), [this] {
      const runtime::ShardId here = runtime::this_shard_id();
      for (ShardShare& share : shares_) {
        if (share.shard == here && share.locks.locked()) release(share, false);
      }
    });
  }

  // The last step of a multi-shard transaction, without a round trip: the caller's own
  // shard releases in place, and every other shard still holding stripes gets their
  // release posted, not awaited (this transaction is gone when it runs). Every written
  // shard told its keys' watchers and blocked clients where its batch was written, before
  // the reply; a shard only read has none to tell. Until the message runs the stripes stay
  // held and fenced, so whoever reads or pops those keys waits for it as for the commit.
  void release_all_posted(bool committed) {
    const runtime::ShardId here = runtime::this_shard_id();
    for (ShardShare& share : shares_) {
      if (!share.locks.locked()) continue;
      if (share.shard == here) {
        release(share, committed);
        continue;
      }
      assert(!committed || share.signalled || !share.writes);
      server::ServerState* server = &server_;
      (void)server_.runtime().post(share.shard, [server, locks = share.locks.hand_over()]() mutable {
        types::Keyspace* keyspace = server->this_shard().keyspace();
        if (keyspace != nullptr) locks.unlock(keyspace->locks());
      });
    }
  }

  Status commit(bool acknowledged_synced) {
    if (stage_batches() == 0) return Status::ok();
    std::vector<ShardBatch*> writers;
    for (ShardShare& share : shares_) {
      if (share.writes) writers.push_back(&share.out);
    }
    CommitSteps steps;
    steps.acknowledged_synced = acknowledged_synced;
    // A failed write keeps its stripes: release_all_posted releases them without touching
    // watches.
    steps.after_write = [this](runtime::ShardId shard, bool written) {
      if (written) release(share_for(shard), true);
    };
    steps.after_write_held = [this](runtime::ShardId shard, bool written) {
      if (written) signal_written(share_for(shard));
    };
    return commit_shard_batches(server_, writers, sync_, steps);
  }

  // Inside EXEC: the EXEC holds the stripes and commits; this reads through its staged
  // writes, runs decide, and stages what decide wrote into them (touching the watches).
  KeyReply run_in_exec(const TxnDecide& decide, ExecTransaction& exec) {
    for (ShardShare& share : shares_) {
      for (std::size_t s : share.slots) {
        const TxnKey& key = view_.slots_[s].key;
        share.exec_writes = exec_writes_for(exec, key.db, key.key, share.shard);
        if (share.exec_writes == nullptr) return KeyReply::error(kErrExecRetry);
      }
    }
    for (ShardShare& share : shares_) {
      Status s = server_.runtime().submit(share.shard, [&]() -> Status {
        types::Keyspace* keyspace = server_.this_shard().keyspace();
        if (keyspace == nullptr) return Status::shutdown("the shard's keyspace is closed");
        return read_keys(share, *keyspace);
      }).get();
      if (!s) return lock_failure(s);
    }
    KeyReply reply = decide(view_);
    if (reply.is_error()) return reply;
    for (ShardShare& share : shares_) {
      (void)server_.runtime().submit(share.shard, [&] {
        for (std::size_t s : share.slots) {
          const TxnView::Slot& slot = view_.slots_[s];
          for (const auto& [key, value] : slot.members) {
            value ? share.exec_writes->put(key, *value) : share.exec_writes->del(key);
          }
          if (!slot.dirty) continue;
          if (slot.record) {
            share.exec_writes->put(slot.engine_key, slot.record->bytes);
          } else {
            share.exec_writes->del(slot.engine_key);
          }
        }
        touch_written(share);
      }).get();
    }
    return reply;
  }

  server::ServerState& server_;
  TxnView view_;
  bool sync_;
  TxnOptions options_;
  bool writes_;  // the command writes (kCmdWrite): it may need step 0
  std::vector<ShardShare> shares_;
};

KeyReply run_transaction(server::CommandContext& ctx, std::span<const TxnKey> keys,
                         const TxnDecide& decide, TxnOptions options) {
  Transaction txn(ctx.server, keys, ctx.shard.config(), options,
                  (ctx.command.flags & server::kCmdWrite) != 0);
  return txn.run(decide, ctx.exec);
}

}  // namespace cascade::commands
