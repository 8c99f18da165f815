// See member_scan.h for the cursor's layout and its guarantee.
#include "src/commands/member_scan.h"

#include <functional>

#include "resp/decimal.h"
#include "src/server/glob_match.h"

namespace cascade::commands {

namespace {

using namespace cascade::server;

constexpr std::size_t kHeadBytes = 4;
constexpr int kHeadLenShift = 32;
constexpr int kTokenShift = 35;
constexpr int kCheckShift = 51;
constexpr std::uint64_t kCheckMask = 0xFFF;

std::uint64_t check_of(std::string_view member) {
  return std::hash<std::string_view>{}(member) & kCheckMask;
}

std::uint64_t encode_cursor(std::uint32_t token, std::string_view member) {
  const std::size_t head = std::min(member.size(), kHeadBytes);
  std::uint64_t bits = 0;
  for (std::size_t i = 0; i < kHeadBytes; ++i) {
    bits <<= 8;
    if (i < head) bits |= static_cast<std::uint8_t>(member[i]);
  }
  return bits | (std::uint64_t{head} << kHeadLenShift) |
         (std::uint64_t{token & 0xFFFF} << kTokenShift) | (check_of(member) << kCheckShift);
}

// Where a cursor resumes: the exact member when its entry is intact, else its head.
std::string resume_point(const types::ScanPositions& positions, std::uint32_t db,
                         std::uint64_t cursor) {
  const std::size_t length = std::min<std::size_t>((cursor >> kHeadLenShift) & 7, kHeadBytes);
  std::string head;
  for (std::size_t i = 0; i < length; ++i) {
    head.push_back(static_cast<char>(cursor >> (8 * (kHeadBytes - 1 - i))));
  }
  const auto token = static_cast<std::uint32_t>((cursor >> kTokenShift) & 0xFFFF);
  std::optional<std::string_view> exact = positions.recall(token, db, head);
  if (exact && check_of(*exact) == ((cursor >> kCheckShift) & kCheckMask)) {
    return std::string(*exact);
  }
  return head;
}

}  // namespace

MemberScanOptions parse_member_scan_options(const CommandContext& ctx) {
  MemberScanOptions options;
  for (std::size_t i = 3; i < ctx.argc(); i += 2) {
    const std::string_view name = ctx.arg(i);
    if (i + 1 >= ctx.argc()) {
      options.error = kErrSyntax;
    } else if (equals_ignore_case(name, "count")) {
      if (!resp::parse_int64(ctx.arg(i + 1), &options.count)) {
        options.error = kErrNotInteger;
      } else if (options.count < 1) {
        options.error = kErrSyntax;
      }
    } else if (equals_ignore_case(name, "match")) {
      options.pattern = ctx.arg(i + 1);
      options.match = options.pattern != "*";
    } else {
      options.error = kErrSyntax;
    }
    if (!options.error.empty()) break;
  }
  return options;
}

Result<MemberScanPage> scan_members(types::Collection& collection,
                                    types::ScanPositions& positions, std::uint32_t db,
                                    std::uint64_t cursor, const MemberScanOptions& options) {
  MemberScanPage page;
  const std::size_t skip = collection.prefix().size();
  types::StagedWrites::Cursor c = collection.cursor();
  if (cursor == 0) {
    c.seek_to_first();
  } else {
    c.seek(collection.member_key(resume_point(positions, db, cursor)));
  }
  for (std::int64_t examined = 0; c.valid() && examined < options.count; c.next(), ++examined) {
    const std::string_view member = c.key().substr(skip);
    if (options.match && !glob_match(options.pattern, member)) continue;
    page.entries.emplace_back(std::string(member), std::string(c.value()));
  }
  if (!c.status()) return c.status();
  if (c.valid()) {
    const std::string_view next = c.key().substr(skip);
    page.next = encode_cursor(positions.remember(db, next), next);
  }
  return page;
}

KeyReply member_scan_reply(MemberScanPage&& page, bool with_values) {
  std::vector<KeyReply> items;
  items.reserve(page.entries.size() * (with_values ? 2 : 1));
  for (auto& [member, value] : page.entries) {
    items.push_back(KeyReply::bulk(std::move(member)));
    if (with_values) items.push_back(KeyReply::bulk(std::move(value)));
  }
  std::vector<KeyReply> reply;
  reply.push_back(KeyReply::bulk(std::to_string(page.next)));
  reply.push_back(KeyReply::array(std::move(items)));
  return KeyReply::array(std::move(reply));
}

KeyReply empty_member_scan() {
  std::vector<KeyReply> reply;
  reply.push_back(KeyReply::bulk("0"));
  reply.push_back(KeyReply::array());
  return KeyReply::array(std::move(reply));
}

}  // namespace cascade::commands
