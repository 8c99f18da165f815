// See key_command.h.
#include "src/commands/key_command.h"

#include <chrono>

namespace cascade::commands {

std::int64_t unix_time_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

KeyReply storage_failure(const KeyTarget& target, const Status& status) {
  target.logger.warning("Storage error on shard {} (db {}): {}", runtime::this_shard_id(),
                        target.db, status.to_string());
  return KeyReply::error(server::storage_error(status));
}

namespace {

// The elements of an aggregate: nested errors are written as error elements (not counted
// as command errors: Redis counts the reply, not its parts).
void write_item(resp::ReplyWriter& out, KeyReply& reply) {
  switch (reply.kind) {
    case KeyReply::Kind::kNull: out.null(); break;
    case KeyReply::Kind::kOk: out.ok(); break;
    case KeyReply::Kind::kInteger: out.integer(reply.integer); break;
    case KeyReply::Kind::kBulk: out.bulk_owned(std::move(reply.text)); break;
    case KeyReply::Kind::kSimple: out.simple_string(reply.text); break;
    case KeyReply::Kind::kError: out.error(reply.text); break;
    case KeyReply::Kind::kDouble: out.double_value(reply.real); break;
    case KeyReply::Kind::kNullArray: out.null_array(); break;
    case KeyReply::Kind::kArray:
    case KeyReply::Kind::kMap:
    case KeyReply::Kind::kSet:
      if (reply.kind == KeyReply::Kind::kArray) {
        out.array(reply.elements());
      } else if (reply.kind == KeyReply::Kind::kMap) {
        out.map(reply.elements() / 2);
      } else {
        out.set(reply.elements());
      }
      if (reply.items.empty()) {
        out.encoded(std::move(reply.encoded));
        break;
      }
      for (KeyReply& item : reply.items) write_item(out, item);
      break;
  }
}

}  // namespace

void run_key_handler(server::CommandContext& ctx) {
  const KeyCall call{ctx.args, ctx.command};
  run_key_command(ctx, ctx.arg(1),
                  [&call](KeyTarget& t) { return call.command.key_handler(t, call); });
}

void write_key_reply(server::CommandContext& ctx, KeyReply&& reply) {
  write_key_reply(ctx.reply, ctx.shard.stats(), std::move(reply));
}

void write_key_reply(resp::ReplyWriter& out, server::ShardStats& stats, KeyReply&& reply) {
  if (reply.kind == KeyReply::Kind::kError) ++stats.error_replies;
  write_item(out, reply);
}

}  // namespace cascade::commands
