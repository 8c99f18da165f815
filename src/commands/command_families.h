// The command families: each file in src/commands/ declares its commands as a static
// array of CommandSpec (with their handlers) and exposes it here. builtin_command_table()
// gathers every family into the one CommandTable the server dispatches from and COMMAND
// describes. A new family adds a line here and one in command_families.cc.
#pragma once

#include <span>

#include "src/server/command_table.h"

namespace cascade::commands {

using server::CommandSpec;

std::span<const CommandSpec> connection_commands();  // PING ECHO HELLO AUTH SELECT QUIT RESET
std::span<const CommandSpec> client_commands();      // CLIENT ...
std::span<const CommandSpec> server_commands();      // TIME SHUTDOWN
std::span<const CommandSpec> info_commands();        // INFO
std::span<const CommandSpec> save_commands();        // SAVE BGSAVE LASTSAVE
std::span<const CommandSpec> config_commands();      // CONFIG ...
std::span<const CommandSpec> command_commands();     // COMMAND ...
std::span<const CommandSpec> string_commands();      // GET SET APPEND GETRANGE ...
std::span<const CommandSpec> counter_commands();     // INCR DECR INCRBY DECRBY INCRBYFLOAT
std::span<const CommandSpec> key_commands();         // DEL EXISTS TYPE EXPIRE TTL PERSIST ...
std::span<const CommandSpec> multi_string_commands();  // MGET MSET MSETNX
std::span<const CommandSpec> key_move_commands();    // RENAME RENAMENX COPY MOVE
std::span<const CommandSpec> bitop_commands();       // BITOP
std::span<const CommandSpec> lcs_commands();         // LCS
std::span<const CommandSpec> bit_commands();         // SETBIT GETBIT BITCOUNT BITPOS
std::span<const CommandSpec> bitfield_commands();    // BITFIELD BITFIELD_RO
std::span<const CommandSpec> object_commands();      // OBJECT ...
std::span<const CommandSpec> dump_commands();        // DUMP RESTORE
std::span<const CommandSpec> hash_commands();        // HSET HGET HDEL HGETALL ...
std::span<const CommandSpec> list_commands();        // LPUSH RPUSH LPOP LRANGE LINDEX ...
std::span<const CommandSpec> list_move_commands();   // LMOVE RPOPLPUSH LMPOP
std::span<const CommandSpec> list_blocking_commands();  // BLPOP BRPOP BLMOVE BRPOPLPUSH BLMPOP
std::span<const CommandSpec> zset_blocking_commands();  // BZPOPMIN BZPOPMAX BZMPOP
std::span<const CommandSpec> set_commands();         // SADD SREM SMEMBERS SPOP SSCAN ...
std::span<const CommandSpec> set_algebra_commands(); // SMOVE SINTER SUNION SDIFF *STORE ...
std::span<const CommandSpec> zset_commands();        // ZADD ZREM ZSCORE ZPOPMIN ZSCAN ...
std::span<const CommandSpec> zset_range_commands();  // ZRANGE ZRANK ZCOUNT ZREMRANGEBY* ...
std::span<const CommandSpec> zset_multi_commands();  // ZUNIONSTORE ZINTER ZRANGESTORE ZMPOP ...
std::span<const CommandSpec> multi_commands();       // MULTI EXEC DISCARD WATCH UNWATCH
std::span<const CommandSpec> scan_commands();        // KEYS SCAN RANDOMKEY DBSIZE FLUSHDB FLUSHALL

// Every family's commands, built once. Immutable: safe to read from every shard.
const server::CommandTable& builtin_command_table();

}  // namespace cascade::commands
