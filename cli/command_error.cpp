#include "cli/command_error.h"

#include <iostream>
#include <string>

namespace fanout::cli {

void Say(std::string_view command, std::string_view message) {
  std::string line = "fanout ";
  line.append(command).append(": ").append(message).append("\n");
  std::cerr << line;
}

int Fail(std::string_view command, std::string_view message, int code) {
  Say(command, message);
  return code;
}

int Fail(std::string_view command, const Status& error, int code) { return Fail(command, error.message(), code); }

}  // namespace fanout::cli
