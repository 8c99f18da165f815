// The value-log file format: header, footer and records round-trip; a flipped bit, a
// record read at the wrong offset or from the wrong file, and a newer version are refused.
#include <doctest/doctest.h>

#include <functional>
#include <random>
#include <string>

#include "engine/format/checksum.h"
#include "engine/format/coding.h"
#include "engine/vlog/value_compression.h"
#include "engine/vlog/value_pointer.h"
#include "engine/vlog/vlog_format.h"

using namespace cascade;
using namespace cascade::engine;

TEST_CASE("vlog header and footer round-trip and check magic, version and file number") {
  std::string header = encode_vlog_header(42);
  CHECK(header.size() == kVlogHeaderSize);
  CHECK(decode_vlog_header(header, 42));
  CHECK(decode_vlog_header(header, 43).is_corruption());

  VlogFooter footer{7, 9000};
  std::string page = encode_vlog_footer(footer, 42, 12288);
  CHECK(page.size() == kVlogFooterSize);
  auto back = decode_vlog_footer(page, 42, 12288);
  REQUIRE(back);
  CHECK(*back == footer);
  CHECK(decode_vlog_footer(page, 42, 8192).status().is_corruption());  // misplaced footer
  CHECK(decode_vlog_footer(std::string(kPageSize, '\0'), 42, 12288).status().is_corruption());
}

TEST_CASE("vlog reader refuses a newer format version with NotSupported") {
  std::string header = encode_vlog_header(3);
  store_fixed32(header.data() + 8, kVlogFormatVersion + 1);
  // Re-seal so only the version differs.
  std::string fields = header.substr(0, 20);
  std::string resealed = fields;
  put_fixed32(resealed, checksum(fields, 3, 0));
  resealed.resize(kVlogHeaderSize, '\0');
  Status s = decode_vlog_header(resealed, 3);
  CHECK(s.code() == StatusCode::kNotSupported);
}

TEST_CASE("vlog records round-trip raw, compressed and empty values") {
  CompressionOptions zstd;
  ValueCompressor compressor(zstd);
  const std::string values[] = {"", "x", std::string(300, 'a'), std::string(5000, 'q') + "tail"};
  std::string file;
  std::uint64_t offset = kVlogHeaderSize;
  std::vector<std::pair<std::uint64_t, std::size_t>> where;
  bool some_compressed = false;
  for (const std::string& v : values) {
    std::string compressed;
    CompressionType type = compressor.compress(v, compressed);
    some_compressed |= type == CompressionType::kZstd;
    std::string_view stored = type == CompressionType::kNone ? std::string_view(v) : compressed;
    std::size_t before = file.size();
    append_vlog_record(file, 9, offset, "key-" + std::to_string(v.size()), type, v.size(), stored);
    where.emplace_back(offset, before);
    offset += file.size() - before;
  }
  CHECK(some_compressed);
  for (std::size_t i = 0; i < where.size(); ++i) {
    auto [off, pos] = where[i];
    auto r = decode_vlog_record(std::string_view(file).substr(pos), 9, off);
    REQUIRE_MESSAGE(r, r.status().to_string());
    CHECK(r->key == "key-" + std::to_string(values[i].size()));
    std::string out;
    REQUIRE(append_record_value(*r, out));
    CHECK(out == values[i]);
  }
}

TEST_CASE("vlog record checks fail on every flipped bit, a wrong offset and a wrong file") {
  std::string record;
  append_vlog_record(record, 9, 4096, "key", CompressionType::kNone, 5, "value");
  REQUIRE(decode_vlog_record(record, 9, 4096));
  CHECK(decode_vlog_record(record, 9, 4097).status().is_corruption());
  CHECK(decode_vlog_record(record, 10, 4096).status().is_corruption());
  for (std::size_t bit = 0; bit < record.size() * 8; ++bit) {
    std::string damaged = record;
    damaged[bit / 8] = static_cast<char>(damaged[bit / 8] ^ (1 << (bit % 8)));
    auto r = decode_vlog_record(damaged, 9, 4096);
    CAPTURE(bit);
    CHECK(!r);
  }
  CHECK(decode_vlog_record(std::string_view(record).substr(0, record.size() - 1), 9, 4096)
            .status()
            .is_corruption());
}

