// BITOP AND|OR|XOR|NOT destkey key [key ...]: a bitwise operation over string values, the
// result stored at destkey. One transaction over the destination and the sources
// (transaction.h), so the sources may live on any shards and the result is computed from
// one consistent view of them.
//
// Redis's rules: a missing source is an empty string, and shorter sources are padded with
// zero bytes to the longest one, which is the result's length (also the reply). A result of
// length 0 deletes destkey. A source of another type is WRONGTYPE; NOT takes exactly one
// source. The destination gets no expiry, whatever it had.
#include <string>
#include <vector>

#include "src/commands/command_families.h"
#include "src/commands/transaction.h"

namespace cascade::commands {
namespace {

using namespace cascade::server;

enum class BitOp : std::uint8_t { kAnd, kOr, kXor, kNot };

bool parse_op(std::string_view word, BitOp& op) {
  if (equals_ignore_case(word, "and")) op = BitOp::kAnd;
  else if (equals_ignore_case(word, "or")) op = BitOp::kOr;
  else if (equals_ignore_case(word, "xor")) op = BitOp::kXor;
  else if (equals_ignore_case(word, "not")) op = BitOp::kNot;
  else return false;
  return true;
}

// Combines `source` into `acc` (already as long as the longest source).
void combine(BitOp op, std::string& acc, std::string_view source) {
  for (std::size_t i = 0; i < acc.size(); ++i) {
    const char b = i < source.size() ? source[i] : '\0';
    switch (op) {
      case BitOp::kAnd: acc[i] = static_cast<char>(acc[i] & b); break;
      case BitOp::kOr: acc[i] = static_cast<char>(acc[i] | b); break;
      case BitOp::kXor: acc[i] = static_cast<char>(acc[i] ^ b); break;
      case BitOp::kNot: break;
    }
  }
}

KeyReply apply(BitOp op, TxnView& view) {
  std::size_t longest = 0;
  for (std::size_t i = 1; i < view.size(); ++i) {
    const auto& record = view.record(i);
    if (record && record->type != types::KeyType::kString) return KeyReply::error(kErrWrongType);
    if (record) longest = std::max(longest, record->payload().size());
  }
  std::string result;
  if (longest > 0) {
    result.assign(longest, '\0');
    const auto& first = view.record(1);
    if (first) result.replace(0, first->payload().size(), first->payload());
    if (op == BitOp::kNot) {
      for (char& c : result) c = static_cast<char>(~c);
    }
    for (std::size_t i = 2; i < view.size(); ++i) {
      const auto& record = view.record(i);
      combine(op, result, record ? record->payload() : std::string_view());
    }
  }
  if (!result.empty()) {
    view.put_string(0, std::nullopt, result, /*raw_string=*/true);
  } else if (view.record(0)) {
    view.erase(0);
  }
  return KeyReply::number(static_cast<std::int64_t>(result.size()));
}

void bitop(CommandContext& ctx) {
  BitOp op = BitOp::kAnd;
  if (!parse_op(ctx.arg(1), op)) {
    ctx.error(kErrSyntax);
    return;
  }
  if (op == BitOp::kNot && ctx.argc() != 4) {
    ctx.error(kErrBitopNotArity);
    return;
  }
  std::vector<TxnKey> keys;
  for (std::size_t i = 2; i < ctx.argc(); ++i) keys.push_back({client_db(ctx), ctx.arg(i)});
  write_key_reply(ctx, run_transaction(ctx, keys, [op](TxnView& view) { return apply(op, view); }));
}

constexpr KeySpec kBitopKeys[] = {{.flags = kKeyOW | kKeyUpdate, .begin_index = 2},
                                  {.flags = kKeyRO | kKeyAccess, .begin_index = 3, .last_key = -1}};

constexpr CommandSpec kCommands[] = {
    {.name = "bitop", .arity = -4, .flags = kCmdWrite | kCmdDenyoom, .categories = kAclBitmap,
     .first_key = 2, .last_key = -1, .key_step = 1, .group = "bitmap", .since = "2.6.0",
     .summary = "Stores the bitwise AND, OR, XOR or NOT of string values at a key",
     .complexity = "O(N)", .key_specs = kBitopKeys, .handler = bitop},
};

}  // namespace

std::span<const CommandSpec> bitop_commands() { return kCommands; }

}  // namespace cascade::commands
