// fuzz-resp-parser: libFuzzer target for resp::RequestParser.
//
// Input layout: byte 0 = flags (bit 0: authentication required, bit 1: a 64-byte bulk
// limit, bit 2: move the pending bytes to a new buffer between reads), bytes 1-2 = a
// split point (little endian, taken modulo the stream size), the rest = the bytes a
// client sends.
//
// Checked on every input, beyond "no crash, no sanitizer report":
//   - split invariance: the stream fed whole, split once at the chosen point, cut into
//     pseudo-random reads (with the buffer moving when bit 2 is set) and, for short
//     inputs, one byte at a time all give the same commands and the same error or the
//     same number of pending bytes;
//   - the consumed-bytes contract: consumed never exceeds the input, and consumed plus
//     pending accounts for every byte when no error occurred;
//   - zero copy: multibulk arguments lie inside the consumed input bytes;
//   - no allocation from declared lengths: the parser's memory stays within a bound set
//     by the bytes that really arrived;
//   - errors are sticky, carry a Redis "ERR Protocol error: " text, and nothing is parsed
//     after one;
//   - round trip: the commands re-encoded as multibulk parse back to themselves.
// A failed check prints what differed and aborts, which libFuzzer reports as a crash.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "resp/request_parser.h"

namespace {

using cascade::resp::ParseResult;
using cascade::resp::ParseStatus;
using cascade::resp::ProtocolError;
using cascade::resp::RequestParser;

struct Options {
  bool auth_required = false;
  std::int64_t max_bulk_len = cascade::resp::kDefaultMaxBulkLen;
  bool relocate = false;
};

struct Outcome {
  std::vector<std::vector<std::string>> commands;
  ProtocolError error = ProtocolError::kNone;
  std::string message;
  std::size_t pending = 0;
  bool operator==(const Outcome&) const = default;
};

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz-resp-parser: invariant broken: %s\n", what);
  std::abort();
}

void check(bool ok, const char* what) {
  if (!ok) fail(what);
}

// Checks the arguments of the command just parsed and records them.
void take_command(const RequestParser& parser, std::string_view buffer, std::size_t consumed,
                  Outcome& out) {
  check(!parser.args().empty(), "a command without arguments");
  std::vector<std::string> command;
  for (std::string_view arg : parser.args()) {
    if (!parser.last_was_inline()) {
      const bool inside = arg.data() >= buffer.data() &&
                          arg.data() + arg.size() <= buffer.data() + consumed;
      check(inside, "a multibulk argument outside the consumed input");
    }
    command.emplace_back(arg);
  }
  out.commands.push_back(std::move(command));
}

// Feeds `stream` in pieces ending at `cuts` (then the rest), as a connection would.
Outcome run(std::string_view stream, const std::vector<std::size_t>& cuts, const Options& opt) {
  RequestParser parser(opt.max_bulk_len);
  parser.set_auth_required(opt.auth_required);
  Outcome out;
  std::string buffer;
  std::size_t sent = 0;
  std::size_t total_consumed = 0;
  auto arrive = [&](std::size_t upto) {
    buffer.append(stream.substr(sent, upto - sent));
    sent = upto;
    for (;;) {
      const ParseResult r = parser.parse(buffer);
      check(r.consumed <= buffer.size(), "consumed more than the input");
      // A bound from what arrived: nothing may be sized from a declared length.
      check(parser.memory_usage() <= 4096 + 40 * stream.size(), "memory beyond the input");
      if (r.status == ParseStatus::kCommand) take_command(parser, buffer, r.consumed, out);
      total_consumed += r.consumed;
      if (opt.relocate) {
        std::string moved = buffer.substr(r.consumed);
        std::memset(buffer.data(), 'Z', buffer.size());
        buffer = std::move(moved);
      } else {
        buffer.erase(0, r.consumed);
      }
      if (r.status == ParseStatus::kError) {
        out.error = parser.error();
        out.message = std::string(parser.error_message());
        check(out.error != ProtocolError::kNone, "an error without a code");
        check(out.message.rfind("ERR Protocol error: ", 0) == 0, "an error text not Redis's");
        const ParseResult again = parser.parse(buffer);
        check(again.status == ParseStatus::kError && again.consumed == 0, "error not sticky");
        return false;
      }
      if (r.status == ParseStatus::kNeedMore) return true;
    }
  };
  for (std::size_t cut : cuts) {
    if (!arrive(cut)) return out;
  }
  if (!arrive(stream.size())) return out;
  out.pending = buffer.size();
  check(total_consumed + out.pending == stream.size(), "bytes lost between calls");
  return out;
}

void expect_same(const Outcome& got, const Outcome& want, const char* how) {
  if (got == want) return;
  std::fprintf(stderr, "%s: %zu commands (error %d, pending %zu) vs whole: %zu (error %d, pending %zu)\n",
               how, got.commands.size(), static_cast<int>(got.error), got.pending,
               want.commands.size(), static_cast<int>(want.error), want.pending);
  fail("split changed the result");
}

std::string encode(const std::vector<std::vector<std::string>>& commands) {
  std::string out;
  for (const auto& command : commands) {
    out += "*" + std::to_string(command.size()) + "\r\n";
    for (const std::string& arg : command) {
      out += "$" + std::to_string(arg.size()) + "\r\n" + arg + "\r\n";
    }
  }
  return out;
}

std::vector<std::size_t> pseudo_random_cuts(std::string_view stream, std::uint32_t seed) {
  std::vector<std::size_t> cuts;
  std::uint32_t x = seed * 2654435761u + 1;
  for (std::size_t at = 0;;) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    at += 1 + x % 97;
    if (at >= stream.size()) return cuts;
    cuts.push_back(at);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 3) return 0;
  Options opt;
  opt.auth_required = (data[0] & 1) != 0;
  if ((data[0] & 2) != 0) opt.max_bulk_len = 64;
  opt.relocate = (data[0] & 4) != 0;
  const std::uint32_t split_seed = data[1] | (std::uint32_t{data[2]} << 8);
  const std::string_view stream(reinterpret_cast<const char*>(data + 3), size - 3);

  const Outcome whole = run(stream, {}, opt);
  if (!stream.empty()) {
    expect_same(run(stream, {split_seed % stream.size()}, opt), whole, "one split");
  }
  expect_same(run(stream, pseudo_random_cuts(stream, split_seed), opt), whole, "random reads");
  if (stream.size() <= 2048) {
    std::vector<std::size_t> every;
    for (std::size_t i = 1; i < stream.size(); ++i) every.push_back(i);
    expect_same(run(stream, every, opt), whole, "byte at a time");
  }

  // Round trip: what was parsed, re-encoded as multibulk, parses back to itself.
  // (Default limits: an inline argument may be longer than a small bulk limit.)
  const Outcome again = run(encode(whole.commands), {}, Options{});
  check(again.commands == whole.commands, "re-encoded commands differ");
  check(again.error == ProtocolError::kNone && again.pending == 0, "re-encoding did not parse");
  return 0;
}
