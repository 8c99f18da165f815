// Gathers page-aligned blocks into large aligned writes (see page_writer.h).
#include "engine/table/page_writer.h"

#include <algorithm>
#include <cstring>

namespace cascade::engine {

PageWriter::PageWriter(runtime::FileHandle& file, std::size_t chunk_size)
    : file_(file), buffer_(runtime::align_up(std::max<std::size_t>(chunk_size, 1))) {}

Status PageWriter::append(std::string_view block) {
  if (!status_) return status_;
  std::size_t padded = runtime::align_up(block.size());
  auto* dst = reinterpret_cast<char*>(buffer_.data());
  std::size_t written = 0;
  while (written < padded) {
    std::size_t room = buffer_.size() - fill_;
    std::size_t n = std::min(room, padded - written);
    std::size_t data = written < block.size() ? std::min(n, block.size() - written) : 0;
    std::memcpy(dst + fill_, block.data() + written, data);
    std::memset(dst + fill_ + data, 0, n - data);  // the buffer is reused: zero the padding
    fill_ += n;
    written += n;
    if (fill_ == buffer_.size()) {
      status_ = write_chunk();
      if (!status_) return status_;
    }
  }
  offset_ += padded;
  return Status::ok();
}

Status PageWriter::write_chunk() {
  if (fill_ == 0) return Status::ok();
  Status s = file_.write_at(buffer_start_, buffer_.first(fill_));
  buffer_start_ += fill_;
  fill_ = 0;
  return s;
}

Status PageWriter::finish() {
  if (!status_) return status_;
  status_ = write_chunk();
  return status_;
}

}  // namespace cascade::engine
