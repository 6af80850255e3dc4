// warc_bench: CPU per page of archiving a crawl's pages with WarcArchive, one thread: Prepare (two
// records, digests, two gzip members) + AddMetadata (30 outlinks) + Write, for a 20 kB HTML-like
// page, at gzip levels 6 and 1. Run by hand:
//   warc_bench [PAGES [DIR]]    (DIR defaults to the temporary directory; its files are removed)
// CPU is the process's user + system time (CLOCK_PROCESS_CPUTIME_ID), so the write(2) copy into the
// page cache counts; the disk itself does not (nothing is synced before Close).
#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "warc/warc_archive.h"

namespace {

double CpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// About 20 kB of markup that compresses like a real page (repeated tags, varied words and
// links), different per page so that no payload is a revisit.
std::string Page(int n, std::mt19937& gen) {
  static const char* kWords[] = {"crawler", "archive", "the", "of", "record", "page", "fetch", "host",
                                 "lorem", "ipsum", "data", "link", "index", "gzip", "member", "server"};
  std::uniform_int_distribution<int> word(0, 15), len(5, 14);
  std::string page = "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Page " + std::to_string(n) +
                     "</title><link rel=\"stylesheet\" href=\"/static/site.css\"></head><body>\n";
  for (int p = 0; page.size() < 20000; ++p) {
    page += "<div class=\"entry\"><h2><a href=\"/articles/" + std::to_string(n * 97 + p) + ".html\">";
    for (int i = len(gen); i > 0; --i) page += std::string(kWords[word(gen)]) + " ";
    page += "</a></h2>\n<p>";
    for (int i = len(gen) * 4; i > 0; --i) page += std::string(kWords[word(gen)]) + (i % 9 == 0 ? ". " : " ");
    page += "</p></div>\n";
  }
  page += "</body></html>\n";
  return page;
}

struct Figures {
  double prepare_us = 0, metadata_us = 0, write_us = 0, total_us = 0;
  double bytes_per_page = 0;
};

Figures Run(int level, int pages, const std::string& dir) {
  fanout::WarcOptions o;
  o.prefix = dir + "/warc-bench-l" + std::to_string(level);
  o.gzip_level = level;
  o.software = "fanout/warc_bench";
  auto archive = fanout::WarcArchive::Open(o);
  if (!archive.ok()) {
    std::fprintf(stderr, "warc_bench: %s\n", archive.status().ToString().c_str());
    std::exit(1);
  }
  std::mt19937 gen(7);
  std::vector<std::string> bodies;
  for (int i = 0; i < 64; ++i) bodies.push_back(Page(i, gen));
  std::vector<std::string> outlinks;
  for (int i = 0; i < 30; ++i) outlinks.push_back("http://www.example.com/articles/" + std::to_string(i) + ".html");
  const std::string request = "GET /page HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: fanout/0.1.0\r\n"
                              "Accept: */*\r\nAccept-Encoding: gzip, deflate\r\n\r\n";
  double prepare = 0, metadata = 0, write = 0;
  for (int i = 0; i < pages; ++i) {
    std::string body = bodies[i % bodies.size()];
    body += "<!-- " + std::to_string(i) + " -->";  // a payload of its own
    const std::string head = "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: " +
                             std::to_string(body.size()) + "\r\nServer: bench\r\n\r\n";
    const std::string uri = "http://www.example.com/page/" + std::to_string(i);
    fanout::WarcExchange e{uri, std::chrono::system_clock::now(), "127.0.0.1", request, head, body, ""};
    fanout::WarcMetadata meta;
    meta.via = "http://www.example.com/";
    meta.hops_from_seed = 2;
    meta.fetch_seconds = 0.01;
    meta.outlinks = outlinks;
    const double t0 = CpuSeconds();
    fanout::WarcBatch batch = (*archive)->Prepare(e);
    const double t1 = CpuSeconds();
    (*archive)->AddMetadata(batch, meta);
    const double t2 = CpuSeconds();
    auto location = (*archive)->Write(std::move(batch));
    const double t3 = CpuSeconds();
    if (!location.ok()) {
      std::fprintf(stderr, "warc_bench: %s\n", location.status().ToString().c_str());
      std::exit(1);
    }
    prepare += t1 - t0;
    metadata += t2 - t1;
    write += t3 - t2;
  }
  const fanout::WarcStats stats = (*archive)->stats();
  const auto files = (*archive)->files();
  (void)(*archive)->Close();
  for (const std::string& f : files) std::filesystem::remove(f);
  Figures f;
  f.prepare_us = prepare / pages * 1e6;
  f.metadata_us = metadata / pages * 1e6;
  f.write_us = write / pages * 1e6;
  f.total_us = f.prepare_us + f.metadata_us + f.write_us;
  f.bytes_per_page = static_cast<double>(stats.bytes_written) / pages;
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  const int pages = argc > 1 ? std::atoi(argv[1]) : 5000;
  const std::string dir = argc > 2 ? argv[2] : std::filesystem::temp_directory_path().string();
  if (pages <= 0) {
    std::fprintf(stderr, "usage: warc_bench [PAGES [DIR]]\n");
    return 2;
  }
  std::printf("%d pages of ~20 kB HTML, 30 outlinks each, one thread\n", pages);
  std::printf("level  prepare_us  metadata_us  write_us  total_cpu_us/page  warc_bytes/page\n");
  for (int level : {6, 1}) {
    Run(level, pages / 10, dir);  // warm-up: page cache, allocator, compressor pool
    const Figures f = Run(level, pages, dir);
    std::printf("%5d  %10.1f  %11.1f  %8.1f  %17.1f  %15.0f\n", level, f.prepare_us, f.metadata_us, f.write_us,
                f.total_us, f.bytes_per_page);
  }
  return 0;
}
