// Test support for the IO tests: a Scheduler and a Reactor on the calling thread, driven the
// way a shard drives them, and a temporary directory that removes itself.
#pragma once

#include <doctest/doctest.h>

#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <string>

#include "src/runtime/reactor.h"
#include "src/runtime/scheduler.h"

namespace cascade::runtime::testing {

struct IoLoop {
  Scheduler sched;
  Reactor reactor;

  explicit IoLoop(ReactorOptions options = {}) : reactor(options) {
    Status s = reactor.init();
    REQUIRE_MESSAGE(s.is_ok(), s.to_string());
  }

  // The shard loop: run fibers, then submit/reap (sleeping when nothing is ready) until
  // every fiber finished. False if `limit` passed first (a hang in the code under test).
  bool run(Duration limit = std::chrono::seconds(30)) {
    TimePoint give_up = Clock::now() + limit;
    while (sched.live_fibers() > 0) {
      if (Clock::now() > give_up) return false;
      sched.run_round();
      if (sched.live_fibers() == 0) break;  // else poll would sleep with nothing to wait for
      auto deadline = sched.next_deadline();
      if (!deadline || *deadline > give_up) deadline = give_up;
      reactor.poll(!sched.has_ready(), deadline);
    }
    return true;
  }
};

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/cascade-test-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace cascade::runtime::testing
