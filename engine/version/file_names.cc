// File names of an engine directory; the patterns are in file_names.h.
#include "engine/version/file_names.h"

#include <cstdio>

namespace cascade::engine {

namespace {

std::string padded_number(std::uint64_t number) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%06llu", static_cast<unsigned long long>(number));
  return buf;
}

// Parses a run of at least 6 decimal digits that is all of `digits`.
std::optional<std::uint64_t> parse_digits(std::string_view digits) {
  if (digits.size() < 6 || digits.size() > 20) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    std::uint64_t next = v * 10 + static_cast<std::uint64_t>(c - '0');
    if (next / 10 != v) return std::nullopt;  // overflow
    v = next;
  }
  return v;
}

}  // namespace

std::string manifest_file_name(std::uint64_t number) {
  return std::string(kManifestPrefix) + padded_number(number);
}

std::string numbered_file_name(std::uint64_t number, std::string_view ext) {
  return padded_number(number) + "." + std::string(ext);
}

std::optional<std::uint64_t> parse_manifest_number(std::string_view name) {
  if (!name.starts_with(kManifestPrefix)) return std::nullopt;
  return parse_digits(name.substr(kManifestPrefix.size()));
}

std::optional<std::uint64_t> parse_numbered_file(std::string_view name) {
  std::size_t dot = name.find('.');
  if (dot == std::string_view::npos || dot + 1 == name.size()) return std::nullopt;
  return parse_digits(name.substr(0, dot));
}

}  // namespace cascade::engine
