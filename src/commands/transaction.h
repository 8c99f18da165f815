// Transactions: a command over several keys, possibly on several shards, that runs as one
// atomic step: no client locking any of its keys sees it half done, and after a crash it
// is either whole or absent (all of it, if it was acknowledged). MGET, MSET, RENAME, COPY,
// BITOP and the multi-key DEL run on it.
//
// A command declares its keys (database and name; one key may be declared twice) and a
// decide step. run_transaction() then:
//   1. groups the keys by owning shard and takes each shard's key stripes
//      (types::KeyLockSet: ascending stripe index) and reads the keys' records there
//      (unless TxnOptions::read_records is off). Across shards it first tries every shard
//      at once, each taking its stripes only if all are free (KeyLockSet::try_lock: one
//      round trip); if any was held, what was taken goes back and the shards are locked
//      one after another in ascending id order, waiting as needed. That global order is
//      what keeps two transactions, or a transaction and single-key commands, from
//      deadlocking (key_lock_set.h); a try that waits for no stripe cannot deadlock;
//   2. calls decide(view): the command reads the records and stages its writes, each write
//      visible to its own later reads (so DEL k k deletes once); a collection command
//      also reads and stages member entries on a key's shard through view.on_shard().
//      decide returns the reply; an error reply cancels every staged write;
//   3. writes: nothing; or one engine batch on the one shard written to (synced as
//      appendfsync says); or, for writes to several shards, the decision-record protocol of
//      src/types/multi_shard_log.h (under always one synced decision record; under
//      everysec a copy of it in every writer's batch, none synced, each writer's WAL synced
//      through what it acknowledged when step 1 locks it, so none loses an earlier write
//      while recovery finishes this); shard_commit.h does both;
//   4. touches the written keys' watches and releases every stripe it took, also after a
//      failure. Each written shard tells its keys' watchers and blocked clients in the
//      call that wrote its batch, before the reply. A part under the synced decision
//      record releases its stripes in that call too (shard_commit.h,
//      CommitSteps::after_write); every other shard (the coordinator, parts written with
//      copies, shards only read) releases them once the commit returns: the caller's own
//      shard in place, the others by a posted message the reply does not wait for (the
//      stripes stay fenced until it runs, so readers of those keys wait for it as for the
//      commit).
// Inside EXEC (ctx.exec set) steps 1, 3 and 4 belong to the EXEC (exec_transaction.h): the
// keys are read through the EXEC's staged writes, under its stripes, and decide's writes
// are staged there (and touch the watches) to be committed with the rest of the EXEC;
// on_shard work and member reads then see (and stage into) the EXEC's StagedWrites of
// that shard, so a collection command sees the queued commands before it.
// Collections: decide may also run work on a declared key's shard (TxnView::on_shard) with
// that shard's StagedWrites: to scan or probe the members of a source collection, and to
// stage member entries of a destination (SINTERSTORE, SMOVE). Those writes join the same
// shard's batch as the view's metadata writes, so member entries and their metadata record
// commit together, and across shards they ride in the decision record's parts (whole
// engine batches) like any other write. The metadata records of declared keys are written
// only through put()/erase(), so record() stays what decide staged.
//
// A single-shard transaction (every key on one shard) does all four in one cross-shard call
// (none when it is the connection's shard), and decide runs on that shard's thread. A
// multi-shard one holds its locks across several round trips and runs decide on the
// connection's thread. Either way decide must only use the view and what the handler gave
// it; the connection waits meanwhile, so the handler's locals and arguments are safe to use.
//
// Plain single-key reads (GET) take no lock, but a multi-shard transaction fences the
// stripes it holds and such a read waits for the fence (types::KeyLocks), so no client sees
// a multi-shard write on one shard and then misses it on another.
//
// Crash testing: the crash points of shard_commit.h.
#pragma once

#include <cassert>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "src/commands/key_command.h"
#include "src/types/key_record.h"
#include "src/types/keyspace.h"

namespace cascade::commands {

struct TxnKey {
  std::uint32_t db = 0;
  std::string_view key;
};

// A declared key's shard as TxnView::on_shard work sees it, on that shard's thread.
struct TxnShard {
  types::Keyspace& keyspace;
  // The transaction's staged writes on this shard (member entries), committed with it.
  types::StagedWrites& writes;
  std::uint32_t db_id;  // the key's database id on this shard (types::DatabaseIds)
  std::int64_t now_ms;
};
using TxnShardWork = std::function<Status(TxnShard&)>;
using TxnShardFn = TxnShardWork;

// What decide sees: the records of the declared keys (live ones; an expired record reads
// as missing), with the command's own staged writes applied.
class TxnView {
 public:
  explicit TxnView(std::span<const TxnKey> keys);

