// See connection.h for the batch loop and the closing rules.
#include "src/server/connection.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <chrono>
#include <utility>

#include "src/server/client_info.h"
#include "src/server/client_watches.h"
#include "src/server/command_context.h"
#include "src/server/dispatcher.h"
#include "src/server/error_replies.h"
#include "src/server/server_state.h"
#include "src/server/shard_state.h"
#include "src/types/key_slot.h"

namespace cascade::server {
namespace {

// The first read of a connection asks for kFirstRead bytes; each read that fills the room
// it was given doubles the next one, up to kReadChunk. A buffer grown past kReadChunk (a
// large argument) is freed once it is empty.
constexpr std::size_t kFirstRead = 512;
constexpr std::size_t kReadChunk = 16 * 1024;
// A batch whose replies pass this is sent before the rest of the batch runs, so a long
// pipeline of large replies does not pile up in memory.
constexpr std::size_t kFlushThreshold = 256 * 1024;
// Output capacity kept between batches; a buffer grown past it is given back.
constexpr std::size_t kKeptOutputCapacity = 256 * 1024;
constexpr std::size_t kIovecsPerWrite = 64;

// "ip:port" (IPv4) or "[ip]:port" (IPv6), as Redis prints addresses; empty on error.
std::string format_address(const sockaddr_storage& ss) {
  char ip[INET6_ADDRSTRLEN] = {};
  if (ss.ss_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(&ss);
    inet_ntop(AF_INET, &v4->sin_addr, ip, sizeof ip);
    return std::string(ip) + ":" + std::to_string(ntohs(v4->sin_port));
  }
  if (ss.ss_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&ss);
    inet_ntop(AF_INET6, &v6->sin6_addr, ip, sizeof ip);
    return "[" + std::string(ip) + "]:" + std::to_string(ntohs(v6->sin6_port));
  }
  return {};
}

std::string peer_address(int fd, bool local) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  auto* sa = reinterpret_cast<sockaddr*>(&ss);
  if ((local ? ::getsockname(fd, sa, &len) : ::getpeername(fd, sa, &len)) != 0) return {};
  return format_address(ss);
}

}  // namespace

Connection::Connection(ServerState& server, ShardState& shard, runtime::Socket socket)
    : server_(server),
      shard_(shard),
      socket_(std::move(socket)),
      parser_(shard.config().proto_max_bulk_len),
      read_size_(kFirstRead) {
  client_.id = server_.next_client_id();
  client_.fd = socket_.fd();
  if (socket_.is_open()) {
    client_.addr = peer_address(socket_.fd(), false);
    client_.laddr = peer_address(socket_.fd(), true);
  }
  client_.authenticated = shard_.config().requirepass.empty();
  client_.created = client_.last_interaction = runtime::Clock::now();
  key_shard_ = shard_.id();
  // Made after the shard's stop began (begin_stop closed the connections it knew): close.
  closing_ = shard_.stopping();
  shard_.add_connection(client_.id, this);
}

Connection::Connection(ServerState& server, ShardState& shard, runtime::Socket socket,
                       ClientHandoff moved)
    : server_(server),
      shard_(shard),
      socket_(std::move(socket)),
      client_(std::move(moved.client)),
      parser_(shard.config().proto_max_bulk_len),
      read_size_(kFirstRead) {
  set_resp_version(moved.version);
  block_.wait = moved.block_wait;
  key_shard_ = shard_.id();
  closing_ = shard_.stopping();
  shard_.add_connection(client_.id, this);
}

Connection::~Connection() {
  if (reply_wake_) reply_wake_->target = nullptr;
  post_unwatch_all(server_, client_);
  shard_.remove_connection(client_.id);
}

void Connection::set_resp_version(resp::RespVersion version) {
  out_.set_version(version);
  if (discard_) discard_->set_version(version);
}

std::size_t Connection::memory_usage() const {
  std::size_t bytes = sizeof(Connection) + in_.capacity() + out_.buffer().capacity() +
                      parser_.memory_usage();
  if (discard_) bytes += sizeof(resp::ReplyWriter) + discard_->buffer().capacity();
  return bytes;
}

