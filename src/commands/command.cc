// The COMMAND family: introspection of the command table (COMMAND, COUNT, INFO, DOCS,
// LIST, GETKEYS, HELP). Everything here reads the one CommandTable the dispatcher uses, so
// what clients are told is what runs; the reply shapes are in src/server/command_info.h.
//
// Counting follows Redis: COUNT counts top-level commands; LIST names subcommands too
// ("client|list"); INFO and DOCS accept either form of name.
#include <string>
#include <vector>

#include "src/commands/command_families.h"
#include "src/server/command_context.h"
#include "src/server/command_info.h"
#include "src/server/error_replies.h"
#include "src/server/glob_match.h"

namespace cascade::commands {
namespace {

using namespace cascade::server;

void command_all(CommandContext& ctx) {
  const CommandTable& table = ctx.server.commands();
  ctx.reply.array(table.size());
  for (const CommandSpec* spec : table.commands()) write_command_info(ctx.reply, *spec);
}

void command_count(CommandContext& ctx) {
  ctx.reply.integer(static_cast<std::int64_t>(ctx.server.commands().size()));
}

void command_info(CommandContext& ctx) {
  if (ctx.argc() == 2) {
    command_all(ctx);
    return;
  }
  ctx.reply.array(ctx.argc() - 2);
  for (std::size_t i = 2; i < ctx.argc(); ++i) {
    const CommandSpec* spec = ctx.server.commands().find_full_name(ctx.arg(i));
    if (spec == nullptr) {
      ctx.reply.null();
    } else {
      write_command_info(ctx.reply, *spec);
    }
  }
}

void command_docs(CommandContext& ctx) {
  const CommandTable& table = ctx.server.commands();
  std::vector<const CommandSpec*> found;
  if (ctx.argc() == 2) {
    found.assign(table.commands().begin(), table.commands().end());
  } else {
    for (std::size_t i = 2; i < ctx.argc(); ++i) {
      if (const CommandSpec* spec = table.find_full_name(ctx.arg(i))) found.push_back(spec);
    }
  }
  ctx.reply.map(found.size());
  for (const CommandSpec* spec : found) {
    ctx.reply.bulk(spec->name);
    write_command_docs(ctx.reply, *spec);
  }
}

// Whether a command passes COMMAND LIST's filter; `kind` and `value` are the FILTERBY
// arguments, or empty for no filter.
bool passes_filter(const CommandSpec& spec, std::string_view kind, std::string_view value) {
  if (kind.empty()) return true;
  if (equals_ignore_case(kind, "pattern")) return glob_match(value, spec.name, true);
  if (equals_ignore_case(kind, "aclcat")) {
    const std::uint32_t categories = acl_categories(spec);
    for (std::size_t bit = 0; bit < kAclCategoryCount; ++bit) {
      if ((categories & (1u << bit)) && equals_ignore_case(acl_category_name(bit), value)) return true;
    }
    return false;
  }
  return false;  // MODULE: cascade has no modules
}

void command_list(CommandContext& ctx) {
  std::string_view kind, value;
  if (ctx.argc() == 5 && equals_ignore_case(ctx.arg(2), "filterby") &&
      (equals_ignore_case(ctx.arg(3), "module") || equals_ignore_case(ctx.arg(3), "aclcat") ||
       equals_ignore_case(ctx.arg(3), "pattern"))) {
    kind = ctx.arg(3);
    value = ctx.arg(4);
  } else if (ctx.argc() != 2) {
    ctx.error(kErrSyntax);
    return;
  }
  std::vector<std::string_view> names;
  for (const CommandSpec* spec : ctx.server.commands().commands()) {
    if (passes_filter(*spec, kind, value)) names.push_back(spec->name);
    for (const CommandSpec& sub : spec->subcommands) {
      if (passes_filter(sub, kind, value)) names.push_back(sub.name);
    }
  }
  ctx.reply.array(names.size());
  for (std::string_view name : names) ctx.reply.bulk(name);
}

// COMMAND GETKEYS <command> <args...>: the key arguments per the command's key positions.
void command_getkeys(CommandContext& ctx) {
  const std::span<const std::string_view> target = ctx.args.subspan(2);
  const CommandSpec* spec = ctx.server.commands().find(target[0]);
  if (spec != nullptr && !spec->subcommands.empty() && target.size() >= 2) {
    spec = CommandTable::find_subcommand(*spec, target[1]);
  }
  if (spec == nullptr) {
    ctx.error(kErrInvalidCommandForKeys);
    return;
  }
  // A command whose keys move (ZUNION's numkeys) is read through its key specs; the others
  // through first/last/step, which their specs agree with.
  const bool by_specs = (spec->flags & kCmdMovableKeys) && !spec->key_specs.empty();
  if (spec->first_key == 0 && !by_specs) {
    ctx.error(kErrNoKeyArguments);
    return;
  }
  if (!arity_accepts(spec->arity, target.size())) {
    ctx.error(kErrInvalidArityForKeys);
    return;
  }
  std::vector<std::string_view> keys;
  if (by_specs) {
    if (!keys_from_specs(spec->key_specs, target, keys) || keys.empty()) {
      ctx.error(kErrInvalidArgumentsForKeys);
      return;
    }
  } else {
    const int argc = static_cast<int>(target.size());
    const int last = spec->last_key < 0 ? argc + spec->last_key : spec->last_key;
    for (int i = spec->first_key; i <= last && i < argc; i += spec->key_step) keys.push_back(target[i]);
  }
  ctx.reply.array(keys.size());
  for (std::string_view key : keys) ctx.reply.bulk(key);
}

constexpr std::string_view kHelp[] = {
    "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "(no subcommand)",
    "    Describes every command (as INFO does).",
    "COUNT",
    "    The number of commands.",
    "LIST [FILTERBY (MODULE <name>|ACLCAT <category>|PATTERN <pattern>)]",
    "    The names of the commands and subcommands, optionally filtered.",
    "INFO [<command-name> ...]",
    "    Arity, flags, key positions, ACL categories and tips of the named commands (all",
    "    when none is named).",
    "DOCS [<command-name> ...]",
    "    Summary, version, group and complexity of the named commands (all when none is",
    "    named).",
    "GETKEYS <full-command>",
    "    The key arguments of a complete command line.",
    "HELP",
    "    Prints this help.",
};

void command_help(CommandContext& ctx) {
  ctx.reply.array(std::size(kHelp));
  for (std::string_view line : kHelp) ctx.reply.simple_string(line);
}

constexpr std::uint32_t kFlags = kCmdLoading | kCmdStale;
constexpr std::string_view kAnyOrder[] = {"nondeterministic_output_order"};

constexpr CommandSpec kSubcommands[] = {
    {.name = "command|count", .arity = 2, .flags = kFlags, .categories = kAclConnection,
     .group = "server", .since = "2.8.13", .summary = "Returns the number of commands",
     .complexity = "O(1)", .handler = command_count},
    {.name = "command|docs", .arity = -2, .flags = kFlags, .categories = kAclConnection,
     .group = "server", .since = "7.0.0",
     .summary = "Describes commands for people: summary, version, group, complexity",
     .complexity = "O(N) where N is the number of commands to look up", .tips = kAnyOrder,
     .handler = command_docs},
    {.name = "command|getkeys", .arity = -4, .flags = kFlags, .categories = kAclConnection,
     .group = "server", .since = "2.8.13",
     .summary = "Extracts the key arguments from a complete command line",
     .complexity = "O(N) where N is the number of arguments to the command",
     .handler = command_getkeys},
    {.name = "command|help", .arity = 2, .flags = kFlags, .categories = kAclConnection,
     .group = "server", .since = "5.0.0", .summary = "Describes the COMMAND subcommands",
     .complexity = "O(1)", .handler = command_help},
    {.name = "command|info", .arity = -2, .flags = kFlags, .categories = kAclConnection,
     .group = "server", .since = "2.8.13",
     .summary = "Describes commands for programs: arity, flags, keys, categories",
     .complexity = "O(N) where N is the number of commands to look up", .tips = kAnyOrder,
     .handler = command_info},
    {.name = "command|list", .arity = -2, .flags = kFlags, .categories = kAclConnection,
     .group = "server", .since = "7.0.0", .summary = "Lists the command names, optionally filtered",
     .complexity = "O(N) where N is the total number of commands", .tips = kAnyOrder,
     .handler = command_list},
};

constexpr CommandSpec kCommands[] = {
    {.name = "command", .arity = -1, .flags = kFlags, .categories = kAclConnection,
     .group = "server", .since = "2.8.13", .summary = "Describes every command the server knows",
     .complexity = "O(N) where N is the total number of commands", .tips = kAnyOrder,
     .subcommands = kSubcommands, .handler = command_all},
};

}  // namespace

std::span<const CommandSpec> command_commands() { return kCommands; }

}  // namespace cascade::commands
