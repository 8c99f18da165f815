#include "engine/recovery.h"

#include <algorithm>
#include <map>
#include <set>
#include <span>

#include "engine/version/file_names.h"
#include "engine/vlog/vlog_format.h"
#include "src/runtime/aligned_buffer.h"

namespace cascade::engine {

namespace {

// Reads the value-log records the WAL's pointers name, keeping each file open.
class LoggedValueReader {
 public:
  LoggedValueReader(runtime::FileSystem& fs, const std::string& dir) : fs_(fs), dir_(dir) {}

  enum class Outcome { kFound, kCut };

  // Appends the value `p` names to `out`: kFound; kCut if a crash cut the record off;
  // Corruption if it is damaged otherwise.
  Result<Outcome> read(const ValuePointer& p, std::string& out) {
    auto file = file_for(p.file_number);
    if (!file) return file.error();
    if (*file == nullptr) return Outcome::kCut;
    // The whole sectors around the record, for the cut test.
    const std::uint64_t start = p.offset / kSector * kSector;
    const std::uint64_t end = (p.offset + p.size + kSector - 1) / kSector * kSector;
    buffer_.resize(end - start);
    auto n = (*file)->read_at(start, std::as_writable_bytes(std::span(buffer_)));
    if (!n) return n.error();
    if (*n < p.offset + p.size - start) return Outcome::kCut;
    std::string_view sectors(buffer_.data(), *n);
    std::string_view bytes = sectors.substr(p.offset - start, p.size);
    auto record = decode_vlog_record(bytes, p.file_number, p.offset);
    if (!record) {
      if (has_zero_sector(sectors) ||
          first_sector_never_written(sectors, start, p.offset, p.size)) {
        return Outcome::kCut;
      }
      return record.error();
    }
    if (record->record_size != p.size) {
      return Status::corruption("wal replay: value pointer of " + std::to_string(p.size) +
                                " bytes names a record of " + std::to_string(record->record_size));
    }
    if (Status s = append_record_value(*record, out); !s) return s;
    return Outcome::kFound;
  }

  ~LoggedValueReader() {
    for (auto& [number, file] : files_) {
      if (file) (void)file->close();
    }
  }

 private:
  // Null if the file does not exist.
  Result<runtime::FileHandle*> file_for(std::uint64_t number) {
    auto it = files_.find(number);
    if (it != files_.end()) return it->second.get();
    auto file =
        fs_.open(path_join(dir_, vlog_file_name(number)), runtime::OpenOptions::read_only());
    if (!file) {
      if (!file.error().is_not_found()) return file.error();
      files_.emplace(number, nullptr);
      return static_cast<runtime::FileHandle*>(nullptr);
    }
    return files_.emplace(number, std::move(*file)).first->second.get();
  }

  // Whether one of the sectors around a record (`sectors`, read from a sector boundary; the
  // last may end at the end of the file) reads as all zeros: a sector a crash never wrote.
  // Records are appended to a fresh, allocated file, so an unwritten sector holds zeros,
  // and a device writes a sector whole or not at all. Bit rot does not zero a whole
  // sector, and a record's stored value is compressed whenever a run of zeros would make
  // that pay.
  static bool has_zero_sector(std::string_view sectors) {
    for (std::size_t at = 0; at < sectors.size(); at += kSector) {
      if (sectors.substr(at, kSector).find_first_not_of('\0') == std::string_view::npos) {
        return true;
      }
    }
    return false;
  }

  // Whether the record's part of its first sector reads as zeros, all of it and at least
  // kHeadNeverZero bytes: what a dropped write leaves when the record begins inside a
  // sector that the previous record's bytes keep from being all zeros (the sector test
  // above misses it; seen: a 33-byte record at offset 4162 whose write a power loss
  // dropped, while the unsynced WAL group naming it landed). A record the engine writes
  // never begins so: its engine key is never empty, so the key size after the checksum and
  // the compression byte is at least 1. Damage that zeros exactly the record's part of a
  // sector, leaving the previous record's part intact, is not what bit rot does.
  static bool first_sector_never_written(std::string_view sectors, std::uint64_t start,
                                         std::uint64_t offset, std::uint64_t size) {
    const std::uint64_t in_sector = offset - start;  // sectors begin at `start`
    const std::uint64_t end = std::min(offset + size, (offset / kSector + 1) * kSector) - start;
    if (end - in_sector < kHeadNeverZero || end > sectors.size()) return false;
    const std::string_view part = sectors.substr(in_sector, end - in_sector);
    return part.find_first_not_of('\0') == std::string_view::npos;
  }

  static constexpr std::uint64_t kSector = 512;
  static constexpr std::size_t kHeadNeverZero = kVlogRecordChecksumSize + 2;

  runtime::FileSystem& fs_;
  const std::string& dir_;
  std::map<std::uint64_t, std::unique_ptr<runtime::FileHandle>> files_;
  std::string buffer_;
};

// Checks one batch against the replay rule and adds it to the memtable.
class Replayer {
 public:
  Replayer(SequenceNumber flushed, bool tolerant, MemTable& mem, LoggedValues& logged,
           runtime::FileSystem& fs, const std::string& dir)
      : next_(flushed + 1), tolerant_(tolerant), mem_(mem), logged_(logged), values_(fs, dir),
        last_(flushed), max_(flushed) {}

