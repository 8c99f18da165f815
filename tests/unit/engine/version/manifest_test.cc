#include "engine/version/manifest.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "engine/format/checksum.h"
#include "engine/format/coding.h"
#include "tests/unit/engine/version/version_test_util.h"

using namespace cascade::engine;
using cascade::engine::testing::run_in_fiber;
using cascade::runtime::real_file_system;
using cascade::runtime::testing::TempDir;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}
void spill(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
}

const std::vector<std::string> kRecords = {"first", std::string(300, 'b'), "third record"};

// Writes kRecords to `path` as manifest number 7 and returns the file's bytes.
std::string write_manifest(const std::string& path) {
  run_in_fiber([&] {
    auto w = ManifestWriter::create(real_file_system(), path, 7);
    REQUIRE(w);
    for (const auto& r : kRecords) REQUIRE((*w)->add_record(r));
    REQUIRE((*w)->sync());
    CHECK((*w)->size() == kManifestHeaderSize + 3 * kManifestRecordHeaderSize + 5 + 300 + 12);
    REQUIRE((*w)->close());
  });
  return slurp(path);
}

cascade::Result<ManifestContents> read(const std::string& path, std::uint64_t number = 7) {
  cascade::Result<ManifestContents> out = cascade::Status::io_error("not run");
  run_in_fiber([&] { out = read_manifest(real_file_system(), path, number); });
  return out;
}

}  // namespace

TEST_CASE("manifest records read back in order") {
  TempDir dir;
  std::string path = dir.file("MANIFEST-000007");
  std::string bytes = write_manifest(path);
  auto c = read(path);
  REQUIRE_MESSAGE(c, c.status().to_string());
  CHECK(c->records == kRecords);
  CHECK(c->valid_bytes == bytes.size());
  CHECK(c->dropped_tail_bytes == 0);
}

TEST_CASE("a manifest read with the wrong file number fails its checksums") {
  TempDir dir;
  std::string path = dir.file("MANIFEST-000007");
  write_manifest(path);
  CHECK(read(path, 8).status().is_corruption());  // the header checksum is seeded too
}

TEST_CASE("a manifest cut anywhere inside its last record drops only that record") {
  TempDir dir;
  std::string path = dir.file("MANIFEST-000007");
  std::string bytes = write_manifest(path);
  std::size_t last = bytes.size() - kManifestRecordHeaderSize - kRecords.back().size();
  for (std::size_t cut = last; cut < bytes.size(); ++cut) {
    CAPTURE(cut);
    spill(path, bytes.substr(0, cut));
    auto c = read(path);
    REQUIRE_MESSAGE(c, c.status().to_string());
    CHECK(c->records == std::vector<std::string>(kRecords.begin(), kRecords.end() - 1));
    CHECK(c->dropped_tail_bytes == cut - last);
  }
}

TEST_CASE("a manifest with a damaged last record or zeros after it drops the tail") {
  TempDir dir;
  std::string path = dir.file("MANIFEST-000007");
  std::string bytes = write_manifest(path);
  std::string flipped = bytes;
  flipped.back() ^= 0x01;
  spill(path, flipped);
  auto c = read(path);
  REQUIRE(c);
  CHECK(c->records.size() == 2);

  spill(path, bytes + std::string(4096, '\0'));  // a size that landed before its data
  c = read(path);
  REQUIRE(c);
  CHECK(c->records == kRecords);
  CHECK(c->dropped_tail_bytes == 4096);
}

TEST_CASE("a damaged manifest record followed by a valid one is corruption") {
  TempDir dir;
  std::string path = dir.file("MANIFEST-000007");
  std::string bytes = write_manifest(path);
  // Every byte of the first two records: checksum, length and payload.
  std::size_t end = bytes.size() - kManifestRecordHeaderSize - kRecords.back().size();
  for (std::size_t i = kManifestHeaderSize; i < end; i += 7) {
    CAPTURE(i);
    std::string damaged = bytes;
    damaged[i] ^= 0x10;
    spill(path, damaged);
    auto c = read(path);
    REQUIRE(!c);
    CHECK(c.error().is_corruption());
  }
}

TEST_CASE("a manifest with a bad magic or a newer format version is refused") {
  TempDir dir;
  std::string path = dir.file("MANIFEST-000007");
  std::string bytes = write_manifest(path);

  std::string magic = bytes;
  magic[0] ^= 0x01;
  spill(path, magic);
  CHECK(read(path).status().is_corruption());

  std::string header;
  put_fixed64(header, kManifestMagic);
  put_fixed32(header, kManifestFormatVersion + 1);
  put_fixed32(header, checksum(header, 7, 0));
  spill(path, header + bytes.substr(kManifestHeaderSize));
  auto c = read(path);
  CHECK(c.status().code() == cascade::StatusCode::kNotSupported);
  CHECK(c.status().message().find("newer") != std::string::npos);

  spill(path, bytes.substr(0, 10));
  CHECK(read(path).status().is_corruption());
}