std::size_t Connection::trim_if_idle(runtime::TimePoint now, runtime::Duration idle_after) {
  if (phase_ != Phase::kWaitingForInput || closing_ || now - client_.last_interaction < idle_after) {
    return 0;
  }
  std::size_t freed = 0;
  // Waiting for input means the last batch's replies were all sent, or are owned by a
  // remote batch (commands/key_batch.h): nothing refers to the reply arrays.
  if (out_.buffer().empty()) {
    freed += out_.buffer().capacity();
    out_.buffer().release();
  }
  if (discard_) {
    freed += discard_->buffer().capacity();
    discard_.reset();
  }
  read_size_ = kFirstRead;
  // The recv in flight writes into the input buffer: it is freed by read_some() once the
  // interrupted recv has returned. A pending partial command keeps its buffer.
  if (in_.capacity() > 0 && in_.empty() && !trim_requested_) {
    trim_requested_ = true;
    freed += in_.capacity();
    socket_.interrupt();
  }
  return freed;
}

void Connection::request_close() {
  closing_ = true;
  if (phase_ == Phase::kWaitingForInput) socket_.cancel();
  wake_block();
}

void Connection::force_close() {
  closing_ = true;
  socket_.cancel();
}

// ---- blocking commands ------------------------------------------------------------------

std::uint64_t Connection::begin_block(std::size_t keys) {
  block_.active = true;
  ++block_.wait;
  block_.signaled.assign(keys, false);
  block_.any_signaled = false;
  block_.unblock = Unblock::kNone;
  server_.count_blocked_client(+1);
  return block_.wait;
}

void Connection::end_block() {
  if (!block_.active) return;
  block_.active = false;
  server_.count_blocked_client(-1);
}

void Connection::wake_block() {
  if (block_.polling) socket_.interrupt();
}

void Connection::block_signal(std::uint64_t wait, std::size_t key_index) {
  if (!block_.active || block_.wait != wait || key_index >= block_.signaled.size()) return;
  block_.signaled[key_index] = true;
  block_.any_signaled = true;
  wake_block();
}

bool Connection::block_unblock(bool error) {
  if (!block_.active) return false;
  block_.unblock = error ? Unblock::kError : Unblock::kTimeout;
  wake_block();
  return true;
}

std::vector<std::size_t> Connection::take_block_signals() {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < block_.signaled.size(); ++i) {
    if (block_.signaled[i]) out.push_back(i);
    block_.signaled[i] = false;
  }
  block_.any_signaled = false;
  return out;
}

Connection::BlockWake Connection::block_wait(std::optional<runtime::TimePoint> deadline) {
  for (;;) {
    const runtime::Shard* here = runtime::Shard::current();
    if (closing_ || shard_.stopping() || (here != nullptr && here->stop_requested())) {
      return BlockWake::kClosed;
    }
    if (block_.unblock == Unblock::kError) return BlockWake::kUnblockedError;
    if (block_.unblock == Unblock::kTimeout) return BlockWake::kUnblocked;
    if (block_.any_signaled) return BlockWake::kSignaled;
    if (deadline && runtime::Clock::now() >= *deadline) return BlockWake::kTimedOut;
    if (!socket_.is_open() || socket_.cancelled()) return BlockWake::kClosed;
    block_.polling = true;
    Result<bool> hangup = socket_.wait_hangup(deadline);
    block_.polling = false;
    // The deadline and interruptions are judged by the checks above; anything else (the
    // peer left, the socket failed or was cancelled for good) ends the connection.
    if (hangup || (!hangup.error().is_timed_out() && !hangup.error().is_cancelled())) {
      closing_ = true;
    }
  }
}

// ---- the loop ---------------------------------------------------------------------------

void Connection::run() {
  bool open = true;
  while (open) {
    const bool got = read_some();
    settle_remote_batch();  // before anything else writes to the socket or closes it
    if (!got) {
      // The client's half-close, say, while a remote batch's reply did not fit the socket:
      // the rest still goes out.
      if (!out_.buffer().empty() && !closing_) (void)flush();
      break;
    }
    for (;;) {
      const InputResult r = process_input();
      if (!flush() || r == InputResult::kClose) open = false;
      if (!open || r != InputResult::kFlush) break;
    }
    if (closing_) open = false;
    if (in_.empty()) in_.release_if_idle(kReadChunk);
    if (open && should_move()) {
      ++shard_.stats().moved_connections;
      handoff_ = ClientHandoff{key_shard_, std::move(socket_), std::move(client_), out_.version(),
                               block_.wait};
      return;
    }
  }
  settle_remote_batch();
  if (socket_.is_open()) (void)socket_.close();
}

