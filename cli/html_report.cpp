#include "cli/html_report.h"

#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include "cli/text_table.h"

namespace fanout::cli::html {
namespace {

using nlohmann::json;

// Told apart by people with the common colour-vision deficiencies (after Okabe and Ito), then a few
// darker ones for charts with many series.
constexpr const char* kPalette[] = {"#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00",
                                    "#56b4e9", "#6a3d9a", "#8c564b", "#444444", "#b8b800"};

// The order a page's time is spent in, which is the order a reader expects the segments in.
constexpr const char* kPhases[] = {"queue_wait", "dns", "connect", "tls", "first_byte", "transfer", "parse", "store"};

const char* Colour(size_t i) { return kPalette[i % std::size(kPalette)]; }

// Round-trips through the browser's Number() exactly, so tests compare the DOM with --json as is.
std::string Num(double v) { return std::isfinite(v) ? json(v).dump() : "0"; }

// Coordinates need no more than this: a tenth of a unit of the viewBox.
std::string Px(double v) { return Fixed(v, 1); }

// 1, 2 or 5 times a power of ten, giving about `target` steps up to `max`.
double NiceStep(double max, int target) {
  if (!(max > 0)) return 1;
  const double raw = max / target;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  const double norm = raw / magnitude;
  return (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10) * magnitude;
}

// A tick's label, with as many decimals as the step needs.
std::string TickLabel(double v, double step) {
  const int digits = step >= 1 ? 0 : static_cast<int>(std::ceil(-std::log10(step) - 1e-9));
  return Fixed(v, digits);
}

std::string LegendKey(const std::string& colour, bool dashed, bool bar) {
  if (bar) return "<span class=\"swatch\" style=\"background:" + colour + "\"></span>";
  return "<svg class=\"key\" viewBox=\"0 0 26 10\" width=\"26\" height=\"10\" aria-hidden=\"true\"><line x1=\"1\" "
         "y1=\"5\" x2=\"25\" y2=\"5\" stroke=\"" + colour + "\" stroke-width=\"2.5\"" +
         (dashed ? " stroke-dasharray=\"5 3\"" : "") + "/></svg>";
}

std::string Figure(const std::string& title, const std::string& svg, const std::string& legend,
                   const std::string& note, bool small) {
  std::string out = std::string("<figure") + (small ? " class=\"small\"" : "") + "><figcaption>" + Escape(title) +
                    "</figcaption>" + svg;
  if (!legend.empty()) out += "<ul class=\"legend\">" + legend + "</ul>";
  if (!note.empty()) out += "<p class=\"note\">" + Escape(note) + "</p>";
  return out + "</figure>\n";
}

// The plot area inside a chart's viewBox, and the axes' labels around it.
struct Frame {
  double width, height, left, right, top, bottom;
  double plot_width() const { return width - left - right; }
  double plot_height() const { return height - top - bottom; }
};

std::string AxisLabels(const Frame& f, const std::string& x_label, const std::string& y_label) {
  std::ostringstream svg;
  svg << "<text class=\"axis-label\" x=\"" << Px(f.left + f.plot_width() / 2) << "\" y=\"" << Px(f.height - 6)
      << "\" text-anchor=\"middle\">" << Escape(x_label) << "</text>";
  if (!y_label.empty()) {
    svg << "<text class=\"axis-label\" transform=\"translate(13 " << Px(f.top + f.plot_height() / 2)
        << ") rotate(-90)\" text-anchor=\"middle\">" << Escape(y_label) << "</text>";
  }
  return svg.str();
}

}  // namespace

std::string Escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    switch (ch) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += ch;
    }
  }
  return out;
}

