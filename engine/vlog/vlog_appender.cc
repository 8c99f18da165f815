#include "engine/vlog/vlog_appender.h"

#include <algorithm>

#include "engine/version/file_names.h"
#include "engine/vlog/vlog_format.h"
#include "src/runtime/aligned_buffer.h"
#include "src/runtime/scheduler.h"

namespace cascade::engine {

namespace {

std::span<const std::byte> bytes_of(std::string_view s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

// Zeros from `data_end` to the next page boundary, then the footer page.
std::string tail_after(std::uint64_t data_end, std::uint64_t record_count,
                       std::uint64_t file_number, std::uint64_t& file_size) {
  const std::uint64_t footer_offset = runtime::align_up(data_end);
  std::string tail(footer_offset - data_end, '\0');
  tail += encode_vlog_footer(VlogFooter{record_count, data_end}, file_number, footer_offset);
  file_size = footer_offset + kVlogFooterSize;
  return tail;
}

}  // namespace

Result<std::shared_ptr<VlogAppender>> VlogAppender::create(runtime::FileSystem& fs,
                                                          const std::string& dir,
                                                          std::uint64_t file_number,
                                                          const CompressionOptions& compression,
                                                          ValueCompressionStats* stats) {
  // Buffered: records are appended a few at a time at any offset, by plain pwrite
  // (FileHandle::write_buffered_at: a copy into the page cache, no io_uring round trip),
  // and synced in groups. Readers open the file again with O_DIRECT once it is finished
  // and synced.
  runtime::OpenOptions create = runtime::OpenOptions::read_write_create();
  create.truncate = true;
  auto file = fs.open(path_join(dir, vlog_file_name(file_number)), create);
  if (!file) return file.error();
  return std::shared_ptr<VlogAppender>(
      new VlogAppender(std::move(*file), file_number, compression, stats));
}

VlogAppender::VlogAppender(std::unique_ptr<runtime::FileHandle> file, std::uint64_t file_number,
                           const CompressionOptions& compression, ValueCompressionStats* stats)
    : file_(std::move(file)), file_number_(file_number), compressor_(compression, stats) {
  pending_ = encode_vlog_header(file_number_);
  appended_ = pending_.size();
}

VlogAppender::~VlogAppender() {
  if (file_) (void)file_->close();
}

namespace {
// Allocation steps: few fallocate calls, little left unused in a finished file (the tail
// past the footer is cut off).
constexpr std::uint64_t kAllocationStep = std::uint64_t{4} << 20;
// Room kept for the padding and the footer.
constexpr std::uint64_t kFooterRoom = 2 * kPageSize;
}  // namespace

std::uint64_t VlogAppender::record_bound(std::size_t key_size, std::size_t value_size) {
  // The compressor stores a value uncompressed when compression does not make it smaller.
  return kVlogMaxRecordHeaderSize + key_size + value_size;
}

bool VlogAppender::has_room(std::uint64_t bytes) const {
  return appended_ + bytes + kFooterRoom <= allocated_;
}

Status VlogAppender::reserve(std::uint64_t bytes) {
  if (!error_.is_ok()) return error_;
  if (finishing_ || has_room(bytes)) return Status::ok();  // the caller checks again
  const std::uint64_t want =
      runtime::align_up(std::max(appended_ + bytes + kFooterRoom, allocated_ + kAllocationStep));
  ++reserving_;
  Status s = file_->allocate(allocated_, want - allocated_);
  --reserving_;
  if (s) allocated_ = std::max(allocated_, want);
  progress_.notify_all();
  return s;
}

ValuePointer VlogAppender::append(std::string_view key, std::string_view value,
                                  std::size_t head_size) {
  CompressionType type = compressor_.compress(value, compressed_);
  std::string_view stored = type == CompressionType::kNone ? value : std::string_view(compressed_);
  return append_record(key, value, type, stored, head_size);
}

ValuePointer VlogAppender::append_stored(std::string_view key, std::string_view value,
                                         const StoredValue& stored, std::size_t head_size) {
  return append_record(key, value, stored.type, stored.stored(value), head_size);
}

ValuePointer VlogAppender::append_record(std::string_view key, std::string_view value,
                                         CompressionType type, std::string_view stored,
                                         std::size_t head_size) {
  const std::size_t before = pending_.size();
  append_vlog_record(pending_, file_number_, appended_, key, type, value.size(), stored);
  ValuePointer pointer{file_number_, appended_, pending_.size() - before, {}};
  pointer.head.assign(value.substr(0, std::min(head_size, kMaxValueHeadSize)));
  appended_ += pointer.size;
  ++record_count_;
  return pointer;
}

Status VlogAppender::write_out() { return write_out_through(appended_); }

// Group write: the first caller writes everything pending; callers arriving meanwhile wait
// and write what was appended while it ran.
Status VlogAppender::write_out_through(std::uint64_t target) {
  while (written_ < target) {
    if (!error_.is_ok()) return error_;
    if (finishing_) return wait_finished();
    if (writing_) {
      progress_.wait();
      continue;
    }
    writing_ = true;
    std::string bytes = std::move(pending_);
    pending_.clear();
    const std::uint64_t at = written_;
    Status s;
    const std::span<const std::byte> all = bytes_of(bytes);
    for (std::size_t done = 0; done < all.size() && s;) {
      const std::size_t n = std::min(all.size() - done, kWritePiece);
      s = file_->write_buffered_at(at + done, all.subspan(done, n));
      done += n;
      // Appends meanwhile go to the fresh pending_, after these bytes.
      if (s && done < all.size()) runtime::this_fiber::yield_if_on_fiber();
    }
    writing_ = false;
    if (!s) {
      error_ = s;
    } else {
      written_ = at + bytes.size();
    }
    progress_.notify_all();
  }
  return error_;
}

Status VlogAppender::sync() {
  const std::uint64_t target = appended_;
  if (Status s = write_out_through(target); !s) return s;
  while (synced_ < target) {
    if (!error_.is_ok()) return error_;
    if (finishing_) return wait_finished();
    if (syncing_) {
      progress_.wait();
      continue;
    }
    syncing_ = true;
    const std::uint64_t covered = written_;
    Status s = file_->sync();
    syncing_ = false;
    if (!s) {
      error_ = s;
    } else {
      synced_ = std::max(synced_, covered);
    }
    progress_.notify_all();
  }
  return error_;
}

Result<std::uint64_t> VlogAppender::finish() {
  if (finished_size_ != 0) return finished_size_;
  if (finishing_) {
    if (Status s = wait_finished(); !s) return s;
    return finished_size_;
  }
  if (Status s = write_out_through(appended_); !s) return s;
  // From here writers wait for the footer's sync instead of starting IO of their own, and
  // the IO they started ends before the file is closed.
  finishing_ = true;
  progress_.wait([&] { return !writing_ && !syncing_ && reserving_ == 0; });
  if (!error_.is_ok()) {
    progress_.notify_all();
    return error_;
  }
  std::uint64_t size = 0;
  std::string tail = tail_after(appended_, record_count_, file_number_, size);
  Status s = file_->write_buffered_at(appended_, bytes_of(tail));
  if (s && allocated_ > size) s = file_->truncate(size);
  if (s) s = file_->sync();
  if (s) s = file_->close();
  if (!s) {
    error_ = s;
    progress_.notify_all();
    return s;
  }
  file_.reset();
  written_ = synced_ = appended_;
  finished_size_ = size;
  progress_.notify_all();
  return size;
}

Status VlogAppender::wait_finished() {
  progress_.wait([&] { return finished_size_ != 0 || !error_.is_ok(); });
  return error_;
}

Result<std::uint64_t> VlogAppender::finish_recovered(runtime::FileSystem& fs,
                                                     const std::string& dir,
                                                     std::uint64_t file_number,
                                                     std::uint64_t data_end,
                                                     std::uint64_t record_count) {
  runtime::OpenOptions open;
  open.access = runtime::OpenOptions::Access::kReadWrite;
  auto file = fs.open(path_join(dir, vlog_file_name(file_number)), open);
  if (!file) return file.error();
  std::uint64_t size = 0;
  std::string tail = tail_after(data_end, record_count, file_number, size);
  // The header too: a power loss may have kept record pages the kernel wrote back while
  // losing the header page's.
  Status s = (*file)->write_buffered_at(0, bytes_of(encode_vlog_header(file_number)));
  if (s) s = (*file)->write_buffered_at(data_end, bytes_of(tail));
  if (s) s = (*file)->truncate(size);
  if (s) s = (*file)->sync();
  Status closed = (*file)->close();
  if (!s) return s;
  if (!closed) return closed;
  return size;
}

const ValuePointer* LoggedValues::find(SequenceNumber sequence) const {
  auto it = std::lower_bound(pointers.begin(), pointers.end(), sequence,
                             [](const auto& entry, SequenceNumber s) { return entry.first < s; });
  if (it == pointers.end() || it->first != sequence) return nullptr;
  return &it->second;
}

}  // namespace cascade::engine
