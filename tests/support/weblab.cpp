#include "tests/support/weblab.h"

#include <unistd.h>

#include <atomic>
#include <fstream>
#include <regex>
#include <sstream>

#include "tests/support/scratch_netns.h"

namespace fanout::test {
namespace {

std::string Number(double x) {
  std::ostringstream out;
  out << x;
  return out.str();
}

// Unique to this process and this lab, so that tests running at once never share namespaces.
std::string NewPrefix() {
  static std::atomic<int> labs{0};
  return "fanout-wl" + std::to_string(getpid()) + "-" + std::to_string(labs++) + "-";
}

}  // namespace

WebLab::WebLab(WebLabOptions options) : options_(std::move(options)), prefix_(NewPrefix()) {
  const WebLabOptions& o = options_;
  std::vector<std::string> args = {"up",
                                   "--hosts", std::to_string(o.hosts),
                                   "--pages", std::to_string(o.pages),
                                   "--domain", o.domain,
                                   "--ips", std::to_string(o.ips),
                                   "--ttl", std::to_string(o.ttl),
                                   "--dns-delay", std::to_string(o.dns_delay_ms),
                                   "--nxdomain", Number(o.nxdomain),
                                   "--servfail", Number(o.servfail),
                                   "--silent", std::to_string(o.silent),
                                   "--ipv6-only", std::to_string(o.ipv6_only),
                                   "--port", std::to_string(o.port),
                                   "--resolv-options", o.resolv_options,
                                   // Outlives no test by much, even if the test is killed before down.
                                   "--lifetime", "600"};
  if (!o.serve_args.empty()) {
    args.push_back("--");
    args.insert(args.end(), o.serve_args.begin(), o.serve_args.end());
  }
  ProcessResult r = Script(args, o.timeout_ms);
  if (r.exit_code != 0) {
    why_ = "scripts/weblab.sh up failed (exit " + std::to_string(r.exit_code) + (r.timed_out ? ", timed out" : "") +
           (r.exit_code == 3 ? ": this machine cannot make network namespaces; the lab needs root" : "") +
           "): " + r.err;
    return;
  }
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    const size_t eq = line.find('=');
    if (eq != std::string::npos) facts_[line.substr(0, eq)] = line.substr(eq + 1);
  }
  up_ = !Fact("NS_CRAWLER").empty() && !Fact("QUERY_LOG").empty();
  if (!up_) why_ = "scripts/weblab.sh up printed no NS_CRAWLER or QUERY_LOG: " + r.out;
}

WebLab::~WebLab() { (void)Script({"down"}); }

std::string WebLab::Fact(const std::string& key) const {
  auto it = facts_.find(key);
  return it == facts_.end() ? std::string() : it->second;
}

std::map<std::string, std::string> WebLab::NameKinds() const {
  std::map<std::string, std::string> kinds;
  std::ifstream in(Fact("NAMES"));
  for (std::string name, kind, address; in >> name >> kind >> address;) kinds[name] = kind;
  return kinds;
}

std::vector<std::string> WebLab::InCrawler(std::vector<std::string> args) const {
  args.insert(args.begin(), {IpBinary(), "netns", "exec", Fact("NS_CRAWLER")});
  return args;
}

ProcessResult WebLab::RunInCrawler(std::vector<std::string> args, int timeout_ms) const {
  return RunProcess(InCrawler(std::move(args)), timeout_ms);
}

std::vector<DnsQuery> WebLab::Queries() const {
  // dnsmasq's --log-queries: "Dec  7 20:47:41 dnsmasq[29776]: query[A] h0.web.test from 10.204.0.3"
  static const std::regex kQuery(R"(: query\[([A-Za-z0-9]+)\] (\S+) from (\S+)$)");
  std::vector<DnsQuery> queries;
  std::ifstream in(Fact("QUERY_LOG"));
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (std::regex_search(line, m, kQuery)) queries.push_back(DnsQuery{m[2], m[1], m[3]});
  }
  return queries;
}

ProcessResult WebLab::Ask(const std::string& name, const std::string& type, int seconds) const {
  return Script({"ask", name, type, std::to_string(seconds)}, (seconds + 10) * 1000);
}

std::string WebLab::IpsJson() const {
  ProcessResult r = RunInCrawler({"curl", "-s", "--max-time", "5", Fact("IPS_URL")}, 10000);
  return r.exit_code == 0 ? r.out : std::string();
}

bool WebLab::CutResolver() { return Script({"cut", "dns"}).exit_code == 0; }
bool WebLab::HealResolver() { return Script({"heal", "dns"}).exit_code == 0; }

ProcessResult WebLab::Script(const std::vector<std::string>& args, int timeout_ms) const {
  std::vector<std::string> cmd = {"/usr/bin/env", "FANOUT_LAB_PREFIX=" + prefix_, "FANOUT=" + options_.fanout,
                                  "/bin/bash", options_.script};
  cmd.insert(cmd.end(), args.begin(), args.end());
  return RunProcess(cmd, timeout_ms);
}

}  // namespace fanout::test
