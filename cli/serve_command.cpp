#include "cli/serve_command.h"

#include <signal.h>

#include <cstdio>
#include <iostream>
#include <memory>

#include "cli/command_error.h"
#include "cli/exit_codes.h"
#include "testsite/server.h"
#include "util/ascii.h"

namespace fanout::cli {
namespace {

struct ServeOptions {
  testsite::ServerOptions server;
  std::string root;
  uint64_t synthetic_pages = 0;
  testsite::SyntheticOptions synthetic;
  uint64_t hosts = 0;  // 0: one site on the bound address, not a web
  testsite::SyntheticWebOptions web;
  std::vector<std::string> addresses;  // --host, repeatable; none: 127.0.0.1
  std::vector<std::string> fault_specs;
  std::vector<std::string> fault_files;
  std::string robots_file;
  std::string log_file;
  std::string tls_cert;
  std::string tls_key;
  double duration_s = 0;
};

int RunServe(ServeOptions& opt) {
  testsite::ServerOptions& so = opt.server;
  if (!opt.root.empty()) so.root = opt.root;
  if (opt.synthetic_pages > 0) {
    opt.synthetic.pages = opt.synthetic_pages;
    so.synthetic = opt.synthetic;
    so.seed = opt.synthetic.seed;
  }
  if (opt.hosts > 0) {
    opt.web.hosts = opt.hosts;
    AsciiLowerInPlace(opt.web.domain);  // as the server names its hosts
    so.web = opt.web;
  }
  if (!opt.addresses.empty()) {
    so.host = opt.addresses.front();
    so.more_hosts.assign(opt.addresses.begin() + 1, opt.addresses.end());
  }
  if (!opt.robots_file.empty()) so.robots_file = opt.robots_file;
  if (!opt.log_file.empty()) so.log_file = opt.log_file;
  if (!opt.tls_cert.empty()) so.tls_cert = opt.tls_cert;
  if (!opt.tls_key.empty()) so.tls_key = opt.tls_key;
  for (const std::string& file : opt.fault_files) {
    auto rules = testsite::LoadFaultRules(file);
    if (!rules.ok()) {
      return Fail("serve", rules.status(), rules.status().code() == Status::Code::kIOError ? kExitUnavailable : kExitUsage);
    }
    so.faults.insert(so.faults.end(), rules->begin(), rules->end());
  }
  for (const std::string& spec : opt.fault_specs) {
    auto rule = testsite::ParseFaultRule(spec);
    if (!rule.ok()) return Fail("serve", rule.status(), kExitUsage);
    so.faults.push_back(std::move(rule.value()));
  }

  // Block the signals before any thread starts, so only sigwait below receives them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto server = testsite::SiteServer::Create(so);
  if (!server.ok()) {
    return Fail("serve", server.status(),
                server.status().code() == Status::Code::kInvalidArgument ? kExitUsage : kExitUnavailable);
  }
  // The first line of stdout is the URL, for scripts and tests; everything else goes to stderr.
  std::cout << (*server)->url() << std::endl;
  if (so.web) {
    const std::string& domain = so.web->domain;
    std::cerr << "fanout serve: synthetic web of " << so.web->hosts << " hosts (h0." << domain << " .. h"
              << so.web->hosts - 1 << "." << domain << ") of " << so.synthetic->pages << " pages ("
              << so.synthetic->links << " links, "
              << so.web->cross_links << " of them to other hosts, ~" << so.synthetic->page_bytes << " bytes each, seed "
              << so.synthetic->seed << (so.web->robots_mix ? ", robots.txt mix" : "")
              << (so.web->cross_redirects ? ", cross-host redirects" : "") << ")";
  } else if (so.synthetic) {
    std::cerr << "fanout serve: synthetic site of " << so.synthetic->pages << " pages (" << so.synthetic->links
              << " links, ~" << so.synthetic->page_bytes << " bytes each, seed " << so.synthetic->seed << ")";
  } else {
    std::cerr << "fanout serve: serving " << *so.root;
  }
  const std::vector<std::string>& addresses = (*server)->addresses();
  if (addresses.size() > 1) {
    std::cerr << ", on " << addresses.size() << " addresses (" << addresses.front() << " .. " << addresses.back()
              << ")";
    if (so.ips > 0) {
      std::cerr << ", host i on address i mod " << so.ips;
      if (so.ips < addresses.size()) std::cerr << " and every host on the last " << addresses.size() - so.ips;
    }
  }
  std::cerr << ", latency " << so.latency_ms << " ms +/- " << so.jitter_ms << " ms, " << so.faults.size()
            << " fault rule(s); Ctrl-C stops\n";
  (*server)->Start();

  int signal_number = 0;
  if (opt.duration_s > 0) {
    timespec limit{static_cast<time_t>(opt.duration_s),
                   static_cast<long>((opt.duration_s - static_cast<double>(static_cast<time_t>(opt.duration_s))) * 1e9)};
    signal_number = sigtimedwait(&signals, nullptr, &limit);
  } else {
    sigwait(&signals, &signal_number);
  }
  (*server)->Stop();
  testsite::ServerStats stats = (*server)->stats();
  std::cerr << "fanout serve: stopped after " << stats.requests << " requests, at most " << stats.max_in_flight
            << " in flight at once\n";
  return kExitOk;
}

}  // namespace

void SetupServeCommand(CLI::App& app) {
  auto opt = std::make_shared<ServeOptions>();
  CLI::App* cmd = app.add_subcommand("serve", "Serve a directory or a synthetic site on loopback, for crawling");
  cmd->footer(
      "Fault rules (--fault, repeatable): KIND[:ARGS]@PATH, @PREFIX* or @RATE, KIND one of\n"
      "  status:CODE[:RETRY_AFTER]  redirect:CODE:TARGET  chain:HOPS:TARGET  loop  slow:BYTES_PER_SEC\n"
      "  reset  huge:BYTES[:chunked]  type:MIME  malformed  latin1[:meta]  delay:MS  chunked\n"
      "  encoding:gzip|deflate|br|zstd[:chunked] (compressed only when Accept-Encoding asks for it)\n"
      "e.g. --fault status:503@/busy.html --fault reset@0.01 --fault redirect:301:/new.html@/old.html\n"
      "Counters: GET /__stats, POST /__stats/reset, GET /__log, GET /__faults, GET /__ips (per address);\n"
      "with --hosts, GET /__hosts[?all=1]; with --traps, GET /__traps. Synthetic pages carry ETag and\n"
      "Last-Modified and answer If-None-Match / If-Modified-Since with 304; POST /__mutate changes --mutate of them.");

  auto* root = cmd->add_option("--root", opt->root, "Serve this directory")->check(CLI::ExistingDirectory);
  auto* synthetic = cmd->add_option("--synthetic", opt->synthetic_pages, "Serve a generated site of N pages")
                        ->check(CLI::Range(uint64_t{1}, uint64_t{100'000'000}));
  cmd->add_flag("--follow-symlinks", opt->server.follow_symlinks,
                "With --root: a symlink inside the root may lead outside it (Debian's /usr/share/doc folders are links)")
      ->needs(root);
  root->excludes(synthetic);
  synthetic->excludes(root);
  auto* hosts = cmd->add_option("--hosts", opt->hosts,
                                "Serve the synthetic site as a web of N hosts, h0.localhost .. h{N-1}.localhost "
                                "(or under --domain), each of --synthetic P pages")
                    ->check(CLI::Range(uint64_t{1}, uint64_t{1'000'000}))
                    ->needs(synthetic);
  cmd->add_option("--domain", opt->web.domain,
                  "With --hosts: name the hosts h0.D .. h{N-1}.D, resolved by a DNS of your own (scripts/weblab.sh) "
                  "or curl's --resolve")
      ->capture_default_str()->needs(hosts);
  cmd->add_option("--ips", opt->server.ips,
                  "With --hosts: serve host i only on the (i mod K)-th --host address (and on those after the first "
                  "K); elsewhere it is answered 421")
      ->check(CLI::Range(size_t{1}, size_t{100'000}))->needs(hosts);
  cmd->add_option("--cross-links", opt->web.cross_links, "With --hosts: the share of links that lead to another host")
      ->capture_default_str()->check(CLI::Range(0.0, 1.0))->needs(hosts);
  cmd->add_flag("--robots-mix", opt->web.robots_mix,
                "With --hosts: robots.txt varies by host (allow, disallow a prefix, crawl-delay, 404, 503)")
      ->needs(hosts);
  cmd->add_flag("--cross-redirects", opt->web.cross_redirects,
                "With --hosts: about 1 page in 50 answers 301 to its path on another host")
      ->needs(hosts);
  cmd->add_flag("--traps", opt->server.traps,
                "Add spider traps to the synthetic site (a calendar, a growing path, session ids, endless "
                "pagination), linked from its front page; GET /__traps counts their requests")
      ->needs(synthetic);
  cmd->add_option("--mutate", opt->server.mutate,
                  "The share of synthetic pages each POST /__mutate changes (a new revision: new body, ETag and "
                  "Last-Modified)")
      ->capture_default_str()->check(CLI::Range(0.0, 1.0))->needs(synthetic);
  cmd->add_option("--links", opt->synthetic.links, "Links per synthetic page")
      ->capture_default_str()->check(CLI::Range(0, 1000));
  cmd->add_option("--page-bytes", opt->synthetic.page_bytes, "Approximate size of a synthetic page")
      ->capture_default_str()->check(CLI::Range(size_t{0}, size_t{64} << 20));
  cmd->add_option("--seed", opt->synthetic.seed, "Seed of the synthetic site, jitter and random faults")
      ->capture_default_str();
  cmd->add_option("--host", opt->addresses,
                  "Address to bind, repeatable (default 127.0.0.1): loopback (127.0.0.0/8, ::1); any other only "
                  "inside a network namespace apart from the initial one (ip netns exec), where no other machine "
                  "can reach it");
  cmd->add_option("--port", opt->server.port,
                  "Port, the same on every --host; 0 picks a free one (the URL is printed first)")
      ->capture_default_str();
  cmd->add_option("--latency", opt->server.latency_ms, "Delay every answer by MS milliseconds")
      ->capture_default_str()->check(CLI::Range(0, 600'000));
  cmd->add_option("--jitter", opt->server.jitter_ms, "Add a uniform +/- MS to each delay")
      ->capture_default_str()->check(CLI::Range(0, 600'000));
  cmd->add_option("--fault", opt->fault_specs, "A fault rule (see below); repeatable");
  cmd->add_option("--fault-file", opt->fault_files, "A file of fault rules, one per line; repeatable")
      ->check(CLI::ExistingFile);
  cmd->add_option("--faults", opt->server.synthetic_fault_rate,
                  "Give this share (0..1) of synthetic pages a fault of a random kind")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--robots", opt->robots_file, "Serve this file as /robots.txt (default: allow all)")
      ->check(CLI::ExistingFile);
  auto* cert = cmd->add_option("--tls-cert", opt->tls_cert, "Serve HTTPS with this PEM certificate chain")
                   ->check(CLI::ExistingFile);
  auto* key = cmd->add_option("--tls-key", opt->tls_key, "... and this PEM private key")->check(CLI::ExistingFile);
  cert->needs(key);
  key->needs(cert);
  cmd->add_option("--log", opt->log_file, "Append every request to this file as a JSON line");
  cmd->add_option("--log-capacity", opt->server.log_capacity, "Requests kept in memory for GET /__log")
      ->capture_default_str();
  cmd->add_option("--duration", opt->duration_s, "Stop by itself after this many seconds (0: never)")
      ->check(CLI::NonNegativeNumber);
  cmd->callback([opt] { throw CLI::RuntimeError(RunServe(*opt)); });
  // The exit code travels out of CLI11's parse() as a RuntimeError, which main() returns as is.
}

}  // namespace fanout::cli
