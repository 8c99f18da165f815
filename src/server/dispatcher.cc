// See dispatcher.h for the order of the checks.
#include "src/server/dispatcher.h"

#include <algorithm>
#include <cctype>

#include "src/server/error_replies.h"

namespace cascade::server {
namespace {

// Redis quotes arguments in these errors with printf's "%.*s": at most `limit` bytes, and
// (being C strings) nothing from the first NUL on.
constexpr std::size_t kQuoteLimit = 128;

std::string_view c_prefix(std::string_view s, std::size_t limit) {
  s = s.substr(0, std::min(limit, s.size()));
  return s.substr(0, s.find('\0'));
}

std::string unknown_command_text(std::span<const std::string_view> args) {
  std::string quoted;
  for (std::size_t i = 1; i < args.size() && quoted.size() < kQuoteLimit; ++i) {
    quoted += '\'';
    quoted += c_prefix(args[i], kQuoteLimit - quoted.size() + 1);
    quoted += "' ";
  }
  std::string text = "ERR unknown command '";
  text += c_prefix(args[0], kQuoteLimit);
  text += "', with args beginning with: ";
  return text + quoted;
}

std::string unknown_subcommand_text(const CommandSpec& container, std::string_view sub) {
  std::string upper(container.name);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  std::string text = "ERR unknown subcommand '";
  text += c_prefix(sub, kQuoteLimit);
  return text + "'. Try " + upper + " HELP.";
}

}  // namespace

Dispatch resolve_command(const CommandTable& table, std::span<const std::string_view> args,
                         bool auth_required) {
  const CommandSpec* spec = table.find(args[0]);
  if (spec == nullptr) return {nullptr, DispatchError::kUnknownCommand};
  if (!arity_accepts(spec->arity, args.size())) return {spec, DispatchError::kWrongArity};
  // A container called alone runs its own handler (COMMAND); its arity allows that only
  // when it has one (see command_table.h).
  if (!spec->subcommands.empty() && args.size() >= 2) {
    const CommandSpec* sub = CommandTable::find_subcommand(*spec, args[1]);
    if (sub == nullptr) return {spec, DispatchError::kUnknownSubcommand};
    spec = sub;
    if (!arity_accepts(spec->arity, args.size())) return {spec, DispatchError::kWrongArity};
  }
  if (auth_required && !(spec->flags & kCmdNoAuth)) return {spec, DispatchError::kNoAuth};
  return {spec, DispatchError::kNone};
}

std::string wrong_arity_text(std::string_view full_name) {
  return "ERR wrong number of arguments for '" + std::string(full_name) + "' command";
}

std::string dispatch_error_text(const Dispatch& dispatch, std::span<const std::string_view> args) {
  switch (dispatch.error) {
    case DispatchError::kUnknownCommand: return unknown_command_text(args);
    case DispatchError::kWrongArity: return wrong_arity_text(dispatch.spec->name);
    case DispatchError::kUnknownSubcommand: return unknown_subcommand_text(*dispatch.spec, args[1]);
    case DispatchError::kNoAuth: return std::string(kErrNoAuth);
    case DispatchError::kNone: break;
  }
  return {};
}

}  // namespace cascade::server
