#include "engine/wal/wal_writer.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "src/runtime/scheduler.h"

namespace cascade::engine {

using runtime::AlignedBuffer;
using runtime::align_down;
using runtime::align_up;

// A run of the tail: records back to back from a page boundary of one segment.
struct WalWriter::Group {
  std::uint64_t ring = 0;
  std::uint64_t start = 0;  // page-aligned offset in the segment
  AlignedBuffer buffer;
  std::size_t used = 0;
  std::vector<std::uint32_t> unsealed;  // offsets of records whose header is not final
  std::vector<std::uint32_t> ends;      // ends of the records that end in this group
  std::uint64_t batches = 0;            // records that start in this group
  // Bytes at the start already written by the group before it, which left its partial
  // last page open (share_partial_page); they are rewritten identical with what follows.
  std::size_t rewritten = 0;
  bool closed = false;                  // no more records: it goes out as one write
  SequenceNumber max_sequence = 0;
};

namespace {
constexpr std::size_t kGroupBuffer = 64 << 10;
constexpr std::size_t kSpareGroups = 4;  // buffers kept for reuse: no allocation per write
}

WalWriter::WalWriter(WalSegments segments, const WalOptions& options,
                     const WalRecovery& recovery)
    : segments_(std::move(segments)),
      options_(options),
      segment_size_(segments_.geometry().segment_size),
      max_buffered_(std::max<std::size_t>(
          kWalPageSize, std::min<std::uint64_t>(options.max_buffered_bytes, segment_size_ / 4))),
      state_(recovery.segments),
      current_ring_(recovery.resume_ring),
      written_end_(recovery.last_record_end),
      tail_ring_(recovery.resume_ring),
      tail_end_(recovery.resume_offset) {
  state_.resize(segments_.geometry().segment_count);
  zeroed_to_.resize(segments_.geometry().segment_count, 0);
}

WalWriter::~WalWriter() {
  // The flusher and timer fibers point at this writer: close() joins them.
  assert((closed_ || (queue_.empty() && !flusher_.valid() && !timer_.valid())) &&
         "close() a WalWriter before destroying it");
}

Result<std::unique_ptr<WalWriter>> WalWriter::open(WalSegments segments,
                                                   const WalOptions& options,
                                                   const WalRecovery& recovery) {
  if (options.max_group_bytes == 0) return Status::invalid_argument("max_group_bytes is 0");
  std::unique_ptr<WalWriter> w(new WalWriter(std::move(segments), options, recovery));
  if (recovery.torn_tail) {
    if (Status s = w->erase_torn_tail(recovery); !s) return s;
  }
  // What recovery read may not be durable yet (a restart after writes with kNo): sync it, so
  // that durable_to claims only the truth.
  for (std::uint32_t i = 0; i < w->geometry().segment_count; ++i) {
    if (Status s = w->segments_.sync(i); !s) return s;
  }
  w->durable_ = w->geometry().logical(w->current_ring_, w->written_end_);
  w->written_ = w->durable_;
  w->appended_ = w->durable_;
  return w;
}

// Rewrites the page holding the last valid record's end with the same valid prefix and
// zeros after it, and zeros the pages up to erase_end, so no torn or dropped byte is read
// again after new groups follow. The only rewrite of a page holding acknowledged bytes:
// they are rewritten identical, so a torn rewrite (whole sectors old or new) keeps them.
Status WalWriter::erase_torn_tail(const WalRecovery& recovery) {
  std::uint64_t from = align_down(recovery.last_record_end);
  if (recovery.erase_end <= from) return Status::ok();
  AlignedBuffer pages(recovery.erase_end - from);
  std::memcpy(pages.data(), recovery.tail_page.data(), kWalPageSize);
  std::uint32_t segment = static_cast<std::uint32_t>(current_ring_ % geometry().segment_count);
  if (Status s = segments_.write(segment, from, pages.span()); !s) return s;
  stats_.bytes_written += pages.size();
  return segments_.sync(segment);
}

Result<WalPosition> WalWriter::append(const WriteBatch& batch, bool sync,
                                      bool written_suffices, bool tail_suffices) {
  Result<WalTicket> ticket = enqueue(batch);
  if (!ticket) return ticket.error();
  if (Status s = await(*ticket, sync, written_suffices, tail_suffices); !s) return s;
  return ticket->position;
}

Result<WalTicket> WalWriter::enqueue(const WriteBatch& batch) {
  if (!poisoned_) return poisoned_;
  if (closing_) return Status::shutdown("wal is closed");
  std::string_view payload = batch.contents();
  if (payload.size() > geometry().max_payload()) {
    return Status::invalid_argument("write batch of " + std::to_string(payload.size()) +
                                    " bytes does not fit in a wal segment");
  }
  std::uint64_t size = wal_record_size(payload.size());
  Group& g = group_for(size);
  char* record = reinterpret_cast<char*>(g.buffer.data()) + g.used;
  encode_wal_record_header(record, static_cast<std::uint32_t>(payload.size()),
                           static_cast<std::uint32_t>(g.ring / geometry().segment_count));
  std::memcpy(record + kWalRecordHeaderSize, payload.data(), payload.size());
  std::memset(record + kWalRecordHeaderSize + payload.size(), 0,
              size - kWalRecordHeaderSize - payload.size());
  WalPosition position = geometry().position(g.ring, g.start + g.used);
  g.unsealed.push_back(static_cast<std::uint32_t>(g.used));
  g.used += size;
  g.ends.push_back(static_cast<std::uint32_t>(g.used));
  g.batches++;
  SequenceNumber last = batch.sequence() + std::max<std::uint32_t>(batch.count(), 1) - 1;
  g.max_sequence = std::max(g.max_sequence, last);
  tail_end_ = g.start + g.used;
  appended_ = geometry().logical(g.ring, tail_end_);
  buffered_ += size;
  stats_.payload_bytes += payload.size();
  return WalTicket{position, appended_};
}

Status WalWriter::await(const WalTicket& ticket, bool sync, bool written_suffices,
                        bool tail_suffices) {
  const bool always = options_.sync_policy == WalSyncPolicy::kAlways;
  if (sync || (always && !written_suffices)) return wait_for(ticket.end, Reach::kDurable);
  if (always) return wait_for(ticket.end, Reach::kWritten);  // a later sync covers it
  if (!written_suffices) acknowledged_unsynced_ = std::max(acknowledged_unsynced_, ticket.end);
  start_timer();
  if (options_.sync_policy == WalSyncPolicy::kEverySec && !tail_suffices) {
    return wait_for(ticket.end, Reach::kWritten);
  }
  if (!queue_.empty() && queue_.back()->used >= kWalPageSize) start_flusher();
  if (buffered_ > max_buffered_) wait_for_room();
  return poisoned_;
}

WalWriter::GroupPtr WalWriter::new_group(std::uint64_t ring, std::uint64_t start) {
  GroupPtr g;
  if (spare_groups_.empty()) {
    g = std::make_unique<Group>();
    g->buffer = AlignedBuffer(kGroupBuffer);
  } else {
    g = std::move(spare_groups_.back());
    spare_groups_.pop_back();
    g->used = 0;
    g->unsealed.clear();
    g->ends.clear();
    g->batches = 0;
    g->rewritten = 0;
    g->closed = false;
    g->max_sequence = 0;
  }
  g->ring = ring;
  g->start = start;
  return g;
}

void WalWriter::recycle(GroupPtr g) {
  if (spare_groups_.size() < kSpareGroups) spare_groups_.push_back(std::move(g));
}

// The newest group if it is open and has room, else a new one after it. An open group
// that would pass max_group_bytes is cut (its whole pages become one write).
WalWriter::Group& WalWriter::group_for(std::uint64_t size) {
  if (!queue_.empty() && !queue_.back()->closed && queue_.back()->used + size > options_.max_group_bytes) {
    Group& back = *queue_.back();
    if (back.used >= kWalPageSize) {
      cut(back);
    } else {
      back.closed = true;
    }
  }
  if (!queue_.empty() && !queue_.back()->closed) {
    Group& back = *queue_.back();
    if (back.start + back.used + size <= segment_size_) {
      if (back.buffer.size() < back.used + size) {
        AlignedBuffer bigger(std::max<std::size_t>(2 * back.buffer.size(), back.used + size));
        std::memcpy(bigger.data(), back.buffer.data(), back.used);
        back.buffer = std::move(bigger);
      }
      return back;
    }
    back.closed = true;  // the segment is full: its tail goes out whole
  }
  std::uint64_t ring = tail_ring_;
  std::uint64_t start = align_up(tail_end_);
  if (start + size > segment_size_) {
    ring++;
    start = kWalHeaderPageSize;
  }
  GroupPtr g = new_group(ring, start);
  if (g->buffer.size() < size) g->buffer = AlignedBuffer(size);
  tail_ring_ = ring;
  tail_end_ = start;
  queue_.push_back(std::move(g));
  return *queue_.back();
}

// Sets durable_to and the checksum of the group's records that start before `offset`.
void WalWriter::seal_before(Group& g, std::size_t offset) {
  std::uint32_t segment = static_cast<std::uint32_t>(g.ring % geometry().segment_count);
  char* base = reinterpret_cast<char*>(g.buffer.data());
  auto first_kept = std::lower_bound(g.unsealed.begin(), g.unsealed.end(), offset);
  for (auto it = g.unsealed.begin(); it != first_kept; ++it) {
    seal_wal_record(base + *it, durable_, geometry(), segment, g.start + *it);
  }
  g.unsealed.erase(g.unsealed.begin(), first_kept);
}

// Closes the open group `b` after its last full page; the partial page's bytes, and the
// records in them, move to a new open group starting at that page. Records that start
// before the cut are sealed now: a record crossing it has its first bytes written first.
void WalWriter::cut(Group& b) {
  std::size_t c = align_down(b.used);
  b.closed = true;
  if (c == b.used) return;
  seal_before(b, c);
  GroupPtr n = new_group(b.ring, b.start + c);
  n->used = b.used - c;
  std::memcpy(n->buffer.data(), b.buffer.data() + c, n->used);
  for (std::uint32_t offset : b.unsealed) n->unsealed.push_back(static_cast<std::uint32_t>(offset - c));
  b.unsealed.clear();
  auto first_moved = std::upper_bound(b.ends.begin(), b.ends.end(), c);
  for (auto it = first_moved; it != b.ends.end(); ++it) n->ends.push_back(static_cast<std::uint32_t>(*it - c));
  b.ends.erase(first_moved, b.ends.end());
  n->batches = n->unsealed.size();
  b.batches -= n->batches;
  n->max_sequence = b.max_sequence;
  b.used = c;
  queue_.push_back(std::move(n));
}

// Closes the open group `b`, to be written whole, after sealing all its records; when its
// last page is partial, a new open group starting at that page takes a copy of the page's
// bytes (rewritten: already written by b), so the next records continue on it instead of
// starting the next page. Only for page-cache writes: that page is written again, which
// is safe only while nothing on it is synced (every sync first writes the tail whole).
void WalWriter::share_partial_page(Group& b) {
  b.closed = true;
  const std::size_t c = align_down(b.used);
  if (c == b.used) return;
  seal_before(b, b.used);
  GroupPtr n = new_group(b.ring, b.start + c);
  n->used = b.used - c;
  n->rewritten = n->used;
  std::memcpy(n->buffer.data(), b.buffer.data() + c, n->used);
  n->max_sequence = b.max_sequence;
  queue_.push_back(std::move(n));
}

bool WalWriter::has_full_pages() const {
  return !queue_.empty() && (queue_.front()->closed || queue_.back()->used >= kWalPageSize);
}

void WalWriter::acquire_io() {
  io_free_.wait([this] { return !io_busy_; });
  io_busy_ = true;
}

// The fibers the write released run in this round (their replies go out with the
// leader's, in one burst), not after the next poll.
void WalWriter::release_io() {
  io_busy_ = false;
  runtime::Scheduler::WakeInRound in_round;
  io_free_.notify_all();
  room_.notify_all();
}

// Group commit: the first waiter to find the IO role free lets the ready fibers append,
// then writes the whole tail (and, for kDurable, syncs) for everyone whose record it holds.
// A written-only leader leaves the sync to the timer, so a fiber waiting for kDurable may
// find its record written but not synced: it then leads a round that only syncs.
Status WalWriter::wait_for(std::uint64_t end, Reach reach) {
  while ((reach == Reach::kDurable ? durable_ : written_) < end) {
    if (!poisoned_) return poisoned_;
    if (io_busy_) {
      io_free_.wait();
      continue;
    }
    io_busy_ = true;
    // Every fiber already ready appends first. The fiber whose write just completed runs on
    // before the waiters that write woke: if it came back with its next batch and wrote at
    // once, groups would alternate between its batch alone and everyone else's, halving
    // what group commit saves. Waiting for the round's end lets the woken writers, and
    // every other fiber of the round, join this group (a hot key's next holders, handed
    // its lock one after another: types/key_locks.h, "Early lock release"), and the write
    // still goes before the round's IO is polled: no fiber waits a poll for it.
    runtime::this_fiber::yield_to_round_end();
    // A durable round with nothing written unsynced before it writes each group with
    // O_DSYNC: one device round trip per group instead of a write and an fdatasync. A
    // written-only round into the page cache leaves its partial page open: a page of
    // padding per group would be most of the bytes written for small records.
    const Tail tail = reach == Reach::kWritten && buffered_writes() ? Tail::kSharePartial
                                                                    : Tail::kWhole;
    Status s = write_tail(tail, reach == Reach::kDurable && !dirty_);
    if (s && reach == Reach::kDurable && dirty_) s = sync_current();
    if (!s) poison(s);
    release_io();
  }
  return Status::ok();
}

void WalWriter::wait_for_room() {
  stats_.buffer_waits++;
  while (buffered_ > max_buffered_ && poisoned_ && !stopping_) {
    start_flusher();
    room_.wait();
  }
}

// Holds the IO role. Writes the tail's groups oldest first: all of them, the open one
// closed and padded (kWhole) or sharing its partial page with the next group
// (kSharePartial), or only up to the last full page (kFullPages).
Status WalWriter::write_tail(Tail mode, bool durable) {
  if (queue_.empty()) return Status::ok();
  Group& back = *queue_.back();
  if (!back.closed) {
    if (back.used == back.rewritten && mode != Tail::kFullPages) {
      // Nothing new: its bytes are written already, padded. Dropping it makes the next
      // record start on the next page, as after a whole write.
      GroupPtr g = std::move(queue_.back());
      queue_.pop_back();
      recycle(std::move(g));
    } else if (mode == Tail::kWhole) {
      back.closed = true;
      stats_.tail_writes++;
    } else if (mode == Tail::kSharePartial) {
      share_partial_page(back);
    } else if (back.used >= kWalPageSize) {
      cut(back);
    }
  }
  while (!queue_.empty() && queue_.front()->closed) {
    GroupPtr g = std::move(queue_.front());
    queue_.pop_front();
    Status s = g->ring == current_ring_ ? Status::ok() : enter_segment(g->ring);
    if (s) s = write_group(*g, durable && !dirty_);
    buffered_ -= g->used - g->rewritten;
    recycle(std::move(g));
    room_.notify_all();
    if (!s) return s;
  }
  return Status::ok();
}

Status WalWriter::write_group(Group& g, bool durable) {
  seal_before(g, g.used);
  std::uint32_t segment = static_cast<std::uint32_t>(g.ring % geometry().segment_count);
  char* base = reinterpret_cast<char*>(g.buffer.data());
  std::size_t length = align_up(g.used);
  std::memset(base + g.used, 0, length - g.used);
  if (durable) {
    if (g.rewritten == 0 && g.ring < 2 * geometry().segment_count) {  // lap 1
      if (Status s = zero_ahead(segment, g.start, g.start + length); !s) return s;
    }
    if (Status s = segments_.write_durable(segment, g.start, g.buffer.first(length)); !s) {
      dirty_ = true;  // in doubt, as after a failed sync
      return s;
    }
    stats_.syncs++;
    stats_.durable_writes++;
  } else {
    dirty_ = true;
    Status s = buffered_writes()
                   ? segments_.write_buffered(segment, g.start, g.buffer.first(length))
                   : segments_.write(segment, g.start, g.buffer.first(length));
    if (!s) return s;
  }
  if (!g.ends.empty()) {
    written_end_ = g.start + g.ends.back();
    written_ = geometry().logical(g.ring, written_end_);
  }
  if (durable) durable_ = std::max(durable_, written_);
  WalSegmentState& state = state_[segment];
  state.has_records = true;
  state.max_sequence = std::max(state.max_sequence, g.max_sequence);
  stats_.groups++;
  stats_.batches += g.batches;
  stats_.bytes_written += length;
  stats_.max_group_batches = std::max(stats_.max_group_batches, g.batches);
  return Status::ok();
}

// See "Zeroing ahead" in wal_writer.h. [from, to) is the group about to be written durably.
Status WalWriter::zero_ahead(std::uint32_t segment, std::uint64_t from, std::uint64_t to) {
  std::uint64_t& zeroed = zeroed_to_[segment];
  if (zeroed >= to) return Status::ok();
  const std::uint64_t start = std::max(zeroed, from);
  const std::uint64_t end = std::min<std::uint64_t>(segment_size_, std::max(to, start + kZeroAheadBytes));
  if (zeros_.size() == 0) zeros_ = AlignedBuffer(kZeroAheadBytes);
  for (std::uint64_t at = start; at < end;) {
    const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(end - at, zeros_.size()));
    if (Status s = segments_.write(segment, at, zeros_.first(n)); !s) return s;
    at += n;
  }
  stats_.zeroed_bytes += end - start;
  zeroed = end;
  return Status::ok();
}

