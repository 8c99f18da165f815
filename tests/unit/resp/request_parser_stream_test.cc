// RequestParser on long pipelined streams: whatever the split of the bytes into reads,
// and wherever the pending bytes are moved between reads, the commands (or the error)
// are the same, and are the ones that were encoded. Randomized: see resp_test_util.h for
// CASCADE_SEED.
#include <doctest/doctest.h>

#include <random>
#include <string>

#include "resp/request_parser.h"
#include "resp_test_util.h"

namespace cascade::resp {
namespace {

using testing::Command;
using testing::feed;
using testing::Transcript;

Transcript expected_of(const testing::GeneratedStream& g) {
  Transcript t;
  t.commands = g.commands;
  return t;
}

// inline_flags are checked by the unit cases; here only commands and errors matter.
void check_same(const Transcript& got, const Transcript& want) {
  CHECK(got.commands.size() == want.commands.size());
  CHECK(got.commands == want.commands);
  CHECK(got.error == want.error);
  CHECK(got.error_message == want.error_message);
  CHECK(got.pending == want.pending);
}

std::vector<std::size_t> random_cuts(std::mt19937_64& rng, std::size_t size,
                                     std::size_t mean_chunk) {
  std::vector<std::size_t> cuts;
  std::size_t at = 0;
  for (;;) {
    at += 1 + rng() % (2 * mean_chunk);
    if (at >= size) return cuts;
    cuts.push_back(at);
  }
}

}  // namespace

TEST_CASE("parser yields the same commands at every split point") {
  const std::uint64_t seed = testing::test_seed();
  INFO("CASCADE_SEED=" << seed);
  std::mt19937_64 rng(seed);
  const auto stream = testing::generate_stream(rng, 300, /*large_args=*/false);
  const Transcript want = expected_of(stream);
  RequestParser whole;
  check_same(feed(whole, stream.bytes, {}), want);
  for (std::size_t cut = 1; cut < stream.bytes.size(); ++cut) {
    RequestParser parser;
    const Transcript got = feed(parser, stream.bytes, {cut}, /*relocate=*/cut % 7 == 0);
    if (got.commands != want.commands || got.error != want.error || got.pending != 0) {
      CAPTURE(cut);
      check_same(got, want);
      break;
    }
  }
}

TEST_CASE("parser yields the same commands when fed one byte at a time") {
  const std::uint64_t seed = testing::test_seed() + 1;
  INFO("CASCADE_SEED=" << testing::test_seed());
  std::mt19937_64 rng(seed);
  const auto stream = testing::generate_stream(rng, 3000);
  CHECK(stream.bytes.size() > 100000);
  check_same(testing::feed_bytewise(stream.bytes), expected_of(stream));
}

TEST_CASE("parser yields the same commands for random reads with the buffer moving") {
  const std::uint64_t seed = testing::test_seed() + 2;
  INFO("CASCADE_SEED=" << testing::test_seed());
  std::mt19937_64 rng(seed);
  for (int round = 0; round < 20; ++round) {
    CAPTURE(round);
    const auto stream = testing::generate_stream(rng, 500);
    const std::size_t mean = std::size_t{1} << (rng() % 12);
    RequestParser parser;
    check_same(feed(parser, stream.bytes, random_cuts(rng, stream.bytes.size(), mean), true),
               expected_of(stream));
  }
}

TEST_CASE("parser reports the same error after the same commands at every split point") {
  const std::uint64_t seed = testing::test_seed() + 3;
  INFO("CASCADE_SEED=" << testing::test_seed());
  std::mt19937_64 rng(seed);
  const std::string bad_endings[] = {
      "*1\r\n$-1\r\n",         "*1\r\nx4\r\nPING\r\n", "ECHO \"a\"b\r\n",
      "*2147483648\r\n",       "*1\r\n$04\r\n",         "*01\r\n",
      "ECHO 'unterminated\n", "*2\r\n$1\r\nx\r\n\r\n",
      std::string("*1\0\r\n", 5) + std::string(66000, 'z'),
      std::string(66000, 'A') + "\r\n",
  };
  for (const std::string& bad : bad_endings) {
    CAPTURE(bad.substr(0, 20));
    const auto prefix = testing::generate_stream(rng, 20, /*large_args=*/false);
    const std::string bytes = prefix.bytes + bad + "*1\r\n$4\r\nPING\r\n";
    const Transcript want = testing::feed_whole(bytes);
    REQUIRE(want.error != ProtocolError::kNone);
    CHECK(want.commands == prefix.commands);
    // Every split near the interesting end, a sample elsewhere.
    for (std::size_t cut = 1; cut < bytes.size(); ++cut) {
      const bool near_error = cut + 40 >= prefix.bytes.size() && cut <= prefix.bytes.size() + 80;
      if (!near_error && rng() % 64 != 0) continue;
      RequestParser parser;
      const Transcript got = feed(parser, bytes, {cut}, cut % 3 == 0);
      if (!(got == want)) {
        CAPTURE(cut);
        check_same(got, want);
        break;
      }
    }
  }
}

TEST_CASE("parser decodes a large bulk that arrives in small pieces") {
  std::mt19937_64 rng(testing::test_seed() + 4);
  INFO("CASCADE_SEED=" << testing::test_seed());
  std::string payload(3 << 20, '\0');
  for (char& c : payload) c = static_cast<char>(rng());
  const Command command{"SET", "big", payload};
  const std::string bytes = testing::encode_multibulk(command);
  RequestParser parser;
  const Transcript got = feed(parser, bytes, random_cuts(rng, bytes.size(), 1500));
  REQUIRE(got.commands.size() == 1);
  CHECK(got.commands[0] == command);
}

}  // namespace cascade::resp
