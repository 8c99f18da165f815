// CompactionValueHooks: how a value store outside the tree (the value log) follows what
// compaction does to the entries that point into it.
//
// Compaction treats every value as opaque bytes whatever its ValueType. For each job that
// rewrites entries (not for trivial moves, which rewrite nothing) the engine asks
// start_job() for a CompactionValueHandler and then, on the compaction fiber:
// - dropped(user_key, type, value) once for every input entry that is not written to an
//   output: a version superseded by a newer one no snapshot separates it from, a tombstone
//   dropped at the bottom level, an entry the compaction filter removed. Relocated entries
//   are not reported: the handler knows the old address itself.
// - relocate(user_key, value) for every kValuePointer entry that is written to an output:
//   nullopt keeps the value, a string replaces it (the new address, written where the
//   handler chose). An error fails the job.
// - finish(edit) after every output table is written and synced, before the job's version
//   edit is logged: the handler adds its own changes (garbage counted per value-log file,
//   value-log files it wrote) to that edit, so they become durable with the compaction,
//   atomically. Files it names must be synced already. An error fails the job.
// A job that fails or is abandoned destroys its handler without finish(): nothing it was
// told became durable, and files it wrote are its to clean up.
//
// Handlers of concurrent jobs (max_background_compactions > 1) live side by side. No call
// may suspend except finish() and relocate(), which may do IO.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "engine/compaction/compaction.h"
#include "engine/format/internal_key.h"
#include "engine/version/version_edit.h"
#include "src/runtime/result.h"

namespace cascade::engine {

class CompactionValueHandler {
 public:
  virtual ~CompactionValueHandler() = default;
  virtual void dropped(std::string_view user_key, ValueType type, std::string_view value) = 0;
  virtual Result<std::optional<std::string>> relocate(std::string_view user_key,
                                                      std::string_view value) = 0;
  virtual Status finish(VersionEdit& edit) = 0;
};

class CompactionValueHooks {
 public:
  virtual ~CompactionValueHooks() = default;
  // `c`: the job (its output level; its version, held until the job ends, names every
  // value-log file its input entries point into).
  virtual std::unique_ptr<CompactionValueHandler> start_job(const Compaction& c) = 0;
};

}  // namespace cascade::engine
