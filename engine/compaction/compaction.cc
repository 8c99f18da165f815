// Compaction's queries and DeeperLevels (compaction.h).
#include "engine/compaction/compaction.h"

namespace cascade::engine {

namespace {

std::uint64_t total_bytes(const std::vector<TableFilePtr>& files) {
  std::uint64_t n = 0;
  for (const TableFilePtr& f : files) n += f->file_size;
  return n;
}

}  // namespace

std::uint64_t Compaction::input_bytes() const {
  return total_bytes(inputs[0]) + total_bytes(inputs[1]);
}

std::vector<std::uint64_t> Compaction::input_file_numbers() const {
  std::vector<std::uint64_t> out;
  for (const auto& side : inputs) {
    for (const TableFilePtr& f : side) out.push_back(f->file_number);
  }
  return out;
}

bool Compaction::is_trivial_move() const {
  return !manual && !relocation && inputs[0].size() == 1 && inputs[1].empty() &&
         total_bytes(grandparents) <= max_grandparent_overlap;
}

std::string Compaction::smallest_user_key() const {
  std::string_view best;
  bool first = true;
  for (const auto& side : inputs) {
    for (const TableFilePtr& f : side) {
      if (first || f->smallest_user_key() < best) best = f->smallest_user_key();
      first = false;
    }
  }
  return std::string(best);
}

std::string Compaction::largest_user_key() const {
  std::string_view best;
  bool first = true;
  for (const auto& side : inputs) {
    for (const TableFilePtr& f : side) {
      if (first || f->largest_user_key() > best) best = f->largest_user_key();
      first = false;
    }
  }
  return std::string(best);
}

void Compaction::add_input_removals(VersionEdit& edit) const {
  for (const TableFilePtr& f : inputs[0]) edit.remove_table(level, f->file_number);
  for (const TableFilePtr& f : inputs[1]) edit.remove_table(output_level, f->file_number);
}

void Compaction::add_trivial_move(VersionEdit& edit) const {
  edit.remove_table(level, inputs[0].front()->file_number);
  edit.add_table(output_level, *inputs[0].front());
}

std::string Compaction::debug_string() const {
  std::string s = "L" + std::to_string(level) + "->L" + std::to_string(output_level) + " [";
  for (const TableFilePtr& f : inputs[0]) s += " " + std::to_string(f->file_number);
  s += " ] + [";
  for (const TableFilePtr& f : inputs[1]) s += " " + std::to_string(f->file_number);
  s += " ], " + std::to_string(input_bytes()) + " B";
  if (relocation) s += " (value-log relocation)";
  return s;
}

DeeperLevels::DeeperLevels(const Version& version, int output_level)
    : version_(version), output_level_(output_level) {}

bool DeeperLevels::may_hold(std::string_view user_key) {
  for (int level = output_level_ + 1; level < kNumLevels; ++level) {
    const std::vector<TableFilePtr>& files = version_.files(level);
    std::size_t& i = cursor_[level];
    while (i < files.size() && files[i]->largest_user_key() < user_key) ++i;
    if (i < files.size() && files[i]->smallest_user_key() <= user_key) return true;
  }
  return false;
}

}  // namespace cascade::engine
