// See command_families.h.
#include "src/commands/command_families.h"

#include <vector>

namespace cascade::commands {

const server::CommandTable& builtin_command_table() {
  static const server::CommandTable kTable = [] {
    std::vector<const CommandSpec*> all;
    for (auto family : {connection_commands(), client_commands(), server_commands(),
                        info_commands(), save_commands(), config_commands(),
                        command_commands(), string_commands(), counter_commands(),
                        key_commands(), multi_string_commands(), key_move_commands(),
                        bitop_commands(), lcs_commands(), scan_commands(), bit_commands(),
                        bitfield_commands(), object_commands(), dump_commands(),
                        hash_commands(), list_commands(), list_move_commands(),
                        list_blocking_commands(), set_commands(), set_algebra_commands(),
                        zset_commands(), zset_range_commands(), zset_multi_commands(),
                        zset_blocking_commands(),
                        multi_commands()}) {
      for (const CommandSpec& spec : family) all.push_back(&spec);
    }
    return server::CommandTable(std::move(all));
  }();
  return kTable;
}

}  // namespace cascade::commands