  std::size_t size() const { return slot_of_.size(); }
  const TxnKey& key(std::size_t i) const { return slots_[slot_of_[i]].key; }
  // Declared key i's record; nullopt when it does not exist.
  // Not with TxnOptions::read_records false, until decide has put() or erase()d the key.
  const std::optional<types::StoredRecord>& record(std::size_t i) const {
    assert(records_read_ || slots_[slot_of_[i]].dirty);
    return slots_[slot_of_[i]].record;
  }
  // `raw_string`: a string modified in place (types/key_record.h, flags bit 1).
  void put(std::size_t i, types::KeyType type, std::optional<std::int64_t> expire_ms,
           std::string_view payload, bool raw_string = false);
  void put_string(std::size_t i, std::optional<std::int64_t> expire_ms, std::string_view value,
                  bool raw_string = false) {
    put(i, types::KeyType::kString, expire_ms, value, raw_string);
  }
  void erase(std::size_t i);

  // ---- members of collections (LMOVE, LMPOP: lists whose keys may be on other shards) ----
  // Member entries are engine keys on declared key i's shard, built from db_id(i) (the
  // database's id there) and the collection's version (types::member_prefix). Reads see
  // the transaction's own staged member writes; the others are read on the key's shard
  // (one cross-shard call per get_members when that is not the calling thread's shard).
  // Staged member writes go into the key's shard's part of the commit, with its record
  // writes: one engine batch per shard, or a part of the decision record, so they are as
  // crash-atomic as the records.
  std::uint32_t db_id(std::size_t i) const { return slots_[slot_of_[i]].db_id; }
  // A collection version never used on key i's shard (Keyspace::new_version), reserved
  // when the key was read: for a collection the transaction creates.
  std::uint64_t fresh_version(std::size_t i) const { return slots_[slot_of_[i]].fresh_version; }
  Result<std::vector<std::optional<std::string>>> get_members(
      std::size_t i, std::span<const std::string> engine_keys);
  void put_member(std::size_t i, std::string engine_key, std::string_view value);
  void del_member(std::size_t i, std::string engine_key);

  // Runs `work` on declared key i's shard and returns its status (an error cancels the
  // transaction when decide returns an error reply for it). From decide only; work may use
  // the engine and stage member writes but must not write a declared key's metadata record.
  Status on_shard(std::size_t i, const TxnShardWork& work);

  std::int64_t now_ms = 0;  // the transaction's clock
  std::int64_t proto_max_bulk_len = 0;

 private:
  friend class Transaction;
  struct Slot {
    TxnKey key;
    std::size_t shard = 0;
    std::optional<types::StoredRecord> record;
    // The key's engine key on its shard, under the database's id there (FORMAT.md,
    // "Database ids"); set when the key is read, on the owning shard.
    std::string engine_key;
    bool dirty = false;  // staged: record is the value to write (nullopt: delete)
    std::uint32_t db_id = 0;         // the database's id on the key's shard
    std::uint64_t fresh_version = 0;
    // Inside EXEC: the EXEC's staged writes on the key's shard, read through by get_members.
    types::StagedWrites* exec_writes = nullptr;
    // Staged member writes (engine key -> value; nullopt: delete).
    std::map<std::string, std::optional<std::string>, std::less<>> members;
  };
  server::ServerState* server_ = nullptr;
  bool records_read_ = true;
  std::vector<std::size_t> slot_of_;  // declared index -> slot (one slot per distinct key)
  std::vector<Slot> slots_;
  // Set by the transaction: runs work on slot s's shard with that shard's staged writes.
  std::function<Status(std::size_t slot, const TxnShardWork&)> run_on_shard_;
};

using TxnDecide = std::function<KeyReply(TxnView&)>;

struct TxnOptions {
  // False when decide never looks at the keys' current records (MSET overwrites whatever
  // is there): step 1 then takes the stripes without reading, which is most of an MSET's
  // work on each shard. TxnView::record() is then only for keys decide has written.
  bool read_records = true;
};
// A writing command (kCmdWrite) whose writes are acknowledged unsynced takes step 0 of
// multi_shard_log.h (the other shards' WALs synced through what they acknowledged) in the
// call that locks and reads each shard, not in a round trip of its own before the decision.

// Runs decide atomically over `keys` (see the file comment) and returns its reply, or the
// storage error that stopped the transaction. From the connection's fiber.
KeyReply run_transaction(server::CommandContext& ctx, std::span<const TxnKey> keys,
                         const TxnDecide& decide, TxnOptions options = {});

// The client's database as a TxnKey's db.
inline std::uint32_t client_db(const server::CommandContext& ctx) {
  return static_cast<std::uint32_t>(ctx.client.db);
}

}  // namespace cascade::commands
