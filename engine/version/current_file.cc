// Reading and atomically replacing CURRENT; the protocol is in current_file.h.
#include "engine/version/current_file.h"

#include "engine/version/file_names.h"

namespace cascade::engine {

namespace {

constexpr std::size_t kMaxCurrentSize = 64;  // a longer CURRENT is garbage anyway

}  // namespace

Result<std::uint64_t> read_current(runtime::FileSystem& fs, const std::string& dir) {
  std::string path = path_join(dir, kCurrentFileName);
  auto file = fs.open(path, runtime::OpenOptions::read_only());
  if (!file) return file.error();
  std::string data(kMaxCurrentSize + 1, '\0');
  auto n = (*file)->read_at(0, {reinterpret_cast<std::byte*>(data.data()), data.size()});
  (void)(*file)->close();  // read-only: nothing to lose
  if (!n) return n.error();
  data.resize(*n);
  std::string_view name(data);
  if (name.empty() || name.back() != '\n') {
    return Status::corruption(path + ": does not end with a newline (" +
                              std::to_string(name.size()) + " bytes)");
  }
  name.remove_suffix(1);
  auto number = parse_manifest_number(name);
  if (!number) return Status::corruption(path + ": does not name a manifest");
  return *number;
}

Status install_current(runtime::FileSystem& fs, const std::string& dir,
                       std::uint64_t manifest_number, bool* renamed) {
  return runtime::replace_file_atomically(fs, dir, std::string(kCurrentFileName),
                                          manifest_file_name(manifest_number) + "\n", renamed);
}

}  // namespace cascade::engine
