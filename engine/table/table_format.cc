// Block handles, the footer and the properties block (layouts in table_format.h).
#include "engine/table/table_format.h"

#include <cstring>

#include "engine/format/checksum.h"
#include "engine/format/coding.h"

namespace cascade::engine {

void encode_block_handle(std::string& dst, const BlockHandle& handle) {
  put_varint64(dst, handle.offset);
  put_varint64(dst, handle.stored_size);
}

Result<BlockHandle> decode_block_handle(std::string_view& in) {
  BlockHandle h;
  if (!get_varint64(in, h.offset) || !get_varint64(in, h.stored_size)) {
    return Status::corruption("table: malformed block handle");
  }
  if (h.offset % kPageSize != 0) return Status::corruption("table: block handle not page-aligned");
  return h;
}

Status check_block_handle(const BlockHandle& h, std::uint64_t limit, const char* what) {
  if (h.offset % kPageSize != 0 || h.stored_size < kStoredBlockTrailerSize ||
      h.stored_size > limit || h.offset > limit - padded_size(h.stored_size)) {
    return Status::corruption(std::string("table: ") + what + " handle out of bounds");
  }
  return Status::ok();
}

namespace {

constexpr std::size_t kFooterChecksumOffset = kFooterSize - 4;

void store_handle(char* dst, const BlockHandle& h) {
  store_fixed64(dst, h.offset);
  store_fixed64(dst + 8, h.stored_size);
}
BlockHandle load_handle(const char* src) { return {load_fixed64(src), load_fixed64(src + 8)}; }

}  // namespace

void encode_footer(const Footer& footer, std::uint64_t file_number, std::uint64_t offset,
                   char* page) {
  std::memset(page, 0, kFooterSize);
  store_fixed64(page, kTableMagic);
  store_fixed32(page + 8, footer.format_version);
  store_handle(page + 12, footer.top_index);
  store_handle(page + 28, footer.filter);
  store_handle(page + 44, footer.properties);
  std::uint32_t sum = checksum({page, kFooterChecksumOffset}, file_number, offset);
  store_fixed32(page + kFooterChecksumOffset, sum);
}

Result<Footer> decode_footer(std::string_view page, std::uint64_t file_number,
                             std::uint64_t offset) {
  if (page.size() != kFooterSize) return Status::corruption("table: footer is not one page");
  if (load_fixed64(page.data()) != kTableMagic) {
    return Status::corruption("table: bad magic number (not a cascade table)");
  }
  std::uint32_t stored = load_fixed32(page.data() + kFooterChecksumOffset);
  if (stored != checksum(page.substr(0, kFooterChecksumOffset), file_number, offset)) {
    return Status::corruption("table: footer checksum mismatch");
  }
  Footer f;
  f.format_version = load_fixed32(page.data() + 8);
  if (f.format_version > kTableFormatVersion) {
    return Status::not_supported("table: format version " + std::to_string(f.format_version) +
                                 " is newer than this build reads (" +
                                 std::to_string(kTableFormatVersion) + ")");
  }
  if (f.format_version == 0) return Status::corruption("table: format version 0");
  f.top_index = load_handle(page.data() + 12);
  f.filter = load_handle(page.data() + 28);
  f.properties = load_handle(page.data() + 44);
  return f;
}

namespace {

// Property tags: written to disk, never renumbered. Below 100: varint64 values.
enum PropertyTag : std::uint32_t {
  kTagFormatVersion = 1,
  kTagFileNumber = 2,
  kTagNumEntries = 3,
  kTagNumDeletions = 4,
  kTagNumDataBlocks = 5,
  kTagRawKeySize = 6,
  kTagRawValueSize = 7,
  kTagDataSize = 8,
  kTagIndexSize = 9,
  kTagNumIndexPartitions = 10,
  kTagFilterSize = 11,
  kTagCompression = 12,
  kTagNumCompressedBlocks = 13,
  kTagCreationTime = 14,
  kTagSmallestSequence = 15,
  kTagLargestSequence = 16,
  kFirstBytesTag = 100,
  kTagSmallestKey = 100,
  kTagLargestKey = 101,
};

struct NumberField {
  PropertyTag tag;
  std::uint64_t TableProperties::*member;
};

constexpr NumberField kNumberFields[] = {
    {kTagFormatVersion, &TableProperties::format_version},
    {kTagFileNumber, &TableProperties::file_number},
    {kTagNumEntries, &TableProperties::num_entries},
    {kTagNumDeletions, &TableProperties::num_deletions},
    {kTagNumDataBlocks, &TableProperties::num_data_blocks},
    {kTagRawKeySize, &TableProperties::raw_key_size},
    {kTagRawValueSize, &TableProperties::raw_value_size},
    {kTagDataSize, &TableProperties::data_size},
    {kTagIndexSize, &TableProperties::index_size},
    {kTagNumIndexPartitions, &TableProperties::num_index_partitions},
    {kTagFilterSize, &TableProperties::filter_size},
    {kTagCompression, &TableProperties::compression},
    {kTagNumCompressedBlocks, &TableProperties::num_compressed_blocks},
    {kTagCreationTime, &TableProperties::creation_time},
    {kTagSmallestSequence, &TableProperties::smallest_sequence},
    {kTagLargestSequence, &TableProperties::largest_sequence},
};

}  // namespace

std::string encode_properties(const TableProperties& props) {
  std::string out;
  for (const NumberField& f : kNumberFields) {
    put_varint32(out, f.tag);
    put_varint64(out, props.*f.member);
  }
  put_varint32(out, kTagSmallestKey);
  put_length_prefixed(out, props.smallest_key);
  put_varint32(out, kTagLargestKey);
  put_length_prefixed(out, props.largest_key);
  return out;
}

Result<TableProperties> decode_properties(std::string_view in) {
  TableProperties props;
  while (!in.empty()) {
    std::uint32_t tag;
    if (!get_varint32(in, tag)) return Status::corruption("table: malformed properties tag");
    if (tag >= kFirstBytesTag) {
      std::string_view bytes;
      if (!get_length_prefixed(in, bytes)) return Status::corruption("table: malformed property");
      if (tag == kTagSmallestKey) props.smallest_key = bytes;
      if (tag == kTagLargestKey) props.largest_key = bytes;
      continue;
    }
    std::uint64_t value;
    if (!get_varint64(in, value)) return Status::corruption("table: malformed property");
    for (const NumberField& f : kNumberFields) {
      if (f.tag == tag) props.*f.member = value;
    }
  }
  return props;
}

}  // namespace cascade::engine

namespace cascade::engine {

std::string shortest_separator(std::string_view last, std::string_view next) {
  std::string_view a = extract_user_key(last), b = extract_user_key(next);
  std::size_t i = 0;
  while (i < a.size() && i < b.size() && a[i] == b[i]) ++i;
  // b[0..i] is longer than a's common part, so it is > a; it is < b when shorter than b.
  if (i >= b.size() || i + 1 >= b.size() || i + 1 >= a.size()) {
    return std::string(last);
  }
  std::string sep(b.substr(0, i + 1));
  put_fixed64(sep, pack_trailer(kMaxSequenceNumber, kValueTypeForSeek));
  return sep;
}

}  // namespace cascade::engine
