// InputBuffer: the one growable buffer a connection reads requests into, shaped for
// RequestParser's contract.
//
// Layout: [ consumed | unconsumed = data() | free tail ]. Reads go into the free tail
// (prepare + commit); the parser is given data(); consume() drops what the parser is done
// with. Bytes are moved only when the unconsumed tail must make room, that is when a
// command spans reads: prepare() first slides the tail to the front (when that frees
// enough), else doubles the capacity. Growth follows bytes that have arrived, never a
// declared length, so a client announcing "$536870912" and sending nothing costs nothing.
//
// Memory: nothing is allocated until the first prepare(), which allocates what it is asked
// for (at least kMinInputCapacity), so an idle connection's buffer costs what its reads
// asked for, not a fixed chunk. release_if_idle(keep) gives back a buffer grown past `keep`
// once nothing is pending (a large argument was read); release() frees the whole buffer
// when nothing is pending (an idle connection), and the next prepare() allocates anew.
//
// Invariant: consumed <= size <= capacity. Views into data() stay valid until the next
// prepare(), release_if_idle() or release(), the only calls that move or free bytes; so a
// caller runs the commands it parsed before it prepares the next read.
// Single-threaded, like the connection that owns it.
//
// The read loop it is made for (one connection):
//   auto room = in.prepare(16 * 1024);  ...read into room...;  in.commit(n);
//   for (;;) {
//     ParseResult r = parser.parse(in.data());
//     if (r.status == ParseStatus::kCommand) run(parser.args());  // views into in
//     in.consume(r.consumed);
//     if (r.status != ParseStatus::kCommand) break;  // kNeedMore: read; kError: reply, close
//   }
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string_view>

namespace cascade::resp {

inline constexpr std::size_t kMinInputCapacity = 64;

class InputBuffer {
 public:
  InputBuffer() = default;

  InputBuffer(const InputBuffer&) = delete;
  InputBuffer& operator=(const InputBuffer&) = delete;
  InputBuffer(InputBuffer&&) noexcept = default;
  InputBuffer& operator=(InputBuffer&&) noexcept = default;

  // A writable tail of at least min_free bytes (it may be larger); moves or reallocates
  // the unconsumed bytes when needed. Pass what was written there to commit().
  std::span<char> prepare(std::size_t min_free);
  void commit(std::size_t n);

  std::string_view data() const { return {buf_.get() + head_, tail_ - head_}; }
  std::size_t size() const { return tail_ - head_; }
  bool empty() const { return head_ == tail_; }
  void consume(std::size_t n);

  std::size_t capacity() const { return capacity_; }
  // Nothing pending and a capacity above `keep`: frees the buffer (the next prepare()
  // allocates what it asks for). A pending command keeps it whatever its size.
  void release_if_idle(std::size_t keep);
  // Nothing pending: frees the buffer, capacity() becomes 0. Returns whether it did.
  bool release();

 private:
  void reallocate(std::size_t capacity);

  std::size_t capacity_ = 0;
  std::size_t head_ = 0;  // first unconsumed byte
  std::size_t tail_ = 0;  // one past the last received byte
  std::unique_ptr<char[]> buf_;
};

}  // namespace cascade::resp
