// See command_info.h for the shapes.
#include "src/server/command_info.h"

#include <bit>
#include <string>

namespace cascade::server {
namespace {

// Writes the names of the set bits of `bits`, in bit order, as a set of simple strings.
template <typename NameOf>
void write_bit_names(resp::ReplyWriter& reply, std::uint32_t bits, std::size_t count,
                     std::string_view prefix, NameOf name_of) {
  reply.set(static_cast<std::size_t>(std::popcount(bits)));
  for (std::size_t bit = 0; bit < count; ++bit) {
    if (!(bits & (1u << bit))) continue;
    if (prefix.empty()) {
      reply.simple_string(name_of(bit));
    } else {
      reply.simple_string(std::string(prefix) + std::string(name_of(bit)));
    }
  }
}

void write_key_spec(resp::ReplyWriter& reply, const KeySpec& spec) {
  reply.map(3);
  reply.bulk("flags");
  write_bit_names(reply, spec.flags, kKeySpecFlagCount, "", key_spec_flag_name);
  reply.bulk("begin_search");
  reply.map(2);
  reply.bulk("type");
  reply.bulk("index");
  reply.bulk("spec");
  reply.map(1);
  reply.bulk("index");
  reply.integer(spec.begin_index);
  reply.bulk("find_keys");
  reply.map(2);
  reply.bulk("type");
  if (spec.find == FindKeys::kKeynum) {
    reply.bulk("keynum");
    reply.bulk("spec");
    reply.map(3);
    reply.bulk("keynumidx");
    reply.integer(spec.keynum_index);
    reply.bulk("firstkey");
    reply.integer(spec.first_key);
    reply.bulk("keystep");
    reply.integer(spec.key_step);
    return;
  }
  reply.bulk("range");
  reply.bulk("spec");
  reply.map(3);
  reply.bulk("lastkey");
  reply.integer(spec.last_key);
  reply.bulk("keystep");
  reply.integer(spec.key_step);
  reply.bulk("limit");
  reply.integer(spec.limit);
}

}  // namespace

void write_command_info(resp::ReplyWriter& reply, const CommandSpec& spec) {
  reply.array(10);
  reply.bulk(spec.name);
  reply.integer(spec.arity);
  write_bit_names(reply, spec.flags, kCommandFlagCount, "", command_flag_name);
  reply.integer(spec.first_key);
  reply.integer(spec.last_key);
  reply.integer(spec.key_step);
  write_bit_names(reply, acl_categories(spec), kAclCategoryCount, "@", acl_category_name);
  reply.set(spec.tips.size());
  for (std::string_view tip : spec.tips) reply.bulk(tip);
  reply.set(spec.key_specs.size());
  for (const KeySpec& key_spec : spec.key_specs) write_key_spec(reply, key_spec);
  if (spec.subcommands.empty()) {
    reply.set(0);
    return;
  }
  reply.array(spec.subcommands.size());
  for (const CommandSpec& sub : spec.subcommands) write_command_info(reply, sub);
}

void write_command_docs(resp::ReplyWriter& reply, const CommandSpec& spec) {
  reply.map(spec.subcommands.empty() ? 4 : 5);
  reply.bulk("summary");
  reply.bulk(spec.summary);
  reply.bulk("since");
  reply.bulk(spec.since);
  reply.bulk("group");
  reply.bulk(spec.group);
  reply.bulk("complexity");
  reply.bulk(spec.complexity);
  if (spec.subcommands.empty()) return;
  reply.bulk("subcommands");
  reply.map(spec.subcommands.size());
  for (const CommandSpec& sub : spec.subcommands) {
    reply.bulk(sub.name);
    write_command_docs(reply, sub);
  }
}

}  // namespace cascade::server
