// HSCAN and SSCAN (ZSCAN later): a cursor over one collection's members, in member order.
//
// The cursor is a decimal u64, as clients parse it: 0 starts, and 0 comes back when the
// scan is done. Otherwise it names the first member not yet visited:
//
//   bits 0..31   head     that member's first bytes (up to 4), first byte highest
//   bits 32..34  head_len how many head bytes are used
//   bits 35..50  token    a types::ScanPositions entry of the key's shard holding the whole
//                         member (1..4096, so a cursor that is not done is never 0)
//   bits 51..62  check    12 bits of a hash of the whole member
//
// A call resumes at the token's member when the entry still holds one with that head and
// hash, else (the ring reused the entry, or the server restarted) at head, which sorts at
// or before it. So a member present for the whole scan is always returned (possibly
// twice), whatever happens to the collection between calls; a new version of the key
// (DEL and re-create) is scanned from the same member on. The only way to miss one is a
// reused entry holding another member with the same head and the same 12-bit hash (after
// 4096 other scans on the shard between two calls of this one).
//
// COUNT members are examined per call (MATCH filters after that, as in Redis, so a call may
// return fewer, even none, with a cursor that is not 0). Errors as Redis 7.0 orders them:
// an invalid cursor before the key is looked at; the options after the type check (so a
// missing key answers an empty scan whatever the options).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "src/commands/key_command.h"
#include "src/types/collection.h"

namespace cascade::commands {

struct MemberScanOptions {
  std::string_view pattern;
  bool match = false;
  std::int64_t count = 10;
  std::string_view error;  // the option error to answer once the key is a collection
};

// The options from argument 3 on (after the key and the cursor).
MemberScanOptions parse_member_scan_options(const server::CommandContext& ctx);

struct MemberScanPage {
  std::vector<std::pair<std::string, std::string>> entries;  // member (field), value
  std::uint64_t next = 0;
};

// One call's page, on the collection's shard.
Result<MemberScanPage> scan_members(types::Collection& collection,
                                    types::ScanPositions& positions, std::uint32_t db,
                                    std::uint64_t cursor, const MemberScanOptions& options);

// [cursor, [member, (value,) ...]]
KeyReply member_scan_reply(MemberScanPage&& page, bool with_values);

// The reply for a missing key: cursor 0, no members.
KeyReply empty_member_scan();

}  // namespace cascade::commands
