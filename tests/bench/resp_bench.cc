// bench-resp: throughput of the protocol layer on one core (a benchmark, not a test).
//
// Parser: a pipelined stream of `SET key:NNNNNNNN <64-byte value>` multibulk commands
// (103 bytes each), parsed (a) from one buffer holding the whole stream and (b) as a
// connection sees it, copied into an InputBuffer in 16 KiB reads, so commands straddle
// reads. Also inline `SET key:NNNNNNNN value` lines. Every command's arguments are read so
// nothing is optimised away.
// Writer: the replies such a pipeline produces (+OK), GET replies (64-byte bulk), integer
// replies and a RESP3 map, into a ReplyBuffer cleared every 64 replies (one flush per
// pipeline batch).
// Each figure is the median of several runs. Usage: bench-resp [commands] [runs]
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "resp/input_buffer.h"
#include "resp/reply_writer.h"
#include "resp/request_parser.h"

namespace {

using Clock = std::chrono::steady_clock;
using cascade::resp::InputBuffer;
using cascade::resp::ParseResult;
using cascade::resp::ParseStatus;
using cascade::resp::ReplyWriter;
using cascade::resp::RequestParser;
using cascade::resp::RespVersion;

constexpr std::size_t kReadSize = 16 * 1024;
constexpr int kFlushEvery = 64;

std::uint64_t g_sink = 0;  // printed at the end so the work cannot be dropped

std::string key_of(std::size_t i) {
  char key[16];
  std::snprintf(key, sizeof key, "key:%08zu", i % 100000000);
  return key;
}

std::string multibulk_set_stream(std::size_t commands) {
  const std::string value(64, 'v');
  std::string out;
  out.reserve(commands * 103);
  for (std::size_t i = 0; i < commands; ++i) {
    out += "*3\r\n$3\r\nSET\r\n$12\r\n" + key_of(i) + "\r\n$64\r\n" + value + "\r\n";
  }
  return out;
}

std::string inline_set_stream(std::size_t commands) {
  std::string out;
  for (std::size_t i = 0; i < commands; ++i) out += "SET " + key_of(i) + " some-value\r\n";
  return out;
}

void consume_args(const RequestParser& parser) {
  for (std::string_view arg : parser.args()) g_sink += arg.size() + static_cast<unsigned char>(arg[0]);
}

std::size_t parse_whole(const std::string& stream) {
  RequestParser parser;
  std::string_view rest = stream;
  std::size_t commands = 0;
  for (;;) {
    const ParseResult r = parser.parse(rest);
    if (r.status != ParseStatus::kCommand) break;
    consume_args(parser);
    rest.remove_prefix(r.consumed);
    ++commands;
  }
  return commands;
}

std::size_t parse_in_reads(const std::string& stream) {
  RequestParser parser;
  InputBuffer buffer;
  std::size_t commands = 0;
  for (std::size_t sent = 0; sent < stream.size();) {
    const std::size_t n = std::min(kReadSize, stream.size() - sent);
    std::memcpy(buffer.prepare(n).data(), stream.data() + sent, n);  // the "read"
    buffer.commit(n);
    sent += n;
    for (;;) {
      const ParseResult r = parser.parse(buffer.data());
      if (r.status == ParseStatus::kCommand) {
        consume_args(parser);
        ++commands;
      }
      buffer.consume(r.consumed);
      if (r.status != ParseStatus::kCommand) break;
    }
  }
  return commands;
}

struct Sample {
  double seconds;
  std::size_t bytes;
  std::size_t items;
};

Sample median_of(int runs, const std::function<Sample()>& run) {
  std::vector<Sample> samples;
  for (int i = 0; i < runs; ++i) samples.push_back(run());
  std::sort(samples.begin(), samples.end(),
            [](const Sample& a, const Sample& b) { return a.seconds < b.seconds; });
  return samples[samples.size() / 2];
}

template <typename Fn>
Sample timed(std::size_t bytes, Fn&& fn) {
  const auto start = Clock::now();
  const std::size_t items = fn();
  const std::chrono::duration<double> took = Clock::now() - start;
  return {took.count(), bytes, items};
}

void report(const char* name, const Sample& s, const char* unit) {
  std::printf("%-44s %7.2f GB/s  %8.2f M%s/s  (%zu %s, %.1f MB, %.3f s)\n", name,
              static_cast<double>(s.bytes) / s.seconds / 1e9,
              static_cast<double>(s.items) / s.seconds / 1e6, unit, s.items, unit,
              static_cast<double>(s.bytes) / 1e6, s.seconds);
}

// Writes `replies` replies with `one` and returns the bytes produced.
template <typename Fn>
Sample write_replies(std::size_t replies, RespVersion version, Fn&& one) {
  ReplyWriter writer(version);
  std::size_t bytes = 0;
  const auto start = Clock::now();
  for (std::size_t i = 0; i < replies; ++i) {
    one(writer, i);
    if ((i + 1) % kFlushEvery == 0) {
      bytes += writer.buffer().size();
      g_sink += static_cast<unsigned char>(writer.buffer().view()[0]);
      writer.buffer().clear();
    }
  }
  bytes += writer.buffer().size();
  const std::chrono::duration<double> took = Clock::now() - start;
  return {took.count(), bytes, replies};
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t commands = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 2000000;
  const int runs = argc > 2 ? std::atoi(argv[2]) : 7;
  std::printf("bench-resp: %zu commands, median of %d runs, one thread\n", commands, runs);

  const std::string sets = multibulk_set_stream(commands);
  report("parse SET multibulk, one buffer",
         median_of(runs, [&] { return timed(sets.size(), [&] { return parse_whole(sets); }); }),
         "cmd");
  report("parse SET multibulk, 16 KiB reads",
         median_of(runs, [&] { return timed(sets.size(), [&] { return parse_in_reads(sets); }); }),
         "cmd");
  const std::string inlines = inline_set_stream(commands);
  report("parse SET inline, one buffer",
         median_of(runs, [&] { return timed(inlines.size(), [&] { return parse_whole(inlines); }); }),
         "cmd");

  const std::string value(64, 'v');
  report("write +OK (RESP2)", median_of(runs, [&] {
           return write_replies(commands, RespVersion::kResp2,
                                [](ReplyWriter& w, std::size_t) { w.ok(); });
         }),
         "reply");
  report("write 64-byte bulk (RESP2)", median_of(runs, [&] {
           return write_replies(commands, RespVersion::kResp2,
                                [&](ReplyWriter& w, std::size_t) { w.bulk(value); });
         }),
         "reply");
  report("write integer (RESP2)", median_of(runs, [&] {
           return write_replies(commands, RespVersion::kResp2, [](ReplyWriter& w, std::size_t i) {
             w.integer(static_cast<std::int64_t>(i * 7919));
           });
         }),
         "reply");
  report("write map of 2 bulk pairs (RESP3)", median_of(runs, [&] {
           return write_replies(commands, RespVersion::kResp3, [&](ReplyWriter& w, std::size_t) {
             w.map(2);
             w.bulk("field1");
             w.bulk(value);
             w.bulk("field2");
             w.integer(42);
           });
         }),
         "reply");
  std::printf("(checksum %llu)\n", static_cast<unsigned long long>(g_sink));
  return 0;
}