Status WalWriter::sync_current() {
  std::uint32_t segment = static_cast<std::uint32_t>(current_ring_ % geometry().segment_count);
  std::uint64_t covered = geometry().logical(current_ring_, written_end_);
  if (Status s = segments_.sync(segment); !s) return s;
  stats_.syncs++;
  dirty_ = false;
  durable_ = std::max(durable_, covered);
  return Status::ok();
}

// Leaves the current segment for ring index `ring`: a zero page after the last group marks
// its clean end for recovery, a sync makes it all durable, then the next file must be free.
Status WalWriter::enter_segment(std::uint64_t ring) {
  std::uint32_t count = geometry().segment_count;
  std::uint32_t current = static_cast<std::uint32_t>(current_ring_ % count);
  std::uint64_t zero_at = align_up(written_end_);
  if (zero_at < segment_size_) {
    AlignedBuffer zeros(kWalPageSize);
    if (Status s = segments_.write(current, zero_at, zeros.span()); !s) return s;
    stats_.bytes_written += kWalPageSize;
  }
  if (Status s = sync_current(); !s) return s;
  durable_ = geometry().logical(ring, kWalHeaderPageSize);
  written_ = std::max(written_, durable_);

  std::uint32_t next = static_cast<std::uint32_t>(ring % count);
  if (!segment_free(next)) {
    stats_.full_waits++;
    while (!segment_free(next) && !closing_) flushed_cv_.wait();
    if (!segment_free(next)) return Status::shutdown("wal closed while waiting for a free segment");
  }
  state_[next] = WalSegmentState{ring, false, 0};
  current_ring_ = ring;
  written_end_ = kWalHeaderPageSize;
  return Status::ok();
}

