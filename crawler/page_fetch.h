// PageFetch: what fetching one URL takes beyond one transfer: retries with back-off, and redirect
// hops the crawler follows itself, so that each hop is checked like a link (scope, robots.txt,
// duplicates) and loops are caught. It is a state machine that makes no transfer and waits for
// nothing: every crawl mode drives the same one, in its own way of fetching and waiting, which is
// what keeps the modes' results identical.
//
//   PageFetch page(options, url, seed);
//   for (bool done = false; !done;) {
//     switch (page.Next()) {
//       case PageFetch::Step::kFetch: page.OnResponse(fetch(page.request())); break;
//       case PageFetch::Step::kWait: sleep(page.wait_seconds()); break;   // then fetch again
//       case PageFetch::Step::kCheckRedirect: page.OnRedirectVerdict(judge(page.redirect_target())); break;
//       case PageFetch::Step::kDone: done = true; break;
//     }
//   }
//   page.Fill(record);
//
// A page that turns out, once parsed, to be a meta refresh the crawl follows (OnMetaRefresh) goes
// back to kCheckRedirect: the refresh is one more hop of the chain, judged like any redirect.
//
// Threads: one PageFetch belongs to one thread at a time.
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "crawler/crawl_options.h"
#include "crawler/fetch.h"
#include "storage/records.h"

namespace fanout {

// The crawl's judgement of a redirect target, given to the PageFetch before it follows one.
struct RedirectVerdict {
  bool follow = false;
  std::string reason;  // when not followed: "duplicate", "out_of_scope", "excluded", "robots", ...
  std::string detail;  // e.g. the robots.txt rule that refused it
};

class PageFetch {
 public:
  enum class Step { kFetch, kWait, kCheckRedirect, kDone };

  // `url` must be normalised. `seed` makes the back-off jitter reproducible.
  PageFetch(const CrawlOptions& options, std::string url, uint64_t seed);

  Step Next();

  // kFetch: the transfer to make; give its response to OnResponse.
  const FetchRequest& request() const { return request_; }
  void OnResponse(FetchResponse response);

  // kWait: how long to wait before the next attempt.
  double wait_seconds() const { return wait_seconds_; }

  // kCheckRedirect: the target, normalised; give the crawl's verdict to OnRedirectVerdict.
  const std::string& redirect_target() const { return target_; }
  void OnRedirectVerdict(RedirectVerdict verdict);

  // After kDone:
  FetchResponse& response() { return response_; }  // the last transfer's; its body is the page's
  const std::string& url() const { return current_; }  // what the response is for
  // Fills the record's fetch fields: status, type, sizes, timings (total: every transfer's),
  // attempts, redirects, the chain and the final URL, and the error kind.
  void Fill(PageRecord& record) const;
  // The fields of Fill that a meta refresh not followed changes: the chain, the redirect count and
  // the note on the hop left; the response's own fields stay as Fill set them.
  void FillChain(PageRecord& record) const;
  // After kDone, for a page whose <meta http-equiv=refresh> sends it to `target` (normalised) after
  // `delay_seconds`: true when that is a hop to judge (Next() is kCheckRedirect again); false, and
  // the page stays the result, when the target is the page itself, already in the chain (a
  // refresh loop ends at the page that closes it) or one hop past max_redirects.
  bool OnMetaRefresh(std::string target, double delay_seconds);
  // A redirect target the crawl refused (reason other than "duplicate"), to record as skipped.
  const std::optional<SkipRecord>& skipped_target() const { return skipped_; }
  int retries() const { return retries_; }

 private:
  struct Hop {
    std::string url;
    long status;
    std::string location;
    std::optional<double> refresh_delay;  // set when the hop is a meta refresh
  };
  enum class State { kFetch, kFetching, kWait, kJudge, kDone };

  void Finish(std::string error_kind = "", std::string error = "");
  std::string Redirects() const;
  bool InChain(const std::string& url) const;  // the URL asked for, or a hop already made: a loop  // how the last hop's note starts: an HTTP redirect or a meta refresh

  const CrawlOptions& options_;
  const std::string requested_;
  std::string current_;
  FetchRequest request_;
  FetchResponse response_;
  State state_ = State::kFetch;
  int attempt_ = 0;  // retries made for the current hop
  int retries_ = 0;  // ... and for all hops
  double transfers_seconds_ = 0;
  double wait_seconds_ = 0;
  std::string target_;
  std::vector<Hop> hops_;
  std::optional<SkipRecord> skipped_;
  std::string duplicate_of_;  // set when the last hop led to a URL the run already has
  std::string error_kind_, error_;
  std::mt19937_64 random_;
};

}  // namespace fanout
