// See aligned_buffer.h.
#include "src/runtime/aligned_buffer.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <utility>

namespace cascade::runtime {

std::byte* AlignedBuffer::allocate(std::size_t size) {
  if (size == 0) return nullptr;
  auto* data = static_cast<std::byte*>(std::aligned_alloc(kPageSize, size));
  if (data == nullptr) {
    std::fprintf(stderr, "cascade: out of memory allocating %zu aligned bytes\n", size);
    std::abort();
  }
  return data;
}

AlignedBuffer::AlignedBuffer(std::size_t size)
    : data_(allocate(align_up(size))), size_(align_up(size)) {
  if (data_ != nullptr) std::memset(data_, 0, size_);
}

AlignedBuffer AlignedBuffer::uninitialized(std::size_t size) {
  AlignedBuffer buffer;
  buffer.size_ = align_up(size);
  buffer.data_ = allocate(buffer.size_);
  return buffer;
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
