// Starting and stopping the shards. The protocol is described in runtime.h.
#include "src/runtime/runtime.h"

#include <algorithm>
#include <chrono>
#include <thread>

namespace cascade::runtime {

Runtime::Runtime(RuntimeOptions options) : options_(std::move(options)) {}

Runtime::~Runtime() { stop(); }

Status Runtime::start() {
  if (running_ || !shards_.empty()) return Status::invalid_argument("runtime already started");
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  const std::size_t n = options_.shards != 0 ? options_.shards : cores;
  std::vector<Shard*> peers;
  for (ShardId id = 0; id < n; ++id) {
    ShardOptions shard_options = options_.shard;
    if (options_.pin) shard_options.pin_to_cpu = id % cores;
    shards_.push_back(std::make_unique<Shard>(*this, id, n, std::move(shard_options)));
    peers.push_back(shards_.back().get());
  }
  for (auto& shard : shards_) shard->connect(peers);

  for (std::size_t started = 0; started < n; ++started) {
    Status s = shards_[started]->start();
    if (!s) {
      for (std::size_t i = 0; i < started; ++i) shards_[i]->release(false);
      shards_.clear();  // joins the released threads
      return s;
    }
  }
  for (auto& shard : shards_) shard->release(true);
  running_ = true;
  accepting_.store(true, std::memory_order_seq_cst);
  return Status::ok();
}

Runtime::OutsideCall::OutsideCall(Runtime& rt) : rt_(rt) {
  // Announce first, then look at accepting_: stop() clears accepting_ and then waits for the
  // count to reach zero, so (both seq_cst) either it sees this call or this call sees it.
  rt_.outside_calls_.fetch_add(1, std::memory_order_seq_cst);
  admitted_ = rt_.accepting_.load(std::memory_order_seq_cst);
  if (!admitted_) rt_.outside_calls_.fetch_sub(1, std::memory_order_seq_cst);
}

Runtime::OutsideCall::~OutsideCall() {
  if (admitted_ && rt_.outside_calls_.fetch_sub(1, std::memory_order_seq_cst) == 1) {
    rt_.outside_calls_.notify_all();
  }
}

void Runtime::stop() {
  if (!running_) return;
  assert(local_shard() == nullptr && "stop() from a shard of this runtime would join itself");
  accepting_.store(false, std::memory_order_seq_cst);
  for (std::uint32_t n; (n = outside_calls_.load(std::memory_order_seq_cst)) != 0;) {
    outside_calls_.wait(n);  // admitted outside calls are waiting for lane space; shards drain
  }
  for (auto& shard : shards_) shard->request_stop();
  wait_until_quiescent();
  for (auto& shard : shards_) shard->request_exit();
  for (auto& shard : shards_) shard->join();
  running_ = false;
}

// Polls the shards' activity snapshots; see runtime.h, step 3. Stopping is rare, so a
// short sleep between snapshots is cheaper than a wake-up channel from every shard.
void Runtime::wait_until_quiescent() {
  std::vector<std::uint64_t> previous;
  std::vector<std::uint64_t> current;
  bool previous_quiet = false;
  auto pause = std::chrono::microseconds(50);
  for (;;) {
    current.clear();
    bool quiet = true;
    for (auto& shard : shards_) quiet = shard->snapshot_activity(current) && quiet;
    if (quiet && previous_quiet && current == previous) return;
    previous.swap(current);
    previous_quiet = quiet;
    std::this_thread::sleep_for(pause);
    pause = std::min<std::chrono::microseconds>(pause * 2, std::chrono::milliseconds(2));
  }
}

}  // namespace cascade::runtime
