// SmallBuffer<N>: bytes built for the length of one call (a lookup key made of a prefix
// and the client's key), stored inside the object when they fit in N bytes and on the heap
// only when they do not, so the common short key costs no allocation.
//
// Not copyable or movable: view() may point into the object itself.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace cascade::runtime {

template <std::size_t N>
class SmallBuffer {
 public:
  SmallBuffer() = default;
  SmallBuffer(const SmallBuffer&) = delete;
  SmallBuffer& operator=(const SmallBuffer&) = delete;

  // Room for exactly n bytes, for the caller to fill; replaces what was there. Valid until
  // the next prepare() or the buffer's end.
  char* prepare(std::size_t n) {
    size_ = n;
    if (n <= N) return inline_;
    heap_.resize(n);
    return heap_.data();
  }

  std::string_view view() const { return {size_ <= N ? inline_ : heap_.data(), size_}; }
  bool on_heap() const { return size_ > N; }

 private:
  char inline_[N];
  std::string heap_;
  std::size_t size_ = 0;
};

}  // namespace cascade::runtime
