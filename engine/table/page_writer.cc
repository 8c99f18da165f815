// Gathers page-aligned blocks into large aligned writes (see page_writer.h).
#include "engine/table/page_writer.h"

#include <algorithm>
#include <cstring>

namespace cascade::engine {

PageWriter::PageWriter(runtime::FileHandle& file, std::size_t chunk_size)
    : chunks_(file, chunk_size) {}

Status PageWriter::append(std::string_view block) {
  if (!status_) return status_;
  std::size_t padded = runtime::align_up(block.size());
  std::size_t written = 0;
  while (written < padded) {
    auto* dst = reinterpret_cast<char*>(chunks_.buffer().data());
    std::size_t room = chunks_.chunk_size() - fill_;
    std::size_t n = std::min(room, padded - written);
    std::size_t data = written < block.size() ? std::min(n, block.size() - written) : 0;
    std::memcpy(dst + fill_, block.data() + written, data);
    std::memset(dst + fill_ + data, 0, n - data);  // the buffer is reused: zero the padding
    fill_ += n;
    written += n;
    if (fill_ == chunks_.chunk_size()) {
      status_ = write_chunk();
      if (!status_) return status_;
    }
  }
  offset_ += padded;
  return Status::ok();
}

Status PageWriter::write_chunk() {
  Status s = chunks_.submit(fill_);
  fill_ = 0;
  return s;
}

Status PageWriter::finish() {
  if (!status_) return status_;
  status_ = write_chunk();
  if (status_) status_ = chunks_.wait();
  return status_;
}

}  // namespace cascade::engine