std::string Render(const LineChart& chart) {
  const Frame f = chart.small ? Frame{380, 230, 50, 12, 12, 40} : Frame{760, 360, 66, 18, 14, 46};
  // The x range: every point's x, a constant series having none of its own.
  double x_min = INFINITY, x_max = -INFINITY, y_top = 0;
  for (const Series& s : chart.series) {
    for (const Point& p : s.points) {
      if (!s.constant) {
        x_min = std::min(x_min, p.x);
        x_max = std::max(x_max, p.x);
      }
      y_top = std::max(y_top, p.y);
    }
  }
  for (double t : chart.x_ticks) {
    x_min = std::min(x_min, t);
    x_max = std::max(x_max, t);
  }
  if (!std::isfinite(x_min)) x_min = chart.log_x ? 1 : 0, x_max = x_min + 1;
  if (chart.log_x) x_min = std::max(x_min, 1e-9);
  if (!chart.log_x) x_min = std::min(x_min, 0.0);
  std::vector<double> x_ticks = chart.x_ticks;
  double lo = 0, hi = 0;  // the x axis' ends, in log10 units on a log axis
  if (chart.log_x) {
    lo = std::log10(x_min), hi = std::log10(x_max);
    if (hi - lo < 1e-9) lo -= std::log10(2.0), hi += std::log10(2.0);
    const double pad = 0.05 * (hi - lo);  // points at the ends stay off the axes
    lo -= pad, hi += pad;
    if (x_ticks.empty()) {
      for (double e = std::ceil(lo); e <= hi; ++e) x_ticks.push_back(std::pow(10.0, e));
    }
  } else {
    const double step = NiceStep(x_max - x_min, chart.small ? 4 : 8);
    lo = x_min, hi = std::max(x_min + step, std::ceil(x_max / step - 1e-9) * step);
    if (x_ticks.empty()) {
      for (double t = lo; t <= hi + step / 2; t += step) x_ticks.push_back(t);
    }
  }
  const double x_step = x_ticks.size() > 1 ? x_ticks[1] - x_ticks[0] : 1;
  if (chart.y_max > 0) y_top = chart.y_max;
  const double y_step = NiceStep(y_top > 0 ? y_top : 1, chart.small ? 4 : 6);
  const double y_end = std::max(y_step, std::ceil(y_top / y_step - 1e-9) * y_step);
  auto X = [&](double x) {
    const double v = chart.log_x ? std::log10(std::max(x, 1e-9)) : x;
    return f.left + (v - lo) / (hi - lo) * f.plot_width();
  };
  auto Y = [&](double y) { return f.top + f.plot_height() * (1 - y / y_end); };

  std::ostringstream svg;
  svg << "<svg class=\"chart" << (chart.small ? " small" : "") << "\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 "
      << f.width << " " << f.height << "\" role=\"img\" aria-label=\"" << Escape(chart.title) << "\" data-chart=\""
      << Escape(chart.id) << "\" data-x-axis=\"" << Escape(chart.x_label) << "\" data-y-axis=\"" << Escape(chart.y_label)
      << "\"><defs><clipPath id=\"clip-" << Escape(chart.id) << "\"><rect x=\"" << Px(f.left) << "\" y=\""
      << Px(f.top - 5) << "\" width=\"" << Px(f.plot_width()) << "\" height=\"" << Px(f.plot_height() + 5)
      << "\"/></clipPath></defs>";
  // Gridlines and ticks first, so the data is drawn over them.
  svg << "<g class=\"grid\">";
  for (double t = 0; t <= y_end + y_step / 2; t += y_step) {
    svg << "<line x1=\"" << Px(f.left) << "\" x2=\"" << Px(f.width - f.right) << "\" y1=\"" << Px(Y(t)) << "\" y2=\""
        << Px(Y(t)) << "\"/>";
  }
  for (double t : x_ticks) {
    svg << "<line x1=\"" << Px(X(t)) << "\" x2=\"" << Px(X(t)) << "\" y1=\"" << Px(f.top) << "\" y2=\""
        << Px(f.top + f.plot_height()) << "\"/>";
  }
  svg << "</g><g class=\"axis\"><line x1=\"" << Px(f.left) << "\" x2=\"" << Px(f.width - f.right) << "\" y1=\""
      << Px(Y(0)) << "\" y2=\"" << Px(Y(0)) << "\"/><line x1=\"" << Px(f.left) << "\" x2=\"" << Px(f.left)
      << "\" y1=\"" << Px(f.top) << "\" y2=\"" << Px(Y(0)) << "\"/>";
  for (double t = 0; t <= y_end + y_step / 2; t += y_step) {
    svg << "<text x=\"" << Px(f.left - 6) << "\" y=\"" << Px(Y(t) + 4) << "\" text-anchor=\"end\">"
        << TickLabel(t, y_step) << "</text>";
  }
  for (double t : x_ticks) {
    svg << "<text x=\"" << Px(X(t)) << "\" y=\"" << Px(Y(0) + 16) << "\" text-anchor=\"middle\">"
        << TickLabel(t, chart.log_x ? 1 : x_step) << "</text>";
  }
  svg << "</g>" << AxisLabels(f, chart.x_label, chart.y_label);

  std::string legend;
  for (size_t i = 0; i < chart.series.size(); ++i) {
    const Series& s = chart.series[i];
    const std::string colour = s.colour.empty() ? Colour(i) : s.colour;
    legend += "<li>" + LegendKey(colour, s.dashed, false) + Escape(s.name) + "</li>";
    std::vector<Point> points = s.points;
    if (s.constant && !points.empty()) {
      const double xa = chart.log_x ? std::pow(10.0, lo) : lo, xb = chart.log_x ? std::pow(10.0, hi) : hi;
      points = {{xa, points.front().y}, {xb, points.front().y}};
    }
    std::sort(points.begin(), points.end(), [](const Point& a, const Point& b) { return a.x < b.x; });
    svg << "<g class=\"series\" data-series=\"" << Escape(s.name) << "\"" << (s.constant ? " data-constant=\"true\"" : "")
        << " clip-path=\"url(#clip-" << Escape(chart.id) << ")\">";
    if (points.size() > 1) {
      svg << "<polyline fill=\"none\" stroke=\"" << colour << "\" stroke-width=\"" << (chart.small ? 1.8 : 2.5)
          << "\"" << (s.dashed ? " stroke-dasharray=\"7 4\"" : "") << " stroke-linejoin=\"round\" points=\"";
      for (size_t k = 0; k < points.size(); ++k) {
        if (s.steps && k > 0) svg << Px(X(points[k].x)) << "," << Px(Y(points[k - 1].y)) << " ";
        svg << Px(X(points[k].x)) << "," << Px(Y(points[k].y)) << " ";
      }
      svg << "\"/>";
    }
    const double r = !s.markers ? 0 : points.size() == 1 ? 5.5 : chart.small ? 2.5 : 4;
    for (const Point& p : points) {
      svg << "<circle cx=\"" << Px(X(p.x)) << "\" cy=\"" << Px(Y(p.y)) << "\" r=\"" << r << "\" fill=\"" << colour
          << "\" data-x=\"" << Num(p.x) << "\" data-y=\"" << Num(p.y) << "\"><title>" << Escape(s.name) << ": "
          << Fixed(p.y, p.y < 10 ? 2 : 1) << " at " << Fixed(p.x, p.x < 10 && p.x != std::floor(p.x) ? 2 : 0)
          << "</title></circle>";
    }
    svg << "</g>";
  }
  svg << "</svg>";
  return Figure(chart.title, svg.str(), legend, chart.note, chart.small);
}

