#include "cli/why_command.h"

#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/command_error.h"
#include "cli/crawl_database.h"
#include "cli/exit_codes.h"
#include "crawler/page_content.h"
#include "crawler/url.h"
#include "crawler/url_traps.h"

namespace fanout::cli {
namespace {

struct WhyCommandOptions {
  std::string url;
  std::string db = "fanout.db";
  int64_t run = 0;  // 0: the latest run
  bool all = false;
};

// Pages a URL was found on that are listed before the rest are only counted: a link in every
// page's navigation is found on all of them.
constexpr int kFoundOnShown = 10;

// What the database says about one URL in one run, a line per fact, and which facts there were.
struct Story {
  std::vector<std::string> lines;
  bool fetched = false;          // it has a pages row
  bool refused = false;          // it has a skipped row
  bool redirect_target = false;  // another page's redirect led to it
  bool followed = false;         // a page's link to it was queued
};

// A query on one run and one URL: ?1 is the run, ?2 the URL.
Result<SqliteStmt> Prepare(CrawlDatabase& db, const std::string& sql, int64_t run, const std::string& url) {
  Result<SqliteStmt> stmt = db.db.Prepare(sql);
  if (stmt.ok()) stmt->Bind(1, run).Bind(2, url);
  return stmt;
}

std::string Quoted(const std::string& text) { return "\"" + text + "\""; }

// The redirect hops of a page, from its redirect_chain: [{"url", "status", "location"}, ...], a meta
// refresh with "via": "meta_refresh" and its "delay". The
// first `followed` hops were followed; a last hop that was not (a duplicate, refused) is listed too.
void TellRedirects(const std::string& chain_json, int64_t followed, Story& story) {
  const nlohmann::json chain = nlohmann::json::parse(chain_json, nullptr, /*allow_exceptions=*/false);
  if (!chain.is_array()) {
    story.lines.push_back("redirect chain: " + chain_json);
    return;
  }
  story.lines.push_back("redirects followed: " + std::to_string(followed));
  int64_t hop = 0;
  for (const nlohmann::json& h : chain) {
    auto text = [&h](const char* key) {
      const auto it = h.find(key);
      return it == h.end() ? std::string("?") : it->is_string() ? it->get<std::string>() : it->dump();
    };
    ++hop;
    const bool refresh = h.contains("via") && h["via"] == "meta_refresh";
    story.lines.push_back("  " + std::to_string(hop) + ". " + text("status") + " " + text("url") + " -> " +
                          text("location") + (refresh ? " (meta refresh after " + text("delay") + " s)" : "") +
                          (hop > followed ? " (not followed)" : ""));
  }
}

// The columns TellFetch reads, in its SELECT's order.
enum PageColumn {
  kDepth, kStatus, kContentType, kBytes, kTruncated, kTitle, kErrorKind, kError, kRedirects, kFinalUrl,
  kAttempts, kRedirectChain, kCharset,
};

// The pages row: the fetch, its outcome, its redirects.
Status TellFetch(CrawlDatabase& db, int64_t run, const std::string& url, Story& story) {
  // Schema version 3 added attempts, redirect_chain and charset; an older database reads as if none.
  const std::string since_v3 = db.schema_version >= 3 ? "attempts, redirect_chain, charset" : "1, NULL, NULL";
  FANOUT_ASSIGN_OR_RETURN(SqliteStmt page, Prepare(db,
                                    "SELECT depth, status, content_type, bytes, truncated, title, error_kind, error, "
                                    "redirects, final_url, " + since_v3 +
                                        " FROM pages WHERE run_id = ?1 AND url = ?2",
                                    run, url));
  FANOUT_ASSIGN_OR_RETURN(bool row, page.Step());
  if (!row) return Status::Ok();
  story.fetched = true;
  auto has = [&page](PageColumn c) { return !page.ColumnIsNull(c); };

  const int64_t depth = page.ColumnInt(kDepth);
  std::string fetched = "fetched (depth " + std::to_string(depth) + (depth == 0 ? ", a seed" : "") + "): ";
  if (page.ColumnInt(kStatus) == 0) {
    fetched += "no response";
  } else {
    fetched += std::to_string(page.ColumnInt(kStatus));
    if (has(kContentType)) fetched += ", " + page.ColumnText(kContentType);
    fetched += ", " + std::to_string(page.ColumnInt(kBytes)) + " bytes";
    if (page.ColumnInt(kTruncated) != 0) fetched += " (truncated at --max-bytes)";
  }
  story.lines.push_back(fetched);
  if (const int64_t attempts = page.ColumnInt(kAttempts); attempts > 1) {
    story.lines.push_back("tried " + std::to_string(attempts) + " times (" + std::to_string(attempts - 1) +
                          (attempts == 2 ? " retry)" : " retries)"));
  }
  if (has(kErrorKind)) {
    story.lines.push_back("error: " + page.ColumnText(kErrorKind) + ": " + page.ColumnText(kError));
  } else if (has(kError)) {
    story.lines.push_back("note: " + page.ColumnText(kError));  // a redirect the crawler did not follow
  }
  if (has(kRedirectChain)) {
    TellRedirects(page.ColumnText(kRedirectChain), page.ColumnInt(kRedirects), story);
  } else if (page.ColumnInt(kRedirects) > 0) {
    story.lines.push_back("redirects followed: " + std::to_string(page.ColumnInt(kRedirects)));
  }
  if (has(kFinalUrl)) story.lines.push_back("final URL: " + page.ColumnText(kFinalUrl));
  const std::string decoded = has(kCharset) ? "decoded from " + page.ColumnText(kCharset) : "";
  if (has(kTitle)) {
    std::string title = "title: " + Quoted(page.ColumnText(kTitle));
    if (!decoded.empty()) title += " (" + decoded + ")";
    story.lines.push_back(title);
  } else if (!decoded.empty()) {
    story.lines.push_back(decoded);
  }
  return Status::Ok();
}

// Pages whose redirects led here: as their final URL, or as a hop on the way or not followed.
Status TellRedirectedHere(CrawlDatabase& db, int64_t run, const std::string& url, Story& story) {
  Result<SqliteStmt> finals =
      Prepare(db, "SELECT url, status FROM pages WHERE run_id = ?1 AND final_url = ?2 ORDER BY id", run, url);
  if (!finals.ok()) return finals.status();
  while (true) {
    FANOUT_ASSIGN_OR_RETURN(bool row, finals->Step());
    if (!row) break;
    story.redirect_target = true;
    story.lines.push_back("reached by redirect: the final URL of " + finals->ColumnText(0) + " (" +
                          std::to_string(finals->ColumnInt(1)) + ")");
  }
  if (db.schema_version < 3) return Status::Ok();  // no redirect_chain to look through
  // json_each of NULL has no rows: a chain that is not valid JSON is passed over, not an error.
  FANOUT_ASSIGN_OR_RETURN(SqliteStmt hops, Prepare(db, R"sql(
    SELECT p.url, h.key + 1, json_extract(h.value, '$.status')
    FROM pages p, json_each(CASE WHEN json_valid(p.redirect_chain) THEN p.redirect_chain END) h
    WHERE p.run_id = ?1 AND p.redirect_chain IS NOT NULL AND json_extract(h.value, '$.location') = ?2
      AND p.final_url IS NOT ?2
    ORDER BY p.id)sql",
                                    run, url));
  while (true) {
    FANOUT_ASSIGN_OR_RETURN(bool row, hops.Step());
    if (!row) break;
    story.redirect_target = true;
    story.lines.push_back(hops.ColumnText(0) + " redirected here (hop " + std::to_string(hops.ColumnInt(1)) + ", " +
                          hops.ColumnText(2) + "), not its final URL");
  }
  return Status::Ok();
}

// The skipped rows: the crawl chose not to fetch it, and said why.
Status TellRefused(CrawlDatabase& db, int64_t run, const std::string& url, Story& story) {
  if (!db.HasSkippedTable()) return Status::Ok();
  FANOUT_ASSIGN_OR_RETURN(SqliteStmt skipped, Prepare(
      db, "SELECT reason, detail, found_on, depth FROM skipped WHERE run_id = ?1 AND url = ?2 ORDER BY id", run, url));
  while (true) {
    FANOUT_ASSIGN_OR_RETURN(bool row, skipped.Step());
    if (!row) break;
    story.refused = true;
    const std::string reason = skipped.ColumnText(0);
    std::string line = "not fetched: " + reason;
    // A name that did not resolve says what that means; the detail names the host and the answer.
    if (const std::string_view meaning = ErrorKindMeaning(reason); !meaning.empty() && reason.starts_with("dns-")) {
      line += ": " + std::string(meaning);
    }
    if (!skipped.ColumnIsNull(1)) line += " (" + skipped.ColumnText(1) + ")";
    if (reason.rfind("redirect_", 0) == 0 && !skipped.ColumnIsNull(2)) {
      line += ", a redirect from " + skipped.ColumnText(2);
    } else if (skipped.ColumnIsNull(2) && skipped.ColumnInt(3) == 0) {
      line += ", a seed";
    }
    story.lines.push_back(line);
  }
  return Status::Ok();
}

// Why a link to `url` was not followed, with the rule and what broke it where the reason depends on
// the run's options (as its runs row recorded them; an older run's lack them, and had the defaults).
std::string ExplainedReason(const std::string& reason, const std::string& url, const nlohmann::json& options) {
  auto option = [&](const char* key, auto fallback) {
    const auto it = options.find(key);
    return it != options.end() && it->is_number() ? it->get<decltype(fallback)>() : fallback;
  };
  if (reason == "repeated_segment" || reason == "repeated_parameter" || reason == "too_many_segments") {
    TrapLimits limits;
    limits.max_repeats = option("max_repeats", limits.max_repeats);
    limits.max_segments = option("max_path_segments", limits.max_segments);
    if (std::optional<TrapFinding> trap = FindTrap(url, limits); trap && trap->rule == reason) {
      return reason + " (" + ExplainTrap(*trap, limits) + ")";
    }
  } else if (reason == "host_budget") {
    return reason + " (its host had " + std::to_string(option("max_pages_per_host", int64_t{0})) +
           " URLs followed already: --max-pages-per-host)";
  } else if (reason == "depth") {
    return reason + " (more than " + std::to_string(option("max_depth", 0)) + " links from a seed: --max-depth)";
  }
  return reason;
}

// The links rows: every page it was found on, whether that link was followed and if not, why.
Status TellFoundOn(CrawlDatabase& db, int64_t run, const std::string& url, bool all, Story& story) {
  FANOUT_ASSIGN_OR_RETURN(SqliteStmt run_row, db.db.Prepare("SELECT options FROM runs WHERE id = ?1"));
  run_row.Bind(1, run);
  FANOUT_ASSIGN_OR_RETURN(bool has_run, run_row.Step());
  const nlohmann::json options = nlohmann::json::parse(has_run ? run_row.ColumnText(0) : "{}", nullptr, false);
  // One line per page: a page linking here twice has its first link followed (or refused) and the
  // second a duplicate, which says nothing new. The link that was followed comes first, then the
  // refusals that say why, then the duplicates, each in the order the pages were stored.
  FANOUT_ASSIGN_OR_RETURN(SqliteStmt links, Prepare(db, R"sql(
    SELECT p.url, p.depth, max(l.followed) AS followed, min(l.reason) AS reason
    FROM links l JOIN pages p ON p.id = l.page_id
    WHERE l.to_url = ?2 AND p.run_id = ?1
    GROUP BY p.id
    ORDER BY followed DESC, reason IS 'duplicate', p.id)sql",
                                     run, url));
  int pages = 0;
  while (true) {
    FANOUT_ASSIGN_OR_RETURN(bool row, links.Step());
    if (!row) break;
    const bool followed = links.ColumnInt(2) != 0;
    story.followed = story.followed || followed;
    if (!all && ++pages > kFoundOnShown) continue;  // counted, not shown
    story.lines.push_back("found on " + links.ColumnText(0) + " (depth " + std::to_string(links.ColumnInt(1)) +
                          "), " +
                          (followed ? "followed" : "not followed: " + ExplainedReason(links.ColumnText(3), url, options)));
  }
  if (pages > kFoundOnShown) {
    story.lines.push_back("found on " + std::to_string(pages - kFoundOnShown) + " more pages (--all lists them)");
  }
  return Status::Ok();
}

