#include "src/runtime/mutex.h"

#include <doctest/doctest.h>

#include <vector>

#include "src/runtime/scheduler.h"

using namespace cascade::runtime;

TEST_CASE("try_lock fails while another fiber holds the mutex and succeeds after unlock") {
  Scheduler s;
  Mutex m;
  bool holder_locked = false, other_first = true, other_second = false;
  s.spawn([&] {
    holder_locked = m.try_lock();
    s.yield();
    s.yield();
    m.unlock();
  });
  s.spawn([&] {
    other_first = m.try_lock();
    s.yield();
    s.yield();  // the holder unlocked during this round
    other_second = m.try_lock();
    if (other_second) m.unlock();
  });
  CHECK(s.run());
  CHECK(holder_locked);
  CHECK_FALSE(other_first);
  CHECK(other_second);
  CHECK_FALSE(m.is_locked());
}

TEST_CASE("waiters acquire the mutex in the order they asked for it") {
  Scheduler s;
  Mutex m;
  std::vector<int> order;
  s.spawn([&] {
    m.lock();
    s.yield();  // everyone else queues up meanwhile
    order.push_back(0);
    m.unlock();
  });
  for (int i = 1; i <= 5; ++i) {
    s.spawn([&, i] {
      m.lock();
      order.push_back(i);
      s.yield();  // holding it across a yield must not let anyone in
      m.unlock();
    });
  }
  CHECK(s.run());
  CHECK(order == std::vector<int>{0, 1, 2, 3, 4, 5});
}

TEST_CASE("unlock hands the mutex to the waiter so the unlocker cannot barge back in") {
  Scheduler s;
  Mutex m;
  bool relock = true, newcomer = true;
  std::vector<char> order;
  s.spawn([&] {
    m.lock();
    s.yield();  // the waiter queues
    m.unlock();
    relock = m.try_lock();  // the waiter has not run yet but already owns it
    m.lock();               // so this queues behind it
    order.push_back('a');
    m.unlock();
  });
  s.spawn([&] {
    m.lock();
    order.push_back('b');
    m.unlock();
  });
  s.run_round();
  s.run_round();  // 'a' unlocked, failed try_lock and queued; 'b' is ready, not yet run
  CHECK(m.is_locked());
  s.spawn([&] { newcomer = m.try_lock(); });
  CHECK(s.run());
  CHECK_FALSE(relock);
  CHECK_FALSE(newcomer);
  CHECK(order == std::vector<char>{'b', 'a'});
}

TEST_CASE("a mutex keeps a counter consistent across 1000 fibers that yield while holding it") {
  Scheduler s;
  Mutex m;
  long counter = 0;
  int inside = 0, max_inside = 0;
  constexpr int kFibers = 1000, kRounds = 3;
  for (int i = 0; i < kFibers; ++i) {
    s.spawn([&] {
      for (int r = 0; r < kRounds; ++r) {
        MutexGuard guard(m);
        max_inside = std::max(max_inside, ++inside);
        long seen = counter;
        s.yield();  // without the lock every other fiber would read the same value here
        counter = seen + 1;
        --inside;
      }
    });
  }
  CHECK(s.run());
  CHECK(counter == kFibers * kRounds);
  CHECK(max_inside == 1);
  CHECK_FALSE(m.is_locked());
}

TEST_CASE("the guard unlocks the mutex when it leaves scope") {
  Scheduler s;
  Mutex m;
  bool held_inside = false;
  s.spawn([&] {
    {
      MutexGuard guard(m);
      held_inside = m.is_locked();
    }
    CHECK(m.try_lock());
    m.unlock();
  });
  CHECK(s.run());
  CHECK(held_inside);
  CHECK_FALSE(m.is_locked());
}
