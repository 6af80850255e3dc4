// TextTable: rows of text printed in aligned columns, for summaries a person reads in a terminal.
//
// Each column is left- or right-aligned as `align` says ('l' or 'r' per column; by default the
// first column, the labels, left and the figures right). Cells are plain text: callers format
// numbers, so each table decides its own precision.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace fanout::cli {

class TextTable {
 public:
  explicit TextTable(std::vector<std::string> header, std::string align = "");

  // A row with fewer cells than the header is padded with blanks; extra cells are ignored.
  void AddRow(std::vector<std::string> cells);

  // Prints the header, a rule under it, then the rows; every line starts with `indent`.
  void Print(std::ostream& out, const std::string& indent = "") const;

 private:
  std::vector<std::string> header_;
  std::string align_;
  std::vector<std::vector<std::string>> rows_;
};

// `v` with `digits` digits after the point: Fixed(1.234, 1) == "1.2".
std::string Fixed(double v, int digits);

}  // namespace fanout::cli
