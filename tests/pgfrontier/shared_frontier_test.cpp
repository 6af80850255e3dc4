// N workers crawling one run through a shared frontier on a real PostgreSQL server (a private
// cluster, scripts/postgres.sh), each a `fanout crawl --frontier` process, judged at the web
// server: its request log says what was fetched, how often, how far apart and how many at once.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <thread>

#include "pgfrontier/frontier_schema.h"
#include "pgfrontier/pg.h"
#include "tests/support/postgres_cluster.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

namespace fanout {
namespace {

using test::ProcessResult;
using test::Subprocess;

const std::string kFanout = FANOUT_BINARY;

test::PostgresCluster& Cluster() {
  static test::PostgresCluster* cluster = new test::PostgresCluster();  // stopped by the environment below
  return *cluster;
}

class ClusterEnvironment : public ::testing::Environment {
 public:
  void TearDown() override { delete &Cluster(); }
};
const auto* const kEnvironment = ::testing::AddGlobalTestEnvironment(new ClusterEnvironment);

// scripts/test.sh installs PostgreSQL: a cluster that does not start is a failure, not a skip.
#define REQUIRE_CLUSTER() ASSERT_FALSE(Cluster().url().empty()) << Cluster().why()

struct Request {
  std::string host, target, user_agent;
  double received = 0, answered = 0;
};

std::vector<Request> ReadLog(const std::string& path) {
  std::vector<Request> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_object()) continue;
    out.push_back({j.value("host", ""), j.value("target", ""), j.value("user_agent", ""), j.value("received", 0.0),
                   j.value("answered", 0.0)});
  }
  return out;
}

// How often each URL (host + target) was requested.
std::map<std::string, int> Counts(const std::vector<Request>& log) {
  std::map<std::string, int> n;
  for (const Request& r : log) ++n[r.host + r.target];
  return n;
}

// Per host, the most requests being answered at once and the smallest gap between two arrivals.
struct HostLoad {
  int max_in_flight = 0;
  double min_gap = 1e9;
};
std::map<std::string, HostLoad> LoadByHost(const std::vector<Request>& log) {
  std::map<std::string, std::vector<const Request*>> by_host;
  for (const Request& r : log) by_host[r.host].push_back(&r);
  std::map<std::string, HostLoad> out;
  for (auto& [host, reqs] : by_host) {
    std::sort(reqs.begin(), reqs.end(), [](const Request* a, const Request* b) { return a->received < b->received; });
    HostLoad& load = out[host];
    std::vector<std::pair<double, int>> events;
    for (size_t i = 0; i < reqs.size(); ++i) {
      if (i > 0) load.min_gap = std::min(load.min_gap, reqs[i]->received - reqs[i - 1]->received);
      events.push_back({reqs[i]->received, +1});
      events.push_back({reqs[i]->answered, -1});
    }
    std::sort(events.begin(), events.end());  // an answer before an arrival at the same instant
    int now = 0;
    for (const auto& e : events) load.max_in_flight = std::max(load.max_in_flight, now += e.second);
  }
  return out;
}

// A synthetic web of `hosts` hosts x `pages` pages, logging every request.
struct Web {
  Web(const test::TempDir& dir, int hosts, int pages, int latency_ms, std::vector<std::string> extra = {})
      : log(dir.File("requests.log")) {
    std::vector<std::string> args = {kFanout, "serve", "--synthetic", std::to_string(pages), "--hosts",
                                     std::to_string(hosts), "--latency", std::to_string(latency_ms),
                                     "--log", log, "--port", "0", "--duration", "300"};
    args.insert(args.end(), extra.begin(), extra.end());
    server = std::make_unique<Subprocess>(args);
    url = server->ReadStdoutLine(10000);
  }
  std::string log, url;
  std::unique_ptr<Subprocess> server;
};