std::string Render(const StackedBars& chart) {
  const double row = 26;
  const Frame f{760, 14 + 44 + row * static_cast<double>(std::max<size_t>(chart.bars.size(), 1)), 140, 24, 14, 44};
  double max = 0;
  for (const StackedBars::Bar& b : chart.bars) {
    double sum = 0;
    for (double v : b.values) sum += std::max(v, 0.0);
    max = std::max(max, sum);
  }
  const double step = NiceStep(max > 0 ? max : 1, 6);
  const double end = std::max(step, std::ceil(max / step - 1e-9) * step);
  auto X = [&](double v) { return f.left + v / end * f.plot_width(); };
  std::ostringstream svg;
  svg << "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " << f.width << " " << f.height
      << "\" role=\"img\" aria-label=\"" << Escape(chart.title) << "\" data-chart=\"" << Escape(chart.id)
      << "\" data-x-axis=\"" << Escape(chart.x_label) << "\"><g class=\"grid\">";
  for (double t = 0; t <= end + step / 2; t += step) {
    svg << "<line x1=\"" << Px(X(t)) << "\" x2=\"" << Px(X(t)) << "\" y1=\"" << Px(f.top) << "\" y2=\""
        << Px(f.height - f.bottom) << "\"/>";
  }
  svg << "</g><g class=\"axis\"><line x1=\"" << Px(f.left) << "\" x2=\"" << Px(f.left) << "\" y1=\"" << Px(f.top)
      << "\" y2=\"" << Px(f.height - f.bottom) << "\"/>";
  for (double t = 0; t <= end + step / 2; t += step) {
    svg << "<text x=\"" << Px(X(t)) << "\" y=\"" << Px(f.height - f.bottom + 16) << "\" text-anchor=\"middle\">"
        << TickLabel(t, step) << "</text>";
  }
  svg << "</g>" << AxisLabels(f, chart.x_label, "");
  for (size_t i = 0; i < chart.bars.size(); ++i) {
    const StackedBars::Bar& b = chart.bars[i];
    const double y = f.top + row * static_cast<double>(i) + 4;
    svg << "<g class=\"bar\" data-label=\"" << Escape(b.label) << "\"><text x=\"" << Px(f.left - 8) << "\" y=\""
        << Px(y + 13) << "\" text-anchor=\"end\">" << Escape(b.label) << "</text>";
    double x = 0, total = 0;
    for (size_t k = 0; k < chart.segments.size() && k < b.values.size(); ++k) {
      const double v = std::max(b.values[k], 0.0);
      svg << "<rect x=\"" << Px(X(x)) << "\" y=\"" << Px(y) << "\" width=\"" << Px(X(x + v) - X(x))
          << "\" height=\"18\" fill=\"" << Colour(k) << "\" data-segment=\"" << Escape(chart.segments[k])
          << "\" data-value=\"" << Num(b.values[k]) << "\"><title>" << Escape(b.label) << ", "
          << Escape(chart.segments[k]) << ": " << Fixed(v, v < 10 ? 2 : 1) << "</title></rect>";
      x += v;
      total += v;
    }
    // The total at the bar's end, inside the chart when the bar reaches its right edge.
    const bool inside = X(total) > f.width - f.right - 60;
    svg << "<text class=\"total\" x=\"" << Px(inside ? X(total) - 4 : X(total) + 5) << "\" y=\"" << Px(y + 13)
        << "\"" << (inside ? " text-anchor=\"end\" fill=\"#fff\"" : "") << ">" << Fixed(total, chart.counts ? 0 : total < 10 ? 2 : 1)
        << "</text></g>";
  }
  svg << "</svg>";
  std::string legend;
  if (chart.segments.size() > 1) {
    for (size_t k = 0; k < chart.segments.size(); ++k) {
      legend += "<li>" + LegendKey(Colour(k), false, true) + Escape(chart.segments[k]) + "</li>";
    }
  }
  return Figure(chart.title, svg.str(), legend, chart.note, false);
}

