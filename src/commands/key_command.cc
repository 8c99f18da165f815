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
  return KeyReply::error(status.is_corruption() ? server::kErrStorageCorruption
                                                : server::kErrStorage);
}

void write_key_reply(server::CommandContext& ctx, KeyReply&& reply) {
  switch (reply.kind) {
    case KeyReply::Kind::kNull: ctx.reply.null(); break;
    case KeyReply::Kind::kOk: ctx.reply.ok(); break;
    case KeyReply::Kind::kInteger: ctx.reply.integer(reply.integer); break;
    case KeyReply::Kind::kBulk: ctx.reply.bulk_owned(std::move(reply.text)); break;
    case KeyReply::Kind::kSimple: ctx.reply.simple_string(reply.text); break;
    case KeyReply::Kind::kError: ctx.error(reply.text); break;
  }
}

}  // namespace cascade::commands
