#include "engine/vlog/obsolete_vlog_files.h"

#include "engine/version/file_names.h"
#include "engine/vlog/vlog_format.h"

namespace cascade::engine {

Result<std::size_t> ObsoleteVlogFiles::delete_unreferenced(runtime::FileSystem& fs,
                                                           const std::string& dir,
                                                           const std::set<std::uint64_t>& live,
                                                           ValueLog* log) {
  std::size_t deleted = 0;
  Status first_error;
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (live.contains(*it)) {
      ++it;
      continue;
    }
    if (log) log->evict(*it);
    Status s = fs.remove(path_join(dir, vlog_file_name(*it)));
    if (!s && !s.is_not_found()) {
      if (first_error.is_ok()) first_error = s;
      ++it;
      continue;
    }
    ++deleted;
    it = pending_.erase(it);
  }
  if (!first_error.is_ok()) return first_error;
  return deleted;
}

}  // namespace cascade::engine
