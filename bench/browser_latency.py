"""How fast the lab feels in a real browser, as ratios to the floor app.

Starts `streamlit run Home.py` and the floor app (`streamlit run
bench/floor_app.py`: one slider, one 6 × 6 heatmap) side by side, reads the
lab's pages from the server's navigation message, opens every page once to
warm the server, and measures in headless Chromium (Debian's, via
bench/harness.py):

1. Key press -> pixels: on each page, focus a slider and press an arrow key;
   the time from the keydown event to the first animation frame whose chart
   drawing differs from the one before the press (SVG marks or canvas pixels
   of any chart, checked on every frame in the page itself). The slider is
   the first one on the page whose move changes a chart; it keeps moving one
   way until it reaches an end, so most values are new to the server. The
   median per page is divided by the floor app's median in the same run.
2. First chart in a fresh browser session (new context, server warm): time
   from navigation start to the first drawn chart, and to every chart drawn
   with the script finished.

    .venv/bin/python bench/browser_latency.py              # or: make bench
    .venv/bin/python bench/browser_latency.py --presses 8 --sessions 3 --pages scaling

Prints a table and writes artifacts/bench/browser_latency.json. The targets
(issue #11): key press -> pixels <= 1.5x the floor app on every page, first
chart <= 2 s.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import harness, report  # noqa: E402
from bench.st_client import StreamlitSession  # noqa: E402

MAIN = '[data-testid="stMain"]'
SLIDER_INPUT = '[data-testid="stSlider"] input[type="range"]'
SLIDERS_TRIED = 4  # sliders tried per page before giving up on a chart change
SETTLE = 0.5  # seconds the charts must hold still after a change to count as finished

# Runs in every page before its own scripts. ``window.__lab`` watches the charts:
# a MutationObserver marks the charts whose SVG changed, canvases are read every
# frame, and a fingerprint per chart (a hash of its marks or pixels) is compared
# with the ones before the key press.
PAGE_SCRIPT = """
(() => {
  const CHART = '__CHART__';
  const hashText = (text) => {
    let h = 2166136261;
    for (let i = 0; i < text.length; i++) { h ^= text.charCodeAt(i); h = Math.imul(h, 16777619); }
    return h >>> 0;
  };
  const printOf = (chart) => {
    const canvas = chart.querySelector('canvas');
    if (canvas && canvas.width > 10 && canvas.height > 10) {
      try {
        const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        const words = new Uint32Array(data.buffer);
        let h = 2166136261;
        for (let i = 0; i < words.length; i++) { h ^= words[i]; h = Math.imul(h, 16777619); }
        return 'c' + (h >>> 0);
      } catch (error) { return 'c?'; }
    }
    const svg = chart.querySelector('svg.marks');
    if (!svg) return '';
    const box = svg.getBoundingClientRect();
    return box.width > 10 && box.height > 10 ? 's' + hashText(svg.innerHTML) : '';
  };
  const cache = new WeakMap();
  let dirtyCharts = new Set();
  const prints = () => Array.from(document.querySelectorAll(CHART)).map((chart) => {
    const hasCanvas = chart.querySelector('canvas') !== null;
    if (hasCanvas || dirtyCharts.has(chart) || !cache.has(chart)) cache.set(chart, printOf(chart));
    return cache.get(chart);
  });
  // While the page loads: when the first chart is drawn, and when the count of
  // charts or drawn charts last changed (the last chart drawn).
  const lab = { firstChart: null, lastDraw: null, loading: true, state: null };
  let lastCounts = '';
  const isDrawn = (chart) => {
    const surface = chart.querySelector('canvas, svg.marks');
    if (!surface) return false;
    const box = surface.getBoundingClientRect();
    return box.width > 10 && box.height > 10;
  };
  const watchLoad = (now) => {
    if (!lab.loading) return;
    const charts = Array.from(document.querySelectorAll(CHART));
    const drawn = charts.filter(isDrawn).length;
    if (drawn > 0 && lab.firstChart === null) lab.firstChart = now;
    const counts = charts.length + '/' + drawn;
    if (counts !== lastCounts) { lastCounts = counts; if (drawn > 0) lab.lastDraw = now; }
    requestAnimationFrame(watchLoad);
  };
  requestAnimationFrame(watchLoad);
  let observer = null, onKey = null, running = false;
  lab.arm = () => {
    lab.loading = false;
    dirtyCharts = new Set();
    for (const chart of document.querySelectorAll(CHART)) dirtyCharts.add(chart);
    const before = new Set(prints());
    const state = { t0: null, first: null, last: null, changes: 0 };
    lab.state = state;
    let previous = Array.from(before).join('|');
    observer = new MutationObserver((records) => {
      for (const record of records) {
        const node = record.target.nodeType === 1 ? record.target : record.target.parentElement;
        const chart = node && node.closest(CHART);
        if (chart) dirtyCharts.add(chart);
      }
    });
    observer.observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
    onKey = (event) => { if (state.t0 === null) state.t0 = event.timeStamp; };
    window.addEventListener('keydown', onKey, true);
    running = true;
    const tick = (now) => {
      if (!running) return;
      if (state.t0 !== null) {
        const current = prints();
        dirtyCharts = new Set();
        const joined = current.join('|');
        if (joined !== previous) {
          previous = joined;
          if (current.some((print) => print !== '' && !before.has(print))) {
            if (state.first === null) state.first = now;
            state.last = now;
            state.changes += 1;
          }
        }
      }
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  };
  lab.disarm = () => {
    running = false;
    if (observer) observer.disconnect();
    if (onKey) window.removeEventListener('keydown', onKey, true);
  };
  lab.read = () => lab.state && { ...lab.state, now: performance.now() };
  window.__lab = lab;
})();
""".replace("__CHART__", harness.CHART)


def new_page(browser):
    """A fresh browser session (context) with the chart watcher installed."""
    context = browser.new_context(viewport=harness.VIEWPORT)
    context.add_init_script(PAGE_SCRIPT)
    page = context.new_page()
    page.set_default_timeout(60_000)
    return context, page


def press_and_watch(page, thumb, key: str, timeout: float = 15.0) -> dict[str, Any] | None:
    """Press ``key`` on a slider; ms from keydown to the first and last chart change.

    None when no chart changed within ``timeout`` seconds (the slider drives no chart).
    """
    page.evaluate("window.__lab.arm()")
    try:
        thumb.press(key)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            time.sleep(0.05)
            state = page.evaluate("window.__lab.read()")
            if state["first"] is None or harness.script_state(page) != "notRunning":
                continue
            if state["now"] - state["last"] >= SETTLE * 1000:
                return {
                    "first_ms": round(state["first"] - state["t0"], 1),
                    "last_ms": round(state["last"] - state["t0"], 1),
                    "changes": state["changes"],
                }
        return None
    finally:
        page.evaluate("window.__lab.disarm()")
        harness.wait_until_idle(page, settle=0.2)


def key_press_latency(page, url: str, presses: int) -> dict[str, Any]:
    """Open ``url`` and time ``presses`` key presses on the first slider that moves a chart."""
    page.goto(url)
    harness.wait_until_idle(page)
    inputs = page.locator(f"{MAIN} {SLIDER_INPUT}")
    tried = []
    for index in range(min(inputs.count(), SLIDERS_TRIED)):
        thumb = inputs.nth(index)
        label = thumb.get_attribute("aria-label") or f"slider {index + 1}"
        if not thumb.is_visible():
            tried.append(f"{label}: hidden (in a closed expander?)")
            continue
        key, samples = "ArrowRight", []
        for _ in range(presses):
            before = thumb.get_attribute("aria-valuetext")
            result = press_and_watch(page, thumb, key)
            if thumb.get_attribute("aria-valuetext") == before:  # at an end: turn round
                key = "ArrowLeft" if key == "ArrowRight" else "ArrowRight"
                result = press_and_watch(page, thumb, key)
            if result is None:
                break
            samples.append(result)
        if not samples:
            tried.append(f"{label}: no chart changed")
        else:
            return {
                "slider": label,
                "presses": samples,
                "median_first_ms": round(statistics.median(s["first_ms"] for s in samples), 1),
                "median_last_ms": round(statistics.median(s["last_ms"] for s in samples), 1),
                "problems": harness.page_problems(page),
            }
    return {
        "slider": None,
        "presses": [],
        "median_first_ms": None,
        "median_last_ms": None,
        "problems": harness.page_problems(page),
        "note": "no slider on the page changes a chart: " + "; ".join(tried),
    }


def first_chart(browser, url: str) -> dict[str, Any]:
    """A fresh session opens ``url``: seconds to the first drawn chart and to all of them."""
    context, page = new_page(browser)
    try:
        page.goto(url, wait_until="commit")
        deadline = time.monotonic() + 60
        first = None
        while first is None and time.monotonic() < deadline:
            first = page.evaluate("window.__lab ? window.__lab.firstChart : null")
            time.sleep(0.02)
        harness.wait_until_idle(page)
        last = page.evaluate("window.__lab.lastDraw")
        return {
            "first_chart_s": round(first / 1000, 3) if first is not None else None,
            "all_charts_s": round(last / 1000, 3) if last is not None else None,
            "charts": harness.chart_counts(page)[0],
            "problems": harness.page_problems(page),
        }
    finally:
        context.close()


def measure(warm_page, lab_url: str, floor_url: str, pages, args) -> tuple[list[dict], dict]:
    """Warm the server, then time key presses and fresh loads on every page and the floor app."""
    browser = warm_page.context.browser
    print(f"lab at {lab_url}, floor app at {floor_url}; warming every page...", flush=True)
    for _, path in pages:
        warm_page.goto(f"{lab_url}/{path}")
        harness.wait_until_idle(warm_page)
    warm_page.goto(floor_url)
    harness.wait_until_idle(warm_page)

    context, page = new_page(browser)
    floor_runs = [key_press_latency(page, floor_url, args.presses)]
    results = []
    for name, path in pages:
        entry = {"page": name, **key_press_latency(page, f"{lab_url}/{path}", args.presses)}
        loads = [first_chart(browser, f"{lab_url}/{path}") for _ in range(args.sessions)]
        entry["loads"] = loads
        entry["first_chart_s"] = _median([load["first_chart_s"] for load in loads])
        entry["all_charts_s"] = _median([load["all_charts_s"] for load in loads])
        results.append(entry)
        print(
            f"  {name:24} key->pixels {report.fmt(entry['median_first_ms'])} ms, "
            f"first chart {report.fmt(entry['first_chart_s'], 2)} s",
            flush=True,
        )
    floor_runs.append(key_press_latency(page, floor_url, args.presses))  # and after
    context.close()
    floor_loads = [first_chart(browser, floor_url) for _ in range(args.sessions)]

    floor_presses = [press for run in floor_runs for press in run["presses"]]
    floor_first = _median([press["first_ms"] for press in floor_presses])
    floor_last = _median([press["last_ms"] for press in floor_presses])
    floor_entry = {
        "page": "floor app",
        "slider": floor_runs[0]["slider"],
        "presses": floor_presses,
        "median_first_ms": floor_first,
        "median_last_ms": floor_last,
        "first_chart_s": _median([load["first_chart_s"] for load in floor_loads]),
        "all_charts_s": _median([load["all_charts_s"] for load in floor_loads]),
        "loads": floor_loads,
    }
    return results, floor_entry


async def page_paths(url: str) -> list[tuple[str, str]]:
    """(name, URL path) of every page, from the server's navigation message."""
    async with StreamlitSession(url) as session:
        await session.open("")
        return [(page.name, page.url_path) for page in session.pages] or [("main", "")]


def ratio(value: float | None, floor: float | None) -> float | None:
    if value is None or not floor:
        return None
    return round(value / floor, 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presses", type=int, default=5, help="key presses per page")
    parser.add_argument("--sessions", type=int, default=2, help="fresh sessions per page")
    parser.add_argument("--pages", help="comma-separated page names (default: every page)")
    parser.add_argument("--out", type=Path, default=report.OUT_DIR / "browser_latency.json")
    args = parser.parse_args()
    harness.require_chromium()

    with (
        harness.streamlit_app("Home.py") as lab,
        harness.streamlit_app("bench/floor_app.py") as floor,
    ):
        # Before Playwright starts: its sync API runs an event loop of its own.
        pages = asyncio.run(page_paths(lab.url))
        if args.pages:
            wanted = args.pages.split(",")
            pages = [(name, path) for name, path in pages if name in wanted or path in wanted]
        with harness.chromium_page() as warm_page:
            results, floor_entry = measure(warm_page, lab.url, floor.url, pages, args)
    for entry in results:
        entry["ratio_to_floor"] = ratio(entry["median_first_ms"], floor_entry["median_first_ms"])
        entry["last_ratio_to_floor"] = ratio(entry["median_last_ms"], floor_entry["median_last_ms"])
    rows = [
        [
            entry["page"],
            entry["slider"] or "-",
            report.fmt(entry["median_first_ms"]),
            report.fmt(entry.get("ratio_to_floor"), 2),
            report.fmt(entry["median_last_ms"]),
            report.fmt(entry.get("last_ratio_to_floor"), 2),
            report.fmt(entry["first_chart_s"], 2),
            report.fmt(entry["all_charts_s"], 2),
            len(entry.get("problems", [])) + sum(len(x["problems"]) for x in entry["loads"]),
        ]
        for entry in [*results, floor_entry]
    ]
    print(
        "\nKey press on a slider -> chart pixels change (median ms), first chart in a fresh session"
    )
    print(
        report.table(
            [
                "page",
                "slider",
                "key->pixels",
                "x floor",
                "all changed",
                "x floor",
                "first chart s",
                "all charts s",
                "problems",
            ],
            rows,
        )
    )
    for entry in results:
        if entry.get("note"):
            print(f"NOTE on {entry['page']}: {entry['note']}")
        for problem in entry.get("problems", []):
            print(f"PROBLEM on {entry['page']}: {problem[:200]}")
    out = report.write_json(
        args.out,
        {
            "benchmark": "browser_latency",
            "environment": report.environment(),
            "settings": {"presses": args.presses, "sessions": args.sessions},
            "pages": results,
            "floor": floor_entry,
        },
    )
    print(f"\nwritten to {out}")


def _median(values: list[float | None]) -> float | None:
    present = [value for value in values if value is not None]
    return round(statistics.median(present), 3) if present else None


if __name__ == "__main__":
    main()
