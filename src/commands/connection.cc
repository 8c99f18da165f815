// The connection family: PING, ECHO, HELLO, AUTH, SELECT, QUIT, RESET. They act on the
// calling connection's session only (protocol version, authentication, database, name),
// never on data.
//
// Authentication follows Redis 6+'s default user: `requirepass` is the default user's
// password. A client connecting while no password is set is authenticated for good (a
// later CONFIG SET requirepass does not log it out); one connecting while a password is
// set must AUTH first. The only user is "default".
//
// HELLO reports server "redis" and version 7.0.15: cascade answers as the Redis version
// whose behaviour it matches, because clients read these two fields to decide what they
// may send (lettuce parses the version, hiredis compares it). cascade's own version is in
// INFO server (cascade_version).
#include <string_view>

#include "resp/decimal.h"
#include "src/commands/command_families.h"
#include "src/server/client_watches.h"
#include "src/server/command_context.h"
#include "src/server/connection.h"
#include "src/server/error_replies.h"

namespace cascade::commands {
namespace {

using namespace cascade::server;

// Compares every byte whatever the first difference, so timing does not reveal how much of
// a guess was right.
bool same_secret(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (std::size_t i = 0; i < a.size(); ++i) {
    diff |= static_cast<unsigned char>(a[i] ^ (i < b.size() ? b[i] : 0));
  }
  return diff == 0;
}

bool check_credentials(const ServerConfig& config, std::string_view user, std::string_view password) {
  if (user != "default") return false;
  return config.requirepass.empty() || same_secret(password, config.requirepass);
}

void ping(CommandContext& ctx) {
  if (ctx.argc() == 1) {
    ctx.reply.simple_string("PONG");
  } else {
    ctx.reply.bulk(ctx.arg(1));
  }
}

void echo(CommandContext& ctx) { ctx.reply.bulk(ctx.arg(1)); }

void auth(CommandContext& ctx) {
  const ServerConfig& config = ctx.shard.config();
  if (ctx.argc() > 3) {
    ctx.error(kErrSyntax);
    return;
  }
  if (ctx.argc() == 2 && config.requirepass.empty()) {
    ctx.error(kErrAuthWithoutPassword);
    return;
  }
  const std::string_view user = ctx.argc() == 3 ? ctx.arg(1) : "default";
  if (!check_credentials(config, user, ctx.arg(ctx.argc() - 1))) {
    ctx.error(kErrWrongPass);
    return;
  }
  ctx.client.authenticated = true;
  ctx.reply.ok();
}

void write_hello_map(CommandContext& ctx) {
  ctx.reply.map(7);
  ctx.reply.bulk("server");
  ctx.reply.bulk("redis");
  ctx.reply.bulk("version");
  ctx.reply.bulk(kRedisCompatVersion);
  ctx.reply.bulk("proto");
  ctx.reply.integer(static_cast<int>(ctx.connection.resp_version()));
  ctx.reply.bulk("id");
  ctx.reply.integer(static_cast<std::int64_t>(ctx.client.id));
  ctx.reply.bulk("mode");
  ctx.reply.bulk("standalone");
  ctx.reply.bulk("role");
  ctx.reply.bulk("master");
  ctx.reply.bulk("modules");
  ctx.reply.array(0);
}

// HELLO [protover [AUTH user pass] [SETNAME name]]: checks in Redis's order (version,
// option syntax, credentials, authentication, name), changing nothing unless all pass.
void hello(CommandContext& ctx) {
  std::int64_t version = 0;
  if (ctx.argc() >= 2) {
    if (!resp::parse_int64(ctx.arg(1), &version)) {
      ctx.error(kErrProtoVersionNotInteger);
      return;
    }
    if (version < 2 || version > 3) {
      ctx.error(kErrNoProto);
      return;
    }
  }
  std::string_view user, password, name;
  bool has_auth = false, has_name = false;
  for (std::size_t i = 2; i < ctx.argc(); ++i) {
    const std::size_t more = ctx.argc() - i - 1;
    if (equals_ignore_case(ctx.arg(i), "auth") && more >= 2) {
      user = ctx.arg(i + 1);
      password = ctx.arg(i + 2);
      has_auth = true;
      i += 2;
    } else if (equals_ignore_case(ctx.arg(i), "setname") && more >= 1) {
      name = ctx.arg(i + 1);
      has_name = true;
      i += 1;
    } else {
      ctx.error("ERR Syntax error in HELLO option '" + std::string(ctx.arg(i)) + "'");
      return;
    }
  }
  const ServerConfig& config = ctx.shard.config();
  if (has_auth) {
    if (!check_credentials(config, user, password)) {
      ctx.error(kErrWrongPass);
      return;
    }
    ctx.client.authenticated = true;
  }
  if (!ctx.client.authenticated && !config.requirepass.empty()) {
    ctx.error(kErrHelloNoAuth);
    return;
  }
  if (has_name) {
    if (!is_valid_client_name(name)) {
      ctx.error(kErrClientNameInvalid);
      return;
    }
    ctx.client.name = name;
  }
  if (version != 0) ctx.connection.set_resp_version(static_cast<resp::RespVersion>(version));
  write_hello_map(ctx);
}

void select(CommandContext& ctx) {
  std::int64_t db = 0;
  if (!resp::parse_int64(ctx.arg(1), &db) || db < INT32_MIN || db > INT32_MAX) {
    ctx.error(kErrNotInteger);
    return;
  }
  if (db < 0 || db >= ctx.shard.config().databases) {
    ctx.error(kErrDbIndexOutOfRange);
    return;
  }
  ctx.client.db = static_cast<int>(db);
  ctx.reply.ok();
}

void quit(CommandContext& ctx) {
  ctx.reply.ok();
  ctx.client.close_after_reply = true;
}

// RESET: the connection as it was just after connecting (Redis's list: transaction and
// watches, protocol, database, name, reply mode, eviction flags, authentication).
void reset(CommandContext& ctx) {
  ClientState& c = ctx.client;
  c.multi = MultiState{};
  unwatch_all(ctx.server, c);
  c.db = 0;
  c.name.clear();
  c.reply_mode = ReplyMode::kOn;
  c.no_evict = false;
  c.no_touch = false;
  c.authenticated = ctx.shard.config().requirepass.empty();
  ctx.connection.set_resp_version(resp::RespVersion::kResp2);
  ctx.reply.simple_string("RESET");
}

constexpr std::string_view kPingTips[] = {"request_policy:all_shards",
                                          "response_policy:all_succeeded"};
constexpr std::uint32_t kSessionFlags = kCmdNoscript | kCmdLoading | kCmdStale | kCmdFast |
                                        kCmdNoAuth | kCmdAllowBusy;

constexpr CommandSpec kCommands[] = {
    {.name = "ping", .arity = -1, .flags = kCmdFast, .categories = kAclConnection,
     .group = "connection", .since = "1.0.0",
     .summary = "Answers PONG, or echoes the message given, to check the connection",
     .complexity = "O(1)", .tips = kPingTips, .handler = ping},
    {.name = "echo", .arity = 2, .flags = kCmdLoading | kCmdStale | kCmdFast,
     .categories = kAclConnection, .group = "connection", .since = "1.0.0",
     .summary = "Replies with the message it was given", .complexity = "O(1)", .handler = echo},
    {.name = "hello", .arity = -1, .flags = kSessionFlags, .categories = kAclConnection,
     .group = "connection", .since = "6.0.0",
     .summary = "Chooses the protocol version, optionally authenticates and names the "
                "connection, and describes the server",
     .complexity = "O(1)", .handler = hello},
    {.name = "auth", .arity = -2, .flags = kSessionFlags, .categories = kAclConnection,
     .group = "connection", .since = "1.0.0",
     .summary = "Authenticates the connection as the default user", .complexity = "O(1)",
     .handler = auth},
    {.name = "select", .arity = 2, .flags = kCmdLoading | kCmdStale | kCmdFast,
     .categories = kAclConnection, .group = "connection", .since = "1.0.0",
     .summary = "Switches the connection to another numbered database", .complexity = "O(1)",
     .handler = select},
    {.name = "quit", .arity = -1, .flags = kSessionFlags, .categories = kAclConnection,
     .group = "connection", .since = "1.0.0",
     .summary = "Closes the connection once its pending replies are sent",
     .complexity = "O(1)", .handler = quit},
    {.name = "reset", .arity = 1, .flags = kSessionFlags, .categories = kAclConnection,
     .group = "connection", .since = "6.2.0",
     .summary = "Returns the connection to its initial state", .complexity = "O(1)",
     .handler = reset},
};

}  // namespace

std::span<const CommandSpec> connection_commands() { return kCommands; }

}  // namespace cascade::commands
