// The file system seen by the engine: an interface, so tests can swap in one that injects
// faults (lost unsynced writes, torn writes, vanished directory entries, bit flips, ENOSPC)
// without a real crash. Every byte the engine stores goes through a FileSystem.
//
// Contract, identical for every implementation (the fault-injecting one checks it):
// - A FileHandle's data survives a crash only up to its last successful sync(). A new or
//   renamed or removed directory entry survives only after sync_dir() of its directory.
// - With OpenOptions::direct, every offset, length and buffer address is 4 KiB-aligned
//   (AlignedBuffer); a misaligned request fails with kInvalidArgument.
// - read_at returns fewer bytes than asked only at end of file.
// - A failed sync() leaves the data in doubt: callers stop writing to that file (and the
//   engine stops accepting writes), they do not retry it and call it a success.
// - Calls may suspend the calling fiber (the real file system goes through the shard's
//   io_uring reactor); a FileHandle belongs to the shard that opened it.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "src/runtime/file.h"
#include "src/runtime/aligned_buffer.h"
#include "src/runtime/result.h"

namespace cascade::runtime {

class FileHandle {
 public:
  virtual ~FileHandle() = default;

  // Reads up to buffer.size() bytes at `offset`; fewer only at end of file.
  virtual Result<std::size_t> read_at(std::uint64_t offset, std::span<std::byte> buffer) = 0;
  // The granularity of offsets and lengths for reads of a file opened O_DIRECT (the
  // device's logical block where the kernel reports it; see File::read_alignment). Writes
  // and every buffer's address stay page-aligned.
  virtual std::uint32_t read_alignment() const { return kPageSize; }
  // Writes all of `data` at `offset`, extending the file if needed.
  virtual Status write_at(std::uint64_t offset, std::span<const std::byte> data) = 0;
  // fdatasync: everything written so far survives a crash.
  virtual Status sync() = 0;
  // Writes `data` at `offset` so that it survives a crash once this returns (O_DSYNC: one
  // device round trip instead of a write and an fdatasync, where the device can force one
  // write alone). Guaranteed only for this write: callers use it when nothing written
  // before is unsynced. This default writes and syncs, which covers everything.
  virtual Status write_durable_at(std::uint64_t offset, std::span<const std::byte> data) {
    if (Status s = write_at(offset, data); !s) return s;
    return sync();
  }
  // Writes `data` at `offset` so that it survives this process's crash once this returns,
  // but a power loss only after the next sync() (File::write_buffered_at: the page cache,
  // not the device). Offsets, lengths and buffers follow write_at's rules, so a file can
  // mix both. This default is write_at, which promises more.
  virtual Status write_buffered_at(std::uint64_t offset, std::span<const std::byte> data) {
    return write_at(offset, data);
  }
  // Reserves [offset, offset + length) so later writes there cannot fail for space; the
  // file's size grows to cover it. Bytes it adds read as zeros until written, also after a
  // power loss that kept the new size but not a write there (fallocate's unwritten
  // extents): the value log's recovery tells a record a crash never wrote by its zeros.
  virtual Status allocate(std::uint64_t offset, std::uint64_t length) = 0;
  virtual Status truncate(std::uint64_t size) = 0;
  virtual Result<std::uint64_t> size() = 0;
  virtual Status close() = 0;
  virtual const std::string& path() const = 0;
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;

  virtual Result<std::unique_ptr<FileHandle>> open(const std::string& path,
                                                   const OpenOptions& options) = 0;
  virtual Status rename(const std::string& from, const std::string& to) = 0;
  virtual Status remove(const std::string& path) = 0;  // a file
  // A hard link (checkpoints share immutable files this way).
  virtual Status link(const std::string& existing, const std::string& new_path) = 0;
  virtual Status make_dir(const std::string& path) = 0;  // an existing directory is fine
  virtual Status remove_dir(const std::string& path) = 0;
  virtual Status sync_dir(const std::string& path) = 0;
  // Entry names (not paths) in `path`, without "." and "..", in no particular order.
  virtual Result<std::vector<std::string>> list_dir(const std::string& path) = 0;
  virtual Result<bool> exists(const std::string& path) = 0;
};

// The real file system, through the calling shard's reactor (or blocking outside a fiber).
FileSystem& real_file_system();

// Replaces `dir`/`name` with `contents` so that a crash leaves either the old file or the
// new one, whole: write `name`.tmp, sync it, rename it over `name`, sync `dir`. `renamed`,
// when given, tells a failure before the rename (the old file stands) from one after it
// (the new one may have replaced it).
Status replace_file_atomically(FileSystem& fs, const std::string& dir, const std::string& name,
                               std::string_view contents, bool* renamed = nullptr);

}  // namespace cascade::runtime