// The whole story, in the order it happened: the fetch, the redirects that led here, the refusals,
// then where the URL was found.
Status Tell(CrawlDatabase& db, int64_t run, const std::string& url, bool all, Story& story) {
  FANOUT_RETURN_IF_ERROR(TellFetch(db, run, url, story));
  FANOUT_RETURN_IF_ERROR(TellRedirectedHere(db, run, url, story));
  FANOUT_RETURN_IF_ERROR(TellRefused(db, run, url, story));
  FANOUT_RETURN_IF_ERROR(TellFoundOn(db, run, url, all, story));
  if (story.followed && !story.fetched && !story.refused && !story.redirect_target) {
    // Queued and never fetched: the frontier view's verdict, for one URL.
    FANOUT_ASSIGN_OR_RETURN(SqliteStmt ended, db.db.Prepare("SELECT finished_at IS NOT NULL FROM runs WHERE id = ?1"));
    ended.Bind(1, run);
    FANOUT_ASSIGN_OR_RETURN(bool row, ended.Step());
    story.lines.insert(story.lines.begin(),
                       row && ended.ColumnInt(0) != 0
                           ? "not fetched: queued, but the run stopped first (--max-pages)"
                           : "not fetched yet: queued, and the run is unfinished (still running, or interrupted)");
  }
  return Status::Ok();
}

