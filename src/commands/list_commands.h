// What the list family's files share: argument parsing and the multi-key list steps that
// both the plain commands (LMOVE, LMPOP in list_moves.cc) and their blocking forms
// (list_blocking.cc) run.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "src/commands/key_command.h"
#include "src/types/list.h"

namespace cascade::commands {

// A Redis list index argument (string2ll), or nullopt when it is not an integer.
std::optional<std::int64_t> parse_list_index(std::string_view text);
// LEFT / RIGHT in any case.
std::optional<types::ListEnd> parse_list_end(std::string_view text);
KeyReply bulk_array(const std::vector<std::string>& elements);

// LMOVE: pops from `from` of src and pushes to `to` of dst as one transaction (the keys may
// be on different shards; src == dst rotates). The element, or null when src is missing;
// WRONGTYPE when either key holds another type. Wakes clients blocked on dst.
KeyReply move_list_element(server::CommandContext& ctx, std::string_view src,
                           std::string_view dst, types::ListEnd from, types::ListEnd to);

// LMPOP's arguments: numkeys key... LEFT|RIGHT [COUNT count], from argument `first`
// (the numkeys argument). Writes Redis's error and returns nullopt when they are wrong.
struct MultiPopArgs {
  std::vector<std::string_view> keys;
  types::ListEnd end = types::ListEnd::kHead;
  std::uint64_t count = 1;
};
std::optional<MultiPopArgs> parse_multi_pop(server::CommandContext& ctx, std::size_t first);

// LMPOP: pops up to `count` elements from the first of `keys` that holds a list, as one
// transaction. [key, [elements]], or a null array when every key is missing; WRONGTYPE
// when a key before the first list holds another type.
KeyReply pop_first_list(server::CommandContext& ctx, std::span<const std::string_view> keys,
                        types::ListEnd end, std::uint64_t count);

}  // namespace cascade::commands
