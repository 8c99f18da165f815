// See command_table.h. The index is a power-of-two array of spec pointers probed linearly
// from an FNV-1a hash of the lower-cased name; it is at most half full, so a miss ends at
// an empty slot after a probe or two.
#include "src/server/command_table.h"

#include <algorithm>
#include <cassert>
#include <charconv>
#include <cstdint>

namespace cascade::server {
namespace {

constexpr std::string_view kFlagNames[kCommandFlagCount] = {
    "write",        "readonly", "denyoom",  "admin",         "pubsub",
    "noscript",     "blocking", "loading",  "stale",         "skip_monitor",
    "skip_slowlog", "asking",   "fast",     "no_auth",       "may_replicate",
    "no_mandatory_keys",        "no_multi", "allow_busy",    "movablekeys",
};

constexpr std::string_view kCategoryNames[kAclCategoryCount] = {
    "keyspace", "read",  "write",    "set",       "sortedset",  "list",        "hash",
    "string",   "bitmap", "hyperloglog", "geo",   "stream",     "pubsub",      "admin",
    "fast",     "slow",  "blocking", "dangerous", "connection", "transaction", "scripting",
};

constexpr std::string_view kKeySpecFlagNames[kKeySpecFlagCount] = {
    "RO", "RW", "OW", "RM", "access", "update", "insert", "delete",
    "not_key", "incomplete", "variable_flags",
};

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c; }

std::uint64_t hash_lowered(std::string_view s) {
  std::uint64_t h = 1469598103934665603ull;
  for (char c : s) {
    h ^= static_cast<unsigned char>(lower(c));
    h *= 1099511628211ull;
  }
  return h;
}

bool is_lower_name(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return lower(c) == c && c > ' ' && c <= '~';
  });
}

void validate_spec(const CommandSpec& spec, const CommandSpec* container,
                   std::vector<std::string>& problems) {
  const std::string name(spec.name);
  if (!is_lower_name(spec.name)) problems.push_back(name + ": name must be lower case");
  if (spec.arity == 0) problems.push_back(name + ": arity must not be 0");
  if (spec.group.empty() || spec.since.empty() || spec.summary.empty()) {
    problems.push_back(name + ": group, since and summary are required");
  }
  if (container != nullptr) {
    const std::string prefix = std::string(container->name) + "|";
    if (!spec.name.starts_with(prefix)) problems.push_back(name + ": must start with " + prefix);
    if (!spec.subcommands.empty()) problems.push_back(name + ": subcommands do not nest");
  }
  if (spec.subcommands.empty() && spec.handler == nullptr) {
    problems.push_back(name + ": a command without subcommands needs a handler");
  }
  if (!spec.subcommands.empty() && (spec.handler != nullptr) != (spec.arity == -1)) {
    problems.push_back(name + ": a container has a handler exactly when it may be called alone");
  }
  if ((spec.first_key == 0) != (spec.last_key == 0) || (spec.first_key != 0 && spec.key_step <= 0)) {
    problems.push_back(name + ": inconsistent key positions");
  }
  for (const CommandSpec& sub : spec.subcommands) validate_spec(sub, &spec, problems);
}

}  // namespace

std::string_view command_flag_name(std::size_t bit) { return kFlagNames[bit]; }
std::string_view acl_category_name(std::size_t bit) { return kCategoryNames[bit]; }
std::string_view key_spec_flag_name(std::size_t bit) { return kKeySpecFlagNames[bit]; }

std::uint32_t acl_categories(const CommandSpec& spec) {
  std::uint32_t c = spec.categories;
  if (spec.flags & kCmdWrite) c |= kAclWrite;
  if (spec.flags & kCmdReadonly) c |= kAclRead;
  if (spec.flags & kCmdAdmin) c |= kAclAdmin | kAclDangerous;
  if (spec.flags & kCmdPubsub) c |= kAclPubsub;
  if (spec.flags & kCmdBlocking) c |= kAclBlocking;
  c |= (spec.flags & kCmdFast) ? kAclFast : kAclSlow;
  return c;
}

