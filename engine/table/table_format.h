// The table file's framing: block handles, the footer and the properties block.
// engine/FORMAT.md ("Table") has the whole file layout; the blocks themselves are in
// block.h and block_compression.h.
//
// File layout, every region starting on a 4 KiB page boundary:
//
//   data block*            stored blocks (block_compression.h), nearly all one page
//   index partition*       raw stored blocks of (separator -> data block handle), one page
//   top index              raw stored block of (last separator of a partition -> its handle)
//   filter                 raw stored block holding one bloom filter (bloom_filter.h)
//   properties             raw stored block of tagged fields (below)
//   footer                 the last page of the file
//
// Block handle: offset varint64 (a multiple of 4096), stored_size varint64 (payload +
// trailer, without padding). A read of a block is the pages_for(stored_size) pages at
// offset.
//
// Footer (exactly one page, 4096 bytes, the file's last page):
//
//   0     magic            fixed64  kTableMagic
//   8     format_version   fixed32  kTableFormatVersion (2; 1 is read too)
//   12    top_index        handle as fixed64 offset + fixed64 stored_size
//   28    filter           handle (stored_size 0: the table has no filter)
//   44    properties       handle
//   60    zero bytes up to 4092
//   4092  checksum         fixed32: checksum(bytes [0, 4092), file_number, footer offset)
//
// Invariants kept by every future version: magic at 0, version at 8, checksum in the
// last 4 bytes of the last page over everything before it. A reader checks the magic
// (Corruption: "not a table"), then the checksum (Corruption), then the version (a newer
// one is NotSupported), so a flipped bit is reported as corruption, not as "too new".
//
// Properties block payload: a sequence of fields, tag varint32 then a varint64 value
// (tags below 100) or a length-prefixed byte string (tags 100 and up). Unknown tags are
// skipped, so adding a property needs no version change; a tag's meaning never changes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "engine/format/internal_key.h"
#include "engine/table/block_compression.h"
#include "src/runtime/result.h"

namespace cascade::engine {

constexpr std::uint64_t kTableMagic = 0x31656c6261546373;  // "scTable1" little-endian
// 2: kValuePointer entries may carry a value head (engine/vlog/value_pointer.h), which a
// build reading only version 1 would refuse as a malformed pointer. Nothing else differs,
// so version 1 tables are read unchanged.
constexpr std::uint32_t kTableFormatVersion = 2;
constexpr std::size_t kFooterSize = kPageSize;
constexpr std::size_t kMaxBlockHandleSize = 2 * kMaxVarint64Bytes;

struct BlockHandle {
  std::uint64_t offset = 0;
  std::uint64_t stored_size = 0;

  std::uint64_t padded_end() const { return offset + padded_size(stored_size); }
  bool operator==(const BlockHandle&) const = default;
};

void encode_block_handle(std::string& dst, const BlockHandle& handle);
// Corruption unless `in` starts with a handle whose offset is page-aligned; advances `in`.
Result<BlockHandle> decode_block_handle(std::string_view& in);
// Also requires the handle's pages to lie inside [0, limit) and stored_size > 0.
Status check_block_handle(const BlockHandle& handle, std::uint64_t limit, const char* what);

struct Footer {
  std::uint32_t format_version = kTableFormatVersion;
  BlockHandle top_index;
  BlockHandle filter;  // stored_size 0: no filter
  BlockHandle properties;
};

// Writes the footer page (kFooterSize bytes) for a file whose footer starts at `offset`.
void encode_footer(const Footer& footer, std::uint64_t file_number, std::uint64_t offset,
                   char* page);
Result<Footer> decode_footer(std::string_view page, std::uint64_t file_number,
                             std::uint64_t offset);

struct TableProperties {
  std::uint64_t format_version = kTableFormatVersion;
  std::uint64_t file_number = 0;
  std::uint64_t num_entries = 0;
  std::uint64_t num_deletions = 0;
  std::uint64_t num_data_blocks = 0;
  std::uint64_t raw_key_size = 0;    // sum of internal key sizes
  std::uint64_t raw_value_size = 0;  // sum of value sizes
  std::uint64_t data_size = 0;       // bytes of the data region, padding included
  std::uint64_t index_size = 0;      // index partitions + top index, padding included
  std::uint64_t num_index_partitions = 0;
  std::uint64_t filter_size = 0;     // padding included
  std::uint64_t compression = 0;     // CompressionType the builder was configured with
  std::uint64_t num_compressed_blocks = 0;
  std::uint64_t creation_time = 0;   // seconds since the Unix epoch
  SequenceNumber smallest_sequence = 0;
  SequenceNumber largest_sequence = 0;
  std::string smallest_key;  // internal keys
  std::string largest_key;
  std::uint64_t file_size = 0;  // not stored: the reader fills it in

  bool operator==(const TableProperties&) const = default;
};

std::string encode_properties(const TableProperties& props);
Result<TableProperties> decode_properties(std::string_view payload);

}  // namespace cascade::engine

namespace cascade::engine {

// A key k with last <= k < next in internal-key order, as short as this finds: the user
// key cut just past the first byte where it differs from next's, with the trailer that
// sorts first among that user key's entries. Falls back to `last` itself when that is
// not shorter (e.g. last and next share their user key). Requires last < next.
std::string shortest_separator(std::string_view last, std::string_view next);

}  // namespace cascade::engine
