// The crawl's core without sockets: the dispatcher's decisions and the page procedure, driven
// through a scripted CrawlWaits whose transfers are answered from a table, as a blocking mode
// drives them (every wait has happened when it returns).
#include "crawler/crawl_core.h"

#include <gtest/gtest.h>

#include "tests/support/status_matchers.h"

#include <algorithm>
#include <map>
#include <thread>
#include <memory>
#include <string>
#include <vector>

#include "crawler/await.h"
#include "crawler/crawl_waits.h"
#include "storage/store.h"
#include "tests/support/sqlite_query.h"
#include "tests/support/temp_dir.h"

namespace fanout {
namespace {

using Kind = Work::Kind;

FetchResponse Html(const std::string& body, long status = 200) {
  FetchResponse r;
  r.status = status;
  r.content_type = "text/html; charset=utf-8";
  r.http_version = "1.1";
  r.body = body;
  return r;
}

FetchResponse Redirect(const std::string& location, long status = 301) {
  FetchResponse r = Html("", status);
  r.headers["location"] = location;
  return r;
}

// Answers each transfer from `answers` (by URL, in order when a URL has several), records what was
// asked, and runs everything else at once on the calling thread.
class ScriptedWaits final : public CrawlWaits {
 public:
  explicit ScriptedWaits(std::map<std::string, std::vector<FetchResponse>> answers) : answers_(std::move(answers)) {}
  void Drive(CrawlCore& core) { core_ = &core; }

  Await<void> WaitForTurn(HostTurn& turn) override {
    // As a blocking thread does: hand out turns until this one's comes.
    while (!turn.held && !core_->stopping()) {
      Work work = core_->Next(*this, /*page_slot=*/false, /*turns_only=*/true);
      if (work.kind == Kind::kGranted) continue;
      if (work.kind == Kind::kResolve) {
        RunSync(core_->ResolveHost(work.host, *this));
        continue;
      }
      if (work.kind == Kind::kRobots) {
        RunSync(core_->FetchRobots(work.host, std::make_unique<HostTurn>(), *this));
        continue;
      }
      ADD_FAILURE() << "a turn nobody would grant: " << static_cast<int>(work.kind);
      break;
    }
    return Await<void>::Ready();
  }
  void ResumeTurn(HostTurn&) override {}
  Await<FetchResponse> Transfer(HostTurn& turn, FetchRequest request) override {
    EXPECT_TRUE(turn.held) << request.url << " went without its host's turn";
    transfers.push_back(request.url);
    std::vector<FetchResponse>& queue = answers_[request.url];
    if (queue.empty()) return Await<FetchResponse>::Ready(Html("", 404));
    FetchResponse r = queue.front();
    if (queue.size() > 1) queue.erase(queue.begin());
    r.effective_url = request.url;
    return Await<FetchResponse>::Ready(std::move(r));
  }
  void ReleaseTransferSlot(HostTurn&) override {}
  // Answers from `dns` (by name; any other name: 127.0.0.1), recording what was asked.
  Await<DnsAnswer> Resolve(std::string name) override {
    lookups.push_back(name);
    if (auto it = dns.find(name); it != dns.end()) return Await<DnsAnswer>::Ready(it->second);
    DnsAnswer answer;
    answer.ipv4 = {"127.0.0.1"};
    answer.ttl = 300;
    return Await<DnsAnswer>::Ready(std::move(answer));
  }
  Await<void> Sleep(std::chrono::duration<double> d) override {
    sleeps.push_back(d.count());
    return Await<void>::Ready();
  }
  Await<void> RunOffLoop(std::function<void()> work) override {
    work();
    return Await<void>::Ready();
  }
  void WriteBehind(std::function<Status()> write) override { core_->NoteStored(*this, write()); }
  void WakeDispatcher() override { ++wakes; }

  std::map<std::string, DnsAnswer> dns;  // scripted lookups
  std::vector<std::string> lookups;      // names looked up, in order
  std::vector<std::string> transfers;  // URLs asked for, in order
  std::vector<double> sleeps;          // seconds
  int wakes = 0;

