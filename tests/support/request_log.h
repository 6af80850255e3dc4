// The JSON-lines request log of `fanout serve --log FILE`, read back for tests that judge a crawl
// at the server: who asked for what, and when (seconds since the server started).
#pragma once

#include <algorithm>
#include <fstream>
#include <map>
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

// Per host (its Host header), as the server saw it: the most requests being answered at once, the
// smallest gap between two arrivals, and how often two arrivals in a row came from different user
// agents (a host passing from one worker to another).
struct HostLoad {
  int max_in_flight = 0;
  double min_gap = 1e9;
  int handovers = 0;
};
inline std::map<std::string, HostLoad> LoadByHost(const std::vector<LoggedRequest>& log) {
  std::map<std::string, std::vector<const LoggedRequest*>> by_host;
  for (const LoggedRequest& r : log) by_host[r.host].push_back(&r);
  std::map<std::string, HostLoad> out;
  for (auto& [host, reqs] : by_host) {
    std::sort(reqs.begin(), reqs.end(),
              [](const LoggedRequest* a, const LoggedRequest* b) { return a->received < b->received; });
    HostLoad& load = out[host];
    std::vector<std::pair<double, int>> events;
    for (size_t i = 0; i < reqs.size(); ++i) {
      if (i > 0) {
        load.min_gap = std::min(load.min_gap, reqs[i]->received - reqs[i - 1]->received);
        load.handovers += reqs[i]->user_agent != reqs[i - 1]->user_agent;
      }
      events.push_back({reqs[i]->received, +1});
      events.push_back({reqs[i]->answered, -1});
    }
    std::sort(events.begin(), events.end());  // an answer before an arrival at the same instant
    int now = 0;
    for (const auto& e : events) load.max_in_flight = std::max(load.max_in_flight, now += e.second);
  }
  return out;
}

}  // namespace fanout::test
