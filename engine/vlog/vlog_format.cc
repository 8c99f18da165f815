#include "engine/vlog/vlog_format.h"

#include "engine/format/checksum.h"
#include "engine/format/coding.h"
#include "engine/version/file_names.h"
#include "engine/vlog/value_compression.h"

namespace cascade::engine {

namespace {

constexpr std::size_t kHeaderFieldsSize = 8 + 4 + 8;
constexpr std::size_t kFooterFieldsSize = 8 + 4 + 8 + 8;

Status check_magic_and_version(std::string_view fields, const char* what) {
  if (load_fixed64(fields.data()) != kVlogMagic) {
    return Status::corruption(std::string("value log ") + what + ": bad magic");
  }
  std::uint32_t version = load_fixed32(fields.data() + 8);
  if (version > kVlogFormatVersion) {
    return Status::not_supported("value log format version " + std::to_string(version) +
                                 " is newer than this build reads (" +
                                 std::to_string(kVlogFormatVersion) + ")");
  }
  if (version == 0) return Status::corruption(std::string("value log ") + what + ": version 0");
  return Status::ok();
}

}  // namespace

std::string vlog_file_name(std::uint64_t file_number) {
  return numbered_file_name(file_number, kVlogFileExtension);
}

std::string encode_vlog_header(std::uint64_t file_number) {
  std::string page;
  put_fixed64(page, kVlogMagic);
  put_fixed32(page, kVlogFormatVersion);
  put_fixed64(page, file_number);
  put_fixed32(page, checksum(page, file_number, 0));
  page.resize(kVlogHeaderSize, '\0');
  return page;
}

Status decode_vlog_header(std::string_view page, std::uint64_t file_number) {
  if (page.size() < kHeaderFieldsSize + 4) return Status::corruption("value log header: short");
  std::string_view fields = page.substr(0, kHeaderFieldsSize);
  if (load_fixed32(page.data() + kHeaderFieldsSize) != checksum(fields, file_number, 0)) {
    return Status::corruption("value log header: checksum mismatch");
  }
  if (Status s = check_magic_and_version(fields, "header"); !s) return s;
  if (load_fixed64(page.data() + 12) != file_number) {
    return Status::corruption("value log header: names another file number");
  }
  return Status::ok();
}

std::string encode_vlog_footer(const VlogFooter& footer, std::uint64_t file_number,
                               std::uint64_t offset) {
  std::string page;
  put_fixed64(page, kVlogMagic);
  put_fixed32(page, kVlogFormatVersion);
  put_fixed64(page, footer.record_count);
  put_fixed64(page, footer.data_end);
  put_fixed32(page, checksum(page, file_number, offset));
  page.resize(kVlogFooterSize, '\0');
  return page;
}

Result<VlogFooter> decode_vlog_footer(std::string_view page, std::uint64_t file_number,
                                      std::uint64_t offset) {
  if (page.size() < kFooterFieldsSize + 4) return Status::corruption("value log footer: short");
  std::string_view fields = page.substr(0, kFooterFieldsSize);
  if (load_fixed32(page.data() + kFooterFieldsSize) != checksum(fields, file_number, offset)) {
    return Status::corruption("value log footer: checksum mismatch (an unfinished file?)");
  }
  if (Status s = check_magic_and_version(fields, "footer"); !s) return s;
  VlogFooter footer{load_fixed64(page.data() + 12), load_fixed64(page.data() + 20)};
  if (footer.data_end < kVlogHeaderSize || footer.data_end > offset) {
    return Status::corruption("value log footer: data_end outside the file");
  }
  return footer;
}

void append_vlog_record(std::string& dst, std::uint64_t file_number, std::uint64_t offset,
                        std::string_view key, CompressionType compression,
                        std::uint64_t value_size, std::string_view stored_value) {
  const std::size_t start = dst.size();
  put_fixed32(dst, 0);  // the checksum, filled in below
  dst.push_back(static_cast<char>(compression));
  put_varint32(dst, static_cast<std::uint32_t>(key.size()));
  put_varint64(dst, value_size);
  put_varint64(dst, stored_value.size());
  dst.append(key);
  dst.append(stored_value);
  std::string_view covered(dst.data() + start + kVlogRecordChecksumSize,
                           dst.size() - start - kVlogRecordChecksumSize);
  store_fixed32(dst.data() + start, checksum(covered, file_number, offset));
}

Result<VlogRecord> decode_vlog_record(std::string_view bytes, std::uint64_t file_number,
                                      std::uint64_t offset) {
  auto bad = [&](const char* why) {
    return Status::corruption("value log " + vlog_file_name(file_number) + " record at " +
                              std::to_string(offset) + ": " + why);
  };
  std::string_view in = bytes;
  std::uint32_t stored_checksum = 0;
  if (!get_fixed32(in, stored_checksum) || in.empty()) return bad("truncated header");
  auto type = static_cast<std::uint8_t>(in.front());
  in.remove_prefix(1);
  std::uint32_t key_size = 0;
  std::uint64_t value_size = 0, stored_size = 0;
  if (!get_varint32(in, key_size) || !get_varint64(in, value_size) ||
      !get_varint64(in, stored_size)) {
    return bad("truncated header");
  }
  if (key_size > in.size() || stored_size > in.size() - key_size) return bad("truncated body");
  const std::size_t header_size = bytes.size() - in.size();
  VlogRecord r;
  r.record_size = header_size + key_size + stored_size;
  std::string_view covered = bytes.substr(kVlogRecordChecksumSize,
                                          r.record_size - kVlogRecordChecksumSize);
  if (checksum(covered, file_number, offset) != stored_checksum) return bad("checksum mismatch");
  if (type > static_cast<std::uint8_t>(CompressionType::kZstd)) return bad("unknown compression");
  r.compression = static_cast<CompressionType>(type);
  if (r.compression == CompressionType::kNone && value_size != stored_size) {
    return bad("raw value size disagrees with its stored size");
  }
  r.key = in.substr(0, key_size);
  r.value_size = value_size;
  r.stored_value = in.substr(key_size, stored_size);
  return r;
}

Status append_record_value(const VlogRecord& record, std::string& out) {
  if (record.compression == CompressionType::kNone) {
    out.append(record.stored_value);
    return Status::ok();
  }
  return decompress_value(record.stored_value, record.value_size, out);
}

}  // namespace cascade::engine
