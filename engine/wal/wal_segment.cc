#include "engine/wal/wal_segment.h"

#include <algorithm>
#include <cstring>
#include <random>

namespace cascade::engine {

namespace {

using runtime::AlignedBuffer;
using runtime::FileHandle;
using runtime::FileSystem;
using runtime::OpenOptions;

std::string join(const std::string& dir, const std::string& name) { return dir + "/" + name; }

OpenOptions direct_options(bool create) {
  OpenOptions o;
  o.access = OpenOptions::Access::kReadWrite;
  o.direct = true;
  o.create = create;
  o.truncate = create;
  return o;
}

bool is_segment_name(const std::string& name) {
  return name.size() == 11 && name.compare(0, 4, "wal-") == 0 &&
         name.compare(7, 4, ".log") == 0 &&
         std::all_of(name.begin() + 4, name.begin() + 7, [](char c) { return c >= '0' && c <= '9'; });
}

Status read_zero_filled(FileHandle& file, std::uint64_t offset, std::span<std::byte> buffer) {
  Result<std::size_t> n = file.read_at(offset, buffer);
  if (!n) return n.error();
  std::memset(buffer.data() + *n, 0, buffer.size() - *n);
  return Status::ok();
}

Result<std::unique_ptr<FileHandle>> create_segment(FileSystem& fs, const std::string& dir,
                                                   const WalGeometry& g, std::uint32_t i) {
  auto file = fs.open(join(dir, wal_segment_name(i)), direct_options(true));
  if (!file) return file.error();
  if (Status s = (*file)->allocate(0, g.segment_size); !s) return s;
  AlignedBuffer page(kWalHeaderPageSize);
  encode_wal_header(g, i, reinterpret_cast<char*>(page.data()));
  if (Status s = (*file)->write_at(0, page.span()); !s) return s;
  if (Status s = (*file)->sync(); !s) return s;
  return std::move(*file);
}

Result<WalSegments> create_all(FileSystem& fs, const std::string& dir, WalGeometry g) {
  std::random_device rd;
  g.wal_id = rd() & 0xffffff;  // 24 bits: checksum_file packs it above the segment byte
  std::vector<std::unique_ptr<FileHandle>> files;
  for (std::uint32_t i = 0; i < g.segment_count; ++i) {
    auto file = create_segment(fs, dir, g, i);
    if (!file) return file.error();
    files.push_back(std::move(*file));
  }
  if (Status s = fs.sync_dir(dir); !s) return s;
  return WalSegments::open(fs, dir, g);  // reopen: one code path checks what was written
}

// True if no existing segment file holds anything in its first record page.
Result<bool> holds_no_records(FileSystem& fs, const std::string& dir,
                              const std::vector<std::string>& names) {
  AlignedBuffer page(kWalPageSize);
  for (const std::string& name : names) {
    auto file = fs.open(join(dir, name), direct_options(false));
    if (!file) return file.error();
    if (Status s = read_zero_filled(**file, kWalHeaderPageSize, page.span()); !s) return s;
    if (!is_zero(reinterpret_cast<const char*>(page.data()), page.size())) return false;
  }
  return true;
}

}  // namespace

Result<WalSegments> WalSegments::open(FileSystem& fs, const std::string& dir,
                                      const WalGeometry& wanted) {
  if (Status s = validate_geometry(wanted); !s) return s;
  auto listing = fs.list_dir(dir);
  if (!listing) return listing.error();
  std::vector<std::string> names;
  for (const std::string& n : *listing) {
    if (is_segment_name(n)) names.push_back(n);
  }
  if (names.empty()) return create_all(fs, dir, wanted);

  std::vector<std::unique_ptr<FileHandle>> files;
  std::optional<WalGeometry> geometry;
  Status damaged;
  AlignedBuffer page(kWalHeaderPageSize);
  for (std::uint32_t i = 0; damaged && (!geometry || i < geometry->segment_count); ++i) {
    auto file = fs.open(join(dir, wal_segment_name(i)), direct_options(false));
    if (!file) {
      damaged = file.error().is_not_found()
                    ? Status::corruption(wal_segment_name(i) + " is missing")
                    : file.error();
      break;
    }
    if (Status s = read_zero_filled(**file, 0, page.span()); !s) return s;
    auto g = decode_wal_header({reinterpret_cast<const char*>(page.data()), page.size()}, i);
    if (!g) {
      damaged = g.error();
    } else if (geometry && (g->segment_count != geometry->segment_count ||
                            g->segment_size != geometry->segment_size ||
                            g->wal_id != geometry->wal_id)) {
      damaged = Status::corruption(wal_segment_name(i) + " belongs to another wal");
    } else {
      geometry = *g;
      files.push_back(std::move(*file));
    }
  }
  if (damaged.is_ok()) return WalSegments(*geometry, std::move(files));
  if (damaged.code() == StatusCode::kNotSupported) return damaged;
  files.clear();
  auto empty = holds_no_records(fs, dir, names);
  if (!empty) return empty.error();
  if (!*empty) return damaged;
  for (const std::string& n : names) {  // an interrupted creation: start over
    if (Status s = fs.remove(join(dir, n)); !s) return s;
  }
  return create_all(fs, dir, wanted);
}

Status WalSegments::read(std::uint32_t segment, std::uint64_t offset,
                         std::span<std::byte> buffer) {
  return read_zero_filled(*files_[segment], offset, buffer);
}

Status WalSegments::write(std::uint32_t segment, std::uint64_t offset,
                          std::span<const std::byte> pages) {
  return files_[segment]->write_at(offset, pages);
}

Status WalSegments::write_buffered(std::uint32_t segment, std::uint64_t offset,
                                   std::span<const std::byte> pages) {
  return files_[segment]->write_buffered_at(offset, pages);
}

Status WalSegments::sync(std::uint32_t segment) { return files_[segment]->sync(); }

Status WalSegments::write_durable(std::uint32_t segment, std::uint64_t offset,
                                  std::span<const std::byte> pages) {
  return files_[segment]->write_durable_at(offset, pages);
}

Status WalSegments::close() {
  Status first;
  for (auto& f : files_) {
    if (Status s = f->close(); !s && first) first = s;
  }
  files_.clear();
  return first;
}

}  // namespace cascade::engine
