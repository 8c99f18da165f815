// WatchRegistry's bookkeeping: touches, expiry deadlines, unwatch, flush candidates.
#include "src/types/watch_registry.h"

#include <doctest/doctest.h>

#include <algorithm>

using cascade::types::WatchRegistry;

TEST_CASE("a touch marks every client watching the key, and only them") {
  WatchRegistry watches;
  watches.watch(1, 0, "k", std::nullopt);
  watches.watch(2, 0, "k", std::nullopt);
  watches.watch(3, 0, "other", std::nullopt);
  watches.watch(4, 1, "k", std::nullopt);  // the same name in another database
  watches.touch(0, "k");
  CHECK(watches.changed(1, 0));
  CHECK(watches.changed(2, 0));
  CHECK_FALSE(watches.changed(3, 0));
  CHECK_FALSE(watches.changed(4, 0));
  CHECK_FALSE(watches.changed(99, 0));  // a client watching nothing
}

TEST_CASE("a write staged by a client's own EXEC leaves that client's watches alone") {
  WatchRegistry watches;
  watches.watch(1, 0, "k", std::nullopt);
  watches.watch(2, 0, "k", std::nullopt);
  watches.touch(0, "k", /*writer=*/1);
  CHECK_FALSE(watches.changed(1, 0));
  CHECK(watches.changed(2, 0));
}

TEST_CASE("a recorded expiry counts as a change once it has passed") {
  WatchRegistry watches;
  watches.watch(1, 0, "volatile", 1000);
  watches.watch(1, 0, "persistent", std::nullopt);
  CHECK_FALSE(watches.changed(1, 999));
  CHECK(watches.changed(1, 1000));
}

TEST_CASE("unwatch forgets the client's keys and drops keys nobody watches") {
  WatchRegistry watches;
  watches.watch(1, 0, "a", std::nullopt);
  watches.watch(1, 0, "a", 5);  // watched twice: the first watch stays
  watches.watch(2, 0, "a", std::nullopt);
  watches.watch(1, 0, "b", std::nullopt);
  CHECK_FALSE(watches.changed(1, 10));
  CHECK(watches.watched_keys() == 2);
  watches.touch(0, "b");
  watches.unwatch(1);
  CHECK_FALSE(watches.changed(1, 0));  // a new WATCH starts clean
  CHECK(watches.watched_keys() == 1);
  watches.touch(0, "a");
  CHECK(watches.changed(2, 0));
  watches.unwatch(2);
  CHECK(watches.empty());
  CHECK(watches.watched_keys() == 0);
}

TEST_CASE("watched_in lists one database's watched keys for a flush") {
  WatchRegistry watches;
  watches.watch(1, 0, "a", std::nullopt);
  watches.watch(2, 0, "a", std::nullopt);
  watches.watch(1, 3, "b", std::nullopt);
  CHECK(watches.watched_in(0) == std::vector<std::string>{"a"});
  CHECK(watches.watched_in(3) == std::vector<std::string>{"b"});
  CHECK(watches.watched_in(1).empty());
}