std::string_view subcommand_name(const CommandSpec& spec) {
  const std::size_t bar = spec.name.find('|');
  return bar == std::string_view::npos ? spec.name : spec.name.substr(bar + 1);
}

bool equals_ignore_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

CommandTable::CommandTable(std::vector<const CommandSpec*> commands) : sorted_(std::move(commands)) {
  std::sort(sorted_.begin(), sorted_.end(),
            [](const CommandSpec* a, const CommandSpec* b) { return a->name < b->name; });
  std::size_t capacity = 16;
  while (capacity < sorted_.size() * 2) capacity *= 2;
  slots_.assign(capacity, nullptr);
  for (const CommandSpec* spec : sorted_) {
    max_name_length_ = std::max(max_name_length_, spec->name.size());
    std::size_t i = hash_lowered(spec->name) & (capacity - 1);
    while (slots_[i] != nullptr) {
      assert(slots_[i]->name != spec->name && "command declared twice");
      i = (i + 1) & (capacity - 1);
    }
    slots_[i] = spec;
  }
}

const CommandSpec* CommandTable::find(std::string_view name) const {
  if (name.size() > max_name_length_) return nullptr;
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t i = hash_lowered(name) & mask; slots_[i] != nullptr; i = (i + 1) & mask) {
    if (equals_ignore_case(slots_[i]->name, name)) return slots_[i];
  }
  return nullptr;
}

const CommandSpec* CommandTable::find_subcommand(const CommandSpec& container,
                                                 std::string_view name) {
  for (const CommandSpec& sub : container.subcommands) {
    if (equals_ignore_case(subcommand_name(sub), name)) return &sub;
  }
  return nullptr;
}

const CommandSpec* CommandTable::find_full_name(std::string_view full_name) const {
  const std::size_t bar = full_name.find('|');
  if (bar == std::string_view::npos) return find(full_name);
  const CommandSpec* container = find(full_name.substr(0, bar));
  if (container == nullptr) return nullptr;
  return find_subcommand(*container, full_name.substr(bar + 1));
}

std::vector<std::string> CommandTable::validate() const {
  std::vector<std::string> problems;
  for (std::size_t i = 0; i < sorted_.size(); ++i) {
    validate_spec(*sorted_[i], nullptr, problems);
    if (i > 0 && sorted_[i - 1]->name == sorted_[i]->name) {
      problems.push_back(std::string(sorted_[i]->name) + ": declared twice");
    }
  }
  return problems;
}

namespace {

// A Redis key count (string2l): an optional '-' and digits, nothing else.
bool parse_key_count(std::string_view text, long long& out) {
  const char* first = text.data();
  const char* last = first + text.size();
  auto [end, ec] = std::from_chars(first, last, out);
  return ec == std::errc() && end == last && !text.empty() && text.front() != '+';
}

}  // namespace

bool keys_from_specs(std::span<const KeySpec> specs, std::span<const std::string_view> args,
                     std::vector<std::string_view>& keys) {
  const long long argc = static_cast<long long>(args.size());
  for (const KeySpec& spec : specs) {
    const long long begin = spec.begin_index;
    if (begin >= argc) continue;  // an optional part of the line that is absent
    long long first = begin, last = 0, step = spec.key_step;
    if (spec.find == FindKeys::kKeynum) {
      const long long at = begin + spec.keynum_index;
      long long count = 0;
      if (at >= argc || !parse_key_count(args[static_cast<std::size_t>(at)], count)) return false;
      if (count < 1) return false;  // every keynum command cascade has needs a key
      first = begin + spec.first_key;
      last = first + (count - 1) * step;
    } else {
      last = spec.last_key >= 0 ? begin + spec.last_key : argc + spec.last_key;
    }
    if (last >= argc || step <= 0) return false;
    for (long long i = first; i <= last; i += step) keys.push_back(args[static_cast<std::size_t>(i)]);
  }
  return true;
}

}  // namespace cascade::server
