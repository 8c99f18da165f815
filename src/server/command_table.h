// The command table: every command cascade answers, declared once as data. The dispatcher
// (lookup, arity, authentication), COMMAND INFO/DOCS/LIST/COUNT and CLIENT LIST's cmd=
// field read only this table, so what a client is told about a command is what runs.
//
// A CommandSpec carries Redis's facts about the command (arity, flags, key positions, ACL
// categories, group, since, tips: the same values Redis 7.0 reports, since clients and
// cluster proxies act on them) and cascade's own words (summary, complexity).
//
// Conventions, as in Redis:
//   - names are lower case; a subcommand's name is "container|sub" ("client|list");
//   - arity counts the command name: N means exactly N arguments, -N at least N;
//   - first_key/last_key/key_step are 1-based argument positions, last_key -1 means the
//     last argument, 0/0/0 means the command has no keys;
//   - a container (CLIENT, CONFIG, COMMAND) has subcommands; it has a handler of its own
//     exactly when it may be called without a subcommand (arity -1: COMMAND alone).
// ACL categories: `categories` lists the declared ones (@connection, @string, @dangerous
// ...); acl_categories() adds those the flags imply (@write, @read, @admin and @dangerous,
// @fast or else @slow, @blocking, @pubsub), as Redis derives them.
//
// Lookup is case-insensitive and allocation-free: an open-addressing hash of the lower-cased
// name, compared case-insensitively. The table is immutable after construction and may be
// read from every shard thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace cascade::commands {
struct KeyCall;
struct KeyReply;
struct KeyTarget;
}  // namespace cascade::commands

