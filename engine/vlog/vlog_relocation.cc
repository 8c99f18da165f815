#include "engine/vlog/vlog_relocation.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <optional>
#include <span>
#include <tuple>

#include "engine/vlog/vlog_format.h"
#include "engine/vlog/vlog_reader.h"
#include "src/runtime/aligned_buffer.h"
#include "src/runtime/scheduler.h"

namespace cascade::engine {

double garbage_ratio(const VlogFile& f) {
  if (f.garbage_bytes >= f.file_size) return 1.0;
  constexpr std::uint64_t kPages = kVlogHeaderSize + kVlogFooterSize;
  constexpr std::uint64_t kMaxOverhead = kPages + kPageSize - 1;  // padding < one page
  if (f.file_size <= kPages) return 0.0;
  const std::uint64_t known = f.garbage_bytes > kMaxOverhead ? f.garbage_bytes - kMaxOverhead : 0;
  return static_cast<double>(known) / static_cast<double>(f.file_size - kPages);
}

std::set<std::uint64_t> files_to_relocate(const Version& version,
                                          const RelocationPolicy& policy) {
  const auto& files = version.vlog_files();  // ordered by number: oldest first
  const auto eligible = static_cast<std::size_t>(
      std::ceil(static_cast<double>(files.size()) * policy.age_cutoff));
  std::set<std::uint64_t> picked;
  std::size_t seen = 0;
  for (const auto& [number, f] : files) {
    if (seen++ >= eligible) break;
    if (garbage_ratio(f) >= policy.garbage_ratio) picked.insert(number);
  }
  return picked;
}

bool needs_targeted_compaction(const Version& version, const RelocationPolicy& policy) {
  const auto& files = version.vlog_files();
  return !files.empty() && garbage_ratio(files.begin()->second) >= policy.garbage_ratio;
}

namespace {

// The pages of one read: records of one file lying close together.
struct Range {
  OpenVlogPtr file;
  std::uint64_t start = 0;  // aligned to the file's read granularity
  std::uint64_t end = 0;
  runtime::AlignedBuffer pages;
  Result<std::size_t> read = std::size_t{0};
};

// The most a record's read can cost in buffer: its bytes, alignment on both sides (at most
// a page together) and the gap a merge may pull in before it.
std::size_t planned_read(const ValuePointer& p, const RelocatorOptions& options) {
  return static_cast<std::size_t>(p.size) + kPageSize + options.merge_gap;
}

// The head a moved record's pointer keeps: `head_size` bytes of its value, fewer if the
// value is shorter (as ValueSeparator::add makes them).
Result<std::string> head_of(const VlogRecord& record, std::size_t head_size) {
  const auto wanted =
      static_cast<std::size_t>(std::min<std::uint64_t>(head_size, record.value_size));
  if (record.compression == CompressionType::kNone) {
    return std::string(record.stored_value.substr(0, wanted));
  }
  std::string value;
  if (Status s = append_record_value(record, value); !s) return s;
  value.resize(std::min(value.size(), wanted));
  return value;
}

// Reads the records `from` name and calls visit(i, record) for each, in the order of
// `from`; the record's views live until the call returns.
template <typename Visit>
Status read_and_visit(ValueLog& log, const Version& version, const RelocatorOptions& options,
                      runtime::RateLimiter* limiter, RelocatorStats& stats,
                      std::span<const ValuePointer> from, std::span<const std::string> keys,
                      Visit&& visit) {
  std::vector<std::size_t> order(from.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return std::tie(from[a].file_number, from[a].offset) <
           std::tie(from[b].file_number, from[b].offset);
  });
  std::vector<Range> ranges;
  std::vector<std::size_t> range_of(from.size());
  for (std::size_t i : order) {
    const ValuePointer& p = from[i];
    auto meta = vlog_file_for(version, p);
    if (!meta) return meta.error();
    if (Status s = check_value_pointer(p, meta->file_size); !s) return s;
    OpenVlogPtr file;
    if (!ranges.empty() && ranges.back().file->file_number == p.file_number) {
      file = ranges.back().file;
    } else {
      auto opened = log.open(meta->file_number, meta->file_size);
      if (!opened) return opened.error();
      file = std::move(*opened);
    }
    const std::uint64_t granularity = file->file->read_alignment();
    const std::uint64_t start = runtime::align_down(p.offset, granularity);
    const std::uint64_t end = runtime::align_up(p.offset + p.size, granularity);
    if (!ranges.empty()) {
      Range& last = ranges.back();
      if (last.file == file && start <= last.end + options.merge_gap &&
          end - last.start <= options.max_read) {
        last.end = std::max(last.end, end);
        range_of[i] = ranges.size() - 1;
        continue;
      }
    }
    ranges.push_back(Range{std::move(file), start, end, {}, std::size_t{0}});
    range_of[i] = ranges.size() - 1;
  }
  if (ranges.empty()) return Status::ok();