void Connection::end_input_batch() {
  if (key_batch_.empty()) return;
  // Replies from the keys' shard (commands/key_batch.h): not when a reply of ours waits to
  // go first, nor when the connection is about to move to that shard (should_move() needs
  // the batch done), nor for large arguments, which the remote batch would copy.
  const bool remote = socket_.is_open() && !socket_.cancelled() && !closing_ &&
                      out_.buffer().empty() && key_shard_run_ < kMoveAfter &&
                      key_batch_.arg_bytes() <= kRemoteArgBytes &&
                      key_batch_.one_other_shard(static_cast<std::uint32_t>(shard_.id()));
  if (!remote) {
    run_key_batch();
    return;
  }
  if (!reply_wake_) {
    reply_wake_ = std::make_shared<commands::ReplyWake>(
        commands::ReplyWake{shard_.id(), &Connection::wake_for_unsent, this});
    key_batch_.set_reply_wake(reply_wake_);
  }
  key_batch_.start_remote(server_, client_, socket_.fd(), out_.version());
}

void Connection::wake_for_unsent(void* self) {
  auto* c = static_cast<Connection*>(self);
  // Only a recv waiting for input needs ending: anywhere else the connection settles the
  // batch before it next writes or reads.
  if (c->phase_ != Phase::kWaitingForInput || !c->key_batch_.in_flight()) return;
  c->unsent_wake_ = true;
  c->socket_.interrupt();
}

// An interrupt() of the pending wait or recv (the trimmer's, a remote batch's wake), not
// a close or a cancellation of the socket.
bool Connection::interrupted_only(const Status& error) const {
  return error.is_cancelled() && !closing_ && !socket_.cancelled();
}

void Connection::settle_remote_batch() {
  if (key_batch_.in_flight()) key_batch_.finish_remote(shard_, out_);
}

std::optional<runtime::ShardId> Connection::track_key_shard(
    const CommandSpec& spec, std::span<const std::string_view> args) {
  if (spec.first_key <= 0) return std::nullopt;  // no key: it runs as well on any shard
  const auto first = static_cast<std::size_t>(spec.first_key);
  if (spec.last_key != spec.first_key || (spec.flags & kCmdMovableKeys) || first >= args.size()) {
    key_shard_run_ = 0;  // several keys: no one shard to move to
    return std::nullopt;
  }
  const auto shard = static_cast<runtime::ShardId>(types::key_shard(args[first], server_.shard_count()));
  if (shard == key_shard_) {
    ++key_shard_run_;
  } else {
    key_shard_ = shard;
    key_shard_run_ = 1;
  }
  return shard;
}

// Between batches (run() calls it with the replies sent): nothing pending here, nothing
// registered on this shard for this client but its entry in the connection registry.
bool Connection::should_move() const {
  return key_shard_run_ >= kMoveAfter && key_shard_ != shard_.id() && !closing_ &&
         !client_.close_after_reply && !client_.multi.active && client_.watched.empty() &&
         !block_.active && in_.empty() && out_.buffer().empty() && !key_batch_.in_flight() &&
         !shard_.stopping() && socket_.is_open() && !socket_.cancelled() && !trim_requested_ &&
         !wait_before_read_;
}

