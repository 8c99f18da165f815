// BlockedKeys: the per-key FIFO of blocked clients and its "woken" marks (blocked_keys.h).
#include "src/server/blocked_keys.h"

#include <doctest/doctest.h>

using namespace cascade::server;

namespace {

BlockedWaiter waiter(std::uint64_t client, std::uint64_t wait = 1) {
  return BlockedWaiter{.client_id = client, .wait = wait, .shard = 0, .key_index = 0};
}

}  // namespace

TEST_CASE("a signal wakes the first waiter not yet woken, in the order they blocked") {
  BlockedKeys keys;
  keys.add(0, "k", waiter(7));
  keys.add(0, "k", waiter(8));
  keys.add(0, "k", waiter(9));
  auto first = keys.signal(0, "k");
  REQUIRE(first);
  CHECK(first->client_id == 7);
  auto second = keys.signal(0, "k");
  REQUIRE(second);
  CHECK(second->client_id == 8);
  // A woken waiter that retries and finds nothing is signalled again before later ones.
  CHECK_FALSE(keys.begin_retry(0, "k", 7, 1));
  auto again = keys.signal(0, "k");
  REQUIRE(again);
  CHECK(again->client_id == 7);
  CHECK(keys.signal(0, "k")->client_id == 9);
  CHECK_FALSE(keys.signal(0, "k"));  // everyone is woken: each will retry anyway
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
  CHECK(keys.signal(1, "k")->client_id == 2);
  CHECK(keys.signal(0, "k2")->client_id == 3);
  CHECK(keys.has_waiters(0, "k"));
  CHECK(keys.remove(0, "k", 1, 1));
  CHECK_FALSE(keys.has_waiters(0, "k"));
  CHECK_FALSE(keys.signal(0, "k"));
  CHECK(keys.keys() == 2);
}