 private:
  std::map<std::string, std::vector<FetchResponse>> answers_;
  CrawlCore* core_ = nullptr;
};

// A crawl's core over a store in a temporary directory, with `options`' seeds queued.
class CoreTest : public ::testing::Test {
 protected:
  void Start(CrawlOptions options, std::map<std::string, std::vector<FetchResponse>> answers) {
    options_ = std::move(options);
    Result<Frontier> frontier =
        Frontier::Create(options_.scope, options_.max_depth, 0, {}, HostLimitsOf(options_));
    ASSERT_OK(frontier);
    frontier_ = std::make_unique<Frontier>(std::move(*frontier));
    for (const std::string& seed : options_.seeds) frontier_->AddSeed(seed);
    Result<std::unique_ptr<Store>> store = Store::Open(dir_.File("crawl.db"));
    ASSERT_OK(store);
    store_ = std::move(*store);
    Result<int64_t> run = store_->BeginRun(RunInfo{.mode = "sync", .seeds = options_.seeds, .options_json = ""});
    ASSERT_OK(run);
    run_ = *run;
    core_ = std::make_unique<CrawlCore>(options_, *frontier_, *store_, nullptr, nullptr, run_, SpillCursor{});
    waits_ = std::make_unique<ScriptedWaits>(std::move(answers));
    waits_->Drive(*core_);
  }

  // What the dispatcher says next, once the lookups it asks for are made (they come first for each
  // host, and are not what these tests are about).
  Work NextWork() {
    while (true) {
      Work work = core_->Next(*waits_, /*page_slot=*/true);
      if (work.kind != Kind::kResolve) return work;
      RunSync(core_->ResolveHost(work.host, *waits_));
    }
  }

  // Runs what the dispatcher says, one piece at a time, until it says the crawl is over; returns
  // the kinds of work it handed out.
  std::vector<Kind> RunToEnd() {
    std::vector<Kind> kinds;
    for (int i = 0; i < 1000; ++i) {
      Work work = NextWork();
      kinds.push_back(work.kind);
      switch (work.kind) {
        case Kind::kPage:
          RunSync(core_->CrawlPage(std::move(work.item), work.host, std::make_unique<HostTurn>(), *waits_));
          break;
        case Kind::kRobots: RunSync(core_->FetchRobots(work.host, std::make_unique<HostTurn>(), *waits_)); break;
        case Kind::kRefill: RunSync(core_->Refill(*waits_)); break;
        case Kind::kDone: return kinds;
        default: ADD_FAILURE() << "unexpected work " << static_cast<int>(work.kind); return kinds;
      }
    }
    ADD_FAILURE() << "the dispatcher never said done";
    return kinds;
  }

  int64_t Count(const std::string& sql) {
    EXPECT_OK(store_->Flush());
    return test::QueryInt(dir_.File("crawl.db"), sql);
  }

