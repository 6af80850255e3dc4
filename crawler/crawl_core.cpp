#include "crawler/crawl_core.h"

namespace fanout {

CrawlProgress CrawlCore::Progress() const {
  const CrawlCounters& c = crawl_.counters;
  return {c.summary.pages, c.summary.errors, c.meter.in_flight(), crawl_.frontier.queued(), SecondsSince(c.started)};
}

void CrawlCore::Summarise(double wall, CrawlSummary& s) {
  CrawlCounters& c = crawl_.counters;
  const CrawlOptions& options = crawl_.options;
  const Frontier& frontier = crawl_.frontier;
  s = c.summary;
  SummariseRun(c.samples, c.meter, options, wall, s);
  s.max_pages_in_progress = c.max_pages_in_progress;
  s.per_host_bound = c.host_waits > 0 && options.per_host < options.concurrency;
  s.hosts = frontier.hosts();
  s.host_memory_bytes = frontier.host_memory_bytes() + crawl_.robots.memory_bytes();
  s.host_queue_bytes = frontier.host_queue_bytes();
  s.robots_distinct = crawl_.robots.distinct();
  s.page_turn_waits = c.page_turn_waits;
  s.page_turn_wait_seconds = c.page_turn_wait_seconds;
  s.scheduler_heap_steps = frontier.heap_steps();
  s.dns.addresses = frontier.addresses();
  s.dns.max_per_ip = frontier.max_address_in_flight();
  // fanout's own lookups, beside what curl spent on the names it still answers (*.localhost).
  s.phases.dns += s.dns.seconds;
}

}  // namespace fanout
