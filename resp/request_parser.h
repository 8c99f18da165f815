// RequestParser: turns the bytes a client sends into commands (argument lists), as Redis
// 7.0 does, incrementally and without copying.
//
// Protocol subset (what clients send; replies are ReplyWriter's business):
//   multibulk  *<count>\r\n then <count> times $<len>\r\n<len bytes>\r\n
//   inline     any line not starting with '*', ended by \n or \r\n, split into arguments
//              by the rules in inline_splitter.h ("SET a \"b c\"").
// A request starting with '*' is multibulk, anything else inline (Redis's rule).
// Redis's quirks are kept on purpose, since clients and tests see them:
//   - *0, *-1 (any count <= 0) and empty or blank inline lines are no command at all;
//     they are skipped silently.
//   - A header line is the bytes up to its first '\r'; the byte after that '\r' is
//     skipped unchecked, and so are the two bytes after a bulk payload ("$3\r\nabcXY" is
//     the argument "abc").
//   - Numbers follow string2ll (decimal.h): "*01", "*+1", "* 1", "*-0", "$-1" are errors.
//   - Redis looks for line ends with strchr, which stops at a NUL byte: a NUL before the
//     end of a header or inline line stalls the connection until 64 KiB are pending,
//     then fails with "too big ...". This parser does the same.
// Limits (Redis 7.0): count <= INT_MAX; bulk length <= max_bulk_len (proto-max-bulk-len,
// 512 MiB by default); while authentication is required and not yet done, count <= 10
// and bulk length <= 16384; a line holds at most 64 KiB before its end (before the '\r'
// of a header line, before the '\n' of an inline line, a CR included).
// One deliberate difference: Redis checks the 64 KiB line limit only when a read ends
// without a line end, so whether a longer line passes depends on how the bytes were split
// into reads; here a longer line always fails, so the result never depends on the split.
//
// Errors are protocol_error.h's: after kError the caller writes error_message() as an
// error reply (after the replies to the commands already parsed) and closes the
// connection. The parser stays failed until reset().
//
// Buffer contract (the caller owns every byte; the parser owns none):
//   The connection keeps one input buffer. It calls parse() with all its unconsumed bytes.
//   parse() returns one status and `consumed`, the number of leading bytes the parser is
//   done with: the caller drops exactly those and keeps the rest. When the status is
//   kNeedMore the parser remembers how far it got in the pending (incomplete) command as
//   offsets from its first byte, so the next call must pass the kept bytes again,
//   unchanged, followed by whatever arrived since; they may have moved (the buffer may be
//   compacted or reallocated), which costs nothing here and never causes a rescan from
//   the start of the command.
//   On kCommand, args() views the command's arguments. They point into the input (bytes
//   before `consumed`) or, for decoded inline arguments, into the parser; they stay valid
//   until the next parse()/reset() call or until the caller changes or frees those input
//   bytes, so run the command before compacting the buffer.
//
// Hot path: a multibulk command is parsed in one pass without memchr (header digits are
// read directly), the argument vectors are reused (no allocation per command once warm),
// and nothing is allocated from a declared count or length: storage grows only with
// arguments that have really arrived.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "resp/protocol_error.h"

namespace cascade::resp {

inline constexpr std::int64_t kDefaultMaxBulkLen = 512LL * 1024 * 1024;  // proto-max-bulk-len
inline constexpr std::size_t kMaxLineBytes = 64 * 1024;   // PROTO_INLINE_MAX_SIZE
inline constexpr std::int64_t kMaxMultibulkCount = 2147483647;  // INT_MAX
inline constexpr std::int64_t kUnauthMaxCount = 10;
inline constexpr std::int64_t kUnauthMaxBulkLen = 16384;

enum class ParseStatus : std::uint8_t {
  kCommand,   // args() holds a complete command
  kNeedMore,  // the bytes end inside a command (or there are none)
  kError,     // protocol error: reply error_message(), then close the connection
};

struct [[nodiscard]] ParseResult {
  ParseStatus status;
  std::size_t consumed;  // leading input bytes the caller may drop now
};

class RequestParser {
 public:
  explicit RequestParser(std::int64_t max_bulk_len = kDefaultMaxBulkLen);

