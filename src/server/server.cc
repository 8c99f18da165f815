// See server.h for the stopping order.
#include "src/server/server.h"

#include "src/server/listener.h"
#include "src/server/multi_shard_recovery.h"
#include "src/server/shard_storage.h"

namespace cascade::server {

Server::~Server() { stop(runtime::Duration::zero()); }

Status Server::start() {
  runtime::RuntimeOptions options;
  options.shards = state_.shard_count();
  // No busy-polling before a shard sleeps. The spin saves a wake-up per cross-shard call
  // when cores are spare, but a server shares its cores with its clients, and on the 2-core
  // machine a spinning shard took ~16% of the server's CPU (perf) from redis-benchmark:
  // without it, SET and GET ran 35-70% faster, pipelined or not (side by side, medians of
  // 3). Pipelines' cross-shard calls are batched anyway (commands/key_batch.h).
  options.shard.idle_spin = runtime::Duration::zero();
  runtime_ = std::make_unique<runtime::Runtime>(options);
  if (Status s = runtime_->start(); !s) {
    runtime_.reset();
    return s;
  }
  state_.attach_runtime(runtime_.get());
  ServerState& state = state_;
  auto storage = runtime_->run_on_each([&state]() -> Status {
    ShardState& shard = state.this_shard();
    const ServerConfig config = shard.config();  // a copy: opening suspends
    return open_shard_storage(shard, config, state.logger());
  });
  for (Status& s : storage) {
    if (!s) {
      stop(runtime::Duration::zero());
      return s;
    }
  }
  if (Status s = recover_multi_shard_writes(state); !s) {
    state.logger().warning("Could not finish interrupted multi-shard writes: {}", s.to_string());
    stop(runtime::Duration::zero());
    return s;
  }
  // Shard 0 binds; the others accept from duplicates of its sockets (listener.h).
  auto opened = runtime_->run_on_each([&state]() -> Status {
    ShardState& shard = state.this_shard();
    if (runtime::this_shard_id() != 0) return Status::ok();
    return open_listeners(shard, shard.config());
  });
  if (!opened[0]) {
    stop(runtime::Duration::zero());
    return opened[0];
  }
  opened = runtime_->run_on_each([&state]() -> Status {
    ShardState& shard = state.this_shard();
    if (runtime::this_shard_id() != 0) {
      if (Status s = share_listeners(shard, state.shard(0)); !s) return s;
    }
    start_accepting(state, shard);
    return Status::ok();
  });
  for (Status& s : opened) {
    if (!s) {
      stop(runtime::Duration::zero());
      return s;
    }
  }
  return Status::ok();
}

void Server::stop(runtime::Duration grace) {
  if (!runtime_) return;
  ServerState& state = state_;
  (void)runtime_->run_on_each([&state, grace]() -> Status {
    ShardState& shard = state.this_shard();
    shard.begin_stop();
    if (!shard.fibers().wait_for(grace)) {
      state.logger().warning("Closing {} client(s) that did not take their replies in time",
                             shard.connections().size());
      shard.force_close_connections();
      shard.fibers().wait();
    }
    return Status::ok();
  });
  // Work the connections left posted without waiting must run before the storage closes:
  // a multi-shard transaction's stripe releases (a stripe left held could stall the expiry
  // sweeper that close() waits for), the clean-up of multi-shard records and, once that
  // has drained, its marker deletes (src/commands/shard_commit.cc). A shard's messages to
  // another run in the order sent, so a round trip from every shard to every shard comes
  // after everything each posted before it; the clean-up counts among the shard's fibers.
  runtime::Runtime* runtime = runtime_.get();
  auto flush_posts = [runtime] {
    (void)runtime->run_on_each([runtime]() -> Status {
      (void)runtime->run_on_each([] { return Status::ok(); });
      return Status::ok();
    });
  };
  flush_posts();
  (void)runtime_->run_on_each([&state]() -> Status {
    state.this_shard().fibers().wait();
    return Status::ok();
  });
  flush_posts();
  (void)runtime_->run_on_each([&state]() -> Status {
    close_shard_storage(state.this_shard(), state.logger());
    return Status::ok();
  });
  runtime_->stop();
  state_.attach_runtime(nullptr);
  runtime_.reset();
}

}  // namespace cascade::server
