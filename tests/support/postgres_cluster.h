// PostgresCluster: a private PostgreSQL server for one test binary, started with
// scripts/postgres.sh in a temporary directory, on loopback (or on an address of a network
// namespace, started inside it), stopped and removed at the end.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "tests/support/subprocess.h"

namespace fanout::test {

struct PostgresClusterOptions {
  std::vector<std::string> run_in;  // a command prefix to start the server under, e.g. ip netns exec NS
  std::string address;              // where it listens; "" for 127.0.0.1
  std::string name = "pg";          // its directory is fanout-NAME-PID in the temporary directory
};

class PostgresCluster {
 public:
  // Starts a cluster; url() is "" (and why() says why) when this machine cannot run one.
  explicit PostgresCluster(PostgresClusterOptions options = {}) {
    dir_ = (std::filesystem::temp_directory_path() / ("fanout-" + options.name + "-" + std::to_string(getpid()))).string();
    std::filesystem::remove_all(dir_);
    std::vector<std::string> start = options.run_in;
    for (std::string a : {std::string("/bin/bash"), Script(), std::string("start"), dir_}) start.push_back(a);
    if (!options.address.empty()) {
      start.push_back("0");
      start.push_back(options.address);
    }
    ProcessResult r = RunProcess(start, 60000);
    std::string out = r.out;
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
    if (r.exit_code == 0 && out.rfind("postgresql://", 0) == 0) {
      url_ = out;
    } else {
      why_ = "cannot start PostgreSQL with scripts/postgres.sh (exit " + std::to_string(r.exit_code) + "): " + r.err;
    }
  }
  ~PostgresCluster() { (void)RunProcess({"/bin/bash", Script(), "stop", dir_, "immediate"}, 60000); }
  PostgresCluster(const PostgresCluster&) = delete;
  PostgresCluster& operator=(const PostgresCluster&) = delete;

  const std::string& url() const { return url_; }
  const std::string& why() const { return why_; }
  const std::string& dir() const { return dir_; }
  // Stops the server (`mode`: fast or immediate) and starts it again on the same port.
  ProcessResult Restart(const std::string& mode) { return RunProcess({"/bin/bash", Script(), "restart", dir_, mode}, 60000); }
  // psql against the cluster, as its superuser over the socket: stdout of `sql`.
  ProcessResult Psql(const std::string& sql) {
    return RunProcess({"/usr/bin/psql", "-X", "-q", "-A", "-t", "-h", dir_, "-p", Port(), "-U", "fanout", "-d", "fanout", "-c", sql},
                      30000);
  }

 private:
  static std::string Script() { return std::string(FANOUT_SOURCE_DIR) + "/scripts/postgres.sh"; }
  std::string Port() const { return url_.substr(url_.rfind(':') + 1, url_.rfind('/') - url_.rfind(':') - 1); }
  std::string dir_, url_, why_;
};

}  // namespace fanout::test
