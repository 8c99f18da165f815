#include "src/server/config.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <fstream>
#include <sstream>

#include "resp/inline_splitter.h"
#include "src/server/glob_match.h"

namespace cascade::server {
namespace {

constexpr std::int64_t kKiB = 1024, kMiB = kKiB * 1024, kGiB = kMiB * 1024;

Directive make(std::string_view name, DirectiveType type, bool live) {
  Directive d;
  d.name = name;
  d.type = type;
  d.live = live;
  return d;
}
Directive integer(std::string_view name, std::int64_t ServerConfig::*field, std::int64_t min,
                  std::int64_t max, bool live) {
  Directive d = make(name, DirectiveType::kInteger, live);
  d.min = min;
  d.max = max;
  d.integer = field;
  return d;
}
Directive bytes(std::string_view name, std::int64_t ServerConfig::*field, std::int64_t min,
                std::int64_t max, bool live) {
  Directive d = integer(name, field, min, max, live);
  d.type = DirectiveType::kBytes;
  return d;
}
Directive text(std::string_view name, std::string ServerConfig::*field, bool live) {
  Directive d = make(name, DirectiveType::kString, live);
  d.text = field;
  return d;
}
Directive choice(std::string_view name, std::string ServerConfig::*field,
                 std::vector<std::string_view> choices, bool live) {
  Directive d = make(name, DirectiveType::kEnum, live);
  d.choices = std::move(choices);
  d.text = field;
  return d;
}
Directive flag(std::string_view name, bool ServerConfig::*field, bool live) {
  Directive d = make(name, DirectiveType::kBool, live);
  d.boolean = field;
  return d;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool parse_integer(std::string_view s, std::int64_t& out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

Status parse_value(const Directive& d, std::string_view value, ServerConfig& cfg) {
  switch (d.type) {
    case DirectiveType::kBool: {
      std::string v = lower(value);
      if (v != "yes" && v != "no") return Status::invalid_argument("argument must be 'yes' or 'no'");
      cfg.*d.boolean = v == "yes";
      return Status::ok();
    }
    case DirectiveType::kInteger:
    case DirectiveType::kBytes: {
      std::int64_t v;
      bool ok = d.type == DirectiveType::kBytes ? parse_memory(value, v) : parse_integer(value, v);
      if (!ok) {
        return Status::invalid_argument(d.type == DirectiveType::kBytes
                                            ? "argument must be a memory value"
                                            : "argument couldn't be parsed into an integer");
      }
      if (v < d.min || v > d.max) {
        return Status::invalid_argument("argument must be between " + std::to_string(d.min) +
                                        " and " + std::to_string(d.max) + " inclusive");
      }
      cfg.*d.integer = v;
      return Status::ok();
    }
    case DirectiveType::kEnum: {
      std::string v = lower(value);
      if (std::find(d.choices.begin(), d.choices.end(), v) == d.choices.end()) {
        std::string list;
        for (auto c : d.choices) list += (list.empty() ? "" : ", ") + std::string(c);
        return Status::invalid_argument("argument(s) must be one of the following: " + list);
      }
      cfg.*d.text = v;
      return Status::ok();
    }
    case DirectiveType::kString:
      cfg.*d.text = std::string(value);
      return Status::ok();
  }
  return Status::invalid_argument("unknown directive type");
}

// Quotes a value for a config file if it needs it, so split_config_line reads it back.
std::string quote_if_needed(const std::string& v) {
  bool plain = !v.empty() && std::all_of(v.begin(), v.end(), [](unsigned char c) {
    return std::isgraph(c) && c != '"' && c != '\'' && c != '\\';
  });
  if (plain) return v;
  std::string out = "\"";
  for (unsigned char c : v) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (std::isprint(c)) {
          out += static_cast<char>(c);
        } else {
          static const char kHex[] = "0123456789abcdef";
          out += "\\x";
          out += kHex[c >> 4];
          out += kHex[c & 15];
        }
    }
  }
  return out + "\"";
}

}  // namespace

const std::vector<Directive>& directives() {
  using C = ServerConfig;
  static const std::vector<Directive> kTable = {
      integer("port", &C::port, 0, 65535, false),
      text("bind", &C::bind, false),
      text("requirepass", &C::requirepass, true),
      integer("maxclients", &C::maxclients, 1, 1000000, true),
      integer("timeout", &C::timeout, 0, INT32_MAX, true),
      bytes("proto-max-bulk-len", &C::proto_max_bulk_len, 1024 * 1024, INT64_MAX, true),
      bytes("client-query-buffer-limit", &C::client_query_buffer_limit, 1024 * 1024, kGiB * 1024,
            true),
      text("dir", &C::dir, false),
      integer("shards", &C::shards, 0, 1024, false),
      integer("databases", &C::databases, 1, 1000000, false),
      choice("loglevel", &C::loglevel, {"debug", "verbose", "notice", "warning", "nothing"}, true),
      text("logfile", &C::logfile, false),
      flag("appendonly", &C::appendonly, false),
      choice("appendfsync", &C::appendfsync, {"always", "everysec", "no"}, true),
      bytes("memtable-size", &C::memtable_size, kMiB, 16 * kGiB, true),
      bytes("block-cache-size", &C::block_cache_size, kMiB, 1024 * kGiB, true),
      bytes("wal-segment-size", &C::wal_segment_size, kMiB, 16 * kGiB, false),
      integer("wal-segments", &C::wal_segments, 2, 1024, false),
      bytes("min-blob-size", &C::min_blob_size, 0, INT64_MAX, true),
      bytes("compaction-rate-limit", &C::compaction_rate_limit, 0, INT64_MAX, true),
  };
  return kTable;
}

const Directive* find_directive(std::string_view name) {
  std::string key = lower(name);
  for (const Directive& d : directives()) {
    if (d.name == key) return &d;
  }
  return nullptr;
}

bool parse_memory(std::string_view text, std::int64_t& out) {
  std::string s = lower(text);
  struct Unit {
    std::string_view suffix;
    std::int64_t factor;
  };
  static constexpr Unit kUnits[] = {{"kb", kKiB}, {"mb", kMiB}, {"gb", kGiB},
                                    {"k", 1000},  {"m", 1000 * 1000}, {"g", 1000 * 1000 * 1000}};
  std::int64_t factor = 1;
  std::string_view digits = s;
  for (const Unit& u : kUnits) {
    if (digits.size() > u.suffix.size() && digits.ends_with(u.suffix)) {
      factor = u.factor;
      digits.remove_suffix(u.suffix.size());
      break;
    }
  }
  std::int64_t v;
  if (!parse_integer(digits, v) || v < 0) return false;
  if (v > INT64_MAX / factor) return false;
  out = v * factor;
  return true;
}

bool split_config_line(std::string_view line, std::vector<std::string>& out) {
  // Redis reads its config file with the same splitter as inline commands.
  std::string scratch;
  std::vector<std::string_view> views;
  if (!resp::split_inline_args(line, scratch, views)) return false;
  out.assign(views.begin(), views.end());
  return true;
}

Status Config::apply_line(const std::vector<std::string>& args, bool running) {
  if (args.size() != 2) {
    const Directive* d = args.empty() ? nullptr : find_directive(args[0]);
    if (d && d->type == DirectiveType::kString && args.size() == 1) {
      return set(args[0], "", running);  // `requirepass` alone clears it, as in Redis
    }
    return Status::invalid_argument("Bad directive or wrong number of arguments");
  }
  return set(args[0], args[1], running);
}

Status Config::set(std::string_view name, std::string_view value, bool running) {
  const Directive* d = find_directive(name);
  if (!d) return Status::invalid_argument("Bad directive or wrong number of arguments");
  if (running && !d->live) {
    return Status::invalid_argument("can't set immutable config");
  }
  return parse_value(*d, value, values_);
}

Status Config::load_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::io_error("can't open config file '" + path + "'");
  file_ = path;
  std::string line;
  std::vector<std::string> args;
  for (int number = 1; std::getline(in, line); ++number) {
    std::string_view trimmed = line;
    while (!trimmed.empty() && std::isspace(static_cast<unsigned char>(trimmed.front()))) {
      trimmed.remove_prefix(1);
    }
    if (trimmed.empty() || trimmed.front() == '#') continue;
    Status s = split_config_line(trimmed, args)
                   ? apply_line(args, false)
                   : Status::invalid_argument("Unbalanced quotes in configuration line");
    if (!s) {
      return Status::invalid_argument("Reading the configuration file " + path + ", at line " +
                                      std::to_string(number) + "\n>>> '" + line + "'\n" +
                                      s.message());
    }
  }
  return Status::ok();
}

