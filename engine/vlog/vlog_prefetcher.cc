#include "engine/vlog/vlog_prefetcher.h"

#include <algorithm>

#include "src/runtime/scheduler.h"

namespace cascade::engine {

Result<std::size_t> read_in_parallel(runtime::FileHandle& file, std::uint64_t offset,
                                     std::span<std::byte> buffer, std::size_t max_parts,
                                     std::size_t min_part, std::uint64_t* reads_issued) {
  const std::size_t size = buffer.size();
  std::size_t parts = std::clamp<std::size_t>(size / std::max<std::size_t>(min_part, 1), 1,
                                              std::max<std::size_t>(max_parts, 1));
  runtime::Scheduler* scheduler = runtime::Scheduler::current();
  if (scheduler == nullptr || !scheduler->in_fiber()) parts = 1;
  const std::size_t part_size = runtime::align_up((size + parts - 1) / parts);
  struct Part {
    std::size_t begin = 0, length = 0;
    Result<std::size_t> read = std::size_t{0};
  };
  std::vector<Part> plan;
  for (std::size_t begin = 0; begin < size; begin += part_size) {
    plan.push_back({begin, std::min(part_size, size - begin)});
  }
  if (reads_issued) *reads_issued += plan.size();
  auto read_part = [&](Part& part) {
    part.read = file.read_at(offset + part.begin, buffer.subspan(part.begin, part.length));
  };
  // Parts after the first on their own fibers; the first on this one; then join them all.
  std::vector<runtime::FiberHandle> fibers;
  for (std::size_t i = 1; i < plan.size(); ++i) {
    runtime::SpawnOptions spawn;
    spawn.name = "vlog-readahead";
    fibers.push_back(scheduler->spawn([&, i] { read_part(plan[i]); }, spawn));
  }
  if (!plan.empty()) read_part(plan[0]);
  for (runtime::FiberHandle& f : fibers) f.join();

  std::size_t total = 0;
  for (const Part& part : plan) {
    if (!part.read) return part.read.error();
    total += *part.read;
    if (*part.read < part.length) break;  // end of file: later parts read nothing
  }
  return total;
}

VlogPrefetcher::Window* VlogPrefetcher::window_for(std::uint64_t file_number) {
  for (auto& w : windows_) {
    if (w->file->file_number == file_number) return w.get();
  }
  return nullptr;
}

// Reads a new window for `p` into `w`. A miss next to the last window continues a scan:
// the readahead doubles and the window extends in the scan's direction (after the record
// going forward, before it going backward). A miss far from it is a jump (a new seek, or
// a file whose records are not in key order: values logged as they were written): only
// the record's pages are read, and readahead starts again if the next miss continues.
Status VlogPrefetcher::fill(Window& w, const ValuePointer& p, std::uint64_t file_size) {
  // A record straddling the window's end continues a forward scan too.
  const std::uint64_t window_end = w.start + w.length;
  const bool forward = w.length > 0 && p.offset >= w.start && p.offset < window_end + kMaxReadahead;
  const bool backward =
      w.length > 0 && p.offset < w.start && p.offset + p.size + kMaxReadahead > w.start;
  if (w.length == 0) {
    w.readahead = kInitialReadahead;  // the first record of the file: a scan may start here
  } else if (forward || backward) {
    w.readahead = std::clamp<std::size_t>(w.readahead * 2, kInitialReadahead, kMaxReadahead);
  } else {
    w.readahead = 0;
  }
  const std::uint64_t record_start = runtime::align_down(p.offset);
  const std::uint64_t record_end = runtime::align_up(p.offset + p.size);
  std::uint64_t start = record_start, end = record_end;
  if (backward) {
    start = record_start > w.readahead ? record_start - w.readahead : 0;
  } else {
    end = std::max<std::uint64_t>(std::min<std::uint64_t>(record_end + w.readahead, file_size),
                                  record_end);
  }
  const std::size_t length = static_cast<std::size_t>(end - start);
  if (w.pages.size() < length) w.pages = runtime::AlignedBuffer(length);
  w.start = start;
  w.length = 0;
  ++stats_.windows;
  stats_.bytes += length;
  if (limiter_ != nullptr) limiter_->acquire(length);
  auto n = read_in_parallel(*w.file->file, start, w.pages.first(length), kMaxParallelReads,
                            kMinReadPart, &stats_.reads);
  if (!n) return n.error();
  w.length = *n;
  return Status::ok();
}

Result<VlogRecord> VlogPrefetcher::resolve_record(std::string_view user_key,
                                                  std::string_view encoded) {
  auto p = ValuePointer::decode(encoded);
  if (!p) return p.error();
  auto meta = vlog_file_for(*version_, *p);
  if (!meta) return meta.error();
  if (Status s = check_value_pointer(*p, meta->file_size); !s) return s;

  Window* w = window_for(p->file_number);
  if (w == nullptr) {
    auto file = log_.open(meta->file_number, meta->file_size);
    if (!file) return file.error();
    if (windows_.size() < kMaxWindows) {
      windows_.push_back(std::make_unique<Window>());
      w = windows_.back().get();
    } else {
      w = std::min_element(windows_.begin(), windows_.end(), [](const auto& a, const auto& b) {
            return a->last_use < b->last_use;
          })->get();
      *w = Window{};
    }
    w->file = std::move(*file);
  }
  w->last_use = ++uses_;
  const bool inside = p->offset >= w->start && p->offset + p->size <= w->start + w->length;
  if (!inside) {
    if (Status s = fill(*w, *p, meta->file_size); !s) return s;
  }
  ++stats_.resolved;
  std::string_view pages(reinterpret_cast<const char*>(w->pages.data()), w->length);
  return record_in_pages(pages, w->start, *p, user_key);
}

Result<std::string_view> VlogPrefetcher::resolve(std::string_view user_key,
                                                 std::string_view encoded) {
  auto record = resolve_record(user_key, encoded);
  if (!record) return record.error();
  value_.clear();
  if (Status s = append_record_value(*record, value_); !s) return s;
  return std::string_view(value_);
}

}  // namespace cascade::engine
