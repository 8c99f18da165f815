#include "src/types/key_lock_set.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "src/runtime/scheduler.h"

using namespace cascade;
using cascade::types::KeyLocks;
using cascade::types::KeyLockSet;

namespace {

// Two keys of database 0 on different stripes.
std::pair<std::string, std::string> keys_on_two_stripes() {
  std::string a = "a";
  for (int i = 0;; ++i) {
    std::string b = "b" + std::to_string(i);
    if (KeyLocks::stripe_index(0, a) != KeyLocks::stripe_index(0, b)) return {a, b};
  }
}

// A blind writer enters as Keyspace::put_strings does: it marks its write in flight on the
// stripe and leaves the stripe free.
void enter_blind_write(KeyLocks& locks, std::size_t stripe) {
  locks.stripe(stripe).acquire();
  locks.begin_blind_write(stripe);
  locks.stripe(stripe).release();
}

}  // namespace

TEST_CASE("a lock set takes each stripe once, in ascending index order") {
  runtime::Scheduler s;
  KeyLocks locks;
  KeyLockSet set;
  auto [a, b] = keys_on_two_stripes();
  set.add(0, b);
  set.add(0, a);
  set.add(0, b);  // the same key twice
  s.spawn([&] { set.lock(locks); });
  s.run_round();
  REQUIRE(set.locked());
  const std::vector<std::size_t>& order = set.stripes();
  REQUIRE(order.size() == 2);
  CHECK(order[0] < order[1]);
  CHECK(locks.stripe(order[0]).available() == 0);
  CHECK(locks.stripe(order[1]).available() == 0);
  set.unlock(locks);  // from outside the fiber that locked: the stripes have no owner
  CHECK(locks.stripe(order[0]).available() == 1);
  CHECK(locks.stripe(order[1]).available() == 1);
}

TEST_CASE("two lock sets declared in opposite orders do not deadlock") {
  runtime::Scheduler s;
  KeyLocks locks;
  auto [a, b] = keys_on_two_stripes();
  KeyLockSet first, second;
  first.add(0, a);
  first.add(0, b);
  second.add(0, b);
  second.add(0, a);
  int done = 0;
  for (KeyLockSet* set : {&first, &second}) {
    s.spawn([&, set] {
      for (int round = 0; round < 20; ++round) {
        set->lock(locks);
        runtime::this_fiber::yield();  // hold across a suspension, as an engine write does
        set->unlock(locks);
        runtime::this_fiber::yield();
      }
      ++done;
    });
  }
  for (int i = 0; i < 1000 && s.live_fibers() > 0; ++i) s.run_round();
  CHECK(done == 2);
}

TEST_CASE("a single-key lock waits for a lock set holding its stripe") {
  runtime::Scheduler s;
  KeyLocks locks;
  KeyLockSet set;
  set.add(3, "k");
  bool single_got_it = false;
  s.spawn([&] { set.lock(locks); });
  s.run_round();
  s.spawn([&] {
    locks.stripe_for(3, "k").acquire();
    single_got_it = true;
    locks.stripe_for(3, "k").release();
  });
  s.run_round();
  CHECK_FALSE(single_got_it);
  set.unlock(locks);
  for (int i = 0; i < 10 && s.live_fibers() > 0; ++i) s.run_round();
  CHECK(single_got_it);
}

TEST_CASE("a lock set waits until no blind write is in flight on its stripes") {
  runtime::Scheduler s;
  KeyLocks locks;
  const std::size_t stripe = KeyLocks::stripe_index(0, "hot");
  enter_blind_write(locks, stripe);
  bool second_blind_entered = false;
  s.spawn([&] {  // another blind writer is not held back by the first one's write
    enter_blind_write(locks, stripe);
    second_blind_entered = true;
  });
  s.run_round();
  CHECK(second_blind_entered);
  KeyLockSet set;
  set.add(0, "hot");
  s.spawn([&] { set.lock(locks); });
  for (int i = 0; i < 5; ++i) s.run_round();
  CHECK_FALSE(set.locked());  // a reader waits for both writes
  locks.end_blind_write(stripe);
  for (int i = 0; i < 5; ++i) s.run_round();
  CHECK_FALSE(set.locked());
  locks.end_blind_write(stripe);
  for (int i = 0; i < 10 && s.live_fibers() > 0; ++i) s.run_round();
  CHECK(set.locked());
  set.unlock(locks);
}

TEST_CASE("try_lock takes every stripe when all are free, and none when one is held") {
  runtime::Scheduler s;
  KeyLocks locks;
  // References, not a structured binding: a fiber below captures `a`, which clang 14 (the
  // sanitizer build's compiler) does not allow of a binding.
  const auto keys = keys_on_two_stripes();
  const std::string& a = keys.first;
  const std::string& b = keys.second;
  KeyLockSet set;
  set.add(0, a);
  set.add(0, b);
  const std::size_t sa = KeyLocks::stripe_index(0, a), sb = KeyLocks::stripe_index(0, b);
  // The higher stripe held by someone else: the lower one, taken first, goes back.
  const std::size_t held = std::max(sa, sb), other = std::min(sa, sb);
  locks.stripe(held).acquire();
  bool first = true, second = false;
  s.spawn([&] { first = set.try_lock(locks, true); });
  s.run_round();
  CHECK_FALSE(first);
  CHECK_FALSE(set.locked());
  CHECK(locks.stripe(other).available() == 1);
  locks.stripe(held).release();
  s.spawn([&] { second = set.try_lock(locks, true); });
  s.run_round();
  CHECK(second);
  CHECK(set.locked());
  CHECK(locks.stripe(sa).available() == 0);
  CHECK(locks.stripe(sb).available() == 0);
  // Fenced: a plain read waits until the set is unlocked.
  bool read = false;
  s.spawn([&] {
    locks.wait_unfenced(0, a);
    read = true;
  });
  s.run_round();
  CHECK_FALSE(read);
  set.unlock(locks);
  for (int i = 0; i < 10 && s.live_fibers() > 0; ++i) s.run_round();
  CHECK(read);
  CHECK(locks.stripe(sa).available() == 1);
}

TEST_CASE("try_lock waits for blind writes in flight on the stripes it took") {
  runtime::Scheduler s;
  KeyLocks locks;
  const std::size_t stripe = KeyLocks::stripe_index(0, "hot");
  enter_blind_write(locks, stripe);
  KeyLockSet set;
  set.add(0, "hot");
  bool took = false;
  s.spawn([&] { took = set.try_lock(locks); });
  for (int i = 0; i < 5; ++i) s.run_round();
  CHECK_FALSE(took);  // holds the stripe, waiting for the write to be acknowledged
  locks.end_blind_write(stripe);
  for (int i = 0; i < 10 && s.live_fibers() > 0; ++i) s.run_round();
  CHECK(took);
  CHECK(set.locked());
}
