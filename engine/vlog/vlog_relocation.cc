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

}  // namespace

// Reads the records `moves` name and calls visit(move, record) for each, in the order of
// `moves`; the record's views live until the call returns.
template <typename Visit>
static Status read_and_visit(ValueLog& log, const Version& version,
                             const RelocatorOptions& options, runtime::RateLimiter* limiter,
                             RelocatorStats& stats, std::span<const ValuePointer> from,
                             std::span<const std::string_view> keys, Visit&& visit) {
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

  // The reads, up to reads_in_flight at once: workers on their own fibers and this one
  // take ranges in turn (one thread: the shared index needs no lock), then all are joined.
  std::size_t next = 0;
  auto worker = [&] {
    while (next < ranges.size()) {
      Range& r = ranges[next++];
      const auto length = static_cast<std::size_t>(r.end - r.start);
      if (limiter != nullptr) limiter->acquire(length);
      r.pages = runtime::AlignedBuffer(length);
      r.read = r.file->file->read_at(r.start, r.pages.first(length));
    }
  };
  runtime::Scheduler* scheduler = runtime::Scheduler::current();
  std::vector<runtime::FiberHandle> fibers;
  if (scheduler != nullptr && scheduler->in_fiber()) {
    const std::size_t extra =
        std::min(std::max<std::size_t>(options.reads_in_flight, 1), ranges.size()) - 1;
    for (std::size_t i = 0; i < extra; ++i) {
      runtime::SpawnOptions spawn;
      spawn.name = "vlog-relocate";
      fibers.push_back(scheduler->spawn(worker, spawn));
    }
  }
  worker();
  for (runtime::FiberHandle& f : fibers) f.join();

  ++stats.batches;
  stats.reads += ranges.size();
  for (const Range& r : ranges) stats.bytes += r.end - r.start;
  for (std::size_t i = 0; i < from.size(); ++i) {
    const Range& r = ranges[range_of[i]];
    if (!r.read) return r.read.error();
    std::string_view pages(reinterpret_cast<const char*>(r.pages.data()), *r.read);
    auto record = record_in_pages(pages, r.start, from[i], keys[i]);
    if (!record) return record.error();
    if (Status s = visit(i, *record); !s) return s;
    ++stats.records;
  }
  return Status::ok();
}

Result<ValuePointer> VlogRelocator::relocate(std::string_view user_key, const ValuePointer& old) {
  const std::size_t head_size = std::min(options_.value_head_size, kMaxValueHeadSize);
  if (old.head.size() < head_size) {
    // The new head needs the value: move this record alone, after the batch.
    if (Status s = flush(); !s) return s;
    ValuePointer moved;
    const std::string_view key = user_key;
    Status s = read_and_visit(log_, *version_, options_, limiter_, stats_, {&old, 1}, {&key, 1},
                              [&](std::size_t, const VlogRecord& record) -> Status {
                                auto p = out_.add_record(record, old.head);
                                if (!p) return p.error();
                                moved = std::move(*p);
                                return Status::ok();
                              });
    if (!s) return s;
    return moved;
  }
  std::optional<ValuePointer> at;
  for (;;) {
    auto reserved = out_.reserve(old.size);
    if (!reserved) return reserved.error();
    if (*reserved) {
      at = std::move(**reserved);
      break;
    }
    if (Status s = flush(); !s) return s;  // out must roll to a new file first
  }
  at->head = old.head.substr(0, head_size);
  pending_.push_back(Move{old, std::string(user_key), *at});
  if (out_.reserved_bytes() >= options_.batch_bytes) {
    if (Status s = flush(); !s) return s;
  }
  return *std::move(at);
}

Status VlogRelocator::flush() {
  if (pending_.empty()) return Status::ok();
  std::vector<ValuePointer> from;
  std::vector<std::string_view> keys;
  from.reserve(pending_.size());
  keys.reserve(pending_.size());
  for (const Move& m : pending_) {
    from.push_back(m.from);
    keys.push_back(m.key);
  }
  Status s = read_and_visit(log_, *version_, options_, limiter_, stats_, from, keys,
                            [&](std::size_t i, const VlogRecord& record) {
                              return out_.fill_reserved(record, pending_[i].to);
                            });
  pending_.clear();
  return s;
}

}  // namespace cascade::engine
