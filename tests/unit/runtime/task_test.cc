#include "src/runtime/task.h"

#include <doctest/doctest.h>

#include <array>
#include <memory>
#include <utility>

using namespace cascade::runtime;

TEST_CASE("a task runs a move-only callable and destroys its captures with the task") {
  auto tracker = std::make_shared<int>(7);
  int seen = 0;
  {
    Task t([p = std::make_unique<int>(5), tracker, &seen] { seen = *p + *tracker; });
    CHECK(tracker.use_count() == 2);
    Task moved = std::move(t);
    CHECK_FALSE(t);
    REQUIRE(moved);
    moved();
    CHECK(seen == 12);
  }
  CHECK(tracker.use_count() == 1);
}

TEST_CASE("a task keeps small callables inline and large ones on the heap, both work") {
  struct Small {
    int* out;
    void operator()() { *out = 1; }
  };
  struct Large {
    std::array<char, 200> bytes{};
    int* out;
    void operator()() { *out = 2 + bytes[0]; }
  };
  CHECK(Task::stored_inline<Small>());
  CHECK_FALSE(Task::stored_inline<Large>());

  int out = 0;
  Task small(Small{&out});
  Task large(Large{{}, &out});
  Task a = std::move(small);
  Task b;
  b = std::move(large);
  a();
  CHECK(out == 1);
  b();
  CHECK(out == 2);
}

TEST_CASE("reset and move-assignment destroy the callable a task held") {
  auto tracker = std::make_shared<int>(0);
  Task t([tracker] {});
  CHECK(tracker.use_count() == 2);
  t = Task([] {});
  CHECK(tracker.use_count() == 1);
  Task u([tracker] {});
  u.reset();
  CHECK_FALSE(u);
  CHECK(tracker.use_count() == 1);
}
