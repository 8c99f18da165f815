// Page-aligned memory for O_DIRECT IO, and the alignment arithmetic that goes with it.
//
// O_DIRECT requires the buffer address, the file offset and the length of every transfer
// to be multiples of the device's logical block size. We use one alignment everywhere,
// kPageSize (4 KiB), which satisfies every device we run on (512 B and 4 KiB sectors).
//
// AlignedBuffer owns one allocation whose start is 4 KiB-aligned and whose size is rounded
// up to whole pages. It is move-only, and its bytes start zeroed: a padded tail written to
// disk never carries stale heap contents. The one exception is uninitialized(), for a
// buffer a read fills before anything looks at it (a table block, a WAL segment scanned at
// recovery): zeroing it first would only touch every page twice. Allocation failure aborts, as operator new would
// (an out-of-memory server has no better option), so the type never holds a null block
// unless it is empty.
//
// Concurrency: an AlignedBuffer is a plain value; share it across threads only by moving it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace cascade::runtime {

inline constexpr std::size_t kPageSize = 4096;

// `alignment` must be a power of two.
constexpr std::uint64_t align_down(std::uint64_t value, std::uint64_t alignment = kPageSize) {
  return value & ~(alignment - 1);
}
constexpr std::uint64_t align_up(std::uint64_t value, std::uint64_t alignment = kPageSize) {
  return align_down(value + alignment - 1, alignment);
}
constexpr bool is_aligned(std::uint64_t value, std::uint64_t alignment = kPageSize) {
  return (value & (alignment - 1)) == 0;
}
inline bool is_aligned(const void* p, std::uint64_t alignment = kPageSize) {
  return is_aligned(reinterpret_cast<std::uintptr_t>(p), alignment);
}

class AlignedBuffer {
 public:
  AlignedBuffer() = default;
  // Allocates align_up(size) zeroed bytes; size() reports the rounded size.
  explicit AlignedBuffer(std::size_t size);
  // Allocates align_up(size) bytes left as the allocator gives them. Only for a buffer
  // whose readers look at no byte a read has not written; never for one written to disk.
  static AlignedBuffer uninitialized(std::size_t size);
  ~AlignedBuffer();

  AlignedBuffer(AlignedBuffer&& other) noexcept;
  AlignedBuffer& operator=(AlignedBuffer&& other) noexcept;
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;

  std::byte* data() { return data_; }
  const std::byte* data() const { return data_; }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  std::span<std::byte> span() { return {data_, size_}; }
  std::span<const std::byte> span() const { return {data_, size_}; }
  // The first `n` bytes (n <= size()).
  std::span<std::byte> first(std::size_t n) { return span().first(n); }
  std::span<const std::byte> first(std::size_t n) const { return span().first(n); }

  // Sets every byte to zero.
  void clear();

 private:
  static std::byte* allocate(std::size_t size);

  std::byte* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace cascade::runtime