  // The reads, up to reads_in_flight at once: workers on their own fibers and this one
  // take ranges in turn (one thread: the shared index needs no lock), then all are joined.
  // After a failed read the workers stop taking ranges.
  std::size_t next = 0;
  bool failed = false;
  auto worker = [&] {
    while (!failed && next < ranges.size()) {
      Range& r = ranges[next++];
      const auto length = static_cast<std::size_t>(r.end - r.start);
      if (limiter != nullptr) limiter->acquire(length);
      r.pages = runtime::AlignedBuffer::uninitialized(length);
      r.read = r.file->file->read_at(r.start, r.pages.first(length));
      if (!r.read) failed = true;
    }
  };
  runtime::Scheduler* scheduler = runtime::Scheduler::current();
  std::vector<runtime::FiberHandle> fibers;
  if (scheduler != nullptr && scheduler->in_fiber()) {
    const std::size_t extra =
        std::min(std::max<std::size_t>(options.reads_in_flight, 1), ranges.size()) - 1;
    for (std::size_t i = 0; i < extra; ++i) {
      // The caller's priority: compaction's reads must not run ahead of foreground work.
      runtime::SpawnOptions spawn;
      spawn.priority = scheduler->current_fiber()->priority();
      spawn.name = "vlog-relocate";
      fibers.push_back(scheduler->spawn(worker, spawn));
    }
  }
  worker();
  for (runtime::FiberHandle& f : fibers) f.join();

  ++stats.batches;
  stats.reads += ranges.size();
  for (const Range& r : ranges) stats.bytes += r.end - r.start;
  for (const Range& r : ranges) {
    if (!r.read) return r.read.error();
  }
  for (std::size_t i = 0; i < from.size(); ++i) {
    const Range& r = ranges[range_of[i]];
    // Only bytes the read returned are looked at (the buffer is uninitialized).
    std::string_view pages(reinterpret_cast<const char*>(r.pages.data()), *r.read);
    auto record = record_in_pages(pages, r.start, from[i], keys[i]);
    if (!record) return record.error();
    if (Status s = visit(i, *record); !s) return s;
    ++stats.records;
  }
  return Status::ok();
}

}  // namespace

Result<std::string> VlogRelocator::head_from_record(std::string_view user_key,
                                                    const ValuePointer& old,
                                                    std::size_t head_size) {
  if (!head_reader_) head_reader_.emplace(log_, version_, limiter_);
  ++stats_.head_reads;
  auto record = head_reader_->resolve_record(user_key, old.encode());
  if (!record) return record.error();
  return head_of(*record, head_size);
}

Result<ValuePointer> VlogRelocator::relocate(std::string_view user_key, const ValuePointer& old) {
  if (!status_) return status_;
  const std::size_t head_size = std::min(out_.value_head_size(), kMaxValueHeadSize);
  std::string head;
  if (old.head.size() >= head_size) {
    head = old.head.substr(0, head_size);
  } else {
    auto h = head_from_record(user_key, old, head_size);
    if (!h) return status_ = h.error();
    head = std::move(*h);
  }
  std::optional<ValuePointer> at;
  for (;;) {
    auto reserved = out_.reserve(old.size);
    if (!reserved) return status_ = reserved.error();
    if (*reserved) {
      at = std::move(**reserved);
      break;
    }
    if (from_.empty()) {  // only a filled file may refuse: never twice in a row
      return status_ = Status::invalid_argument("value log: reservation refused");
    }
    if (Status s = run_batch(); !s) return s;  // out must roll to a new file first
  }
  at->head = std::move(head);
  from_.push_back(old);
  keys_.emplace_back(user_key);
  to_.push_back(*at);
  planned_bytes_ += planned_read(old, options_);
  if (planned_bytes_ >= options_.batch_memory) {
    if (Status s = run_batch(); !s) return s;
  }
  return *std::move(at);
}

Status VlogRelocator::flush() {
  if (!status_) return status_;
  return run_batch();
}

Status VlogRelocator::run_batch() {
  if (from_.empty()) return Status::ok();
  status_ = read_and_visit(log_, *version_, options_, limiter_, stats_, from_, keys_,
                           [&](std::size_t i, const VlogRecord& record) {
                             return out_.fill_reserved(record, to_[i]);
                           });
  from_.clear();
  keys_.clear();
  to_.clear();
  planned_bytes_ = 0;
  return status_;
}

}  // namespace cascade::engine
