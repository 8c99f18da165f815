// ReplyBuffer: the bytes waiting to be sent to one client, as a chain of segments that a
// connection hands to writev (or to an io_uring writev/sendmsg) without flattening.
//
// The logical byte stream is a sequence of segments:
//   owned        bytes copied into the buffer's own growable array (headers, small
//                values); consecutive owned bytes form one segment
//   referenced   a large payload that is not copied: either the caller's bytes
//                (append_reference: the caller keeps them alive and unchanged until they
//                have been consumed or the buffer cleared) or a std::string the buffer
//                took over (append_owned: kept alive by the buffer)
//   placeholder  up to kMaxPlaceholderBytes reserved now and filled in later (an
//                aggregate header whose element count is known only at the end)
// While nothing but owned bytes was appended the whole stream is one contiguous block
// (contiguous()/view()), which is the common case: one write() of one buffer.
//
// Sending: gather() fills iovecs from the first unsent byte; they stay valid until the
// buffer is next modified. After a (possibly short) write of n bytes, consume(n). When
// everything has been consumed the buffer empties itself, keeping its capacity, and
// drops the strings it took over.
//
// Memory: the owned array is allocated by the first append (initial_capacity bytes, or
// more if that append needs it) and doubles as needed; a busy connection keeps what it
// grew to. release() frees it, so an idle connection holds no reply array at all.
// Single-threaded, owned by one connection.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace cascade::resp {

inline constexpr std::size_t kMaxPlaceholderBytes = 24;  // '*' + 20 digits + CRLF fits
// The first owned array: enough for the replies of a short pipeline, small enough that an
// idle client that got one reply shares its pages with others.
inline constexpr std::size_t kDefaultReplyCapacity = 512;

class ReplyBuffer {
 public:
  // Nothing is allocated until the first owned bytes are appended.
  explicit ReplyBuffer(std::size_t initial_capacity = kDefaultReplyCapacity);

  ReplyBuffer(const ReplyBuffer&) = delete;
  ReplyBuffer& operator=(const ReplyBuffer&) = delete;
  ReplyBuffer(ReplyBuffer&&) noexcept = default;
  ReplyBuffer& operator=(ReplyBuffer&&) noexcept = default;

  // Owned bytes: reserve(n) returns room for n bytes at the end; commit(k <= n) keeps k.
  char* reserve(std::size_t n) {
    if (capacity_ - size_ < n) grow(n);
    return data_.get() + size_;
  }
  void commit(std::size_t n) {
    size_ += n;
    total_ += n;
  }
  void append(std::string_view bytes);

  void append_reference(std::string_view payload);
  void append_owned(std::string&& payload);
  // Reserves a placeholder and returns its id for fill_placeholder (once, before the
  // buffer is gathered).
  std::size_t append_placeholder();
  void fill_placeholder(std::size_t id, std::string_view bytes);

  std::size_t size() const { return total_ - consumed_; }  // bytes not yet consumed
  bool empty() const { return total_ == consumed_; }
  bool contiguous() const { return segments_.empty(); }
  // All unsent bytes; only when contiguous().
  std::string_view view() const;
  // Fills `out` from the first unsent byte; returns how many iovecs were used.
  std::size_t gather(std::span<iovec> out) const;
  std::size_t segment_count() const;  // iovecs a full gather needs
  void consume(std::size_t n);
  void clear();

  // A copy of the unsent bytes (tests, small replies, what a socket did not take).
  std::string to_string() const;
  std::size_t capacity() const { return capacity_; }
  void release();  // clear() and free the owned array (capacity() becomes 0)

 private:
  enum class Kind : std::uint8_t { kOwned, kReferenced, kPlaceholder };
  struct Segment {
    Kind kind;
    std::uint8_t inline_length;  // kPlaceholder: bytes filled in
    char inline_bytes[kMaxPlaceholderBytes];
    const char* external;        // kReferenced
    std::size_t offset;          // kOwned: offset in data_
    std::size_t length;          // kOwned, kReferenced
  };

  void grow(std::size_t n);
  void close_owned_segment();
  iovec segment_bytes(const Segment& s) const;

  std::size_t initial_capacity_;
  std::unique_ptr<char[]> data_;
  std::size_t capacity_ = 0;
  std::size_t size_ = 0;         // owned bytes in data_
  std::size_t open_start_ = 0;   // owned bytes since the last segment boundary
  std::size_t total_ = 0;        // bytes ever appended since the last clear
  std::size_t consumed_ = 0;
  std::size_t head_segment_ = 0; // first segment with unsent bytes (== size: the open one)
  std::size_t head_skip_ = 0;    // bytes of it already sent
  std::vector<Segment> segments_;
  // list: pushing never moves earlier strings, and an empty one allocates nothing (a
  // std::deque allocates a map and a node up front, per connection).
  std::list<std::string> owned_payloads_;
};

}  // namespace cascade::resp