int RunWhy(const WhyCommandOptions& opt) {
  auto fail = [](std::string_view message, int code) { return Fail("why", message, code); };
  Result<CrawlDatabase> db = OpenCrawlDatabase(opt.db);
  if (!db.ok()) return fail(db.status().message(), DatabaseExitCode(db.status()));
  Result<int64_t> run = ChooseRun(*db, opt.run > 0 ? std::optional<int64_t>(opt.run) : std::nullopt);
  if (!run.ok()) return fail(run.status().message(), ChooseRunExitCode(run.status(), opt.run > 0));

  // The crawler keys everything on the normalised URL. What it could not resolve (a mailto: link,
  // a malformed href) it stored as written, so such text is looked up as it is.
  Result<UrlRules> rules = UrlRulesOfRun(*db, *run);
  if (!rules.ok()) return fail(rules.status().message(), kExitDatabase);
  Result<std::string> normalized = NormalizeUrl(opt.url, *rules);
  std::string url = normalized.ok() ? *normalized : opt.url;

  Story story;
  if (Status told = Tell(*db, *run, url, opt.all, story); !told.ok()) return fail(told.message(), kExitDatabase);
  // A link's session id is not part of its key (url_traps.h): the page is under the URL without it.
  if (std::string key = url; story.lines.empty() && StripSessionIds(key)) {
    url = key;
    if (Status told = Tell(*db, *run, url, opt.all, story); !told.ok()) return fail(told.message(), kExitDatabase);
    if (!story.lines.empty()) story.lines.insert(story.lines.begin(), "(its session id taken out, as links' are)");
  }
  if (story.lines.empty()) return fail(url + " never seen in run " + std::to_string(*run), kExitFailure);
  std::cout << url << " in run " << *run << ":\n";
  for (const std::string& line : story.lines) std::cout << "  " << line << "\n";
  return kExitOk;
}

}  // namespace

void SetupWhyCommand(CLI::App& app) {
  auto opt = std::make_shared<WhyCommandOptions>();
  CLI::App* cmd = app.add_subcommand(
      "why", "Tell the story of one URL in a run: fetched or not, why, and where it was found (read-only)");
  cmd->add_option("url", opt->url, "The URL, normalised as the crawler does")->required();
  cmd->add_option("--db", opt->db, "SQLite database a crawl wrote")->capture_default_str();
  cmd->add_option("--run", opt->run, "The run (default: the latest)")->check(CLI::PositiveNumber);
  cmd->add_flag("--all", opt->all,
                "List every page the URL was found on (default: the first " + std::to_string(kFoundOnShown) + ")");
  cmd->callback([opt] { throw CLI::RuntimeError(RunWhy(*opt)); });
}

}  // namespace fanout::cli
