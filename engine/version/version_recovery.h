// Recovery of the version set's state from a directory: CURRENT, then the manifest it
// names, replayed edit by edit from an empty version.
//
// Decisions, in order:
// - CURRENT exists: it must name a manifest that exists (else Corruption); the manifest is
//   read (a torn last record dropped, damage before it Corruption) and every record must
//   decode and apply cleanly (else Corruption naming the record). The records together
//   must set the next file number and the last sequence, every live file number must be
//   below the next file number, and (if asked) every live file number must exist in the
//   directory.
// - CURRENT is missing and the directory holds no numbered engine file: a fresh directory
//   (or a creation that crashed before CURRENT was installed, which acknowledged nothing);
//   leftover manifests are then obsolete.
// - CURRENT is missing but numbered engine files exist: Corruption. Data may exist and
//   nothing says which manifest describes it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/version/version.h"
#include "src/runtime/file_system.h"
#include "src/runtime/result.h"

namespace cascade::engine {

struct RecoveredState {
  bool fresh = false;  // nothing to recover: the caller creates an empty set
  std::shared_ptr<Version> version = std::make_shared<Version>();
  std::uint64_t manifest_number = 0;
  std::uint64_t next_file_number = 1;
  SequenceNumber last_sequence = 0;
  std::uint64_t dropped_tail_bytes = 0;
};

Result<RecoveredState> recover_state(runtime::FileSystem& fs, const std::string& dir,
                                     const std::vector<std::string>& listing,
                                     bool check_files_exist);

}  // namespace cascade::engine
