#include "engine/write_batch.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "engine/format/coding.h"
#include "tests/support/test_seed.h"

using namespace cascade::engine;
using cascade::Result;
using cascade::Status;

namespace {

struct Decoded {
  SequenceNumber sequence;
  ValueType type;
  std::string key;
  std::string value;
  bool operator==(const Decoded&) const = default;
};

std::vector<Decoded> decode_all(const WriteBatch& batch) {
  std::vector<Decoded> out;
  Status s = batch.for_each([&](const WriteBatchRecord& r) {
    out.push_back({r.sequence, r.type, std::string(r.key), std::string(r.value)});
  });
  REQUIRE(s.is_ok());
  return out;
}

// Reads every record of `bytes`; ok only if all of it is a well-formed batch.
Status decode_checked(std::string_view bytes) {
  Result<WriteBatch::Reader> reader = WriteBatch::Reader::open(bytes);
  if (!reader) return reader.error();
  std::size_t payload = 0;
  while (!reader->done()) {
    Result<WriteBatchRecord> record = reader->next();
    if (!record) return record.error();
    for (std::string_view part : {record->key, record->value}) {
      if (part.empty()) continue;
      REQUIRE(part.data() >= bytes.data());
      REQUIRE(part.data() + part.size() <= bytes.data() + bytes.size());
    }
    payload += record->key.size() + record->value.size();
  }
  REQUIRE(payload <= bytes.size());
  return reader->finish();
}

std::string sample_contents() {
  WriteBatch batch;
  batch.put("key", "value");
  batch.del("gone");
  batch.add(ValueType::kValuePointer, "big", "ptr");
  batch.set_sequence(7);
  return std::string(batch.contents());
}

}  // namespace

TEST_CASE("an empty write batch is a 12-byte header with sequence and count zero") {
  WriteBatch batch;
  CHECK(batch.byte_size() == WriteBatch::kHeaderSize);
  CHECK(batch.count() == 0);
  CHECK(batch.sequence() == 0);
  CHECK(decode_all(batch).empty());
}

TEST_CASE("a write batch encodes byte for byte as FORMAT.md documents") {
  WriteBatch batch;
  batch.put("k", "vv");
  batch.del("d");
  batch.set_sequence(0x0102030405060708ull);
  std::string expect("\x08\x07\x06\x05\x04\x03\x02\x01"  // sequence, little-endian
                     "\x02\x00\x00\x00"                  // count
                     "\x01\x01" "k" "\x02" "vv"         // kValue, key "k", value "vv"
                     "\x00\x01" "d",                     // kDeletion, key "d", no value
                     21);
  CHECK(batch.contents() == expect);
}

TEST_CASE("a write batch round-trips its records, sequences and size") {
  WriteBatch batch;
  batch.put("key", "value");
  batch.del("gone");
  batch.add(ValueType::kValuePointer, "big", "ptr");
  batch.put("", "");
  batch.put("long", std::string(300, 'x'));  // a two-byte varint length
  batch.set_sequence(1000);
  CHECK(batch.count() == 5);
  CHECK(batch.sequence() == 1000);
  CHECK(batch.byte_size() == batch.contents().size());

  std::vector<Decoded> expect = {{1000, ValueType::kValue, "key", "value"},
                                 {1001, ValueType::kDeletion, "gone", ""},
                                 {1002, ValueType::kValuePointer, "big", "ptr"},
                                 {1003, ValueType::kValue, "", ""},
                                 {1004, ValueType::kValue, "long", std::string(300, 'x')}};
  CHECK(decode_all(batch) == expect);

  Result<WriteBatch> copy = WriteBatch::from_contents(std::string(batch.contents()));
  REQUIRE(copy.has_value());
  CHECK(copy->count() == 5);
  CHECK(decode_all(*copy) == expect);
}

TEST_CASE("put_joined encodes head and tail as put does their concatenation, large tails in pieces") {
  std::string tail(3 * WriteBatch::kPieceSize + 7, '\0');
  for (std::size_t i = 0; i < tail.size(); ++i) tail[i] = static_cast<char>(i * 31 + i / 977);
  for (const std::string& t : {std::string("v"), std::string(), tail}) {
    CAPTURE(t.size());
    WriteBatch joined;
    WriteBatch plain;
    joined.put("first", "1");
    plain.put("first", "1");
    int calls = 0;
    joined.put_joined("key", "head", t, [&] { ++calls; });
    plain.put("key", "head" + t);
    joined.put_joined("no-callback", "h", t);
    plain.put("no-callback", "h" + t);
    CHECK(joined.count() == plain.count());
    CHECK(joined.contents() == plain.contents());
    // One call between each two of the tail's pieces; none for a tail of one piece.
    CHECK(calls == (t.size() > WriteBatch::kPieceSize ? 3 : 0));
  }
}

