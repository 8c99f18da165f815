#include "engine/wal/wal_reader.h"

#include <algorithm>
#include <optional>

#include "engine/format/coding.h"

namespace cascade::engine {

namespace {

using runtime::AlignedBuffer;
using runtime::align_down;
using runtime::align_up;

enum class Stop { kRecord, kEnd, kBad };

// Valid records of one lap found by searching every 8-byte offset.
struct Found {
  std::uint64_t first = 0;       // offset of the first one
  std::uint64_t last_end = 0;    // end of the last one
  std::uint64_t max_durable_to = 0;
  std::uint64_t count = 0;
};

class Recovery {
 public:
  Recovery(WalSegments& segments, const WalRecoveryOptions& options, const WalReplayFn& replay)
      : segs_(segments), g_(segments.geometry()), options_(options), replay_(replay),
        buffer_(AlignedBuffer::uninitialized(g_.segment_size)) {
    out_.segments.resize(g_.segment_count);
  }

  Result<WalRecovery> run();

 private:
  const char* bytes() const { return reinterpret_cast<const char*>(buffer_.data()); }
  std::string where(std::uint32_t segment, std::uint64_t offset) const {
    return wal_segment_name(segment) + " offset " + std::to_string(offset);
  }

  Result<std::optional<std::uint64_t>> first_ring(std::uint32_t segment);
  Result<std::optional<std::uint64_t>> newest_ring_inside(std::uint32_t segment);
  Stop next(std::uint64_t& p, std::uint32_t lap, std::uint32_t segment, bool top,
            WalRecordHeader& h, bool& skipped_padding) const;
  bool hides_lost_group(std::uint64_t ring, std::uint64_t pad, std::uint64_t p,
                        const WalRecordHeader& h) const;
  std::optional<Found> search(std::uint64_t from, std::uint32_t lap, std::uint32_t segment) const;
  Status replay_record(std::uint64_t ring, std::uint64_t p, const WalRecordHeader& h);
  Status scan_segment(std::uint64_t ring, bool top);
  void note_torn_tail(std::uint64_t ring, std::uint64_t p, const std::optional<Found>& found);

