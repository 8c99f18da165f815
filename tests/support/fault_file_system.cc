#include "tests/support/fault_file_system.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <set>
#include <utility>

#include "src/runtime/aligned_buffer.h"
#include "src/runtime/scheduler.h"
#include "tests/support/fault_inode.h"

namespace cascade::test_support {

using detail::DirOp;
using detail::Inode;
using detail::InodePtr;
using runtime::OpenOptions;

struct FaultFileSystem::State {
  // First member: inodes subtract their size from it as they are destroyed, last of all.
  std::uint64_t used_bytes = 0;
  InodePtr root_absolute = std::make_shared<Inode>(true, &used_bytes);  // "/"
  InodePtr root_relative = std::make_shared<Inode>(true, &used_bytes);  // "" (the cwd)
  std::uint64_t epoch = 0;  // bumped by every crash; handles of an older epoch are stale
  std::optional<std::uint64_t> space_limit;
  std::vector<std::string> failing_syncs;   // armed faults: a path, or "" for any file
  std::vector<std::string> failing_writes;
  std::vector<std::string> failing_reads;
  bool yield_on_io = false;
  std::uint32_t direct_read_alignment = runtime::kPageSize;
  int link_errno = 0;  // set_link_error
  int dir_sync_after_rename_errno = 0;  // fail_next_dir_sync_after_rename
  bool renamed_since_dir_sync = false;
  FsCounters counters;
  std::uint64_t reads_in_flight = 0;
  std::map<std::string, IoCounters> per_file;

  void maybe_yield() const {
    runtime::Scheduler* s = runtime::Scheduler::current();
    if (yield_on_io && s && s->in_fiber()) s->yield();
  }
  // Consumes the first armed fault that matches `path`.
  static bool consume(std::vector<std::string>& armed, const std::string& path) {
    auto it = std::find_if(armed.begin(), armed.end(),
                           [&](const std::string& p) { return p.empty() || p == path; });
    if (it == armed.end()) return false;
    armed.erase(it);
    return true;
  }
  // Whether a file may grow from `old_size` to `new_size` under the space limit.
  Status reserve(std::uint64_t old_size, std::uint64_t new_size, const std::string& path) const {
    if (!space_limit || new_size <= old_size) return Status::ok();
    if (used_bytes + (new_size - old_size) <= *space_limit) return Status::ok();
    return Status::from_errno(ENOSPC, "grow '" + path + "' to " + std::to_string(new_size));
  }
  template <typename Fn>
  void count(const std::string& path, Fn fn) {
    fn(per_file[path]);
    fn(counters.files);
  }
};

namespace {

struct ParsedPath {
  bool absolute = false;
  std::vector<std::string> parts;
  std::string text;  // normalized
};

ParsedPath parse(const std::string& path) {
  ParsedPath p;
  p.absolute = !path.empty() && path[0] == '/';
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    std::string part = path.substr(start, end - start);
    if (part == "..") {
      if (!p.parts.empty()) p.parts.pop_back();
    } else if (!part.empty() && part != ".") {
      p.parts.push_back(std::move(part));
    }
    start = end + 1;
  }
  p.text = p.absolute ? "/" : "";
  for (std::size_t i = 0; i < p.parts.size(); ++i) p.text += (i ? "/" : "") + p.parts[i];
  return p;
}

Status fail(int err, const std::string& what, const std::string& path) {
  return Status::from_errno(err, what + " '" + path + "'");
}

// The inode at the first `depth` components of `p` in the current view, or null.
InodePtr find(const FaultFileSystem::State& s, const ParsedPath& p, std::size_t depth) {
  InodePtr node = p.absolute ? s.root_absolute : s.root_relative;
  for (std::size_t i = 0; i < depth; ++i) {
    if (!node->is_dir()) return nullptr;
    auto it = node->entries.find(p.parts[i]);
    if (it == node->entries.end()) return nullptr;
    node = it->second;
  }
  return node;
}
InodePtr find(const FaultFileSystem::State& s, const ParsedPath& p) {
  return find(s, p, p.parts.size());
}

struct Parent {
  InodePtr dir;
  std::string name;
};

// The directory that holds (or would hold) `p`'s last component.
Result<Parent> parent_of(const FaultFileSystem::State& s, const ParsedPath& p,
                         const char* what) {
  if (p.parts.empty()) return fail(EBUSY, what, p.text);  // a root
  InodePtr dir = find(s, p, p.parts.size() - 1);
  if (!dir) return fail(ENOENT, what, p.text);
  if (!dir->is_dir()) return fail(ENOTDIR, what, p.text);
  return Parent{std::move(dir), p.parts.back()};
}

InodePtr entry(const Parent& parent) {
  auto it = parent.dir->entries.find(parent.name);
  return it == parent.dir->entries.end() ? nullptr : it->second;
}

class FaultFileHandle final : public runtime::FileHandle {
 public:
  FaultFileHandle(std::shared_ptr<FaultFileSystem::State> state, InodePtr inode,
                  std::string path, const OpenOptions& options)
      : state_(std::move(state)), inode_(std::move(inode)), path_(std::move(path)),
        options_(options), epoch_(state_->epoch),
        read_alignment_(options.direct ? state_->direct_read_alignment : runtime::kPageSize) {}

