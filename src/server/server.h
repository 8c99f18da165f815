// Server: starts and stops the serving machinery over a ServerState: the Runtime with one
// shard per configured core, and on every shard its engine, listeners and client fibers.
//
// Starting: the runtime, then every shard's engine (shard_storage.h); only once all opened
// do the listeners open, so no client ever reaches a shard without its data. A shard whose
// engine fails to open (corruption, IO) fails start() with a message naming it.
//
// Stopping (stop(), from the main thread) is graceful, in this order:
//   1. on every shard at once: stop accepting (listeners cancelled) and ask every
//      connection to close: one waiting for input closes now, a busy one after sending the
//      replies of the batch it is in;
//   2. wait up to `grace` for every connection fiber to end; past it, abandon the sends
//      still in progress (a client that does not read its replies cannot hold shutdown);
//   3. once no connection is left on any shard (a command may be running on another
//      shard than its connection's, so this waits for all of them first), close every
//      shard's engine: it syncs and closes its WAL;
//   4. stop the runtime (runtime.h: quiesce, end the shard threads).
#pragma once

#include <memory>

#include "src/runtime/result.h"
#include "src/runtime/runtime.h"
#include "src/server/server_state.h"

namespace cascade::server {

class Server {
 public:
  explicit Server(ServerState& state) : state_(state) {}
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Starts the shards and their listeners. On failure nothing is left running.
  Status start();
  void stop(runtime::Duration grace);

 private:
  ServerState& state_;
  std::unique_ptr<runtime::Runtime> runtime_;
};

}  // namespace cascade::server
