// See key_batch.h for what is batched and the order it keeps.
#include "src/commands/key_batch.h"

#include <algorithm>
#include <array>
#include <bitset>

#include <sys/uio.h>

#include "src/runtime/scheduler.h"
#include "src/runtime/socket.h"
#include "src/runtime/wait_group.h"
#include "src/server/error_replies.h"

namespace cascade::commands {

namespace {
// A shard thread's reply scratch keeps at most this much between remote batches.
constexpr std::size_t kKeptScratchCapacity = 64 << 10;
// A batch's copy of its arguments keeps at most this much between remote batches.
constexpr std::size_t kKeptArgsCapacity = 16 << 10;
}  // namespace

void KeyBatch::add(const server::CommandSpec& spec, std::span<const std::string_view> args,
                   std::size_t shard) {
  entries_.push_back(Entry{&spec, static_cast<std::uint32_t>(args_.size()),
                           static_cast<std::uint32_t>(args.size()),
                           static_cast<std::uint32_t>(shard)});
  args_.insert(args_.end(), args.begin(), args.end());
}

void KeyBatch::run(server::ServerState& server, server::ShardState& here,
                   server::ClientState& client, resp::ReplyWriter& out) {
  if (entries_.empty()) return;
  const auto db = static_cast<std::uint32_t>(client.db);
  replies_.clear();
  replies_.resize(entries_.size());
  remote_shards_.clear();
  for (const Entry& e : entries_) {
    if (e.shard != here.id() && std::find(remote_shards_.begin(), remote_shards_.end(),
                                          e.shard) == remote_shards_.end()) {
      remote_shards_.push_back(e.shard);
    }
  }
  // The other shards first, so they work while this one runs its part inline. Each writes
  // only its own entries' replies; get() orders their writes before ours are read.
  pending_.clear();
  for (std::uint32_t shard : remote_shards_) {
    pending_.push_back(server.runtime().submit(
        static_cast<runtime::ShardId>(shard),
        [this, &server, db, shard] { run_shard(server, db, shard); }));
  }
  run_shard(server, db, static_cast<std::uint32_t>(here.id()));
  for (std::size_t i = 0; i < pending_.size(); ++i) {
    if (pending_[i].get()) continue;
    for (std::size_t j = 0; j < entries_.size(); ++j) {
      if (entries_[j].shard == remote_shards_[i]) {
        replies_[j] = KeyReply::error(server::kErrShardUnavailable);
      }
    }
  }

  client.last_command = entries_.back().spec;
  write_replies(out, here.stats());
  entries_.clear();
  args_.clear();
  pending_.clear();
}

void KeyBatch::write_replies(resp::ReplyWriter& out, server::ShardStats& stats) {
  for (KeyReply& reply : replies_) {
    write_key_reply(out, stats, std::move(reply));
    ++stats.commands_processed;
  }
}

std::optional<std::uint32_t> KeyBatch::one_other_shard(std::uint32_t here) const {
  if (entries_.empty()) return std::nullopt;
  const std::uint32_t shard = entries_.front().shard;
  if (shard == here) return std::nullopt;
  for (const Entry& e : entries_) {
    if (e.shard != shard) return std::nullopt;
  }
  return shard;
}

void KeyBatch::start_remote(server::ServerState& server, server::ClientState& client, int fd,
                            resp::RespVersion version) {
  const auto db = static_cast<std::uint32_t>(client.db);
  const std::uint32_t shard = entries_.front().shard;
  // The arguments' own copy, sized before the views are taken so it never moves.
  owned_args_.clear();
  owned_args_.reserve(arg_bytes());
  for (std::string_view& a : args_) {
    const std::size_t at = owned_args_.size();
    owned_args_.append(a);
    a = std::string_view(owned_args_.data() + at, a.size());
  }
  replies_.clear();
  replies_.resize(entries_.size());
  unsent_.clear();
  client.last_command = entries_.back().spec;
  remote_ = server.runtime().submit(static_cast<runtime::ShardId>(shard), [this, &server, db,
                                                                           shard, fd, version] {
    run_shard(server, db, shard);
    // Encoded in the shard thread's writer: nothing suspends until it is drained (sent or
    // copied to unsent_), so no other batch uses it meanwhile, and no connection keeps a
    // buffer for this.
    thread_local resp::ReplyWriter out;
    server::ShardStats& stats = server.this_shard().stats();
    ++stats.batches_replied_from_key_shard;
    out.set_version(version);
    resp::ReplyBuffer& buffer = out.buffer();
    buffer.clear();
    write_replies(out, stats);
    // The replies go out from here; whatever the socket does not take goes back to the
    // connection, which sends it (and meets a failed socket's error) itself.
    while (!buffer.empty()) {
      std::array<iovec, 16> iov;
      const std::size_t count = buffer.gather(iov);
      auto sent = runtime::Socket::send_now(fd, std::span<const iovec>(iov.data(), count));
      if (!sent || *sent == 0) break;
      buffer.consume(*sent);
      ++stats.writes_processed;
      stats.net_output_bytes += *sent;
    }
    if (!buffer.empty()) {
      unsent_ = buffer.to_string();
      buffer.clear();
      // The wake is shared only here, rarely: no reference count traffic per command.
      (void)server.runtime().post(wake_->home, [wake = wake_] {
        if (wake->target != nullptr) wake->wake(wake->target);
      });
    }
    if (buffer.capacity() > kKeptScratchCapacity) buffer.release();
  });
}

void KeyBatch::finish_remote(server::ShardState& here, resp::ReplyWriter& out) {
  const Status ran = remote_.get();
  remote_ = {};
  if (!ran) {  // never ran: its shard could not take it
    for (KeyReply& reply : replies_) reply = KeyReply::error(server::kErrShardUnavailable);
    write_replies(out, here.stats());
  } else if (!unsent_.empty()) {
    out.buffer().append_owned(std::move(unsent_));
    unsent_ = std::string();
  }
  entries_.clear();
  args_.clear();
  replies_.clear();
  if (owned_args_.capacity() > kKeptArgsCapacity) owned_args_ = std::string();
}

std::size_t KeyBatch::arg_bytes() const {
  std::size_t bytes = 0;
  for (std::string_view a : args_) bytes += a.size();
  return bytes;
}

void KeyBatch::run_shard(server::ServerState& server, std::uint32_t db, std::uint32_t shard) {
  std::array<std::size_t, kMaxCommands> overwrites;
  std::size_t count = 0;
  auto write_overwrites = [&] {
    if (count > 0) run_overwrites(server, db, std::span<const std::size_t>(overwrites.data(), count));
    count = 0;
  };
  std::array<std::size_t, kMaxCommands> writers;
  std::size_t writing = 0;
  auto run_writers = [&] {
    if (writing > 0) run_concurrently(server, db, std::span<const std::size_t>(writers.data(), writing));
    writing = 0;
  };
  // Only when each write waits for its WAL sync (appendfsync always) is a row of them
  // worth fibers of their own: under everysec a write waits for a page-cache write, and
  // running them in order measured the same throughput for less CPU.
  const bool concurrent = server::sync_every_write(server.this_shard().config());
  prefetch_reads(server, db, shard);
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    const Entry& e = entries_[i];
    if (e.shard != shard) continue;
    if (is_plain_overwrite(e)) {
      run_writers();
      overwrites[count++] = i;
      continue;
    }
    write_overwrites();
    if (concurrent && (e.spec->flags & server::kCmdWrite) != 0) {
      const std::string_view key = args_of(e)[1];
      for (std::size_t w = 0; w < writing; ++w) {
        if (args_of(entries_[writers[w]])[1] == key) {
          run_writers();  // a key's commands run one after another, in order
          break;
        }
      }
      writers[writing++] = i;
      continue;
    }
    run_writers();
    replies_[i] = run_entry(server, db, i);
  }
  run_writers();
  write_overwrites();
}

