// Encoding and decoding of VersionEdit; the layout is in version_edit.h and FORMAT.md.
#include "engine/version/version_edit.h"

#include <algorithm>

#include "engine/format/coding.h"

namespace cascade::engine {

namespace {

void put_field(std::string& dst, std::uint32_t tag, const std::string& body) {
  put_varint32(dst, tag);
  put_varint32(dst, static_cast<std::uint32_t>(body.size()));
  dst.append(body);
}

void put_u64_field(std::string& dst, std::uint32_t tag, std::uint64_t v) {
  std::string body;
  put_varint64(body, v);
  put_field(dst, tag, body);
}

std::string table_added_body(const TableAdded& t) {
  std::string b;
  put_varint32(b, static_cast<std::uint32_t>(t.level));
  put_varint64(b, t.file.file_number);
  put_varint64(b, t.file.file_size);
  put_varint64(b, t.file.smallest_sequence);
  put_varint64(b, t.file.largest_sequence);
  put_length_prefixed(b, t.file.smallest);
  put_length_prefixed(b, t.file.largest);
  return b;
}

bool get_level(std::string_view& in, int& level) {
  std::uint32_t v;
  if (!get_varint32(in, v) || v >= static_cast<std::uint32_t>(kNumLevels)) return false;
  level = static_cast<int>(v);
  return true;
}

bool decode_table_added(std::string_view in, TableAdded& t) {
  std::string_view smallest, largest;
  if (!get_level(in, t.level) || !get_varint64(in, t.file.file_number) ||
      !get_varint64(in, t.file.file_size) || !get_varint64(in, t.file.smallest_sequence) ||
      !get_varint64(in, t.file.largest_sequence) || !get_length_prefixed(in, smallest) ||
      !get_length_prefixed(in, largest) || !in.empty()) {
    return false;
  }
  // Keys must at least carry a trailer, or every later comparison would be out of bounds.
  if (smallest.size() < kTrailerSize || largest.size() < kTrailerSize) return false;
  t.file.smallest.assign(smallest);
  t.file.largest.assign(largest);
  return true;
}

// A user key for humans: printable ASCII as is, other bytes as \xNN.
std::string printable(std::string_view key) {
  static const char kHex[] = "0123456789abcdef";
  std::string out = "'";
  for (unsigned char c : key) {
    if (c >= 0x20 && c < 0x7f && c != '\\' && c != '\'') {
      out.push_back(static_cast<char>(c));
    } else {
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    }
  }
  return out + "'";
}

bool decode_u64(std::string_view in, std::uint64_t& v) {
  return get_varint64(in, v) && in.empty();
}

}  // namespace

void VersionEdit::encode_to(std::string& dst) const {
  if (next_file_number) put_u64_field(dst, kNextFileNumber, *next_file_number);
  if (last_sequence) put_u64_field(dst, kLastSequence, *last_sequence);
  if (flushed_sequence) put_u64_field(dst, kFlushedSequence, *flushed_sequence);
  if (shard) {
    std::string b;
    put_varint32(b, shard->shard_id);
    put_varint32(b, shard->shard_count);
    put_field(dst, kShard, b);
  }
  if (wal_layout) {
    std::string b;
    put_varint32(b, wal_layout->segment_count);
    put_varint64(b, wal_layout->segment_size);
    put_field(dst, kWalLayout, b);
  }
  for (std::uint64_t n : wal_segments_removed) put_u64_field(dst, kWalSegmentRemoved, n);
  for (std::uint64_t n : wal_segments_added) put_u64_field(dst, kWalSegmentAdded, n);
  for (const TableRemoved& t : tables_removed) {
    std::string b;
    put_varint32(b, static_cast<std::uint32_t>(t.level));
    put_varint64(b, t.file_number);
    put_field(dst, kTableRemoved, b);
  }
  for (const TableAdded& t : tables_added) {
    put_field(dst, kTableAdded, table_added_body(t));
    if (t.file.oldest_vlog != 0) {
      std::string b;
      put_varint64(b, t.file.file_number);
      put_varint64(b, t.file.oldest_vlog);
      put_field(dst, kTableOldestVlog, b);
    }
  }
  for (const VlogFile& v : vlogs_added) {
    std::string b;
    put_varint64(b, v.file_number);
    put_varint64(b, v.file_size);
    put_varint64(b, v.garbage_bytes);
    put_field(dst, kVlogAdded, b);
  }
  for (const VlogGarbage& g : vlog_garbage) {
    std::string b;
    put_varint64(b, g.file_number);
    put_varint64(b, g.more_garbage_bytes);
    put_field(dst, kVlogGarbage, b);
  }
  for (std::uint64_t n : vlogs_removed) put_u64_field(dst, kVlogRemoved, n);
}

namespace {

// Decodes one field's body into `edit`. False if the body is malformed.
bool decode_field(std::uint32_t tag, std::string_view body, VersionEdit& edit) {
  std::uint64_t n = 0;
  switch (tag) {
    case VersionEdit::kNextFileNumber:
      if (!decode_u64(body, n)) return false;
      edit.next_file_number = n;
      return true;
    case VersionEdit::kLastSequence:
      if (!decode_u64(body, n) || n > kMaxSequenceNumber) return false;
      edit.last_sequence = n;
      return true;
    case VersionEdit::kFlushedSequence:
      if (!decode_u64(body, n) || n > kMaxSequenceNumber) return false;
      edit.flushed_sequence = n;
      return true;
    case VersionEdit::kShard: {
      ShardIdentity s;
      if (!get_varint32(body, s.shard_id) || !get_varint32(body, s.shard_count) ||
          !body.empty()) {
        return false;
      }
      edit.shard = s;
      return true;
    }
    case VersionEdit::kWalLayout: {
      WalLayout w;
      if (!get_varint32(body, w.segment_count) || !get_varint64(body, w.segment_size) ||
          !body.empty()) {
        return false;
      }
      edit.wal_layout = w;
      return true;
    }
    case VersionEdit::kWalSegmentAdded:
      if (!decode_u64(body, n)) return false;
      edit.wal_segments_added.push_back(n);
      return true;
    case VersionEdit::kWalSegmentRemoved:
      if (!decode_u64(body, n)) return false;
      edit.wal_segments_removed.push_back(n);
      return true;
    case VersionEdit::kTableAdded: {
      TableAdded t;
      if (!decode_table_added(body, t)) return false;
      edit.tables_added.push_back(std::move(t));
      return true;
    }
    case VersionEdit::kTableRemoved: {
      TableRemoved t;
      if (!get_level(body, t.level) || !get_varint64(body, t.file_number) || !body.empty()) {
        return false;
      }
      edit.tables_removed.push_back(t);
      return true;
    }
    case VersionEdit::kVlogAdded: {
      VlogFile v;
      if (!get_varint64(body, v.file_number) || !get_varint64(body, v.file_size) ||
          !get_varint64(body, v.garbage_bytes) || !body.empty() ||
          v.garbage_bytes > v.file_size) {
        return false;
      }
      edit.vlogs_added.push_back(v);
      return true;
    }
    case VersionEdit::kVlogRemoved:
      if (!decode_u64(body, n)) return false;
      edit.vlogs_removed.push_back(n);
      return true;
    case VersionEdit::kVlogGarbage: {
      VlogGarbage g;
      if (!get_varint64(body, g.file_number) || !get_varint64(body, g.more_garbage_bytes) ||
          !body.empty()) {
        return false;
      }
      edit.vlog_garbage.push_back(g);
      return true;
    }
    default:
      return false;
  }
}

bool is_known_tag(std::uint32_t tag) {
  return (tag >= VersionEdit::kNextFileNumber && tag <= VersionEdit::kWalSegmentRemoved) ||
         (tag >= VersionEdit::kTableAdded && tag <= VersionEdit::kVlogGarbage) ||
         tag == VersionEdit::kTableOldestVlog;
}

}  // namespace

Status VersionEdit::decode_from(std::string_view src) {
  *this = VersionEdit();
  // Tag 4111 names a table of this edit, which may come later in the record.
  std::vector<std::pair<std::uint64_t, std::uint64_t>> oldest_vlogs;
  while (!src.empty()) {
    std::uint32_t tag;
    std::string_view body;
    if (!get_varint32(src, tag) || !get_length_prefixed(src, body)) {
      return Status::corruption("version edit: truncated field header");
    }
    if (!is_known_tag(tag)) {
      if (tag & kTagSafeToIgnore) continue;
      return Status::corruption("version edit: unknown field tag " + std::to_string(tag) +
                                " (written by a newer version?)");
    }
    if (tag == kTableOldestVlog) {
      std::uint64_t table = 0, vlog = 0;
      if (!get_varint64(body, table) || !get_varint64(body, vlog) || !body.empty() ||
          vlog == 0) {
        return Status::corruption("version edit: malformed field with tag " +
                                  std::to_string(tag));
      }
      oldest_vlogs.emplace_back(table, vlog);
      continue;
    }
    if (!decode_field(tag, body, *this)) {
      return Status::corruption("version edit: malformed field with tag " +
                                std::to_string(tag));
    }
  }
  for (const auto& [table, vlog] : oldest_vlogs) {
    const std::uint64_t number = table;
    auto it = std::find_if(tables_added.begin(), tables_added.end(),
                           [number](const TableAdded& t) { return t.file.file_number == number; });
    if (it == tables_added.end()) {
      return Status::corruption("version edit: oldest vlog given for table " +
                                std::to_string(table) + ", which the edit does not add");
    }
    it->file.oldest_vlog = vlog;
  }
  return Status::ok();
}

std::string VersionEdit::debug_string() const {
  std::string s = "{";
  auto num = [&](const char* name, std::uint64_t v) {
    s += " ";
    s += name;
    s += "=" + std::to_string(v);
  };
  if (next_file_number) num("next_file", *next_file_number);
  if (last_sequence) num("last_seq", *last_sequence);
  if (flushed_sequence) num("flushed_seq", *flushed_sequence);
  if (shard) s += " shard=" + std::to_string(shard->shard_id) + "/" +
                  std::to_string(shard->shard_count);
  if (wal_layout) s += " wal_layout=" + std::to_string(wal_layout->segment_count) + "x" +
                       std::to_string(wal_layout->segment_size);
  for (auto n : wal_segments_removed) num("-wal", n);
  for (auto n : wal_segments_added) num("+wal", n);
  for (const auto& t : tables_removed) {
    s += " -L" + std::to_string(t.level) + ":" + std::to_string(t.file_number);
  }
  for (const auto& t : tables_added) {
    s += " +L" + std::to_string(t.level) + ":" + std::to_string(t.file.file_number) + "(" +
         std::to_string(t.file.file_size) + "B seq " +
         std::to_string(t.file.smallest_sequence) + ".." +
         std::to_string(t.file.largest_sequence) + " " +
         printable(t.file.smallest_user_key()) + ".." + printable(t.file.largest_user_key()) +
         (t.file.oldest_vlog != 0 ? " vlog>=" + std::to_string(t.file.oldest_vlog) : "") + ")";
  }
  for (const auto& v : vlogs_added) {
    s += " +vlog:" + std::to_string(v.file_number) + "(" + std::to_string(v.file_size) +
         "B, " + std::to_string(v.garbage_bytes) + "B garbage)";
  }
  for (const auto& g : vlog_garbage) {
    s += " vlog:" + std::to_string(g.file_number) + "+" +
         std::to_string(g.more_garbage_bytes) + "B garbage";
  }
  for (auto n : vlogs_removed) num("-vlog", n);
  s += " }";
  return s;
}

}  // namespace cascade::engine
