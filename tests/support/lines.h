// Lines of a program's output, for tests that read what a command printed.
#pragma once

#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

namespace fanout::test {

// The lines of `text`, without their '\n' (a last line without one counts too).
inline std::vector<std::string> SplitLines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// How many '\n' `text` holds: the number of whole lines printed.
inline int LineCount(const std::string& text) { return static_cast<int>(std::count(text.begin(), text.end(), '\n')); }

}  // namespace fanout::test
