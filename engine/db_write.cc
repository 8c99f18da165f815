// The write path: sequence assignment, the WAL append, ordered memtable inserts, and
// making room (db.h, "Write path").
#include <algorithm>

#include "engine/db.h"

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
  // Refused before it takes sequences, so a refused batch never leaves a hole in the WAL.
  if (batch.byte_size() > wal_->geometry().max_payload()) {
    return Status::invalid_argument("write batch of " + std::to_string(batch.byte_size()) +
                                    " bytes is larger than a wal segment holds");
  }
  writers_.add();  // done by finish_write
  if (Status s = throttle_write(); !s) {
    writers_.done();
    return s;
  }
  if (Status s = make_room_for_write(); !s) {
    writers_.done();
    return s;
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
  Result<WalTicket> ticket = wal_->enqueue(batch);
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
  if (status) status = wal_->await(pending.ticket, pending.sync, pending.durable_elsewhere);
  if (!status && bg_error_.is_ok()) {
    bg_error_ = status;  // the WAL is poisoned: no later write can be acknowledged
  }
  wait_for_turn(pending.first);
  finish_turn(pending.last);
  pending.first = 0;
  writers_.done();
  return status;
}

Status DB::sync_wal() { return sync_wal_for(false); }

Status DB::sync_wal_acknowledged() { return sync_wal_for(true); }

Status DB::sync_wal_for(bool acknowledged_only) {
  if (closing_) return Status::shutdown("engine is closing");
  writers_.add();  // close() waits for it as for a write
  struct Leave {
    runtime::WaitGroup& group;
    ~Leave() { group.done(); }
  } leave{writers_};
  return acknowledged_only ? wal_->sync_acknowledged() : wal_->sync();
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

Status DB::make_room_for_write() {
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
      result = flush_error_;
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
