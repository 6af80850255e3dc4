// PostgresCluster: a private PostgreSQL server for one test binary, started with
// scripts/postgres.sh in a temporary directory, on loopback, stopped and removed at the end.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "tests/support/subprocess.h"

namespace fanout::test {

class PostgresCluster {
 public:
  // Starts a cluster; url() is "" (and why() says why) when this machine cannot run one.
  PostgresCluster() {
    dir_ = (std::filesystem::temp_directory_path() / ("fanout-pg-" + std::to_string(getpid()))).string();
    std::filesystem::remove_all(dir_);
    ProcessResult r = RunProcess({"/bin/bash", Script(), "start", dir_}, 60000);
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
