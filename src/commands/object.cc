// OBJECT: introspection of a key's value. ENCODING names the representation Redis would
// use for the value, so tools that look at it see Redis's names: for a string, "int" when
// it is the canonical text of a 64-bit integer of at most 20 characters, "embstr" up to 44
// bytes, "raw" beyond; and, as Redis, "raw" whatever its content once it was modified in
// place (APPEND to an existing value, SETRANGE, SETBIT, BITFIELD's writes, BITOP's
// destination: the record's flag, types/key_record.h), until a command writes a new value.
// Collections are named by Redis 7.0's rules at its default thresholds, from their content
// now: a hash of at most 512 fields or a sorted set of at most 128 members, each (and for
// a hash each value) at most 64 bytes, is a "listpack", else "hashtable" / "skiplist" (the
// thresholds are redis-server's built-in defaults, not its sample redis.conf's); a set of at most 512
// canonical 64-bit integers is an "intset", else "hashtable"; a list is a "quicklist". (Redis
// never converts back to the small encoding when a collection shrinks; cascade does.) Only
// a collection under those counts is scanned, and at most that many members.
// REFCOUNT answers as Redis does without eviction: Redis shares the integers 0..9999
// between keys, so their count is INT_MAX; every other value has one reference.
// IDLETIME: cascade tracks no access times, so every key reads as just used (0 seconds).
// FREQ: cascade has no LFU eviction policy, so it answers Redis's error for that case.
// A missing key is a null reply for every subcommand, before any other check (Redis's order).
#include <climits>

#include "resp/decimal.h"
#include "src/commands/collection_access.h"
#include "src/commands/command_families.h"
#include "src/commands/key_command.h"

