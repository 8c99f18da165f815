// cascade-server [config-file] [--directive value ...]
//
// Start-up, in order: read the configuration (a bad file or flag: a message naming the
// line on stderr, exit code 1), block SIGTERM/SIGINT before any thread exists
// (shutdown_signal.h), open the log, create the data directory and fix its shard count
// (shard_count_file.h: a stored count wins over the directive), start the shards and
// their engines and listeners, then wait on the main thread for a signal or SHUTDOWN. Stopping is
// Server::stop()'s graceful order; the process exits 0 after "ready to exit, bye bye".
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "src/commands/command_families.h"
#include "src/runtime/reactor.h"
#include "src/server/config.h"
#include "src/server/logger.h"
#include "src/server/server.h"
#include "src/server/server_state.h"
#include "src/server/data_dir_lock.h"
#include "src/server/shard_count_file.h"
#include "src/server/shutdown_signal.h"

namespace {

using namespace cascade;
using namespace cascade::server;

// How long connections get to send their last replies when the server stops.
constexpr auto kShutdownGrace = std::chrono::seconds(10);

void print_usage() {
  std::fprintf(stderr,
               "Usage: cascade-server [config-file] [--directive value ...]\n"
               "       cascade-server -v | --version\n"
               "Examples:\n"
               "       cascade-server conf/cascade.conf\n"
               "       cascade-server conf/cascade.conf --port 7000 --dir /var/lib/cascade\n");
}

// Reads the file (if the first argument is not a flag) and then the flags.
Status load_configuration(std::vector<std::string> args, Config& config, std::string& file) {
  if (!args.empty() && !args[0].starts_with("--")) {
    file = args[0];
    args.erase(args.begin());
    if (Status s = config.load_file(file); !s) return s;
  }
  return config.apply_flags(args);
}

std::string random_hex(std::size_t n) {
  std::random_device device;
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out += "0123456789abcdef"[device() % 16];
  return out;
}

ProcessFacts process_facts(const std::string& config_file) {
  ProcessFacts facts;
  std::error_code ec;
  facts.executable = std::filesystem::read_symlink("/proc/self/exe", ec).string();
  if (!config_file.empty()) facts.config_file = std::filesystem::absolute(config_file, ec).string();
  facts.run_id = random_hex(40);
  return facts;
}

std::size_t requested_shard_count(const ServerConfig& config) {
  if (config.shards > 0) return static_cast<std::size_t>(config.shards);
  return std::max(1u, std::thread::hardware_concurrency());
}

// The data directory's shard count, created with the requested one if it has none.
Result<std::size_t> data_shard_count(const ServerConfig& config, Logger& logger) {
  const std::size_t requested = requested_shard_count(config);
  // Before the runtime: file IO blocks on a reactor of this thread.
  runtime::Reactor reactor;
  if (Status s = reactor.init(); !s) return s;
  Result<ShardCount> count = load_or_create_shard_count(runtime::real_file_system(), config.dir,
                                                        requested);
  if (!count) return count.error();
  if (count->created) {
    logger.notice("New data directory {}: {} shard(s)", config.dir, count->shards);
  } else if (count->shards != requested) {
    logger.warning("The data directory {} was created with {} shard(s); keeping {} (shards "
                   "asks for {}, which applies only to a new data directory)",
                   config.dir, count->shards, count->shards, requested);
  }
  return count->shards;
}

int run(const std::vector<std::string>& args) {
  Config config;
  std::string config_file;
  if (Status s = load_configuration(args, config, config_file); !s) {
    std::fprintf(stderr, "\n*** FATAL CONFIG FILE ERROR (cascade %s) ***\n%s\n", CASCADE_VERSION,
                 s.message().c_str());
    return 1;
  }
  ShutdownSignal shutdown;  // before any thread: they inherit the blocked signals
  if (Status s = shutdown.open(); !s) {
    std::fprintf(stderr, "cascade: %s\n", s.to_string().c_str());
    return 1;
  }
  std::signal(SIGPIPE, SIG_IGN);

  const ServerConfig& values = config.values();
  Logger logger;
  logger.set_level(parse_log_level(values.loglevel));
  if (Status s = logger.open(values.logfile); !s) {
    std::fprintf(stderr, "cascade: %s\n", s.message().c_str());
    return 1;
  }
  logger.warning("oO0OoO0OoO0Oo cascade is starting oO0OoO0OoO0Oo");
  logger.warning("cascade version={}, redis compatibility={}, bits=64, pid={}, just started",
                 CASCADE_VERSION, kRedisCompatVersion, ::getpid());
  logger.warning("{}", config_file.empty() ? "No config file specified, using the defaults and flags"
                                           : "Configuration loaded");

  std::error_code ec;
  std::filesystem::create_directories(values.dir, ec);
  if (ec) {
    logger.warning("Can't create the data directory '{}': {}", values.dir, ec.message());
    std::fprintf(stderr, "cascade: can't create the data directory '%s': %s\n",
                 values.dir.c_str(), ec.message().c_str());
    return 1;
  }

  DataDirLock dir_lock;
  if (Status s = dir_lock.acquire(values.dir); !s) {
    logger.warning("{}", s.message());
    std::fprintf(stderr, "cascade: %s\n", s.message().c_str());
    return 1;
  }

  Result<std::size_t> shard_count = data_shard_count(values, logger);
  if (!shard_count) {
    logger.warning("Can't read the shard count of the data directory: {}",
                   shard_count.error().to_string());
    std::fprintf(stderr, "cascade: can't read the shard count of the data directory: %s\n",
                 shard_count.error().to_string().c_str());
    return 1;
  }
  const std::size_t shards = *shard_count;
  ServerState state(config, logger, commands::builtin_command_table(), shards,
                    process_facts(config_file));
  state.attach_shutdown(&shutdown);
  logger.set_role('M');
  logger.notice("Running mode=standalone, bind={}, port={}, shards={}, dir={}, pid={}",
                values.bind, values.port, shards, values.dir, ::getpid());

  Server server(state);
  if (Status s = server.start(); !s) {
    logger.warning("{}", s.message());
    std::fprintf(stderr, "cascade: %s\n", s.message().c_str());
    return 1;
  }
  logger.notice("Server initialized");
  logger.notice("Ready to accept connections tcp");

  const ShutdownCause cause = shutdown.wait();
  if (cause != ShutdownCause::kCommand) {
    logger.warning("Received {} scheduling shutdown...", shutdown_cause_name(cause));
  }
  logger.warning("User requested shutdown...");
  server.stop(kShutdownGrace);
  logger.warning("cascade is now ready to exit, bye bye...");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (!args.empty() && (args[0] == "-v" || args[0] == "--version")) {
    std::printf("cascade-server v=%s redis-compat=%s\n", CASCADE_VERSION,
                std::string(kRedisCompatVersion).c_str());
    return 0;
  }
  if (!args.empty() && (args[0] == "-h" || args[0] == "--help")) {
    print_usage();
    return 0;
  }
  return run(args);
}