bool WalWriter::segment_free(std::uint32_t segment) const {
  const WalSegmentState& s = state_[segment];
  return !s.has_records || s.max_sequence <= flushed_;
}

std::uint32_t WalWriter::segments_in_use() const {
  const std::uint32_t count = geometry().segment_count;
  // The tail may have reached rings the writer has not entered yet: their segments are
  // taken as well (else the engine would let the tail run into one no flush freed).
  const std::uint64_t ahead = std::min<std::uint64_t>(tail_ring_ - current_ring_, count - 1);
  std::uint32_t n = 0;
  for (std::uint32_t i = 0; i < count; ++i) {
    const std::uint64_t from_current = (i + count - current_ring_ % count) % count;
    if (from_current <= ahead || !segment_free(i)) ++n;
  }
  return n;
}

bool WalWriter::takes_without_waiting(std::size_t payload_size) const {
  const std::uint64_t size = wal_record_size(payload_size);
  // Where group_for() would put it: after the open last group's records while that group
  // takes it, else at the next page; in the next ring if the segment has no room there.
  const bool joins_back = !queue_.empty() && !queue_.back()->closed &&
                          queue_.back()->used + size <= options_.max_group_bytes;
  const std::uint64_t start = joins_back ? tail_end_ : align_up(tail_end_);
  std::uint64_t last = tail_ring_;
  if (start + size > segment_size_) ++last;
  const std::uint32_t count = geometry().segment_count;
  if (last - current_ring_ >= count) return false;
  for (std::uint64_t ring = current_ring_ + 1; ring <= last; ++ring) {
    if (!segment_free(static_cast<std::uint32_t>(ring % count))) return false;
  }
  return true;
}