TEST_CASE("value pointers round-trip with or without a head; malformed ones are Corruption") {
  ValuePointer p{123456, 1ull << 40, 70000, {}};
  auto back = ValuePointer::decode(p.encode());
  REQUIRE(back);
  CHECK(*back == p);
  CHECK(back->head.empty());
  // The bytes after the three varints are the value's head.
  std::string with_head = p.encode() + "x";
  auto headed = ValuePointer::decode(with_head);
  REQUIRE(headed);
  CHECK(headed->head == "x");
  CHECK(headed->size == 70000);
  CHECK(headed->encode() == with_head);
  ValuePointer full{7, 4096, 100, std::string(kMaxValueHeadSize, 'h')};
  auto longest = ValuePointer::decode(full.encode());
  REQUIRE(longest);
  CHECK(*longest == full);
  CHECK(ValuePointer::decode(full.encode() + "h").status().is_corruption());
  CHECK(ValuePointer::decode(p.encode().substr(0, 3)).status().is_corruption());
}

namespace {
std::string random_bytes(std::mt19937_64& rng, std::size_t n) {
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}
}  // namespace

TEST_CASE("a run of values that do not compress is soon stored raw without trying") {
  CompressionOptions zstd;
  ValueCompressor compressor(zstd);
  std::mt19937_64 rng(11);
  std::string out;
  for (int i = 0; i < 1000; ++i) {
    CHECK(compressor.compress(random_bytes(rng, 4096), out) == CompressionType::kNone);
  }
  CHECK(compressor.attempts() + compressor.skipped() == 1000);
  // 4 misses, then stretches of 1, 2, 4 ... 64 values each after one more try: about one
  // try per 65 values once the stretches are long. Tries 1-4, then one try before each
  // stretch: 1, 2, 4, 8, 16, 32 (values 5-73), then 64 each: 24 tries within 1,000.
  CHECK(compressor.attempts() == 24);
  MESSAGE("tries for 1000 incompressible values: ", compressor.attempts());

  // Values that compress again are compressed once the current stretch ends, and each
  // of them after that.
  const std::string text = std::string(2000, 'a') + "b" + std::string(2000, 'c');
  int raw = 0;
  for (int i = 0; i <= static_cast<int>(ValueCompressor::kMaxSkip); ++i) {
    if (compressor.compress(text, out) == CompressionType::kZstd) break;
    ++raw;
  }
  CHECK(raw <= static_cast<int>(ValueCompressor::kMaxSkip));
  const std::uint64_t skipped = compressor.skipped();
  for (int i = 0; i < 100; ++i) {
    REQUIRE(compressor.compress(text, out) == CompressionType::kZstd);
    std::string back;
    REQUIRE(decompress_value(out, text.size(), back));
    CHECK(back == text);
  }
  CHECK(compressor.skipped() == skipped);
}

TEST_CASE("values that compress between ones that do not keep every value tried") {
  CompressionOptions zstd;
  ValueCompressor compressor(zstd);
  std::mt19937_64 rng(12);
  std::string out;
  const std::string text(4096, 'k');
  int compressed = 0;
  for (int i = 0; i < 300; ++i) {
    // Three misses in a row at most: fewer than it takes to start skipping.
    const bool compressible = i % 4 == 3;
    const std::string value = compressible ? text : random_bytes(rng, 4096);
    if (compressor.compress(value, out) == CompressionType::kZstd) ++compressed;
  }
  CHECK(compressor.skipped() == 0);
  CHECK(compressor.attempts() == 300);
  CHECK(compressed == 75);
}

TEST_CASE("a value saving less than min_saving counts as one that does not compress") {
  CompressionOptions zstd;
  zstd.min_saving = 0.9;  // only values zstd shrinks to a tenth are stored compressed
  ValueCompressor compressor(zstd);
  std::mt19937_64 rng(13);
  std::string out;
  // Half random, half repeated: zstd saves about half, below the 90% asked for.
  for (int i = 0; i < 50; ++i) {
    const std::string value = random_bytes(rng, 2048) + std::string(2048, 'r');
    CHECK(compressor.compress(value, out) == CompressionType::kNone);
  }
  CHECK(compressor.skipped() > 0);
}

TEST_CASE("a zstd frame whose size disagrees with the record header is Corruption") {
  CompressionOptions zstd;
  ValueCompressor compressor(zstd);
  std::string value(4000, 'z'), frame;
  REQUIRE(compressor.compress(value, frame) == CompressionType::kZstd);
  std::string out;
  CHECK(decompress_value(frame, value.size(), out));
  CHECK(out == value);
  out.clear();
  CHECK(decompress_value(frame, value.size() + 1, out).is_corruption());
  CHECK(out.empty());
}

// ---- large values (LargeValueCompressor) -------------------------------------------------

namespace {

struct PieceCounter {
  int calls = 0;
  std::function<void()> fn() {
    return [this] { ++calls; };
  }
};

std::string text_bytes(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 4096) % 26);
  return s;
}

}  // namespace

