#include "crawler/page_fetch.h"

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>

#include "crawler/page_content.h"
#include "crawler/retry.h"
#include "crawler/url.h"

namespace fanout {
namespace {

bool IsRedirect(long status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

}  // namespace

PageFetch::PageFetch(const CrawlOptions& options, std::string url, uint64_t seed)
    : options_(options), requested_(url), current_(std::move(url)), random_(seed) {}

PageFetch::Step PageFetch::Next() {
  switch (state_) {
    case State::kFetch:
    case State::kFetching:
      request_ = RequestFor(options_, current_);
      request_.max_redirects = 0;  // we follow them: see the header
      state_ = State::kFetching;
      return Step::kFetch;
    case State::kWait:
      state_ = State::kFetch;
      return Step::kWait;
    case State::kJudge: return Step::kCheckRedirect;
    case State::kDone: return Step::kDone;
  }
  return Step::kDone;
}

void PageFetch::OnResponse(FetchResponse response) {
  response_ = std::move(response);
  transfers_seconds_ += response_.timings.total;
  if (IsRetryable(response_) && attempt_ < options_.retries) {
    ++attempt_;
    ++retries_;
    std::uniform_real_distribution<double> draw(0, 1);
    wait_seconds_ = BackoffSeconds(attempt_, options_.retry_delay, options_.max_retry_wait, 0.2, draw(random_));
    if (auto it = response_.headers.find("retry-after"); it != response_.headers.end()) {
      if (std::optional<double> asked = ParseRetryAfter(it->second, std::chrono::system_clock::now())) {
        wait_seconds_ = std::max(wait_seconds_, std::min(*asked, options_.max_retry_wait));
      }
    }
    state_ = State::kWait;
    return;
  }
  auto location = response_.headers.find("location");
  if (!response_.ok() || !IsRedirect(response_.status) || location == response_.headers.end() ||
      options_.max_redirects <= 0) {
    return Finish();
  }
  hops_.push_back({current_, response_.status, location->second, std::nullopt});
  Result<std::string> target = ResolveUrl(current_, location->second, options_.url_rules);
  if (!target.ok()) {
    return Finish("bad_redirect", "redirect to '" + location->second + "': " + target.status().message());
  }
  hops_.back().location = *target;
  if (InChain(*target)) return Finish("redirect_loop", "redirect loop: " + current_ + " -> " + *target);
  if (static_cast<long>(hops_.size()) > options_.max_redirects) {
    return Finish("too_many_redirects", "more than " + std::to_string(options_.max_redirects) + " redirects");
  }
  target_ = *target;
  state_ = State::kJudge;
}

bool PageFetch::OnMetaRefresh(std::string target, double delay_seconds) {
  if (state_ != State::kDone || !error_kind_.empty()) return false;
  if (target == current_ || InChain(target) || static_cast<long>(hops_.size()) >= options_.max_redirects) return false;
  hops_.push_back({current_, response_.status, target, delay_seconds});
  target_ = std::move(target);
  state_ = State::kJudge;
  return true;
}

void PageFetch::OnRedirectVerdict(RedirectVerdict verdict) {
  if (verdict.follow) {
    current_ = std::move(target_);
    attempt_ = 0;
    state_ = State::kFetch;
    return;
  }
  if (verdict.reason == "duplicate") {
    duplicate_of_ = target_;
  } else {
    skipped_ = SkipRecord{.url = target_, .reason = "redirect_" + verdict.reason, .detail = verdict.detail,
                          .found_on = current_, .depth = 0};
  }
  Finish();
}

bool PageFetch::InChain(const std::string& url) const {
  return url == requested_ || std::any_of(hops_.begin(), hops_.end(), [&](const Hop& hop) { return hop.url == url; });
}

std::string PageFetch::Redirects() const {
  return !hops_.empty() && hops_.back().refresh_delay ? "meta refresh to " : "redirects to ";
}

void PageFetch::Finish(std::string error_kind, std::string error) {
  error_kind_ = std::move(error_kind);
  error_ = std::move(error);
  state_ = State::kDone;
}

void PageFetch::Fill(PageRecord& record) const {
  FillRecord(response_, record);
  FillChain(record);
}

void PageFetch::FillChain(PageRecord& record) const {
  record.total = transfers_seconds_;
  record.attempts = 1 + retries_;
  // Hops followed; a last hop that was not (refused, a duplicate, a loop) stays in the chain.
  record.redirects = static_cast<int>(std::count_if(hops_.begin(), hops_.end(), [&](const Hop& hop) {
    return hop.url != current_;
  }));
  if (current_ != requested_) record.final_url = current_;
  if (!hops_.empty()) {
    nlohmann::json chain = nlohmann::json::array();
    for (const Hop& hop : hops_) {
      chain.push_back({{"url", hop.url}, {"status", hop.status}, {"location", hop.location}});
      if (hop.refresh_delay) {
        chain.back()["via"] = "meta_refresh";
        chain.back()["delay"] = static_cast<int64_t>(*hop.refresh_delay);  // whole seconds: see meta_refresh.h
      }
    }
    record.redirect_chain = chain.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  if (!error_kind_.empty()) {
    record.error_kind = error_kind_;
    record.error = error_;
  } else if (!duplicate_of_.empty()) {
    record.error = Redirects() + duplicate_of_ + ", which the run already has";
  } else if (skipped_) {
    record.error = Redirects() + skipped_->url + ", not followed: " + skipped_->reason.substr(9);
  }
}

}  // namespace fanout