void WalWriter::mark_flushed(SequenceNumber sequence) {
  if (sequence <= flushed_) return;
  flushed_ = sequence;
  flushed_cv_.notify_all();
}

void WalWriter::poison(const Status& error) {
  if (!poisoned_) return;
  poisoned_ = Status(error.code(), "wal write or sync failed, no more writes accepted: " +
                                       error.message());
  std::string message = poisoned_.to_string();
  if (options_.log) {
    options_.log(message);
  } else {
    std::fprintf(stderr, "cascade: %s\n", message.c_str());
  }
  for (GroupPtr& g : queue_) recycle(std::move(g));
  queue_.clear();
  buffered_ = 0;
  room_.notify_all();
}

Status WalWriter::sync() {
  if (!poisoned_) return poisoned_;
  return wait_for(appended_, Reach::kDurable);
}

Status WalWriter::sync_acknowledged() {
  if (!poisoned_) return poisoned_;
  if (durable_ >= acknowledged_unsynced_) return Status::ok();
  return wait_for(acknowledged_unsynced_, Reach::kDurable);
}

// The flusher writes whole pages of the tail as they fill, without any appender waiting.
// A fiber started when there are some and none runs; it ends when none are left, so an
// idle WAL holds no fiber (tests and shards wait for their fibers to end).
void WalWriter::start_flusher() {
  if (flushing_ || stopping_ || !poisoned_) return;
  flushing_ = true;
  flusher_ = runtime::Scheduler::current()->spawn([this] { flush_loop(); },
                                                  {.name = "wal-flusher"});
}

