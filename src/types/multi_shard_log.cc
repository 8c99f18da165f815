// See multi_shard_log.h. Decision record value (integers little-endian):
//   format u8 (1) | coordinator fixed32 | txid fixed64 | part count varint32 |
//   part * count, each: shard fixed32 | batch length varint64 | batch bytes
#include "src/types/multi_shard_log.h"

#include "engine/format/coding.h"

namespace cascade::types {
namespace {

void put_big_endian(std::string& out, std::uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>(v >> (8 * i)));
}

std::string internal_prefix(std::uint8_t space) {
  std::string key;
  put_big_endian(key, kInternalDb, 4);
  key.push_back(static_cast<char>(space));
  return key;
}

}  // namespace

std::string decision_prefix() { return internal_prefix(kDecisionSpace); }
std::string applied_marker_prefix() { return internal_prefix(kAppliedMarkerSpace); }

std::string decision_key(std::uint64_t txid) {
  std::string key = decision_prefix();
  put_big_endian(key, txid, 8);
  return key;
}

std::string applied_marker_key(std::uint32_t coordinator, std::uint64_t txid) {
  std::string key = applied_marker_prefix();
  put_big_endian(key, coordinator, 4);
  put_big_endian(key, txid, 8);
  return key;
}

Result<std::uint64_t> marker_txid(std::string_view key) {
  const std::string prefix = applied_marker_prefix();
  if (key.size() != prefix.size() + 12 || !key.starts_with(prefix)) {
    return Status::corruption("not an applied-marker key");
  }
  std::uint64_t txid = 0;
  for (char c : key.substr(prefix.size() + 4)) txid = (txid << 8) | static_cast<unsigned char>(c);
  return txid;
}

std::string encode_decision(const Decision& decision) {
  std::string out;
  out.push_back(static_cast<char>(kDecisionFormat));
  engine::put_fixed32(out, decision.coordinator);
  engine::put_fixed64(out, decision.txid);
  engine::put_varint32(out, static_cast<std::uint32_t>(decision.parts.size()));
  for (const ShardPart& part : decision.parts) {
    engine::put_fixed32(out, part.shard);
    engine::put_length_prefixed(out, part.batch);
  }
  return out;
}

Result<Decision> decode_decision(std::string_view in) {
  if (in.empty()) return Status::corruption("empty decision record");
  if (static_cast<std::uint8_t>(in[0]) != kDecisionFormat) {
    return Status::corruption("decision record of unknown format " +
                              std::to_string(static_cast<unsigned char>(in[0])));
  }
  in.remove_prefix(1);
  Decision d;
  std::uint32_t count = 0;
  if (!engine::get_fixed32(in, d.coordinator) || !engine::get_fixed64(in, d.txid) ||
      !engine::get_varint32(in, count)) {
    return Status::corruption("truncated decision record header");
  }
  for (std::uint32_t i = 0; i < count; ++i) {
    ShardPart part;
    std::string_view batch;
    if (!engine::get_fixed32(in, part.shard) || !engine::get_length_prefixed(in, batch)) {
      return Status::corruption("truncated decision record part");
    }
    part.batch = std::string(batch);
    d.parts.push_back(std::move(part));
  }
  if (!in.empty()) return Status::corruption("bytes after the decision record's parts");
  return d;
}

}  // namespace cascade::types
