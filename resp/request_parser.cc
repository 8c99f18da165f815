// RequestParser: the state machine behind request_parser.h.
//
// Every position kept between calls is an offset from the pending command's first byte,
// so the caller may move its buffer. A command in flight is in one of these states:
//   kCommandStart  nothing parsed yet
//   kCountHeader   the "*<count>" line has no '\r' in its first scan_from_ bytes yet
//   kBulkHeader    args_left_ bulks to go, the next "$<len>" line starts at pos_
//   kBulkPayload   the bulk at pos_ needs bulk_len_ bytes plus 2 (not checked) to be here
//   kInline        the line has no '\n' in its first scan_from_ bytes
//   kStalled       a NUL precedes the line end (Redis's strchr stops there)
// Header lines are read first by read_simple_number (the shape every client sends, no
// memchr); anything else falls to scan_header_line and parse_int64, which implement the
// full Redis rules and are only ever reached by unusual or incomplete input.
#include "resp/request_parser.h"

#include <algorithm>
#include <cstring>

#include "resp/decimal.h"
#include "resp/inline_splitter.h"

namespace cascade::resp {
namespace {

// Enough for GET, SET and most commands; longer ones grow the vectors once (kept).
constexpr std::size_t kInitialArgs = 4;
// Argument vectors grown past this by one huge command are released before the next.
constexpr std::size_t kKeptArgs = 1024;
constexpr std::size_t kKeptScratch = 4096;

// The common shape of a header number at p: "0" or 1 to 18 digits without a leading zero,
// then '\r' and one more byte (taken to be '\n', unchecked as in Redis). Returns the
// position after those two bytes, or nullptr for any other shape or for input that ends
// too soon; the general path then decides.
inline const char* read_simple_number(const char* p, const char* end, std::int64_t* out) {
  if (p >= end) return nullptr;
  std::uint64_t v = static_cast<unsigned char>(*p) - static_cast<unsigned>('0');
  if (v > 9) return nullptr;
  const char* q = p + 1;
  if (v != 0) {
    const char* const limit = end - p > 18 ? p + 18 : end;
    while (q < limit) {
      const unsigned digit = static_cast<unsigned char>(*q) - static_cast<unsigned>('0');
      if (digit > 9) break;
      v = v * 10 + digit;
      ++q;
    }
  }
  if (end - q < 2 || *q != '\r') return nullptr;
  *out = static_cast<std::int64_t>(v);
  return q + 2;
}

template <typename T>
void release_if_larger(std::vector<T>& v, std::size_t kept) {
  if (v.capacity() > kept) {
    std::vector<T>().swap(v);
    v.reserve(kInitialArgs);
  }
}

}  // namespace

RequestParser::RequestParser(std::int64_t max_bulk_len) : max_bulk_len_(max_bulk_len) {
  refs_.reserve(kInitialArgs);
  args_.reserve(kInitialArgs);
}

ParseResult RequestParser::parse(std::string_view input) {
  if (state_ == State::kFailed) return {ParseStatus::kError, 0};
  if (state_ == State::kCommandStart) release_oversized_storage();
  std::size_t start = 0;  // first byte of the pending command within input
  for (;;) {
    const std::size_t avail = input.size() - start;
    last_avail_ = avail;
    switch (parse_pending(input.data() + start, avail)) {
      case Step::kCommand: {
        const std::size_t end = start + command_len_;
        finish_command();
        return {ParseStatus::kCommand, end};
      }
      case Step::kEmpty:  // *0, *-1 or a blank inline line: no command, keep going
        start += command_len_;
        finish_command();
        continue;
      case Step::kNeedMore:
        return {ParseStatus::kNeedMore, start};
      case Step::kError:
        return {ParseStatus::kError, start};
    }
  }
}

RequestParser::Step RequestParser::parse_pending(const char* cmd, std::size_t avail) {
  switch (state_) {
    case State::kCommandStart:
      if (avail == 0) return Step::kNeedMore;
      if (cmd[0] == '*') {
        state_ = State::kCountHeader;
        return parse_multibulk_count(cmd, avail);
      }
      state_ = State::kInline;
      return parse_inline(cmd, avail);
    case State::kCountHeader:
      return parse_multibulk_count(cmd, avail);
    case State::kBulkHeader:
    case State::kBulkPayload:
      return parse_bulks(cmd, avail);
    case State::kInline:
      return parse_inline(cmd, avail);
    case State::kStalled:
      return check_stalled(avail);
    case State::kFailed:
      break;
  }
  return Step::kError;
}

RequestParser::Step RequestParser::parse_multibulk_count(const char* cmd, std::size_t avail) {
  std::int64_t count = 0;
  std::size_t pos = 0;
  if (const char* next = read_simple_number(cmd + 1, cmd + avail, &count)) {
    pos = static_cast<std::size_t>(next - cmd);
  } else {
    std::size_t cr = 0;
    switch (scan_header_line(cmd, avail, 0, ProtocolError::kTooBigMbulkCountString, cr)) {
      case LineScan::kNeedMore: return Step::kNeedMore;
      case LineScan::kError: return Step::kError;
      case LineScan::kReady: break;
    }
    if (!parse_int64({cmd + 1, cr - 1}, &count)) {
      return fail(ProtocolError::kInvalidMultibulkLength);
    }
    pos = cr + 2;
  }
  if (count > kMaxMultibulkCount) return fail(ProtocolError::kInvalidMultibulkLength);
  if (count > kUnauthMaxCount && auth_required_) {
    return fail(ProtocolError::kUnauthenticatedMultibulkLength);
  }
  if (count <= 0) {
    command_len_ = pos;
    return Step::kEmpty;
  }
  // Nothing is reserved from `count`: refs_ grows only as bulks arrive.
  args_left_ = count;
  pos_ = pos;
  state_ = State::kBulkHeader;
  return parse_bulks(cmd, avail);
}

// The hot loop: works on locals and stores them back only when the input runs out.
RequestParser::Step RequestParser::parse_bulks(const char* cmd, std::size_t avail) {
  std::size_t pos = pos_;
  std::int64_t left = args_left_;
  std::int64_t len = bulk_len_;
  bool have_header = state_ == State::kBulkPayload;
  const char* const end = cmd + avail;
  while (left > 0) {
    if (!have_header) {
      const char* next = nullptr;
      if (pos < avail && cmd[pos] == '$') next = read_simple_number(cmd + pos + 1, end, &len);
      if (next != nullptr && len <= max_bulk_len_ &&
          !(len > kUnauthMaxBulkLen && auth_required_)) {
        pos = static_cast<std::size_t>(next - cmd);
      } else {
        pos_ = pos;
        args_left_ = left;
        state_ = State::kBulkHeader;
        const Step step = parse_bulk_header(cmd, avail, pos);
        if (step != Step::kCommand) return step;
        len = bulk_len_;
      }
      have_header = true;
    }
    if (avail - pos < static_cast<std::size_t>(len) + 2) {
      pos_ = pos;
      args_left_ = left;
      bulk_len_ = len;
      state_ = State::kBulkPayload;
      return Step::kNeedMore;
    }
    refs_.push_back({pos, static_cast<std::size_t>(len)});
    pos += static_cast<std::size_t>(len) + 2;  // the two bytes after a payload go unchecked
    --left;
    have_header = false;
  }
  command_len_ = pos;
  materialize_args(cmd);
  return Step::kCommand;
}

// The general "$<len>" path. Returns kCommand when the header was read (pos moved past
// it, bulk_len_ set), otherwise the step to report.
RequestParser::Step RequestParser::parse_bulk_header(const char* cmd, std::size_t avail,
                                                     std::size_t& pos) {
  std::size_t cr = 0;
  switch (scan_header_line(cmd, avail, pos, ProtocolError::kTooBigBulkCountString, cr)) {
    case LineScan::kNeedMore: return Step::kNeedMore;
    case LineScan::kError: return Step::kError;
    case LineScan::kReady: break;
  }
  if (cmd[pos] != '$') {
    bad_byte_ = cmd[pos];
    return fail(ProtocolError::kExpectedDollar);
  }
  std::int64_t len = 0;
  if (!parse_int64({cmd + pos + 1, cr - pos - 1}, &len) || len < 0 || len > max_bulk_len_) {
    return fail(ProtocolError::kInvalidBulkLength);
  }
  if (len > kUnauthMaxBulkLen && auth_required_) {
    return fail(ProtocolError::kUnauthenticatedBulkLength);
  }
  bulk_len_ = len;
  pos = cr + 2;
  return Step::kCommand;
}

// Finds the '\r' that ends the header line starting at line_start, resuming the search
// where the last call stopped. kReady means the line is complete and the byte after its
// '\r' has arrived too (Redis waits for it).
RequestParser::LineScan RequestParser::scan_header_line(const char* cmd, std::size_t avail,
                                                        std::size_t line_start,
                                                        ProtocolError too_big,
                                                        std::size_t& cr) {
  const std::size_t from = std::max(line_start, scan_from_);
  const void* found = std::memchr(cmd + from, '\r', avail - from);
  const std::size_t limit =
      found != nullptr ? static_cast<std::size_t>(static_cast<const char*>(found) - cmd) : avail;
  if (std::memchr(cmd + from, '\0', limit - from) != nullptr) {
    stall(line_start, too_big);
    return check_stalled(avail) == Step::kError ? LineScan::kError : LineScan::kNeedMore;
  }
  if (found == nullptr) {
    scan_from_ = avail;
    if (avail - line_start > kMaxLineBytes) {
      fail(too_big);
      return LineScan::kError;
    }
    return LineScan::kNeedMore;
  }
  if (limit - line_start > kMaxLineBytes) {
    fail(too_big);
    return LineScan::kError;
  }
  if (limit + 1 >= avail) {
    scan_from_ = limit;
    return LineScan::kNeedMore;
  }
  cr = limit;
  return LineScan::kReady;
}

RequestParser::Step RequestParser::parse_inline(const char* cmd, std::size_t avail) {
  const std::size_t from = scan_from_;
  const void* found = std::memchr(cmd + from, '\n', avail - from);
  const std::size_t newline =
      found != nullptr ? static_cast<std::size_t>(static_cast<const char*>(found) - cmd) : avail;
  if (std::memchr(cmd + from, '\0', newline - from) != nullptr) {
    stall(0, ProtocolError::kTooBigInlineRequest);
    return check_stalled(avail);
  }
  if (found == nullptr) {
    scan_from_ = avail;
    if (avail > kMaxLineBytes) return fail(ProtocolError::kTooBigInlineRequest);
    return Step::kNeedMore;
  }
  if (newline > kMaxLineBytes) return fail(ProtocolError::kTooBigInlineRequest);
  std::size_t line_len = newline;
  if (line_len > 0 && cmd[line_len - 1] == '\r') --line_len;
  if (!split_inline_args({cmd, line_len}, scratch_, args_)) {
    return fail(ProtocolError::kUnbalancedQuotes);
  }
  command_len_ = newline + 1;
  last_inline_ = true;
  return args_.empty() ? Step::kEmpty : Step::kCommand;
}

RequestParser::Step RequestParser::check_stalled(std::size_t avail) {
  if (avail - stall_line_start_ > kMaxLineBytes) return fail(stall_error_);
  return Step::kNeedMore;
}

void RequestParser::stall(std::size_t line_start, ProtocolError too_big) {
  state_ = State::kStalled;
  stall_line_start_ = line_start;
  stall_error_ = too_big;
}

RequestParser::Step RequestParser::fail(ProtocolError error) {
  state_ = State::kFailed;
  error_ = error;
  return Step::kError;
}

void RequestParser::materialize_args(const char* cmd) {
  args_.resize(refs_.size());
  for (std::size_t i = 0; i < refs_.size(); ++i) {
    args_[i] = std::string_view(cmd + refs_[i].offset, refs_[i].length);
  }
  last_inline_ = false;
}

void RequestParser::finish_command() {
  state_ = State::kCommandStart;
  pos_ = 0;
  scan_from_ = 0;
  args_left_ = 0;
  bulk_len_ = 0;
  refs_.clear();
}

void RequestParser::release_oversized_storage() {
  release_if_larger(refs_, kKeptArgs);
  release_if_larger(args_, kKeptArgs);
  if (scratch_.capacity() > kKeptScratch) std::string().swap(scratch_);
}

std::string_view RequestParser::error_message() const {
  if (error_ != ProtocolError::kExpectedDollar) return protocol_error_text(error_);
  // Redis formats the byte with %c and then turns CR and LF into spaces.
  const char shown = (bad_byte_ == '\r' || bad_byte_ == '\n') ? ' ' : bad_byte_;
  message_.assign(protocol_error_text(error_));
  message_.push_back(shown);
  message_.push_back('\'');
  return message_;
}

std::size_t RequestParser::pending_size_hint() const {
  switch (state_) {
    case State::kCommandStart:
    case State::kFailed:
      return 0;
    case State::kBulkPayload:
      return pos_ + static_cast<std::size_t>(bulk_len_) + 2;
    case State::kStalled:
      return stall_line_start_ + kMaxLineBytes + 1;
    case State::kCountHeader:
    case State::kBulkHeader:
    case State::kInline:
      break;
  }
  return last_avail_ + 1;
}

std::size_t RequestParser::memory_usage() const {
  return refs_.capacity() * sizeof(ArgRef) + args_.capacity() * sizeof(std::string_view) +
         scratch_.capacity() + message_.capacity();
}

void RequestParser::reset() {
  finish_command();
  error_ = ProtocolError::kNone;
  stall_line_start_ = 0;
  stall_error_ = ProtocolError::kNone;
  last_avail_ = 0;
  args_.clear();
}

}  // namespace cascade::resp
