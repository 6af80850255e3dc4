// Loads fanout's HTML reports in headless chromium (Debian's, through playwright-core) and prints,
// per page, one line of JSON: what the console said, page errors, any request that would have left
// the file (the reports are self-contained: every one is blocked and listed), and the charts as the
// DOM holds them, read from their data-* attributes. Optionally screenshots each page.
//
//   node report_dom.mjs [--screenshot OUT.png] [--width PX] [--until HEADING] PAGE.html...
//
// With several pages and --screenshot, page N after the first is written as OUT-N.png. --until
// ends the screenshot where the <h2> with that text starts (a picture for a README, kept small).
// FANOUT_CHROMIUM overrides /usr/bin/chromium. Exit 0 when every page was loaded, 1 otherwise.
import { chromium } from "playwright-core";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

const args = process.argv.slice(2);
let screenshot = "";
let width = 1200;
let until = "";
const pages = [];
for (let i = 0; i < args.length; ++i) {
  if (args[i] === "--screenshot") screenshot = args[++i];
  else if (args[i] === "--width") width = Number(args[++i]);
  else if (args[i] === "--until") until = args[++i];
  else pages.push(args[i]);
}
const executablePath = process.env.FANOUT_CHROMIUM || "/usr/bin/chromium";
if (pages.length === 0 || !existsSync(executablePath)) {
  console.error(pages.length === 0 ? "usage: node report_dom.mjs [--screenshot OUT.png] [--width PX] PAGE.html..."
                                   : `no chromium at ${executablePath}: apt-get install chromium`);
  process.exit(2);
}

// Root has no user namespace sandbox to give chromium; the pages are our own files.
const browser = await chromium.launch({ executablePath, headless: true, args: ["--no-sandbox"] });
let failed = false;
try {
  for (const [n, page_file] of pages.entries()) {
    const context = await browser.newContext({ viewport: { width, height: 800 }, deviceScaleFactor: 1 });
    const external = [];
    await context.route("**/*", (route) => {
      const url = route.request().url();
      if (url.startsWith("file:")) return route.continue();
      external.push(url);
      return route.abort();
    });
    const page = await context.newPage();
    const console_messages = [];
    const page_errors = [];
    page.on("console", (m) => console_messages.push({ type: m.type(), text: m.text() }));
    page.on("pageerror", (e) => page_errors.push(String(e)));
    try {
      await page.goto(pathToFileURL(resolve(page_file)).href, { waitUntil: "load" });
      const dom = await page.evaluate(() => {
        const num = (v) => (v === null || v === undefined ? null : Number(v));
        const charts = [...document.querySelectorAll("[data-chart]")].map((chart) => ({
          chart: chart.dataset.chart,
          title: chart.closest("figure")?.querySelector("figcaption")?.textContent ?? "",
          x_axis: chart.dataset.xAxis ?? "",
          y_axis: chart.dataset.yAxis ?? "",
          series: [...chart.querySelectorAll("g.series")].map((g) => ({
            name: g.dataset.series,
            constant: g.dataset.constant === "true",
            points: [...g.querySelectorAll("[data-x]")].map((p) => ({ x: num(p.dataset.x), y: num(p.dataset.y) })),
          })),
          bars: [...chart.querySelectorAll("g.bar")].map((g) => ({
            label: g.dataset.label,
            segments: [...g.querySelectorAll("[data-segment]")].map((r) => ({
              name: r.dataset.segment, value: num(r.dataset.value) })),
          })),
          legend: [...(chart.closest("figure")?.querySelectorAll(".legend li") ?? [])].map((li) => li.textContent),
        }));
        // Every legend entry's box: a test can check that none overlaps another.
        const legend_boxes = [...document.querySelectorAll(".legend li")].map((li) => {
          const r = li.getBoundingClientRect();
          return { x: r.x, y: r.y, width: r.width, height: r.height };
        });
        return { title: document.title, h1: document.querySelector("h1")?.textContent ?? "", charts, legend_boxes,
                 tables: [...document.querySelectorAll("table[data-table]")].map((t) => ({
                   table: t.dataset.table, rows: t.querySelectorAll("tbody tr").length })),
                 scroll_width: document.documentElement.scrollWidth };
      });
      if (screenshot) {
        const out = n === 0 ? screenshot : screenshot.replace(/(\.png)?$/, `-${n}.png`);
        const end = until ? await page.evaluate((text) => {
          const h = [...document.querySelectorAll("h2")].find((e) => e.textContent === text);
          return h ? h.getBoundingClientRect().top + window.scrollY : 0;
        }, until) : 0;
        await page.screenshot(end > 0 ? { path: out, fullPage: true, clip: { x: 0, y: 0, width, height: end } }
                                      : { path: out, fullPage: true });
      }
      console.log(JSON.stringify({ page: page_file, console: console_messages, page_errors, external, ...dom }));
    } catch (e) {
      failed = true;
      console.log(JSON.stringify({ page: page_file, load_error: String(e), console: console_messages, page_errors, external }));
    }
    await context.close();
  }
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
