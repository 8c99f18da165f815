#include "engine/vlog/vlog_reader.h"

#include <cstring>

#include "engine/vlog/vlog_format.h"
#include "src/runtime/aligned_buffer.h"

namespace cascade::engine {

namespace {

Status corrupt(const ValuePointer& p, const std::string& why) {
  return Status::corruption("value log " + vlog_file_name(p.file_number) + " offset " +
                            std::to_string(p.offset) + ": " + why);
}

}  // namespace

Status check_value_pointer(const ValuePointer& p, std::uint64_t file_size) {
  const std::uint64_t data_limit = file_size >= kVlogFooterSize ? file_size - kVlogFooterSize : 0;
  if (p.offset < kVlogHeaderSize || p.size == 0 || p.offset > data_limit ||
      p.size > data_limit - p.offset) {
    return corrupt(p, "pointer of size " + std::to_string(p.size) +
                          " outside the file's records (file size " + std::to_string(file_size) +
                          ")");
  }
  return Status::ok();
}

Result<VlogRecord> record_in_pages(std::string_view pages, std::uint64_t pages_offset,
                                   const ValuePointer& p, std::string_view user_key) {
  if (p.offset < pages_offset || p.offset - pages_offset > pages.size() ||
      p.size > pages.size() - (p.offset - pages_offset)) {
    return corrupt(p, "record past the end of the file");
  }
  std::string_view bytes = pages.substr(p.offset - pages_offset, p.size);
  auto record = decode_vlog_record(bytes, p.file_number, p.offset);
  if (!record) return record.error();
  if (record->record_size != p.size) return corrupt(p, "record size differs from the pointer's");
  if (record->key != user_key) return corrupt(p, "record holds another key");
  return record;
}

namespace {

// Reads the pages covering p's record and decodes it; `pages` owns the bytes it views.
Result<VlogRecord> read_record(const OpenVlog& vlog, const ValuePointer& p,
                               std::string_view user_key, runtime::AlignedBuffer& pages) {
  if (Status s = check_value_pointer(p, vlog.file_size); !s) return s;
  // The sectors around the record, not its pages: a 4 KiB value's record (about 4,122
  // bytes) takes 9-10 sectors of 512 bytes where it would take two pages.
  const std::uint64_t granularity = vlog.file->read_alignment();
  const std::uint64_t start = runtime::align_down(p.offset, granularity);
  const std::uint64_t end = runtime::align_up(p.offset + p.size, granularity);
  // Uninitialized: only the bytes the read returns are looked at.
  pages = runtime::AlignedBuffer::uninitialized(end - start);
  auto n = vlog.file->read_at(start, pages.first(end - start));
  if (!n) return n.error();
  std::string_view view(reinterpret_cast<const char*>(pages.data()), *n);
  return record_in_pages(view, start, p, user_key);
}

}  // namespace

Status read_vlog_value(const OpenVlog& vlog, const ValuePointer& p, std::string_view user_key,
                       std::string& out) {
  runtime::AlignedBuffer pages;
  auto record = read_record(vlog, p, user_key, pages);
  if (!record) return record.error();
  return append_record_value(*record, out);
}

Result<BlockContents> read_vlog_value_with_prefix(const OpenVlog& vlog, const ValuePointer& p,
                                                  std::string_view user_key,
                                                  std::string_view prefix) {
  runtime::AlignedBuffer pages;
  auto record = read_record(vlog, p, user_key, pages);
  if (!record) return record.error();
  std::string decompressed;
  std::string_view value = record->stored_value;
  if (record->compression != CompressionType::kNone) {
    if (Status s = append_record_value(*record, decompressed); !s) return s;
    value = decompressed;
  }
  const std::size_t size = prefix.size() + value.size();
  BlockContents out;
  out.owned = allocate_cache_line_aligned(size == 0 ? 1 : size);
  std::memcpy(out.owned.get(), prefix.data(), prefix.size());
  if (!value.empty()) std::memcpy(out.owned.get() + prefix.size(), value.data(), value.size());
  out.data = std::string_view(out.owned.get(), size);
  return out;
}

}  // namespace cascade::engine