Status Config::apply_flags(const std::vector<std::string>& args) {
  std::size_t i = 0;
  while (i < args.size()) {
    const std::string& a = args[i];
    if (a.size() < 3 || a.compare(0, 2, "--") != 0) {
      return Status::invalid_argument("unexpected argument '" + a + "' (flags are --directive value)");
    }
    std::vector<std::string> line{a.substr(2)};
    for (++i; i < args.size() && args[i].compare(0, 2, "--") != 0; ++i) line.push_back(args[i]);
    Status s = apply_line(line, false);
    if (!s) return Status::invalid_argument("--" + line[0] + ": " + s.message());
  }
  return Status::ok();
}

std::string Config::get(const Directive& d) const {
  switch (d.type) {
    case DirectiveType::kBool: return values_.*d.boolean ? "yes" : "no";
    case DirectiveType::kInteger:
    case DirectiveType::kBytes: return std::to_string(values_.*d.integer);
    case DirectiveType::kString:
    case DirectiveType::kEnum: return values_.*d.text;
  }
  return {};
}

std::vector<std::pair<std::string, std::string>> Config::match(std::string_view pattern) const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const Directive& d : directives()) {
    if (glob_match(pattern, d.name, true)) out.emplace_back(std::string(d.name), get(d));
  }
  return out;
}

Status Config::rewrite(const std::string& path) const {
  std::vector<std::string> lines;
  {
    std::ifstream in(path);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
  }
  std::vector<bool> written(directives().size(), false);
  std::vector<std::string> args;
  for (std::string& line : lines) {
    if (!split_config_line(line, args) || args.empty() || args[0].starts_with("#")) continue;
    const Directive* d = find_directive(args[0]);
    if (!d) continue;
    std::size_t index = d - directives().data();
    if (written[index]) {
      line = "# " + line;  // a repeated directive: the first occurrence carries the value
      continue;
    }
    line = std::string(d->name) + " " + quote_if_needed(get(*d));
    written[index] = true;
  }
  Config pristine;
  for (std::size_t i = 0; i < directives().size(); ++i) {
    const Directive& d = directives()[i];
    if (written[i] || get(d) == pristine.get(d)) continue;
    lines.push_back(std::string(d.name) + " " + quote_if_needed(get(d)));
  }
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    for (const std::string& line : lines) out << line << '\n';
    out.flush();
    if (!out) return Status::io_error("can't write '" + tmp + "'");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    return Status::from_errno(errno, "rename '" + tmp + "'");
  }
  return Status::ok();
}

}  // namespace cascade::server
