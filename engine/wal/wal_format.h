// The write-ahead log's on-disk format (engine/FORMAT.md, "WAL"): segment header pages,
// record headers, positions.
//
// The WAL is `segment_count` preallocated files `wal-000.log` ... used as a ring. Ring index
// r = lap * segment_count + segment counts segments in the order they are written (lap 1 is
// the first pass over the files). Every file is `segment_size` bytes:
//
//   page 0     header page, written once when the file is created:
//     0   fixed64  magic kWalMagic
//     8   fixed32  format version (kWalFormatVersion)
//     12  fixed32  segment index
//     16  fixed32  segment count
//     20  fixed32  wal id (random, the same in every segment of one WAL)
//     24  fixed64  segment size
//     32  fixed32  checksum of bytes [0, 32), file 0, offset 0
//     36  zeros to the end of the page
//   pages 1..  records, 8-byte aligned, packed back to back inside a group:
//     0   fixed32  checksum of bytes [4, 24 + length), seeded with
//                  file = (wal_id << 8 | segment) and offset = the record's offset
//     4   fixed32  length of the payload
//     8   fixed32  lap
//     12  byte     type (kBatch = 1)
//     13  3 bytes  zero
//     16  fixed64  durable_to: every record before this logical position was on disk
//                  (synced) when this record was written
//     24  payload  an encoded WriteBatch; then zeros up to a multiple of 8
//
// Writes cover whole pages, in log order: full pages of the writer's tail as they fill, or
// the whole tail with the rest of its last page zeros (the next record then starts on the
// next page). A page that held a completed write is never written again in the same lap.
// A record never spans two segments. Logical position = ring index * segment_size + offset.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "src/runtime/result.h"

namespace cascade::engine {

inline constexpr std::uint64_t kWalMagic = 0x4c41572d43534143ULL;  // "CASC-WAL" in LE bytes
inline constexpr std::uint32_t kWalFormatVersion = 1;
inline constexpr std::uint64_t kWalPageSize = 4096;
inline constexpr std::uint64_t kWalHeaderPageSize = kWalPageSize;
inline constexpr std::size_t kWalRecordHeaderSize = 24;
inline constexpr std::size_t kWalRecordAlignment = 8;
inline constexpr std::uint32_t kWalMaxSegments = 256;
inline constexpr std::uint64_t kWalMinSegmentSize = 2 * kWalPageSize;
inline constexpr std::uint64_t kWalMaxSegmentSize = std::uint64_t{1} << 32;

// Written to disk: values never change meaning.
enum class WalRecordType : std::uint8_t {
  kBatch = 1,
};

// Where a record starts: (lap, segment) names the ring index, offset is in the file.
struct WalPosition {
  std::uint32_t lap = 0;
  std::uint32_t segment = 0;
  std::uint64_t offset = 0;

  auto operator<=>(const WalPosition&) const = default;
};

struct WalGeometry {
  std::uint32_t segment_count = 4;
  std::uint64_t segment_size = 64ull << 20;
  std::uint32_t wal_id = 0;

  std::uint64_t ring_index(std::uint32_t lap, std::uint32_t segment) const {
    return std::uint64_t{lap} * segment_count + segment;
  }
  std::uint64_t logical(std::uint64_t ring, std::uint64_t offset) const {
    return ring * segment_size + offset;
  }
  WalPosition position(std::uint64_t ring, std::uint64_t offset) const {
    return {static_cast<std::uint32_t>(ring / segment_count),
            static_cast<std::uint32_t>(ring % segment_count), offset};
  }
  std::uint64_t checksum_file(std::uint32_t segment) const {
    return (std::uint64_t{wal_id} << 8) | segment;
  }
  // The largest payload one record can carry (a record never spans segments).
  std::uint64_t max_payload() const {
    return segment_size - kWalHeaderPageSize - kWalRecordHeaderSize;
  }
};

// InvalidArgument unless count and size are in range and size is a multiple of a page.
Status validate_geometry(const WalGeometry& g);

std::string wal_segment_name(std::uint32_t segment);  // "wal-007.log"

// The header page's first 36 bytes, and their check (Corruption, or NotSupported for a
// newer format version).
void encode_wal_header(const WalGeometry& g, std::uint32_t segment, char* page);
Result<WalGeometry> decode_wal_header(std::string_view page, std::uint32_t expected_segment);

struct WalRecordHeader {
  std::uint32_t checksum = 0;
  std::uint32_t length = 0;
  std::uint32_t lap = 0;
  WalRecordType type = WalRecordType::kBatch;
  std::uint64_t durable_to = 0;
};

inline std::uint64_t wal_record_size(std::uint64_t payload) {
  return (kWalRecordHeaderSize + payload + kWalRecordAlignment - 1) & ~(kWalRecordAlignment - 1);
}

// Writes the header fields but the checksum at dst; seal_wal_record fills durable_to and the
// checksum once the record's payload follows the header in memory.
void encode_wal_record_header(char* dst, std::uint32_t length, std::uint32_t lap);
void seal_wal_record(char* record, std::uint64_t durable_to, const WalGeometry& g,
                     std::uint32_t segment, std::uint64_t offset);

// The record at `offset` of `segment` whose bytes start at `bytes` (which holds `available`
// bytes from there): its header if it is whole and its checksum matches, else nullopt.
std::optional<WalRecordHeader> parse_wal_record(const char* bytes, std::uint64_t available,
                                                const WalGeometry& g, std::uint32_t segment,
                                                std::uint64_t offset);

inline bool is_zero(const char* p, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    if (p[i] != 0) return false;
  }
  return true;
}

}  // namespace cascade::engine
