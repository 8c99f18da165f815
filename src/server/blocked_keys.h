// BlockedKeys: one shard's registry of the clients blocked (BLPOP, BLMOVE...) on keys this
// shard owns, in the order they blocked. Pure bookkeeping: no IO, no messages; the
// protocol that uses it is src/commands/blocking.h.
//
// Per (database, key) a FIFO queue of waiters. A waiter is one blocking call of one client:
// (client id, wait number) names it across shards; `shard` is where its connection lives;
// `key_index` which of its keys this entry is for; `kind` the type it pops (a list for
// BLPOP, a sorted set for BZPOPMIN). `woken` marks the waiters that were sent a wake-up for
// this key and have not retried it yet (they hold the key's "turn" for their kind).
// Waiters of different kinds on one key do not queue behind each other: a BLPOP client
// never takes a sorted set's members, so it must not hold a BZPOPMIN client's turn.
//   signal(key)    a write added elements: for each kind, picks the first waiter of that
//                  kind not yet woken, marks it woken and returns it (the caller sends it
//                  the wake-up; the signaller need not know the key's type, a waiter of the
//                  other kind retries and finds nothing); none of a kind when every waiter
//                  of it is already woken, since each of those will retry anyway;
//   begin_retry    a waiter retrying the key clears its mark and learns whether a waiter of
//                  its kind blocked before it is still queued (then it is not its turn: FIFO);
//   remove         a waiter leaves (served, timed out, disconnected, unblocked); the caller
//                  then signals the key again if waiters remain, so a turn is never lost.
//
// Threads: the owning shard's fibers only (ShardState's rule).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "src/runtime/shard.h"
#include "src/types/key_record.h"

namespace cascade::server {

struct BlockedWaiter {
  std::uint64_t client_id = 0;
  std::uint64_t wait = 0;  // the client's wait number: a later BLPOP of the same client differs
  runtime::ShardId shard = 0;
  std::uint32_t key_index = 0;
  types::KeyType kind = types::KeyType::kList;
  bool woken = false;

  bool same(std::uint64_t client, std::uint64_t w) const { return client_id == client && wait == w; }
};

class BlockedKeys {
 public:
  void add(std::uint32_t db, std::string_view key, const BlockedWaiter& waiter);
  // Removes the waiter's entry; true if it was there.
  bool remove(std::uint32_t db, std::string_view key, std::uint64_t client_id, std::uint64_t wait);
  // See the file comment: at most one waiter per kind; empty when nobody is waiting or
  // everybody was woken.
  std::vector<BlockedWaiter> signal(std::uint32_t db, std::string_view key);
  // Clears the waiter's woken mark; true when another waiter of its kind is ahead of it in
  // the queue.
  bool begin_retry(std::uint32_t db, std::string_view key, std::uint64_t client_id,
                   std::uint64_t wait);
  // Whether a client waits on the key for this kind (then a pop by a client that is not
  // queued would jump the queue).
  bool has_waiters(std::uint32_t db, std::string_view key, types::KeyType kind) const;
  std::size_t keys() const { return queues_.size(); }

 private:
  static std::string map_key(std::uint32_t db, std::string_view key);

  std::unordered_map<std::string, std::vector<BlockedWaiter>> queues_;
};

}  // namespace cascade::server
