// ExecTransaction: the atomic step of one EXEC. Every key its queued commands name (from the
// command table's key positions) and every key the client WATCHes is locked before the
// first command runs and stays locked until the last write is committed, so no client
// sees part of an EXEC, and an EXEC that commits on several shards is whole or absent
// after a crash.
//
// One attempt:
//   1. lock(): shard after shard in ascending id order, the keys' stripes there
//      (types::KeyLockSet, ascending stripe index: the global order of key_lock_set.h, so
//      EXECs, multi-key commands and single-key commands never deadlock), fenced when the
//      keys span shards (plain reads wait for the fence, as for any multi-shard write);
//      on each shard a StagedWrites is opened and the client's watches there are checked
//      (types::WatchRegistry). The watched keys are locked too, so no write to them is in
//      flight while they are checked, and none lands between the check and the commit.
//   2. the queued commands run in order, each with CommandContext::exec set: a single-key
//      command gets KeyTarget::txn = the staged writes of its key's shard and takes no lock
//      (key_command.h); a multi-key command's TxnView reads and writes through them
//      (transaction.h). Each write is staged, visible to the later commands, and touches
//      the key's watches at once (the stripe is held until the commit, so that is exact),
//      other clients' only: this client's were checked in step 1, and an attempt run
//      again must not find them changed by its own dropped attempt.
//   3. commit(): every shard's staged writes become that shard's part: one shard -> one
//      engine batch, synced as appendfsync says; several -> the decision-record protocol
//      (shard_commit.h).
//   4. unlock(): every stripe released, the client's watches ended; then wake_blocked():
//      the commands inside do not wake blocked clients themselves (their writes are not
//      committed yet), so a push inside EXEC wakes its waiters only here.
// Lock ownership: the stripes belong to the transaction, not to a fiber; the commands'
// bodies run on the keys' shards (in the submitted fibers) while the EXEC's fiber waits,
// and never acquire a stripe themselves, so nothing is locked twice.
//
// Keys the table's key positions do not name (a command with movable keys, a SELECT
// queued before a command): a command that reaches a key whose stripe the attempt does not
// hold is not run (writes_for returns null and notes the key); the attempt is dropped
// (staged writes, replies, the client's database restored) and EXEC runs again with those
// keys locked too. Taking a lock out of order could deadlock; starting over cannot, and
// every attempt locks strictly more keys, so it ends.
//
// Calling rules: from the EXEC's connection fiber; writes_for from that fiber too (the
// stripe sets are read-only while the commands run).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "src/commands/shard_commit.h"
#include "src/runtime/result.h"
#include "src/server/command_context.h"
#include "src/types/key_lock_set.h"
#include "src/types/staged_writes.h"

namespace cascade::commands {

class ExecTransaction {
 public:
  ExecTransaction(server::ServerState& server, std::uint64_t client_id, bool sync);
  ExecTransaction(const ExecTransaction&) = delete;
  ExecTransaction& operator=(const ExecTransaction&) = delete;
  ~ExecTransaction() { unlock(false); }

  // Before lock(): one more key to lock (copied).
  void add_key(std::uint32_t db, std::string_view key);
  // Step 1. Shutdown: a shard is closing (nothing is held afterwards but what unlock frees).
  Status lock();
  // After lock(): did a watched key change since its WATCH?
  bool watch_changed() const { return watch_changed_; }

  // Step 2 (see key_command.h).
  types::StagedWrites* writes_for(std::uint32_t db, std::string_view key, runtime::ShardId shard);
  // During step 2, on `shard` (the calling shard): this attempt's staged writes there, or
  // null when it locked nothing there. Keyspace-wide reads (DBSIZE, KEYS, SCAN) walk
  // them over the engine's keys, so they see the commands queued before them.
  types::StagedWrites* staged_on(runtime::ShardId shard);
  // Did a command reach a key whose stripe this attempt does not hold?
  bool needs_retry() const { return !missing_.empty(); }
  // After unlock(): drops the attempt; the noted keys join the locked ones.
  void prepare_retry();

  Status commit();
  // After a successful commit (and unlock): on every shard the commit wrote to, the
  // blocked clients waiting on this transaction's keys there are woken (blocking.h). Keys
  // the queued commands only read are woken too: a wake-up only costs the waiter a try.
  void wake_blocked() const;
  // Releases every stripe; `unwatch` also ends the client's watches on those shards.
  void unlock(bool unwatch);

 private:
  struct Share {
    runtime::ShardId shard = 0;
    types::KeyLockSet locks;
    std::unique_ptr<types::StagedWrites> writes;  // StagedWrites cannot move
    ShardBatch out;
    bool locked = false;
    bool wrote = false;  // the last commit wrote on this shard
  };
  Share* share_of(runtime::ShardId shard);

  server::ServerState& server_;
  std::uint64_t client_id_;
  bool sync_;
  std::vector<std::pair<std::uint32_t, std::string>> keys_;
  std::vector<std::pair<std::uint32_t, std::string>> missing_;
  std::vector<Share> shares_;  // ascending shard id
  bool watch_changed_ = false;
};

}  // namespace cascade::commands
