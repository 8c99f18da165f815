// Redis 7.0's protocol error texts (networking.c), verified against redis-server 7.0.15.
#include "resp/protocol_error.h"

namespace cascade::resp {

std::string_view protocol_error_text(ProtocolError error) {
  switch (error) {
    case ProtocolError::kNone:
      return {};
    case ProtocolError::kInvalidMultibulkLength:
      return "ERR Protocol error: invalid multibulk length";
    case ProtocolError::kUnauthenticatedMultibulkLength:
      return "ERR Protocol error: unauthenticated multibulk length";
    case ProtocolError::kInvalidBulkLength:
      return "ERR Protocol error: invalid bulk length";
    case ProtocolError::kUnauthenticatedBulkLength:
      return "ERR Protocol error: unauthenticated bulk length";
    case ProtocolError::kExpectedDollar:
      return "ERR Protocol error: expected '$', got '";
    case ProtocolError::kUnbalancedQuotes:
      return "ERR Protocol error: unbalanced quotes in request";
    case ProtocolError::kTooBigInlineRequest:
      return "ERR Protocol error: too big inline request";
    case ProtocolError::kTooBigMbulkCountString:
      return "ERR Protocol error: too big mbulk count string";
    case ProtocolError::kTooBigBulkCountString:
      return "ERR Protocol error: too big bulk count string";
  }
  return {};
}

}  // namespace cascade::resp
