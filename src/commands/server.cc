// The server family: INFO, TIME, SHUTDOWN.
//
// INFO prints Redis's sections with Redis's field names wherever the field means the same
// thing here, plus cascade's own (cascade_version, shards). Counters are kept per shard
// and summed at the time of the call (one run_on_each). Sections for which cascade has
// nothing yet are short but present, because tools look for their fields: Persistence
// says loading:0, Replication says role:master, Keyspace is empty until the engine lands.
//
// SHUTDOWN asks the main thread to stop the server (shutdown_signal.h) and closes the
// calling connection without a reply, as Redis does on success. SAVE/NOSAVE/NOW/FORCE are
// accepted; with an engine whose every acknowledged write is already durable there is
// nothing extra to save.
#include <fmt/format.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <fstream>
#include <string>

#include "src/commands/command_families.h"
#include "src/server/command_context.h"
#include "src/server/error_replies.h"

namespace cascade::commands {
namespace {

using namespace cascade::server;

enum Section : unsigned {
  kServer = 1u << 0,
  kClients = 1u << 1,
  kMemory = 1u << 2,
  kPersistence = 1u << 3,
  kStats = 1u << 4,
  kReplication = 1u << 5,
  kCpu = 1u << 6,
  kKeyspace = 1u << 7,
};
constexpr unsigned kAllSections = (1u << 8) - 1;

struct SectionName {
  std::string_view name;
  unsigned bit;
};
constexpr std::array<SectionName, 8> kSections = {{
    {"server", kServer}, {"clients", kClients}, {"memory", kMemory},
    {"persistence", kPersistence}, {"stats", kStats}, {"replication", kReplication},
    {"cpu", kCpu}, {"keyspace", kKeyspace},
}};

unsigned requested_sections(const CommandContext& ctx) {
  if (ctx.argc() == 1) return kAllSections;
  unsigned wanted = 0;
  for (std::size_t i = 1; i < ctx.argc(); ++i) {
    const std::string_view arg = ctx.arg(i);
    if (equals_ignore_case(arg, "all") || equals_ignore_case(arg, "everything") ||
        equals_ignore_case(arg, "default")) {
      wanted |= kAllSections;
    }
    for (const SectionName& s : kSections) {
      if (equals_ignore_case(arg, s.name)) wanted |= s.bit;
    }
  }
  return wanted;
}

std::string uname_text() {
  utsname u{};
  if (::uname(&u) != 0) return "unknown";
  return fmt::format("{} {} {}", u.sysname, u.release, u.machine);
}

std::int64_t rss_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::int64_t pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * ::sysconf(_SC_PAGESIZE);
}

double seconds(const timeval& tv) { return static_cast<double>(tv.tv_sec) + tv.tv_usec / 1e6; }

void server_section(CommandContext& ctx, std::string& out) {
  const ServerState& server = ctx.server;
  const auto now = std::chrono::system_clock::now();
  const auto uptime = std::chrono::duration_cast<std::chrono::seconds>(
                          runtime::Clock::now() - server.started_steady()).count();
  out += fmt::format(
      "# Server\r\nredis_version:{}\r\ncascade_version:{}\r\nredis_mode:standalone\r\nos:{}\r\n"
      "arch_bits:{}\r\nmultiplexing_api:io_uring\r\ngcc_version:{}.{}.{}\r\nprocess_id:{}\r\n"
      "run_id:{}\r\ntcp_port:{}\r\nserver_time_usec:{}\r\nuptime_in_seconds:{}\r\n"
      "uptime_in_days:{}\r\nexecutable:{}\r\nconfig_file:{}\r\nshards:{}\r\n",
      kRedisCompatVersion, CASCADE_VERSION, uname_text(), sizeof(void*) * 8, __GNUC__,
      __GNUC_MINOR__, __GNUC_PATCHLEVEL__, ::getpid(), server.facts().run_id,
      ctx.shard.config().port,
      std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count(),
      uptime, uptime / 86400, server.facts().executable, server.facts().config_file,
      server.shard_count());
}

void clients_section(CommandContext& ctx, std::string& out) {
  out += fmt::format(
      "# Clients\r\nconnected_clients:{}\r\ncluster_connections:0\r\nmaxclients:{}\r\n"
      "blocked_clients:0\r\ntracking_clients:0\r\n",
      ctx.server.connected_clients(), ctx.shard.config().maxclients);
}

void memory_section(std::string& out) {
  const std::int64_t rss = rss_bytes();
  out += fmt::format("# Memory\r\nused_memory_rss:{}\r\nused_memory_rss_human:{:.2f}M\r\n", rss,
                     static_cast<double>(rss) / (1024.0 * 1024.0));
}

void stats_section(CommandContext& ctx, std::string& out) {
  ShardStats total;
  auto per_shard = ctx.server.runtime().run_on_each(
      [&ctx]() {
        ShardState& shard = ctx.server.this_shard();
        ShardStats stats = shard.stats();
        if (shard.keyspace() != nullptr) stats.expired_keys = shard.keyspace()->expired_keys();
        return stats;
      });
  for (auto& s : per_shard) {
    if (s) total.add(*s);
  }
  out += fmt::format(
      "# Stats\r\ntotal_connections_received:{}\r\ntotal_commands_processed:{}\r\n"
      "total_net_input_bytes:{}\r\ntotal_net_output_bytes:{}\r\nrejected_connections:{}\r\n"
      "total_error_replies:{}\r\ntotal_reads_processed:{}\r\ntotal_writes_processed:{}\r\n"
      "expired_keys:{}\r\n",
      total.connections_received, total.commands_processed, total.net_input_bytes,
      total.net_output_bytes, total.rejected_connections, total.error_replies,
      total.reads_processed, total.writes_processed, total.expired_keys);
}

void cpu_section(std::string& out) {
  rusage self{}, children{};
  getrusage(RUSAGE_SELF, &self);
  getrusage(RUSAGE_CHILDREN, &children);
  out += fmt::format(
      "# CPU\r\nused_cpu_sys:{:.6f}\r\nused_cpu_user:{:.6f}\r\nused_cpu_sys_children:{:.6f}\r\n"
      "used_cpu_user_children:{:.6f}\r\n",
      seconds(self.ru_stime), seconds(self.ru_utime), seconds(children.ru_stime),
      seconds(children.ru_utime));
}

void info(CommandContext& ctx) {
  const unsigned wanted = requested_sections(ctx);
  std::string out;
  auto next = [&out]() { if (!out.empty()) out += "\r\n"; };
  if (wanted & kServer) { next(); server_section(ctx, out); }
  if (wanted & kClients) { next(); clients_section(ctx, out); }
  if (wanted & kMemory) { next(); memory_section(out); }
  if (wanted & kPersistence) { next(); out += "# Persistence\r\nloading:0\r\nasync_loading:0\r\n"; }
  if (wanted & kStats) { next(); stats_section(ctx, out); }
  if (wanted & kReplication) { next(); out += "# Replication\r\nrole:master\r\nconnected_slaves:0\r\n"; }
  if (wanted & kCpu) { next(); cpu_section(out); }
  if (wanted & kKeyspace) { next(); out += "# Keyspace\r\n"; }
  if (ctx.reply.resp3()) {
    ctx.reply.verbatim(out);
  } else {
    ctx.reply.bulk(out);
  }
}

void time_command(CommandContext& ctx) {
  timeval tv{};
  gettimeofday(&tv, nullptr);
  ctx.reply.array(2);
  ctx.reply.bulk(std::to_string(tv.tv_sec));
  ctx.reply.bulk(std::to_string(tv.tv_usec));
}

// SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]
void shutdown(CommandContext& ctx) {
  bool save = false, nosave = false, abort = false;
  for (std::size_t i = 1; i < ctx.argc(); ++i) {
    const std::string_view arg = ctx.arg(i);
    if (equals_ignore_case(arg, "save")) {
      save = true;
    } else if (equals_ignore_case(arg, "nosave")) {
      nosave = true;
    } else if (equals_ignore_case(arg, "abort")) {
      abort = true;
    } else if (!equals_ignore_case(arg, "now") && !equals_ignore_case(arg, "force")) {
      ctx.error(kErrSyntax);
      return;
    }
  }
  if ((save && nosave) || (abort && ctx.argc() != 2)) {
    ctx.error(kErrSyntax);
    return;
  }
  if (abort) {
    ctx.error(kErrNoShutdownInProgress);
    return;
  }
  if (!ctx.server.request_shutdown(ShutdownCause::kCommand)) {
    ctx.error(kErrShutdownFailed);
    return;
  }
  ctx.client.close_after_reply = true;
}

constexpr std::string_view kInfoTips[] = {"nondeterministic_output", "request_policy:all_shards",
                                          "response_policy:special"};
constexpr std::string_view kTimeTips[] = {"nondeterministic_output"};

constexpr CommandSpec kCommands[] = {
    {.name = "info", .arity = -1, .flags = kCmdLoading | kCmdStale, .categories = kAclDangerous,
     .group = "server", .since = "1.0.0",
     .summary = "Reports the server's state and counters, section by section",
     .complexity = "O(1)", .tips = kInfoTips, .handler = info},
    {.name = "time", .arity = 1, .flags = kCmdLoading | kCmdStale | kCmdFast, .group = "server",
     .since = "2.6.0", .summary = "Returns the server's clock: seconds and microseconds",
     .complexity = "O(1)", .tips = kTimeTips, .handler = time_command},
    {.name = "shutdown", .arity = -1,
     .flags = kCmdAdmin | kCmdNoscript | kCmdLoading | kCmdStale | kCmdNoMulti | kCmdAllowBusy,
     .group = "server", .since = "1.0.0",
     .summary = "Stops the server after closing every connection",
     .complexity = "O(N) where N is the number of client connections", .handler = shutdown},
};

}  // namespace

std::span<const CommandSpec> server_commands() { return kCommands; }

}  // namespace cascade::commands
