// The write path: sequence assignment, the WAL append, ordered memtable inserts, and
// making room (db.h, "Write path").
#include <algorithm>

#include "engine/db.h"
#include "engine/version/file_names.h"
#include "engine/vlog/vlog_format.h"
#include "src/runtime/scheduler.h"

namespace cascade::engine {

Status DB::put(std::string_view key, std::string_view value, const WriteOptions& options) {
  WriteBatch batch;
  batch.put(key, value);
  return write(batch, options);
}

Status DB::del(std::string_view key, const WriteOptions& options) {
  WriteBatch batch;
  batch.del(key);
  return write(batch, options);
}

Status DB::write(WriteBatch& batch, const WriteOptions& options) {
  Result<PendingWrite> pending = begin_write(batch, options);
  if (!pending) return pending.error();
  return finish_write(*pending);
}

Result<PendingWrite> DB::begin_write(WriteBatch& batch, const WriteOptions& options) {
  if (closing_) return Status::shutdown("engine is closing");
  PendingWrite pending;
  if (batch.count() == 0) return pending;
  // A pointer record names a value-log record the engine wrote; one from a caller could
  // name any bytes of any file (or none), and nothing would count it live.
  if (batch.has_value_pointers()) {
    return Status::invalid_argument("write batch holds value pointers, which only the engine writes");
  }
  // One threshold for the whole write: set_min_blob_size may run while it suspends.
  const std::size_t threshold = min_blob_size();
  const LoggedBound bound = logged_bytes_bound(batch, threshold);
  const std::uint64_t logged_bytes = bound.vlog_bytes;
  bool logging = logged_bytes > 0;
  // Refused before it takes sequences, so a refused batch never leaves a hole in the WAL.
  // Values logged at write time are not in the WAL record (their pointers are): a value
  // larger than a segment is fine then.
  if (bound.wal_bytes > wal_->geometry().max_payload()) {
    Status too_large = Status::invalid_argument("write batch of " + std::to_string(bound.wal_bytes) +
                                                " bytes is larger than a wal segment holds");
    return options.decided ? give_up_decided(too_large) : too_large;
  }
  writers_.add();  // done by finish_write
  // Every refusal from here on. A decided write refused gives the engine up (see
  // give_up_decided), unless the engine is closing or stopped already.
  auto refuse = [&](Status s) -> Status {
    writers_.done();
    return options.decided ? give_up_decided(s) : s;
  };
  // A decided write is not slowed for compaction: its shard's other writes are.
  if (Status s = options.decided ? Status::ok() : throttle_write(); !s) return refuse(s);
  // Compressed here, where the write may still suspend: the stretch below must not.
  std::vector<StoredValue> prepared =
      logging ? prepare_logged_values(batch, threshold, logged_bytes) : std::vector<StoredValue>();
  // Opening an appender suspends, and a memtable switch meanwhile would leave it with
  // another memtable: room is made again until neither suspends.
  while (true) {
    if (Status s = make_room_for_write(options.decided); !s) return refuse(s);
    if (logging) {
      Result<bool> suspended = prepare_appender(logged_bytes);
      if (!suspended && options.decided && batch.byte_size() <= wal_->geometry().max_payload()) {
        // No value-log room (or file): the values stay in the WAL record, which fits.
        logging = false;
        prepared.clear();
        continue;
      }
      if (!suspended) return refuse(suspended.error());
      if (*suspended) continue;
    }
    // A decided write has no room check of its own WAL segments (it overfills), so it
    // must not wait inside the WAL for a segment that a failing flush would never free:
    // it waits here for the flush that frees one, and gives up once flushes fail.
    if (!options.decided ||
        wal_->takes_without_waiting(logging ? bound.wal_bytes : batch.byte_size())) {
      break;
    }
    if (!flush_error_.is_ok()) return refuse(flush_error_);
    if (imm_.empty() && !mem_->empty()) switch_memtable();  // what holds the segments
    flush_done_.wait();
  }
  stats_.user_bytes_written += batch.byte_size();

  // No suspension from here to the memtable insert: WAL order, memtable order and
  // sequence order are one order.
  pending.first = next_sequence_;
  pending.last = pending.first + batch.count() - 1;
  next_sequence_ = pending.last + 1;
  batch.set_sequence(pending.first);
  pending.sync = options.sync;
  pending.durable_elsewhere = options.durable_elsewhere;
  pending.in_tail_suffices = options.in_tail_suffices;
  pending.logged_values = logging;
  Result<WalTicket> ticket =
      logging ? wal_->enqueue(log_values(batch, pending.first, threshold, prepared))
              : wal_->enqueue(batch);
  pending.status = ticket.status();
  if (pending.status) {
    pending.ticket = *ticket;
    // In groups, so the memtable fetches a group's tree paths together (MemTable::add_all).
    MemTable& mem = *mem_;
    WriteBatchRecord group[BTree::kMaxPrefetch];
    std::size_t n = 0;
    pending.status = batch.for_each([&](const WriteBatchRecord& r) {
      group[n++] = r;
      if (n == BTree::kMaxPrefetch) {
        mem.add_all(std::span<const WriteBatchRecord>(group, n));
        n = 0;
      }
    });
    if (pending.status) mem.add_all(std::span<const WriteBatchRecord>(group, n));
  }
  inserted_through_ = pending.last;
  return pending;
}

Status DB::finish_write(PendingWrite& pending) {
  if (pending.first == 0) return Status::ok();  // an empty batch
  Status status = pending.status;
  // The logged values first: the WAL writer writes the record meanwhile. A durable write
  // syncs them even when it logged none: its WAL sync makes earlier records durable too,
  // whose values (written unsynced) must not be lost to a power loss, or the replay would
  // stop before this write.
  const bool durable = pending.sync || (options_.wal.sync_policy == WalSyncPolicy::kAlways &&
                                        !pending.durable_elsewhere);
  if (status && (pending.logged_values || durable)) status = write_out_appenders(durable);
  if (status) status = wal_->await(pending.ticket, pending.sync, pending.durable_elsewhere,
                                      pending.in_tail_suffices);
  if (!status && bg_error_.is_ok()) {
    set_bg_error(status);  // the WAL is poisoned: no later write can be acknowledged
  }
  wait_for_turn(pending.first);
  // A write that logged no value and need not be durable relies on its turn: every lower
  // sequence wrote out its values before taking its turn. Once an appender failed, a
  // lower sequence's value may be missing, and recovery would end the replay there: no
  // later write may be acknowledged.
  if (status && !values_error_.is_ok()) status = values_error_;
  finish_turn(pending.last);
  pending.first = 0;
  writers_.done();
  return status;
}

Status DB::sync_wal() { return sync_wal_for(false); }

Status DB::sync_wal_acknowledged() { return sync_wal_for(true); }

Status DB::sync_wal_for(bool acknowledged_only) {
  if (closing_) return Status::shutdown("engine is closing");
  // Every acknowledged record durable: their values were synced before them, and values
  // only unacknowledged or durable-elsewhere records point to may wait.
  if (acknowledged_only && wal_->acknowledged_durable()) return wal_->health();
  writers_.add();  // close() waits for it as for a write
  struct Leave {
    runtime::WaitGroup& group;
    ~Leave() { group.done(); }
  } leave{writers_};
  // The values first: a durable WAL record must find its value durable too.
  if (Status s = write_out_appenders(true); !s) return s;
  return acknowledged_only ? wal_->sync_acknowledged() : wal_->sync();
}

DB::LoggedBound DB::logged_bytes_bound(const WriteBatch& batch, std::size_t threshold) const {
  LoggedBound bound{0, batch.byte_size()};
  if (!options_.separate_at_write || threshold == kNeverSeparate) return bound;
  if (batch.byte_size() < threshold) return bound;  // no value can be that large
  (void)batch.for_each([&](const WriteBatchRecord& r) {
    if (r.type == ValueType::kValue && r.value.size() >= threshold) {
      bound.vlog_bytes += VlogAppender::record_bound(r.key.size(), r.value.size());
      // The pointer and its length's varint take the value's place; the value's own length
      // varint took at least one byte.
      bound.wal_bytes += kMaxEncodedPointerSize + 10;
      bound.wal_bytes -= std::min<std::uint64_t>(bound.wal_bytes, r.value.size() + 1);
    }
  });
  return bound;
}

Result<bool> DB::prepare_appender(std::uint64_t bytes) {
  if (!logged_->appenders.empty()) {
    VlogAppender& current = *logged_->appenders.back();
    if (current.end() < options_.vlog_file_size) {
      if (current.has_room(bytes)) return false;
      // A full disk fails the write here, before it takes a sequence: nothing is poisoned.
      if (Status s = current.reserve(bytes); !s) return s;
      return true;
    }
  }
  auto created = VlogAppender::create(fs_, dir_, versions_->new_file_number(),
                                      options_.compression, &value_compression_);
  if (!created) return created.error();
  // Its name must survive a power loss as its synced records do.
  Status s = fs_.sync_dir(dir_);
  if (s) s = (*created)->reserve(bytes);
  if (!s) {
    const std::uint64_t number = (*created)->file_number();
    created->reset();
    (void)fs_.remove(path_join(dir_, vlog_file_name(number)));  // else the next open's
    return s;
  }
  // The memtable's as of now, which the caller checks again.
  logged_->appenders.push_back(*created);
  open_appenders_.push_back(*created);
  return true;
}

std::vector<StoredValue> DB::prepare_logged_values(const WriteBatch& batch,
                                                   std::size_t threshold,
                                                   std::uint64_t logged_bytes) {
  std::vector<StoredValue> prepared;
  if (logged_bytes < LargeValueCompressor::kLargeValueSize) return prepared;
  // A write bound to fail (make_room_for_write refuses it) is not worth compressing.
  if (closing_ || !bg_error_.is_ok()) return prepared;
  // A yield after every piece's worth of values (at most a piece of a value is compressed
  // after its last yield inside compress()).
  std::size_t since_yield = 0;
  const std::function<void()> yield = [&since_yield] {
    runtime::this_fiber::yield_if_on_fiber();
    since_yield = 0;
  };
  (void)batch.for_each([&](const WriteBatchRecord& r) {
    if (r.type != ValueType::kValue || r.value.size() < threshold) return;
    prepared.push_back(large_values_.compress(r.value, yield));
    since_yield += std::min(r.value.size(), LargeValueCompressor::kPieceSize);
    if (since_yield >= LargeValueCompressor::kPieceSize) yield();
  });
  return prepared;
}

WriteBatch DB::log_values(const WriteBatch& batch, SequenceNumber first, std::size_t threshold,
                          std::span<const StoredValue> prepared) {
  VlogAppender& appender = *logged_->appenders.back();
  WriteBatch logged;
  std::string encoded;
  std::size_t next = 0;
  (void)batch.for_each([&](const WriteBatchRecord& r) {
    if (r.type != ValueType::kValue || r.value.size() < threshold) {
      logged.add(r.type, r.key, r.value);
      return;
    }
    // prepare_logged_values went through the same records with the same threshold.
    ValuePointer pointer;
    if (prepared.empty()) {
      pointer = appender.append(r.key, r.value, options_.vlog_value_head_size);
    } else {
      const StoredValue& stored = prepared[next++];
      pointer = appender.append_stored(r.key, r.value, stored, options_.vlog_value_head_size);
      // Counted as the appender's compressor counts: once the write cannot fail.
      if (stored.type == CompressionType::kZstd) {
        ++value_compression_.compressed;
      } else if (stored.tried) {
        ++value_compression_.incompressible;
      }
    }
    encoded.clear();
    pointer.encode_to(encoded);
    logged.add(ValueType::kValuePointer, r.key, encoded);
    logged_->pointers.emplace_back(r.sequence, std::move(pointer));
  });
  logged.set_sequence(first);
  return logged;
}

Status DB::write_out_appenders(bool sync) {
  // Most writes find nothing to do: no copy then.
  bool needed = false;
  for (const auto& appender : open_appenders_) {
    if (!appender->finished() && !(sync ? appender->synced() : appender->written_out())) {
      needed = true;
      break;
    }
  }
  if (!needed) return Status::ok();
  // A copy: a flush may finish and drop appenders while this one waits on IO.
  std::vector<std::shared_ptr<VlogAppender>> appenders = open_appenders_;
  for (const auto& appender : appenders) {
    if (appender->finished()) continue;
    Status s = sync ? appender->sync() : appender->write_out();
    if (!s) {
      if (values_error_.is_ok()) values_error_ = s;
      if (bg_error_.is_ok()) set_bg_error(s);
      return s;
    }
  }
  return Status::ok();
}

bool DB::values_unsynced() const {
  for (const auto& appender : open_appenders_) {
    if (!appender->finished() && !appender->synced()) return true;
  }
  return false;
}

void DB::wait_for_turn(SequenceNumber first) {
  turn_cv_.wait([&] { return visible_sequence_ + 1 == first; });
}

void DB::finish_turn(SequenceNumber last) {
  visible_sequence_ = last;
  turn_cv_.notify_all();
}

void DB::wait_visible(SequenceNumber sequence) {
  turn_cv_.wait([&] { return visible_sequence_ >= sequence; });
}

// The WAL must never fill with the records of the mutable memtable alone: its segments
// are freed only by flushes.
bool DB::memtable_is_full() const {
  if (mem_->empty()) return false;
  if (mem_->approximate_memory_usage() >= memtable_size_) return true;
  std::uint32_t count = wal_->geometry().segment_count;
  std::uint32_t limit = count > 2 ? count - 1 : count;
  return wal_->segments_in_use() >= limit;
}

bool DB::fits_one_record(const WriteBatch& batch) const {
  return logged_bytes_bound(batch, min_blob_size()).wal_bytes <= wal_->geometry().max_payload();
}

Status DB::give_up_decided(const Status& cause) {
  if (closing_ || !bg_error_.is_ok()) return cause;  // nothing is acknowledged after it anyway
  set_bg_error(Status(cause.code(), "a write that had to land was refused (" + cause.to_string() +
                                        "); no later write is acknowledged until the engine reopens"));
  log("engine: " + bg_error_.to_string());
  return bg_error_;
}

void DB::set_flush_error(Status s) {
  flush_error_ = std::move(s);
  accepts_writes_.store(flush_error_.is_ok() && bg_error_.is_ok(), std::memory_order_relaxed);
}

void DB::set_bg_error(Status s) {
  bg_error_ = std::move(s);
  accepts_writes_.store(flush_error_.is_ok() && bg_error_.is_ok(), std::memory_order_relaxed);
}

Status DB::make_room_for_write(bool decided) {
  bool stalled = false;
  runtime::TimePoint stall_start;
  Status result;
  while (true) {
    if (!bg_error_.is_ok()) {
      result = bg_error_;
      break;
    }
    if (closing_) {
      result = Status::shutdown("engine is closing");
      break;
    }
    if (!memtable_is_full()) break;
    if (imm_.size() < options_.max_immutable_memtables) {
      switch_memtable();
      break;
    }
    if (!flush_error_.is_ok()) {  // disk full: fail rather than wait indefinitely
      // A decided write overfills the memtable (begin_write checks the WAL can take it).
      if (!decided) result = flush_error_;
      break;
    }
    if (!stalled) {
      stalled = true;
      ++stats_.write_stalls;
      stall_start = runtime::Clock::now();
    }
    flush_done_.wait();
  }
  if (stalled) {
    auto waited = runtime::Clock::now() - stall_start;
    stats_.write_stall_micros +=
        std::chrono::duration_cast<std::chrono::microseconds>(waited).count();
  }
  return result;
}

}  // namespace cascade::engine