  std::uint32_t read_alignment() const override { return read_alignment_; }

  Result<std::size_t> read_at(std::uint64_t offset, std::span<std::byte> buffer) override {
    if (Status s = check_usable("read"); !s) return s;
    if (options_.access == OpenOptions::Access::kWrite) return fail(EBADF, "read", path_);
    if (Status s = check_alignment(offset, buffer.data(), buffer.size(), read_alignment_); !s) {
      return s;
    }
    if (FaultFileSystem::State::consume(state_->failing_reads, path_)) {
      // A device error arrives after the device's time, like a read's bytes: in flight
      // meanwhile, with the caller's other reads.
      ++state_->reads_in_flight;
      state_->counters.max_reads_in_flight =
          std::max(state_->counters.max_reads_in_flight, state_->reads_in_flight);
      state_->maybe_yield();
      --state_->reads_in_flight;
      return fail(EIO, "read (injected fault)", path_);
    }
    const std::vector<std::byte>& image = inode_->current();
    const std::size_t n =
        offset >= image.size() ? 0 : std::min<std::uint64_t>(buffer.size(), image.size() - offset);
    if (n > 0) std::memcpy(buffer.data(), image.data() + offset, n);
    state_->count(path_, [&](IoCounters& c) { ++c.reads, c.bytes_read += n; });
    // In flight until this fiber runs again (the bytes were taken above: a crash or
    // write meanwhile does not change what this read returns, as with a device's read).
    ++state_->reads_in_flight;
    state_->counters.max_reads_in_flight =
        std::max(state_->counters.max_reads_in_flight, state_->reads_in_flight);
    state_->maybe_yield();
    --state_->reads_in_flight;
    return n;
  }

  Status write_at(std::uint64_t offset, std::span<const std::byte> data) override {
    if (Status s = check_writable("write"); !s) return s;
    if (Status s = check_alignment(offset, data.data(), data.size()); !s) return s;
    if (options_.append) offset = inode_->current().size();
    if (FaultFileSystem::State::consume(state_->failing_writes, path_)) {
      return fail(EIO, "write (injected fault)", path_);
    }
    const std::uint64_t size = inode_->current().size();
    if (Status s = state_->reserve(size, std::max(size, offset + data.size()), path_); !s) {
      return s;
    }
    const bool in_doubt = inode_->sync_failed;
    inode_->write(offset, data);
    state_->count(path_, [&](IoCounters& c) {
      ++c.writes, c.bytes_written += data.size(), c.writes_after_failed_sync += in_doubt;
    });
    return Status::ok();
  }

  Status write_buffered_at(std::uint64_t offset, std::span<const std::byte> data) override {
    if (Status s = write_at(offset, data); !s) return s;
    state_->count(path_, [](IoCounters& c) { ++c.buffered_writes; });
    return Status::ok();
  }

  Status sync() override { return sync_counted(false); }

  // Modelled as a write and a sync of the whole file: a crash may still land between them
  // (lose or tear the write, as a torn O_DSYNC write would), and the caller's rule (nothing
  // unsynced before it) makes the sync of everything equal to the sync of this write.
  Status write_durable_at(std::uint64_t offset, std::span<const std::byte> data) override {
    if (Status s = write_at(offset, data); !s) return s;
    return sync_counted(true);
  }

  Status sync_counted(bool durable_write) {
    if (Status s = check_usable("fdatasync"); !s) return s;
    const bool in_doubt = inode_->sync_failed;
    state_->count(path_, [&](IoCounters& c) { c.syncs_after_failed_sync += in_doubt; });
    if (FaultFileSystem::State::consume(state_->failing_syncs, path_)) {
      inode_->sync_failed = true;
      state_->count(path_, [](IoCounters& c) { ++c.failed_syncs; });
      return fail(EIO, "fdatasync (injected fault)", path_);
    }
    inode_->make_durable();
    state_->count(path_, [durable_write](IoCounters& c) {
      if (durable_write) {
        ++c.durable_writes;
      } else {
        ++c.syncs;
      }
    });
    return Status::ok();
  }

