"""The lab behind HAProxy with two workers, as `make serve WORKERS=2` runs it, in Chromium.

Starts scripts/serve.py (two `streamlit run Home.py` workers on free ports,
HAProxy in front), opens every page through the balancer and checks that its
charts are drawn and no error is shown, and that every HTTP response and every
websocket handshake of one browser session came from one worker (HAProxy names
the worker in an X-Lab-Worker header; the websocket's is read over the Chrome
DevTools Protocol, which Playwright does not expose). A second browser is sent
to the other worker. Last, Ctrl-C stops HAProxy and both workers.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench import harness
from bench.st_client import StreamlitSession

SERVE = harness.ROOT / "scripts" / "serve.py"
WORKER_HEADER = "x-lab-worker"
# A bound, not a timing check: each worker computes every page cold, and the test
# machine is shared (a page took over 60 s to finish with the load average at 15).
LOAD_TIMEOUT = 180.0


class Balanced:
    """scripts/serve.py running in the background, with the PIDs it reported."""

    def __init__(self, tmp: Path) -> None:
        self.port = harness.free_port()
        self.state_file = tmp / "serve-state.json"
        self.log_path = tmp / "serve.log"
        with open(self.log_path, "w") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    str(SERVE),
                    "--workers",
                    "2",
                    "--port",
                    str(self.port),
                    "--address",
                    "127.0.0.1",
                    "--worker-ports",
                    "auto",
                    "--state-file",
                    str(self.state_file),
                ],
                cwd=harness.ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 240
        while not self.state_file.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"scripts/serve.py did not start:\n{self.log_path.read_text()}")
            time.sleep(0.3)
        self.state = json.loads(self.state_file.read_text())
        self.url = self.state["url"]

    def pids(self) -> list[int]:
        return [self.state["balancer"]["pid"]] + [w["pid"] for w in self.state["workers"]]

    def stop(self) -> int:
        """What Ctrl-C does: SIGINT to serve.py, which stops its children; its exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()


@pytest.fixture(scope="module")
def balanced(tmp_path_factory):
    served = Balanced(tmp_path_factory.mktemp("serve"))
    yield served
    served.stop()


@pytest.fixture(scope="module")
def pages(balanced):
    """(name, URL path) of every page, from the navigation message the server sends."""

    async def read_pages():
        async with StreamlitSession(balanced.url) as session:
            await session.open("")
            return [(page.name, page.url_path) for page in session.pages]

    return asyncio.run(read_pages())


@pytest.fixture(scope="module")
def browser(balanced, pages):  # pages first: Playwright's sync API owns the event loop after
    with harness.chromium_page() as page:
        yield page.context.browser


class WorkerLog:
    """A browser context whose responses and websocket handshakes are noted by worker."""

    def __init__(self, browser, base_url: str) -> None:
        self.context = browser.new_context(viewport=harness.VIEWPORT)
        self.page = self.context.new_page()
        self.page.set_default_timeout(60_000)
        self.http: list[tuple[str, str | None]] = []  # (url, worker)
        self.websockets: list[tuple[str, str | None]] = []
        self.page.on(
            "response",
            lambda response: (
                self.http.append((response.url, response.headers.get(WORKER_HEADER)))
                if response.url.startswith(base_url)
                else None
            ),
        )
        devtools = self.context.new_cdp_session(self.page)
        devtools.send("Network.enable")
        devtools.on("Network.webSocketHandshakeResponseReceived", self._on_handshake)
        self.devtools = devtools

    def _on_handshake(self, event: dict) -> None:
        headers = {name.lower(): value for name, value in event["response"]["headers"].items()}
        self.websockets.append((event["requestId"], headers.get(WORKER_HEADER)))

    def workers(self) -> set[str | None]:
        return {worker for _, worker in self.http} | {worker for _, worker in self.websockets}

    def close(self) -> None:
        self.context.close()


def test_every_page_through_the_balancer_draws_and_stays_on_one_worker(balanced, pages, browser):
    assert len(pages) > 1, pages
    session = WorkerLog(browser, balanced.url)
    try:
        for name, path in pages:
            session.page.goto(f"{balanced.url}/{path}")
            harness.wait_until_idle(session.page, timeout=LOAD_TIMEOUT)
            assert harness.page_problems(session.page) == [], name
            undrawn = harness.undrawn_charts(session.page)
            assert not undrawn, f"{name}: {undrawn}"
            if path:  # every demo draws charts; the default page (Home) may not
                assert harness.chart_counts(session.page)[0] > 0, f"{name} shows no chart"
        # Each page load opened its own websocket; all of it went to one worker.
        assert len(session.websockets) >= len(pages), session.websockets
        assert None not in session.workers(), [u for u, w in session.http if w is None][:5]
        assert len(session.workers()) == 1, (session.http, session.websockets)
    finally:
        session.close()


def test_a_second_browser_goes_to_the_other_worker_and_stays_there(balanced, pages, browser):
    first = WorkerLog(browser, balanced.url)
    second = WorkerLog(browser, balanced.url)
    try:
        first.page.goto(balanced.url)
        harness.wait_until_idle(first.page, timeout=LOAD_TIMEOUT)
        # While the first browser's websocket is open, the least-loaded worker is the other.
        name, path = pages[-1]
        second.page.goto(f"{balanced.url}/{path}")
        harness.wait_until_idle(second.page, timeout=LOAD_TIMEOUT)
        assert harness.page_problems(second.page) == [], name
        assert len(first.workers()) == 1 and len(second.workers()) == 1
        assert first.workers() != second.workers()
        assert first.workers() | second.workers() == {"w1", "w2"}
    finally:
        first.close()
        second.close()


def test_ctrl_c_stops_the_balancer_and_every_worker(balanced):
    pids = balanced.pids()
    assert balanced.stop() == 0, balanced.log_path.read_text()
    running = [pid for pid in pids if Path(f"/proc/{pid}").exists() and not _zombie(pid)]
    assert running == [], balanced.log_path.read_text()
    ports = [balanced.port] + [w["port"] for w in balanced.state["workers"]]
    assert harness.pids_listening_on(ports) == {}
    assert not balanced.state_file.exists()


def _zombie(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return status[status.rindex(")") + 2] == "Z"
