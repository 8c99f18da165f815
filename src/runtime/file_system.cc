#include "src/runtime/file_system.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "src/runtime/aligned_buffer.h"

namespace cascade::runtime {
namespace {

bool aligned(std::uint64_t v) { return v % kPageSize == 0; }

class RealFileHandle final : public FileHandle {
 public:
  explicit RealFileHandle(File file) : file_(std::move(file)) {}

  std::uint32_t read_alignment() const override { return file_.read_alignment(); }
  Result<std::size_t> read_at(std::uint64_t offset, std::span<std::byte> buffer) override {
    if (Status s = check_alignment(offset, buffer.data(), buffer.size(), file_.read_alignment());
        !s) {
      return s;
    }
    return file_.read_at(offset, buffer);
  }
  Status write_at(std::uint64_t offset, std::span<const std::byte> data) override {
    if (Status s = check_alignment(offset, data.data(), data.size()); !s) return s;
    return file_.write_at(offset, data);
  }
  Status write_buffered_at(std::uint64_t offset, std::span<const std::byte> data) override {
    if (Status s = check_alignment(offset, data.data(), data.size()); !s) return s;
    return file_.write_buffered_at(offset, data);
  }
  Status sync() override { return file_.fdatasync(); }
  Status write_durable_at(std::uint64_t offset, std::span<const std::byte> data) override {
    if (Status s = check_alignment(offset, data.data(), data.size()); !s) return s;
    return file_.write_dsync_at(offset, data);
  }
  Status allocate(std::uint64_t offset, std::uint64_t length) override {
    return file_.allocate(offset, length);
  }
  Status truncate(std::uint64_t size) override {
    // Rare (recovery cuts a torn tail): a plain syscall is fine here.
    if (::ftruncate(file_.fd(), static_cast<off_t>(size)) != 0) {
      return Status::from_errno(errno, "ftruncate '" + file_.path() + "'");
    }
    return Status::ok();
  }
  Result<std::uint64_t> size() override { return file_.size(); }
  Status close() override { return file_.close(); }
  const std::string& path() const override { return file_.path(); }

 private:
  // Offsets and lengths to `granularity`, memory to a page.
  Status check_alignment(std::uint64_t offset, const void* p, std::size_t n,
                         std::uint64_t granularity = kPageSize) const {
    if (!file_.direct()) return Status::ok();
    if (offset % granularity == 0 && n % granularity == 0 &&
        aligned(reinterpret_cast<std::uintptr_t>(p))) {
      return Status::ok();
    }
    return Status::invalid_argument("unaligned O_DIRECT access to '" + file_.path() + "'");
  }

  File file_;
};

class RealFileSystem final : public FileSystem {
 public:
  Result<std::unique_ptr<FileHandle>> open(const std::string& path,
                                           const OpenOptions& options) override {
    Result<File> f = File::open(path, options);
    if (!f) return f.error();
    return std::unique_ptr<FileHandle>(std::make_unique<RealFileHandle>(std::move(*f)));
  }
  Status rename(const std::string& from, const std::string& to) override {
    return rename_file(from, to);
  }
  Status remove(const std::string& path) override { return unlink_file(path); }
  Status link(const std::string& existing, const std::string& new_path) override {
    if (::link(existing.c_str(), new_path.c_str()) != 0) {
      return Status::from_errno(errno, "link '" + existing + "' to '" + new_path + "'");
    }
    return Status::ok();
  }
  Status make_dir(const std::string& path) override { return runtime::make_dir(path, 0755, true); }
  Status remove_dir(const std::string& path) override { return runtime::remove_dir(path); }
  Status sync_dir(const std::string& path) override { return runtime::sync_dir(path); }
  Result<std::vector<std::string>> list_dir(const std::string& path) override {
    // Directory listings happen at open and checkpoint time, not per request.
    DIR* d = ::opendir(path.c_str());
    if (!d) return Status::from_errno(errno, "opendir '" + path + "'");
    std::vector<std::string> names;
    while (dirent* e = ::readdir(d)) {
      std::string name = e->d_name;
      if (name != "." && name != "..") names.push_back(std::move(name));
    }
    ::closedir(d);
    return names;
  }
  Result<bool> exists(const std::string& path) override {
    struct stat st;
    if (::stat(path.c_str(), &st) == 0) return true;
    if (errno == ENOENT) return false;
    return Status::from_errno(errno, "stat '" + path + "'");
  }
};

}  // namespace

Status replace_file_atomically(FileSystem& fs, const std::string& dir, const std::string& name,
                               std::string_view contents, bool* renamed) {
  if (renamed != nullptr) *renamed = false;
  const std::string path = dir + "/" + name;
  const std::string tmp = path + ".tmp";
  OpenOptions options;
  options.access = OpenOptions::Access::kWrite;
  options.create = true;
  options.truncate = true;
  auto file = fs.open(tmp, options);
  if (!file) return file.error();
  Status s = (*file)->write_at(0, std::as_bytes(std::span(contents.data(), contents.size())));
  if (s) s = (*file)->sync();
  Status closed = (*file)->close();
  if (!s) return s;
  if (!closed) return closed;
  if (s = fs.rename(tmp, path); !s) return s;
  if (renamed != nullptr) *renamed = true;
  return fs.sync_dir(dir);
}

FileSystem& real_file_system() {
  static RealFileSystem fs;
  return fs;
}

}  // namespace cascade::runtime
