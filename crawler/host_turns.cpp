#include "crawler/host_turns.h"

#include <chrono>

#include "crawler/crawl_context.h"

namespace fanout {

Task<bool> HostTurns::Take(HostTurn& turn, HostId host, CrawlWaits& waits) {
  if (crawl_.stopping()) co_return false;
  turn.host = host;
  turn.held = false;
  crawl_.frontier.AskTurn(&turn, host);
  waiting_.insert(&turn);
  waits.WakeDispatcher();  // it may grant the turn at once
  co_await waits.WaitForTurn(turn);
  co_return turn.held;
}

Task<bool> HostTurns::TakeForPage(HostTurn& turn, HostId host, CrawlWaits& waits) {
  const CrawlClock::time_point asked = CrawlClock::now();
  ++crawl_.counters.page_turn_waits;
  const bool held = co_await Take(turn, host, waits);
  crawl_.counters.page_turn_wait_seconds += SecondsSince(asked);
  co_return held;
}

void HostTurns::Grant(HostTurn& turn) {
  waiting_.erase(&turn);
  turn.held = true;
}

Task<FetchResponse> HostTurns::Transfer(HostTurn& turn, FetchRequest request, CrawlWaits& waits, bool page) {
  Frontier& frontier = crawl_.frontier;
  InFlightMeter& meter = crawl_.counters.meter;
  if (const Frontier::GivenUp* failure = frontier.given_up(turn.host)) {
    // The host was given up (its name did not resolve, or it stopped answering): a request that
    // waited for a turn on it (a redirect hop, a retry) fails at once, as the host did.
    FetchResponse response;
    response.curl_code = failure->curl_code != 0 ? failure->curl_code : CURLE_COULDNT_RESOLVE_HOST;
    response.error = failure->message;
    if (failure->curl_code == 0) response.dns_error_kind = failure->kind;
    frontier.EndTransfer(turn.host, CrawlClock::now());
    waits.ReleaseTransferSlot(turn);
    turn.held = false;
    waits.WakeDispatcher();
    co_return response;
  }
  request.connect_address = frontier.connect_address(turn.host);
  request.keep_alive = frontier.KeepConnection(turn.host, page);
  meter.Change(+1, frontier.queued());
  const CrawlClock::time_point started = CrawlClock::now();
  FetchResponse response = co_await waits.Transfer(turn, std::move(request));
  meter.Change(-1, frontier.queued());
  // The request went out once its connection was made (and TLS negotiated), as curl reports it:
  // the host's delay counts from then.
  const CrawlClock::time_point sent =
      started + std::chrono::duration_cast<CrawlClock::duration>(
                    std::chrono::duration<double>(response.timings.request_sent));
  frontier.EndTransfer(turn.host, CrawlClock::now(), sent,
                       response.ok() ? std::optional<bool>(response.http_version == "2") : std::nullopt);
  NoteAnswer(turn.host, response);
  turn.held = false;
  waits.WakeDispatcher();  // the host, and a transfer slot, are free again
  co_return response;
}

void HostTurns::NoteAnswer(HostId host, const FetchResponse& response) {
  const size_t most = crawl_.options.max_host_errors;
  if (most == 0) return;
  if (unanswered_.size() <= host) unanswered_.resize(host + 1);
  // A transfer the crawl's stop cut says nothing of the host.
  const bool unanswered = response.status == 0 && response.curl_code != 0 && !crawl_.stopping();
  if (!unanswered) {
    unanswered_[host] = 0;
    return;
  }
  if (++unanswered_[host] != most || crawl_.frontier.given_up(host) != nullptr) return;
  crawl_.frontier.GiveUp(host,
                         Frontier::GivenUp{.kind = "host-failing",
                                           .message = std::to_string(most) + " requests in a row got no answer (" +
                                                      response.error + "); --max-host-errors",
                                           .curl_code = response.curl_code});
  ++crawl_.counters.summary.hosts_failing;
}

void HostTurns::Release(HostTurn& turn, CrawlWaits& waits) {
  waits.ReleaseTransferSlot(turn);
  crawl_.frontier.EndTransfer(turn.host, CrawlClock::now());
  turn.held = false;
  waits.WakeDispatcher();
}

void HostTurns::WithdrawAll(CrawlWaits& waits) {
  for (HostTurn* turn : std::exchange(waiting_, {})) {
    crawl_.frontier.Withdraw(turn, turn->host);
    waits.ResumeTurn(*turn);  // without a turn: it ends
  }
}

void HostTurns::WithdrawHost(HostId host, CrawlWaits& waits) {
  for (auto it = waiting_.begin(); it != waiting_.end();) {
    HostTurn* turn = *it;
    if (turn->host != host) {
      ++it;
      continue;
    }
    crawl_.frontier.Withdraw(turn, host);
    it = waiting_.erase(it);
    waits.ResumeTurn(*turn);
  }
}

}  // namespace fanout
