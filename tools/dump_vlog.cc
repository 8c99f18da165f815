#include "tools/dump_vlog.h"

#include <cstdio>
#include <string_view>

#include "engine/vlog/vlog_format.h"
#include "src/runtime/aligned_buffer.h"
#include "src/runtime/file_system.h"

namespace cascade::tools {

namespace {

using namespace cascade::engine;

std::string printable(std::string_view bytes, std::size_t limit) {
  std::string out;
  for (unsigned char c : bytes.substr(0, limit)) {
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      char buf[5];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  if (bytes.size() > limit) out += "...";
  return out;
}

int damaged(const Status& s) {
  std::printf("ERROR: %s\n", s.to_string().c_str());
  return 2;
}

}  // namespace

int dump_vlog(const std::string& path, std::uint64_t file_number, bool entries) {
  runtime::FileSystem& fs = runtime::real_file_system();
  runtime::OpenOptions o;
  o.direct = true;
  auto file = fs.open(path, o);
  if (!file) {
    std::fprintf(stderr, "cascade-dump: %s\n", file.error().to_string().c_str());
    return 1;
  }
  auto size = (*file)->size();
  if (!size) {
    std::fprintf(stderr, "cascade-dump: %s\n", size.error().to_string().c_str());
    return 1;
  }
  // A tool reads the whole file at once; value-log files are at most tens of MiB.
  runtime::AlignedBuffer buffer(runtime::align_up(*size));
  auto n = (*file)->read_at(0, buffer.span());
  (void)(*file)->close();
  if (!n) {
    std::fprintf(stderr, "cascade-dump: %s\n", n.error().to_string().c_str());
    return 1;
  }
  std::string_view bytes(reinterpret_cast<const char*>(buffer.data()), *n);
  std::printf("value log %s, file number %llu, %zu bytes\n", path.c_str(),
              (unsigned long long)file_number, bytes.size());
  if (Status s = decode_vlog_header(bytes, file_number); !s) return damaged(s);
  if (bytes.size() < kVlogHeaderSize + kVlogFooterSize || bytes.size() % kPageSize != 0) {
    return damaged(Status::corruption("size is not whole pages with a header and a footer"));
  }
  const std::uint64_t footer_offset = bytes.size() - kVlogFooterSize;
  auto footer = decode_vlog_footer(bytes.substr(footer_offset), file_number, footer_offset);
  if (!footer) return damaged(footer.error());
  std::printf("footer: %llu records, data ends at %llu\n",
              (unsigned long long)footer->record_count, (unsigned long long)footer->data_end);
  std::uint64_t offset = kVlogHeaderSize, count = 0;
  while (offset < footer->data_end) {
    auto r = decode_vlog_record(bytes.substr(offset, footer->data_end - offset), file_number,
                                offset);
    if (!r) return damaged(r.error());
    if (entries) {
      std::string value;
      if (Status s = append_record_value(*r, value); !s) return damaged(s);
      std::printf("  @%llu size %zu key '%s' %s %llu bytes '%s'\n", (unsigned long long)offset,
                  r->record_size, printable(r->key, 64).c_str(),
                  r->compression == CompressionType::kZstd ? "zstd" : "raw",
                  (unsigned long long)r->value_size, printable(value, 32).c_str());
    }
    offset += r->record_size;
    ++count;
  }
  if (count != footer->record_count) {
    return damaged(Status::corruption("footer counts " + std::to_string(footer->record_count) +
                                      " records, the file holds " + std::to_string(count)));
  }
  std::printf("%llu records, all checksums valid\n", (unsigned long long)count);
  return 0;
}

}  // namespace cascade::tools
