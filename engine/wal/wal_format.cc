#include "engine/wal/wal_format.h"

#include <cstdio>
#include <cstring>

#include "engine/format/checksum.h"
#include "engine/format/coding.h"

namespace cascade::engine {

namespace {
constexpr std::size_t kHeaderFieldsSize = 32;
}

Status validate_geometry(const WalGeometry& g) {
  if (g.segment_count < 2 || g.segment_count > kWalMaxSegments) {
    return Status::invalid_argument("wal segment count must be in [2, 256]");
  }
  if (g.segment_size < kWalMinSegmentSize || g.segment_size > kWalMaxSegmentSize ||
      g.segment_size % kWalPageSize != 0) {
    return Status::invalid_argument(
        "wal segment size must be a multiple of 4 KiB in [8 KiB, 4 GiB]");
  }
  return Status::ok();
}

std::string wal_segment_name(std::uint32_t segment) {
  char name[32];
  std::snprintf(name, sizeof(name), "wal-%03u.log", segment);
  return name;
}

void encode_wal_header(const WalGeometry& g, std::uint32_t segment, char* page) {
  store_fixed64(page, kWalMagic);
  store_fixed32(page + 8, kWalFormatVersion);
  store_fixed32(page + 12, segment);
  store_fixed32(page + 16, g.segment_count);
  store_fixed32(page + 20, g.wal_id);
  store_fixed64(page + 24, g.segment_size);
  store_fixed32(page + 32, checksum({page, kHeaderFieldsSize}, 0, 0));
}

Result<WalGeometry> decode_wal_header(std::string_view page, std::uint32_t expected_segment) {
  std::string name = wal_segment_name(expected_segment);
  if (page.size() < kHeaderFieldsSize + 4 || load_fixed64(page.data()) != kWalMagic) {
    return Status::corruption(name + ": not a wal segment (bad magic)");
  }
  if (load_fixed32(page.data() + 32) != checksum(page.substr(0, kHeaderFieldsSize), 0, 0)) {
    return Status::corruption(name + ": header page checksum mismatch");
  }
  std::uint32_t version = load_fixed32(page.data() + 8);
  if (version > kWalFormatVersion) {
    return Status::not_supported(name + ": wal format version " + std::to_string(version) +
                                 " is newer than this build's " +
                                 std::to_string(kWalFormatVersion));
  }
  if (load_fixed32(page.data() + 12) != expected_segment) {
    return Status::corruption(name + ": header names another segment index");
  }
  WalGeometry g;
  g.segment_count = load_fixed32(page.data() + 16);
  g.wal_id = load_fixed32(page.data() + 20);
  g.segment_size = load_fixed64(page.data() + 24);
  if (Status s = validate_geometry(g); !s) return Status::corruption(name + ": " + s.message());
  return g;
}

void encode_wal_record_header(char* dst, std::uint32_t length, std::uint32_t lap) {
  std::memset(dst, 0, kWalRecordHeaderSize);
  store_fixed32(dst + 4, length);
  store_fixed32(dst + 8, lap);
  dst[12] = static_cast<char>(WalRecordType::kBatch);
}

void seal_wal_record(char* record, std::uint64_t durable_to, const WalGeometry& g,
                     std::uint32_t segment, std::uint64_t offset) {
  store_fixed64(record + 16, durable_to);
  std::uint32_t length = load_fixed32(record + 4);
  std::string_view covered(record + 4, kWalRecordHeaderSize - 4 + length);
  store_fixed32(record, checksum(covered, g.checksum_file(segment), offset));
}

std::optional<WalRecordHeader> parse_wal_record(const char* bytes, std::uint64_t available,
                                                const WalGeometry& g, std::uint32_t segment,
                                                std::uint64_t offset) {
  if (available < kWalRecordHeaderSize) return std::nullopt;
  WalRecordHeader h;
  h.checksum = load_fixed32(bytes);
  h.length = load_fixed32(bytes + 4);
  h.lap = load_fixed32(bytes + 8);
  if (static_cast<unsigned char>(bytes[12]) != static_cast<unsigned char>(WalRecordType::kBatch) ||
      bytes[13] != 0 || bytes[14] != 0 || bytes[15] != 0 || h.lap == 0 ||
      h.length > available - kWalRecordHeaderSize) {
    return std::nullopt;
  }
  h.durable_to = load_fixed64(bytes + 16);
  std::string_view covered(bytes + 4, kWalRecordHeaderSize - 4 + h.length);
  if (checksum(covered, g.checksum_file(segment), offset) != h.checksum) return std::nullopt;
  return h;
}

}  // namespace cascade::engine
