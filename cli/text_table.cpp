#include "cli/text_table.h"

#include <algorithm>
#include <cstdio>

namespace fanout::cli {

TextTable::TextTable(std::vector<std::string> header, std::string align)
    : header_(std::move(header)), align_(std::move(align)) {
  if (align_.empty()) align_.push_back('l');
  align_.resize(header_.size(), 'r');
}

void TextTable::AddRow(std::vector<std::string> cells) {
  cells.resize(header_.size());
  rows_.push_back(std::move(cells));
}

void TextTable::Print(std::ostream& out, const std::string& indent) const {
  std::vector<size_t> width(header_.size());
  for (size_t i = 0; i < header_.size(); ++i) width[i] = header_[i].size();
  for (const auto& row : rows_) {
    for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  }
  // Returns the line's length without indent.
  auto print_line = [&](const std::vector<std::string>& cells) {
    std::string line = indent;
    for (size_t i = 0; i < cells.size(); ++i) {
      const std::string pad(width[i] - cells[i].size(), ' ');
      if (i > 0) line += "  ";
      line += align_[i] == 'l' ? cells[i] + pad : pad + cells[i];
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out << line << "\n";
    return line.size() - indent.size();
  };
  // The rule is as long as the header: a label-and-text table is not underlined to its longest text.
  out << indent << std::string(print_line(header_), '-') << "\n";
  for (const auto& row : rows_) print_line(row);
}

std::string Fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

}  // namespace fanout::cli
