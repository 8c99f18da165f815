// See blocking.h for the protocol.
#include "src/commands/blocking.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <string>

#include "src/server/error_replies.h"
#include "src/types/key_slot.h"

namespace cascade::commands {

using server::BlockedWaiter;
using server::Connection;

namespace {

constexpr std::string_view kErrTimeoutNegative = "ERR timeout is negative";
constexpr std::string_view kErrTimeoutNotFloat = "ERR timeout is not a float or out of range";
constexpr std::string_view kErrUnblocked = "UNBLOCKED client unblocked via CLIENT UNBLOCK";
// Redis reads a long double from at most this many characters.
constexpr std::size_t kMaxTimeoutChars = 5 * 1024;

// Rings the bell of `w` on its connection's shard (blocking.h, step 4).
void ring(server::ServerState& server, const BlockedWaiter& w) {
  server::ServerState* s = &server;
  (void)server.runtime().post(w.shard, [s, w]() {
    if (Connection* c = s->this_shard().find_connection(w.client_id)) c->block_signal(w.wait, w.key_index);
  });
}

runtime::ShardId shard_of(server::ServerState& server, std::string_view key) {
  return static_cast<runtime::ShardId>(types::key_shard(key, server.shard_count()));
}

// Runs fn() on key's shard and waits for it (inline when it is this shard).
template <typename Fn>
void on_key_shard(server::ServerState& server, std::string_view key, Fn fn) {
  (void)server.runtime().submit(shard_of(server, key), fn).get();
}

}  // namespace

// ---- waking ---------------------------------------------------------------------------------

void wake_blocked_keys(server::ServerState& server, std::uint32_t db,
                       std::span<const std::string_view> keys) {
  server::BlockedKeys& blocked = server.this_shard().blocked_keys();
  for (std::string_view key : keys) {
    for (const BlockedWaiter& w : blocked.signal(db, key)) ring(server, w);
  }
}

void wake_blocked_here(server::ServerState& server, const KeyTarget& t) {
  if (t.txn != nullptr) return;
  const std::string_view key = t.key;
  wake_blocked_keys(server, t.db, std::span<const std::string_view>(&key, 1));
}

// ---- the timeout argument -------------------------------------------------------------------

// Redis 7.0 reads the seconds as a long double (no leading space, nothing trailing, not NaN,
// no overflow), multiplies by 1000, rounds up (0.001 s is 0.99999... ms as a long double:
// one millisecond, not zero = forever) and converts to a 64-bit integer: a product out of
// that range converts to INT64_MIN on x86 and reads as negative; one in (-1, 0] rounds to 0
// and waits forever. Both are kept.
bool parse_block_timeout(server::CommandContext& ctx, std::string_view text,
                         std::optional<runtime::TimePoint>& deadline) {
  if (text.empty() || text.size() >= kMaxTimeoutChars ||
      std::isspace(static_cast<unsigned char>(text.front()))) {
    ctx.error(kErrTimeoutNotFloat);
    return false;
  }
  const std::string buf(text);
  char* end = nullptr;
  errno = 0;
  const long double seconds = std::strtold(buf.c_str(), &end);
  const bool range_error =
      errno == ERANGE && (seconds == HUGE_VALL || seconds == -HUGE_VALL || seconds == 0);
  if (*end != '\0' || range_error || std::isnan(seconds)) {
    ctx.error(kErrTimeoutNotFloat);
    return false;
  }
  const long double ms = std::ceil(seconds * 1000.0L);
  if (!(ms > -9223372036854775808.0L && ms < 9223372036854775807.0L) ||
      static_cast<std::int64_t>(ms) < 0) {
    ctx.error(kErrTimeoutNegative);
    return false;
  }
  const auto millis = static_cast<std::int64_t>(ms);
  deadline.reset();
  if (millis > 0) {
    const runtime::TimePoint now = runtime::Clock::now();
    const auto room = std::chrono::duration_cast<std::chrono::milliseconds>(
        runtime::TimePoint::max() - now).count();
    deadline = millis >= room ? runtime::TimePoint::max() : now + std::chrono::milliseconds(millis);
  }
  return true;
}

// ---- the session ----------------------------------------------------------------------------

std::vector<std::string_view> distinct_keys(std::span<const std::string_view> keys) {
  std::vector<std::string_view> out;
  for (std::string_view key : keys) {
    bool seen = false;
    for (std::string_view kept : out) seen = seen || kept == key;
    if (!seen) out.push_back(key);
  }
  return out;
}

BlockingSession::BlockingSession(server::CommandContext& ctx,
                                 std::span<const std::string_view> keys, types::KeyType kind)
    : ctx_(ctx), keys_(keys), kind_(kind), db_(static_cast<std::uint32_t>(ctx.client.db)),
      client_id_(ctx.client.id) {}

BlockingSession::~BlockingSession() { leave(); }

void BlockingSession::enroll() {
  wait_ = ctx_.connection.begin_block(keys_.size());
  enrolled_ = true;
  const runtime::ShardId home = ctx_.shard.id();
  server::ServerState& server = ctx_.server;
  for (std::size_t i = 0; i < keys_.size(); ++i) {
    const BlockedWaiter waiter{.client_id = client_id_, .wait = wait_, .shard = home,
                               .key_index = static_cast<std::uint32_t>(i), .kind = kind_};
    const std::string_view key = keys_[i];
    on_key_shard(server, key, [&server, this, key, waiter]() {
      server.this_shard().blocked_keys().add(db_, key, waiter);
    });
  }
}

void BlockingSession::leave() {
  if (!enrolled_) return;
  enrolled_ = false;
  server::ServerState& server = ctx_.server;
  for (std::string_view key : keys_) {
    on_key_shard(server, key, [&server, this, key]() {
      server::BlockedKeys& blocked = server.this_shard().blocked_keys();
      if (!blocked.remove(db_, key, client_id_, wait_)) return;
      for (const BlockedWaiter& next : blocked.signal(db_, key)) ring(server, next);
    });
  }
  ctx_.connection.end_block();
}

bool BlockingSession::my_turn_here(std::size_t i) {
  return !ctx_.server.this_shard().blocked_keys().begin_retry(db_, keys_[i], client_id_, wait_);
}

bool blocking_turn(server::CommandContext& ctx, const KeyTarget& t, BlockingSession* session,
                   std::size_t index, types::KeyType kind) {
  if (session != nullptr) return session->my_turn_here(index);
  // Inside EXEC the transaction holds the key, and its clients blocked on the key are
  // served after the commit: an element there (added earlier in the EXEC) is this one's.
  if (ctx.exec != nullptr) return true;
  return !ctx.server.this_shard().blocked_keys().has_waiters(t.db, t.key, kind);
}

Connection::BlockWake BlockingSession::wait(std::optional<runtime::TimePoint> deadline) {
  return ctx_.connection.block_wait(deadline);
}

std::vector<std::size_t> BlockingSession::take_signals() {
  return ctx_.connection.take_block_signals();
}

// ---- the driver -----------------------------------------------------------------------------

namespace {

bool served(const KeyReply& reply) {
  return reply.kind != KeyReply::Kind::kNull && reply.kind != KeyReply::Kind::kNullArray;
}

}  // namespace

std::optional<KeyReply> run_blocking(server::CommandContext& ctx,
                                     std::span<const std::string_view> keys, types::KeyType kind,
                                     std::optional<runtime::TimePoint> deadline,
                                     const BlockingTry& try_key, KeyReply timed_out) {
  for (std::size_t i = 0; i < keys.size(); ++i) {
    KeyReply reply = try_key(i, nullptr);
    if (served(reply)) return reply;
  }
  // Inside EXEC it never waits (command_context.h): as if the timeout had passed at once.
  if (ctx.exec != nullptr) return timed_out;
  BlockingSession session(ctx, keys, kind);
  session.enroll();
  std::vector<std::size_t> to_try(keys.size());
  for (std::size_t i = 0; i < keys.size(); ++i) to_try[i] = i;
  for (;;) {
    for (std::size_t i : to_try) {
      KeyReply reply = try_key(i, &session);
      if (served(reply)) return reply;  // the session's destructor leaves the queues
    }
    switch (session.wait(deadline)) {
      case Connection::BlockWake::kSignaled:
        to_try = session.take_signals();
        continue;
      case Connection::BlockWake::kUnblockedError:
        return KeyReply::error(kErrUnblocked);
      case Connection::BlockWake::kTimedOut:
      case Connection::BlockWake::kUnblocked:
        return timed_out;
      case Connection::BlockWake::kClosed:
        return std::nullopt;
    }
  }
}

}  // namespace cascade::commands
