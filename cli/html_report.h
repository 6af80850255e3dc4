// The HTML reports' one writer (`fanout bench --html`, `fanout crawl --html`): a self-contained page
// (inline CSS, no scripts, nothing fetched), charts drawn as inline SVG from numbers, and tables.
//
// Charts scale with the page (a viewBox, max-width) and print on their own (print CSS). Their
// legends are HTML lists under the chart, so no label ever lands on another. Every element that
// carries data says so in data-* attributes, which the browser tests read back from the DOM:
//   <svg data-chart=ID data-x-axis=.. data-y-axis=..>
//     <g class="series" data-series=NAME [data-constant=true]> <circle data-x=X data-y=Y> ...
//     <g class="bar" data-label=LABEL> <rect data-segment=NAME data-value=V> ...
//   <table data-table=ID>
// Numbers in data-* attributes are written to round-trip exactly (as JSON writes doubles).
//
// Threads: pure functions of their arguments (MachineDescription and CommandLine read /proc); any
// thread.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fanout::cli::html {

// Text for HTML: element content and attribute values alike.
std::string Escape(std::string_view text);

struct Point {
  double x = 0, y = 0;
};

struct Series {
  std::string name;
  std::vector<Point> points;
  std::string colour;     // "": the palette's, by the series' position
  bool dashed = false;    // a reference (the ideal, a limit), not a measurement
  bool constant = false;  // a level with no x of its own: one y, drawn across the whole x range
  bool markers = true;    // a dot at each point; without, the dots are there (for the DOM) but not drawn
  bool steps = false;     // samples of a level held until the next one: drawn as steps, not slopes
};

struct LineChart {
  std::string id;                        // data-chart
  std::string title, x_label, y_label;  // the labels say the units
  bool log_x = false;
  std::vector<double> x_ticks;  // where x ticks go; empty: chosen from the data
  double y_max = 0;             // 0: from the data; else the axis ends there and higher points are clipped
  std::vector<Series> series;
  std::string note;  // a line under the chart, e.g. what a dashed line is
  bool small = false;  // a small multiple: a smaller canvas, for a grid of them
};
std::string Render(const LineChart& chart);

// Horizontal bars, one per label, each split into named segments (stacked left to right).
struct StackedBars {
  std::string id, title, x_label;
  std::vector<std::string> segments;  // one colour and one legend entry each
  struct Bar {
    std::string label;
    std::vector<double> values;  // one per segment
  };
  std::vector<Bar> bars;
  std::string note;
  bool counts = false;  // the values are whole numbers: totals written without decimals
};
std::string Render(const StackedBars& chart);

struct Table {
  std::string id;  // data-table
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;  // plain text, escaped when written
  std::string align;                           // 'l' or 'r' per column; default: first left, rest right
};
std::string Render(const Table& table);

// A whole page: <title> and <h1> `title`, then `body` (HTML), with the reports' CSS.
std::string Page(const std::string& title, const std::string& body);

// "2 cores, Intel(R) Xeon(R) CPU ... " from /proc/cpuinfo and the cores this process may use.
std::string MachineDescription();

// This process's command line (/proc/self/cmdline), each word quoted as a shell would need.
std::string CommandLine();

// What made a report, for its first lines: the machine, fanout's version and the command line.
std::string Provenance();

// Charts of crawl summaries (CrawlSummary::ToJson), which both reports draw alike:
// where the time went, milliseconds per page by phase, a bar per (label, summary);
StackedBars PhaseBars(const std::string& id, const std::vector<std::pair<std::string, const nlohmann::json*>>& runs);
// and the fan-out over time: in flight and queued (in_flight_timeline), with the concurrency limit.
LineChart InFlightChart(const std::string& id, const std::string& title, const nlohmann::json& summary, bool small);

}  // namespace fanout::cli::html