  test::TempDir dir_;
  CrawlOptions options_;
  std::unique_ptr<Frontier> frontier_;
  std::unique_ptr<Store> store_;
  int64_t run_ = 0;
  std::unique_ptr<CrawlCore> core_;
  std::unique_ptr<ScriptedWaits> waits_;
};

CrawlOptions Options(std::vector<std::string> seeds) {
  CrawlOptions o;
  o.seeds = std::move(seeds);
  o.ignore_robots = true;
  o.retry_delay = 0.5;
  return o;
}

TEST_F(CoreTest, APageIsFetchedOnceAndItsLinksAreDispatchedBreadthFirst) {
  Start(Options({"http://a.localhost/"}),
        {{"http://a.localhost/", {Html(R"(<a href="/x">x</a> <a href="/y">y</a> <a href="/x">again</a>)")}},
         {"http://a.localhost/x", {Html(R"(<a href="/">home</a> <a href="/z">z</a>)")}},
         {"http://a.localhost/y", {Html("no links")}},
         {"http://a.localhost/z", {Html("no links")}}});
  RunToEnd();
  EXPECT_EQ(waits_->transfers, (std::vector<std::string>{"http://a.localhost/", "http://a.localhost/x",
                                                         "http://a.localhost/y", "http://a.localhost/z"}));
  EXPECT_EQ(Count("SELECT count(*) FROM pages"), 4);
  EXPECT_EQ(core_->active(), 0u);
}

TEST_F(CoreTest, WithOneSlotPerHostTheDispatcherGoesToAnotherHostAndThenWaits) {
  CrawlOptions o = Options({"http://a.localhost/", "http://b.localhost/"});
  o.per_host = 1;
  Start(o, {});
  Work first = NextWork();
  ASSERT_EQ(first.kind, Kind::kPage);
  EXPECT_EQ(first.item.url, "http://a.localhost/");
  frontier_->Offer("http://a.localhost/more", 1);
  Work second = NextWork();
  ASSERT_EQ(second.kind, Kind::kPage);
  EXPECT_EQ(second.item.url, "http://b.localhost/") << "a is at its limit: b goes";
  // a's page is under way, and nothing else may go: wait for a change, holding nothing.
  EXPECT_EQ(NextWork().kind, Kind::kWaitChange);
  EXPECT_EQ(core_->active(), 2u);
}

TEST_F(CoreTest, AHostWithADelayIsWaitedForUntilItsTime) {
  CrawlOptions o = Options({"http://a.localhost/"});
  o.delay = 1.0;
  Start(o, {});
  frontier_->Offer("http://a.localhost/next", 1);
  const CrawlClock::time_point before = CrawlClock::now();
  Work page = NextWork();
  ASSERT_EQ(page.kind, Kind::kPage);
  Work wait = NextWork();
  ASSERT_EQ(wait.kind, Kind::kWaitUntil);
  // One delay after the first start, with the margin for the jitter on the way (2 ms and 2%).
  EXPECT_GE(wait.until - before, std::chrono::milliseconds(1020));
  EXPECT_LE(wait.until - CrawlClock::now(), std::chrono::milliseconds(1020));
}

TEST_F(CoreTest, TheDispatcherStopsAtMaxPagesOnceWhatIsInProgressEnds) {
  CrawlOptions o = Options({"http://a.localhost/"});
  o.max_pages = 1;
  Start(o, {});
  frontier_->Offer("http://a.localhost/next", 1);
  Work page = NextWork();
  ASSERT_EQ(page.kind, Kind::kPage);
  EXPECT_EQ(NextWork().kind, Kind::kWaitChange) << "the page is still in progress";
  RunSync(core_->CrawlPage(std::move(page.item), page.host, std::make_unique<HostTurn>(), *waits_));
  EXPECT_EQ(NextWork().kind, Kind::kDone);
  EXPECT_EQ(waits_->transfers.size(), 1u);
}

TEST_F(CoreTest, ARetryWaitsItsBackOffAndAsksForItsHostsTurnAgain) {
  FetchResponse busy = Html("busy", 503);
  Start(Options({"http://a.localhost/"}), {{"http://a.localhost/", {busy, Html("fine")}}});
  RunToEnd();
  EXPECT_EQ(waits_->transfers, (std::vector<std::string>{"http://a.localhost/", "http://a.localhost/"}));
  ASSERT_EQ(waits_->sleeps.size(), 1u);
  // 0.5 s with 20% jitter.
  EXPECT_GE(waits_->sleeps[0], 0.4);
  EXPECT_LE(waits_->sleeps[0], 0.6);
  EXPECT_EQ(Count("SELECT attempts FROM pages"), 2);
  EXPECT_EQ(Count("SELECT status FROM pages"), 200);
}

TEST_F(CoreTest, ARedirectToAnotherHostTakesATurnThereAndTheTargetIsNotFetchedAgain) {
  CrawlOptions o = Options({"http://a.localhost/"});
  o.scope.allowed_domains = {"localhost"};
  Start(o, {{"http://a.localhost/", {Html(R"(<a href="/moved">m</a>)")}},
            {"http://a.localhost/moved", {Redirect("http://b.localhost/new")}},
            {"http://b.localhost/new", {Html(R"(<a href="http://b.localhost/new">self</a>)")}}});
  RunToEnd();
  EXPECT_EQ(waits_->transfers, (std::vector<std::string>{"http://a.localhost/", "http://a.localhost/moved",
                                                         "http://b.localhost/new"}));
  EXPECT_EQ(Count("SELECT count(*) FROM pages WHERE final_url = 'http://b.localhost/new'"), 1);
}

TEST_F(CoreTest, RobotsTxtGoesFirstAndARefusedUrlIsSkippedWithoutATransfer) {
  CrawlOptions o = Options({"http://a.localhost/"});
  o.ignore_robots = false;
  Start(o, {{"http://a.localhost/robots.txt", {Html("User-agent: *\nDisallow: /private\n")}},
            {"http://a.localhost/", {Html(R"(<a href="/private/x">p</a> <a href="/ok">ok</a>)")}},
            {"http://a.localhost/ok", {Html("fine")}}});
  std::vector<Kind> kinds = RunToEnd();
  ASSERT_FALSE(kinds.empty());
  EXPECT_EQ(kinds.front(), Kind::kRobots);
  EXPECT_EQ(waits_->transfers, (std::vector<std::string>{"http://a.localhost/robots.txt", "http://a.localhost/",
                                                         "http://a.localhost/ok"}));
  EXPECT_EQ(Count("SELECT count(*) FROM skipped WHERE reason = 'robots'"), 1);
}

TEST_F(CoreTest, AStopEndsDispatchingAndTheSummarySaysInterrupted) {
  Start(Options({"http://a.localhost/", "http://b.localhost/"}), {});
  ASSERT_EQ(NextWork().kind, Kind::kPage);
  core_->Stop(*waits_, /*interrupted=*/true);
  EXPECT_EQ(NextWork().kind, Kind::kDone) << "b is queued, but nothing more starts";
  CrawlSummary summary;
  core_->Summarise(1.0, summary);
  EXPECT_TRUE(summary.interrupted);
}

DnsAnswer Failed(DnsAnswer::Kind kind) {
  DnsAnswer answer;
  answer.kind = kind;
  answer.error = "scripted";
  return answer;
}

TEST_F(CoreTest, ANameIsLookedUpOnceForAllItsOriginsAndTheTransfersGoToItsAddress) {
  CrawlOptions o = Options({"http://a.test/", "http://a.test:8080/"});
  Start(o, {{"http://a.test/", {Html(R"(<a href="/b">b</a>)")}}});
  DnsAnswer answer;
  answer.ipv4 = {"10.1.2.3"};
  answer.ttl = 300;
  waits_->dns["a.test"] = answer;
  RunToEnd();
  EXPECT_EQ(waits_->lookups, std::vector<std::string>{"a.test"});
  EXPECT_EQ(waits_->transfers.size(), 3u);
  CrawlSummary summary;
  core_->Summarise(1.0, summary);
  EXPECT_EQ(summary.dns.lookups, 1);
  EXPECT_EQ(summary.dns.cache_hits, 1) << "the second origin of the name";
  EXPECT_EQ(summary.dns.addresses, 1u);
}

TEST_F(CoreTest, AHostThatDoesNotExistIsAskedOnceAndItsUrlsAreSkippedWithTheReason) {
  CrawlOptions o = Options({"http://a.test/", "http://gone.test/", "http://gone.test:8080/"});
  o.scope.allowed_domains = {"test"};
  Start(o, {{"http://a.test/", {Html(R"(<a href="http://gone.test/x">x</a>)")}}});
  waits_->dns["gone.test"] = Failed(DnsAnswer::Kind::kNxDomain);
  RunToEnd();
  EXPECT_EQ(std::count(waits_->lookups.begin(), waits_->lookups.end(), "gone.test"), 1);
  EXPECT_EQ(waits_->transfers, std::vector<std::string>{"http://a.test/"});
  EXPECT_EQ(Count("SELECT count(*) FROM skipped WHERE reason = 'dns-nxdomain' AND detail LIKE 'gone.test: %'"), 3);
}

TEST_F(CoreTest, ALookupThatTimesOutIsRetriedWithBackOffThenItsHostIsGivenUp) {
  CrawlOptions o = Options({"http://slow.test/"});
  o.retries = 2;
  o.retry_delay = 0.01;
  Start(o, {});
  waits_->dns["slow.test"] = Failed(DnsAnswer::Kind::kTimeout);
  for (int i = 0; i < 100; ++i) {  // the back-off: a wait for the lookup's next try, then the lookup
    Work work = core_->Next(*waits_, true);
    if (work.kind == Kind::kResolve) RunSync(core_->ResolveHost(work.host, *waits_));
    if (work.kind == Kind::kDone) break;
    ASSERT_TRUE(work.kind == Kind::kResolve || work.kind == Kind::kWaitUntil) << static_cast<int>(work.kind);
    if (work.kind == Kind::kWaitUntil) std::this_thread::sleep_until(work.until);  // as a blocking mode waits
  }
  EXPECT_EQ(waits_->lookups.size(), 3u) << "the first try and two retries";
  EXPECT_TRUE(waits_->transfers.empty());
  EXPECT_EQ(Count("SELECT count(*) FROM skipped WHERE reason = 'dns-timeout'"), 1);
}

}  // namespace
}  // namespace fanout
