#include "crawler/crawl_summary.h"

#include <nlohmann/json.hpp>

namespace fanout {

std::string CrawlSummary::ToJson() const {
  nlohmann::json j = {
      {"run_id", run_id},
      {"mode", mode},
      {"pages", pages},
      {"ok_pages", ok_pages},
      {"parsed_pages", parsed_pages},
      {"parser", {{"mode", parser}, {"fast_path", fast_path_pages}, {"gumbo", parsed_pages - fast_path_pages},
                  {"bailouts", parser_bailouts}}},
      {"errors", errors},
      {"errors_by_kind", errors_by_kind},
      {"bytes", bytes},
      {"links", links},
      {"skipped_by_reason", skipped_by_reason},
      {"retries", retries},
      {"robots_fetched", robots_fetched},
      {"robots_refused_origins", robots_refused_origins}, {"robots_refetched", robots_refetched},
      {"robots_kept", robots_kept},
      {"robots_ignored", robots_ignored},
      {"tls_unverified", tls_unverified},
      {"interrupted", interrupted},
      {"dropped", dropped},
      {"pages_before", pages_before},
      {"sitemaps", {{"fetched", sitemaps_fetched}, {"failed", sitemaps_failed}, {"urls", sitemap_urls},
                    {"queued", sitemap_queued}}},
      {"queued_left", queued_left},
      {"max_queued_on_disk", max_queued_on_disk},
      {"frontier_refills", frontier_refills},
      {"wall_seconds", wall_seconds},
      {"pages_per_second", pages_per_second},
      {"bytes_per_second", bytes_per_second},
      {"concurrency", concurrency},
      {"per_host", per_host},
      {"max_in_flight", max_in_flight},
      {"max_pages_in_progress", max_pages_in_progress},
      {"page_slots", page_slots},
      {"mean_in_flight", mean_in_flight},
      {"saturated_seconds", saturated_seconds},
      {"saturated_mean_in_flight", saturated_mean_in_flight},
      {"mean_parse_seconds", mean_parse_seconds},
      {"per_host_bound", per_host_bound},
      {"loop_busy_fraction", loop_busy_fraction},
      {"loop_cpu_seconds", loop_cpu_seconds},
      {"pool_busy_fraction", pool_busy_fraction},
      {"threads", threads},
      {"store_busy_fraction", store_busy_fraction},
      {"store_cpu_seconds", store_cpu_seconds},
      {"store_batches", store_batches},
      {"hosts", hosts},
      {"host_memory_bytes", host_memory_bytes},
      {"host_queue_bytes", host_queue_bytes},
      {"bytes_per_host", hosts > 0 ? static_cast<double>(host_memory_bytes) / static_cast<double>(hosts) : 0.0},
      {"robots_distinct", robots_distinct},
      {"page_turn_waits", page_turn_waits},
      {"page_turn_wait_seconds", page_turn_wait_seconds},
      {"scheduler_heap_steps", scheduler_heap_steps},
      {"phase_seconds", {{"queue_wait", phases.queue_wait}, {"dns", phases.dns}, {"connect", phases.connect},
                         {"tls", phases.tls}, {"first_byte", phases.first_byte}, {"transfer", phases.transfer},
                         {"parse", phases.parse}, {"store", phases.store}}},
      {"fetch_seconds", {{"p50", fetch_seconds.p50}, {"p90", fetch_seconds.p90}, {"p99", fetch_seconds.p99}}},
      {"parse_seconds", {{"p50", parse_seconds.p50}, {"p90", parse_seconds.p90}, {"p99", parse_seconds.p99}}},
      {"cpu_user_seconds", cpu_user_seconds},
      {"cpu_system_seconds", cpu_system_seconds},
      {"peak_rss_kb", peak_rss_kb},
      {"voluntary_switches", voluntary_switches},
      {"involuntary_switches", involuntary_switches},
  };
  nlohmann::json codes = nlohmann::json::object();
  for (const auto& [status, count] : status_codes) codes[std::to_string(status)] = count;
  j["status_codes"] = codes;
  nlohmann::json slowest = nlohmann::json::array();
  for (const SlowPage& p : slowest_pages) {
    slowest.push_back({{"url", p.url}, {"seconds", p.seconds}, {"status", p.status}, {"error_kind", p.error_kind}});
  }
  j["slowest_pages"] = slowest;
  nlohmann::json timeline = nlohmann::json::array();
  for (const TimelinePoint& p : in_flight_timeline) timeline.push_back({p.seconds, p.in_flight, p.queued});
  j["in_flight_timeline"] = timeline;
  j["in_flight_timeline_interval_seconds"] = in_flight_timeline_interval;
  if (!shared.worker.empty()) {
    j["shared_frontier"] = {{"worker", shared.worker}, {"frontier", shared.frontier}, {"run", shared.run},
                            {"statements", shared.statements}, {"transactions", shared.transactions},
                            {"retries", shared.retries}, {"reconnects", shared.reconnects}, {"done", shared.done},
                            {"refused", shared.refused}, {"claims", shared.claims},
                            {"hosts_granted", shared.hosts_granted}, {"hosts_released", shared.hosts_released},
                            {"hosts_lost", hosts_lost},
                            {"statements_per_page", pages > 0 ? static_cast<double>(shared.statements) /
                                                                    static_cast<double>(pages) : 0.0}};
  }
  nlohmann::json failures = nlohmann::json::object();
  for (const auto& [kind, count] : dns.failures) failures[kind] = count;
  j["dns"] = {{"lookups", dns.lookups}, {"cache_hits", dns.cache_hits}, {"joined", dns.joined},
              {"local", dns.local}, {"retries", dns.retries}, {"hosts_failed", dns.hosts_failed},
              {"hosts_unanswered", dns.hosts_unanswered},
              {"failures", failures}, {"seconds", dns.seconds}, {"addresses", dns.addresses},
              {"max_per_ip", dns.max_per_ip}};
  j["hosts_failing"] = hosts_failing;
  if (archive.files > 0) {
    j["archive"] = {{"files", archive.files}, {"records", archive.records}, {"revisits", archive.revisits},
                    {"bytes", archive.bytes}, {"payload_bytes", archive.payload_bytes},
                    {"write_seconds", archive.write_seconds}, {"first_file", archive.first_file},
                    {"last_file", archive.last_file}};
  }
  return j.dump();
}

}  // namespace fanout
