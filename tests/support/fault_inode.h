// The inodes of FaultFileSystem and what a simulated crash does to one of them. Internal to
// tests/support: tests use fault_file_system.h.
//
// A file inode holds two images: `current` (what reads see) and `durable` (what survives a
// crash), plus the events since the last sync in program order: writes (with their bytes)
// and size changes (truncate, allocate). Invariant: applying the pending events to `durable`
// gives `current`, except that a shrinking truncate followed by growth is not replayed
// byte-exactly (the crash model lets old durable bytes reappear there, as a real disk may).
//
// A directory inode holds entries (name -> inode; hard links are two entries sharing one
// inode) in a current and a durable view, plus the operations since the last sync_dir. An
// operation is the set of entry changes one call made in this directory (a rename within one
// directory is a single operation, so a crash applies it whole or not at all).
//
// Every inode of one file system adds its current size to a shared `used_bytes` counter (for
// the space limit), kept exact through set_current() and the destructor.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "tests/support/crash_options.h"

namespace cascade::test_support::detail {

// splitmix64: a tiny generator whose sequence is the same on every platform and library, so
// a crash seed replays the same crash anywhere.
class CrashRng {
 public:
  explicit CrashRng(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next();
  std::uint64_t below(std::uint64_t n) { return n == 0 ? 0 : next() % n; }  // [0, n)
  bool chance(double p) { return static_cast<double>(next() >> 11) * 0x1.0p-53 < p; }

 private:
  std::uint64_t state_;
};

// One event since the last sync. A write records its bytes; a resize has none. Both record
// the file's size after them.
struct PendingEvent {
  bool is_write = false;
  std::uint64_t offset = 0;
  std::vector<std::byte> data;
  std::uint64_t size_after = 0;
};

class Inode;
using InodePtr = std::shared_ptr<Inode>;

// The entry changes one call made in one directory; a null inode erases the name.
struct DirOp {
  std::string what;  // "create x", "rename a -> b", ... for crash reports
  std::vector<std::pair<std::string, InodePtr>> changes;
};

class Inode {
 public:
  Inode(bool is_dir, std::uint64_t* used_bytes) : is_dir_(is_dir), used_bytes_(used_bytes) {}
  ~Inode();
  Inode(const Inode&) = delete;
  Inode& operator=(const Inode&) = delete;

  bool is_dir() const { return is_dir_; }

  // --- Files ---
  const std::vector<std::byte>& current() const { return current_; }
  const std::vector<std::byte>& durable() const { return durable_; }
  const std::vector<PendingEvent>& pending() const { return pending_; }
  // Updates the current image, zero-filling any gap, and records the write as pending.
  void write(std::uint64_t offset, std::span<const std::byte> data);
  // Sets the current size (zero-filling growth) and records the change as pending.
  void resize(std::uint64_t size);
  // sync(): the current image becomes durable.
  void make_durable();
  // After a crash: both images become `image`, nothing is pending.
  void reset_after_crash(std::vector<std::byte> image);
  // Media corruption: flips `bit` of byte `offset` in each image that holds that byte.
  bool flip_bit(std::uint64_t offset, int bit);

  bool sync_failed = false;  // a sync of this file failed; its data is in doubt

  // --- Directories ---
  std::map<std::string, InodePtr> entries;          // the current view
  std::map<std::string, InodePtr> durable_entries;  // what a crash falls back to
  std::vector<DirOp> pending_ops;                   // since the last sync_dir
  // Applies `op` to the current view and records it as pending.
  void apply_dir_op(DirOp op);
  void make_entries_durable();

 private:
  void set_current_size(std::size_t size);

  bool is_dir_;
  std::uint64_t* used_bytes_;
  std::vector<std::byte> current_;
  std::vector<std::byte> durable_;
  std::vector<PendingEvent> pending_;
};

// What a crash does to one file (`path` names it in the report): its images become the
// durable image plus whatever of the pending events `options` lets land.
void crash_file(Inode& file, const std::string& path, const CrashOptions& options,
                CrashRng& rng, CrashReport& report);
// What a crash does to one directory's entries: the durable view plus whatever of the
// pending operations `options` lets land.
void crash_dir(Inode& dir, const std::string& path, const CrashOptions& options, CrashRng& rng,
               CrashReport& report);

}  // namespace cascade::test_support::detail
