// Protocol errors a client can provoke while sending a request, with Redis 7.0's reply text.
//
// Every protocol error is fatal for the connection: the server replies with the text below
// (as an error reply, "-" + text + "\r\n"), after the replies of the commands that came
// before the bad one, and then closes the connection, exactly as Redis does
// (CLIENT_CLOSE_AFTER_REPLY). The texts were checked byte for byte against redis-server 7.0.
//
// kExpectedDollar carries the offending byte, so its text is built by the parser; the
// other texts are constants.
#pragma once

#include <cstdint>
#include <string_view>

namespace cascade::resp {

enum class ProtocolError : std::uint8_t {
  kNone = 0,
  kInvalidMultibulkLength,          // "*" count not a number, or above INT_MAX
  kUnauthenticatedMultibulkLength,  // more than 10 arguments before AUTH
  kInvalidBulkLength,               // "$" length not a number, negative, or above the limit
  kUnauthenticatedBulkLength,       // an argument above 16384 bytes before AUTH
  kExpectedDollar,                  // an argument header that does not start with "$"
  kUnbalancedQuotes,                // inline request with an unterminated/ill-ended quote
  kTooBigInlineRequest,             // inline line longer than 64 KiB
  kTooBigMbulkCountString,          // "*" header line longer than 64 KiB
  kTooBigBulkCountString,           // "$" header line longer than 64 KiB
};

// The reply text without the leading "-" and trailing CRLF, e.g.
// "ERR Protocol error: invalid bulk length". For kExpectedDollar it returns the text up to
// the offending byte; RequestParser::error_message() gives the complete one.
std::string_view protocol_error_text(ProtocolError error);

}  // namespace cascade::resp
