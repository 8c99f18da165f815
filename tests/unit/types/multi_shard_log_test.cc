#include "src/types/multi_shard_log.h"

#include <doctest/doctest.h>

#include <string>

using namespace cascade::types;

namespace {

Decision sample() {
  Decision d;
  d.txid = 0x0102030405060708ull;
  d.coordinator = 1;
  d.parts.push_back({2, std::string("batch-two\0bytes", 15)});
  d.parts.push_back({5, ""});
  return d;
}

}  // namespace

TEST_CASE("a decision record decodes to what was encoded") {
  const Decision d = sample();
  auto decoded = decode_decision(encode_decision(d));
  REQUIRE(decoded);
  CHECK(decoded->txid == d.txid);
  CHECK(decoded->coordinator == 1);
  REQUIRE(decoded->parts.size() == 2);
  CHECK(decoded->parts[0].shard == 2);
  CHECK(decoded->parts[0].batch == d.parts[0].batch);
  CHECK(decoded->parts[1].shard == 5);
  CHECK(decoded->parts[1].batch.empty());
}

TEST_CASE("a truncated, extended or newer decision record is corruption") {
  const std::string bytes = encode_decision(sample());
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    auto decoded = decode_decision(bytes.substr(0, n));
    CHECK_FALSE(decoded);
    if (!decoded) CHECK(decoded.error().is_corruption());
  }
  CHECK_FALSE(decode_decision(bytes + "x"));
  std::string newer = bytes;
  newer[0] = 2;
  CHECK_FALSE(decode_decision(newer));
}

TEST_CASE("decision keys sort by txid and live outside every database") {
  CHECK(decision_key(1) < decision_key(2));
  CHECK(decision_key(255) < decision_key(256));
  CHECK(decision_key(7).starts_with(decision_prefix()));
  CHECK(decision_prefix() == std::string("\xff\xff\xff\xff\x03", 5));
  CHECK(applied_marker_prefix() == std::string("\xff\xff\xff\xff\x04", 5));
}

TEST_CASE("a marker key names its coordinator and txid") {
  const std::string key = applied_marker_key(3, 0xABCDEFull);
  CHECK(key.size() == 17);
  CHECK(key.starts_with(applied_marker_prefix()));
  auto txid = marker_txid(key);
  REQUIRE(txid);
  CHECK(*txid == 0xABCDEFull);
  CHECK_FALSE(marker_txid(decision_key(1)));
  CHECK_FALSE(marker_txid(key.substr(0, 16)));
}
