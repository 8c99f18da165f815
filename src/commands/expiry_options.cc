// See expiry_options.h for the grammars.
#include "src/commands/expiry_options.h"

#include <climits>

#include "resp/decimal.h"
#include "src/server/command_table.h"
#include "src/server/error_replies.h"

namespace cascade::commands {
namespace {

using server::equals_ignore_case;

// The option as Redis compares it: a C string, ending at the first NUL.
std::string_view c_string(std::string_view s) { return s.substr(0, s.find('\0')); }

struct Keyword {
  std::string_view name;
  std::uint32_t flag;
  std::uint32_t excludes;  // flags that must not be set already
  bool set_only, getex_only, takes_argument;
};

constexpr Keyword kKeywords[] = {
    {"nx", kOptNx, kOptXx, true, false, false},
    {"xx", kOptXx, kOptNx, true, false, false},
    {"get", kOptGet, 0, true, false, false},
    {"keepttl", kOptKeepTtl, kOptPersist | kOptAnyExpiry, true, false, false},
    {"persist", kOptPersist, kOptAnyExpiry | kOptKeepTtl, false, true, false},
    {"ex", kOptEx, kOptKeepTtl | kOptPersist | kOptExat | kOptPx | kOptPxat, false, false, true},
    {"px", kOptPx, kOptKeepTtl | kOptPersist | kOptEx | kOptExat | kOptPxat, false, false, true},
    {"exat", kOptExat, kOptKeepTtl | kOptPersist | kOptEx | kOptPx | kOptPxat, false, false, true},
    {"pxat", kOptPxat, kOptKeepTtl | kOptPersist | kOptEx | kOptExat | kOptPx, false, false, true},
};

}  // namespace

bool parse_expiry_options(std::span<const std::string_view> args, std::size_t first,
                          OptionsOf command, ExpiryOptions& out) {
  for (std::size_t i = first; i < args.size(); ++i) {
    const std::string_view option = c_string(args[i]);
    const bool has_next = i + 1 < args.size();
    const Keyword* match = nullptr;
    for (const Keyword& k : kKeywords) {
      if (!equals_ignore_case(option, k.name)) continue;
      if (k.set_only && command != OptionsOf::kSet) break;
      if (k.getex_only && command != OptionsOf::kGetex) break;
      if ((out.flags & k.excludes) != 0 || (k.takes_argument && !has_next)) break;
      match = &k;
      break;
    }
    if (match == nullptr) return false;
    out.flags |= match->flag;
    if (match->takes_argument) out.expire_arg = args[++i];
  }
  return true;
}

ExpireCheck absolute_expire_ms(const ExpiryOptions& options, std::int64_t now_ms,
                               std::int64_t* out) {
  std::int64_t value = 0;
  if (!resp::parse_int64(options.expire_arg, &value)) return ExpireCheck::kNotInteger;
  const bool seconds = options.has(kOptEx) || options.has(kOptExat);
  if (value <= 0 || (seconds && value > LLONG_MAX / 1000)) return ExpireCheck::kInvalid;
  if (seconds) value *= 1000;
  if (options.has(kOptEx) || options.has(kOptPx)) {
    // Redis adds with wrapping arithmetic and calls a non-positive sum an overflow.
    value = static_cast<std::int64_t>(static_cast<std::uint64_t>(value) +
                                      static_cast<std::uint64_t>(now_ms));
  }
  if (value <= 0) return ExpireCheck::kInvalid;
  *out = value;
  return ExpireCheck::kOk;
}

std::string invalid_expire_text(std::string_view command) {
  return "ERR invalid expire time in '" + std::string(command) + "' command";
}

std::string parse_expire_condition(std::span<const std::string_view> args, std::size_t first,
                                   ExpireCondition& out) {
  for (std::size_t i = first; i < args.size(); ++i) {
    const std::string_view option = c_string(args[i]);
    if (equals_ignore_case(option, "nx")) {
      out.nx = true;
    } else if (equals_ignore_case(option, "xx")) {
      out.xx = true;
    } else if (equals_ignore_case(option, "gt")) {
      out.gt = true;
    } else if (equals_ignore_case(option, "lt")) {
      out.lt = true;
    } else {
      return "ERR Unsupported option " + std::string(option);
    }
  }
  if (out.nx && (out.xx || out.gt || out.lt)) return std::string(server::kErrExpireNxConflict);
  if (out.gt && out.lt) return std::string(server::kErrExpireGtLtConflict);
  return {};
}

bool expire_condition_allows(const ExpireCondition& c, std::int64_t current_ms,
                             std::int64_t when_ms) {
  if (c.nx && current_ms != -1) return false;
  if (c.xx && current_ms == -1) return false;
  // No expiry counts as an infinite one: GT never beats it, LT always does.
  if (c.gt && (current_ms == -1 || when_ms <= current_ms)) return false;
  if (c.lt && current_ms != -1 && when_ms >= current_ms) return false;
  return true;
}

}  // namespace cascade::commands
