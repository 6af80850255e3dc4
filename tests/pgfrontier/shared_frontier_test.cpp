// N workers crawling one run through a shared frontier on a real PostgreSQL server (a private
// cluster, scripts/postgres.sh), each a `fanout crawl --frontier` process, judged at the web
// server: its request log says what was fetched, how often, how far apart and how many at once.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <functional>
#include <chrono>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <thread>

#include "pgfrontier/frontier_schema.h"
#include "pgfrontier/pg.h"
#include "storage/sqlite.h"
#include "tests/support/http_client.h"
#include "tests/support/poll.h"
#include "tests/support/postgres_cluster.h"
#include "tests/support/request_log.h"
#include "tests/support/status_matchers.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

namespace fanout {
namespace {

using test::HostLoad;
using test::LoggedRequest;
using test::LoadByHost;
using test::PollUntil;
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

// How often each URL (host + target) was requested.
std::map<std::string, int> Counts(const std::vector<LoggedRequest>& log) {
  std::map<std::string, int> n;
  for (const LoggedRequest& r : log) ++n[r.url()];
  return n;
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
                                    std::vector<std::string> extra, const std::string& lease = "6") {
  std::vector<std::string> args = {kFanout, "crawl", seed, "--frontier", Cluster().url(), "--worker", name,
                                   "--db", db, "--allow-domain", "localhost", "--timeout", "3", "--lease", lease,
                                   "--user-agent", "fanout-" + name, "-q"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

// Rows of one SQL query on an SQLite file, each row's columns joined by '|'.
std::set<std::string> Rows(const std::string& db, const std::string& sql) {
  std::set<std::string> out;
  Result<SqliteDb> h = SqliteDb::OpenReadOnly(db);
  if (!h.ok()) return out;  // not there yet: no rows
  Result<SqliteStmt> st = h->Prepare(sql);
  if (!st.ok()) return out;
  while (true) {
    Result<bool> row = st->Step();
    if (!row.ok() || !*row) break;
    std::string text;
    for (int c = 0; c < st->ColumnCount(); ++c) text += (c > 0 ? "|" : "") + st->ColumnText(c);
    out.insert(text);
  }
  return out;
}

std::set<std::string> Union(const std::vector<std::string>& dbs, const std::string& sql) {
  std::set<std::string> all;
  for (const std::string& db : dbs) all.merge(Rows(db, sql));
  return all;
}

// Requests each URL cost the workers, by their databases (a retry after a timeout is a second
// request, not a second fetch), keyed as Counts keys the server's log.
std::map<std::string, int> Attempts(const std::vector<std::string>& dbs) {
  std::map<std::string, int> n;
  for (const std::string& db : dbs) {
    for (const std::string& row : Rows(db, "SELECT url || '|' || attempts || '|' || id FROM pages")) {
      std::string url = row.substr(0, row.find('|'));
      if (url.rfind("http://", 0) == 0) url = url.substr(7);
      n[url] += std::stoi(row.substr(row.find('|') + 1));
    }
  }
  return n;
}

constexpr const char* kPagesSql = "SELECT url FROM pages";
constexpr const char* kEdgesSql = "SELECT p.url, l.to_url FROM links l JOIN pages p ON p.id = l.page_id";

int64_t PagesIn(const std::string& db) {
  std::set<std::string> n = Rows(db, "SELECT count(*) FROM pages");
  return n.empty() ? 0 : std::stoll(*n.begin());
}

// The first request for each URL, by whom.
std::map<std::string, std::string> FirstRequester(const std::vector<LoggedRequest>& log) {
  std::vector<const LoggedRequest*> sorted;
  for (const LoggedRequest& r : log) sorted.push_back(&r);
  std::sort(sorted.begin(), sorted.end(), [](const LoggedRequest* a, const LoggedRequest* b) { return a->received < b->received; });
  std::map<std::string, std::string> first;
  for (const LoggedRequest* r : sorted) first.emplace(r->url(), r->user_agent);
  return first;
}

TEST(SharedFrontier, ThreeWorkersFetchEveryPageOnceAndKeepEachHostsLimitsAcrossWorkers) {
  REQUIRE_CLUSTER();
  test::TempDir dir;
  constexpr int kHosts = 10, kPages = 12;
  constexpr double kDelay = 0.08;
  Web web(dir, kHosts, kPages, 15);
  ASSERT_FALSE(web.url.empty());
  // Each worker holds two hosts at most, and worker a leaves mid-crawl (Ctrl-C): its hosts pass
  // to the others, with their delays.
  const std::vector<std::string> limits = {"-c", "4", "--per-host", "2", "--delay", std::to_string(kDelay),
                                           "--frontier-hosts", "2"};
  std::vector<std::string> dbs;
  std::vector<std::unique_ptr<Subprocess>> workers;
  for (const char* name : {"a", "b", "c"}) {
    dbs.push_back(dir.File(std::string(name) + ".db"));
    workers.push_back(std::make_unique<Subprocess>(WorkerArgs(web.url, name, dbs.back(), limits)));
  }
  ASSERT_TRUE(PollUntil(30, [&] { return PagesIn(dbs[0]) >= 8; }));
  workers[0]->Signal(SIGINT);
  std::set<std::string> agents;
  for (size_t i = 0; i < workers.size(); ++i) {
    ProcessResult r = workers[i]->Wait(90000);
    ASSERT_EQ(r.exit_code, i == 0 ? 130 : 0) << r.err;
    EXPECT_EQ(r.err.find("fanout:fanout@"), std::string::npos) << "the password was printed: " << r.err;
  }
  const std::vector<LoggedRequest> log = test::ReadRequestLog(web.log);
  const std::map<std::string, int> counts = Counts(log);
  EXPECT_EQ(counts.size(), static_cast<size_t>(kHosts * (kPages + 1))) << "every page and robots.txt, once each";
  const std::map<std::string, int> attempts = Attempts(dbs);
  for (const auto& [url, n] : counts) {
    if (n > 1 && attempts.contains(url) && attempts.at(url) == n) continue;  // retried, not fetched twice
    EXPECT_EQ(n, 1) << url << " requested " << n << " times";
  }
  for (const LoggedRequest& r : log) agents.insert(r.user_agent);
  EXPECT_GE(agents.size(), 2u) << "the work was shared";
  // The crawler spaces the starts of its requests; the server sees each a little later, by as much as
  // a new connection or a busy machine adds (as in tests/crawler/politeness_test.cpp): 25 ms.
  constexpr double kTransport = 0.025;
  int handovers = 0;
  for (const auto& [host, load] : LoadByHost(log)) {
    EXPECT_LE(load.max_in_flight, 2) << host;
    EXPECT_GE(load.min_gap, kDelay - kTransport) << host;
    handovers += load.handovers;
  }
  EXPECT_GT(handovers, 0) << "no host passed from one worker to another: the gaps above were not tested across workers";

  // The workers' databases hold what one worker alone would have stored.
  const std::string single = dir.File("single.db");
  ProcessResult alone = test::RunProcess({kFanout, "crawl", web.url, "--db", single, "--allow-domain", "localhost", "-q"},
                                         60000);
  ASSERT_EQ(alone.exit_code, 0) << alone.err;
  EXPECT_EQ(Union(dbs, kPagesSql), Rows(single, kPagesSql));
  EXPECT_EQ(Union(dbs, kEdgesSql), Rows(single, kEdgesSql));
  // ... and fanout merge puts them together as one run.
  const std::string merged = dir.File("merged.db");
  ProcessResult merge = test::RunProcess({kFanout, "merge", merged, dbs[0], dbs[1], dbs[2]});
  ASSERT_EQ(merge.exit_code, 0) << merge.err;
  EXPECT_EQ(Rows(merged, "SELECT count(*) FROM runs"), std::set<std::string>{"1"});
  EXPECT_EQ(Rows(merged, kPagesSql), Rows(single, kPagesSql));
  EXPECT_EQ(Rows(merged, kEdgesSql), Rows(single, kEdgesSql));
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


TEST(SharedFrontier, AKilledWorkersHostsGoToTheOthersAndOnlyWhatItHadInFlightIsFetchedTwice) {
  REQUIRE_CLUSTER();
  test::TempDir dir;
  constexpr int kHosts = 8, kPages = 30;
  Web web(dir, kHosts, kPages, 60);
  ASSERT_FALSE(web.url.empty());
  const std::vector<std::string> limits = {"-c", "4", "--per-host", "2", "--delay", "0.02", "--frontier-hosts", "3"};
  std::map<std::string, std::unique_ptr<Subprocess>> workers;
  for (const char* name : {"a", "b", "c"}) {
    workers[name] = std::make_unique<Subprocess>(WorkerArgs(web.url, name, dir.File(std::string(name) + ".db"), limits));
  }
  // Killed once it has stored some pages, with more in flight.
  ASSERT_TRUE(PollUntil(30, [&] { return PagesIn(dir.File("b.db")) >= 10; }));
  workers["b"]->Signal(SIGKILL);
  EXPECT_EQ(workers["b"]->Wait(10000).exit_code, 128 + SIGKILL);
  for (const char* name : {"a", "c"}) {
    ProcessResult r = workers[name]->Wait(90000);
    EXPECT_EQ(r.exit_code, 0) << name << ": " << r.err;
  }
  // b comes back (--resume, no seeds): it rejoins the run, which is over, and finishes its own
  // local run instead of starting another.
  std::vector<std::string> again = WorkerArgs(web.url, "b", dir.File("b.db"), limits);
  again.erase(again.begin() + 2);  // the seed
  again.push_back("--resume");
  ProcessResult back = test::RunProcess(again, 60000);
  EXPECT_EQ(back.exit_code, 0) << back.err;
  const std::vector<LoggedRequest> log = test::ReadRequestLog(web.log);
  const std::map<std::string, int> counts = Counts(log);
  EXPECT_EQ(counts.size(), static_cast<size_t>(kHosts * (kPages + 1))) << "no page is missing";
  const std::map<std::string, std::string> first = FirstRequester(log);
  int twice = 0;
  for (const auto& [url, n] : counts) {
    if (n == 1) continue;
    ++twice;
    EXPECT_EQ(n, 2) << url;
    EXPECT_EQ(first.at(url), "fanout-b") << url << " was fetched twice though the dead worker never had it";
  }
  // b held at most its --concurrency in transfers and its store's unreported batch.
  EXPECT_LE(twice, 40);
  EXPECT_EQ(Rows(dir.File("b.db"), "SELECT count(*), count(finished_at) FROM runs"), std::set<std::string>{"1|1"})
      << "b continued its run, and finished it";
}

TEST(SharedFrontier, ARunSurvivesTheDatabaseServerRestartingFastThenImmediately) {
  REQUIRE_CLUSTER();
  test::TempDir dir;
  constexpr int kHosts = 6, kPages = 40;
  Web web(dir, kHosts, kPages, 50);
  ASSERT_FALSE(web.url.empty());
  const std::vector<std::string> limits = {"-c", "4", "--per-host", "2", "--delay", "0.02", "--report"};
  std::vector<std::unique_ptr<Subprocess>> workers;
  for (const char* name : {"a", "b"}) {
    std::vector<std::string> args = limits;
    args.push_back(dir.File(std::string(name) + ".json"));
    // A lease long enough to outlast both restarts: nobody takes anybody's hosts over.
    workers.push_back(
        std::make_unique<Subprocess>(WorkerArgs(web.url, name, dir.File(std::string(name) + ".db"), args, "15")));
  }
  auto stored = [&] { return PagesIn(dir.File("a.db")) + PagesIn(dir.File("b.db")); };
  ASSERT_TRUE(PollUntil(30, [&] { return stored() >= 20; }));
  ProcessResult fast = Cluster().Restart("fast");
  ASSERT_EQ(fast.exit_code, 0) << fast.err;
  const int64_t after_fast = stored();
  ASSERT_TRUE(PollUntil(30, [&] { return stored() >= after_fast + 20; })) << "the crawl carried on after the restart";
  ProcessResult immediate = Cluster().Restart("immediate");
  ASSERT_EQ(immediate.exit_code, 0) << immediate.err;
  int64_t reconnects = 0;
  for (size_t i = 0; i < workers.size(); ++i) {
    ProcessResult r = workers[i]->Wait(90000);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::ifstream report(dir.File(std::string(1, "ab"[i]) + ".json"));
    nlohmann::json j = nlohmann::json::parse(report, nullptr, false);
    if (j.is_object()) reconnects += j["shared_frontier"]["reconnects"].get<int64_t>();
  }
  EXPECT_GE(reconnects, 2) << "each restart cut the workers' connections";
  const std::vector<LoggedRequest> log = test::ReadRequestLog(web.log);
  const std::map<std::string, int> counts = Counts(log);
  const std::map<std::string, int> attempts = Attempts({dir.File("a.db"), dir.File("b.db")});
  EXPECT_EQ(counts.size(), static_cast<size_t>(kHosts * (kPages + 1))) << "no page is missing";
  for (const auto& [url, n] : counts) {
    std::string who;
    for (const LoggedRequest& r : log) {
      if (r.url() == url) who += " " + r.user_agent + "@" + std::to_string(r.received);
    }
    if (n > 1 && attempts.contains(url) && attempts.at(url) == n) continue;  // retried, not fetched twice
    EXPECT_EQ(n, 1) << url << ", by" << who << ": nothing was in flight long enough to be lost";
  }
}

// Two connections claim at once: SKIP LOCKED gives each its own host. After the lease expires
// the other takes it with a higher epoch, and the first owner's late report matches nothing.
TEST(SharedFrontier, ClaimsUnderContentionNeverShareAHostAndAStaleOwnersReportIsRefused) {
  REQUIRE_CLUSTER();
  Result<pg::PgConn> a = pg::PgConn::Connect(Cluster().url());
  Result<pg::PgConn> b = pg::PgConn::Connect(Cluster().url());
  ASSERT_OK(a);
  ASSERT_OK(b);
  ASSERT_OK(pg::InitFrontierSchema(*a));
  const std::string tag = std::to_string(getpid());
  const std::string seeds = R"([{"h": 11, "u": "http://x)" + tag + R"(.localhost/", "o": "http://x)" + tag +
                            R"(.localhost"}, {"h": 12, "u": "http://y)" + tag + R"(.localhost/", "o": "http://y)" +
                            tag + R"(.localhost"}])";
  Result<pg::PgResult> joined = a->Exec("SELECT run FROM fanout_join(0, $1, '{}', 0, 0)", {seeds});
  ASSERT_OK(joined);
  const std::string run = pg::Text(*joined, 0, 0);
  auto claim = [&](pg::PgConn& c, const std::string& worker, int hosts) {
    std::map<std::string, int64_t> held;  // origin -> epoch
    Result<pg::PgResult> r =
        c.Exec("SELECT origin, epoch FROM fanout_claim($1, $2, 300, $3, 10, 10) WHERE kind = 'host'",
               {run, worker, std::to_string(hosts)});
    EXPECT_OK(r);
    if (r.ok()) {
      for (int i = 0; i < PQntuples(r->get()); ++i) held[pg::Text(*r, i, 0)] = pg::Int(*r, i, 1);
    }
    return held;
  };
  ASSERT_OK(b->Run("SET statement_timeout = 10000"));  // a claim that waited would fail, not hang
  ASSERT_OK(a->Run("BEGIN"));
  std::map<std::string, int64_t> held_a = claim(*a, "A", 1);  // its rows stay locked until COMMIT
  std::map<std::string, int64_t> held_b = claim(*b, "B", 1);
  ASSERT_OK(a->Run("COMMIT"));
  ASSERT_EQ(held_a.size(), 1u);
  ASSERT_EQ(held_b.size(), 1u);
  const std::string host = held_a.begin()->first;
  EXPECT_NE(host, held_b.begin()->first) << "both workers hold one host";

  // A stops renewing; once its lease has expired, B's next claim takes the host over.
  ASSERT_TRUE(PollUntil(10, [&] {
    Result<pg::PgResult> r = a->Exec("SELECT lease_until < now() FROM fanout_hosts WHERE run = $1 AND origin = $2",
                                     {run, host});
    return r.ok() && pg::Text(*r, 0, 0) == "t";
  }));
  held_b = claim(*b, "B", 2);
  ASSERT_TRUE(held_b.contains(host));
  EXPECT_EQ(held_b[host], held_a[host] + 1);

  const std::string h = host.find("//x") != std::string::npos ? "11" : "12";
  auto report = [&](pg::PgConn& c, const std::string& worker, int64_t epoch) {
    const std::string batch = R"({"done": [{"h": )" + h + R"(, "o": ")" + host + R"(", "e": )" +
                              std::to_string(epoch) + R"(, "p": true, "r": []}]})";
    Result<pg::PgResult> r = c.Exec("SELECT accepted, refused FROM fanout_report($1, $2, $3)", {run, worker, batch});
    EXPECT_OK(r);
    return r.ok() ? std::make_pair(pg::Int(*r, 0, 0), pg::Int(*r, 0, 1)) : std::make_pair(int64_t{-1}, int64_t{-1});
  };
  EXPECT_EQ(report(*a, "A", held_a[host]), std::make_pair(int64_t{0}, int64_t{1})) << "the stale owner's write";
  Result<pg::PgResult> queued = a->Exec("SELECT count(*) FROM fanout_queue WHERE run = $1 AND h = " + h, {run});
  ASSERT_OK(queued);
  EXPECT_EQ(pg::Text(*queued, 0, 0), "1") << "the URL is still queued for its new owner";
  EXPECT_EQ(report(*b, "B", held_b[host]), std::make_pair(int64_t{1}, int64_t{0}));
}

TEST(SharedFrontier, BadFrontiersGetOneLineAndTheirExitCodeAndLeaveNoRunBehind) {
  REQUIRE_CLUSTER();
  test::TempDir dir;
  const std::string db = dir.File("w.db");
  auto crawl = [&](const std::string& frontier, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {kFanout, "crawl", "http://127.0.0.1:9/", "--frontier", frontier,
                                     "--worker", "w", "--db", db};
    args.insert(args.end(), extra.begin(), extra.end());
    return test::RunProcess(args, 60000);
  };
  auto one_line = [](const ProcessResult& r) { return std::count(r.err.begin(), r.err.end(), '\n') == 1; };
  const std::string port = Cluster().url().substr(Cluster().url().rfind(':') + 1,
                                                  Cluster().url().rfind('/') - Cluster().url().rfind(':') - 1);

  ProcessResult unreachable = crawl("postgresql://fanout:s3cret@127.0.0.1:1/fanout");
  EXPECT_EQ(unreachable.exit_code, 3) << unreachable.err;
  EXPECT_TRUE(one_line(unreachable)) << unreachable.err;
  EXPECT_EQ(unreachable.err.find("s3cret"), std::string::npos) << unreachable.err;

  ProcessResult password = crawl("postgresql://fanout:wr0ng@127.0.0.1:" + port + "/fanout");
  EXPECT_EQ(password.exit_code, 3) << password.err;
  EXPECT_TRUE(one_line(password)) << password.err;
  EXPECT_NE(password.err.find("password"), std::string::npos) << password.err;
  EXPECT_EQ(password.err.find("wr0ng"), std::string::npos) << password.err;

  ProcessResult malformed = crawl("bogus_option=1");
  EXPECT_EQ(malformed.exit_code, 2) << malformed.err;
  EXPECT_TRUE(one_line(malformed)) << malformed.err;

  ProcessResult no_run = crawl(Cluster().url(), {"--run", "987654"});
  EXPECT_EQ(no_run.exit_code, 2) << no_run.err;
  EXPECT_NE(no_run.err.find("no run 987654"), std::string::npos) << no_run.err;

  ProcessResult threads = crawl(Cluster().url(), {"--mode", "threads"});
  EXPECT_EQ(threads.exit_code, 2) << threads.err;
  ProcessResult short_lease = crawl(Cluster().url(), {"--lease", "5", "--timeout", "30"});
  EXPECT_EQ(short_lease.exit_code, 2) << short_lease.err;
  EXPECT_NE(short_lease.err.find("--lease"), std::string::npos) << short_lease.err;

  // A frontier written by a newer fanout.
  const std::string newer = "newer" + std::to_string(getpid());
  ASSERT_EQ(Cluster().Psql("CREATE DATABASE " + newer).exit_code, 0);
  const std::string newer_url = Cluster().url().substr(0, Cluster().url().rfind('/') + 1) + newer;
  ASSERT_EQ(test::RunProcess({kFanout, "frontier", "init", newer_url}).exit_code, 0);
  Result<pg::PgConn> conn = pg::PgConn::Connect(newer_url);
  ASSERT_OK(conn);
  ASSERT_OK(conn->Run("UPDATE fanout_frontier_meta SET value = '99' WHERE key = 'schema_version'"));
  ProcessResult future = crawl(newer_url);
  EXPECT_EQ(future.exit_code, 4) << future.err;
  EXPECT_TRUE(one_line(future)) << future.err;
  EXPECT_NE(future.err.find("upgrade fanout"), std::string::npos) << future.err;
  Result<pg::PgResult> runs = conn->Exec("SELECT count(*) FROM fanout_runs");
  ASSERT_OK(runs);
  EXPECT_EQ(pg::Text(*runs, 0, 0), "0") << "no run was started";
  EXPECT_EQ(Rows(db, "SELECT count(*) FROM runs"), std::set<std::string>{"0"}) << "nor a local one";
  ProcessResult status = test::RunProcess({kFanout, "frontier", "status", newer_url});
  EXPECT_EQ(status.exit_code, 4) << status.err;
}

// --per-ip and --ip-delay as the web sees them, at each of its addresses, with two workers that
// would otherwise each send to an address the other sends to: 12 hosts on 6 loopback addresses,
// named web.test and pinned with --resolve (no resolver needed). Worker a leaves mid-crawl
// (Ctrl-C), so that its addresses pass to worker b, with their delays.
TEST(SharedFrontier, TwoWorkersKeepEachAddresssLimitsForTheRun) {
  REQUIRE_CLUSTER();
  test::TempDir dir;
  constexpr int kHosts = 12, kPages = 8, kAddresses = 6;
  constexpr double kIpDelay = 0.04;
  std::vector<std::string> serve = {"--domain", "web.test", "--ips", std::to_string(kAddresses)};
  for (int i = 1; i <= kAddresses; ++i) serve.insert(serve.end(), {"--host", "127.0.0." + std::to_string(i)});
  Web web(dir, kHosts, kPages, 10, serve);
  ASSERT_FALSE(web.url.empty());
  const std::string port = web.url.substr(web.url.rfind(':') + 1, web.url.rfind('/') - web.url.rfind(':') - 1);
  // Each worker holds two hosts at most, so that neither can hold every address.
  std::vector<std::string> limits = {"-c", "8", "--per-host", "2", "--per-ip", "1", "--ip-delay",
                                     std::to_string(kIpDelay), "--frontier-hosts", "2", "--allow-domain", "web.test"};
  std::map<std::string, int> address_of;  // host:port -> address index, as fanout serve --ips places them
  for (int i = 0; i < kHosts; ++i) {
    const std::string host = "h" + std::to_string(i) + ".web.test:" + port;
    address_of[host] = i % kAddresses;
    limits.insert(limits.end(), {"--resolve", host + ":127.0.0." + std::to_string(1 + i % kAddresses)});
  }
  std::vector<std::string> dbs;
  std::vector<std::unique_ptr<Subprocess>> workers;
  for (const char* name : {"a", "b"}) {
    dbs.push_back(dir.File(std::string(name) + ".db"));
    workers.push_back(std::make_unique<Subprocess>(WorkerArgs(web.url, name, dbs.back(), limits)));
  }
  ASSERT_TRUE(PollUntil(30, [&] { return PagesIn(dbs[0]) >= 3; }));
  workers[0]->Signal(SIGINT);
  for (size_t i = 0; i < workers.size(); ++i) {
    ProcessResult r = workers[i]->Wait(90000);
    ASSERT_EQ(r.exit_code, i == 0 ? 130 : 0) << r.err;
  }
  const std::vector<LoggedRequest> log = test::ReadRequestLog(web.log);
  const std::map<std::string, int> counts = Counts(log);
  EXPECT_EQ(counts.size(), static_cast<size_t>(kHosts * (kPages + 1))) << "every page and robots.txt";
  for (const auto& [url, n] : counts) EXPECT_EQ(n, 1) << url;
  EXPECT_EQ(PagesIn(dbs[0]) + PagesIn(dbs[1]), kHosts * kPages);

  // An address both workers sent to: the limits were tested across workers.
  std::map<int, std::set<std::string>> agents;
  for (const LoggedRequest& r : log) agents[address_of.at(r.host)].insert(r.user_agent);
  int shared = 0;
  for (const auto& [address, who] : agents) shared += who.size() > 1;
  EXPECT_GT(shared, 0) << "no address was sent to by both workers";

  test::HttpResponse ips = test::HttpGet("http://127.0.0.1:" + port + "/__ips");
  ASSERT_EQ(ips.status, 200);
  const nlohmann::json list = nlohmann::json::parse(ips.body)["ips"];
  ASSERT_EQ(list.size(), static_cast<size_t>(kAddresses));
  // As in the first test: the server sees each start up to 25 ms later than the crawler made it.
  constexpr double kTransportMs = 25;
  for (const nlohmann::json& a : list) {
    EXPECT_EQ(a["requests"].get<int>(), kHosts / kAddresses * (kPages + 1)) << a.dump();
    EXPECT_EQ(a["max_in_flight"].get<int>(), 1) << a.dump();
    EXPECT_GE(a["min_gap_ms"].get<double>(), kIpDelay * 1000 - kTransportMs) << a.dump();
  }
}

TEST(SharedFrontier, MaxPagesIsTheRunsLimitAcrossWorkers) {
  REQUIRE_CLUSTER();
  test::TempDir dir;
  Web web(dir, 5, 20, 20);
  ASSERT_FALSE(web.url.empty());
  std::vector<std::unique_ptr<Subprocess>> workers;
  for (const char* name : {"a", "b"}) {
    workers.push_back(std::make_unique<Subprocess>(
        WorkerArgs(web.url, name, dir.File(std::string(name) + ".db"), {"-c", "4", "--per-host", "2", "--max-pages", "30"})));
  }
  for (auto& w : workers) {
    ProcessResult r = w->Wait(60000);
    EXPECT_EQ(r.exit_code, 0) << r.err;
  }
  int pages = 0;
  for (const LoggedRequest& r : test::ReadRequestLog(web.log)) pages += r.target != "/robots.txt";
  EXPECT_EQ(pages, 30);
  EXPECT_EQ(PagesIn(dir.File("a.db")) + PagesIn(dir.File("b.db")), 30);
}

}  // namespace
}  // namespace fanout

namespace fanout {
namespace {

TEST(Redact, TakesThePasswordOutOfEveryFormOfAddress) {
  EXPECT_EQ(pg::Redact("postgresql://fanout:s3cret@db:5432/crawl"), "postgresql://fanout:***@db:5432/crawl");
  EXPECT_EQ(pg::Redact("postgres://u:p%40ss@h/d?sslmode=require"), "postgres://u:***@h/d?sslmode=require");
  EXPECT_EQ(pg::Redact("postgresql://u@h/d?password=s3cret&sslmode=disable"),
            "postgresql://u@h/d?password=***&sslmode=disable");
  EXPECT_EQ(pg::Redact("host=h user=u password=s3cret dbname=d"), "host=h user=u password=*** dbname=d");
  EXPECT_EQ(pg::Redact("host=h password = 'se cret' dbname=d"), "host=h password = *** dbname=d");
  EXPECT_EQ(pg::Redact("postgresql://u@h/d"), "postgresql://u@h/d");
}

}  // namespace
}  // namespace fanout
