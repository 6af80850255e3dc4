// WebLab: scripts/weblab.sh's lab for one test: a synthetic web (`fanout serve --hosts`), a real DNS
// resolver (dnsmasq) that names its hosts, and a crawler namespace whose resolv.conf names that
// resolver, each in a network namespace of the test's own (a prefix with this process's PID and a
// counter), taken down with everything it runs when the WebLab is destroyed.
//
// A machine that cannot make the lab (not root, no network namespaces, no dnsmasq) is a failure,
// not a skip: up() is false and why() says what weblab.sh said, for ASSERT_TRUE(lab.up()) << lab.why().
//
// Threads: one at a time. Every call runs weblab.sh, ip or curl as a child process, bounded in time.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "tests/support/subprocess.h"

namespace fanout::test {

// weblab.sh up's options (its header says more).
struct WebLabOptions {
  uint64_t hosts = 20;                  // --hosts: h0.DOMAIN .. h{N-1}.DOMAIN
  uint64_t pages = 5;                   // --pages per host
  std::string domain = "web.test";      // --domain
  int ips = 2;                          // --ips: the web's IPv4 addresses, host i on the (i mod K)-th
  int ttl = 300;                        // --ttl of the resolver's answers
  int dns_delay_ms = 0;                 // --dns-delay
  double nxdomain = 0;                  // --nxdomain: share of the hosts not in the DNS
  double servfail = 0;                  // --servfail: share of the hosts answered SERVFAIL
  int silent = 0;                       // --silent: hosts whose queries are never answered
  int ipv6_only = 0;                    // --ipv6-only: hosts with an AAAA record only
  int port = 80;                        // --port of the web
  std::string resolv_options = "";      // --resolv-options: "timeout:1 attempts:2"
  std::vector<std::string> serve_args = {};  // more fanout serve options ("--latency", "50")
  std::string fanout = FANOUT_BINARY;   // the binary the web runs
  std::string script = std::string(FANOUT_SOURCE_DIR) + "/scripts/weblab.sh";
  int timeout_ms = 60000;               // for up
};

// One query the resolver received, from its log.
struct DnsQuery {
  std::string name;  // "h3.web.test"
  std::string type;  // "A", "AAAA", ...
  std::string from;  // the client's address ("10.204.0.3"; 127.0.0.1 through the delaying relay)
  friend bool operator==(const DnsQuery&, const DnsQuery&) = default;
};

class WebLab {
 public:
  // Runs `weblab.sh up` with `options`.
  explicit WebLab(WebLabOptions options = {});
  ~WebLab();  // `weblab.sh down`
  WebLab(const WebLab&) = delete;
  WebLab& operator=(const WebLab&) = delete;

  bool up() const { return up_; }
  // Why the lab is not up: weblab.sh's exit code and stderr.
  const std::string& why() const { return why_; }
  const std::string& prefix() const { return prefix_; }

  // A KEY=VALUE line up printed: Fact("SEED") is "http://h0.web.test/"; "" for a key it did not print.
  std::string Fact(const std::string& key) const;
  const std::map<std::string, std::string>& facts() const { return facts_; }
  // The names file: name -> kind (a, aaaa, nxdomain, servfail, silent).
  std::map<std::string, std::string> NameKinds() const;

  // The command line that runs `args` in the crawler namespace (for Subprocess or RunProcess),
  // where the lab's resolver answers for the web's names.
  std::vector<std::string> InCrawler(std::vector<std::string> args) const;
  ProcessResult RunInCrawler(std::vector<std::string> args, int timeout_ms = 30000) const;

  // The queries the resolver has received since up, in order.
  std::vector<DnsQuery> Queries() const;
  // `weblab.sh ask NAME TYPE SECONDS`: one query from the crawler namespace; out is
  // "NOERROR 10.204.0.10 ttl=300 1 ms", "NXDOMAIN 0 ms", "SERVFAIL 1 ms", or "timeout" (exit 1).
  ProcessResult Ask(const std::string& name, const std::string& type = "A", int seconds = 3) const;
  // What GET /__ips of the web answers, fetched from the crawler namespace; "" if it could not be.
  std::string IpsJson() const;

  // Takes the resolver off the LAN (its bridge port down: queries vanish), and puts it back.
  bool CutResolver();
  bool HealResolver();

 private:
  ProcessResult Script(const std::vector<std::string>& args, int timeout_ms = 30000) const;

  WebLabOptions options_;
  std::string prefix_;
  std::map<std::string, std::string> facts_;
  bool up_ = false;
  std::string why_;
};

}  // namespace fanout::test
