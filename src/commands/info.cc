// INFO [section ...]: the server's state and counters, section by section.
//
// Sections, in Redis 7.0's order, then cascade's own: server, clients, memory,
// persistence, stats, replication, cpu, modules, cluster, keyspace, storage. No argument,
// "default", "all" or "everything" means all of them; unknown names are ignored, as in
// Redis. The field rules are in info_sections.h.
//
// Figures that live on the shards (counters, engine statistics, key counts) are gathered
// in one run_on_each and summed; the Keyspace section scans each shard's metadata records
// (src/types/keyspace_count.h), so it is asked of the shards only when it is wanted.
#include <fmt/format.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <string>

#include "src/commands/command_families.h"
#include "src/commands/info_sections.h"
#include "src/commands/key_command.h"
#include "src/server/command_context.h"

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
  kModules = 1u << 7,
  kCluster = 1u << 8,
  kKeyspace = 1u << 9,
  kStorage = 1u << 10,
};
constexpr unsigned kAllSections = (1u << 11) - 1;
// The sections whose figures come from the shards.
constexpr unsigned kShardSections = kMemory | kPersistence | kStats | kKeyspace | kStorage;

struct SectionName {
  std::string_view name;
  unsigned bit;
};
constexpr std::array<SectionName, 11> kSections = {{
    {"server", kServer}, {"clients", kClients}, {"memory", kMemory},
    {"persistence", kPersistence}, {"stats", kStats}, {"replication", kReplication},
    {"cpu", kCpu}, {"modules", kModules}, {"cluster", kCluster}, {"keyspace", kKeyspace},
    {"storage", kStorage},
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

using KeyCounts = std::map<std::uint32_t, types::DbKeyCount>;

struct ShardReport {
  ShardStats stats;
  bool has_engine = false;
  engine::DBStats engine;
  std::uint64_t saved_sequence = 0;
  Result<KeyCounts> keys = KeyCounts{};
};

InfoTotals gather(CommandContext& ctx, bool count_keys) {
  ServerState& server = ctx.server;
  const std::int64_t now_ms = unix_time_ms();
  auto reports = server.runtime().run_on_each([&server, count_keys, now_ms]() {
    ShardState& shard = server.this_shard();
    ShardReport r;
    r.stats = shard.stats();
    if (types::Keyspace* keyspace = shard.keyspace()) {
      r.stats.expired_keys = keyspace->expired_keys();
      r.has_engine = true;
      r.engine = keyspace->engine().stats();
      r.saved_sequence = shard.saved_sequence();
      if (count_keys) r.keys = types::count_keys(keyspace->engine(), keyspace->ids(), now_ms);
    }
    return r;
  });
  InfoTotals totals;
  for (auto& r : reports) {
    if (!r) continue;
    totals.stats.add(r->stats);
    if (!r->has_engine) continue;
    ++totals.engines;
    add_engine_stats(totals.engine, r->engine);
    totals.unsaved_writes += r->engine.last_sequence - std::min(r->engine.last_sequence,
                                                                r->saved_sequence);
    if (!r->keys) {
      server.logger().warning("INFO keyspace: {}", r->keys.error().to_string());
      totals.keys_failed = true;
      continue;
    }
    for (const auto& [db, count] : *r->keys) totals.keys[db].add(count);
  }
  return totals;
}

std::string uname_text() {
  utsname u{};
  if (::uname(&u) != 0) return "unknown";
  return fmt::format("{} {} {}", u.sysname, u.release, u.machine);
}

double seconds(const timeval& tv) { return static_cast<double>(tv.tv_sec) + tv.tv_usec / 1e6; }

void server_section(CommandContext& ctx, std::string& out) {
  const ServerState& server = ctx.server;
  const auto now = std::chrono::system_clock::now();
  const auto uptime = std::chrono::duration_cast<std::chrono::seconds>(
                          runtime::Clock::now() - server.started_steady()).count();
  out += fmt::format(
      "# Server\r\nredis_version:{}\r\nredis_git_sha1:00000000\r\nredis_git_dirty:0\r\n"
      "cascade_version:{}\r\nredis_mode:standalone\r\nos:{}\r\narch_bits:{}\r\n"
      "monotonic_clock:POSIX clock_gettime\r\nmultiplexing_api:io_uring\r\n"
      "atomicvar_api:c11-builtin\r\ngcc_version:{}.{}.{}\r\nprocess_id:{}\r\n"
      "process_supervised:no\r\nrun_id:{}\r\ntcp_port:{}\r\nserver_time_usec:{}\r\n"
      "uptime_in_seconds:{}\r\nuptime_in_days:{}\r\nexecutable:{}\r\nconfig_file:{}\r\n"
      "io_threads_active:0\r\nshards:{}\r\n",
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
      "blocked_clients:{}\r\ntracking_clients:0\r\nclients_in_timeout_table:0\r\n",
      ctx.server.connected_clients(), ctx.shard.config().maxclients,
      ctx.server.blocked_clients());
}

void stats_section(const InfoTotals& totals, std::string& out) {
  const ShardStats& total = totals.stats;
  out += fmt::format(
      "# Stats\r\ntotal_connections_received:{}\r\ntotal_commands_processed:{}\r\n"
      "total_net_input_bytes:{}\r\ntotal_net_output_bytes:{}\r\nrejected_connections:{}\r\n"
      "sync_full:0\r\nsync_partial_ok:0\r\nsync_partial_err:0\r\nevicted_keys:0\r\n"
      "evicted_clients:0\r\npubsub_channels:0\r\npubsub_patterns:0\r\nlatest_fork_usec:0\r\n"
      "total_forks:0\r\ntotal_error_replies:{}\r\ntotal_reads_processed:{}\r\n"
      "total_writes_processed:{}\r\nexpired_keys:{}\r\nmoved_connections:{}\r\n"
      "batches_replied_from_key_shard:{}\r\n",
      total.connections_received, total.commands_processed, total.net_input_bytes,
      total.net_output_bytes, total.rejected_connections, total.error_replies,
      total.reads_processed, total.writes_processed, total.expired_keys,
      total.moved_connections, total.batches_replied_from_key_shard);
}

void replication_section(CommandContext& ctx, std::string& out) {
  out += fmt::format(
      "# Replication\r\nrole:master\r\nconnected_slaves:0\r\nmaster_failover_state:no-failover\r\n"
      "master_replid:{}\r\nmaster_replid2:0000000000000000000000000000000000000000\r\n"
      "master_repl_offset:0\r\nsecond_repl_offset:-1\r\nrepl_backlog_active:0\r\n"
      "repl_backlog_size:0\r\nrepl_backlog_first_byte_offset:0\r\nrepl_backlog_histlen:0\r\n",
      ctx.server.facts().run_id);
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
  InfoTotals totals;
  if (wanted & kShardSections) totals = gather(ctx, (wanted & kKeyspace) != 0);
  std::string out;
  auto section = [&](unsigned bit) {
    if (!(wanted & bit)) return false;
    if (!out.empty()) out += "\r\n";
    return true;
  };
  if (section(kServer)) server_section(ctx, out);
  if (section(kClients)) clients_section(ctx, out);
  if (section(kMemory)) memory_section(totals, out);
  if (section(kPersistence)) persistence_section(ctx, totals, out);
  if (section(kStats)) stats_section(totals, out);
  if (section(kReplication)) replication_section(ctx, out);
  if (section(kCpu)) cpu_section(out);
  if (section(kModules)) out += "# Modules\r\n";
  if (section(kCluster)) out += "# Cluster\r\ncluster_enabled:0\r\n";
  if (section(kKeyspace)) keyspace_section(totals, out);
  if (section(kStorage)) storage_section(totals, out);
  if (ctx.reply.resp3()) {
    ctx.reply.verbatim(out);
  } else {
    ctx.reply.bulk(out);
  }
}

constexpr std::string_view kInfoTips[] = {"nondeterministic_output", "request_policy:all_shards",
                                          "response_policy:special"};

constexpr CommandSpec kCommands[] = {
    {.name = "info", .arity = -1, .flags = kCmdLoading | kCmdStale, .categories = kAclDangerous,
     .group = "server", .since = "1.0.0",
     .summary = "Reports the server's state and counters, section by section",
     .complexity = "O(1), O(N) with the keyspace section where N is the number of keys",
     .tips = kInfoTips, .handler = info},
};

}  // namespace

std::span<const CommandSpec> info_commands() { return kCommands; }

}  // namespace cascade::commands