KeyReply KeyBatch::run_entry(server::ServerState& server, std::uint32_t db, std::size_t i) {
  const KeyCall call{args_of(entries_[i]), *entries_[i].spec};
  auto body = [&call](KeyTarget& t) { return call.command.key_handler(t, call); };
  return run_on_this_shard(server, db, call.args[1], body, nullptr);
}

void KeyBatch::run_concurrently(server::ServerState& server, std::uint32_t db,
                                std::span<const std::size_t> indexes) {
  runtime::WaitGroup running;
  for (std::size_t n = 0; n + 1 < indexes.size(); ++n) {
    running.add();
    const std::size_t i = indexes[n];
    runtime::Scheduler::current()->spawn(
        [this, &server, &running, db, i] {
          replies_[i] = run_entry(server, db, i);
          running.done();
        },
        {.name = "key-batch-write"});
  }
  replies_[indexes.back()] = run_entry(server, db, indexes.back());
  running.wait();
}

void KeyBatch::prefetch_reads(server::ServerState& server, std::uint32_t db, std::uint32_t shard) {
  // An unpipelined command is a batch of one: nothing to overlap its misses with.
  if (entries_.size() < 2) return;
  types::Keyspace* keyspace = server.this_shard().keyspace();
  if (keyspace == nullptr) return;
  std::array<std::string_view, engine::BTree::kMaxPrefetch> keys;
  std::bitset<engine::BTree::kMaxPrefetch> written;
  std::size_t n = 0;
  for (const Entry& e : entries_) {
    if (e.shard != shard || is_plain_overwrite(e)) continue;
    // A write command here reads its key and then writes it alone (INCR), so its insert
    // path is worth fetching with the others too.
    written[n] = (e.spec->flags & server::kCmdWrite) != 0;
    keys[n] = args_of(e)[1];
    // And its key's lock stripe, which it takes first (types::LockedKey).
    if (written[n]) keyspace->locks().prefetch(types::KeyLocks::stripe_index(db, keys[n]));
    if (++n == keys.size()) break;
  }
  keyspace->prefetch(db, std::span<const std::string_view>(keys.data(), n), written);
}

void KeyBatch::run_overwrites(server::ServerState& server, std::uint32_t db,
                              std::span<const std::size_t> indexes) {
  std::array<types::Keyspace::StringPut, kMaxCommands> puts;
  for (std::size_t n = 0; n < indexes.size(); ++n) {
    const std::span<const std::string_view> args = args_of(entries_[indexes[n]]);
    puts[n] = {args[1], args[2]};
  }
  const std::span<const types::Keyspace::StringPut> all(puts.data(), indexes.size());
  auto body = [all](KeyTarget& t) {
    if (Status s = t.keyspace.put_strings(t.db, all, t.sync); !s) return storage_failure(t, s);
    return KeyReply::ok();
  };
  const KeyReply reply = run_on_this_shard(server, db, puts[0].key, body, nullptr);
  for (std::size_t i : indexes) replies_[i] = reply;
}

}  // namespace cascade::commands
