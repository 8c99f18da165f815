// LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN]: the longest common
// subsequence of two string values, as the string itself, its length (LEN), or the matching
// ranges (IDX), longest-position-first as Redis lists them. Both keys are read in one
// transaction (transaction.h), so they may live on two shards and are seen at one instant.
//
// Redis's order of checks, kept because clients see which error wins: the keys' types
// first (a missing key is an empty string), then the options in order, then LEN with IDX,
// then the size limits. The dynamic-programming table has (len1+1)*(len2+1) 32-bit cells
// and is refused past proto-max-bulk-len bytes, as Redis refuses it.
#include <climits>
#include <string>
#include <vector>

#include "resp/decimal.h"
#include "src/commands/command_families.h"
#include "src/commands/transaction.h"

namespace cascade::commands {
namespace {

using namespace cascade::server;

struct LcsOptions {
  bool len = false, idx = false, with_match_len = false;
  std::int64_t min_match_len = 0;
  std::string_view error;  // the first option error, reported after the type check
};

LcsOptions parse_options(const CommandContext& ctx) {
  LcsOptions o;
  for (std::size_t j = 3; j < ctx.argc(); ++j) {
    const std::string_view word = ctx.arg(j);
    if (equals_ignore_case(word, "idx")) {
      o.idx = true;
    } else if (equals_ignore_case(word, "len")) {
      o.len = true;
    } else if (equals_ignore_case(word, "withmatchlen")) {
      o.with_match_len = true;
    } else if (equals_ignore_case(word, "minmatchlen") && j + 1 < ctx.argc()) {
      if (!resp::parse_int64(ctx.arg(++j), &o.min_match_len)) return {.error = kErrNotInteger};
      if (o.min_match_len < 0) o.min_match_len = 0;
    } else {
      return {.error = kErrSyntax};
    }
  }
  if (o.idx && o.len) o.error = kErrLcsLenWithIdx;
  return o;
}

struct Match {
  std::uint32_t a_start, a_end, b_start, b_end;
};

struct LcsResult {
  std::string sequence;
  std::vector<Match> matches;
};

// The table, then the walk back from its corner that Redis's lcsCommand makes: matching
// bytes extend the current range backwards; a step that leaves the diagonal, or a range
// reaching either string's start, emits it (when long enough).
LcsResult compute(std::string_view a, std::string_view b, const LcsOptions& o) {
  const std::size_t rows = a.size() + 1, cols = b.size() + 1;
  std::vector<std::uint32_t> table(rows * cols, 0);
  auto at = [&](std::size_t i, std::size_t j) -> std::uint32_t& { return table[i * cols + j]; };
  for (std::size_t i = 1; i < rows; ++i) {
    for (std::size_t j = 1; j < cols; ++j) {
      at(i, j) = a[i - 1] == b[j - 1] ? at(i - 1, j - 1) + 1 : std::max(at(i - 1, j), at(i, j - 1));
    }
  }
  LcsResult r;
  std::uint32_t idx = at(rows - 1, cols - 1);
  r.sequence.assign(idx, '\0');
  const auto unset = static_cast<std::uint32_t>(a.size());
  std::uint32_t as = unset, ae = 0, bs = 0, be = 0;
  std::size_t i = a.size(), j = b.size();
  while (i > 0 && j > 0) {
    bool emit = false;
    if (a[i - 1] == b[j - 1]) {
      r.sequence[idx - 1] = a[i - 1];
      if (as == unset) {
        as = ae = static_cast<std::uint32_t>(i - 1);
        bs = be = static_cast<std::uint32_t>(j - 1);
      } else if (as == i && bs == j) {
        --as;
        --bs;
      } else {
        emit = true;
      }
      if (as == 0 || bs == 0) emit = true;
      --idx, --i, --j;
    } else {
      if (at(i - 1, j) > at(i, j - 1)) --i; else --j;
      if (as != unset) emit = true;
    }
    if (emit) {
      const std::uint32_t length = ae - as + 1;
      if (o.min_match_len == 0 || static_cast<std::int64_t>(length) >= o.min_match_len) r.matches.push_back({as, ae, bs, be});
      as = unset;
    }
  }
  return r;
}

void write_matches(CommandContext& ctx, const LcsResult& r, const LcsOptions& o) {
  ctx.reply.map(2);
  ctx.reply.bulk("matches");
  ctx.reply.array(r.matches.size());
  for (const Match& m : r.matches) {
    ctx.reply.array(o.with_match_len ? 3 : 2);
    ctx.reply.array(2);
    ctx.reply.integer(m.a_start);
    ctx.reply.integer(m.a_end);
    ctx.reply.array(2);
    ctx.reply.integer(m.b_start);
    ctx.reply.integer(m.b_end);
    if (o.with_match_len) ctx.reply.integer(m.a_end - m.a_start + 1);
  }
  ctx.reply.bulk("len");
  ctx.reply.integer(static_cast<std::int64_t>(r.sequence.size()));
}

void lcs(CommandContext& ctx) {
  const LcsOptions options = parse_options(ctx);
  const TxnKey keys[] = {{client_db(ctx), ctx.arg(1)}, {client_db(ctx), ctx.arg(2)}};
  LcsResult result;
  KeyReply r = run_transaction(ctx, keys, [&options, &result](TxnView& view) {
    for (std::size_t i = 0; i < 2; ++i) {
      const auto& record = view.record(i);
      if (record && record->type != types::KeyType::kString) return KeyReply::error(kErrLcsNotStrings);
    }
    if (!options.error.empty()) return KeyReply::error(options.error);
    const std::string_view a = view.record(0) ? view.record(0)->payload() : std::string_view();
    const std::string_view b = view.record(1) ? view.record(1)->payload() : std::string_view();
    if (a.size() >= UINT32_MAX - 1 || b.size() >= UINT32_MAX - 1) return KeyReply::error(kErrLcsTooLong);
    const unsigned long long cells = (a.size() + 1ull) * (b.size() + 1ull);
    if (cells > LLONG_MAX / 4 || cells * 4 > static_cast<unsigned long long>(view.proto_max_bulk_len)) {
      return KeyReply::error(kErrLcsMemory);
    }
    result = compute(a, b, options);
    return KeyReply::ok();
  });
  if (r.kind == KeyReply::Kind::kError) {
    write_key_reply(ctx, std::move(r));
  } else if (options.idx) {
    write_matches(ctx, result, options);
  } else if (options.len) {
    ctx.reply.integer(static_cast<std::int64_t>(result.sequence.size()));
  } else {
    ctx.reply.bulk_owned(std::move(result.sequence));
  }
}

constexpr KeySpec kLcsKeys[] = {{.flags = kKeyRO | kKeyAccess, .last_key = 1}};

constexpr CommandSpec kCommands[] = {
    {.name = "lcs", .arity = -3, .flags = kCmdReadonly, .categories = kAclString,
     .first_key = 1, .last_key = 2, .key_step = 1, .group = "string", .since = "7.0.0",
     .summary = "Finds the longest common subsequence of two string values",
     .complexity = "O(N*M) where N and M are the lengths of s1 and s2, respectively",
     .key_specs = kLcsKeys, .handler = lcs},
};

}  // namespace

std::span<const CommandSpec> lcs_commands() { return kCommands; }

}  // namespace cascade::commands
