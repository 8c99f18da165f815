// Error replies clients see, each defined once with Redis 7.0's exact text (without the
// leading "-" and the CRLF, as ReplyWriter::error takes them). Clients and their users match
// on these strings, so a text here changes only when Redis's does. Each was checked against
// redis-server 7.0.15.
//
// Texts that carry a value (the unknown command, the wrong arity...) are built by the code
// that knows the value; their fixed parts live next to that code.
#pragma once

#include <string_view>

#include "src/runtime/result.h"

namespace cascade::server {

inline constexpr std::string_view kErrNoAuth = "NOAUTH Authentication required.";
inline constexpr std::string_view kErrHelloNoAuth =
    "NOAUTH HELLO must be called with the client already authenticated, otherwise the "
    "HELLO AUTH <user> <pass> option can be used to authenticate the client and select the "
    "RESP protocol version at the same time";
inline constexpr std::string_view kErrWrongPass =
    "WRONGPASS invalid username-password pair or user is disabled.";
inline constexpr std::string_view kErrAuthWithoutPassword =
    "ERR AUTH <password> called without any password configured for the default user. "
    "Are you sure your configuration is correct?";
inline constexpr std::string_view kErrNoProto = "NOPROTO unsupported protocol version";
inline constexpr std::string_view kErrProtoVersionNotInteger =
    "ERR Protocol version is not an integer or out of range";
inline constexpr std::string_view kErrSyntax = "ERR syntax error";
inline constexpr std::string_view kErrNotInteger = "ERR value is not an integer or out of range";
inline constexpr std::string_view kErrDbIndexOutOfRange = "ERR DB index is out of range";
inline constexpr std::string_view kErrMaxClients = "ERR max number of clients reached";
inline constexpr std::string_view kErrClientNameInvalid =
    "ERR Client names cannot contain spaces, newlines or special characters.";
inline constexpr std::string_view kErrNoSuchClient = "ERR No such client";
inline constexpr std::string_view kErrInvalidClientId = "ERR Invalid client ID";
inline constexpr std::string_view kErrClientIdNotPositive = "ERR client-id should be greater than 0";
inline constexpr std::string_view kErrNoShutdownInProgress = "ERR No shutdown in progress.";
inline constexpr std::string_view kErrNoConfigFile = "ERR The server is running without a config file";
inline constexpr std::string_view kErrCachingWithoutTracking =
    "ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or "
    "OPTOUT mode enabled";
inline constexpr std::string_view kErrInvalidCommandForKeys = "ERR Invalid command specified";
inline constexpr std::string_view kErrInvalidArityForKeys =
    "ERR Invalid number of arguments specified for command";
inline constexpr std::string_view kErrNoKeyArguments = "ERR The command has no key arguments";
inline constexpr std::string_view kErrInvalidArgumentsForKeys =
    "ERR Invalid arguments specified for command";
inline constexpr std::string_view kErrShutdownFailed = "ERR Errors trying to SHUTDOWN. Check logs.";
inline constexpr std::string_view kErrBgsaveInProgress = "ERR Background save already in progress";
inline constexpr std::string_view kErrSaveFailed = "ERR";  // Redis's whole reply to a failed SAVE
inline constexpr std::string_view kErrWrongType =
    "WRONGTYPE Operation against a key holding the wrong kind of value";
inline constexpr std::string_view kErrNotFloat = "ERR value is not a valid float";
inline constexpr std::string_view kErrIncrOverflow = "ERR increment or decrement would overflow";
inline constexpr std::string_view kErrDecrOverflow = "ERR decrement would overflow";
inline constexpr std::string_view kErrNanOrInfinity = "ERR increment would produce NaN or Infinity";
inline constexpr std::string_view kErrStringTooLong =
    "ERR string exceeds maximum allowed size (proto-max-bulk-len)";
inline constexpr std::string_view kErrOffsetOutOfRange = "ERR offset is out of range";
inline constexpr std::string_view kErrExpireNxConflict =
    "ERR NX and XX, GT or LT options at the same time are not compatible";
inline constexpr std::string_view kErrExpireGtLtConflict =
    "ERR GT and LT options at the same time are not compatible";
inline constexpr std::string_view kErrNoSuchKey = "ERR no such key";
inline constexpr std::string_view kErrSameObject =
    "ERR source and destination objects are the same";
inline constexpr std::string_view kErrBitopNotArity =
    "ERR BITOP NOT must be called with a single source key.";
inline constexpr std::string_view kErrLcsNotStrings =
    "ERR The specified keys must contain string values";
inline constexpr std::string_view kErrLcsLenWithIdx =
    "ERR If you want both the length and indexes, please just use IDX.";
inline constexpr std::string_view kErrLcsTooLong = "ERR String too long for LCS";
inline constexpr std::string_view kErrLcsMemory =
    "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len";
inline constexpr std::string_view kErrBitOffset = "ERR bit offset is not an integer or out of range";
inline constexpr std::string_view kErrBitValue = "ERR bit is not an integer or out of range";
inline constexpr std::string_view kErrBitposBit = "ERR The bit argument must be 1 or 0.";
inline constexpr std::string_view kErrBitfieldType =
    "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but "
    "i64 is.";
inline constexpr std::string_view kErrBitfieldOverflow = "ERR Invalid OVERFLOW type specified";
inline constexpr std::string_view kErrBitfieldReadonly =
    "ERR BITFIELD_RO only supports the GET subcommand";
inline constexpr std::string_view kErrInvalidCursor = "ERR invalid cursor";
inline constexpr std::string_view kErrBusyKey = "BUSYKEY Target key name already exists.";
inline constexpr std::string_view kErrBadDumpPayload = "ERR DUMP payload version or checksum are wrong";
inline constexpr std::string_view kErrBadTtl = "ERR Invalid TTL value, must be >= 0";
inline constexpr std::string_view kErrBadDataFormat = "ERR Bad data format";
inline constexpr std::string_view kErrBadIdletime = "ERR Invalid IDLETIME value, must be >= 0";
inline constexpr std::string_view kErrBadFreq = "ERR Invalid FREQ value, must be >= 0 and <= 255";
inline constexpr std::string_view kErrNoLfu =
    "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note "
    "that when switching between policies at runtime LRU and LFU data will take some time to "
    "adjust.";
// Built with the value they name: "ERR invalid expire time in '<command>' command" and
// "ERR Unsupported option <option>" (expiry_options.cc).

// MULTI/EXEC/WATCH (src/commands/multi.cc, src/server/connection.cc).
inline constexpr std::string_view kErrMultiNested = "ERR MULTI calls can not be nested";
inline constexpr std::string_view kErrExecWithoutMulti = "ERR EXEC without MULTI";
inline constexpr std::string_view kErrDiscardWithoutMulti = "ERR DISCARD without MULTI";
inline constexpr std::string_view kErrWatchInMulti = "ERR WATCH inside MULTI is not allowed";
inline constexpr std::string_view kErrExecAbort =
    "EXECABORT Transaction discarded because of previous errors.";
// EXEC itself refused while queuing (its arity): followed by that error without "ERR ".
inline constexpr std::string_view kErrExecAbortBecause =
    "EXECABORT Transaction discarded because of: ";
inline constexpr std::string_view kErrNotInMulti = "ERR Command not allowed inside a transaction";

// cascade's own: engine failures are logged in full and never reach a client verbatim.
inline constexpr std::string_view kErrStorage = "ERR storage error, see the server log";
inline constexpr std::string_view kErrStorageCorruption =
    "ERR storage corruption detected, see the server log";
inline constexpr std::string_view kErrShardUnavailable = "ERR the key's shard is shutting down";
// A write refused for want of disk space: Redis's reply when its AOF cannot be written
// (ENOSPC), so clients and operators meet the text they already handle.
inline constexpr std::string_view kErrNoSpace =
    "MISCONF Errors writing to the AOF file: No space left on device";

// The reply to an engine failure, which the caller logs in full.
inline std::string_view storage_error(const Status& s) {
  if (s.is_corruption()) return kErrStorageCorruption;
  if (s.is_no_space()) return kErrNoSpace;
  return kErrStorage;
}

// cascade's own: Redis has no such error because it supports the feature.
inline constexpr std::string_view kErrDumpTypeUnsupported =
    "ERR DUMP payload holds a type cascade cannot restore (a stream or a module type)";
inline constexpr std::string_view kErrTrackingUnsupported =
    "ERR CLIENT TRACKING ON is not supported by this server yet";

}  // namespace cascade::server
