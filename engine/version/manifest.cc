// Manifest framing: the writer and the recovering reader. Layout and rules in manifest.h.
#include "engine/version/manifest.h"

#include <optional>

#include "engine/format/checksum.h"
#include "engine/format/coding.h"

namespace cascade::engine {

namespace {

std::span<const std::byte> as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

std::string encode_header(std::uint64_t file_number) {
  std::string h;
  put_fixed64(h, kManifestMagic);
  put_fixed32(h, kManifestFormatVersion);
  put_fixed32(h, checksum(h, file_number, 0));
  return h;
}

}  // namespace

Result<std::unique_ptr<ManifestWriter>> ManifestWriter::create(runtime::FileSystem& fs,
                                                               const std::string& path,
                                                               std::uint64_t file_number) {
  runtime::OpenOptions options;
  options.access = runtime::OpenOptions::Access::kWrite;
  options.create = true;
  options.exclusive = true;
  auto file = fs.open(path, options);
  if (!file) return file.error();
  std::unique_ptr<ManifestWriter> writer(new ManifestWriter(std::move(*file), file_number));
  if (Status s = writer->write(encode_header(file_number)); !s) return s;
  return writer;
}

Status ManifestWriter::write(std::string_view bytes) {
  if (!failed_.is_ok()) return failed_;
  Status s = file_->write_at(size_, as_bytes(bytes));
  if (!s) {
    failed_ = s;
    return s;
  }
  size_ += bytes.size();
  return Status::ok();
}

Status ManifestWriter::add_record(std::string_view payload) {
  if (payload.empty() || payload.size() > kMaxManifestRecord) {
    return Status::invalid_argument("manifest record of " + std::to_string(payload.size()) +
                                    " bytes");
  }
  std::string record(4, '\0');
  record.reserve(kManifestRecordHeaderSize + payload.size());
  put_fixed32(record, static_cast<std::uint32_t>(payload.size()));
  record.append(payload);
  store_fixed32(record.data(), checksum(std::string_view(record).substr(4), file_number_, size_));
  return write(record);
}

Status ManifestWriter::sync() {
  if (!failed_.is_ok()) return failed_;
  Status s = file_->sync();
  if (!s) failed_ = s;
  return s;
}

Status ManifestWriter::close() { return file_->close(); }

namespace {

// The payload of a valid record at `offset` of `data`, or nothing.
std::optional<std::string_view> record_at(std::string_view data, std::uint64_t offset,
                                          std::uint64_t file_number) {
  if (offset + kManifestRecordHeaderSize > data.size()) return std::nullopt;
  std::uint32_t stored = load_fixed32(data.data() + offset);
  std::uint32_t length = load_fixed32(data.data() + offset + 4);
  if (length == 0 || length > kMaxManifestRecord) return std::nullopt;
  if (offset + kManifestRecordHeaderSize + length > data.size()) return std::nullopt;
  if (checksum(data.substr(offset + 4, 4 + length), file_number, offset) != stored) {
    return std::nullopt;
  }
  return data.substr(offset + kManifestRecordHeaderSize, length);
}

Status check_header(std::string_view data, std::uint64_t file_number,
                    const std::string& path) {
  if (data.size() < kManifestHeaderSize) {
    return Status::corruption(path + ": manifest shorter than its header");
  }
  if (load_fixed64(data.data()) != kManifestMagic) {
    return Status::corruption(path + ": not a manifest (bad magic)");
  }
  if (load_fixed32(data.data() + 12) != checksum(data.substr(0, 12), file_number, 0)) {
    return Status::corruption(path + ": manifest header checksum mismatch");
  }
  std::uint32_t version = load_fixed32(data.data() + 8);
  if (version > kManifestFormatVersion) {
    return Status::not_supported(path + ": manifest format version " +
                                 std::to_string(version) + " is newer than this build's " +
                                 std::to_string(kManifestFormatVersion));
  }
  return Status::ok();
}

Result<std::string> read_whole_file(runtime::FileSystem& fs, const std::string& path) {
  auto file = fs.open(path, runtime::OpenOptions::read_only());
  if (!file) return file.error();
  auto size = (*file)->size();
  if (!size) return size.error();
  std::string data(*size, '\0');
  auto n = (*file)->read_at(0, {reinterpret_cast<std::byte*>(data.data()), data.size()});
  if (!n) return n.error();
  data.resize(*n);
  (void)(*file)->close();  // read-only: nothing to lose
  return data;
}

}  // namespace

Result<ManifestContents> read_manifest(runtime::FileSystem& fs, const std::string& path,
                                       std::uint64_t file_number) {
  auto data = read_whole_file(fs, path);
  if (!data) return data.error();
  std::string_view view(*data);
  if (Status s = check_header(view, file_number, path); !s) return s;

  ManifestContents contents;
  std::uint64_t offset = kManifestHeaderSize;
  while (offset < view.size()) {
    auto payload = record_at(view, offset, file_number);
    if (!payload) break;
    contents.records.emplace_back(*payload);
    offset += kManifestRecordHeaderSize + payload->size();
  }
  contents.valid_bytes = offset;
  contents.dropped_tail_bytes = view.size() - offset;
  // A bad record is a torn tail only if nothing valid follows it.
  for (std::uint64_t later = offset + 1; later < view.size(); ++later) {
    if (record_at(view, later, file_number)) {
      return Status::corruption(path + ": manifest record at offset " + std::to_string(offset) +
                                " is damaged but a valid record follows at offset " +
                                std::to_string(later));
    }
  }
  return contents;
}

}  // namespace cascade::engine