std::string Render(const Table& table) {
  auto right = [&table](size_t i) { return i < table.align.size() ? table.align[i] == 'r' : i > 0; };
  std::string out = "<table data-table=\"" + Escape(table.id) + "\"><thead><tr>";
  for (size_t i = 0; i < table.header.size(); ++i) {
    out += std::string(right(i) ? "<th class=\"r\">" : "<th>") + Escape(table.header[i]) + "</th>";
  }
  out += "</tr></thead><tbody>";
  for (const std::vector<std::string>& row : table.rows) {
    out += "<tr>";
    for (size_t i = 0; i < row.size(); ++i) out += std::string(right(i) ? "<td class=\"r\">" : "<td>") + Escape(row[i]) + "</td>";
    out += "</tr>";
  }
  return out + "</tbody></table>\n";
}

std::string Page(const std::string& title, const std::string& body) {
  // Fonts the reader's system has: nothing is fetched.
  static const char* kCss =
      "body{font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif;color:#222;"
      "max-width:1120px;margin:0 auto;padding:1.2em 1.5em}"
      "h1{font-size:1.6em;margin:.2em 0}h2{font-size:1.2em;margin:1.6em 0 .4em;border-bottom:1px solid #ddd}"
      ".meta{color:#555;margin:.2em 0}pre{background:#f5f5f5;padding:.6em .8em;overflow-x:auto;font-size:12.5px;"
      "white-space:pre-wrap;word-break:break-all}"
      "figure{margin:1em 0 1.6em}figcaption{font-weight:600;margin-bottom:.3em}"
      "svg.chart{display:block;width:100%;height:auto;max-width:760px}"
      "svg.chart text{font:12px system-ui,'DejaVu Sans',sans-serif;fill:#333}"
      "svg.chart .axis-label{font-size:12.5px;fill:#555}svg.chart .grid line{stroke:#e4e4e4}"
      "svg.chart .axis line{stroke:#888}svg.chart .total{font-size:11px}"
      ".legend{list-style:none;padding:0;margin:.3em 0;display:flex;flex-wrap:wrap;gap:.2em 1.2em;font-size:13px}"
      ".legend li{display:flex;align-items:center;gap:.35em}.swatch{display:inline-block;width:12px;height:12px}"
      ".note{color:#555;font-size:13px;margin:.2em 0;max-width:760px}"
      ".grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(340px,1fr));gap:0 1.2em}"
      ".grid figure{margin:.4em 0 1em}.grid svg.chart text{font-size:11px}"
      "table{border-collapse:collapse;font-size:13px;font-variant-numeric:tabular-nums;margin:.4em 0}"
      "th,td{padding:.2em .7em;border-bottom:1px solid #e2e2e2;text-align:left}th{background:#f5f5f5}"
      ".r{text-align:right}td{overflow-wrap:anywhere}"
      "@media print{@page{margin:1.4cm}body{max-width:none;padding:0;font-size:10.5pt}"
      "figure,table{break-inside:avoid}h2{break-after:avoid}.grid{grid-template-columns:repeat(2,1fr)}"
      "pre{white-space:pre-wrap}}";
  return "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" "
         "content=\"width=device-width,initial-scale=1\"><title>" +
         Escape(title) + "</title><style>" + kCss + "</style></head><body><h1>" + Escape(title) + "</h1>\n" + body +
         "</body></html>\n";
}

