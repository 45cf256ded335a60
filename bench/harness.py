"""Start the lab with `streamlit run Home.py` and drive it in Debian's Chromium.

Used by the browser tests and by the benchmarks under bench/. Playwright's own
browser download is not used: it cannot run here, so we launch
/usr/bin/chromium (override with ATTENTION_LAB_CHROMIUM). ``streamlit_app``
runs any script (the floor app too) and gives its PID; the process helpers at
the end read a server's memory and CPU from /proc.
"""

from __future__ import annotations

import os
import socket
import subprocess
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from scripts.serve import streamlit_command, wait_healthy

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


@dataclass
class Server:
    """A running `streamlit run` process (see :func:`streamlit_app`)."""

    url: str  # http://127.0.0.1:<port>
    port: int
    process: subprocess.Popen
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid


@contextmanager
def streamlit_app(
    script: str = "Home.py",
    *,
    port: int | None = None,
    timeout: float = 90.0,
    extra_args: Sequence[str] = (),
) -> Iterator[Server]:
    """Run `streamlit run <script>` (relative to the repository) until the block ends.

    On a free port unless one is given; the terminal output goes to
    artifacts/streamlit-<port>.log. The server has answered its health check
    when the block starts, and is stopped (terminate, then kill) when it ends.
    """
    port = port or free_port()
    log_path = ROOT / "artifacts" / f"streamlit-{port}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    command = [*streamlit_command(script, port), *extra_args]
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    server = Server(url=f"http://127.0.0.1:{port}", port=port, process=process, log_path=log_path)
    try:
        wait_for_health(server.url, timeout=timeout, process=process, log_path=log_path)
        yield server
    finally:
        stop_process(process)


def wait_for_health(
    url: str,
    *,
    timeout: float = 90.0,
    process: subprocess.Popen | None = None,
    log_path: Path | None = None,
) -> None:
    """Poll ``<url>/_stcore/health`` until it answers 200 (fail early if ``process`` exits).

    The wait ``make serve`` uses (scripts/serve.py), with the server's log in
    the error when the process died.
    """
    try:
        wait_healthy(url, process, timeout)
    except RuntimeError as error:
        died = process is not None and process.poll() is not None
        output = log_path.read_text() if log_path and died else ""
        raise RuntimeError(f"{error}\n{output}".rstrip()) from None


def stop_process(process: subprocess.Popen, timeout: float = 10.0) -> None:
    """Terminate a child and wait for it; kill it if it does not stop in ``timeout`` s."""
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def streamlit_server(timeout: float = 90.0) -> Iterator[tuple[str, list[str]]]:
    """Run `streamlit run Home.py` on a free port; yield (base URL, terminal lines so far)."""
    with streamlit_app("Home.py", timeout=timeout) as server:
        lines: list[str] = []
        yield server.url, lines
        lines.extend(server.log_path.read_text().splitlines())


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

    A chart is drawn when it has a canvas or SVG of non-zero size. While the
    browser loads Vega's code (the first chart of a session), Streamlit shows a
    skeleton in each chart's place: skeletons count as charts not yet drawn.
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
            const waiting = document.querySelectorAll('[data-testid="stSkeleton"]').length;
            return [charts.length + waiting, drawn.length];
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


# ------------------------------------------------------------------ processes
# The benchmarks read the server's memory and CPU from /proc (Linux), so they need
# no extra package; a balancer's workers are found by the ports they listen on.


def pids_listening_on(ports: Sequence[int]) -> dict[int, int]:
    """``{port: pid}`` of the processes listening on TCP ``ports`` on this machine."""
    wanted = set(ports)
    inodes: dict[str, int] = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            port = int(local.rsplit(":", 1)[1], 16)
            if state == "0A" and port in wanted:  # 0A: LISTEN
                inodes[f"socket:[{inode}]"] = port
    found: dict[int, int] = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            for fd in (proc / "fd").iterdir():
                port = inodes.get(os.readlink(fd))
                if port is not None:
                    found.setdefault(port, int(proc.name))
        except OSError:
            continue
    return found


def process_rss_bytes(pid: int) -> int:
    """Resident memory of one process in bytes (0 if it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds one process has used so far (0 if it is gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class ProcessSampler:
    """Samples the summed RSS and CPU of some processes in a background thread.

    ``peak_rss`` is the highest sum seen; ``cpu_percent`` is the average CPU over
    the sampling window as a percentage of one core (200 = two cores busy), and
    ``peak_cpu_percent`` the highest over any one ``interval``.
    """

    def __init__(self, pids: Sequence[int], interval: float = 0.5) -> None:
        self.pids = list(pids)
        self.interval = interval
        self.peak_rss = 0
        self.last_rss = 0
        self.peak_cpu_percent = 0.0
        self._cpu_start = 0.0
        self._cpu_end = 0.0
        self._started = 0.0
        self._ended = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="process-sampler", daemon=True)

    def rss(self) -> int:
        return sum(process_rss_bytes(pid) for pid in self.pids)

    def cpu(self) -> float:
        return sum(process_cpu_seconds(pid) for pid in self.pids)

    def __enter__(self) -> ProcessSampler:
        self._started = time.monotonic()
        self._cpu_start = self.cpu()
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()
        self._ended = time.monotonic()
        self._cpu_end = self.cpu()
        self.last_rss = self.rss()
        self.peak_rss = max(self.peak_rss, self.last_rss)

    def _run(self) -> None:
        last_time, last_cpu = time.monotonic(), self._cpu_start
        while not self._stop.wait(self.interval):
            self.peak_rss = max(self.peak_rss, self.rss())
            now, cpu = time.monotonic(), self.cpu()
            if now > last_time:
                percent = 100 * (cpu - last_cpu) / (now - last_time)
                self.peak_cpu_percent = max(self.peak_cpu_percent, percent)
            last_time, last_cpu = now, cpu

    @property
    def cpu_percent(self) -> float:
        elapsed = self._ended - self._started
        return 100 * (self._cpu_end - self._cpu_start) / elapsed if elapsed > 0 else 0.0