  RequestParser(const RequestParser&) = delete;
  RequestParser& operator=(const RequestParser&) = delete;

  // Parses at most one command from `input` (see the buffer contract above).
  ParseResult parse(std::string_view input);

  // The last command's arguments (valid after kCommand; at least one).
  std::span<const std::string_view> args() const { return {args_.data(), args_.size()}; }
  // True when the last command was inline (telnet style) rather than multibulk.
  bool last_was_inline() const { return last_inline_; }

  ProtocolError error() const { return error_; }
  // The complete error text without "-" and CRLF (what Redis sends after "-").
  std::string_view error_message() const;

  // While true, the limits for clients that still have to authenticate apply (Redis's
  // authRequired(c): a password is set and this client has not authenticated yet).
  void set_auth_required(bool required) { auth_required_ = required; }
  void set_max_bulk_len(std::int64_t max_bulk_len) { max_bulk_len_ = max_bulk_len; }

  // True when no command is partly parsed (nothing of the input is being held).
  bool idle() const { return state_ == State::kCommandStart; }
  // How many bytes, counted from the first unconsumed byte, the pending command is known
  // to need at least. A buffer growth policy may use it to avoid growing past what is
  // needed; it must not allocate it up front (it comes from a declared length).
  std::size_t pending_size_hint() const;
  // Heap bytes the parser holds (argument vectors and scratch), for limits and tests.
  std::size_t memory_usage() const;

  // Forgets any pending command and a sticky error.
  void reset();

 private:
  enum class State : std::uint8_t {
    kCommandStart,  // before a command's first byte
    kCountHeader,   // a "*<count>" line has begun but is not complete
    kBulkHeader,    // inside a multibulk, before a "$<len>" line at pos_
    kBulkPayload,   // inside a multibulk, waiting for bulk_len_ + 2 bytes at pos_
    kInline,        // an inline line whose end has not arrived
    kStalled,       // a NUL hid the line end; only the 64 KiB limit can end this
    kFailed,        // a protocol error was reported
  };
  enum class Step : std::uint8_t { kCommand, kEmpty, kNeedMore, kError };
  enum class LineScan : std::uint8_t { kReady, kNeedMore, kError };

  struct ArgRef {  // an argument as an offset from the pending command's first byte
    std::size_t offset;
    std::size_t length;
  };

  Step parse_pending(const char* cmd, std::size_t avail);
  Step parse_multibulk_count(const char* cmd, std::size_t avail);
  Step parse_bulks(const char* cmd, std::size_t avail);
  Step parse_bulk_header(const char* cmd, std::size_t avail, std::size_t& pos);
  Step parse_inline(const char* cmd, std::size_t avail);
  Step check_stalled(std::size_t avail);
  LineScan scan_header_line(const char* cmd, std::size_t avail, std::size_t line_start,
                            ProtocolError too_big, std::size_t& cr);
  Step fail(ProtocolError error);
  void stall(std::size_t line_start, ProtocolError too_big);
  void materialize_args(const char* cmd);
  void finish_command();
  void release_oversized_storage();

  State state_ = State::kCommandStart;
  ProtocolError error_ = ProtocolError::kNone;
  bool auth_required_ = false;
  bool last_inline_ = false;
  char bad_byte_ = 0;                 // the byte kExpectedDollar reports
  std::int64_t max_bulk_len_;

  // The pending command, as offsets from its first byte.
  std::size_t pos_ = 0;               // where parsing resumes
  std::size_t scan_from_ = 0;         // bytes of the current line known to hold no line end
  std::int64_t args_left_ = 0;        // bulks still to come
  std::int64_t bulk_len_ = 0;         // length of the bulk at pos_ (kBulkPayload)
  std::size_t stall_line_start_ = 0;  // kStalled: where the stalled line begins
  ProtocolError stall_error_ = ProtocolError::kNone;
  std::size_t last_avail_ = 0;        // input size seen by the last call (pending hint)
  std::size_t command_len_ = 0;       // bytes of the command just completed

  std::vector<ArgRef> refs_;
  std::vector<std::string_view> args_;
  std::string scratch_;               // decoded inline arguments
  mutable std::string message_;       // error_message() for kExpectedDollar
};

}  // namespace cascade::resp
