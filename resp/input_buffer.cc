// InputBuffer: slide, then double; see input_buffer.h for the layout and invariants.
#include "resp/input_buffer.h"

#include <algorithm>
#include <cassert>
#include <cstring>

namespace cascade::resp {

std::span<char> InputBuffer::prepare(std::size_t min_free) {
  if (head_ == tail_) head_ = tail_ = 0;  // nothing pending: start over for free
  if (capacity_ - tail_ < min_free) {
    const std::size_t pending = tail_ - head_;
    if (capacity_ - pending >= min_free) {
      std::memmove(buf_.get(), buf_.get() + head_, pending);  // a command spans reads
      head_ = 0;
      tail_ = pending;
    } else {
      // Doubling keeps a command that spans many reads linear in its size.
      reallocate(std::max({capacity_ * 2, pending + min_free, kMinInputCapacity}));
    }
  }
  return {buf_.get() + tail_, capacity_ - tail_};
}

void InputBuffer::commit(std::size_t n) {
  assert(n <= capacity_ - tail_);
  tail_ += n;
}

void InputBuffer::consume(std::size_t n) {
  assert(n <= tail_ - head_);
  head_ += n;
}

void InputBuffer::release_if_idle(std::size_t keep) {
  if (capacity_ > keep) (void)release();
}

bool InputBuffer::release() {
  if (head_ != tail_) return false;
  buf_.reset();
  capacity_ = head_ = tail_ = 0;
  return true;
}

void InputBuffer::reallocate(std::size_t capacity) {
  const std::size_t pending = tail_ - head_;
  auto fresh = std::make_unique_for_overwrite<char[]>(capacity);
  if (pending > 0) std::memcpy(fresh.get(), buf_.get() + head_, pending);
  buf_ = std::move(fresh);
  capacity_ = capacity;
  head_ = 0;
  tail_ = pending;
}

}  // namespace cascade::resp