std::vector<std::string> WorkerArgs(const std::string& seed, const std::string& name, const std::string& db,
                                    std::vector<std::string> extra) {
  std::vector<std::string> args = {kFanout, "crawl", seed, "--frontier", Cluster().url(), "--worker", name,
                                   "--db", db, "--allow-domain", "localhost", "--timeout", "3", "--lease", "6",
                                   "--user-agent", "fanout-" + name, "-q"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

// Rows of one SQL query on an SQLite file, each row's columns joined by '|'.
std::set<std::string> Rows(const std::string& db, const std::string& sql) {
  sqlite3* h = nullptr;
  std::set<std::string> out;
  if (sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(h);
    return out;
  }
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(h, sql.c_str(), -1, &st, nullptr) == SQLITE_OK) {
    while (sqlite3_step(st) == SQLITE_ROW) {
      std::string row;
      for (int c = 0; c < sqlite3_column_count(st); ++c) {
        const unsigned char* t = sqlite3_column_text(st, c);
        row += (c > 0 ? "|" : "") + std::string(t != nullptr ? reinterpret_cast<const char*>(t) : "");
      }
      out.insert(row);
    }
  }
  sqlite3_finalize(st);
  sqlite3_close(h);
  return out;
}

std::set<std::string> Union(const std::vector<std::string>& dbs, const std::string& sql) {
  std::set<std::string> all;
  for (const std::string& db : dbs) all.merge(Rows(db, sql));
  return all;
}

constexpr const char* kPagesSql = "SELECT url FROM pages";
constexpr const char* kEdgesSql = "SELECT p.url, l.to_url FROM links l JOIN pages p ON p.id = l.page_id";

TEST(SharedFrontier, ThreeWorkersFetchEveryPageOnceAndKeepEachHostsLimitsAcrossWorkers) {
  REQUIRE_CLUSTER();
  test::TempDir dir;
  constexpr int kHosts = 10, kPages = 12;
  constexpr double kDelay = 0.08;
  Web web(dir, kHosts, kPages, 15);
  ASSERT_FALSE(web.url.empty());
  // Each worker holds two hosts at most, so hosts pass from worker to worker as they go idle.
  const std::vector<std::string> limits = {"-c", "4", "--per-host", "2", "--delay", std::to_string(kDelay),
                                           "--frontier-hosts", "2"};
  std::vector<std::string> dbs;
  std::vector<std::unique_ptr<Subprocess>> workers;
  for (const char* name : {"a", "b", "c"}) {
    dbs.push_back(dir.File(std::string(name) + ".db"));
    workers.push_back(std::make_unique<Subprocess>(WorkerArgs(web.url, name, dbs.back(), limits)));
  }
  std::set<std::string> agents;
  for (auto& w : workers) {
    ProcessResult r = w->Wait(90000);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.err.find("fanout:fanout@"), std::string::npos) << "the password was printed: " << r.err;
  }
  const std::vector<Request> log = ReadLog(web.log);
  const std::map<std::string, int> counts = Counts(log);
  EXPECT_EQ(counts.size(), static_cast<size_t>(kHosts * (kPages + 1))) << "every page and robots.txt, once each";
  for (const auto& [url, n] : counts) EXPECT_EQ(n, 1) << url << " requested " << n << " times";
  for (const Request& r : log) agents.insert(r.user_agent);
  EXPECT_GE(agents.size(), 2u) << "the work was shared";
  for (const auto& [host, load] : LoadByHost(log)) {
    EXPECT_LE(load.max_in_flight, 2) << host;
    EXPECT_GE(load.min_gap, kDelay - 0.002) << host;
  }

  // The workers' databases hold what one worker alone would have stored.
  const std::string single = dir.File("single.db");
  ProcessResult alone = test::RunProcess({kFanout, "crawl", web.url, "--db", single, "--allow-domain", "localhost", "-q"},
                                         60000);
  ASSERT_EQ(alone.exit_code, 0) << alone.err;
  EXPECT_EQ(Union(dbs, kPagesSql), Rows(single, kPagesSql));
  EXPECT_EQ(Union(dbs, kEdgesSql), Rows(single, kEdgesSql));
  // Each worker's run says whose it is and where the frontier was, without the password.
  for (size_t i = 0; i < dbs.size(); ++i) {
    std::set<std::string> runs = Rows(dbs[i], "SELECT worker, frontier, frontier_run > 0 FROM runs");
    ASSERT_EQ(runs.size(), 1u);
    EXPECT_NE(runs.begin()->find("fanout:***@"), std::string::npos) << *runs.begin();
    EXPECT_EQ(runs.begin()->substr(0, 2), std::string(1, "abc"[i]) + "|");
  }

  // fanout frontier status reads the run as done, its workers gone.
  ProcessResult status = test::RunProcess({kFanout, "frontier", "status", Cluster().url(), "--json"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  nlohmann::json runs = nlohmann::json::parse(status.out);
  const nlohmann::json* run = nullptr;
  for (const nlohmann::json& r : runs) {
    if (r["seeds"][0] == web.url) run = &r;
  }
  ASSERT_NE(run, nullptr) << status.out;
  EXPECT_EQ((*run)["done"], kHosts * kPages);
  EXPECT_EQ((*run)["queued"], 0);
  EXPECT_EQ((*run)["in_flight"], 0);
  EXPECT_NE((*run)["finished_at"], "");
  ASSERT_EQ((*run)["workers"].size(), 3u);
  for (const nlohmann::json& w : (*run)["workers"]) EXPECT_TRUE(w["left"].get<bool>()) << w.dump();
}

}  // namespace
}  // namespace fanout
