// INFO's sections, shared by info.cc (the command: which sections, gathering the shards'
// figures once) and info_sections.cc (the sections drawn from memory, the engines and the
// saves). Each section writer appends "# Name\r\n" and its "field:value\r\n" lines.
//
// Field names are Redis 7.0's wherever the field means the same thing here; a Redis field
// is left out rather than filled with a made-up value, except where 0 is the truth (no
// forks, no eviction, no replicas). cascade's own fields are storage_* (# Storage) and
// cascade_version, shards, last_checkpoint_dir.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "engine/db_options.h"
#include "src/server/command_context.h"
#include "src/types/keyspace_count.h"

namespace cascade::commands {

// Every shard's figures, summed (gathered in one run_on_each).
struct InfoTotals {
  server::ShardStats stats;
  std::size_t engines = 0;          // shards with an open engine
  engine::DBStats engine;           // summed over the engines
  std::uint64_t unsaved_writes = 0;  // engine sequences after each shard's last save
  std::map<std::uint32_t, types::DbKeyCount> keys;  // only when the keyspace is asked for
  bool keys_failed = false;
};

// Adds one engine's statistics to a sum (the fields INFO reports).
void add_engine_stats(engine::DBStats& total, const engine::DBStats& s);

void memory_section(const InfoTotals& totals, std::string& out);
void persistence_section(server::CommandContext& ctx, const InfoTotals& totals,
                         std::string& out);
void keyspace_section(const InfoTotals& totals, std::string& out);
void storage_section(const InfoTotals& totals, std::string& out);

}  // namespace cascade::commands
