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

}  // namespace

TEST_CASE("input buffer starts over in place when everything was consumed") {
  InputBuffer buffer(1024);
  receive(buffer, std::string(1000, 'a'));
  const char* first = buffer.data().data();
  buffer.consume(1000);
  receive(buffer, std::string(1000, 'b'));
  CHECK(buffer.data().data() == first);
  CHECK(buffer.capacity() == 1024);
}

TEST_CASE("input buffer slides a pending tail to the front before growing") {
  InputBuffer buffer(1024);
  receive(buffer, std::string(900, 'a') + "tail");
  buffer.consume(900);
  receive(buffer, std::string(800, 'b'));  // 4 + 800 fit once the tail has moved
  CHECK(buffer.capacity() == 1024);
  CHECK(buffer.data().substr(0, 4) == "tail");
  CHECK(buffer.size() == 804);
}

TEST_CASE("input buffer doubles when the pending bytes need more room") {
  InputBuffer buffer(1024);
  receive(buffer, std::string(1000, 'a'));
  receive(buffer, std::string(100, 'b'));
  CHECK(buffer.capacity() == 2048);
  CHECK(buffer.data() == std::string(1000, 'a') + std::string(100, 'b'));
  buffer.consume(buffer.size());
  buffer.release_if_idle();
  CHECK(buffer.capacity() == 1024);
}

TEST_CASE("input buffer and parser run a pipelined stream read in random pieces") {
  std::mt19937_64 rng(testing::test_seed() + 10);
  INFO("CASCADE_SEED=" << testing::test_seed());
  const auto stream = testing::generate_stream(rng, 2000);
  InputBuffer buffer(512);
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