std::string MachineDescription() {
  cpu_set_t set;
  CPU_ZERO(&set);
  const long cores = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : sysconf(_SC_NPROCESSORS_ONLN);
  std::string model;
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; model.empty() && std::getline(cpuinfo, line);) {
    if (line.rfind("model name", 0) == 0 || line.rfind("Model", 0) == 0) {
      const size_t colon = line.find(':');
      if (colon != std::string::npos) model = line.substr(line.find_first_not_of(" \t", colon + 1));
    }
  }
  return std::to_string(cores) + (cores == 1 ? " core" : " cores") + (model.empty() ? "" : ", " + model);
}

std::string CommandLine() {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  std::string line;
  for (std::string word; std::getline(in, word, '\0');) {
    const bool plain = !word.empty() && word.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                               "0123456789_./:=,@%+-") == std::string::npos;
    std::string quoted = "'";
    for (char ch : word) quoted += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
    line += (line.empty() ? "" : " ") + (plain ? word : quoted + "'");
  }
  return line;
}

std::string Provenance() {
  return "<p class=\"meta\">Machine: " + Escape(MachineDescription()) + ". fanout " FANOUT_VERSION
         ".</p><pre class=\"command\">" + Escape(CommandLine()) + "</pre>\n";
}

StackedBars PhaseBars(const std::string& id, const std::vector<std::pair<std::string, const json*>>& runs) {
  StackedBars chart{.id = id,
                    .title = "Where the time went: milliseconds per page, by phase",
                    .x_label = "milliseconds per page (summed over pages; parse is CPU time)",
                    .segments = {std::begin(kPhases), std::end(kPhases)},
                    .bars = {},
                    .note = "queue_wait: from being queued to a transfer starting; first_byte: from the request "
                            "sent to the answer's first byte; store: waiting for the store's queue and writing.",
                    .counts = false};
  // A phase a newer report has and this list does not still shows, after the known ones.
  for (const auto& [label, summary] : runs) {
    const json phases = summary->value("phase_seconds", json::object());
    for (const auto& [phase, seconds] : phases.items()) {
      if (std::find(chart.segments.begin(), chart.segments.end(), phase) == chart.segments.end()) {
        chart.segments.push_back(phase);
      }
    }
  }
  for (const auto& [label, summary] : runs) {
    const double pages = std::max(1.0, summary->value("pages", 0.0));
    const json phases = summary->value("phase_seconds", json::object());
    StackedBars::Bar bar{label, {}};
    for (const std::string& phase : chart.segments) bar.values.push_back(1e3 * phases.value(phase, 0.0) / pages);
    chart.bars.push_back(std::move(bar));
  }
  return chart;
}

LineChart InFlightChart(const std::string& id, const std::string& title, const json& summary, bool small) {
  Series in_flight{.name = "in flight", .points = {}, .colour = kPalette[0], .markers = false, .steps = true};
  Series queued{.name = "queued", .points = {}, .colour = kPalette[4], .markers = false, .steps = true};
  double top = 0, queued_top = 0;
  for (const json& p : summary.value("in_flight_timeline", json::array())) {
    if (!p.is_array() || p.size() < 3) continue;
    in_flight.points.push_back({p[0].get<double>(), p[1].get<double>()});
    queued.points.push_back({p[0].get<double>(), p[2].get<double>()});
    top = std::max(top, p[1].get<double>());
    queued_top = std::max(queued_top, p[2].get<double>());
  }
  const double limit = summary.value("concurrency", 0.0);
  LineChart chart{.id = id, .title = title, .x_label = "seconds since the crawl started",
                  .y_label = small ? "" : "transfers, URLs", .log_x = false, .x_ticks = {}, .y_max = 0,
                  .series = {}, .note = "", .small = small};
  // A frontier thousands deep would flatten the fan-out into the axis: it is clipped instead.
  const double cap = 2 * std::max(limit, top);
  if (queued_top > cap && cap > 0) {
    chart.y_max = cap;
    chart.note = "queued reaches " + Fixed(queued_top, 0) + ", above the chart";
  }
  // The limit first, so that a fan-out running at the limit is drawn over it, not hidden.
  if (limit > 0) {
    chart.series.push_back(Series{.name = "limit (--concurrency)", .points = {{0, limit}}, .colour = "#888888",
                                  .dashed = true, .constant = true, .markers = false, .steps = false});
  }
  chart.series.push_back(std::move(in_flight));
  chart.series.push_back(std::move(queued));
  return chart;
}

}  // namespace fanout::cli::html
