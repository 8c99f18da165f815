// See client_info.h for the line format.
#include "src/server/client_info.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>

#include "src/server/command_table.h"
#include "src/server/connection.h"

namespace cascade::server {
namespace {

std::int64_t seconds_between(runtime::TimePoint from, runtime::TimePoint to) {
  return std::chrono::duration_cast<std::chrono::seconds>(to - from).count();
}

}  // namespace

std::string describe_client(const Connection& connection, runtime::TimePoint now) {
  const ClientState& c = connection.client();
  const std::size_t qbuf = connection.input().size();
  const std::size_t qbuf_capacity = connection.input().capacity();
  const std::size_t obl = connection.output().size();
  const std::size_t rbs = connection.output().capacity();
  const std::string_view cmd = c.last_command != nullptr ? c.last_command->name : "NULL";
  return fmt::format(
      "id={} addr={} laddr={} fd={} name={} age={} idle={} flags={} db={} sub=0 psub=0 ssub=0 "
      "multi=-1 qbuf={} qbuf-free={} argv-mem=0 multi-mem=0 rbs={} rbp={} obl={} oll=0 omem=0 "
      "tot-mem={} events={} cmd={} user=default redir=-1 resp={} lib-name={} lib-ver={}",
      c.id, c.addr, c.laddr, c.fd, c.name, seconds_between(c.created, now),
      seconds_between(c.last_interaction, now), connection.blocked() ? "b" : "N", c.db, qbuf, qbuf_capacity - qbuf, rbs, rbs, obl,
      connection.memory_usage(), obl > 0 ? "rw" : "r", cmd,
      static_cast<int>(connection.resp_version()), c.lib_name, c.lib_ver);
}

std::optional<ClientType> parse_client_type(std::string_view name) {
  if (equals_ignore_case(name, "normal")) return ClientType::kNormal;
  if (equals_ignore_case(name, "master")) return ClientType::kMaster;
  if (equals_ignore_case(name, "replica") || equals_ignore_case(name, "slave")) {
    return ClientType::kReplica;
  }
  if (equals_ignore_case(name, "pubsub")) return ClientType::kPubsub;
  return std::nullopt;
}

bool ClientFilter::matches(const Connection& connection) const {
  const ClientState& c = connection.client();
  if (skip_id != 0 && c.id == skip_id) return false;
  if (!ids.empty() && std::find(ids.begin(), ids.end(), c.id) == ids.end()) return false;
  if (type && *type != ClientType::kNormal) return false;
  if (addr && *addr != c.addr) return false;
  if (laddr && *laddr != c.laddr) return false;
  if (user && *user != "default") return false;
  return true;
}

}  // namespace cascade::server