bool Connection::read_some() {
  const std::int64_t idle_seconds = shard_.config().timeout;
  std::optional<runtime::TimePoint> deadline;
  if (idle_seconds > 0) deadline = runtime::Clock::now() + std::chrono::seconds(idle_seconds);

  for (;;) {
    if (closing_) return false;
    if (wait_before_read_) {
      phase_ = Phase::kWaitingForInput;
      Result<bool> ready = socket_.wait_readable(deadline);
      phase_ = Phase::kBusy;
      const bool unsent = std::exchange(unsent_wake_, false);
      if (!ready) {
        // Replies a remote batch left unsent (see below); the wait resumes after them.
        if (unsent && interrupted_only(ready.error())) return true;
        if (ready.error().is_timed_out()) server_.logger().verbose("Closing idle client");
        return false;
      }
      wait_before_read_ = false;
    }
    std::optional<runtime::Duration> left;
    if (deadline) left = std::max<runtime::Duration>(*deadline - runtime::Clock::now(), {});
    std::span<char> room = in_.prepare(read_size_);
    phase_ = Phase::kWaitingForInput;
    Result<std::size_t> n = socket_.recv(std::as_writable_bytes(room), left);
    phase_ = Phase::kBusy;
    const bool trimmed = std::exchange(trim_requested_, false);
    const bool unsent = std::exchange(unsent_wake_, false);
    if (!n) {
      // Replies a remote batch left unsent: run() settles and sends them, then reads again.
      if (unsent && interrupted_only(n.error())) {
        if (trimmed) wait_before_read_ = in_.release();
        return true;
      }
      // The trimmer's interruption (not a close): free the buffer and wait without one.
      if (trimmed && interrupted_only(n.error())) {
        wait_before_read_ = in_.release();  // (it is empty: trim_if_idle checked)
        continue;
      }
      if (n.error().is_timed_out()) server_.logger().verbose("Closing idle client");
      return false;
    }
    if (*n == 0) return false;  // the client closed its side
    if (*n == room.size() && read_size_ < kReadChunk) read_size_ *= 2;
    in_.commit(*n);
    ShardStats& stats = shard_.stats();
    ++stats.reads_processed;
    stats.net_input_bytes += *n;
    client_.last_interaction = runtime::Clock::now();

    const std::int64_t limit = shard_.config().client_query_buffer_limit;
    if (static_cast<std::int64_t>(in_.size()) > limit) {
      log_query_buffer_overflow();
      return false;
    }
    return true;
  }
}

bool Connection::flush() {
  resp::ReplyBuffer& buffer = out_.buffer();
  while (!buffer.empty()) {
    iovec iov[kIovecsPerWrite];
    const std::size_t count = buffer.gather(iov);
    std::size_t bytes = 0;
    for (std::size_t i = 0; i < count; ++i) bytes += iov[i].iov_len;
    if (!socket_.writev_all(std::span<const iovec>(iov, count))) return false;
    buffer.consume(bytes);
    ShardStats& stats = shard_.stats();
    ++stats.writes_processed;
    stats.net_output_bytes += bytes;
  }
  if (buffer.capacity() > kKeptOutputCapacity) buffer.release();
  return true;
}

void Connection::log_query_buffer_overflow() {
  Logger& log = server_.logger();
  if (!log.enabled(LogLevel::kWarning)) return;
  std::string head(in_.data().substr(0, 64));
  for (char& c : head) {
    if (c < ' ' || c > '~') c = '?';
  }
  log.warning("Closing client that reached max query buffer length: {} (qbuf initial bytes: \"{}\")",
              describe_client(*this, runtime::Clock::now()), head);
}

// ---- the IO-free core -------------------------------------------------------------------

bool Connection::auth_required() {
  return !client_.authenticated && !shard_.config().requirepass.empty();
}

Connection::InputResult Connection::process_input() {
  parser_.set_max_bulk_len(shard_.config().proto_max_bulk_len);
  for (;;) {
    parser_.set_auth_required(auth_required());
    const resp::ParseResult r = parser_.parse(in_.data());
    // Dropping the consumed bytes moves nothing: the arguments stay valid (input_buffer.h),
    // as the key batch's views need until it runs.
    in_.consume(r.consumed);
    if (r.status == resp::ParseStatus::kNeedMore) {
      end_input_batch();  // the end of what the client sent
      return InputResult::kNeedMore;
    }
    if (r.status != resp::ParseStatus::kCommand) run_key_batch();
    if (r.status == resp::ParseStatus::kError) {
      ++shard_.stats().error_replies;
      out_.error(parser_.error_message());
      server_.logger().verbose("Protocol error ({}) from client: id={} addr={}",
                               parser_.error_message(), client_.id, client_.addr);
      return InputResult::kClose;
    }
    execute(parser_.args());
    if (client_.close_after_reply || closing_) {
      run_key_batch();
      return InputResult::kClose;
    }
    if (out_.buffer().size() >= kFlushThreshold) {
      run_key_batch();
      return InputResult::kFlush;
    }
  }
}