  WalSegments& segs_;
  const WalGeometry g_;
  const WalRecoveryOptions& options_;
  const WalReplayFn& replay_;
  AlignedBuffer buffer_;  // one whole segment; every byte looked at was read first
  WalRecovery out_;
  std::uint64_t last_end_ = kWalHeaderPageSize;  // in the segment being scanned
  std::uint64_t entered_ring_ = 0;  // the oldest slot of a full window, 0 if none
  // The sequence the next record must start with (the write path logs batches in sequence
  // order, without holes); 0 before the first record replayed.
  SequenceNumber expected_sequence_ = 0;
};

// The ring index named by the segment's first record, if that record is valid.
Result<std::optional<std::uint64_t>> Recovery::first_ring(std::uint32_t segment) {
  std::span<std::byte> page = buffer_.first(kWalPageSize);
  if (Status s = segs_.read(segment, kWalHeaderPageSize, page); !s) return s;
  std::uint32_t length = load_fixed32(bytes() + 4);
  std::uint64_t available = g_.segment_size - kWalHeaderPageSize;
  if (kWalRecordHeaderSize + std::uint64_t{length} > kWalPageSize && length <= available) {
    std::span<std::byte> more = buffer_.first(align_up(kWalRecordHeaderSize + length));
    if (Status s = segs_.read(segment, kWalHeaderPageSize, more); !s) return s;
  }
  auto h = parse_wal_record(bytes(), available, g_, segment, kWalHeaderPageSize);
  if (!h) return std::optional<std::uint64_t>();
  return std::optional<std::uint64_t>(g_.ring_index(h->lap, segment));
}

// Advances p over padding to the next record (kRecord, header in h) or a stop.
Stop Recovery::next(std::uint64_t& p, std::uint32_t lap, std::uint32_t segment, bool top,
                    WalRecordHeader& h, bool& skipped_padding) const {
  skipped_padding = false;
  for (;;) {
    if (p >= g_.segment_size) return Stop::kEnd;
    const char* at = bytes() + p;
    std::uint64_t available = g_.segment_size - p;
    bool page_start = p % kWalPageSize == 0;
    // Zeros up to the page's end (or a header's worth) mean padding: a header starting
    // fewer than 24 bytes before a page end must not be read into the next group's page.
    std::uint64_t to_page_end = kWalPageSize - p % kWalPageSize;
    if (is_zero(at, std::min({std::uint64_t{kWalRecordHeaderSize}, available, to_page_end}))) {
      if (page_start) return Stop::kEnd;
      p = align_up(p);  // zeros after a group's last record fill its last page
      skipped_padding = true;
      continue;
    }
    auto parsed = parse_wal_record(at, available, g_, segment, p);
    if (parsed && parsed->lap == lap) {
      h = *parsed;
      return Stop::kRecord;
    }
    bool other_lap = available >= 12 && load_fixed32(at + 8) != lap;
    return page_start && top && other_lap ? Stop::kEnd : Stop::kBad;
  }
}

std::optional<Found> Recovery::search(std::uint64_t from, std::uint32_t lap,
                                      std::uint32_t segment) const {
  std::optional<Found> found;
  std::uint64_t q = align_up(from, kWalRecordAlignment);
  for (; q + kWalRecordHeaderSize <= g_.segment_size; q += kWalRecordAlignment) {
    const char* at = bytes() + q;
    if (load_fixed32(at + 8) != lap || at[12] != static_cast<char>(WalRecordType::kBatch)) continue;
    auto h = parse_wal_record(at, g_.segment_size - q, g_, segment, q);
    if (!h) continue;
    if (!found) found = Found{q, 0, 0, 0};
    found->last_end = q + wal_record_size(h->length);
    found->max_durable_to = std::max(found->max_durable_to, h->durable_to);
    found->count++;
  }
  return found;
}

// Zeros from `pad` to the page's end read as the padding after a group's last record; they
// are also what a torn write leaves where the later records of that group were lost, if
// the tear fell exactly on a record's start. The record at p (a later group) tells the two
// apart: padding is followed by the next sequence. A hole in the sequence with a record
// whose durable_to <= pad (nothing at pad had been synced when it was written) is such a
// loss, and the log must end at pad. A hole after synced bytes is legitimate: the engine
// resumes, after recovery, past sequences that reached its tables but not the log.
bool Recovery::hides_lost_group(std::uint64_t ring, std::uint64_t pad, std::uint64_t p,
                                const WalRecordHeader& h) const {
  if (expected_sequence_ == 0 || h.length < 8) return false;
  SequenceNumber first = load_fixed64(bytes() + p + kWalRecordHeaderSize);
  return first != expected_sequence_ && h.durable_to < g_.logical(ring, pad);
}

Status Recovery::replay_record(std::uint64_t ring, std::uint64_t p, const WalRecordHeader& h) {
  std::uint32_t segment = static_cast<std::uint32_t>(ring % g_.segment_count);
  auto batch = WriteBatch::from_contents(
      std::string(bytes() + p + kWalRecordHeaderSize, h.length));
  if (!batch) {
    return Status::corruption(where(segment, p) + ": checksummed record holds a bad batch: " +
                              batch.error().message());
  }
  SequenceNumber last = batch->sequence() + std::max<std::uint32_t>(batch->count(), 1) - 1;
  WalSegmentState& state = out_.segments[segment];
  state.has_records = true;
  state.max_sequence = std::max(state.max_sequence, last);
  out_.last_sequence = std::max(out_.last_sequence, last);
  out_.batches++;
  expected_sequence_ = last + 1;
  return replay_(*batch, g_.position(ring, p));
}

void Recovery::note_torn_tail(std::uint64_t ring, std::uint64_t p,
                              const std::optional<Found>& found) {
  out_.torn_tail = true;
  out_.torn_at = g_.position(ring, p);
  std::uint64_t end = std::max(p + kWalRecordHeaderSize, found ? found->last_end : 0);
  out_.erase_end = std::min(align_up(end), g_.segment_size);
  out_.dropped_records = found ? found->count : 0;
  std::uint64_t page = align_down(last_end_);
  out_.tail_page.assign(bytes() + page, kWalPageSize);
  std::fill(out_.tail_page.begin() + (last_end_ - page), out_.tail_page.end(), '\0');
}

Status Recovery::scan_segment(std::uint64_t ring, bool top) {
  std::uint32_t lap = static_cast<std::uint32_t>(ring / g_.segment_count);
  std::uint32_t segment = static_cast<std::uint32_t>(ring % g_.segment_count);
  if (Status s = segs_.read(segment, 0, buffer_.span()); !s) return s;
  out_.segments[segment].ring = ring;
  std::uint64_t p = kWalHeaderPageSize;
  last_end_ = p;
  for (;;) {
    WalRecordHeader h;
    bool padded = false;
    Stop stop = next(p, lap, segment, top, h, padded);
    if (stop == Stop::kRecord && padded && hides_lost_group(ring, last_end_, p, h)) {
      stop = Stop::kBad;
      p = last_end_;
    }
    if (stop == Stop::kRecord) {
      if (Status s = replay_record(ring, p, h); !s) {
        if (!s.is_corruption() || !options_.tolerant) return s;
        out_.skipped_damage++;
      }
      p += wal_record_size(h.length);
      last_end_ = p;
      continue;
    }
    std::optional<Found> found = search(p + 1, lap, segment);
    if (stop == Stop::kEnd && !found) return Status::ok();
    if (ring == entered_ring_) {  // see run(): the rest is left out
      out_.discarded_ring = ring;
      return Status::ok();
    }
    bool acknowledged = !top || (found && found->max_durable_to > g_.logical(ring, p));
    if (!acknowledged) {
      note_torn_tail(ring, p, found);
      return Status::ok();
    }
    if (!options_.tolerant) {
      return Status::corruption(where(segment, p) +
                                ": damaged wal record followed by acknowledged records");
    }
    out_.skipped_damage++;
    if (!found) return Status::ok();
    p = found->first;
  }
}

// For a segment whose first record is damaged (or torn) but whose first page is not
// zeros: the ring index of the newest lap among the valid records inside it, if any.
Result<std::optional<std::uint64_t>> Recovery::newest_ring_inside(std::uint32_t segment) {
  if (is_zero(bytes(), kWalPageSize)) return std::optional<std::uint64_t>();
  if (Status s = segs_.read(segment, 0, buffer_.span()); !s) return s;
  std::optional<std::uint64_t> newest;
  for (std::uint64_t q = kWalHeaderPageSize; q + kWalRecordHeaderSize <= g_.segment_size;
       q += kWalRecordAlignment) {
    auto h = parse_wal_record(bytes() + q, g_.segment_size - q, g_, segment, q);
    if (h) newest = std::max(newest.value_or(0), g_.ring_index(h->lap, segment));
  }
  return newest;
}

Result<WalRecovery> Recovery::run() {
  std::vector<std::optional<std::uint64_t>> rings;
  std::vector<bool> damaged_first;  // first record bad, first page not zeros
  std::optional<std::uint64_t> top;
  for (std::uint32_t i = 0; i < g_.segment_count; ++i) {
    auto r = first_ring(i);
    if (!r) return r.error();
    damaged_first.push_back(!*r && !is_zero(bytes(), kWalPageSize));
    if (!*r) {
      auto inside = newest_ring_inside(i);
      if (!inside) return inside.error();
      *r = *inside;
    }
    rings.push_back(*r);
    if (*r && (!top || **r > *top)) top = **r;
  }
  // The writer enters the next segment by overwriting its first page: if that write was
  // lost in a crash while a later one landed, the file's first record still names the
  // older lap. Records of the next lap inside it make it the newest segment.
  std::uint64_t next_ring = top ? *top + 1 : g_.segment_count;
  std::uint32_t next_segment = static_cast<std::uint32_t>(next_ring % g_.segment_count);
  if (rings[next_segment] != next_ring) {
    if (Status s = segs_.read(next_segment, 0, buffer_.span()); !s) return s;
    if (search(kWalHeaderPageSize, static_cast<std::uint32_t>(next_ring / g_.segment_count),
               next_segment)) {
      rings[next_segment] = next_ring;
      top = next_ring;
    }
  }
  if (!top) {  // a new WAL: lap 1, segment 0
    out_.resume_ring = g_.segment_count;
    out_.resume_offset = out_.last_record_end = kWalHeaderPageSize;
    return std::move(out_);
  }
  std::uint64_t low = std::max<std::uint64_t>(g_.segment_count, *top + 1 - g_.segment_count);
  // The oldest slot of the window is the segment after top: the one the writer enters
  // next, once all its records are flushed, by writing pages of lap(top) + 1 over them
  // without a sync. A crash may land any of those writes torn, or a later one while an
  // earlier one is lost: damage anywhere in that segment is taken as such an entry and the
  // segment is replayed only up to it (discarded_ring; none of it if its first record is
  // the damage). It may also be damage to an oldest segment still holding unflushed
  // batches: the engine, which knows what is flushed, sees a gap then (engine/recovery.h).
  if (low == *top + 1 - g_.segment_count) entered_ring_ = low;
  std::uint32_t oldest = static_cast<std::uint32_t>(low % g_.segment_count);
  if (entered_ring_ != 0 && damaged_first[oldest]) {
    out_.discarded_ring = low;
    ++low;
  }
  for (std::uint64_t r = low; r <= *top; ++r) {
    std::uint32_t segment = static_cast<std::uint32_t>(r % g_.segment_count);
    if (rings[segment] != r) {
      if (!options_.tolerant) {
        return Status::corruption(where(segment, kWalHeaderPageSize) +
                                  ": first record of a logged segment is damaged");
      }
      out_.skipped_damage++;
      continue;
    }
    if (Status s = scan_segment(r, r == *top); !s) return s;
  }
  out_.resume_ring = *top;
  out_.last_record_end = last_end_;
  out_.resume_offset = align_up(last_end_);
  return std::move(out_);
}

}  // namespace

Result<WalRecovery> recover_wal(WalSegments& segments, const WalRecoveryOptions& options,
                                const WalReplayFn& replay) {
  Recovery recovery(segments, options, replay);
  return recovery.run();
}

}  // namespace cascade::engine
