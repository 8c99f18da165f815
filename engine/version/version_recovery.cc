// Recovery of the version set's state; the decisions are listed in version_recovery.h.
#include "engine/version/version_recovery.h"

#include <set>

#include "engine/version/current_file.h"
#include "engine/version/file_names.h"
#include "engine/version/manifest.h"

namespace cascade::engine {

namespace {

Status replay(const std::string& path, const ManifestContents& contents, RecoveredState& out) {
  std::optional<std::uint64_t> next_file_number;
  std::optional<SequenceNumber> last_sequence;
  for (std::size_t i = 0; i < contents.records.size(); ++i) {
    VersionEdit edit;
    Status s = edit.decode_from(contents.records[i]);
    if (s) s = apply_edit_in_place(*out.version, edit);
    if (!s) {
      return Status::corruption(path + ": record " + std::to_string(i) + ": " + s.message());
    }
    if (edit.next_file_number) next_file_number = edit.next_file_number;
    if (edit.last_sequence) last_sequence = edit.last_sequence;
  }
  if (!next_file_number || !last_sequence) {
    return Status::corruption(path + ": no record sets the next file number and last sequence");
  }
  out.next_file_number = *next_file_number;
  out.last_sequence = *last_sequence;
  return Status::ok();
}

Status check_live_files(const std::string& path, const RecoveredState& state,
                        const std::vector<std::string>& listing, bool check_exist) {
  std::set<std::uint64_t> live;
  state.version->add_live_files(live);
  if (!live.empty() && *live.rbegin() >= state.next_file_number) {
    return Status::corruption(path + ": names file " + std::to_string(*live.rbegin()) +
                              " at or above its next file number " +
                              std::to_string(state.next_file_number));
  }
  if (!check_exist) return Status::ok();
  std::set<std::uint64_t> present;
  for (const std::string& name : listing) {
    if (auto n = parse_numbered_file(name)) present.insert(*n);
  }
  for (std::uint64_t n : live) {
    if (!present.contains(n)) {
      return Status::corruption(path + ": names file " + numbered_file_name(n, "*") +
                                " but the directory holds no file with that number");
    }
  }
  return Status::ok();
}

Result<RecoveredState> fresh_or_corrupt(const std::string& dir,
                                        const std::vector<std::string>& listing) {
  for (const std::string& name : listing) {
    if (parse_numbered_file(name)) {
      return Status::corruption(dir + ": CURRENT is missing but the directory holds engine "
                                "file " + name + "; refusing to guess which manifest is live");
    }
  }
  RecoveredState fresh;
  fresh.fresh = true;
  return fresh;
}

}  // namespace

Result<RecoveredState> recover_state(runtime::FileSystem& fs, const std::string& dir,
                                     const std::vector<std::string>& listing,
                                     bool check_files_exist) {
  auto number = read_current(fs, dir);
  if (!number) {
    if (number.error().is_not_found()) return fresh_or_corrupt(dir, listing);
    return number.error();
  }
  std::string path = path_join(dir, manifest_file_name(*number));
  auto contents = read_manifest(fs, path, *number);
  if (!contents) {
    if (contents.error().is_not_found()) {
      return Status::corruption(dir + "/CURRENT names " + manifest_file_name(*number) +
                                ", which does not exist");
    }
    return contents.error();
  }
  RecoveredState state;
  state.manifest_number = *number;
  state.dropped_tail_bytes = contents->dropped_tail_bytes;
  if (Status s = replay(path, *contents, state); !s) return s;
  if (Status s = check_live_files(path, state, listing, check_files_exist); !s) return s;
  return state;
}

}  // namespace cascade::engine
