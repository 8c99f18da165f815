// InputBuffer: slides or doubles only for commands that span reads, and with the
// parser makes the connection's read loop.
#include <doctest/doctest.h>

#include <algorithm>
#include <random>
#include <string>

#include "resp/input_buffer.h"
#include "resp/request_parser.h"
#include "resp_test_util.h"

namespace cascade::resp {
namespace {

void receive(InputBuffer& buffer, std::string_view bytes) {
  auto room = buffer.prepare(bytes.size());
  REQUIRE(room.size() >= bytes.size());
  std::copy(bytes.begin(), bytes.end(), room.begin());
  buffer.commit(bytes.size());
}

// A buffer whose first allocation is `capacity` bytes (prepare allocates what it is asked).
void reserve_first(InputBuffer& buffer, std::size_t capacity) {
  REQUIRE(buffer.capacity() == 0);
  REQUIRE(buffer.prepare(capacity).size() == capacity);
}

}  // namespace

TEST_CASE("input buffer allocates nothing until the first read, then what the read asks") {
  InputBuffer buffer;
  CHECK(buffer.capacity() == 0);
  CHECK(buffer.empty());
  CHECK(buffer.prepare(1).size() == kMinInputCapacity);
  InputBuffer other;
  CHECK(other.prepare(1000).size() == 1000);
  CHECK(other.capacity() == 1000);
}

TEST_CASE("input buffer release frees only an empty buffer; the next read allocates anew") {
  InputBuffer buffer;
  reserve_first(buffer, 1024);
  receive(buffer, "*1\r\n$4\r\nPI");
  CHECK_FALSE(buffer.release());  // a command is pending: its bytes stay
  CHECK(buffer.capacity() == 1024);
  CHECK(buffer.data() == "*1\r\n$4\r\nPI");
  receive(buffer, "NG\r\n");
  buffer.consume(buffer.size());
  CHECK(buffer.release());
  CHECK(buffer.capacity() == 0);
  receive(buffer, "PING\r\n");
  CHECK(buffer.data() == "PING\r\n");
  CHECK(buffer.capacity() == kMinInputCapacity);
}

TEST_CASE("input buffer release_if_idle keeps a buffer up to `keep` bytes") {
  InputBuffer buffer;
  reserve_first(buffer, 4096);
  receive(buffer, "abc");
  buffer.release_if_idle(1024);  // pending: kept whatever its size
  CHECK(buffer.capacity() == 4096);
  buffer.consume(3);
  buffer.release_if_idle(4096);  // not above `keep`
  CHECK(buffer.capacity() == 4096);
  buffer.release_if_idle(1024);
  CHECK(buffer.capacity() == 0);
}

TEST_CASE("input buffer: one command in many one-byte reads, from a small start") {
  const std::string command = testing::encode_multibulk({"SET", "key", std::string(5000, 'v')});
  InputBuffer buffer;
  RequestParser parser;
  std::size_t grows = 0;
  std::size_t last_capacity = 0;
  int commands = 0;
  for (char c : command) {
    receive(buffer, std::string_view(&c, 1));
    if (buffer.capacity() != last_capacity) ++grows;
    last_capacity = buffer.capacity();
    const ParseResult r = parser.parse(buffer.data());
    REQUIRE(r.status != ParseStatus::kError);
    if (r.status == ParseStatus::kCommand) {
      ++commands;
      CHECK(parser.args()[2] == std::string(5000, 'v'));
    }
    buffer.consume(r.consumed);
  }
  CHECK(commands == 1);
  CHECK(buffer.empty());
  // Doubling: a logarithmic number of allocations, never one per read.
  CHECK(grows <= 10);
  CHECK(buffer.capacity() <= 2 * command.size());
}

TEST_CASE("input buffer: a 1 MiB argument read in 16 KiB reads, then freed once consumed") {
  const std::string command = testing::encode_multibulk({"SET", "k", std::string(1 << 20, 'b')});
  InputBuffer buffer;
  RequestParser parser;
  std::size_t sent = 0;
  int commands = 0;
  while (sent < command.size()) {
    const std::size_t n = std::min<std::size_t>(16 * 1024, command.size() - sent);
    receive(buffer, std::string_view(command).substr(sent, n));
    sent += n;
    const ParseResult r = parser.parse(buffer.data());
    REQUIRE(r.status != ParseStatus::kError);
    if (r.status == ParseStatus::kCommand) {
      ++commands;
      CHECK(parser.args()[2].size() == (1u << 20));
    }
    buffer.consume(r.consumed);
  }
  CHECK(commands == 1);
  CHECK(buffer.capacity() >= command.size());
  CHECK(buffer.capacity() <= 2 * command.size());
  buffer.release_if_idle(16 * 1024);  // what the connection does after the batch
  CHECK(buffer.capacity() == 0);
}

TEST_CASE("input buffer starts over in place when everything was consumed") {
  InputBuffer buffer;
  reserve_first(buffer, 1024);
  receive(buffer, std::string(1000, 'a'));
  const char* first = buffer.data().data();
  buffer.consume(1000);
  receive(buffer, std::string(1000, 'b'));
  CHECK(buffer.data().data() == first);
  CHECK(buffer.capacity() == 1024);
}

TEST_CASE("input buffer slides a pending tail to the front before growing") {
  InputBuffer buffer;
  reserve_first(buffer, 1024);
  receive(buffer, std::string(900, 'a') + "tail");
  buffer.consume(900);
  receive(buffer, std::string(800, 'b'));  // 4 + 800 fit once the tail has moved
  CHECK(buffer.capacity() == 1024);
  CHECK(buffer.data().substr(0, 4) == "tail");
  CHECK(buffer.size() == 804);
}

TEST_CASE("input buffer doubles when the pending bytes need more room") {
  InputBuffer buffer;
  reserve_first(buffer, 1024);
  receive(buffer, std::string(1000, 'a'));
  receive(buffer, std::string(100, 'b'));
  CHECK(buffer.capacity() == 2048);
  CHECK(buffer.data() == std::string(1000, 'a') + std::string(100, 'b'));
  buffer.consume(buffer.size());
  buffer.release_if_idle(1024);
  CHECK(buffer.capacity() == 0);
}

TEST_CASE("input buffer and parser run a pipelined stream read in random pieces") {
  std::mt19937_64 rng(testing::test_seed() + 10);
  INFO("CASCADE_SEED=" << testing::test_seed());
  const auto stream = testing::generate_stream(rng, 2000);
  InputBuffer buffer;
  RequestParser parser;
  std::vector<testing::Command> got;
  std::size_t sent = 0;
  std::size_t largest_command = 0;
  while (sent < stream.bytes.size()) {
    const std::size_t n = std::min<std::size_t>(1 + rng() % 3000, stream.bytes.size() - sent);
    receive(buffer, std::string_view(stream.bytes).substr(sent, n));
    sent += n;
    for (;;) {
      const ParseResult r = parser.parse(buffer.data());
      if (r.status == ParseStatus::kCommand) {
        got.emplace_back(parser.args().begin(), parser.args().end());
        largest_command = std::max(largest_command, r.consumed);
      }
      buffer.consume(r.consumed);
      REQUIRE(r.status != ParseStatus::kError);
      if (r.status == ParseStatus::kNeedMore) break;
    }
  }
  CHECK(got == stream.commands);
  CHECK(buffer.empty());
  // Growth followed what arrived: at most twice the largest command plus one read.
  CHECK(buffer.capacity() <= 2 * (largest_command + 3000));
}

}  // namespace cascade::resp