TEST_CASE("a batch truncated anywhere is rejected as corruption") {
  std::string good = sample_contents();
  for (std::size_t n = 0; n < good.size(); ++n) {
    INFO("kept " << n << " of " << good.size() << " bytes");
    Result<WriteBatch> r = WriteBatch::from_contents(good.substr(0, n));
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().is_corruption());
  }
  CHECK(WriteBatch::from_contents(good).has_value());
}

TEST_CASE("a batch whose count disagrees with its records is rejected") {
  std::string good = sample_contents();
  for (std::uint32_t wrong : {0u, 2u, 4u, 1000u, UINT32_MAX}) {
    INFO("count " << wrong);
    std::string bad = good;
    store_fixed32(bad.data() + 8, wrong);
    Result<WriteBatch> r = WriteBatch::from_contents(bad);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().is_corruption());
  }
}

TEST_CASE("a batch with an unknown record type is rejected") {
  std::string bad = sample_contents();
  bad[WriteBatch::kHeaderSize] = 3;  // first record's type
  Result<WriteBatch> r = WriteBatch::from_contents(bad);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().is_corruption());
  CHECK(r.error().message().find("unknown type 3") != std::string::npos);
}

TEST_CASE("a length running past the end is rejected, not followed") {
  WriteBatch batch;
  batch.put("k", "v");
  std::string bad(batch.contents());
  // Replace the key length with a 5-byte varint of 2^32 - 1.
  bad.replace(WriteBatch::kHeaderSize + 1, 1, "\xff\xff\xff\xff\x0f", 5);
  Result<WriteBatch> r = WriteBatch::from_contents(bad);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().is_corruption());
}

TEST_CASE("for_each reports corruption after the records before it") {
  std::string bad = sample_contents();
  bad.pop_back();
  Result<WriteBatch::Reader> reader = WriteBatch::Reader::open(bad);
  REQUIRE(reader.has_value());
  REQUIRE(reader->next().has_value());
  REQUIRE(reader->next().has_value());
  Result<WriteBatchRecord> third = reader->next();
  REQUIRE_FALSE(third.has_value());
  CHECK(third.error().is_corruption());
}

TEST_CASE("randomly damaged batches decode or fail cleanly, never out of bounds") {
  std::uint64_t seed = cascade::testing::test_seed("write batch");
  MESSAGE("CASCADE_SEED=" << seed);
  std::mt19937_64 rng(seed);
  WriteBatch batch;
  for (int i = 0; i < 20; ++i) {
    batch.put(std::string(rng() % 20, 'k'), std::string(rng() % 200, 'v'));
    if (i % 3 == 0) batch.del(std::string(rng() % 5, 'd'));
  }
  std::string good(batch.contents());
  for (int trial = 0; trial < 2000; ++trial) {
    std::string bad = good;
    for (int flips = 1 + rng() % 3; flips > 0; --flips) {
      bad[rng() % bad.size()] = static_cast<char>(rng());
    }
    bad.resize(rng() % 4 == 0 ? rng() % bad.size() : bad.size());
    // Decode from an exact-size heap copy so a sanitizer build catches any overread.
    auto exact = std::make_unique<char[]>(bad.size());
    std::copy(bad.begin(), bad.end(), exact.get());
    std::string_view bytes(exact.get(), bad.size());
    Status decoded = decode_checked(bytes);
    Result<WriteBatch> adopted = WriteBatch::from_contents(bad);
    REQUIRE(adopted.has_value() == decoded.is_ok());
    if (!decoded) CHECK(decoded.is_corruption());
  }
}

TEST_CASE("appending a batch adds its records after ours and keeps our sequence") {
  WriteBatch first;
  first.put("a", "1");
  first.set_sequence(10);
  WriteBatch second;
  second.del("b");
  second.put("c", "3");
  second.set_sequence(99);
  first.append(second);
  CHECK(first.count() == 3);
  CHECK(first.sequence() == 10);
  std::vector<Decoded> expect = {{10, ValueType::kValue, "a", "1"},
                                 {11, ValueType::kDeletion, "b", ""},
                                 {12, ValueType::kValue, "c", "3"}};
  CHECK(decode_all(first) == expect);
  CHECK(second.count() == 2);  // the appended batch is unchanged
}

TEST_CASE("clearing a batch drops its records and sequence") {
  WriteBatch batch;
  batch.put("a", "1");
  batch.set_sequence(5);
  batch.clear();
  CHECK(batch.count() == 0);
  CHECK(batch.sequence() == 0);
  CHECK(batch.byte_size() == WriteBatch::kHeaderSize);
}
