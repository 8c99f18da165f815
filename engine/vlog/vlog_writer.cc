#include "engine/vlog/vlog_writer.h"

#include <algorithm>
#include <cstring>

#include "engine/vlog/vlog_format.h"

namespace cascade::engine {

VlogWriter::VlogWriter(runtime::FileHandle& file, std::uint64_t file_number,
                       const CompressionOptions& compression, std::size_t chunk_size,
                       ValueCompressionStats* stats)
    : file_(file),
      file_number_(file_number),
      compressor_(compression, stats),
      chunks_(file, chunk_size) {
  status_ = append(encode_vlog_header(file_number_));
}

Result<ValuePointer> VlogWriter::add(std::string_view key, std::string_view value) {
  if (!status_) return status_;
  CompressionType type = compressor_.compress(value, compressed_);
  std::string_view stored = type == CompressionType::kNone ? value : std::string_view(compressed_);
  return add_stored(key, type, value.size(), stored);
}

Result<ValuePointer> VlogWriter::add_stored(std::string_view key, CompressionType compression,
                                            std::uint64_t value_size, std::string_view stored) {
  if (!status_) return status_;
  record_.clear();
  append_vlog_record(record_, file_number_, offset_, key, compression, value_size, stored);
  ValuePointer pointer{file_number_, offset_, record_.size(), {}};
  if (Status s = append(record_); !s) return s;
  ++record_count_;
  return pointer;
}

Status VlogWriter::append(std::string_view bytes) {
  while (!bytes.empty()) {
    auto* dst = reinterpret_cast<char*>(chunks_.buffer().data());
    std::size_t n = std::min(chunks_.chunk_size() - fill_, bytes.size());
    std::memcpy(dst + fill_, bytes.data(), n);
    fill_ += n;
    offset_ += n;
    bytes.remove_prefix(n);
    if (fill_ == chunks_.chunk_size()) {
      status_ = write_chunk();
      if (!status_) return status_;
    }
  }
  return Status::ok();
}

// Writes the chunk's pages; fill_ must be a multiple of the page size (or the chunk full).
Status VlogWriter::write_chunk() {
  Status s = chunks_.submit(fill_);
  fill_ = 0;
  return s;
}

Result<std::uint64_t> VlogWriter::finish() {
  if (!status_) return status_;
  VlogFooter footer{record_count_, offset_};
  std::uint64_t footer_offset = runtime::align_up(offset_);
  std::string padding(footer_offset - offset_, '\0');
  if (Status s = append(padding); !s) return s;
  if (Status s = append(encode_vlog_footer(footer, file_number_, footer_offset)); !s) return s;
  status_ = write_chunk();
  if (status_) status_ = chunks_.wait();
  if (status_) status_ = file_.sync();
  if (!status_) return status_;
  return offset_;
}

}  // namespace cascade::engine