  Status allocate(std::uint64_t offset, std::uint64_t length) override {
    if (Status s = check_writable("fallocate"); !s) return s;
    const std::uint64_t size = inode_->current().size();
    if (offset + length <= size) return Status::ok();
    if (Status s = state_->reserve(size, offset + length, path_); !s) return s;
    inode_->resize(offset + length);
    return Status::ok();
  }

  Status truncate(std::uint64_t size) override {
    if (Status s = check_writable("ftruncate"); !s) return s;
    if (Status s = state_->reserve(inode_->current().size(), size, path_); !s) return s;
    inode_->resize(size);
    return Status::ok();
  }

  Result<std::uint64_t> size() override {
    if (Status s = check_usable("statx"); !s) return s;
    return static_cast<std::uint64_t>(inode_->current().size());
  }

  Status close() override {
    if (Status s = check_usable("close"); !s) return s;
    closed_ = true;
    return Status::ok();
  }

  const std::string& path() const override { return path_; }

 private:
  Status check_usable(const char* what) const {
    state_->maybe_yield();
    if (closed_) return fail(EBADF, what, path_);
    if (epoch_ != state_->epoch) {
      return Status::io_error(std::string(what) + " '" + path_ +
                              "': handle opened before a simulated crash");
    }
    return Status::ok();
  }
  Status check_writable(const char* what) const {
    if (Status s = check_usable(what); !s) return s;
    if (options_.access == OpenOptions::Access::kRead) return fail(EBADF, what, path_);
    return Status::ok();
  }
  // Offsets and lengths to `granularity` (reads may use the file's read_alignment()),
  // memory to a page.
  Status check_alignment(std::uint64_t offset, const void* p, std::size_t n,
                         std::uint32_t granularity = runtime::kPageSize) const {
    if (!options_.direct) return Status::ok();
    if (runtime::is_aligned(offset, granularity) && runtime::is_aligned(n, granularity) &&
        runtime::is_aligned(p)) {
      return Status::ok();
    }
    return Status::invalid_argument("unaligned O_DIRECT access to '" + path_ + "' at " +
                                    std::to_string(offset) + ", length " + std::to_string(n));
  }

  // state_ first: the inode's destructor updates the state's byte count.
  std::shared_ptr<FaultFileSystem::State> state_;
  InodePtr inode_;
  std::string path_;
  OpenOptions options_;
  std::uint64_t epoch_;
  std::uint32_t read_alignment_;
  bool closed_ = false;
};

void crash_tree(const InodePtr& dir, const std::string& path, const CrashOptions& options,
                detail::CrashRng& rng, std::set<const Inode*>& seen, CrashReport& report) {
  if (!seen.insert(dir.get()).second) return;
  detail::crash_dir(*dir, path, options, rng, report);
  for (const auto& [name, child] : dir->entries) {
    const std::string child_path = (path == "/" ? "/" : path.empty() ? "" : path + "/") + name;
    if (child->is_dir()) {
      crash_tree(child, child_path, options, rng, seen, report);
    } else if (seen.insert(child.get()).second) {
      detail::crash_file(*child, child_path, options, rng, report);
    }
  }
}

const char* mode_name(Unsynced u) {
  switch (u) {
    case Unsynced::kLost: return "lost";
    case Unsynced::kRandom: return "random";
    case Unsynced::kKept: return "kept";
  }
  return "?";
}

}  // namespace

FaultFileSystem::FaultFileSystem() : state_(std::make_shared<State>()) {}
FaultFileSystem::~FaultFileSystem() = default;

Result<std::unique_ptr<runtime::FileHandle>> FaultFileSystem::open(const std::string& path,
                                                                   const OpenOptions& options) {
  state_->maybe_yield();
  const ParsedPath p = parse(path);
  Result<Parent> parent = parent_of(*state_, p, "open");
  if (!parent) return parent.error();
  InodePtr inode = entry(*parent);
  if (inode && inode->is_dir()) return fail(EISDIR, "open", p.text);
  if (inode && options.create && options.exclusive) return fail(EEXIST, "open", p.text);
  if (!inode) {
    if (!options.create) return fail(ENOENT, "open", p.text);
    inode = std::make_shared<Inode>(false, &state_->used_bytes);
    parent->dir->apply_dir_op(DirOp{"create " + parent->name, {{parent->name, inode}}});
  }
  if (options.truncate && options.access != OpenOptions::Access::kRead) inode->resize(0);
  return std::unique_ptr<runtime::FileHandle>(
      std::make_unique<FaultFileHandle>(state_, std::move(inode), p.text, options));
}

