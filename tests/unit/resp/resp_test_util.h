// Helpers shared by the resp unit tests: the test seed, a connection-like driver that
// feeds a RequestParser in chunks, and a generator of mixed request streams whose
// expected commands are known.
//
// Seeds: every randomized test draws from test_seed(), which is CASCADE_SEED when set and
// random otherwise; it is printed once to stderr and attached to every failure, so
//   CASCADE_SEED=<n> build/tests/unit-resp
// replays a failure exactly.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "resp/protocol_error.h"
#include "resp/request_parser.h"

namespace cascade::resp::testing {

std::uint64_t test_seed();

// Heap allocations made by this process so far (operator new is counted in the test
// binary), to show that a hot path allocates nothing.
std::uint64_t allocation_count();

using Command = std::vector<std::string>;

// What a connection would observe from a byte stream: the commands in order, then either
// a protocol error or some bytes still pending.
struct Transcript {
  std::vector<Command> commands;
  std::vector<bool> inline_flags;
  ProtocolError error = ProtocolError::kNone;
  std::string error_message;
  std::size_t pending = 0;  // unconsumed bytes at the end (no error)

  bool operator==(const Transcript&) const = default;
};

// Feeds `stream` cut at the given offsets (sorted, within the stream) like a connection:
// append what arrived, parse every complete command, drop the consumed bytes. When
// `relocate` is set, the kept bytes move to a freshly allocated buffer after every call
// and the old one is overwritten first, so any pointer the parser kept would show.
Transcript feed(RequestParser& parser, std::string_view stream,
                const std::vector<std::size_t>& cuts, bool relocate = false);
Transcript feed_whole(std::string_view stream, std::int64_t max_bulk_len = kDefaultMaxBulkLen);
Transcript feed_bytewise(std::string_view stream);

std::string encode_multibulk(const Command& command);

// A stream of `count` random commands (multibulk with binary, empty and occasionally
// large arguments; inline with bare, double- and single-quoted arguments, escapes, \n or
// \r\n line ends) with blank lines and *0 / *-1 mixed in, and the commands it holds.
struct GeneratedStream {
  std::string bytes;
  std::vector<Command> commands;
};
GeneratedStream generate_stream(std::mt19937_64& rng, std::size_t count,
                                bool large_args = true);

}  // namespace cascade::resp::testing
