// How a collection command (hash, list, set, sorted set) opens its key on the key's shard,
// inside a run_key_command body (key_command.h).
//
//   CollectionRead  read-only commands (HGET, LRANGE, SMEMBERS...): no lock, like GET: a
//                   plain read that waits out a multi-shard write fencing the key; member
//                   reads go through an empty StagedWrites (or the MULTI/EXEC
//                   transaction's, which may hold this key's earlier writes).
//   CollectionWrite read-modify-write commands (HSET, LPUSH, SADD...): the key's lock from
//                   the metadata read to the commit; member writes are staged, and
//                   commit() stages the metadata record and writes everything in one
//                   engine batch (inside MULTI/EXEC: leaves it to the transaction).
//
// Both check the type first: a key of another type is `failure` = WRONGTYPE, as Redis
// answers before looking at anything else; an engine error is `failure` too. So a body reads
//
//   CollectionWrite w(t, KeyType::kHash);
//   if (!w.ok()) return std::move(w.failure);
//   if (!w.exists()) w.create();
//   ... w.coll().put(field, value) ...
//   return w.commit(KeyReply::number(added));
#pragma once

#include <optional>
#include <utility>

#include "src/commands/key_command.h"
#include "src/types/collection.h"

namespace cascade::commands {

// Opens the loaded `record` as a collection of `type` into `out`; false with `failure` set
// (the storage error, or WRONGTYPE) when it cannot.
inline bool open_collection(KeyTarget& t, types::StagedWrites& writes, std::uint32_t db_id,
                            types::KeyType type,
                            Result<std::optional<types::StoredRecord>>& record,
                            std::optional<types::Collection>& out, KeyReply& failure) {
  if (!record) {
    failure = storage_failure(t, record.error());
    return false;
  }
  Result<types::Collection> c = types::Collection::open(writes, db_id, t.key, type, *record);
  if (!c) {
    failure = storage_failure(t, c.error());
    return false;
  }
  if (c->wrong_type()) {
    failure = KeyReply::error(server::kErrWrongType);
    return false;
  }
  out.emplace(std::move(*c));
  return true;
}

class CollectionRead {
 public:
  CollectionRead(KeyTarget& t, types::KeyType type) : target_(t) {
    types::StagedWrites* writes = t.txn;
    // Reads what plain readers see (no lock is held): the metadata record and members of
    // acknowledged writes only.
    if (writes == nullptr) writes = &own_.emplace(t.keyspace.engine(), types::StagedWrites::Reads::kVisible);
    Result<std::optional<types::StoredRecord>> record = t.read();
    ok_ = open_collection(t, *writes, t.keyspace.ids().id_of(t.db), type, record, coll_, failure);
  }
  CollectionRead(const CollectionRead&) = delete;
  CollectionRead& operator=(const CollectionRead&) = delete;

  bool ok() const { return ok_; }
  bool exists() const { return coll_->exists(); }
  types::Collection& coll() { return *coll_; }
  // The reply for a failed member read or scan.
  KeyReply storage_error(const Status& s) { return storage_failure(target_, s); }

  KeyReply failure;

 private:
  KeyTarget& target_;
  std::optional<types::StagedWrites> own_;
  std::optional<types::Collection> coll_;
  bool ok_ = false;
};

class CollectionWrite {
 public:
  CollectionWrite(KeyTarget& t, types::KeyType type) : target_(t), lock_(t.lock()) {
    Result<std::optional<types::StoredRecord>> record = lock_.load(t.now_ms);
    ok_ = open_collection(t, lock_.writes(), lock_.db_id(), type, record, coll_, failure);
  }
  CollectionWrite(const CollectionWrite&) = delete;
  CollectionWrite& operator=(const CollectionWrite&) = delete;

  bool ok() const { return ok_; }
  bool exists() const { return coll_->exists(); }
  types::Collection& coll() { return *coll_; }
  // Makes the missing key an empty collection with a fresh version.
  void create() { coll_->create(lock_.keyspace().new_version(target_.now_ms)); }
  types::LockedKey& lock() { return lock_; }

  // Stages the metadata record (or the key's deletion when it became empty), commits, and
  // returns `reply`, or the storage error.
  KeyReply commit(KeyReply reply) {
    coll_->finish();
    if (Status s = lock_.commit(); !s) return storage_failure(target_, s);
    return reply;
  }
  // Stages the metadata record and commits like commit(), but as no change of the key's
  // value: WATCH does not fire. For a sorted set's rank index built on demand, which
  // changes the header and adds records but not the set (zset_access.h).
  KeyReply commit_quietly(KeyReply reply) {
    coll_->finish();
    if (Status s = lock_.commit(/*changed=*/false); !s) return storage_failure(target_, s);
    return reply;
  }
  // Commits whatever was staged (an expired record's deletion) without touching the
  // collection: for a write command that found nothing to change.
  KeyReply commit_unchanged(KeyReply reply) {
    if (Status s = lock_.commit(/*changed=*/false); !s) return storage_failure(target_, s);
    return reply;
  }
  KeyReply storage_error(const Status& s) { return storage_failure(target_, s); }

  KeyReply failure;

 private:
  KeyTarget& target_;
  types::LockedKey lock_;
  std::optional<types::Collection> coll_;
  bool ok_ = false;
};

}  // namespace cascade::commands
