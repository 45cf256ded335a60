"""How fast the lab feels in a real browser: page loads and slider redraws.

Starts `streamlit run Home.py`, opens each page from the sidebar in headless
Chromium, and times (1) the first load (cold cache) and a second load (warm
cache) until the script has finished and every chart is drawn, and (2) moving
the page's first slider by one step until the redraw is done.

    .venv/bin/python bench/browser_latency.py          # or: make bench
    .venv/bin/python bench/browser_latency.py --repeat 5

Prints a table and writes artifacts/benchmark.json. Timing belongs here, not in
the tests. The redraw target is "well under a second".
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import harness  # noqa: E402
from lab.catalog import DEMOS  # noqa: E402

SETTLE = 0.3  # seconds the page must hold still to count as finished
SLIDER_THUMB = '[data-testid="stSlider"] input[type="range"]'


def timed_idle(page, action, timeout: float = 60.0) -> float:
    """Seconds from ``action`` until the page is finished: script idle, every chart drawn.

    Finished is checked every 20 ms; the time returned is when the final
    finished state began, confirmed by holding still for SETTLE seconds.
    """
    start = time.perf_counter()
    action()
    finished_at = None
    while time.perf_counter() - start < timeout:
        charts, drawn = harness.chart_counts(page)
        finished = harness.script_state(page) == "notRunning" and charts == drawn
        now = time.perf_counter()
        if finished:
            finished_at = finished_at or now
            if now - finished_at >= SETTLE:
                return finished_at - start
        else:
            finished_at = None
        time.sleep(0.02)
    raise TimeoutError(f"the page was not finished after {timeout} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="slider moves per page")
    args = parser.parse_args()
    results = []
    with harness.streamlit_server() as (url, _), harness.chromium_page() as page:
        page.goto(url)
        harness.wait_until_idle(page)
        for demo in DEMOS:
            link = page.locator(harness.SIDEBAR_LINK, has_text=demo.title).first
            cold = timed_idle(page, link.click)
            home = page.locator(harness.SIDEBAR_LINK, has_text="Home").first
            timed_idle(page, home.click)
            warm = timed_idle(
                page, page.locator(harness.SIDEBAR_LINK, has_text=demo.title).first.click
            )
            redraws = []
            thumbs = page.locator(SLIDER_THUMB)
            if thumbs.count():
                thumb = thumbs.first
                for index in range(args.repeat):
                    key = "ArrowRight" if index % 2 == 0 else "ArrowLeft"
                    thumb.focus()
                    redraws.append(timed_idle(page, lambda key=key, thumb=thumb: thumb.press(key)))
            problems = harness.page_problems(page)
            results.append(
                {
                    "page": demo.title,
                    "cold_load_s": round(cold, 3),
                    "warm_load_s": round(warm, 3),
                    "slider_redraw_median_s": round(statistics.median(redraws), 3)
                    if redraws
                    else None,
                    "charts": page.locator(harness.CHART).count(),
                    "problems": problems,
                }
            )
    print(f"{'page':34} {'cold load':>10} {'warm load':>10} {'slider':>8} {'charts':>7}")
    for row in results:
        slider = row["slider_redraw_median_s"]
        print(
            f"{row['page']:34} {row['cold_load_s']:>9.2f}s {row['warm_load_s']:>9.2f}s "
            f"{(f'{slider:.2f}s' if slider is not None else '-'):>8} {row['charts']:>7}"
            + (f"  PROBLEMS: {row['problems']}" if row["problems"] else "")
        )
    out = ROOT / "artifacts" / "benchmark.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"\nwritten to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
