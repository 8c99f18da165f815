// Reading one value by its pointer from a value-log file (vlog_format.h).
//
// A record sits anywhere in its file, so a read fetches the whole sectors that cover
// [offset, offset + size) with one O_DIRECT read aligned to the file's read_alignment()
// (the device's logical block, 512 bytes on most disks; a page where the kernel does not
// say) and decodes the record from inside them. Every check failure is Corruption naming the file: a pointer outside the
// file the version describes, a record whose size differs from the pointer's, a checksum
// mismatch (seeded with file number and offset, so misdirected bytes fail too), or a
// record holding another key than the entry that points to it. Never data.
//
// One shard; reads suspend the calling fiber.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "engine/table/block.h"
#include "engine/version/version_edit.h"
#include "engine/vlog/value_pointer.h"
#include "engine/vlog/vlog_format.h"
#include "src/runtime/file_system.h"
#include "src/runtime/result.h"

namespace cascade::engine {

// An open value-log file and the size the version gives it.
struct OpenVlog {
  std::unique_ptr<runtime::FileHandle> file;
  std::uint64_t file_number = 0;
  std::uint64_t file_size = 0;

  ~OpenVlog() {
    if (file) (void)file->close();
  }
};
using OpenVlogPtr = std::shared_ptr<OpenVlog>;

// Corruption unless the pointer's record lies inside the file's record area.
Status check_value_pointer(const ValuePointer& p, std::uint64_t file_size);

// The verified record `p` names, found inside `pages`, which hold the file's bytes from
// `pages_offset` on and must cover the record; its views point into `pages`.
Result<VlogRecord> record_in_pages(std::string_view pages, std::uint64_t pages_offset,
                                   const ValuePointer& p, std::string_view user_key);

// One aligned read of the record's pages, then record_in_pages and its value.
Status read_vlog_value(const OpenVlog& vlog, const ValuePointer& p, std::string_view user_key,
                       std::string& out);

// One aligned read of the record's pages, then `prefix` followed by the record's value in
// one buffer of their exact size, with `data` viewing it: what ValueLog caches, built with
// one allocation and one copy of the value (a raw value goes straight from the read pages).
Result<BlockContents> read_vlog_value_with_prefix(const OpenVlog& vlog, const ValuePointer& p,
                                                  std::string_view user_key,
                                                  std::string_view prefix);

}  // namespace cascade::engine