TEST_CASE("a large value that compresses is compressed in pieces, with the caller's turn between them") {
  CompressionOptions zstd;
  LargeValueCompressor compressor(zstd);
  const std::string value = text_bytes(3 * LargeValueCompressor::kPieceSize + 12345);
  PieceCounter pieces;
  StoredValue stored = compressor.compress(value, pieces.fn());
  REQUIRE(stored.type == CompressionType::kZstd);
  CHECK(stored.frame_size < value.size() / 4);
  // After the sample, then after each piece but the last: 1 + 3.
  CHECK(pieces.calls == 4);
  std::string back;
  REQUIRE(decompress_value(stored.stored(value), value.size(), back));
  CHECK(back == value);
  CHECK(stored.tried);

  // Contexts are reused: the same value again gives the same frame.
  StoredValue again = compressor.compress(value, [] {});
  REQUIRE(again.type == CompressionType::kZstd);
  CHECK(std::string_view(again.frame.get(), again.frame_size) ==
        std::string_view(stored.frame.get(), stored.frame_size));
}

TEST_CASE("a large value whose sample does not compress is stored raw without compressing the rest") {
  CompressionOptions zstd;
  LargeValueCompressor compressor(zstd);
  std::mt19937_64 rng(21);
  const std::string value = random_bytes(rng, 2 * LargeValueCompressor::kPieceSize);
  PieceCounter pieces;
  StoredValue stored = compressor.compress(value, pieces.fn());
  CHECK(stored.type == CompressionType::kNone);
  CHECK(stored.stored(value).data() == value.data());
  CHECK(pieces.calls == 0);  // rejected on the sample, before any piece
  CHECK(stored.tried);
}

TEST_CASE("a large value that compresses at its start only is stored raw, stopped once past its limit") {
  CompressionOptions zstd;
  LargeValueCompressor compressor(zstd);
  std::mt19937_64 rng(22);
  // The sample (the first 128 KiB) compresses; the 8 MiB after it do not.
  const std::string value = std::string(256 << 10, 'a') +
                            random_bytes(rng, 8 * LargeValueCompressor::kPieceSize);
  const int all_pieces = static_cast<int>(
      (value.size() + LargeValueCompressor::kPieceSize - 1) / LargeValueCompressor::kPieceSize);
  PieceCounter pieces;
  StoredValue stored = compressor.compress(value, pieces.fn());
  CHECK(stored.type == CompressionType::kNone);
  CHECK(stored.tried);
  // Had it gone to the end: the sample's call plus one after every piece but the last.
  CHECK(pieces.calls >= 2);
  CHECK(pieces.calls < all_pieces);

  // The context it gave back mid-frame makes the next value's frame from scratch.
  const std::string text = text_bytes(LargeValueCompressor::kLargeValueSize + 1);
  StoredValue next = compressor.compress(text, [] {});
  REQUIRE(next.type == CompressionType::kZstd);
  std::string back;
  REQUIRE(decompress_value(next.stored(text), text.size(), back));
  CHECK(back == text);
}

TEST_CASE("with compression off a large value is stored raw and counted nowhere") {
  CompressionOptions none;
  none.type = CompressionType::kNone;
  LargeValueCompressor compressor(none);
  const std::string value = text_bytes(LargeValueCompressor::kLargeValueSize);
  PieceCounter pieces;
  StoredValue stored = compressor.compress(value, pieces.fn());
  CHECK(stored.type == CompressionType::kNone);
  CHECK_FALSE(stored.tried);
  CHECK(pieces.calls == 0);
}

TEST_CASE("a value no longer than the sample is compressed once, its sample's frame its own") {
  CompressionOptions zstd;
  LargeValueCompressor compressor(zstd);
  for (std::size_t size : {std::size_t{100}, std::size_t{20000}, LargeValueCompressor::kSampleSize}) {
    CAPTURE(size);
    const std::string value = text_bytes(size);
    PieceCounter pieces;
    StoredValue stored = compressor.compress(value, pieces.fn());
    REQUIRE(stored.type == CompressionType::kZstd);
    CHECK(pieces.calls == 0);
    std::string back;
    REQUIRE(decompress_value(stored.stored(value), value.size(), back));
    CHECK(back == value);
  }
  std::mt19937_64 rng(23);
  const std::string noise = random_bytes(rng, 20000);
  StoredValue raw = compressor.compress(noise, [] {});
  CHECK(raw.type == CompressionType::kNone);
  CHECK(raw.tried);
  CHECK(compressor.compress("short", [] {}).type == CompressionType::kNone);  // under 64 bytes
}
