"""Start the lab with `streamlit run Home.py` and drive it in Debian's Chromium.

Used by the browser tests and by the benchmarks under bench/. Playwright's own
browser download is not used: it cannot run here, so we launch
/usr/bin/chromium (override with ATTENTION_LAB_CHROMIUM).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = os.environ.get("ATTENTION_LAB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-quic",
    "--no-first-run",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 800}

# Streamlit's test ids (checked against the pinned version, 1.67).
CHART = '[data-testid="stVegaLiteChart"]'
EXCEPTION = '[data-testid="stException"]'
ERROR_BOX = '[data-testid="stAlertContentError"]'
RUNNING = '[data-testid="stStatusWidget"]'
SIDEBAR_LINK = '[data-testid="stSidebarNavLink"]'

INSTALL_HINT = (
    "Chromium was not found at {path}. Install Debian's package: "
    "`apt-get update && apt-get install -y chromium` (the README's test command does this), "
    "or point ATTENTION_LAB_CHROMIUM at a Chromium binary."
)


def require_chromium() -> str:
    """Return the Chromium path or fail with how to install it (never skip)."""
    if not Path(CHROMIUM).exists():
        raise RuntimeError(INSTALL_HINT.format(path=CHROMIUM))
    return CHROMIUM


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def streamlit_server(timeout: float = 90.0) -> Iterator[tuple[str, list[str]]]:
    """Run `streamlit run Home.py` on a free port; yield (base URL, terminal lines so far)."""
    port = free_port()
    log_path = ROOT / "artifacts" / f"streamlit-{port}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        "Home.py",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--server.headless",
        "true",
    ]
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"streamlit exited early:\n{log_path.read_text()}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"streamlit did not answer within {timeout} s")
            time.sleep(0.3)
        lines: list[str] = []
        yield url, lines
        lines.extend(log_path.read_text().splitlines())
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@contextmanager
def chromium_page() -> Iterator[object]:
    """A fresh Playwright page in headless Debian Chromium at 1280 × 800."""
    from playwright.sync_api import sync_playwright

    executable = require_chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        try:
            context = browser.new_context(viewport=VIEWPORT)
            page = context.new_page()
            page.set_default_timeout(60_000)
            yield page
        finally:
            browser.close()


def script_state(page) -> str | None:
    """Streamlit's own run state on the app root: "initial", "running" or "notRunning"."""
    return page.evaluate(
        """() => document.querySelector('[data-testid="stApp"]')
            ?.getAttribute('data-test-script-state') ?? null"""
    )


def wait_until_idle(
    page, timeout: float = 60.0, settle: float = 0.3, draw_timeout: float = 15.0
) -> None:
    """Wait until the script has finished running and every chart is drawn.

    Streamlit marks the app root with ``data-test-script-state``; we wait for
    "notRunning" to hold for ``settle`` seconds (a rerun may start right
    after), then up to ``draw_timeout`` seconds for every chart element to have
    a drawn surface, with the count of charts holding still for ``settle``
    seconds too (a late rerun replaces them). A chart that never draws (usually
    a spec Vega-Lite cannot compile) is left for the caller to report, with
    :func:`undrawn_charts`.
    """
    deadline = time.monotonic() + timeout
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout * 1000)
    stable_since = None
    while True:
        if script_state(page) == "notRunning" and page.locator(RUNNING).count() == 0:
            stable_since = stable_since or time.monotonic()
            if time.monotonic() - stable_since >= settle:
                break
        else:
            stable_since = None
        if time.monotonic() > deadline:
            raise TimeoutError(f"the app was still running after {timeout} s")
        time.sleep(0.05)
    draw_deadline = time.monotonic() + draw_timeout
    stable_since, last = None, None
    while time.monotonic() < draw_deadline:
        counts = chart_counts(page)
        if counts[0] == counts[1] and counts == last and script_state(page) == "notRunning":
            stable_since = stable_since or time.monotonic()
            if time.monotonic() - stable_since >= settle:
                return
        else:
            stable_since = None
        last = counts
        time.sleep(0.05)


def undrawn_charts(page) -> str:
    """A message about charts with no drawn surface, or "" if all are drawn."""
    total, drawn = chart_counts(page)
    if drawn == total:
        return ""
    return (
        f"{total - drawn} of {total} charts were not drawn. Vega-Lite probably could not "
        "compile their spec (no error is shown on the page); a common cause is a layer "
        "mixing a colour scale with literal colours (scale=None) without "
        "resolve_scale(color='independent')."
    )


def chart_counts(page) -> tuple[int, int]:
    """``(charts, drawn charts)`` read in one go, so a rerun cannot fall in between.

    A chart is drawn when it has a canvas or SVG of non-zero size.
    """
    total, drawn = page.evaluate(
        """(selector) => {
            const charts = Array.from(document.querySelectorAll(selector));
            const drawn = charts.filter((chart) => {
                const surface = chart.querySelector('canvas, svg.marks');
                if (!surface) return false;
                const box = surface.getBoundingClientRect();
                return box.width > 10 && box.height > 10;
            });
            return [charts.length, drawn.length];
        }""",
        CHART,
    )
    return total, drawn


def page_problems(page) -> list[str]:
    """Exceptions and error boxes visible on the page, as text."""
    problems = []
    for selector in (EXCEPTION, ERROR_BOX):
        for element in page.locator(selector).all():
            problems.append(f"{selector}: {element.inner_text()[:500]}")
    return problems


def full_page_screenshot(page, path: Path) -> None:
    """Screenshot the whole page, not just the first screen.

    Streamlit scrolls inside its main container, so Playwright's ``full_page``
    sees only the viewport; we grow the viewport to the content's height, wait
    for the charts to redraw, shoot, and restore the viewport.
    """
    height = page.evaluate(
        """() => {
            const main = document.querySelector('[data-testid="stMain"]')
                || document.querySelector('[data-testid="stAppViewContainer"]');
            return main ? main.scrollHeight : document.body.scrollHeight;
        }"""
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": VIEWPORT["width"], "height": max(VIEWPORT["height"], height)})
    try:
        page.wait_for_timeout(400)
        page.screenshot(path=str(path), full_page=True)
    finally:
        page.set_viewport_size(VIEWPORT)
