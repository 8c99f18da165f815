// BlockedKeys: the per-key FIFO of blocked clients and its "woken" marks (blocked_keys.h).
#include "src/server/blocked_keys.h"

#include <doctest/doctest.h>

#include <string_view>
#include <vector>

using namespace cascade::server;

namespace {

BlockedWaiter waiter(std::uint64_t client, std::uint64_t wait = 1,
                     cascade::types::KeyType kind = cascade::types::KeyType::kList) {
  return BlockedWaiter{.client_id = client, .wait = wait, .shard = 0, .key_index = 0,
                       .kind = kind};
}

// The one waiter a signal picked (all waiters here are of one kind), or 0 for none.
std::uint64_t signalled(BlockedKeys& keys, std::uint32_t db, std::string_view key) {
  std::vector<BlockedWaiter> picked = keys.signal(db, key);
  REQUIRE(picked.size() <= 1);
  return picked.empty() ? 0 : picked.front().client_id;
}

}  // namespace

TEST_CASE("a signal wakes the first waiter not yet woken, in the order they blocked") {
  BlockedKeys keys;
  keys.add(0, "k", waiter(7));
  keys.add(0, "k", waiter(8));
  keys.add(0, "k", waiter(9));
  CHECK(signalled(keys, 0, "k") == 7);
  CHECK(signalled(keys, 0, "k") == 8);
  // A woken waiter that retries and finds nothing is signalled again before later ones.
  CHECK_FALSE(keys.begin_retry(0, "k", 7, 1));
  CHECK(signalled(keys, 0, "k") == 7);
  CHECK(signalled(keys, 0, "k") == 9);
  CHECK(signalled(keys, 0, "k") == 0);  // everyone is woken: each will retry anyway
}

TEST_CASE("a waiter behind another on the same key is not served first") {
  BlockedKeys keys;
  keys.add(0, "k", waiter(1));
  keys.add(0, "k", waiter(2));
  CHECK(keys.begin_retry(0, "k", 2, 1));        // client 1 blocked earlier and is queued
  CHECK_FALSE(keys.begin_retry(0, "k", 1, 1));
  CHECK(keys.remove(0, "k", 1, 1));
  CHECK_FALSE(keys.begin_retry(0, "k", 2, 1));  // now it is client 2's turn
}

TEST_CASE("waiters are told apart by database, key, client and wait number") {
  BlockedKeys keys;
  keys.add(0, "k", waiter(1, 1));
  keys.add(1, "k", waiter(2, 1));
  keys.add(0, "k2", waiter(3, 1));
  CHECK_FALSE(keys.remove(0, "k", 1, 2));  // an older wait of the same client
  CHECK(signalled(keys, 1, "k") == 2);
  CHECK(signalled(keys, 0, "k2") == 3);
  CHECK(keys.has_waiters(0, "k", cascade::types::KeyType::kList));
  CHECK(keys.remove(0, "k", 1, 1));
  CHECK_FALSE(keys.has_waiters(0, "k", cascade::types::KeyType::kList));
  CHECK(signalled(keys, 0, "k") == 0);
  CHECK(keys.keys() == 2);
}

TEST_CASE("waiters for lists and for sorted sets on one key do not queue behind each other") {
  using cascade::types::KeyType;
  BlockedKeys keys;
  keys.add(0, "k", waiter(1, 1, KeyType::kList));
  keys.add(0, "k", waiter(2, 1, KeyType::kZSet));
  keys.add(0, "k", waiter(3, 1, KeyType::kList));
  keys.add(0, "k", waiter(4, 1, KeyType::kZSet));
  // The signaller does not know what the key now holds: the first of each kind is woken.
  std::vector<BlockedWaiter> woken = keys.signal(0, "k");
  REQUIRE(woken.size() == 2);
  CHECK(woken[0].client_id == 1);
  CHECK(woken[1].client_id == 2);
  // Client 2 blocked after client 1, but client 1 never pops a sorted set.
  CHECK_FALSE(keys.begin_retry(0, "k", 2, 1));
  CHECK(keys.begin_retry(0, "k", 4, 1));  // behind client 2, of its kind
  CHECK(keys.begin_retry(0, "k", 3, 1));  // behind client 1
  CHECK(keys.has_waiters(0, "k", KeyType::kZSet));
  CHECK(keys.remove(0, "k", 2, 1));
  CHECK(keys.remove(0, "k", 4, 1));
  CHECK_FALSE(keys.has_waiters(0, "k", KeyType::kZSet));
  CHECK(keys.has_waiters(0, "k", KeyType::kList));
}