namespace cascade::commands {
namespace {

using namespace cascade::server;

constexpr std::size_t kEmbstrLimit = 44;
constexpr std::int64_t kSharedIntegers = 10000;

bool integer_encoded(std::string_view value, std::int64_t& v) {
  return value.size() <= 20 && resp::parse_int64(value, &v);
}

std::string_view string_encoding(std::string_view value, bool raw_string) {
  if (raw_string) return "raw";
  std::int64_t v = 0;
  if (integer_encoded(value, v)) return "int";
  return value.size() <= kEmbstrLimit ? "embstr" : "raw";
}

constexpr std::uint64_t kHashListpackEntries = 512;  // hash-max-listpack-entries
constexpr std::uint64_t kZSetListpackEntries = 128;  // zset-max-listpack-entries
constexpr std::size_t kListpackValue = 64;        // hash- and zset-max-listpack-value
constexpr std::uint64_t kIntsetEntries = 512;     // set-max-intset-entries

KeyReply collection_encoding(KeyTarget& t, types::KeyType type) {
  if (type == types::KeyType::kList) return KeyReply::bulk("quicklist");
  CollectionRead r(t, type);
  if (!r.ok()) return std::move(r.failure);
  if (!r.exists()) return KeyReply::null();
  const bool is_set = type == types::KeyType::kSet;
  const std::string big = type == types::KeyType::kZSet ? "skiplist" : "hashtable";
  const std::string small = is_set ? "intset" : "listpack";
  types::Collection& c = r.coll();
  const std::uint64_t limit = is_set                            ? kIntsetEntries
                              : type == types::KeyType::kHash ? kHashListpackEntries
                                                              : kZSetListpackEntries;
  if (c.size() > limit) return KeyReply::bulk(big);
  const std::size_t skip = c.prefix().size();
  types::StagedWrites::Cursor cursor =
      type == types::KeyType::kZSet ? c.cursor(std::string_view(&types::kZSetMemberTag, 1))
                                    : c.cursor();
  for (cursor.seek_to_first(); cursor.valid(); cursor.next()) {
    std::string_view member = cursor.key().substr(skip);
    if (type == types::KeyType::kZSet) member.remove_prefix(1);
    std::int64_t v = 0;
    char digits[resp::kMaxInt64Chars];
    const bool fits =
        is_set ? resp::parse_int64(member, &v) &&
                     std::string_view(digits, resp::format_int64(v, digits)) == member
               : member.size() <= kListpackValue &&
                     (type != types::KeyType::kHash || cursor.value().size() <= kListpackValue);
    if (!fits) return KeyReply::bulk(big);
  }
  if (!cursor.status()) return r.storage_error(cursor.status());
  return KeyReply::bulk(small);
}

enum class Question : std::uint8_t { kEncoding, kRefcount, kIdletime, kFreq };

void object_generic(CommandContext& ctx, Question question) {
  run_key_command(ctx, ctx.arg(2), [question](KeyTarget& t) {
    auto record = t.read();
    if (!record) return storage_failure(t, record.error());
    if (!*record) return KeyReply::null();
    const types::KeyType type = (*record)->type;
    if (type != types::KeyType::kString) {
      if (question == Question::kEncoding) return collection_encoding(t, type);
      if (question == Question::kRefcount) return KeyReply::number(1);
    }
    const std::string_view value = (*record)->payload();
    const bool raw = (*record)->raw_string;
    std::int64_t v = 0;
    switch (question) {
      case Question::kEncoding: return KeyReply::bulk(std::string(string_encoding(value, raw)));
      case Question::kRefcount:
        return KeyReply::number(!raw && integer_encoded(value, v) && v >= 0 &&
                                        v < kSharedIntegers
                                    ? INT_MAX
                                    : 1);
      case Question::kIdletime: return KeyReply::number(0);
      case Question::kFreq: return KeyReply::error(kErrNoLfu);
    }
    return KeyReply::null();
  });
}

void object_encoding(CommandContext& ctx) { object_generic(ctx, Question::kEncoding); }
void object_refcount(CommandContext& ctx) { object_generic(ctx, Question::kRefcount); }
void object_idletime(CommandContext& ctx) { object_generic(ctx, Question::kIdletime); }
void object_freq(CommandContext& ctx) { object_generic(ctx, Question::kFreq); }

constexpr std::string_view kHelp[] = {
    "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "ENCODING <key>",
    "    Names the representation of the key's value, as Redis would.",
    "FREQ <key>",
    "    The key's access frequency; needs an LFU maxmemory policy, which cascade lacks.",
    "IDLETIME <key>",
    "    Seconds since the key was last used (always 0: access times are not tracked).",
    "REFCOUNT <key>",
    "    How many references the key's value has.",
    "HELP",
    "    Prints this help.",
};

void object_help(CommandContext& ctx) {
  ctx.reply.array(std::size(kHelp));
  for (std::string_view line : kHelp) ctx.reply.simple_string(line);
}

constexpr KeySpec kReadKey[] = {{.flags = kKeyRO, .begin_index = 2}};
constexpr std::string_view kTips[] = {"nondeterministic_output"};

constexpr CommandSpec object_sub(std::string_view name, std::string_view since,
                                 std::string_view summary, CommandHandler handler) {
  return {.name = name, .arity = 3, .flags = kCmdReadonly, .categories = kAclKeyspace,
          .first_key = 2, .last_key = 2, .key_step = 1, .group = "generic", .since = since,
          .summary = summary, .complexity = "O(1)", .tips = kTips, .key_specs = kReadKey,
          .handler = handler};
}

constexpr CommandSpec kSubcommands[] = {
    object_sub("object|encoding", "2.2.3", "Names the internal representation of a value",
               object_encoding),
    object_sub("object|freq", "4.0.0", "Returns a key's access frequency (LFU policies only)",
               object_freq),
    {.name = "object|help", .arity = 2, .flags = kCmdLoading | kCmdStale,
     .categories = kAclKeyspace, .group = "generic", .since = "6.2.0",
     .summary = "Describes the OBJECT subcommands", .complexity = "O(1)",
     .handler = object_help},
    object_sub("object|idletime", "2.2.3", "Returns the seconds since a key was last used",
               object_idletime),
    object_sub("object|refcount", "2.2.3", "Returns how many references a value has",
               object_refcount),
};

constexpr CommandSpec kCommands[] = {
    {.name = "object", .arity = -2, .group = "generic", .since = "2.2.3",
     .summary = "Introspects the value stored at a key",
     .complexity = "Depends on subcommand.", .subcommands = kSubcommands},
};

}  // namespace

std::span<const CommandSpec> object_commands() { return kCommands; }

}  // namespace cascade::commands