Status FaultFileSystem::rename(const std::string& from, const std::string& to) {
  state_->maybe_yield();
  const ParsedPath src_path = parse(from);
  const ParsedPath dst_path = parse(to);
  Result<Parent> src = parent_of(*state_, src_path, "rename");
  if (!src) return src.error();
  Result<Parent> dst = parent_of(*state_, dst_path, "rename to");
  if (!dst) return dst.error();
  InodePtr moving = entry(*src);
  if (!moving) return fail(ENOENT, "rename", src_path.text);
  InodePtr replaced = entry(*dst);
  if (replaced == moving) return Status::ok();  // same name, or two links to one file
  if (replaced && replaced->is_dir() && !moving->is_dir()) {
    return fail(EISDIR, "rename to", dst_path.text);
  }
  if (replaced && moving->is_dir() && !replaced->is_dir()) {
    return fail(ENOTDIR, "rename to", dst_path.text);
  }
  if (replaced && replaced->is_dir() && !replaced->entries.empty()) {
    return fail(ENOTEMPTY, "rename to", dst_path.text);
  }
  if (moving->is_dir() && dst_path.text.rfind(src_path.text + "/", 0) == 0) {
    return fail(EINVAL, "rename into itself", dst_path.text);
  }
  const std::string what = "rename " + src_path.text + " -> " + dst_path.text;
  if (src->dir == dst->dir) {
    src->dir->apply_dir_op(DirOp{what, {{src->name, nullptr}, {dst->name, moving}}});
  } else {
    src->dir->apply_dir_op(DirOp{what, {{src->name, nullptr}}});
    dst->dir->apply_dir_op(DirOp{what, {{dst->name, moving}}});
  }
  state_->renamed_since_dir_sync = true;
  return Status::ok();
}

Status FaultFileSystem::remove(const std::string& path) {
  state_->maybe_yield();
  const ParsedPath p = parse(path);
  Result<Parent> parent = parent_of(*state_, p, "unlink");
  if (!parent) return parent.error();
  InodePtr inode = entry(*parent);
  if (!inode) return fail(ENOENT, "unlink", p.text);
  if (inode->is_dir()) return fail(EISDIR, "unlink", p.text);
  parent->dir->apply_dir_op(DirOp{"remove " + parent->name, {{parent->name, nullptr}}});
  return Status::ok();
}

Status FaultFileSystem::link(const std::string& existing, const std::string& new_path) {
  state_->maybe_yield();
  const ParsedPath src_path = parse(existing);
  const ParsedPath dst_path = parse(new_path);
  if (state_->link_errno != 0) return fail(state_->link_errno, "link", src_path.text);
  InodePtr inode = find(*state_, src_path);
  if (!inode) return fail(ENOENT, "link", src_path.text);
  if (inode->is_dir()) return fail(EPERM, "link", src_path.text);
  Result<Parent> dst = parent_of(*state_, dst_path, "link to");
  if (!dst) return dst.error();
  if (entry(*dst)) return fail(EEXIST, "link to", dst_path.text);
  dst->dir->apply_dir_op(
      DirOp{"link " + src_path.text + " as " + dst->name, {{dst->name, std::move(inode)}}});
  ++state_->counters.links;
  return Status::ok();
}

Status FaultFileSystem::make_dir(const std::string& path) {
  state_->maybe_yield();
  const ParsedPath p = parse(path);
  if (p.parts.empty()) return Status::ok();  // a root always exists
  Result<Parent> parent = parent_of(*state_, p, "mkdir");
  if (!parent) return parent.error();
  if (InodePtr existing = entry(*parent)) {
    return existing->is_dir() ? Status::ok() : fail(EEXIST, "mkdir", p.text);
  }
  auto dir = std::make_shared<Inode>(true, &state_->used_bytes);
  parent->dir->apply_dir_op(DirOp{"mkdir " + parent->name, {{parent->name, std::move(dir)}}});
  return Status::ok();
}

Status FaultFileSystem::remove_dir(const std::string& path) {
  state_->maybe_yield();
  const ParsedPath p = parse(path);
  Result<Parent> parent = parent_of(*state_, p, "rmdir");
  if (!parent) return parent.error();
  InodePtr dir = entry(*parent);
  if (!dir) return fail(ENOENT, "rmdir", p.text);
  if (!dir->is_dir()) return fail(ENOTDIR, "rmdir", p.text);
  if (!dir->entries.empty()) return fail(ENOTEMPTY, "rmdir", p.text);
  parent->dir->apply_dir_op(DirOp{"rmdir " + parent->name, {{parent->name, nullptr}}});
  return Status::ok();
}

