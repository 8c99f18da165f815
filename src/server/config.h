// Server configuration: every directive declared once, with its type, default, bounds and
// whether CONFIG SET may change it while the server runs.
//
// Sources, in order: the defaults below, the file named on the command line (redis.conf
// syntax: `directive value...` per line, `#` comments, double or single quotes as in
// Redis), then `--directive value...` flags. A later source overrides an earlier one.
// An unknown directive or a bad value fails start-up with a message naming the line.
//
// Sizes accept Redis's units: k/kb, m/mb, g/gb (k = 1000, kb = 1024), case-insensitive.
// Booleans are yes/no.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "src/runtime/result.h"

namespace cascade::server {

struct ServerConfig {
  // network and clients
  std::int64_t port = 6379;
  std::string bind = "127.0.0.1";
  std::string requirepass;
  std::int64_t maxclients = 10000;
  std::int64_t timeout = 0;  // idle seconds before a client is closed; 0 = never
  std::int64_t proto_max_bulk_len = 512LL * 1024 * 1024;
  std::int64_t client_query_buffer_limit = 1024LL * 1024 * 1024;
  // server
  std::string dir = "./data";
  std::int64_t shards = 0;  // 0 = one per core
  std::int64_t databases = 16;
  std::string loglevel = "notice";
  std::string logfile;  // empty = standard output
  // durability
  bool appendonly = true;
  std::string appendfsync = "always";
  // engine
  std::int64_t memtable_size = 64LL * 1024 * 1024;
  std::int64_t block_cache_size = 256LL * 1024 * 1024;
  std::int64_t wal_segment_size = 64LL * 1024 * 1024;
  std::int64_t wal_segments = 4;
  std::int64_t min_blob_size = 512;
  std::int64_t compaction_rate_limit = 0;  // bytes/s; 0 = unlimited
};

enum class DirectiveType { kBool, kInteger, kBytes, kString, kEnum };

struct Directive {
  std::string_view name;
  DirectiveType type = DirectiveType::kString;
  bool live = false;  // CONFIG SET may change it while running
  std::int64_t min = 0;
  std::int64_t max = 0;
  std::vector<std::string_view> choices;  // kEnum
  // Exactly one of these is set, matching type.
  std::int64_t ServerConfig::*integer = nullptr;
  bool ServerConfig::*boolean = nullptr;
  std::string ServerConfig::*text = nullptr;
};

// The directive table, in the order CONFIG REWRITE writes them.
const std::vector<Directive>& directives();
const Directive* find_directive(std::string_view name);  // case-insensitive

// Parses a size with Redis's units ("64mb", "1gb", "100"); false if malformed.
bool parse_memory(std::string_view text, std::int64_t& out);

// Splits one configuration line into arguments the way Redis does (quotes, escapes).
// False on unbalanced quotes.
bool split_config_line(std::string_view line, std::vector<std::string>& out);

class Config {
 public:
  Config() = default;

  // Reads a redis.conf-style file. The error names the file, the line number and the line.
  Status load_file(const std::string& path);
  // Applies "--directive value..." flags (argv after the optional config file).
  Status apply_flags(const std::vector<std::string>& args);
  // Sets one directive from its textual value; `running` rejects directives that are not
  // live. The error text is the reason alone (callers add their context).
  Status set(std::string_view name, std::string_view value, bool running);
  // The value as CONFIG GET prints it.
  std::string get(const Directive& d) const;
  // Every (name, value) whose name matches a glob pattern, as CONFIG GET replies.
  std::vector<std::pair<std::string, std::string>> match(std::string_view pattern) const;
  // Rewrites `path` with the current values: known directives keep their line, changed
  // ones are updated in place, missing ones are appended; comments survive.
  Status rewrite(const std::string& path) const;

  const ServerConfig& values() const { return values_; }
  ServerConfig& mutable_values() { return values_; }
  const std::string& file() const { return file_; }

 private:
  Status apply_line(const std::vector<std::string>& args, bool running);

  ServerConfig values_;
  std::string file_;
};

}  // namespace cascade::server
