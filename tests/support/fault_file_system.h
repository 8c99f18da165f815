// FaultFileSystem: an in-memory runtime::FileSystem that simulates crashes and faults, for
// the engine's crash and corruption tests (WAL, tables, manifest, the whole engine).
//
// Crash model of the tests
// ------------------------
// Files. Each file (an inode) has a current image, what reads see, and a durable image, what
// survives a crash. write_at updates the current image and records the write as pending;
// size changes (a write past the end, allocate, truncate, open with truncate) are pending
// too. FileHandle::sync() (fdatasync) makes the whole current image, size included, durable.
// write_buffered_at is a write_at (a pending write that a process crash keeps and a power
// loss may drop or tear), counted apart.
//
// Directories. A directory maps names to inodes (hard links: two names, one inode) in a
// current and a durable view. create, rename, remove, link, make_dir and remove_dir change
// the current view and are recorded as pending operations of each directory they touch;
// sync_dir(dir) makes that directory's current view durable. So a file created and synced
// whose directory was never synced vanishes at a crash (as on ext4 without a directory
// fsync), and a rename not followed by sync_dir may be undone. A rename within a directory
// is one operation (it lands whole or not at all); across directories it is one operation in
// each, which land independently.
//
// A crash (crash(seed) or simulate_crash(CrashOptions)), per CrashOptions::unsynced:
// - kLost: every file becomes its durable image, every directory its durable view.
// - kKept: everything lands (a process crash; the page cache survives).
// - kRandom: a file becomes its durable image plus a random subset of its pending writes,
//   applied in program order: each is dropped, lands whole, or is torn (only a prefix of
//   its bytes, ending on a 512 B or 4 KiB sector boundary strictly inside it, lands). Any
//   subset may land: a later write may land while an earlier one does not. Bytes change
//   only inside pending writes, past the durable size and past a landed shrink. The size
//   may come back as the size after any pending size change, every size change before it
//   landing too, in order; bytes a growth added read, wherever no landed write covers
//   them, as garbage (or zeros) for a write past the end and as zeros for allocate or
//   truncate (unwritten extents, holes), and a shrink drops the bytes past it, so a later
//   growth over them reads as that growth. Or the size comes back as the durable size,
//   cutting off landed bytes past it. A directory
//   becomes its durable view plus each pending operation that lands, in order; so a rename
//   may land before the renamed file's data.
// The crash then drops every inode no longer reachable, makes the result durable, and bumps
// an epoch: every handle opened before it fails with kIoError from then on. A crash is
// deterministic for a seed and a history of calls; the CrashReport says what it did.
//
// Faults. inject_bit_flip flips a bit in both images (media corruption). set_space_limit
// makes writes, allocates and truncates that would grow the total current size of all files
// past the limit fail with kNoSpace; reads, overwrites and shrinking keep working.
// fail_next_sync makes one sync fail with kIoError without making anything durable; the file
// is then in doubt, and writes and syncs to it afterwards are counted (a caller must stop,
// see file_system.h), so a test can assert they are zero. fail_next_write fails one
// write_at with kIoError, changing nothing; fail_next_read one read_at (in flight until it
// returns, as a device error comes back after the device's time). set_link_error(EXDEV) makes every link fail with
// that errno (as link(2) does across file systems), until set_link_error(0). A crash
// disarms faults not yet triggered (a link error stays: it is a property of the mount).
//
// Contract checks (the same errors as the real file system): with OpenOptions::direct a
// misaligned offset, length or buffer is kInvalidArgument; opening a missing file without
// create, or a path whose parent directory is missing, is kNotFound; exclusive create of an
// existing file is kIoError (EEXIST); removing a missing file and listing a missing directory
// are kNotFound; make_dir of an existing directory is fine. Reading a handle opened
// write-only or writing one opened read-only is kIoError (EBADF). Paths are normalized
// ("a//b/./c" is "a/b/c"); absolute paths live under "/", relative ones under the current
// directory "", and both roots always exist.
//
// Concurrency: one shard thread, no locks. Every call completes synchronously, unless
// set_yield_on_io(true), which makes each call yield the calling fiber first (when called
// from a fiber) to shake out ordering bugs between fibers; a read yields again after
// taking its bytes, in flight meanwhile (FsCounters::max_reads_in_flight). Handles may outlive the file
// system object only to be destroyed.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "src/runtime/file_system.h"
#include "tests/support/crash_options.h"

