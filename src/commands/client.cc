// The CLIENT family: the calling connection's identity and settings (ID, SETNAME, GETNAME,
// INFO, SETINFO, REPLY, NO-EVICT, NO-TOUCH), and the server's clients as a whole (LIST,
// KILL), which live on every shard: LIST and KILL fork to all shards with run_on_each and
// merge what each shard's registry holds.
//
// Client-side caching is not implemented yet: TRACKING OFF, TRACKINGINFO, GETREDIR and
// CACHING answer as Redis does for a client that never enabled tracking, and TRACKING ON
// fails with an error (accepting it without ever sending invalidations would let clients
// serve stale cached values). SETINFO and NO-TOUCH come from Redis 7.2: current client
// libraries send SETINFO on every connection.
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "resp/decimal.h"
#include "src/commands/command_families.h"
#include "src/server/client_info.h"
#include "src/server/command_context.h"
#include "src/server/connection.h"
#include "src/server/error_replies.h"

namespace cascade::commands {
namespace {

using namespace cascade::server;

std::string unknown_client_type_text(std::string_view type) {
  return "ERR Unknown client type '" + std::string(type) + "'";
}

// CLIENT LIST and CLIENT INFO send text: a bulk string, verbatim "txt" in RESP3.
void reply_text(CommandContext& ctx, std::string_view text) {
  if (ctx.reply.resp3()) {
    ctx.reply.verbatim(text);
  } else {
    ctx.reply.bulk(text);
  }
}

std::optional<bool> parse_on_off(std::string_view s, std::string_view on, std::string_view off) {
  if (equals_ignore_case(s, on)) return true;
  if (equals_ignore_case(s, off)) return false;
  return std::nullopt;
}

// ---- the calling connection ------------------------------------------------------------

void client_id(CommandContext& ctx) { ctx.reply.integer(static_cast<std::int64_t>(ctx.client.id)); }

void client_setname(CommandContext& ctx) {
  if (!is_valid_client_name(ctx.arg(2))) {
    ctx.error(kErrClientNameInvalid);
    return;
  }
  ctx.client.name = ctx.arg(2);
  ctx.reply.ok();
}

void client_getname(CommandContext& ctx) {
  if (ctx.client.name.empty()) {
    ctx.reply.null();
  } else {
    ctx.reply.bulk(ctx.client.name);
  }
}

void client_info(CommandContext& ctx) {
  reply_text(ctx, describe_client(ctx.connection, runtime::Clock::now()) + "\n");
}

void client_setinfo(CommandContext& ctx) {
  const std::string_view attr = ctx.arg(2);
  std::string* target = equals_ignore_case(attr, "lib-name")  ? &ctx.client.lib_name
                        : equals_ignore_case(attr, "lib-ver") ? &ctx.client.lib_ver
                                                              : nullptr;
  if (target == nullptr) {
    ctx.error("ERR Unrecognized option '" + std::string(attr) + "'");
    return;
  }
  if (!is_valid_client_name(ctx.arg(3))) {
    ctx.error("ERR " + std::string(attr) + " cannot contain spaces, newlines or special characters.");
    return;
  }
  *target = ctx.arg(3);
  ctx.reply.ok();
}

void client_reply(CommandContext& ctx) {
  const std::string_view mode = ctx.arg(2);
  if (equals_ignore_case(mode, "on")) {
    ctx.client.reply_mode = ReplyMode::kOn;
    ctx.reply.ok();
  } else if (equals_ignore_case(mode, "off")) {
    ctx.client.reply_mode = ReplyMode::kOff;
  } else if (equals_ignore_case(mode, "skip")) {
    if (ctx.client.reply_mode != ReplyMode::kOff) ctx.client.reply_mode = ReplyMode::kSkipNext;
  } else {
    ctx.error(kErrSyntax);
  }
}

void set_flag(CommandContext& ctx, bool ClientState::*flag) {
  std::optional<bool> on = parse_on_off(ctx.arg(2), "on", "off");
  if (!on) {
    ctx.error(kErrSyntax);
    return;
  }
  ctx.client.*flag = *on;
  ctx.reply.ok();
}
void client_no_evict(CommandContext& ctx) { set_flag(ctx, &ClientState::no_evict); }
void client_no_touch(CommandContext& ctx) { set_flag(ctx, &ClientState::no_touch); }

void client_tracking(CommandContext& ctx) {
  std::optional<bool> on = parse_on_off(ctx.arg(2), "on", "off");
  if (!on) {
    ctx.error(kErrSyntax);
  } else if (*on) {
    ctx.error(kErrTrackingUnsupported);
  } else {
    ctx.reply.ok();
  }
}

void client_trackinginfo(CommandContext& ctx) {
  ctx.reply.map(3);
  ctx.reply.bulk("flags");
  ctx.reply.set(1);
  ctx.reply.bulk("off");
  ctx.reply.bulk("redirect");
  ctx.reply.integer(-1);
  ctx.reply.bulk("prefixes");
  ctx.reply.array(0);
}

void client_getredir(CommandContext& ctx) { ctx.reply.integer(-1); }
void client_caching(CommandContext& ctx) { ctx.error(kErrCachingWithoutTracking); }

// ---- every shard's clients -------------------------------------------------------------

using ClientLines = std::vector<std::pair<std::uint64_t, std::string>>;

// Passes over every shard's clients until one sees no move between shards finish
// (ServerState::finished_moves): a client moving during a pass can be on neither shard
// when each is visited. Moves are rare (connection.h), so a second pass is too; the bound
// only keeps a storm of them from holding the command.
constexpr int kMaxClientPasses = 16;

std::string list_clients(ServerState& server, const ClientFilter& filter) {
  ClientLines all;
  for (int pass = 0; pass < kMaxClientPasses; ++pass) {
    const std::uint64_t moves_before = server.finished_moves();
    auto per_shard = server.runtime().run_on_each([&server, &filter]() {
      ClientLines lines;
      const runtime::TimePoint now = runtime::Clock::now();
      for (const auto& [id, connection] : server.this_shard().connections()) {
        if (filter.matches(*connection)) lines.emplace_back(id, describe_client(*connection, now));
      }
      return lines;
    });
    for (auto& shard_lines : per_shard) {
      if (!shard_lines) continue;
      for (auto& line : *shard_lines) all.push_back(std::move(line));
    }
    if (server.finished_moves() == moves_before) break;
  }
  // Stable: of a client listed twice (on both shards of a move, or by two passes), the
  // first line found stays.
  std::stable_sort(all.begin(), all.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string text;
  for (std::size_t i = 0; i < all.size(); ++i) {
    // A client moving between shards is briefly on both (connection.h): list it once.
    if (i > 0 && all[i].first == all[i - 1].first) continue;
    text += all[i].second + "\n";
  }
  return text;
}

std::size_t kill_clients(ServerState& server, const ClientFilter& filter) {
  std::vector<std::uint64_t> all;
  for (int pass = 0; pass < kMaxClientPasses; ++pass) {
    const std::uint64_t moves_before = server.finished_moves();
    auto per_shard = server.runtime().run_on_each([&server, &filter]() {
      std::vector<std::uint64_t> killed;
      for (const auto& [id, connection] : server.this_shard().connections()) {
        if (!filter.matches(*connection)) continue;
        connection->request_close();
        killed.push_back(id);
      }
      return killed;
    });
    for (auto& ids : per_shard) {
      if (ids) all.insert(all.end(), ids->begin(), ids->end());
    }
    if (server.finished_moves() == moves_before) break;
  }
  // A client moving between shards may be closed on both (connection.h), or by two
  // passes: count it once.
  std::sort(all.begin(), all.end());
  return static_cast<std::size_t>(std::unique(all.begin(), all.end()) - all.begin());
}

// CLIENT UNBLOCK <id> [TIMEOUT|ERROR]: a client blocked in a blocking command (on any
// shard) stops waiting, pops nothing and answers as at its timeout, or with the UNBLOCKED
// error. 1 if that client was blocked, else 0.
void client_unblock(CommandContext& ctx) {
  if (ctx.argc() > 4) {
    ctx.error("ERR unknown subcommand or wrong number of arguments for 'unblock'. Try CLIENT HELP.");
    return;
  }
  std::int64_t id = 0;
  if (!resp::parse_int64(ctx.arg(2), &id)) {
    ctx.error(kErrNotInteger);
    return;
  }
  bool error = false;
  if (ctx.argc() == 4) {
    if (equals_ignore_case(ctx.arg(3), "error")) {
      error = true;
    } else if (!equals_ignore_case(ctx.arg(3), "timeout")) {
      ctx.error("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR");
      return;
    }
  }
  ServerState& server = ctx.server;
  const auto wanted = static_cast<std::uint64_t>(id);
  auto per_shard = server.runtime().run_on_each([&server, wanted, error]() {
    Connection* c = server.this_shard().find_connection(wanted);
    return c != nullptr && c->block_unblock(error);
  });
  bool unblocked = false;
  for (auto& one : per_shard) unblocked = unblocked || (one && *one);
  ctx.reply.integer(unblocked ? 1 : 0);
}

// Parses a client id the way CLIENT LIST ID does (a positive integer).
bool parse_client_id(std::string_view s, std::uint64_t& out) {
  std::int64_t v = 0;
  if (!resp::parse_int64(s, &v) || v <= 0) return false;
  out = static_cast<std::uint64_t>(v);
  return true;
}

void client_list(CommandContext& ctx) {
  ClientFilter filter;
  if (ctx.argc() == 4 && equals_ignore_case(ctx.arg(2), "type")) {
    filter.type = parse_client_type(ctx.arg(3));
    if (!filter.type) {
      ctx.error(unknown_client_type_text(ctx.arg(3)));
      return;
    }
  } else if (ctx.argc() > 3 && equals_ignore_case(ctx.arg(2), "id")) {
    for (std::size_t i = 3; i < ctx.argc(); ++i) {
      std::uint64_t id = 0;
      if (!parse_client_id(ctx.arg(i), id)) {
        ctx.error(kErrInvalidClientId);
        return;
      }
      filter.ids.push_back(id);
    }
  } else if (ctx.argc() != 2) {
    ctx.error(kErrSyntax);
    return;
  }
  reply_text(ctx, list_clients(ctx.server, filter));
}

// Fills `filter` from CLIENT KILL's <option> <value> pairs; false after writing the error.
bool parse_kill_filter(CommandContext& ctx, ClientFilter& filter) {
  bool skip_me = true;
  for (std::size_t i = 2; i < ctx.argc(); i += 2) {
    const std::string_view option = ctx.arg(i);
    if (i + 1 >= ctx.argc()) {
      ctx.error(kErrSyntax);
      return false;
    }
    const std::string_view value = ctx.arg(i + 1);
    if (equals_ignore_case(option, "id")) {
      std::uint64_t id = 0;
      if (!parse_client_id(value, id)) {
        ctx.error(kErrClientIdNotPositive);
        return false;
      }
      filter.ids.push_back(id);
    } else if (equals_ignore_case(option, "type")) {
      filter.type = parse_client_type(value);
      if (!filter.type) {
        ctx.error(unknown_client_type_text(value));
        return false;
      }
    } else if (equals_ignore_case(option, "addr")) {
      filter.addr = std::string(value);
    } else if (equals_ignore_case(option, "laddr")) {
      filter.laddr = std::string(value);
    } else if (equals_ignore_case(option, "user")) {
      if (value != "default") {
        ctx.error("ERR No such user '" + std::string(value) + "'");
        return false;
      }
      filter.user = std::string(value);
    } else if (equals_ignore_case(option, "skipme")) {
      std::optional<bool> yes = parse_on_off(value, "yes", "no");
      if (!yes) {
        ctx.error(kErrSyntax);
        return false;
      }
      skip_me = *yes;
    } else {
      ctx.error(kErrSyntax);
      return false;
    }
  }
  if (skip_me) filter.skip_id = ctx.client.id;
  return true;
}

// CLIENT KILL ip:port (the old form: +OK or an error) or CLIENT KILL <option> <value>...
// (the new form: the number of clients killed).
void client_kill(CommandContext& ctx) {
  ClientFilter filter;
  if (ctx.argc() == 3) {
    filter.addr = std::string(ctx.arg(2));
    if (kill_clients(ctx.server, filter) == 0) {
      ctx.error(kErrNoSuchClient);
    } else {
      ctx.reply.ok();
    }
    return;
  }
  if (!parse_kill_filter(ctx, filter)) return;
  ctx.reply.integer(static_cast<std::int64_t>(kill_clients(ctx.server, filter)));
}

constexpr std::string_view kHelp[] = {
    "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "ID",
    "    The id of this connection.",
    "GETNAME",
    "    The name of this connection, or null.",
    "SETNAME <name>",
    "    Names this connection (printable characters, no spaces).",
    "SETINFO (LIB-NAME|LIB-VER) <value>",
    "    Records the client library's name or version, shown by LIST and INFO.",
    "INFO",
    "    Describes this connection, in CLIENT LIST's format.",
    "LIST [TYPE (NORMAL|MASTER|REPLICA|PUBSUB)] [ID <id> [<id> ...]]",
    "    Describes the connected clients, one line each.",
    "KILL <ip:port>",
    "    Closes the connection from <ip:port>.",
    "KILL <option> <value> [<option> <value> ...]",
    "    Closes every connection matching all options: ID <id>, ADDR <ip:port>,",
    "    LADDR <ip:port>, TYPE <type>, USER <username>, SKIPME (YES|NO) (default YES).",
    "UNBLOCK <clientid> [TIMEOUT|ERROR]",
    "    Unblocks the client if it is blocked in a blocking command, with a timeout reply",
    "    or with an error.",
    "REPLY (ON|OFF|SKIP)",
    "    Turns replies to this connection on or off, or skips the next one.",
    "NO-EVICT (ON|OFF)",
    "    Exempts this connection from client eviction (kept for compatibility).",
    "NO-TOUCH (ON|OFF)",
    "    Keeps this connection's reads from changing keys' access times.",
    "TRACKING OFF | TRACKINGINFO | GETREDIR | CACHING (YES|NO)",
    "    Client-side caching; not available yet, so tracking is always off.",
    "HELP",
    "    Prints this help.",
};

void client_help(CommandContext& ctx) {
  ctx.reply.array(std::size(kHelp));
  for (std::string_view line : kHelp) ctx.reply.simple_string(line);
}

constexpr std::uint32_t kSub = kCmdNoscript | kCmdLoading | kCmdStale;
constexpr std::string_view kNondeterministic[] = {"nondeterministic_output"};

constexpr CommandSpec kSubcommands[] = {
    {.name = "client|caching", .arity = 3, .flags = kSub, .categories = kAclConnection,
     .group = "connection", .since = "6.0.0",
     .summary = "Says whether the next command's keys are tracked (tracking only)",
     .complexity = "O(1)", .handler = client_caching},
    {.name = "client|getname", .arity = 2, .flags = kSub, .categories = kAclConnection,
     .group = "connection", .since = "2.6.9", .summary = "Returns the connection's name",
     .complexity = "O(1)", .handler = client_getname},
    {.name = "client|getredir", .arity = 2, .flags = kSub, .categories = kAclConnection,
     .group = "connection", .since = "6.0.0",
     .summary = "Returns the client that tracking notifications are redirected to",
     .complexity = "O(1)", .handler = client_getredir},
    {.name = "client|help", .arity = 2, .flags = kCmdLoading | kCmdStale,
     .categories = kAclConnection, .group = "connection", .since = "5.0.0",
     .summary = "Describes the CLIENT subcommands", .complexity = "O(1)", .handler = client_help},
    {.name = "client|id", .arity = 2, .flags = kSub, .categories = kAclConnection,
     .group = "connection", .since = "5.0.0", .summary = "Returns the connection's id",
     .complexity = "O(1)", .handler = client_id},
    {.name = "client|info", .arity = 2, .flags = kSub, .categories = kAclConnection,
     .group = "connection", .since = "6.2.0", .summary = "Describes the connection",
     .complexity = "O(1)", .tips = kNondeterministic, .handler = client_info},
    {.name = "client|kill", .arity = -3, .flags = kCmdAdmin | kSub, .categories = kAclConnection,
     .group = "connection", .since = "2.4.0", .summary = "Closes client connections",
     .complexity = "O(N) where N is the number of client connections", .handler = client_kill},
    {.name = "client|list", .arity = -2, .flags = kCmdAdmin | kSub, .categories = kAclConnection,
     .group = "connection", .since = "2.4.0", .summary = "Describes the client connections",
     .complexity = "O(N) where N is the number of client connections",
     .tips = kNondeterministic, .handler = client_list},
    {.name = "client|no-evict", .arity = 3, .flags = kCmdAdmin | kSub,
     .categories = kAclConnection, .group = "connection", .since = "7.0.0",
     .summary = "Exempts the connection from client eviction", .complexity = "O(1)",
     .handler = client_no_evict},
    {.name = "client|no-touch", .arity = 3, .flags = kSub, .categories = kAclConnection,
     .group = "connection", .since = "7.2.0",
     .summary = "Keeps the connection's reads from changing access times",
     .complexity = "O(1)", .handler = client_no_touch},
    {.name = "client|reply", .arity = 3, .flags = kSub, .categories = kAclConnection,
     .group = "connection", .since = "3.2.0",
     .summary = "Turns replies to the connection on or off", .complexity = "O(1)",
     .handler = client_reply},
    {.name = "client|setinfo", .arity = 4, .flags = kSub, .categories = kAclConnection,
     .group = "connection", .since = "7.2.0",
     .summary = "Records the client library's name or version", .complexity = "O(1)",
     .handler = client_setinfo},
    {.name = "client|setname", .arity = 3, .flags = kSub, .categories = kAclConnection,
     .group = "connection", .since = "2.6.9", .summary = "Names the connection",
     .complexity = "O(1)", .handler = client_setname},
    {.name = "client|tracking", .arity = -3, .flags = kSub, .categories = kAclConnection,
     .group = "connection", .since = "6.0.0",
     .summary = "Turns client-side caching support on or off",
     .complexity = "O(1)", .handler = client_tracking},
    {.name = "client|unblock", .arity = -3, .flags = kCmdAdmin | kSub,
     .categories = kAclConnection, .group = "connection", .since = "5.0.0",
     .summary = "Unblocks a client blocked in a blocking command", .complexity = "O(log N)",
     .handler = client_unblock},
    {.name = "client|trackinginfo", .arity = 2, .flags = kSub, .categories = kAclConnection,
     .group = "connection", .since = "6.2.0",
     .summary = "Describes the connection's client-side caching state", .complexity = "O(1)",
     .handler = client_trackinginfo},
};

constexpr CommandSpec kCommands[] = {
    {.name = "client", .arity = -2, .group = "connection", .since = "2.4.0",
     .summary = "Inspects and controls client connections",
     .complexity = "Depends on subcommand.", .subcommands = kSubcommands},
};

}  // namespace

std::span<const CommandSpec> client_commands() { return kCommands; }

}  // namespace cascade::commands
