// Dnsmasq: a real DNS server (Debian's dnsmasq-base) on 127.0.0.1, on a port of its own, for tests
// that count what a resolver asks: it answers the names it is given, NXDOMAIN for other names of
// its domain, and logs every query, which Queries() reads back. A "silent" server beside it (a UDP
// socket that reads nothing) is where a name that never answers is forwarded.
//
// Threads: the test's.
#pragma once

#include <gtest/gtest.h>

#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

#include <csignal>
#include <ctime>
#include <fstream>
#include <memory>
#include <map>
#include <random>
#include <regex>
#include <string>
#include <utility>
#include <vector>

#include "tests/support/poll.h"
#include "tests/support/subprocess.h"
#include <filesystem>

namespace fanout::test {

struct DnsmasqOptions {
  std::string domain = "test";                 // answered here: listed names, else NXDOMAIN
  std::map<std::string, std::string> names;    // name -> address (A, or AAAA when it has a ':')
  int ttl = 300;                               // the TTL of those answers
  // Names the resolver fails for: dnsmasq has no upstream for them and answers REFUSED, which a
  // client takes as it takes SERVFAIL (the resolver's failure, not the name's).
  std::vector<std::string> servfail = {};
  std::vector<std::string> silent = {};        // names never answered (forwarded to a socket that reads nothing)
};

class Dnsmasq {
 public:
  // Starts it; a test that cannot (no dnsmasq, no free port) fails with the reason.
  explicit Dnsmasq(DnsmasqOptions options) {
    char dir[] = "/tmp/fanout-dnsmasq-XXXXXX";
    if (mkdtemp(dir) == nullptr) {
      ADD_FAILURE() << "cannot make a directory for dnsmasq";
      return;
    }
    dir_ = dir;
    silent_fd_ = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (bind(silent_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        getsockname(silent_fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      ADD_FAILURE() << "cannot bind a UDP socket on 127.0.0.1";
      return;
    }
    const int silent_port = ntohs(a.sin_port);
    std::mt19937 random(static_cast<unsigned>(getpid()) ^ static_cast<unsigned>(time(nullptr)));
    for (int attempt = 0; attempt < 20 && port_ == 0; ++attempt) {
      const int port = std::uniform_int_distribution<int>(20000, 60000)(random);
      std::ofstream conf((dir_ + "/dnsmasq.conf"));
      conf << "no-resolv\nno-hosts\nbind-interfaces\nlisten-address=127.0.0.1\nport=" << port << "\n"
           << "user=root\npid-file=\nlog-queries\nlog-facility=" << log() << "\n"
           << "local=/" << options.domain << "/\nlocal-ttl=" << options.ttl << "\nneg-ttl=" << options.ttl << "\n"
           << "cache-size=0\n";
      for (const auto& [name, address] : options.names) {
        conf << "host-record=" << name << "," << address << "," << options.ttl << "\n";
      }
      for (const std::string& name : options.servfail) conf << "server=/" << name << "/#\n";
      for (const std::string& name : options.silent) conf << "server=/" << name << "/127.0.0.1#" << silent_port << "\n";
      conf.close();
      process_ = std::make_unique<Subprocess>(
          std::vector<std::string>{"/usr/sbin/dnsmasq", "--keep-in-foreground", "--conf-file=" + (dir_ + "/dnsmasq.conf")});
      // Up once it logs that it started; gone at once when its port was taken.
      if (PollUntil(5, [&] { return process_->Exited() || Log().find("started, version") != std::string::npos; }) &&
          !process_->Exited()) {
        port_ = port;
      } else {
        process_.reset();
      }
    }
    if (port_ == 0) ADD_FAILURE() << "cannot start dnsmasq (is Debian's dnsmasq-base installed?)";
  }
  ~Dnsmasq() {
    if (process_) process_->Signal(SIGTERM);
    if (silent_fd_ >= 0) close(silent_fd_);
    if (process_) process_->Wait(5000);
    std::error_code ignored;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ignored);
  }
  Dnsmasq(const Dnsmasq&) = delete;
  Dnsmasq& operator=(const Dnsmasq&) = delete;

  bool ok() const { return port_ != 0; }
  // What --dns-server takes.
  std::string server() const { return "127.0.0.1:" + std::to_string(port_); }
  std::string log() const { return dir_ + "/queries.log"; }
  std::string Log() const {
    std::ifstream in(log());
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  // The queries received, in order: (type, name), e.g. ("A", "h1.test").
  std::vector<std::pair<std::string, std::string>> Queries() const {
    std::vector<std::pair<std::string, std::string>> out;
    static const std::regex query(R"(query\[(\w+)\] (\S+) from )");
    std::ifstream in(log());
    for (std::string line; std::getline(in, line);) {
      std::smatch m;
      if (std::regex_search(line, m, query)) out.emplace_back(m[1], m[2]);
    }
    return out;
  }
  // How many queries of `type` asked for `name`.
  int Count(const std::string& type, const std::string& name) const {
    int n = 0;
    for (const auto& [t, q] : Queries()) n += t == type && q == name;
    return n;
  }

 private:
  std::string dir_;
  std::unique_ptr<Subprocess> process_;
  int port_ = 0;
  int silent_fd_ = -1;
};

}  // namespace fanout::test
