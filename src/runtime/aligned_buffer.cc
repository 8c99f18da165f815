// See aligned_buffer.h.
#include "src/runtime/aligned_buffer.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <utility>

namespace cascade::runtime {

AlignedBuffer::AlignedBuffer(std::size_t size) : size_(align_up(size)) {
  if (size_ == 0) return;
  data_ = static_cast<std::byte*>(std::aligned_alloc(kPageSize, size_));
  if (data_ == nullptr) {
    std::fprintf(stderr, "cascade: out of memory allocating %zu aligned bytes\n", size_);
    std::abort();
  }
  std::memset(data_, 0, size_);
}

AlignedBuffer::~AlignedBuffer() { std::free(data_); }

AlignedBuffer::AlignedBuffer(AlignedBuffer&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}

AlignedBuffer& AlignedBuffer::operator=(AlignedBuffer&& other) noexcept {
  if (this != &other) {
    std::free(data_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

void AlignedBuffer::clear() {
  if (data_ != nullptr) std::memset(data_, 0, size_);
}

}  // namespace cascade::runtime
