#include "engine/vlog/vlog_garbage.h"

#include <string>

#include "engine/vlog/vlog_format.h"

namespace cascade::engine {

Status VlogGarbageTracker::pointer_dropped(std::string_view encoded_pointer) {
  auto p = ValuePointer::decode(encoded_pointer);
  if (!p) return p.error();
  pointer_dropped(*p);
  return Status::ok();
}

Result<std::vector<std::uint64_t>> VlogGarbageTracker::add_to_edit(VersionEdit& edit,
                                                                   const Version& base) {
  const auto& files = base.vlog_files();
  std::vector<std::uint64_t> emptied;
  for (const auto& [number, bytes] : pending_) {
    auto it = files.find(number);
    if (it == files.end()) {
      return Status::corruption("garbage counted for " + vlog_file_name(number) +
                                ", which the version does not hold");
    }
    const VlogFile& f = it->second;
    if (bytes > f.file_size - f.garbage_bytes) {
      return Status::corruption("garbage of " + vlog_file_name(number) + " would pass its size: " +
                                std::to_string(f.garbage_bytes) + " + " + std::to_string(bytes) +
                                " > " + std::to_string(f.file_size));
    }
    if (f.garbage_bytes + bytes == f.file_size) emptied.push_back(number);
  }
  for (const auto& [number, bytes] : pending_) edit.add_vlog_garbage(number, bytes);
  for (std::uint64_t number : emptied) edit.remove_vlog(number);
  pending_.clear();
  return emptied;
}

}  // namespace cascade::engine
