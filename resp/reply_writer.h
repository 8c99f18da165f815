// ReplyWriter: writes replies in RESP2 or RESP3 into a ReplyBuffer.
//
// Wire forms (RESP3 | what a RESP2 client gets instead, as Redis 7.0 degrades it):
//   simple string  +OK\r\n                       | same
//   error          -ERR msg\r\n                  | same
//   integer        :42\r\n                       | same
//   bulk string    $3\r\nabc\r\n                 | same
//   null           _\r\n                         | $-1\r\n   (null())
//                  _\r\n                         | *-1\r\n   (null_array())
//   double         ,3.1400000000000001\r\n       | $18\r\n3.1400000000000001\r\n
//                  ,inf\r\n  ,-inf\r\n           | $3\r\ninf\r\n  $4\r\n-inf\r\n
//   boolean        #t\r\n  #f\r\n                | :1\r\n  :0\r\n
//   big number     (1234...\r\n                  | $N\r\n1234...\r\n
//   verbatim       =N+4\r\ntxt:text\r\n          | $N\r\ntext\r\n  (format dropped)
//   array          *N\r\n                        | same
//   map            %N\r\n  (N pairs follow)      | *2N\r\n  (flat key, value list)
//   set            ~N\r\n                        | *N\r\n
//   push           >N\r\n                        | *N\r\n
//   attribute      |N\r\n  (N pairs follow)      | nothing: the header and its 2N
//                                                  elements are dropped, whatever they are
// Doubles use "%.17g" (via std::to_chars, no locale), as Redis 7.0 does; inf is spelled
// out explicitly as Redis does.
//
// Aggregates are written as a header followed by the caller writing exactly that many
// elements (2N for a map or attribute). When the count is known only at the end,
// defer_array/defer_map/defer_set reserve the header and finish() fills it in.
//
// Error and simple-string texts must not contain CR or LF; any that do are replaced by
// spaces so the stream cannot be corrupted (Redis does the same for formatted errors).
// An error text includes its code: error("ERR no such key") sends "-ERR no such key".
//
// Payloads: bulk() copies; bulk_ref() and bulk_owned() pass payloads of at least
// reference_threshold bytes by reference (see ReplyBuffer), so a large value goes from
// where it lives to writev without a copy. With bulk_ref the caller keeps the bytes
// alive until the buffer has sent them.
//
// Hot path: integers and length headers are formatted with decimal.h (no snprintf), and
// each scalar reply is one reserve + memcpy into the buffer. Single-threaded.
//
// Encoded elements: a long reply computed away from its connection (on another shard) can
// be encoded there into an EncodedElements, one string of complete elements, and handed to
// encoded() after its aggregate header: no object per element, and a run of at least
// reference_threshold bytes is taken over by the buffer without a copy. Only forms whose
// bytes are the same in RESP2 and RESP3 can be encoded ahead (bulk strings), so the
// encoder need not know the client's protocol; the header (array, map or set) is still
// written by the ReplyWriter, which does.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "resp/reply_buffer.h"

namespace cascade::resp {

enum class RespVersion : std::uint8_t { kResp2 = 2, kResp3 = 3 };

inline constexpr std::size_t kDefaultReferenceThreshold = 16 * 1024;

// A header reserved by defer_*(), to be completed by ReplyWriter::finish().
struct DeferredLength {
  std::size_t placeholder;
  char resp3_type;  // '*', '%' or '~'
};

// Complete bulk strings encoded back to back ($<len>\r\n<payload>\r\n each), for
// ReplyWriter::encoded.
class EncodedElements {
 public:
  void reserve(std::size_t bytes) { bytes_.reserve(bytes); }
  void bulk(std::string_view payload);
  // A double as RESP2 sends it (a bulk string, ReplyWriter::double_value): for a caller
  // that knows its client speaks RESP2.
  void double_as_bulk(double value);
  std::uint64_t count() const { return count_; }
  std::size_t size() const { return bytes_.size(); }
  const std::string& bytes() const { return bytes_; }
  std::string take_bytes() { count_ = 0; return std::move(bytes_); }

 private:
  std::string bytes_;
  std::uint64_t count_ = 0;
};

class ReplyWriter {
 public:
  explicit ReplyWriter(RespVersion version = RespVersion::kResp2,
                       std::size_t reference_threshold = kDefaultReferenceThreshold);

  void set_version(RespVersion version) { version_ = version; }
  RespVersion version() const { return version_; }
  bool resp3() const { return version_ == RespVersion::kResp3; }
  ReplyBuffer& buffer() { return buffer_; }
  const ReplyBuffer& buffer() const { return buffer_; }

  // Common constants, one memcpy each.
  void ok();          // +OK
  void zero();        // :0
  void one();         // :1
  void null();        // a missing value: _ (RESP3) or $-1 (RESP2)
  void null_array();  // a missing aggregate: _ (RESP3) or *-1 (RESP2)

  void simple_string(std::string_view text);
  void error(std::string_view text);
  void integer(std::int64_t value);
  void bulk(std::string_view payload);
  void bulk_ref(std::string_view payload);
  void bulk_owned(std::string&& payload);
  void double_value(double value);
  void boolean(bool value);
  void big_number(std::string_view digits);
  void verbatim(std::string_view text, std::string_view format = "txt");
  // The elements of `elements`, as many as it counts, in order (they count as that many
  // elements of the aggregate being written).
  void encoded(EncodedElements&& elements);

  void array(std::size_t count);
  void map(std::size_t pairs);
  void set(std::size_t count);
  void push(std::size_t count);
  void attribute(std::size_t pairs);

  DeferredLength defer_array();
  DeferredLength defer_map();  // finish() with the number of pairs
  DeferredLength defer_set();
  void finish(DeferredLength deferred, std::size_t count);

 private:
  struct SkipFrame {  // RESP2: elements of a dropped attribute still to come
    std::uint64_t remaining;
    bool attribute;
  };

  void header(char type, std::uint64_t count);
  void constant(std::string_view bytes);
  void bulk_header_and_payload(std::string_view payload);
  void line(char type, std::string_view text);
  void aggregate(char resp3_type, std::size_t count, std::uint64_t elements);
  DeferredLength defer(char resp3_type);
  bool skipping() const { return !skip_frames_.empty(); }
  void skip_element();
  void skip_aggregate(std::uint64_t elements);

  RespVersion version_;
  std::size_t reference_threshold_;
  ReplyBuffer buffer_;
  std::vector<SkipFrame> skip_frames_;
};

}  // namespace cascade::resp
