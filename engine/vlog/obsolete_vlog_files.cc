#include "engine/vlog/obsolete_vlog_files.h"

#include <vector>

#include "engine/version/file_names.h"
#include "engine/vlog/vlog_format.h"

namespace cascade::engine {

Result<std::size_t> ObsoleteVlogFiles::delete_unreferenced(runtime::FileSystem& fs,
                                                           const std::string& dir,
                                                           const std::set<std::uint64_t>& live,
                                                           ValueLog* log) {
  // Taken out of pending_ before the first suspension, so a purge running meanwhile on
  // another fiber never takes the same file.
  std::vector<std::uint64_t> doomed;
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (live.contains(*it)) {
      ++it;
      continue;
    }
    doomed.push_back(*it);
    it = pending_.erase(it);
  }
  std::size_t deleted = 0;
  Status first_error;
  for (std::uint64_t n : doomed) {
    if (log) log->evict(n);
    Status s = fs.remove(path_join(dir, vlog_file_name(n)));
    if (!s && !s.is_not_found()) {
      if (first_error.is_ok()) first_error = s;
      pending_.insert(n);  // tried again at the next purge
      continue;
    }
    ++deleted;
  }
  if (!first_error.is_ok()) return first_error;
  return deleted;
}

}  // namespace cascade::engine
