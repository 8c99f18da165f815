#include "engine/wal/wal_writer.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "src/runtime/scheduler.h"

namespace cascade::engine {

using runtime::AlignedBuffer;
using runtime::align_down;
using runtime::align_up;

struct WalWriter::Group {
  std::uint64_t ring = 0;
  std::uint64_t start = 0;  // page-aligned offset in the segment
  AlignedBuffer buffer;
  std::size_t used = 0;
  std::vector<std::uint32_t> records;  // offsets of the records in buffer
  bool sync = false;
  bool sealed = false;  // taken by a leader: no more records
  bool done = false;
  SequenceNumber max_sequence = 0;
  Status status;
  runtime::ConditionVariable cv;  // waiters: its appenders
};

WalWriter::WalWriter(WalSegments segments, const WalOptions& options,
                     const WalRecovery& recovery)
    : segments_(std::move(segments)),
      options_(options),
      segment_size_(segments_.geometry().segment_size),
      state_(recovery.segments),
      current_ring_(recovery.resume_ring),
      written_end_(recovery.last_record_end),
      tail_ring_(recovery.resume_ring),
      tail_end_(recovery.resume_offset) {
  state_.resize(segments_.geometry().segment_count);
}

WalWriter::~WalWriter() {
  assert((closed_ || queue_.empty()) && "close() a WalWriter before destroying it");
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
  if (options.sync_policy == WalSyncPolicy::kEverySec) {
    w->syncer_ = runtime::Scheduler::current()->spawn([raw = w.get()] { raw->sync_loop(); });
  }
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

Result<WalPosition> WalWriter::append(const WriteBatch& batch, bool sync) {
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
  g.records.push_back(static_cast<std::uint32_t>(g.used));
  g.used += size;
  g.sync = g.sync || sync;
  SequenceNumber last = batch.sequence() + std::max<std::uint32_t>(batch.count(), 1) - 1;
  g.max_sequence = std::max(g.max_sequence, last);
  tail_end_ = g.start + g.used;
  stats_.payload_bytes += payload.size();

  std::shared_ptr<Group> mine = queue_.back();
  wait_for(mine);
  if (!mine->status) return mine->status;
  return position;
}

// The newest group if it is still open and has room, else a new one after it.
WalWriter::Group& WalWriter::group_for(std::uint64_t size) {
  if (!queue_.empty()) {
    Group& back = *queue_.back();
    if (!back.sealed && back.start + back.used + size <= segment_size_ &&
        back.used + size <= options_.max_group_bytes) {
      if (back.buffer.size() < back.used + size) {
        AlignedBuffer bigger(std::max<std::size_t>(2 * back.buffer.size(), back.used + size));
        std::memcpy(bigger.data(), back.buffer.data(), back.used);
        back.buffer = std::move(bigger);
      }
      return back;
    }
  }
  auto g = std::make_shared<Group>();
  g->ring = tail_ring_;
  g->start = align_up(tail_end_);
  if (g->start + size > segment_size_) {
    g->ring++;
    g->start = kWalHeaderPageSize;
  }
  if (!spare_buffers_.empty()) {
    g->buffer = std::move(spare_buffers_.back());
    spare_buffers_.pop_back();
  }
  if (g->buffer.size() < size) g->buffer = AlignedBuffer(std::max<std::size_t>(size, 64 << 10));
  tail_ring_ = g->ring;
  tail_end_ = g->start;
  queue_.push_back(std::move(g));
  return *queue_.back();
}

void WalWriter::wait_for(const std::shared_ptr<Group>& group) {
  while (!group->done) {
    if (io_busy_) {
      group->cv.wait();
      continue;
    }
    io_busy_ = true;
    lead();
    release_io();
  }
}

void WalWriter::release_io() {
  io_busy_ = false;
  if (!queue_.empty()) queue_.front()->cv.notify_one();  // the next group needs a leader
  io_free_.notify_all();
}

// Writes (and syncs if needed) the front group and completes it. Holds the IO role.
void WalWriter::lead() {
  std::shared_ptr<Group> g = queue_.front();
  g->sealed = true;
  Status s = poisoned_;
  if (s && g->ring != current_ring_) s = enter_segment(g->ring);
  if (s) s = write_group(*g);
  if (s && (g->sync || options_.sync_policy == WalSyncPolicy::kAlways)) s = sync_current();
  queue_.pop_front();
  finish(*g, s);
  if (!s) poison(s);
}

void WalWriter::finish(Group& g, const Status& status) {
  g.status = status;
  g.done = true;
  g.cv.notify_all();
  g.records.clear();
  spare_buffers_.push_back(std::move(g.buffer));
}

Status WalWriter::write_group(Group& g) {
  std::uint32_t segment = static_cast<std::uint32_t>(g.ring % geometry().segment_count);
  char* base = reinterpret_cast<char*>(g.buffer.data());
  for (std::uint32_t offset : g.records) {
    seal_wal_record(base + offset, durable_, geometry(), segment, g.start + offset);
  }
  std::size_t length = align_up(g.used);
  std::memset(base + g.used, 0, length - g.used);
  dirty_ = true;
  if (Status s = segments_.write(segment, g.start, g.buffer.first(length)); !s) return s;
  written_end_ = g.start + g.used;
  WalSegmentState& state = state_[segment];
  state.has_records = true;
  state.max_sequence = std::max(state.max_sequence, g.max_sequence);
  stats_.groups++;
  stats_.batches += g.records.size();
  stats_.bytes_written += length;
  stats_.max_group_batches = std::max<std::uint64_t>(stats_.max_group_batches, g.records.size());
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
  std::uint32_t n = 0;
  std::uint32_t current = static_cast<std::uint32_t>(current_ring_ % geometry().segment_count);
  for (std::uint32_t i = 0; i < geometry().segment_count; ++i) {
    if (i == current || !segment_free(i)) ++n;
  }
  return n;
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
  while (!queue_.empty()) {
    std::shared_ptr<Group> g = queue_.front();
    queue_.pop_front();
    finish(*g, poisoned_);
  }
}

Status WalWriter::sync() {
  if (!poisoned_) return poisoned_;
  io_free_.wait([this] { return !io_busy_; });
  io_busy_ = true;
  Status s = dirty_ ? sync_current() : Status::ok();
  if (!s) poison(s);
  release_io();
  return s ? s : poisoned_;
}

void WalWriter::sync_loop() {
  while (!stop_.wait_for(options_.sync_interval)) {
    if (dirty_ && poisoned_) (void)sync();
  }
}

Status WalWriter::close() {
  if (closed_) return poisoned_;
  closing_ = true;
  flushed_cv_.notify_all();
  io_free_.wait([this] { return queue_.empty() && !io_busy_; });
  stop_.set();
  if (syncer_.valid()) syncer_.join();
  Status s = poisoned_;
  if (s && dirty_) s = sync();
  closed_ = true;
  Status c = segments_.close();
  return s ? c : s;
}

}  // namespace cascade::engine
