#include "pgfrontier/pg_frontier.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "crawler/url.h"
#include "crawler/url_set.h"
#include "pgfrontier/frontier_schema.h"

namespace fanout::pg {
namespace {

using json = nlohmann::json;

// The shared database's key for a URL: the fingerprint every worker computes alike.
int64_t KeyOf(std::string_view url) { return static_cast<int64_t>(UrlSet::Fingerprint(url)); }

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

std::string Hex(std::string_view bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

std::string Unhex(std::string_view hex) {
  auto value = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
  std::string out;
  out.reserve(hex.size() / 2);
  for (size_t i = 0; i + 1 < hex.size(); i += 2) out.push_back(static_cast<char>(value(hex[i]) * 16 + value(hex[i + 1])));
  return out;
}

// Status for a failed statement of Open, by its SQLSTATE.
Status OpenError(const Failure& f, const Status& s) {
  if (f.sqlstate == "P0002") return Status::NotFound(s.message().substr(s.message().find(": ") + 2));
  return s;
}

constexpr auto kBatchDelay = std::chrono::milliseconds(5);  // news waits at most this long to be sent
constexpr size_t kBatchItems = 1000;                          // ... or is sent once this many are queued
constexpr auto kIdlePoll = std::chrono::milliseconds(200);    // a claim that found nothing: ask again after
constexpr auto kBusyPoll = std::chrono::milliseconds(2);

}  // namespace

Result<std::unique_ptr<PgFrontier>> PgFrontier::Open(PgFrontierOptions options, const std::vector<std::string>& seeds) {
  if (options.worker.empty()) return Status::InvalidArgument("--worker NAME is required with --frontier");
  FANOUT_ASSIGN_OR_RETURN(PgConn conn, PgConn::Connect(options.conninfo, options.connect_timeout_s));
  FANOUT_RETURN_IF_ERROR(InitFrontierSchema(conn));
  json seed_rows = json::array();
  for (const std::string& url : seeds) seed_rows.push_back({{"h", KeyOf(url)}, {"u", url}, {"o", OriginOf(url)}});
  Failure failure;
  Result<PgResult> joined =
      conn.Exec("SELECT * FROM fanout_join($1, $2, $3, $4, $5)",
                 {std::to_string(options.run), Dump(seed_rows), options.options_json.empty() ? "{}" : options.options_json,
                  std::to_string(options.max_pages), std::to_string(options.delay)},
                 &failure);
  if (!joined.ok()) return OpenError(failure, joined.status());
  const int64_t run = Int(*joined, 0, 0);
  // Hosts an earlier process of this worker still holds (it was killed, or lost power) are given
  // up: this one knows neither their URLs in flight nor when it last sent them a request, so they go
  // out again under a new epoch, their next request a delay from now.
  Result<PgResult> rejoined = conn.Exec("SELECT fanout_rejoin($1, $2)", {std::to_string(run), options.worker});
  if (!rejoined.ok()) return rejoined.status();
  std::vector<std::string> run_seeds;
  const json stored = json::parse(Text(*joined, 0, 1), nullptr, false);
  if (stored.is_array()) {
    for (const json& u : stored) {
      if (u.is_string()) run_seeds.push_back(u.get<std::string>());
    }
  }
  return std::unique_ptr<PgFrontier>(
      new PgFrontier(std::move(options), std::move(conn), run, std::move(run_seeds), Int(*joined, 0, 2)));
}

PgFrontier::PgFrontier(PgFrontierOptions options, PgConn conn, int64_t run, std::vector<std::string> seeds,
                       int64_t max_pages)
    : options_(std::move(options)),
      address_(Redact(options_.conninfo)),
      conn_(std::move(conn)),
      run_(run),
      seeds_(std::move(seeds)),
      max_pages_(max_pages) {}

PgFrontier::~PgFrontier() { (void)Finish(); }

void PgFrontier::Start(std::function<void()> wake) {
  wake_ = std::move(wake);
  thread_ = std::thread([this] { Main(); });
}

SharedDelivery PgFrontier::Take() {
  std::lock_guard lock(mu_);
  if (!news_) return {};
  news_ = false;
  return std::exchange(inbox_, {});
}

void PgFrontier::WantWork(size_t room) {
  std::lock_guard lock(mu_);
  if (room <= want_) return;
  want_ = room;
  cv_.notify_one();
}

void PgFrontier::Offer(std::vector<SharedLink> links) {
  if (links.empty()) return;
  std::vector<std::string> rows;
  rows.reserve(links.size());
  for (const SharedLink& l : links) {
    rows.push_back(Dump({{"h", KeyOf(l.url)}, {"u", l.url}, {"o", OriginOf(l.url)}, {"d", l.depth}, {"f", l.parent}}));
  }
  std::lock_guard lock(mu_);
  Queued();
  offers_.insert(offers_.end(), std::make_move_iterator(rows.begin()), std::make_move_iterator(rows.end()));
}

void PgFrontier::Done(std::string url, std::string origin, int64_t epoch, bool page, std::vector<std::string> redirects) {
  json r = json::array();
  for (const std::string& target : redirects) r.push_back({{"h", KeyOf(target)}, {"o", OriginOf(target)}});
  std::string row = Dump({{"h", KeyOf(url)}, {"o", origin}, {"e", epoch}, {"p", page}, {"r", r}});
  std::lock_guard lock(mu_);
  Queued();
  done_.push_back(std::move(row));
}

void PgFrontier::Robots(std::string origin, SharedRobots robots, double delay) {
  std::string row =
      Dump({{"o", origin}, {"s", robots.status}, {"c", robots.curl_code}, {"b", Hex(robots.body)}, {"d", delay}});
  std::lock_guard lock(mu_);
  Queued();
  robots_.push_back(std::move(row));
}

void PgFrontier::Release(std::string origin, int64_t epoch, double gap_seconds) {
  std::string row = Dump({{"o", origin}, {"e", epoch}, {"g", std::max(0.0, gap_seconds) * 1000}});
  std::lock_guard lock(mu_);
  Queued();
  releases_.push_back(std::move(row));
  ++stats_.hosts_released;
}

uint64_t PgFrontier::BookAddress(std::string origin, int64_t epoch, std::string address, double ip_delay) {
  std::string row = Dump({{"o", origin}, {"e", epoch}, {"a", address}, {"d", std::max(0.0, ip_delay)}});
  std::lock_guard lock(mu_);
  Queued();
  bookings_.push_back(std::move(row));
  booked_ = true;
  return ++address_ops_;
}

uint64_t PgFrontier::ReleaseAddress(std::string address, double gap_seconds) {
  std::string row = Dump({{"a", address}, {"g", std::max(0.0, gap_seconds) * 1000}});
  std::lock_guard lock(mu_);
  Queued();
  unbookings_.push_back(std::move(row));
  return ++address_ops_;
}

Status PgFrontier::Finish() {
  {
    std::lock_guard lock(mu_);
    finishing_ = true;
    cv_.notify_one();
  }
  if (thread_.joinable()) thread_.join();
  std::lock_guard lock(mu_);
  return error_;
}

void PgFrontier::Queued() {
  if (offers_.empty() && done_.empty() && robots_.empty() && releases_.empty() && bookings_.empty() &&
      unbookings_.empty()) {
    oldest_ = Clock::now();  // the batch is due kBatchDelay after its first entry
    cv_.notify_one();
  }
}

SharedFrontierStats PgFrontier::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

void PgFrontier::Deliver(SharedDelivery d) {
  {
    std::lock_guard lock(mu_);
    SharedDelivery& in = inbox_;
    for (SharedLease& g : d.granted) in.granted.push_back(std::move(g));
    for (FrontierItem& u : d.urls) in.urls.push_back(std::move(u));
    if (d.held_known) {
      in.held = std::move(d.held);
      in.held_known = true;
      in.run_over = d.run_over;
      in.lease_deadline = d.lease_deadline;
      in.addresses = std::move(d.addresses);
      in.address_ops = d.address_ops;
    }
    if (!d.error.ok() && in.error.ok()) in.error = d.error;
    news_ = true;
  }
  if (wake_) wake_();
}

bool PgFrontier::Call(const char* sql, const std::vector<std::optional<std::string>>& params, PgResult& out) {
  auto backoff = std::chrono::milliseconds(100);
  const Clock::time_point began = Clock::now();
  const auto give_up_after = std::chrono::duration<double>(options_.lease_seconds);
  while (true) {
    if (!conn_.ok()) {
      Result<PgConn> c = PgConn::Connect(options_.conninfo, options_.connect_timeout_s);
      if (c.ok()) {
        conn_ = std::move(*c);
        std::lock_guard lock(mu_);
        ++stats_.reconnects;
      }
    }
    if (conn_.ok()) {
      Failure f;
      Result<PgResult> r = conn_.Exec(sql, params, &f);
      {
        std::lock_guard lock(mu_);
        ++stats_.statements;
        ++stats_.transactions;
        if (!r.ok() && (f.retry() || f.connection)) ++stats_.retries;
      }
      if (r.ok()) {
        out = std::move(*r);
        return true;
      }
      if (f.retry()) continue;
      if (!f.connection) {
        std::lock_guard lock(mu_);
        if (error_.ok()) error_ = r.status();
        return false;
      }
      conn_ = PgConn();
    }
    // The server is away: wait, and give up only when finishing has waited out a lease (by then
    // every lease we held has expired anyway, and others refetch what we could not report).
    std::unique_lock lock(mu_);
    if (finishing_ && Clock::now() - began > give_up_after) {
      if (error_.ok()) error_ = Status::Unavailable("the frontier stayed unreachable; what was not reported will be fetched again");
      return false;
    }
    cv_.wait_for(lock, backoff);
    backoff = std::min(backoff * 2, std::chrono::milliseconds(2000));
  }
}

bool PgFrontier::SendBatch(std::string batch) {
  PgResult r;
  if (!Call("SELECT * FROM fanout_report($1, $2, $3)", {std::to_string(run_), options_.worker, std::move(batch)}, r)) {
    return false;
  }
  std::lock_guard lock(mu_);
  stats_.done += Int(r, 0, 0);
  stats_.refused += Int(r, 0, 1);
  return true;
}

bool PgFrontier::Claim(size_t room) {
  const Clock::time_point sent = Clock::now();
  SharedDelivery d;
  {
    std::lock_guard lock(mu_);
    d.address_ops = address_ops_sent_;
    booked_ = false;
  }
  PgResult r;
  const long lease_ms = static_cast<long>(options_.lease_seconds * 1000);
  if (!Call("SELECT * FROM fanout_claim($1, $2, $3, $4, $5, $6)",
            // A renewal only (room 0) claims no more hosts: they would come without URLs.
            {std::to_string(run_), options_.worker, std::to_string(lease_ms), std::to_string(room > 0 ? options_.hosts : 0),
             std::to_string(room), std::to_string(std::max<size_t>(1, options_.urls_per_host))},
            r)) {
    return false;
  }
  d.held_known = true;
  d.lease_deadline = sent + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(options_.lease_seconds));
  const Clock::time_point now = Clock::now();
  std::vector<std::pair<std::string, int64_t>> before = std::move(held_);
  std::sort(before.begin(), before.end());
  held_.clear();
  for (int i = 0, n = PQntuples(r.get()); i < n; ++i) {
    const std::string kind = Text(r, i, 0);
    if (kind == "url") {
      d.urls.push_back(FrontierItem{.url = Text(r, i, 4), .depth = static_cast<int>(Int(r, i, 5)),
                                    .parent = Text(r, i, 6), .queued_at = now});
    } else if (kind == "host") {
      std::pair<std::string, int64_t> host{Text(r, i, 1), Int(r, i, 2)};
      if (!std::binary_search(before.begin(), before.end(), host)) {
        SharedLease lease{.origin = host.first, .epoch = host.second, .wait_seconds = Real(r, i, 3), .robots = {}};
        if (!IsNull(r, i, 7)) {
          lease.robots = SharedRobots{.status = static_cast<int>(Int(r, i, 7)), .curl_code = static_cast<int>(Int(r, i, 8)),
                                      .body = Unhex(Text(r, i, 9))};
        }
        d.granted.push_back(std::move(lease));
      }
      held_.push_back(std::move(host));
    } else if (kind == "address") {
      d.addresses.emplace_back(Text(r, i, 1), Real(r, i, 3));
    } else if (kind == "state") {
      d.run_over = Real(r, i, 3) > 0;
    }
  }
  d.held = held_;
  {
    std::lock_guard lock(mu_);
    ++stats_.claims;
    stats_.urls_received += static_cast<int64_t>(d.urls.size());
    stats_.hosts_granted += static_cast<int64_t>(d.granted.size());
  }
  const bool found = !d.urls.empty();
  Deliver(std::move(d));
  return found;
}

void PgFrontier::Main() {
  // A quarter: with the shortest lease allowed (1.5 x (--timeout + 1 s)), transfers may start for a
  // third of a lease after each renewal, so the next renewal lands before the gate closes.
  const auto renew_every =
      std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(options_.lease_seconds / 4));
  Clock::time_point last_claim{}, last_renew{};
  bool found_last = true;
  std::unique_lock lock(mu_);
  auto outbox_size = [&] {
    return offers_.size() + done_.size() + robots_.size() + releases_.size() + bookings_.size() + unbookings_.size();
  };
  while (error_.ok()) {
    const Clock::time_point now = Clock::now();
    const size_t items = outbox_size();
    const Clock::time_point next_claim = last_claim + (found_last || booked_ ? kBusyPoll : kIdlePoll);
    const bool claim_due =
        !finishing_ && (((want_ > 0 || booked_) && now >= next_claim) || now >= last_renew + renew_every);
    // What is queued goes before a claim, so that the claim's answer reflects it.
    const bool batch_due =
        items > 0 && (finishing_ || claim_due || items >= kBatchItems || now >= oldest_ + kBatchDelay);
    if (batch_due) {
      json::string_t batch = "{\"offer\":[";
      auto append = [&](const char* key, std::vector<std::string>& rows, bool first) {
        if (!first) batch += "],\"" + std::string(key) + "\":[";
        for (size_t i = 0; i < rows.size(); ++i) {
          if (i > 0) batch += ',';
          batch += rows[i];
        }
        rows.clear();
      };
      const bool offered = !offers_.empty() || !done_.empty();
      append("offer", offers_, true);
      append("done", done_, false);
      append("robots", robots_, false);
      append("release", releases_, false);
      append("address", bookings_, false);
      append("unaddress", unbookings_, false);
      batch += "]}";
      const uint64_t ops = address_ops_;
      lock.unlock();
      const bool sent = SendBatch(std::move(batch));
      lock.lock();
      if (!sent) break;
      address_ops_sent_ = ops;
      // New links (or URLs done, freeing --max-pages budget) may be work: the next claim need not
      // wait out an idle poll.
      if (offered) found_last = true;
      continue;
    }
    if (claim_due) {
      const size_t room = want_;
      want_ = 0;
      lock.unlock();
      const Clock::time_point sent = Clock::now();
      const bool found = Claim(room);
      lock.lock();
      if (!error_.ok()) break;
      found_last = found || room == 0;
      last_claim = sent;
      last_renew = sent;
      continue;
    }
    if (finishing_) break;
    Clock::time_point until = last_renew + renew_every;
    if (items > 0) until = std::min(until, oldest_ + kBatchDelay);
    if (want_ > 0 || booked_) until = std::min(until, next_claim);
    cv_.wait_until(lock, until);
  }
  if (!error_.ok()) {
    Status error = error_;
    lock.unlock();
    SharedDelivery d;
    d.error = error;
    Deliver(std::move(d));
    return;
  }
  // Leaving: whatever the crawl did not give back itself is released for the others at once.
  json release = json::array();
  for (const auto& [origin, epoch] : held_) release.push_back({{"o", origin}, {"e", epoch}, {"g", 0}});
  lock.unlock();
  SendBatch(Dump({{"release", release}, {"leave", true}}));
}

}  // namespace fanout::pg