Status FaultFileSystem::sync_dir(const std::string& path) {
  state_->maybe_yield();
  const ParsedPath p = parse(path);
  InodePtr dir = find(*state_, p);
  if (!dir) return fail(ENOENT, "open", p.text);
  if (!dir->is_dir()) return fail(ENOTDIR, "open", p.text);
  if (state_->renamed_since_dir_sync && state_->dir_sync_after_rename_errno != 0) {
    const int err = std::exchange(state_->dir_sync_after_rename_errno, 0);
    return fail(err, "fsync (injected fault)", p.text);
  }
  state_->renamed_since_dir_sync = false;
  dir->make_entries_durable();
  ++state_->counters.sync_dirs;
  return Status::ok();
}

Result<std::vector<std::string>> FaultFileSystem::list_dir(const std::string& path) {
  state_->maybe_yield();
  const ParsedPath p = parse(path);
  InodePtr dir = find(*state_, p);
  if (!dir) return fail(ENOENT, "opendir", p.text);
  if (!dir->is_dir()) return fail(ENOTDIR, "opendir", p.text);
  std::vector<std::string> names;
  for (const auto& [name, inode] : dir->entries) names.push_back(name);
  return names;
}

Result<bool> FaultFileSystem::exists(const std::string& path) {
  state_->maybe_yield();
  return find(*state_, parse(path)) != nullptr;
}

CrashReport FaultFileSystem::crash(std::uint64_t seed) {
  CrashOptions options;
  options.seed = seed;
  return simulate_crash(options);
}

CrashReport FaultFileSystem::simulate_crash(const CrashOptions& options) {
  CrashReport report;
  report.seed = options.seed;
  report.log = "crash seed=" + std::to_string(options.seed) +
               " unsynced=" + mode_name(options.unsynced) + "\n";
  detail::CrashRng rng(options.seed);
  std::set<const Inode*> seen;
  crash_tree(state_->root_absolute, "/", options, rng, seen, report);
  crash_tree(state_->root_relative, "", options, rng, seen, report);
  ++state_->epoch;
  ++state_->counters.crashes;
  state_->failing_syncs.clear();
  state_->failing_writes.clear();
  state_->failing_reads.clear();
  return report;
}

Status FaultFileSystem::inject_bit_flip(const std::string& path, std::uint64_t offset, int bit) {
  const ParsedPath p = parse(path);
  InodePtr inode = find(*state_, p);
  if (!inode) return fail(ENOENT, "bit flip in", p.text);
  if (inode->is_dir()) return fail(EISDIR, "bit flip in", p.text);
  if (!inode->flip_bit(offset, bit)) {
    return Status::invalid_argument("bit flip past the end of '" + p.text + "'");
  }
  return Status::ok();
}

void FaultFileSystem::set_space_limit(std::optional<std::uint64_t> bytes) {
  state_->space_limit = bytes;
}

std::uint64_t FaultFileSystem::used_bytes() const { return state_->used_bytes; }

void FaultFileSystem::fail_next_sync(const std::string& path) {
  state_->failing_syncs.push_back(path.empty() ? path : parse(path).text);
}

void FaultFileSystem::fail_next_write(const std::string& path) {
  state_->failing_writes.push_back(path.empty() ? path : parse(path).text);
}

void FaultFileSystem::fail_next_read(const std::string& path) {
  state_->failing_reads.push_back(path.empty() ? path : parse(path).text);
}

void FaultFileSystem::set_link_error(int err) { state_->link_errno = err; }

void FaultFileSystem::fail_next_dir_sync_after_rename(int err) {
  state_->dir_sync_after_rename_errno = err;
}

void FaultFileSystem::set_direct_read_alignment(std::uint32_t bytes) {
  state_->direct_read_alignment = bytes;
}

void FaultFileSystem::set_yield_on_io(bool yield) { state_->yield_on_io = yield; }

Result<std::vector<std::byte>> FaultFileSystem::contents(const std::string& path) const {
  const ParsedPath p = parse(path);
  InodePtr inode = find(*state_, p);
  if (!inode) return fail(ENOENT, "contents of", p.text);
  if (inode->is_dir()) return fail(EISDIR, "contents of", p.text);
  return inode->current();
}

const FsCounters& FaultFileSystem::counters() const { return state_->counters; }

IoCounters FaultFileSystem::file_counters(const std::string& path) const {
  auto it = state_->per_file.find(parse(path).text);
  return it == state_->per_file.end() ? IoCounters{} : it->second;
}

}  // namespace cascade::test_support