void Connection::execute(std::span<const std::string_view> args) {
  const Dispatch dispatch = resolve_command(server_.commands(), args, auth_required());
  std::optional<runtime::ShardId> shard;
  if (dispatch.error == DispatchError::kNone) shard = track_key_shard(*dispatch.spec, args);
  // Inside MULTI every command is queued (or refused) by queue_in_multi, never batched:
  // the batch would run it at once.
  if (dispatch.error == DispatchError::kNone && dispatch.spec->key_handler != nullptr &&
      client_.reply_mode == ReplyMode::kOn && !client_.multi.active) {
    // A key handler's key is args[1]: track_key_shard hashed it when it is the only one.
    key_batch_.add(*dispatch.spec, args,
                   shard && dispatch.spec->first_key == 1
                       ? *shard
                       : types::key_shard(args[1], server_.shard_count()));
    if (key_batch_.size() >= commands::KeyBatch::kMaxCommands) run_key_batch();
    return;
  }
  run_key_batch();  // every earlier command is done before this one runs
  resp::ReplyWriter& writer = writer_for(dispatch.spec);
  if (client_.multi.active && queue_in_multi(dispatch, args, writer)) {
    advance_reply_mode();
    return;
  }
  if (dispatch.error != DispatchError::kNone) {
    ++shard_.stats().error_replies;
    writer.error(dispatch_error_text(dispatch, args));
  } else {
    client_.last_command = dispatch.spec;
    CommandContext context{args, *dispatch.spec, writer, *this, client_, shard_, server_};
    dispatch.spec->handler(context);
    ++shard_.stats().commands_processed;
  }
  advance_reply_mode();
}

// Between MULTI and EXEC (Redis 7.0's processCommand): a command refused by dispatch or not
// allowed in a transaction is answered with its error and aborts the transaction (EXEC
// itself refused ends it at once with EXECABORT); EXEC DISCARD MULTI WATCH QUIT RESET run
// now; anything else is copied into the queue and answered +QUEUED. Returns false when the
// command is to run now.
bool Connection::queue_in_multi(const Dispatch& dispatch, std::span<const std::string_view> args,
                                resp::ReplyWriter& writer) {
  if (dispatch.error != DispatchError::kNone) {
    ++shard_.stats().error_replies;
    std::string text = dispatch_error_text(dispatch, args);
    if (dispatch.spec != nullptr && dispatch.spec->name == "exec") {
      client_.multi = MultiState{};
      unwatch_all(server_, client_);
      constexpr std::string_view kErrPrefix = "ERR ";
      if (std::string_view(text).starts_with(kErrPrefix)) text.erase(0, kErrPrefix.size());
      writer.error(std::string(kErrExecAbortBecause) + text);
      return true;
    }
    client_.multi.aborted = true;
    writer.error(text);
    return true;
  }
  const CommandSpec& spec = *dispatch.spec;
  if (spec.flags & kCmdNoMulti) {
    ++shard_.stats().error_replies;
    client_.multi.aborted = true;
    writer.error(kErrNotInMulti);
    return true;
  }
  for (std::string_view now : {"exec", "discard", "multi", "watch", "quit", "reset"}) {
    if (spec.name == now) return false;
  }
  client_.multi.queue.push_back(QueuedCommand{&spec, std::vector<std::string>(args.begin(), args.end())});
  writer.simple_string("QUEUED");
  return true;
}

void Connection::run_key_batch() {
  if (!key_batch_.empty()) key_batch_.run(server_, shard_, client_, out_);
}

resp::ReplyWriter& Connection::writer_for(const CommandSpec* spec) {
  if (client_.reply_mode == ReplyMode::kOn) return out_;
  // CLIENT REPLY itself answers ON with +OK even while replies are off.
  if (spec != nullptr && spec->name == "client|reply") return out_;
  if (!discard_) discard_ = std::make_unique<resp::ReplyWriter>(out_.version());
  discard_->buffer().clear();
  return *discard_;
}

void Connection::advance_reply_mode() {
  if (client_.reply_mode == ReplyMode::kSkipNext) {
    client_.reply_mode = ReplyMode::kSkip;
  } else if (client_.reply_mode == ReplyMode::kSkip) {
    client_.reply_mode = ReplyMode::kOn;
  }
}

}  // namespace cascade::server
