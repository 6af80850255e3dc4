// The JSON-lines request log of `fanout serve --log FILE`, read back for tests that judge a crawl
// at the server: who asked for what, and when (seconds since the server started).
#pragma once

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace fanout::test {

struct LoggedRequest {
  std::string host, target, user_agent;
  double received = 0, answered = 0;
  std::string url() const { return host + target; }
};

// Every entry of the log at `path`, in the order written (lines that are not JSON are skipped:
// the last one may be half written).
inline std::vector<LoggedRequest> ReadRequestLog(const std::string& path) {
  std::vector<LoggedRequest> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_object()) continue;
    out.push_back({j.value("host", ""), j.value("target", ""), j.value("user_agent", ""), j.value("received", 0.0),
                   j.value("answered", 0.0)});
  }
  return out;
}

}  // namespace fanout::test
