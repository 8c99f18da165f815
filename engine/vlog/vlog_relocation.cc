#include "engine/vlog/vlog_relocation.h"

#include <cmath>

#include "engine/vlog/vlog_format.h"

namespace cascade::engine {

double garbage_ratio(const VlogFile& f) {
  if (f.garbage_bytes >= f.file_size) return 1.0;
  constexpr std::uint64_t kPages = kVlogHeaderSize + kVlogFooterSize;
  constexpr std::uint64_t kMaxOverhead = kPages + kPageSize - 1;  // padding < one page
  if (f.file_size <= kPages) return 0.0;
  const std::uint64_t known = f.garbage_bytes > kMaxOverhead ? f.garbage_bytes - kMaxOverhead : 0;
  return static_cast<double>(known) / static_cast<double>(f.file_size - kPages);
}

std::set<std::uint64_t> files_to_relocate(const Version& version,
                                          const RelocationPolicy& policy) {
  const auto& files = version.vlog_files();  // ordered by number: oldest first
  const auto eligible = static_cast<std::size_t>(
      std::ceil(static_cast<double>(files.size()) * policy.age_cutoff));
  std::set<std::uint64_t> picked;
  std::size_t seen = 0;
  for (const auto& [number, f] : files) {
    if (seen++ >= eligible) break;
    if (garbage_ratio(f) >= policy.garbage_ratio) picked.insert(number);
  }
  return picked;
}

bool needs_targeted_compaction(const Version& version, const RelocationPolicy& policy) {
  const auto& files = version.vlog_files();
  return !files.empty() && garbage_ratio(files.begin()->second) >= policy.garbage_ratio;
}

Result<ValuePointer> relocate_value(VlogPrefetcher& reader, ValueSeparator& out,
                                    VlogGarbageTracker& garbage, std::string_view user_key,
                                    std::string_view encoded_pointer) {
  auto old_pointer = ValuePointer::decode(encoded_pointer);
  if (!old_pointer) return old_pointer.error();
  auto record = reader.resolve_record(user_key, encoded_pointer);
  if (!record) return record.error();
  auto moved = out.add_record(*record, old_pointer->head);
  if (!moved) return moved.error();
  garbage.pointer_dropped(*old_pointer);
  return moved;
}

}  // namespace cascade::engine
