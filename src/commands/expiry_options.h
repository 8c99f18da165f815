// The option grammars of the commands that set an expiry, with Redis 7.0's rules:
//
// SET key value [NX|XX] [GET] [EX s|PX ms|EXAT s|PXAT ms|KEEPTTL]   (from argument 3)
// GETEX key [EX s|PX ms|EXAT s|PXAT ms|PERSIST]                      (from argument 2)
//   Options are case-insensitive and may repeat; an option that conflicts with one already
//   seen (NX after XX, EX after PX, KEEPTTL after an expiry, ...), an option the command does
//   not take, an expiry keyword without a following argument, or anything else is
//   kErrSyntax. Repeating the same expiry keyword keeps the last argument. As in Redis, an
//   option is compared as a C string: only the bytes before a NUL count.
//   The expiry argument is checked later (see absolute_expire_ms), after the syntax.
//
// EXPIRE key n [NX|XX|GT|LT]... (PEXPIRE, EXPIREAT, PEXPIREAT alike)    (from argument 3)
//   Every option is read first ("ERR Unsupported option X" for an unknown one), then the
//   combinations are checked: NX with XX, GT or LT is kErrExpireNxConflict; GT with LT is
//   kErrExpireGtLtConflict.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace cascade::commands {

enum ExpiryFlag : std::uint32_t {
  kOptNx = 1u << 0,
  kOptXx = 1u << 1,
  kOptGet = 1u << 2,
  kOptKeepTtl = 1u << 3,
  kOptPersist = 1u << 4,
  kOptEx = 1u << 5,   // seconds from now
  kOptPx = 1u << 6,   // milliseconds from now
  kOptExat = 1u << 7, // unix time in seconds
  kOptPxat = 1u << 8, // unix time in milliseconds
};
inline constexpr std::uint32_t kOptAnyExpiry = kOptEx | kOptPx | kOptExat | kOptPxat;

enum class OptionsOf : std::uint8_t { kSet, kGetex };

struct ExpiryOptions {
  std::uint32_t flags = 0;
  std::string_view expire_arg;  // the argument of EX/PX/EXAT/PXAT, if one was given

  bool has(std::uint32_t flag) const { return (flags & flag) != 0; }
};

// Parses args[first...]; false means kErrSyntax.
bool parse_expiry_options(std::span<const std::string_view> args, std::size_t first,
                          OptionsOf command, ExpiryOptions& out);

enum class ExpireCheck : std::uint8_t { kOk, kNotInteger, kInvalid };

// The absolute expiry (unix ms) that an EX/PX/EXAT/PXAT argument asks for, as Redis
// computes it: the argument must be an integer (kNotInteger), positive, not overflow when
// seconds become ms or when `now_ms` is added (kInvalid: "invalid expire time").
ExpireCheck absolute_expire_ms(const ExpiryOptions& options, std::int64_t now_ms,
                               std::int64_t* out);

// "ERR invalid expire time in '<command>' command".
std::string invalid_expire_text(std::string_view command);

// EXPIRE's condition flags.
struct ExpireCondition {
  bool nx = false, xx = false, gt = false, lt = false;
};

// Parses args[first...]; returns the error text, or empty on success.
std::string parse_expire_condition(std::span<const std::string_view> args, std::size_t first,
                                   ExpireCondition& out);

// Whether a key whose current expiry is `current_ms` (-1: none) may get `when_ms`.
bool expire_condition_allows(const ExpireCondition& condition, std::int64_t current_ms,
                             std::int64_t when_ms);

}  // namespace cascade::commands