void WalWriter::flush_loop() {
  while (!stopping_ && poisoned_ && has_full_pages()) {
    acquire_io();
    Status s = poisoned_ && !stopping_ ? write_tail(Tail::kFullPages) : Status::ok();
    if (!s) poison(s);
    release_io();
  }
  flushing_ = false;
}

// The timer: sync_interval after an unsynced append, the partial tail goes out (and,
// under kEverySec, is synced). Like the flusher it runs only while there is something to
// write; the next unsynced append starts it again.
void WalWriter::start_timer() {
  if (timing_ || stopping_ || !poisoned_) return;
  timing_ = true;
  timer_ = runtime::Scheduler::current()->spawn([this] { timer_loop(); }, {.name = "wal-timer"});
}

void WalWriter::timer_loop() {
  const bool sync = options_.sync_policy == WalSyncPolicy::kEverySec;
  while (!stop_.wait_for(options_.sync_interval) && poisoned_) {
    if (sync && options_.before_timer_sync) {
      if (Status h = options_.before_timer_sync(); !h) {
        poison(h);
        break;
      }
    }
    acquire_io();
    Status s = stopping_ ? Status::ok() : write_tail(Tail::kWhole);
    if (s && sync && dirty_) s = sync_current();
    if (!s) poison(s);
    release_io();
    const bool hook_pending = sync && options_.timer_work_pending && options_.timer_work_pending();
    if (buffered_ == 0 && !(sync && dirty_) && !hook_pending) break;
  }
  timing_ = false;
}

Status WalWriter::close() {
  if (closed_) return poisoned_;
  closing_ = true;
  flushed_cv_.notify_all();
  acquire_io();
  Status s = poisoned_;
  if (s) s = write_tail(Tail::kWhole);
  if (s && dirty_) s = sync_current();
  if (!s) poison(s);
  stopping_ = true;
  release_io();
  stop_.set();
  if (flusher_.valid()) flusher_.join();
  if (timer_.valid()) timer_.join();
  closed_ = true;
  Status c = segments_.close();
  if (!s) return s;
  return poisoned_ ? c : poisoned_;
}

}  // namespace cascade::engine
