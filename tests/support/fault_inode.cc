#include "tests/support/fault_inode.h"

#include <algorithm>
#include <cstring>

namespace cascade::test_support::detail {
namespace {

// Lines of decisions logged per file and per directory; the counters stay exact past it.
constexpr int kMaxLogLinesPerInode = 32;

void log_line(CrashReport& report, int& lines, const std::string& line) {
  if (lines < kMaxLogLinesPerInode) {
    report.log += "  " + line + "\n";
  } else if (lines == kMaxLogLinesPerInode) {
    report.log += "  ... (more decisions not logged)\n";
  }
  ++lines;
}

std::string range(std::uint64_t offset, std::uint64_t length) {
  return "[" + std::to_string(offset) + ", " + std::to_string(offset + length) + ")";
}

// The pending events that changed the file's size, oldest first (indexes into pending()).
std::vector<std::size_t> size_changes(const Inode& file) {
  std::vector<std::size_t> changes;
  std::uint64_t size = file.durable().size();
  for (std::size_t i = 0; i < file.pending().size(); ++i) {
    const PendingEvent& e = file.pending()[i];
    if (e.size_after != size) changes.push_back(i);
    size = e.size_after;
  }
  return changes;
}

// How many bytes of a landing write reach the disk: all of them, or (torn) a prefix that
// ends on a sector boundary strictly inside the write.
std::uint64_t landed_length(const PendingEvent& w, const CrashOptions& options, CrashRng& rng) {
  const std::uint64_t sector = options.sector_size == 0 ? 512 : options.sector_size;
  const std::uint64_t end = w.offset + w.data.size();
  const std::uint64_t first = (w.offset / sector + 1) * sector;  // first boundary > offset
  if (first >= end || !rng.chance(options.write_torn)) return w.data.size();
  const std::uint64_t boundaries = (end - 1 - first) / sector + 1;  // in [first, end)
  return first + rng.below(boundaries) * sector - w.offset;
}

// Unsynced::kRandom: the durable image, resized to a size that may have landed, with each
// pending write dropped, landed whole or torn, in program order.
std::vector<std::byte> random_image(const Inode& file, const std::string& path,
                                    const CrashOptions& options, CrashRng& rng,
                                    CrashReport& report, int& lines) {
  std::vector<std::byte> image = file.durable();
  // The size that lands is the one after some pending size change: the size changes up to
  // it landed in order (the file system journals them in order), none after it. Each
  // growth reads as what it would read after a power loss where no landed write covers
  // it: zeros for allocate and truncate (fallocate leaves unwritten extents, ftruncate a
  // hole; the file system never shows the blocks' old contents there), garbage for a
  // write past the end (blocks allocated for data that never reached them) unless
  // garbage_fill is off. A shrink drops the bytes past it, so a later growth over them
  // reads as the growth says, not as they were.
  const std::vector<std::size_t> changes = size_changes(file);
  if (!changes.empty() && rng.chance(options.size_lands)) {
    const std::size_t last = changes[rng.below(changes.size())];
    std::uint64_t current = image.size();
    for (std::size_t i = 0; i <= last; ++i) {
      const PendingEvent& e = file.pending()[i];
      if (e.size_after == current) continue;
      image.resize(e.size_after);
      if (e.size_after > current && e.is_write && options.garbage_fill) {
        std::uint64_t bits = 0;
        for (std::uint64_t at = current; at < e.size_after; ++at) {
          if ((at - current) % 8 == 0) bits = rng.next();
          image[at] = static_cast<std::byte>(bits >> (8 * ((at - current) % 8)));
        }
      }
      current = e.size_after;
    }
  }
  const std::uint64_t size = image.size();
  if (size != file.durable().size()) {
    log_line(report, lines, path + ": size " + std::to_string(file.durable().size()) + " -> " +
                                std::to_string(size) + " (unsynced size landed)");
  }
  for (const PendingEvent& w : file.pending()) {
    if (!w.is_write || w.data.empty()) continue;
    const std::string where = path + ": write " + range(w.offset, w.data.size());
    if (!rng.chance(options.write_lands)) {
      ++report.writes_dropped;
      log_line(report, lines, where + " dropped");
      continue;
    }
    const std::uint64_t n = landed_length(w, options, rng);
    if (n == w.data.size()) {
      ++report.writes_whole;
      log_line(report, lines, where + " landed");
    } else {
      ++report.writes_torn;
      log_line(report, lines, where + " torn: " + range(w.offset, n) + " landed");
    }
    if (w.offset >= size) continue;
    const std::uint64_t visible = std::min<std::uint64_t>(n, size - w.offset);
    std::memcpy(image.data() + w.offset, w.data.data(), visible);
  }
  return image;
}

}  // namespace

std::uint64_t CrashRng::next() {
  std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

Inode::~Inode() { *used_bytes_ -= current_.size(); }

void Inode::set_current_size(std::size_t size) {
  *used_bytes_ += size;
  *used_bytes_ -= current_.size();
  current_.resize(size);
}

void Inode::write(std::uint64_t offset, std::span<const std::byte> data) {
  if (data.empty()) return;
  const std::uint64_t end = offset + data.size();
  if (end > current_.size()) set_current_size(end);
  std::memcpy(current_.data() + offset, data.data(), data.size());
  pending_.push_back(PendingEvent{true, offset, {data.begin(), data.end()}, current_.size()});
}

void Inode::resize(std::uint64_t size) {
  if (size == current_.size()) return;
  set_current_size(size);
  pending_.push_back(PendingEvent{false, 0, {}, size});
}

void Inode::make_durable() {
  durable_ = current_;
  pending_.clear();
}

void Inode::reset_after_crash(std::vector<std::byte> image) {
  set_current_size(image.size());
  current_ = image;
  durable_ = std::move(image);
  pending_.clear();
  sync_failed = false;
}

bool Inode::flip_bit(std::uint64_t offset, int bit) {
  const std::byte mask{static_cast<unsigned char>(1u << (bit & 7))};
  bool flipped = false;
  if (offset < current_.size()) current_[offset] ^= mask, flipped = true;
  if (offset < durable_.size()) durable_[offset] ^= mask, flipped = true;
  return flipped;
}

void Inode::apply_dir_op(DirOp op) {
  for (const auto& [name, inode] : op.changes) {
    if (inode) {
      entries[name] = inode;
    } else {
      entries.erase(name);
    }
  }
  pending_ops.push_back(std::move(op));
}

void Inode::make_entries_durable() {
  durable_entries = entries;
  pending_ops.clear();
}

void crash_file(Inode& file, const std::string& path, const CrashOptions& options,
                CrashRng& rng, CrashReport& report) {
  int lines = 0;
  std::size_t writes = 0;
  for (const PendingEvent& e : file.pending()) writes += e.is_write && !e.data.empty();
  std::vector<std::byte> image;
  switch (options.unsynced) {
    case Unsynced::kLost:
      image = file.durable();
      report.writes_dropped += writes;
      if (!file.pending().empty()) log_line(report, lines, path + ": unsynced events lost");
      break;
    case Unsynced::kKept:
      image = file.current();
      report.writes_whole += writes;
      break;
    case Unsynced::kRandom:
      image = random_image(file, path, options, rng, report, lines);
      break;
  }
  if (image.size() != file.durable().size()) ++report.sizes_changed;
  file.reset_after_crash(std::move(image));
}

void crash_dir(Inode& dir, const std::string& path, const CrashOptions& options, CrashRng& rng,
               CrashReport& report) {
  int lines = 0;
  std::map<std::string, InodePtr> result = dir.durable_entries;
  for (const DirOp& op : dir.pending_ops) {
    const bool lands = options.unsynced == Unsynced::kKept ||
                       (options.unsynced == Unsynced::kRandom && rng.chance(options.dir_op_lands));
    if (!lands) {
      ++report.dir_ops_lost;
      log_line(report, lines, path + ": '" + op.what + "' lost");
      continue;
    }
    ++report.dir_ops_kept;
    log_line(report, lines, path + ": '" + op.what + "' kept");
    for (const auto& [name, inode] : op.changes) {
      if (inode) {
        result[name] = inode;
      } else {
        result.erase(name);
      }
    }
  }
  dir.entries = result;
  dir.durable_entries = std::move(result);
  dir.pending_ops.clear();
}

}  // namespace cascade::test_support::detail
