// Writing a checkpoint directory; the layout and the order of steps are in checkpoint.h.
#include "engine/checkpoint.h"

#include <set>

#include "engine/version/current_file.h"
#include "engine/version/file_names.h"
#include "engine/version/manifest.h"
#include "src/runtime/file_copy.h"

namespace cascade::engine {
namespace {

std::string parent_of(const std::string& dir) {
  std::string d = dir;
  while (d.size() > 1 && d.back() == '/') d.pop_back();
  std::size_t slash = d.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : d.substr(0, slash);
}

// The numbers of the immutable files the checkpoint shares: tables and value logs. WAL
// segments are rewritten in place, so they are never shared (and never needed: see
// checkpoint.h).
std::set<std::uint64_t> shared_files(const Version& version) {
  std::set<std::uint64_t> numbers;
  version.add_live_files(numbers);
  for (std::uint64_t n : version.wal_segments()) numbers.erase(n);
  return numbers;
}

// Links (or, where links are refused, copies) every file of `numbers` from `from` to `to`.
Status share_files(runtime::FileSystem& fs, const std::string& from, const std::string& to,
                   std::set<std::uint64_t> numbers, CheckpointInfo& info) {
  auto listing = fs.list_dir(from);
  if (!listing) return listing.error();
  bool copy = false;  // once one link is refused, every other one would be too
  for (const std::string& name : *listing) {
    auto number = parse_numbered_file(name);
    if (!number || numbers.erase(*number) == 0) continue;
    const std::string source = path_join(from, name);
    const std::string target = path_join(to, name);
    if (!copy) {
      Status linked = fs.link(source, target);
      if (linked) {
        ++info.files_linked;
        continue;
      }
      if (!runtime::link_refused(linked)) return linked;
      copy = true;
    }
    auto copied = runtime::copy_file(fs, source, target);
    if (!copied) return copied.error();
    ++info.files_copied;
    info.bytes_copied += *copied;
  }
  if (!numbers.empty()) {
    return Status::corruption(from + ": file " + std::to_string(*numbers.begin()) +
                              " named by the live version is missing");
  }
  return Status::ok();
}

Status write_manifest(runtime::FileSystem& fs, const std::string& dir, const Version& version,
                      std::uint64_t manifest_number) {
  VersionEdit snapshot = version.snapshot_edit();
  snapshot.wal_segments_added.clear();
  snapshot.set_next_file_number(manifest_number + 1);
  snapshot.set_last_sequence(version.flushed_sequence());
  std::string record;
  snapshot.encode_to(record);
  auto writer = ManifestWriter::create(fs, path_join(dir, manifest_file_name(manifest_number)),
                                       manifest_number);
  if (!writer) return writer.error();
  Status s = (*writer)->add_record(record);
  if (s) s = (*writer)->sync();
  Status closed = (*writer)->close();
  return s ? closed : s;
}

}  // namespace

Result<CheckpointInfo> write_checkpoint(runtime::FileSystem& fs, const std::string& source_dir,
                                        const std::string& dir, const Version& version,
                                        std::uint64_t manifest_number) {
  auto exists = fs.exists(dir);
  if (!exists) return exists.error();
  if (*exists) return Status::invalid_argument("checkpoint directory " + dir + " exists");
  if (Status s = fs.make_dir(dir); !s) return s;
  if (Status s = fs.sync_dir(parent_of(dir)); !s) return s;

  CheckpointInfo info;
  info.sequence = version.flushed_sequence();
  if (Status s = share_files(fs, source_dir, dir, shared_files(version), info); !s) return s;
  if (Status s = fs.sync_dir(dir); !s) return s;
  if (Status s = write_manifest(fs, dir, version, manifest_number); !s) return s;
  // The manifest's entry must be durable before CURRENT can name it.
  if (Status s = fs.sync_dir(dir); !s) return s;
  if (Status s = install_current(fs, dir, manifest_number); !s) return s;
  return info;
}

}  // namespace cascade::engine
