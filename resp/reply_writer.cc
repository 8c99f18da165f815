// ReplyWriter: the byte forms listed in reply_writer.h.
//
// RESP2 attribute dropping: attribute() pushes a frame counting the 2N elements still to
// drop; every write while a frame is open drops its element instead of writing it. An
// aggregate element opens a nested frame; when a frame's count reaches zero it is popped
// and counts as one element of the frame below, except an attribute frame, which is no
// element of anything (an attribute only annotates what follows it).
#include "resp/reply_writer.h"

#include <cassert>
#include <charconv>
#include <cmath>
#include <cstring>

#include "resp/decimal.h"

namespace cascade::resp {
namespace {

constexpr std::size_t kMaxHeaderBytes = 1 + kMaxInt64Chars + 2;

// Writes <type><count>\r\n at p; returns its length (at most kMaxHeaderBytes).
inline std::size_t put_header(char* p, char type, std::uint64_t count) {
  p[0] = type;
  const std::size_t n = format_uint64(count, p + 1);
  p[n + 1] = '\r';
  p[n + 2] = '\n';
  return n + 3;
}

}  // namespace

ReplyWriter::ReplyWriter(RespVersion version, std::size_t reference_threshold)
    : version_(version), reference_threshold_(reference_threshold) {}

void ReplyWriter::constant(std::string_view bytes) {
  if (skipping()) {
    skip_element();
    return;
  }
  buffer_.append(bytes);
}

void ReplyWriter::ok() { constant("+OK\r\n"); }
void ReplyWriter::zero() { constant(":0\r\n"); }
void ReplyWriter::one() { constant(":1\r\n"); }
void ReplyWriter::null() { constant(resp3() ? std::string_view("_\r\n") : "$-1\r\n"); }
void ReplyWriter::null_array() { constant(resp3() ? std::string_view("_\r\n") : "*-1\r\n"); }

void ReplyWriter::boolean(bool value) {
  if (resp3()) {
    constant(value ? std::string_view("#t\r\n") : "#f\r\n");
  } else {
    constant(value ? std::string_view(":1\r\n") : ":0\r\n");
  }
}

void ReplyWriter::integer(std::int64_t value) {
  if (skipping()) {
    skip_element();
    return;
  }
  char* p = buffer_.reserve(kMaxHeaderBytes);
  p[0] = ':';
  const std::size_t n = format_int64(value, p + 1);
  p[n + 1] = '\r';
  p[n + 2] = '\n';
  buffer_.commit(n + 3);
}

void ReplyWriter::line(char type, std::string_view text) {
  if (skipping()) {
    skip_element();
    return;
  }
  char* p = buffer_.reserve(text.size() + 3);
  p[0] = type;
  std::memcpy(p + 1, text.data(), text.size());
  for (std::size_t i = 1; i <= text.size(); ++i) {
    if (p[i] == '\r' || p[i] == '\n') p[i] = ' ';
  }
  p[text.size() + 1] = '\r';
  p[text.size() + 2] = '\n';
  buffer_.commit(text.size() + 3);
}

void ReplyWriter::simple_string(std::string_view text) { line('+', text); }

void ReplyWriter::error(std::string_view text) {
  if (!text.empty() && text.front() == '-') text.remove_prefix(1);
  line('-', text);
}

void ReplyWriter::bulk_header_and_payload(std::string_view payload) {
  char* p = buffer_.reserve(payload.size() + kMaxHeaderBytes + 2);
  const std::size_t n = put_header(p, '$', payload.size());
  std::memcpy(p + n, payload.data(), payload.size());
  p[n + payload.size()] = '\r';
  p[n + payload.size() + 1] = '\n';
  buffer_.commit(n + payload.size() + 2);
}

void ReplyWriter::bulk(std::string_view payload) {
  if (skipping()) {
    skip_element();
    return;
  }
  bulk_header_and_payload(payload);
}

void ReplyWriter::bulk_ref(std::string_view payload) {
  if (skipping()) {
    skip_element();
    return;
  }
  if (payload.size() < reference_threshold_) {
    bulk_header_and_payload(payload);
    return;
  }
  header('$', payload.size());
  buffer_.append_reference(payload);
  buffer_.append("\r\n");
}

void ReplyWriter::bulk_owned(std::string&& payload) {
  if (skipping()) {
    skip_element();
    return;
  }
  if (payload.size() < reference_threshold_) {
    bulk_header_and_payload(payload);
    return;
  }
  header('$', payload.size());
  buffer_.append_owned(std::move(payload));
  buffer_.append("\r\n");
}

void EncodedElements::bulk(std::string_view payload) {
  const std::size_t at = bytes_.size();
  bytes_.resize(at + kMaxHeaderBytes + payload.size() + 2);
  char* p = bytes_.data() + at;
  const std::size_t n = put_header(p, '$', payload.size());
  std::memcpy(p + n, payload.data(), payload.size());
  p[n + payload.size()] = '\r';
  p[n + payload.size() + 1] = '\n';
  bytes_.resize(at + n + payload.size() + 2);
  ++count_;
}

void EncodedElements::double_as_bulk(double value) {
  if (std::isinf(value)) {
    bulk(value > 0 ? std::string_view("inf") : "-inf");
    return;
  }
  char text[32];
  const auto result = std::to_chars(text, text + sizeof(text), value,
                                    std::chars_format::general, 17);
  bulk(std::string_view(text, static_cast<std::size_t>(result.ptr - text)));
}

void ReplyWriter::encoded(EncodedElements&& elements) {
  const std::uint64_t count = elements.count();
  std::string bytes = elements.take_bytes();
  std::size_t from = 0;
  // RESP2 dropping an attribute: the leading elements it still covers are dropped (each is
  // a bulk string, $<len>\r\n<len bytes>\r\n), the rest written.
  for (std::uint64_t i = 0; i < count && skipping(); ++i) {
    skip_element();
    const std::size_t eol = bytes.find('\r', from);
    std::uint64_t len = 0;
    for (std::size_t j = from + 1; j < eol; ++j) len = len * 10 + (bytes[j] - '0');
    from = eol + 2 + len + 2;
  }
  if (from > 0) {
    buffer_.append(std::string_view(bytes).substr(from));
    return;
  }
  if (bytes.size() < reference_threshold_) {
    buffer_.append(bytes);
  } else {
    buffer_.append_owned(std::move(bytes));
  }
}

void ReplyWriter::double_value(double value) {
  if (std::isinf(value)) {
    if (resp3()) {
      constant(value > 0 ? std::string_view(",inf\r\n") : ",-inf\r\n");
    } else {
      bulk(value > 0 ? std::string_view("inf") : "-inf");
    }
    return;
  }
  char text[32];
  // std::to_chars with a precision is specified as printf's "%.17g" in the C locale.
  const auto result = std::to_chars(text, text + sizeof(text), value,
                                    std::chars_format::general, 17);
  const std::string_view digits(text, static_cast<std::size_t>(result.ptr - text));
  if (resp3()) {
    line(',', digits);
  } else {
    bulk(digits);
  }
}

void ReplyWriter::big_number(std::string_view digits) {
  if (resp3()) {
    line('(', digits);
  } else {
    bulk(digits);
  }
}

void ReplyWriter::verbatim(std::string_view text, std::string_view format) {
  assert(format.size() == 3);
  if (!resp3()) {
    bulk(text);
    return;
  }
  if (skipping()) {
    skip_element();
    return;
  }
  header('=', text.size() + 4);
  char* p = buffer_.reserve(text.size() + 6);
  std::memcpy(p, format.data(), 3);
  p[3] = ':';
  std::memcpy(p + 4, text.data(), text.size());
  p[text.size() + 4] = '\r';
  p[text.size() + 5] = '\n';
  buffer_.commit(text.size() + 6);
}

void ReplyWriter::header(char type, std::uint64_t count) {
  buffer_.commit(put_header(buffer_.reserve(kMaxHeaderBytes), type, count));
}

void ReplyWriter::aggregate(char resp3_type, std::size_t count, std::uint64_t elements) {
  if (skipping()) {
    skip_aggregate(elements);
    return;
  }
  if (resp3()) {
    header(resp3_type, count);
  } else {
    header('*', elements);
  }
}

void ReplyWriter::array(std::size_t count) { aggregate('*', count, count); }
void ReplyWriter::map(std::size_t pairs) { aggregate('%', pairs, 2 * std::uint64_t{pairs}); }
void ReplyWriter::set(std::size_t count) { aggregate('~', count, count); }
void ReplyWriter::push(std::size_t count) { aggregate('>', count, count); }

void ReplyWriter::attribute(std::size_t pairs) {
  if (resp3() && !skipping()) {
    header('|', pairs);
    return;
  }
  if (pairs > 0) skip_frames_.push_back({2 * std::uint64_t{pairs}, true});
}

void ReplyWriter::skip_element() {
  while (!skip_frames_.empty()) {
    SkipFrame& top = skip_frames_.back();
    if (--top.remaining > 0) return;
    const bool was_attribute = top.attribute;
    skip_frames_.pop_back();
    if (was_attribute) return;
  }
}

void ReplyWriter::skip_aggregate(std::uint64_t elements) {
  if (elements == 0) {
    skip_element();
    return;
  }
  skip_frames_.push_back({elements, false});
}

DeferredLength ReplyWriter::defer(char resp3_type) {
  // The element count of a dropped attribute's content must be known as it is written.
  assert(!skipping());
  return {buffer_.append_placeholder(), resp3_type};
}

DeferredLength ReplyWriter::defer_array() { return defer('*'); }
DeferredLength ReplyWriter::defer_map() { return defer('%'); }
DeferredLength ReplyWriter::defer_set() { return defer('~'); }

void ReplyWriter::finish(DeferredLength deferred, std::size_t count) {
  char text[kMaxHeaderBytes];
  std::size_t n = 0;
  if (resp3()) {
    n = put_header(text, deferred.resp3_type, count);
  } else {
    const std::uint64_t elements = deferred.resp3_type == '%' ? 2 * std::uint64_t{count} : count;
    n = put_header(text, '*', elements);
  }
  buffer_.fill_placeholder(deferred.placeholder, {text, n});
}

}  // namespace cascade::resp
