// cascade-dump's manifest mode; see dump_manifest.h.
#include "tools/dump_manifest.h"

#include <cstdio>

#include "engine/version/file_names.h"
#include "engine/version/manifest.h"
#include "engine/version/version.h"
#include "src/runtime/file_system.h"

namespace cascade::tools {

namespace {

std::optional<std::uint64_t> number_from_name(std::string_view path) {
  if (auto slash = path.rfind('/'); slash != std::string_view::npos) path.remove_prefix(slash + 1);
  return engine::parse_manifest_number(path);
}

}  // namespace

int dump_manifest(const std::string& path, std::optional<std::uint64_t> file_number) {
  if (!file_number) file_number = number_from_name(path);
  if (!file_number) {
    std::fprintf(stderr, "cascade-dump: %s is not named MANIFEST-NNNNNN; pass --file-number\n",
                 path.c_str());
    return 1;
  }
  std::printf("manifest %s, file number %llu\n", path.c_str(),
              static_cast<unsigned long long>(*file_number));
  auto contents = engine::read_manifest(runtime::real_file_system(), path, *file_number);
  if (!contents) {
    std::printf("ERROR: %s\n", contents.error().to_string().c_str());
    return contents.error().is_not_found() ? 1 : 2;
  }
  engine::Version version;
  std::optional<std::uint64_t> next_file_number, last_sequence;
  std::uint64_t offset = engine::kManifestHeaderSize;
  bool ok = true;
  for (std::size_t i = 0; i < contents->records.size(); ++i) {
    const std::string& record = contents->records[i];
    engine::VersionEdit edit;
    Status s = edit.decode_from(record);
    if (s) s = engine::apply_edit_in_place(version, edit);
    std::printf("record %zu at offset %llu, %zu bytes: %s\n", i,
                static_cast<unsigned long long>(offset), record.size(),
                s ? edit.debug_string().c_str() : ("ERROR: " + s.to_string()).c_str());
    ok &= s.is_ok();
    if (edit.next_file_number) next_file_number = edit.next_file_number;
    if (edit.last_sequence) last_sequence = edit.last_sequence;
    offset += engine::kManifestRecordHeaderSize + record.size();
  }
  if (contents->dropped_tail_bytes > 0) {
    std::printf("torn tail: %llu bytes after offset %llu dropped\n",
                static_cast<unsigned long long>(contents->dropped_tail_bytes),
                static_cast<unsigned long long>(contents->valid_bytes));
  }
  std::printf("resulting version:\n%s", version.debug_string().c_str());
  std::printf("next file number: %s\nlast sequence: %s\n",
              next_file_number ? std::to_string(*next_file_number).c_str() : "unset",
              last_sequence ? std::to_string(*last_sequence).c_str() : "unset");
  return ok ? 0 : 2;
}

}  // namespace cascade::tools