namespace cascade::test_support {

struct IoCounters {
  std::uint64_t writes = 0;
  std::uint64_t bytes_written = 0;
  std::uint64_t reads = 0;
  std::uint64_t bytes_read = 0;
  std::uint64_t syncs = 0;  // successful ones
  std::uint64_t durable_writes = 0;  // write_durable_at: a write and a sync in one call
  std::uint64_t buffered_writes = 0;  // write_buffered_at (also counted in writes)
  std::uint64_t failed_syncs = 0;
  std::uint64_t writes_after_failed_sync = 0;  // contract violations by the caller
  std::uint64_t syncs_after_failed_sync = 0;   // (a retried sync proves nothing)
};

struct FsCounters {
  IoCounters files;  // totals over every file
  std::uint64_t sync_dirs = 0;
  std::uint64_t links = 0;  // hard links made
  std::uint64_t crashes = 0;
  // The most reads in progress at once: with set_yield_on_io(true) a read yields before
  // it completes, so reads issued from several fibers overlap as they would on a device.
  std::uint64_t max_reads_in_flight = 0;
};

class FaultFileSystem final : public runtime::FileSystem {
 public:
  FaultFileSystem();
  ~FaultFileSystem() override;
  FaultFileSystem(const FaultFileSystem&) = delete;
  FaultFileSystem& operator=(const FaultFileSystem&) = delete;

  // runtime::FileSystem
  Result<std::unique_ptr<runtime::FileHandle>> open(const std::string& path,
                                                    const runtime::OpenOptions& options) override;
  Status rename(const std::string& from, const std::string& to) override;
  Status remove(const std::string& path) override;
  Status link(const std::string& existing, const std::string& new_path) override;
  Status make_dir(const std::string& path) override;
  Status remove_dir(const std::string& path) override;
  Status sync_dir(const std::string& path) override;
  Result<std::vector<std::string>> list_dir(const std::string& path) override;
  Result<bool> exists(const std::string& path) override;

  // Crashes: see the model above. crash(seed) uses the default (kRandom) options.
  CrashReport crash(std::uint64_t seed);
  CrashReport simulate_crash(const CrashOptions& options);

  // Faults.
  Status inject_bit_flip(const std::string& path, std::uint64_t offset, int bit = 0);
  void set_space_limit(std::optional<std::uint64_t> bytes);  // nullopt: unlimited
  std::uint64_t used_bytes() const;  // the current sizes of all live files
  void fail_next_sync(const std::string& path = {});   // empty: whichever file syncs next
  void fail_next_write(const std::string& path = {});  // empty: whichever file writes next
  void fail_next_read(const std::string& path = {});   // empty: whichever file reads next
  void set_link_error(int err);  // 0: links work
  // The next directory sync after a rename fails with `err` (and makes nothing durable),
  // as fsync of a directory may on a file system out of space.
  void fail_next_dir_sync_after_rename(int err);
  void set_yield_on_io(bool yield);
  // The O_DIRECT read granularity handles report and check (runtime::FileHandle::
  // read_alignment), for files opened after the call: a power of two dividing a page.
  void set_direct_read_alignment(std::uint32_t bytes);

  // Inspection, bypassing handles and faults: the current image of a file.
  Result<std::vector<std::byte>> contents(const std::string& path) const;

  const FsCounters& counters() const;
  IoCounters file_counters(const std::string& path) const;  // zeros for an unknown path

  struct State;  // shared with the handles

 private:
  std::shared_ptr<State> state_;
};

}  // namespace cascade::test_support
