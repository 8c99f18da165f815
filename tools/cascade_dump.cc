// cascade-dump: prints an engine file in readable form, the first thing to run when a
// file looks wrong (STYLE rule 21).
//
//   cascade-dump table FILE [--entries] [--file-number N]
//   cascade-dump manifest FILE [--file-number N]
//   cascade-dump vlog FILE [--entries] [--file-number N]
//
// Each file kind is one mode: a row in kModes and one dump_* function. The file number
// (which seeds every checksum) comes from the name "NNNNNN.ext" unless given.
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/table/table_reader.h"
#include "engine/version/file_names.h"
#include "src/runtime/file_system.h"
#include "src/runtime/reactor.h"
#include "tools/dump_manifest.h"
#include "tools/dump_vlog.h"

namespace {

using namespace cascade;
using namespace cascade::engine;

struct Args {
  std::string file;
  bool entries = false;
  std::optional<std::uint64_t> file_number;
};

// Printable form of arbitrary bytes: printable ASCII as is, the rest as \xNN.
std::string escape(std::string_view bytes) {
  std::string out;
  for (unsigned char c : bytes) {
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      char buf[5];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  return out;
}

std::string internal_key_text(std::string_view ikey) {
  ParsedInternalKey p;
  if (!parse_internal_key(ikey, p)) return "<malformed key " + escape(ikey) + ">";
  static const char* const kTypes[] = {"del", "val", "ptr"};
  return "'" + escape(p.user_key) + "' @" + std::to_string(p.sequence) + " " +
         kTypes[static_cast<int>(p.type)];
}

std::string handle_text(std::string_view encoded) {
  auto h = decode_block_handle(encoded);
  if (!h) return "<" + h.error().to_string() + ">";
  return "offset " + std::to_string(h->offset) + " size " + std::to_string(h->stored_size);
}

std::string handle_text(const BlockHandle& h) {
  return "offset " + std::to_string(h.offset) + " size " + std::to_string(h.stored_size);
}

void print_properties(const TableProperties& p) {
  std::printf("properties:\n");
  std::printf("  format version       %llu\n", (unsigned long long)p.format_version);
  std::printf("  file number          %llu\n", (unsigned long long)p.file_number);
  std::printf("  file size            %llu\n", (unsigned long long)p.file_size);
  std::printf("  entries              %llu (%llu deletions)\n", (unsigned long long)p.num_entries,
              (unsigned long long)p.num_deletions);
  std::printf("  raw keys / values    %llu / %llu bytes\n", (unsigned long long)p.raw_key_size,
              (unsigned long long)p.raw_value_size);
  std::printf("  data                 %llu bytes in %llu blocks (%llu compressed)\n",
              (unsigned long long)p.data_size, (unsigned long long)p.num_data_blocks,
              (unsigned long long)p.num_compressed_blocks);
  std::printf("  index                %llu bytes, %llu partitions\n",
              (unsigned long long)p.index_size, (unsigned long long)p.num_index_partitions);
  std::printf("  filter               %llu bytes\n", (unsigned long long)p.filter_size);
  std::printf("  compression          %llu\n", (unsigned long long)p.compression);
  std::printf("  creation time        %llu\n", (unsigned long long)p.creation_time);
  std::printf("  sequences            %llu .. %llu\n", (unsigned long long)p.smallest_sequence,
              (unsigned long long)p.largest_sequence);
  std::printf("  smallest key         %s\n", internal_key_text(p.smallest_key).c_str());
  std::printf("  largest key          %s\n", internal_key_text(p.largest_key).c_str());
}

// Prints every row of an iterator as "key -> handle" or "key = value"; false on error.
bool print_rows(InternalIterator& it, const char* indent, bool values_are_handles) {
  for (it.seek_to_first(); it.valid(); it.next()) {
    std::string value = values_are_handles ? handle_text(it.value())
                                           : "'" + escape(it.value().substr(0, 64)) + "'" +
                                                 (it.value().size() > 64 ? "..." : "");
    std::printf("%s%s %s %s\n", indent, internal_key_text(it.key()).c_str(),
                values_are_handles ? "->" : "=", value.c_str());
  }
  if (!it.status().is_ok()) {
    std::printf("%sERROR: %s\n", indent, it.status().to_string().c_str());
    return false;
  }
  return true;
}

int dump_table(const Args& args) {
  runtime::FileSystem& fs = runtime::real_file_system();
  runtime::OpenOptions o;
  o.direct = true;
  auto file = fs.open(args.file, o);
  if (!file) {
    std::fprintf(stderr, "cascade-dump: %s\n", file.error().to_string().c_str());
    return 1;
  }
  auto size = (*file)->size();
  if (!size) {
    std::fprintf(stderr, "cascade-dump: %s\n", size.error().to_string().c_str());
    return 1;
  }
  std::uint64_t number = args.file_number.value_or(0);
  std::printf("table %s, file number %llu, %llu bytes\n", args.file.c_str(),
              (unsigned long long)number, (unsigned long long)*size);
  auto reader = TableReader::open(**file, number, *size);
  if (!reader) {
    std::printf("ERROR: %s\n", reader.error().to_string().c_str());
    return 2;
  }
  const Footer& f = (*reader)->footer();
  std::printf("footer: format version %u\n  top index   %s\n  filter      %s\n  properties  %s\n",
              f.format_version, handle_text(f.top_index).c_str(), handle_text(f.filter).c_str(),
              handle_text(f.properties).c_str());
  print_properties((*reader)->properties());
  bool ok = true;
  std::printf("top index (partition last separator -> partition):\n");
  ok &= print_rows(*(*reader)->top_index_iterator(), "  ", true);
  std::printf("index (separator -> data block):\n");
  ok &= print_rows(*(*reader)->index_iterator(), "  ", true);
  if (args.entries) {
    std::printf("entries:\n");
    ok &= print_rows(*(*reader)->iterator(), "  ", false);
  }
  return ok ? 0 : 2;
}

int dump_manifest(const Args& args) {
  return cascade::tools::dump_manifest(args.file, args.file_number);
}

struct Mode {
  const char* name;
  int (*dump)(const Args&);
};
int dump_vlog(const Args& args) {
  return cascade::tools::dump_vlog(args.file, args.file_number.value_or(0), args.entries);
}

// Other file kinds (wal) add a row and a dump_* function.
constexpr Mode kModes[] = {
    {"table", &dump_table},
    {"manifest", &dump_manifest},
    {"vlog", &dump_vlog},
};

int usage() {
  std::fprintf(stderr,
               "usage: cascade-dump MODE FILE [--entries] [--file-number N]\n"
               "modes:");
  for (const Mode& m : kModes) std::fprintf(stderr, " %s", m.name);
  std::fprintf(stderr, "\n");
  return 64;
}

std::optional<Args> parse_args(int argc, char** argv) {
  Args args;
  for (int i = 2; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--entries") {
      args.entries = true;
    } else if (a == "--file-number" && i + 1 < argc) {
      args.file_number = std::strtoull(argv[++i], nullptr, 10);
    } else if (args.file.empty() && !a.starts_with("--")) {
      args.file = a;
    } else {
      return std::nullopt;
    }
  }
  if (args.file.empty()) return std::nullopt;
  if (!args.file_number) {
    std::string_view name = args.file;
    if (auto slash = name.rfind('/'); slash != std::string_view::npos) name.remove_prefix(slash + 1);
    args.file_number = parse_numbered_file(name);
  }
  return args;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) return usage();
  auto args = parse_args(argc, argv);
  if (!args) return usage();
  // Outside a fiber, file IO blocks on this thread's reactor.
  cascade::runtime::Reactor reactor;
  if (cascade::Status s = reactor.init(); !s) {
    std::fprintf(stderr, "cascade-dump: %s\n", s.to_string().c_str());
    return 1;
  }
  for (const Mode& m : kModes) {
    if (std::strcmp(argv[1], m.name) == 0) return m.dump(*args);
  }
  return usage();
}
