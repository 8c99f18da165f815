// See listener.h.
#include "src/server/listener.h"

#include <malloc.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <sstream>
#include <utility>

#include "src/runtime/scheduler.h"
#include "src/runtime/shard.h"
#include "src/runtime/socket.h"
#include "src/server/connection.h"
#include "src/server/error_replies.h"
#include "src/server/server_state.h"
#include "src/server/shard_state.h"

namespace cascade::server {
namespace {

using runtime::Socket;

// A client past maxclients: tell it why, then close. A fresh socket's send buffer is
// empty, so the send does not wait; the timeout only bounds a pathological peer.
void reject_client(Socket& socket) {
  std::string reply = "-" + std::string(kErrMaxClients) + "\r\n";
  (void)socket.send_all(std::as_bytes(std::span(reply.data(), reply.size())),
                        std::chrono::seconds(1));
  (void)socket.close();
}

void adopt_moved_client(ServerState& server, ShardState& shard, ClientHandoff moved);

// The client fiber, for an accepted client and for one moved here from another shard; the
// connection is already in this shard's registry. Serves the client, then either frees its
// place among maxclients or hands it to the shard of its keys.
void spawn_connection(ServerState& server, ShardState& shard,
                      std::unique_ptr<Connection> connection) {
  shard.fibers().add();
  // std::function needs a copyable callable: the connection travels by pointer.
  runtime::Scheduler::current()->spawn(
      [&server, &shard, raw = connection.release()] {
        std::unique_ptr<Connection> connection(raw);
        connection->run();
        if (std::optional<ClientHandoff> moving = connection->take_handoff()) {
          const runtime::ShardId target = moving->target;
          const std::uint64_t id = connection->client().id;
          // The next shard registers the client before this one drops it (connection.h).
          auto moved = std::make_shared<ClientHandoff>(std::move(*moving));
          (void)server.runtime()
              .submit(target, [&server, moved] {
                adopt_moved_client(server, server.this_shard(), std::move(*moved));
              })
              .get();
          if (connection->closing()) {
            // CLIENT KILL or a shutdown reached this shard's entry meanwhile: pass it on.
            (void)server.runtime().post(target, [&server, id] {
              if (Connection* c = server.this_shard().find_connection(id)) c->request_close();
            });
          }
          connection.reset();  // leaves this shard's registry...
          server.count_finished_move();  // ...and counts that, with no suspension between
        } else {
          server.release_client();
          connection.reset();  // leaves this shard's registry
        }
        shard.fibers().done();
      },
      {.name = "client"});
}

void serve_client(ServerState& server, ShardState& shard, Socket socket) {
  if (shard.stopping()) {
    (void)socket.close();
    return;
  }
  if (!server.try_admit(shard.config().maxclients)) {
    ++shard.stats().rejected_connections;
    reject_client(socket);
    return;
  }
  // Registered now, not when its fiber first runs: a shutdown or CLIENT KILL between the
  // two would miss it.
  auto connection = std::make_unique<Connection>(server, shard, std::move(socket));
  server.logger().verbose("Accepted {}", connection->client().addr);
  spawn_connection(server, shard, std::move(connection));
}

// On the shard a connection moves to (Connection::should_move), in a call from the shard it
// leaves: the client keeps its place among maxclients, so only a shard already stopping
// closes it here.
void adopt_moved_client(ServerState& server, ShardState& shard, ClientHandoff moved) {
  Socket socket = Socket::adopt(moved.socket.release());
  if (shard.stopping()) {
    (void)socket.close();
    server.release_client();
    return;
  }
  spawn_connection(server, shard,
                   std::make_unique<Connection>(server, shard, std::move(socket), std::move(moved)));
}

void accept_loop(ServerState& server, ShardState& shard, Socket& listener) {
  while (!shard.stopping()) {
    Result<Socket> accepted = listener.accept();
    if (!accepted) {
      if (accepted.error().is_cancelled() || shard.stopping()) break;
      server.logger().warning("Accepting client connection: {}", accepted.error().message());
      // Out of descriptors or memory: give closing clients a moment instead of spinning.
      runtime::Shard::current()->sleep_for_or_stop(std::chrono::milliseconds(100));
      continue;
    }
    ++shard.stats().connections_received;
    serve_client(server, shard, std::move(*accepted));
  }
  (void)listener.close();
}

}  // namespace

std::vector<std::string> bind_addresses(const std::string& bind) {
  std::vector<std::string> out;
  std::istringstream words(bind);
  for (std::string word; words >> word;) {
    if (word.starts_with("-")) word.erase(0, 1);
    if (word == "*") word = "0.0.0.0";  // Redis's wildcards: every IPv4 / IPv6 address
    if (word == "::*") word = "::";
    if (!word.empty()) out.push_back(word);
  }
  return out;
}

Status open_listeners(ShardState& shard, const ServerConfig& config) {
  for (const std::string& address : bind_addresses(config.bind)) {
    runtime::ListenOptions options;
    options.address = address;
    options.port = static_cast<std::uint16_t>(config.port);
    // One listening socket shared by every shard (share_listeners), not SO_REUSEPORT: with
    // it a second server of the same user could bind the same port and take connections.
    options.reuse_port = false;
    Result<Socket> listener = Socket::listen(options);
    if (!listener) {
      return Status(listener.error().code(), "Could not create server TCP listening socket " +
                                                 address + ":" + std::to_string(config.port) +
                                                 ": " + listener.error().message());
    }
    shard.listeners().push_back(std::move(*listener));
  }
  if (shard.listeners().empty()) return Status::invalid_argument("bind names no address");
  return Status::ok();
}

Status share_listeners(ShardState& shard, ShardState& first) {
  for (const Socket& listener : first.listeners()) {
    Result<Socket> copy = listener.duplicate();
    if (!copy) return copy.error();
    shard.listeners().push_back(std::move(*copy));
  }
  return Status::ok();
}

void start_accepting(ServerState& server, ShardState& shard) {
  // Redis frees an idle client's query buffer after 2 s too (its client cron).
  static constexpr runtime::Duration kTrimPeriod = std::chrono::seconds(1);
  static constexpr runtime::Duration kIdleTrimAfter = std::chrono::seconds(2);
  static constexpr std::size_t kReturnToKernelAfter = 1 << 20;
  static constexpr runtime::Duration kFreePause = std::chrono::milliseconds(100);
  shard.fibers().add();
  runtime::Scheduler::current()->spawn(
      [&shard] {
        const runtime::Shard* here = runtime::Shard::current();
        while (!shard.stopping() && !here->stop_requested()) {
          if (shard.stop_event().wait_for(kTrimPeriod)) break;
          const std::size_t freed = shard.trim_idle_connections(runtime::Clock::now(), kIdleTrimAfter);
          // glibc keeps freed chunks resident (it returns only the top of a heap): after a
          // large release, have it give the free pages inside its heaps back to the
          // kernel. First a pause: the input buffers are freed by their own fibers once
          // their interrupted recvs return. A few milliseconds at most once a second, and
          // only while idle clients give back megabytes.
          if (freed >= kReturnToKernelAfter) {
            if (shard.stop_event().wait_for(kFreePause)) break;
            ::malloc_trim(0);
          }
        }
        shard.fibers().done();
      },
      {.name = "idle-trimmer"});
  for (Socket& listener : shard.listeners()) {
    shard.fibers().add();
    runtime::Scheduler::current()->spawn(
        [&server, &shard, &listener] {
          accept_loop(server, shard, listener);
          shard.fibers().done();
        },
        {.name = "listener"});
  }
}

}  // namespace cascade::server