  Status replay(const WriteBatch& batch) {
    if (batch.count() == 0) return Status::ok();
    SequenceNumber first = batch.sequence();
    SequenceNumber last = first + batch.count() - 1;
    if (last < next_ && batches_ == 0 && cut_ == 0) return Status::ok();  // flushed already
    if (cut_ > 0) {  // after a missing value: never acknowledged
      ++cut_;
      max_ = std::max(max_, last);
      return Status::ok();
    }
    if (first != next_ && !(tolerant_ && first > next_)) return gap(first, last);
    status_ok_ = true;
    cut_here_ = false;
    read_error_ = Status::ok();
    // The batch's logged values, read before any of its records goes in: a batch is
    // replayed whole or not at all.
    std::vector<std::pair<SequenceNumber, ValuePointer>> pointers;
    std::vector<std::string> values;
    Status s = batch.for_each([&](const WriteBatchRecord& r) {
      if (r.type != ValueType::kValuePointer || !status_ok_) return;
      auto pointer = ValuePointer::decode(r.value);
      if (!pointer) {
        read_error_ = pointer.error();
        status_ok_ = false;
        return;
      }
      std::string value;
      auto outcome = values_.read(*pointer, value);
      if (!outcome && !tolerant_) {
        read_error_ = outcome.error();
        status_ok_ = false;
        return;
      }
      if (!outcome || *outcome == LoggedValueReader::Outcome::kCut) {
        cut_here_ = true;
        status_ok_ = false;
        return;
      }
      pointers.emplace_back(r.sequence, std::move(*pointer));
      values.push_back(std::move(value));
    });
    if (!s) return s;
    if (!read_error_.is_ok()) return read_error_;
    if (cut_here_) {
      cut_ = 1;
      max_ = std::max(max_, last);
      return Status::ok();
    }
    std::size_t i = 0;
    s = batch.for_each([&](const WriteBatchRecord& r) {
      if (r.type != ValueType::kValuePointer) {
        mem_.add(r.sequence, r.type, r.key, r.value);
        return;
      }
      const ValuePointer& p = pointers[i].second;
      note_file(p);
      mem_.add(r.sequence, ValueType::kValue, r.key, values[i]);
      logged_.pointers.push_back(std::move(pointers[i]));
      ++i;
    });
    if (!s) return s;
    next_ = last + 1;
    last_ = last;
    max_ = std::max(max_, last);
    ++batches_;
    return Status::ok();
  }

  SequenceNumber last() const { return last_; }
  SequenceNumber max() const { return max_; }
  std::uint64_t batches() const { return batches_; }
  std::uint64_t cut() const { return cut_; }

 private:
  Status gap(SequenceNumber first, SequenceNumber last) const {
    return Status::corruption("wal replay: batch with sequences [" + std::to_string(first) +
                              ", " + std::to_string(last) + "] where sequence " +
                              std::to_string(next_) + " was expected");
  }

  void note_file(const ValuePointer& p) {
    for (LoggedValues::RecoveredFile& f : logged_.recovered) {
      if (f.file_number == p.file_number) {
        f.data_end = std::max(f.data_end, p.offset + p.size);
        ++f.record_count;
        return;
      }
    }
    logged_.recovered.push_back({p.file_number, p.offset + p.size, 1});
  }

  SequenceNumber next_;
  bool tolerant_;
  MemTable& mem_;
  LoggedValues& logged_;
  LoggedValueReader values_;
  SequenceNumber last_;
  SequenceNumber max_;
  std::uint64_t batches_ = 0;
  std::uint64_t cut_ = 0;
  // Per batch, while its pointers are read.
  bool status_ok_ = true;
  bool cut_here_ = false;
  Status read_error_;
};

}  // namespace

Result<WalReplayResult> replay_wal(WalSegments& segments, SequenceNumber flushed_sequence,
                                   bool tolerant, MemTable& mem, LoggedValues& logged,
                                   runtime::FileSystem& fs, const std::string& dir) {
  Replayer replayer(flushed_sequence, tolerant, mem, logged, fs, dir);
  WalRecoveryOptions options;
  options.tolerant = tolerant;
  auto recovery = recover_wal(segments, options, [&](const WriteBatch& b, const WalPosition&) {
    return replayer.replay(b);
  });
  if (!recovery) return recovery.error();
  WalReplayResult result;
  result.wal = std::move(*recovery);
  result.last_sequence = replayer.last();
  result.max_sequence = replayer.max();
  result.batches_replayed = replayer.batches();
  result.batches_cut = replayer.cut();
  return result;
}

Result<std::uint64_t> delete_obsolete_files(runtime::FileSystem& fs, const std::string& dir,
                                            VersionSet& versions, const LoggedValues& logged) {
  auto listing = fs.list_dir(dir);
  if (!listing) return listing.error();
  std::set<std::string> keep;
  for (const LoggedValues::RecoveredFile& f : logged.recovered) {
    keep.insert(vlog_file_name(f.file_number));
  }
  std::set<std::string> doomed;
  for (const std::string& name : versions.obsolete_files(*listing)) {
    if (!keep.contains(name)) doomed.insert(name);
  }
  // Value-log files numbered past the manifest's last file number: appenders' files of
  // writes that were never acknowledged, or that a flush had left with nothing live.
  const std::set<std::uint64_t> live = versions.live_files();
  for (const std::string& name : *listing) {
    if (!name.ends_with(kVlogFileExtension) || keep.contains(name)) continue;
    if (auto n = parse_numbered_file(name); n && !live.contains(*n)) doomed.insert(name);
  }
  std::uint64_t deleted = 0;
  for (const std::string& name : doomed) {
    if (Status s = fs.remove(path_join(dir, name)); !s && !s.is_not_found()) return s;
    ++deleted;
  }
  return deleted;
}

}  // namespace cascade::engine