namespace cascade::server {

struct CommandContext;
using CommandHandler = void (*)(CommandContext&);
// The whole work of a single-key command (its key is args[1]) on the shard owning the key,
// returning the reply to carry back (src/commands/key_command.h). A command that declares
// one can run in a pipeline's key batch (src/commands/key_batch.h).
using KeyHandler = commands::KeyReply (*)(commands::KeyTarget&, const commands::KeyCall&);
// For a command with a KeyHandler: true when these arguments make a plain overwrite of
// args[1] with the string args[2], no expiry, no condition, no reply but OK (SET key value),
// so a run of them on one shard can share one engine write (Keyspace::put_strings).
using PlainOverwrite = bool (*)(std::span<const std::string_view> args);

// Command flags. Bit order is the order COMMAND INFO lists them in (Redis's order).
enum CommandFlag : std::uint32_t {
  kCmdWrite = 1u << 0,
  kCmdReadonly = 1u << 1,
  kCmdDenyoom = 1u << 2,
  kCmdAdmin = 1u << 3,
  kCmdPubsub = 1u << 4,
  kCmdNoscript = 1u << 5,
  kCmdBlocking = 1u << 6,
  kCmdLoading = 1u << 7,
  kCmdStale = 1u << 8,
  kCmdSkipMonitor = 1u << 9,
  kCmdSkipSlowlog = 1u << 10,
  kCmdAsking = 1u << 11,
  kCmdFast = 1u << 12,
  kCmdNoAuth = 1u << 13,
  kCmdMayReplicate = 1u << 14,
  kCmdNoMandatoryKeys = 1u << 15,
  kCmdNoMulti = 1u << 16,
  kCmdAllowBusy = 1u << 17,
  kCmdMovableKeys = 1u << 18,
};
inline constexpr std::size_t kCommandFlagCount = 19;
std::string_view command_flag_name(std::size_t bit);

// ACL categories, in the order Redis lists them.
enum AclCategory : std::uint32_t {
  kAclKeyspace = 1u << 0,
  kAclRead = 1u << 1,
  kAclWrite = 1u << 2,
  kAclSet = 1u << 3,
  kAclSortedSet = 1u << 4,
  kAclList = 1u << 5,
  kAclHash = 1u << 6,
  kAclString = 1u << 7,
  kAclBitmap = 1u << 8,
  kAclHyperLogLog = 1u << 9,
  kAclGeo = 1u << 10,
  kAclStream = 1u << 11,
  kAclPubsub = 1u << 12,
  kAclAdmin = 1u << 13,
  kAclFast = 1u << 14,
  kAclSlow = 1u << 15,
  kAclBlocking = 1u << 16,
  kAclDangerous = 1u << 17,
  kAclConnection = 1u << 18,
  kAclTransaction = 1u << 19,
  kAclScripting = 1u << 20,
};
inline constexpr std::size_t kAclCategoryCount = 21;
std::string_view acl_category_name(std::size_t bit);  // without the "@"

// Key-spec flags (COMMAND INFO's key specifications), in Redis's order.
enum KeySpecFlag : std::uint32_t {
  kKeyRO = 1u << 0,
  kKeyRW = 1u << 1,
  kKeyOW = 1u << 2,
  kKeyRM = 1u << 3,
  kKeyAccess = 1u << 4,
  kKeyUpdate = 1u << 5,
  kKeyInsert = 1u << 6,
  kKeyDelete = 1u << 7,
  kKeyNotKey = 1u << 8,
  kKeyIncomplete = 1u << 9,
  kKeyVariableFlags = 1u << 10,
};
inline constexpr std::size_t kKeySpecFlagCount = 11;
std::string_view key_spec_flag_name(std::size_t bit);

// One key specification (Redis's begin_search "index" with one of two find_keys kinds):
//   kRange   keys start at argument begin_index and run to last_key (relative to
//            begin_index; negative counts from the end, -1 = the last argument) every
//            key_step arguments;
//   kKeynum  argument begin_index + keynum_index holds the number of keys, which start at
//            begin_index + first_key, every key_step arguments (ZUNION's numkeys).
enum class FindKeys : std::uint8_t { kRange, kKeynum };
struct KeySpec {
  std::uint32_t flags = 0;
  int begin_index = 1;
  int last_key = 0;
  int key_step = 1;
  int limit = 0;
  FindKeys find = FindKeys::kRange;
  int keynum_index = 0;
  int first_key = 1;
};

// The key arguments a command line names per its key specs, in spec order (COMMAND
// GETKEYS); `args` starts with the command name. False when the line does not hold the
// keys its specs promise (a key count that is not a number, below 1, or runs past the
// end), as Redis refuses it.
bool keys_from_specs(std::span<const KeySpec> specs, std::span<const std::string_view> args,
                     std::vector<std::string_view>& keys);

struct CommandSpec {
  std::string_view name = {};
  int arity = 0;
  std::uint32_t flags = 0;
  std::uint32_t categories = 0;  // declared; see acl_categories()
  int first_key = 0;
  int last_key = 0;
  int key_step = 0;
  std::string_view group = {};
  std::string_view since = {};
  std::string_view summary = {};
  std::string_view complexity = {};
  std::span<const std::string_view> tips = {};
  std::span<const KeySpec> key_specs = {};
  std::span<const CommandSpec> subcommands = {};
  CommandHandler handler = nullptr;
  KeyHandler key_handler = nullptr;
  PlainOverwrite plain_overwrite = nullptr;
};

// Declared categories plus the ones the flags imply.
std::uint32_t acl_categories(const CommandSpec& spec);
// The part after "container|", or the whole name.
std::string_view subcommand_name(const CommandSpec& spec);
// Does an arity admit this many arguments (the name included)?
inline bool arity_accepts(int arity, std::size_t argc) {
  return arity >= 0 ? argc == static_cast<std::size_t>(arity)
                    : argc >= static_cast<std::size_t>(-arity);
}
// Case-insensitive ASCII equality, no allocation.
bool equals_ignore_case(std::string_view a, std::string_view b);

class CommandTable {
 public:
  // Indexes the given top-level commands (their subcommands come along). Names must be
  // unique; validate() says whether the declarations are well formed.
  explicit CommandTable(std::vector<const CommandSpec*> commands);

  // The top-level command named `name` in any case, or nullptr.
  const CommandSpec* find(std::string_view name) const;
  // A container's subcommand named `name` in any case, or nullptr.
  static const CommandSpec* find_subcommand(const CommandSpec& container, std::string_view name);
  // "name" or "container|sub", in any case, or nullptr (COMMAND INFO/DOCS accept both).
  const CommandSpec* find_full_name(std::string_view full_name) const;

  // Every top-level command, sorted by name.
  std::span<const CommandSpec* const> commands() const { return sorted_; }
  std::size_t size() const { return sorted_.size(); }

  // Empty when every declaration follows the conventions above; else one line per problem.
  std::vector<std::string> validate() const;

 private:
  std::vector<const CommandSpec*> sorted_;
  std::vector<const CommandSpec*> slots_;  // open addressing, power-of-two size
  std::size_t max_name_length_ = 0;
};

}  // namespace cascade::server
