// The CONFIG family: GET (glob patterns over the directive table), SET (one or several
// directive/value pairs, all or nothing), RESETSTAT, REWRITE, HELP.
//
// The directives, their types, bounds and liveness are declared once in
// src/server/config.cc; this file only speaks the command's protocol, with Redis 7's error
// texts. SET checks every name first (unknown, repeated, not changeable while running),
// then applies every value to a copy of the configuration and commits the copy only if
// all of them parse (LiveConfig::update), so a failed SET changes nothing.
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "src/commands/command_families.h"
#include "src/server/command_context.h"
#include "src/server/error_replies.h"
#include "src/server/shard_storage.h"

namespace cascade::commands {
namespace {

using namespace cascade::server;

std::string set_failed_text(std::string_view name, std::string_view reason) {
  return "ERR CONFIG SET failed (possibly related to argument '" + std::string(name) + "') - " +
         std::string(reason);
}

void config_get(CommandContext& ctx) {
  const Config config = ctx.server.config().copy();
  std::vector<std::pair<std::string, std::string>> found;
  std::set<std::string> seen;
  for (std::size_t i = 2; i < ctx.argc(); ++i) {
    for (auto& entry : config.match(ctx.arg(i))) {
      if (seen.insert(entry.first).second) found.push_back(std::move(entry));
    }
  }
  ctx.reply.map(found.size());
  for (const auto& [name, value] : found) {
    ctx.reply.bulk(name);
    ctx.reply.bulk(value);
  }
}

// First pass of SET: the names alone. Writes the error and returns false on the first
// bad one.
bool check_set_names(CommandContext& ctx) {
  std::set<const Directive*> seen;
  for (std::size_t i = 2; i < ctx.argc(); i += 2) {
    const Directive* d = find_directive(ctx.arg(i));
    if (d == nullptr) {
      ctx.error("ERR Unknown option or number of arguments for CONFIG SET - '" +
                std::string(ctx.arg(i)) + "'");
      return false;
    }
    if (!seen.insert(d).second) {
      ctx.error(set_failed_text(ctx.arg(i), "duplicate parameter"));
      return false;
    }
    if (!d->live) {
      ctx.error(set_failed_text(ctx.arg(i), "can't set immutable config"));
      return false;
    }
  }
  return true;
}

void config_set(CommandContext& ctx) {
  if (ctx.argc() % 2 != 0) {
    ctx.error(kErrSyntax);
    return;
  }
  if (!check_set_names(ctx)) return;
  std::string_view failed_name;
  Status s = ctx.server.config().update([&ctx, &failed_name](Config& config) {
    for (std::size_t i = 2; i < ctx.argc(); i += 2) {
      Status one = config.set(ctx.arg(i), ctx.arg(i + 1), true);
      if (!one) {
        failed_name = ctx.arg(i);
        return one;
      }
    }
    return Status::ok();
  });
  if (!s) {
    ctx.error(set_failed_text(failed_name, s.message()));
    return;
  }
  ctx.server.apply_live_settings();
  // The storage directives belong to each shard's engine, which only its own shard may
  // touch. A SET that changes none of them still sends these: CONFIG SET is rare.
  // Without a runtime (connection unit tests) no engine runs: nothing to hand over.
  auto current = ctx.server.config().snapshot();
  if (ctx.server.has_runtime()) {
    (void)ctx.server.runtime().run_on_each([&ctx, &current]() {
      apply_live_storage_settings(ctx.server.this_shard(), *current);
      return Status::ok();
    });
  }
  ctx.reply.ok();
}

void config_resetstat(CommandContext& ctx) {
  (void)ctx.server.runtime().run_on_each([&ctx]() {
    ctx.server.this_shard().stats() = ShardStats{};
    return Status::ok();
  });
  ctx.reply.ok();
}

void config_rewrite(CommandContext& ctx) {
  const Config config = ctx.server.config().copy();
  if (config.file().empty()) {
    ctx.error(kErrNoConfigFile);
    return;
  }
  if (Status s = config.rewrite(config.file()); !s) {
    ctx.server.logger().warning("CONFIG REWRITE failed: {}", s.message());
    ctx.error("ERR Rewriting config file: " + s.message());
    return;
  }
  ctx.server.logger().notice("CONFIG REWRITE executed with success.");
  ctx.reply.ok();
}

constexpr std::string_view kHelp[] = {
    "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "GET <pattern> [<pattern> ...]",
    "    The directives whose names match a glob-style pattern, with their values.",
    "SET <directive> <value> [<directive> <value> ...]",
    "    Changes directives that may change while the server runs; all or none.",
    "RESETSTAT",
    "    Zeroes the counters INFO reports.",
    "REWRITE",
    "    Writes the running configuration back to the file the server started with.",
    "HELP",
    "    Prints this help.",
};

void config_help(CommandContext& ctx) {
  ctx.reply.array(std::size(kHelp));
  for (std::string_view line : kHelp) ctx.reply.simple_string(line);
}

constexpr std::uint32_t kAdminSub = kCmdAdmin | kCmdNoscript | kCmdLoading | kCmdStale;
constexpr std::string_view kSetTips[] = {"request_policy:all_nodes",
                                         "response_policy:all_succeeded"};

constexpr CommandSpec kSubcommands[] = {
    {.name = "config|get", .arity = -3, .flags = kAdminSub, .group = "server", .since = "2.0.0",
     .summary = "Returns the values of the directives matching glob patterns",
     .complexity = "O(N) when N is the number of configuration parameters provided",
     .handler = config_get},
    {.name = "config|help", .arity = 2, .flags = kCmdLoading | kCmdStale, .group = "server",
     .since = "5.0.0", .summary = "Describes the CONFIG subcommands", .complexity = "O(1)",
     .handler = config_help},
    {.name = "config|resetstat", .arity = 2, .flags = kAdminSub, .group = "server",
     .since = "2.0.0", .summary = "Zeroes the counters INFO reports", .complexity = "O(1)",
     .handler = config_resetstat},
    {.name = "config|rewrite", .arity = 2, .flags = kAdminSub, .group = "server",
     .since = "2.8.0", .summary = "Writes the running configuration to the configuration file",
     .complexity = "O(1)", .handler = config_rewrite},
    {.name = "config|set", .arity = -4, .flags = kAdminSub, .group = "server", .since = "2.0.0",
     .summary = "Changes directives while the server runs",
     .complexity = "O(N) when N is the number of configuration parameters provided",
     .tips = kSetTips, .handler = config_set},
};

constexpr CommandSpec kCommands[] = {
    {.name = "config", .arity = -2, .group = "server", .since = "2.0.0",
     .summary = "Reads and changes the server's configuration",
     .complexity = "Depends on subcommand.", .subcommands = kSubcommands},
};

}  // namespace

std::span<const CommandSpec> config_commands() { return kCommands; }

}  // namespace cascade::commands
