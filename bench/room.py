"""A room of simulated participants against one Streamlit server or a balancer.

Each participant is one session of bench/st_client.py (Streamlit's own
websocket protocol, as a browser speaks it). It joins during the first
seconds, opens a page, and every 1.5-4.5 s (a think time drawn from its own
seeded random generator) either moves a control on the page (a value drawn as
rerun_cost.py draws them, often one the caches have not seen) or, after a few
moves, goes on to the next page of its tour; the tour visits every page the
server's navigation lists, starting from a page of its own. With --retrainers
R, the first R participants also press buttons whose label matches
retrain/learn/train/measure (half of their moves on a page that has one).
A participant waits for its rerun to finish before it thinks again.

Reported: rerun latency after a control move (p50, p95, max; page switches and
trainings apart), exceptions and error alerts the app showed, timeouts, the
peak and final memory (RSS summed over the server processes) and their CPU,
and the client's own CPU (if it nears one core, the room is limited by its
simulator, not by the server).

    .venv/bin/python bench/room.py                          # 30 participants, 60 s, 1 worker
    .venv/bin/python bench/room.py --participants 60 --workers 2   # via scripts/serve.py
    .venv/bin/python bench/room.py --retrainers 3 --seed 7
    .venv/bin/python bench/room.py --url http://127.0.0.1:8501 --server-ports 8501
    # a running `make serve WORKERS=2 PORT=8501`: the balancer, and its workers to measure
    .venv/bin/python bench/room.py --url http://127.0.0.1:8501 --server-ports 8502,8503

Prints a table and writes artifacts/bench/room-<participants>.json (one
worker) or room-<participants>-workers-<n>.json. The same seed gives the same
participants, tours, think times and values; the server's answers (and so the
timings) vary.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import time
import urllib.parse
from collections import Counter
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from websockets.exceptions import InvalidHandshake  # noqa: E402

from bench import harness, report  # noqa: E402
from bench.st_client import (  # noqa: E402
    ProtocolError,
    RunResult,
    StreamlitSession,
    Widget,
    propose_values,
)

MOVES_PER_PAGE = (2, 5)  # a participant moves this many controls before the next page
CONNECT_ATTEMPTS = 3  # a participant whose connection fails tries again, 2 s apart


@dataclass
class Room:
    """What the participants share: where to go, until when, and what they saw."""

    url: str
    pages: list[str]
    deadline: float
    think: tuple[float, float]
    run_timeout: float
    started: float
    names: dict[str, str] = field(default_factory=dict)  # URL path -> page name
    actions: list[dict[str, Any]] = field(default_factory=list)
    problems: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Servers:
    """The processes serving the room: their PIDs, and a balancer's when there is one."""

    url: str
    worker_pids: list[int]
    worker_urls: list[str]
    balancer_pid: int | None = None


def eligible(widgets: list[Widget]) -> tuple[list[Widget], list[Widget]]:
    """(controls a participant moves, training buttons) among the widgets on screen."""
    submitters = {w.form_id: w for w in widgets if w.kind == "form_submit_button"}
    controls, training = [], []
    for widget in widgets:
        if not widget.supported or widget.disabled:
            continue
        if widget.is_training:
            training.append(widget)
            continue
        if widget.kind == "form_submit_button":
            continue
        submit = submitters.get(widget.form_id)
        if widget.form_id and (submit is None or submit.is_training):
            continue  # a form that trains when submitted: left to the retrainers
        controls.append(widget)
    return controls, training


async def participant(room: Room, index: int, seed: int, retrainer: bool, ramp: float) -> None:
    rng = random.Random(f"{seed}:{index}")
    start_at = rng.randrange(len(room.pages))
    tour = room.pages[start_at:] + room.pages[:start_at]
    await asyncio.sleep(rng.uniform(0, ramp))
    session = StreamlitSession(room.url, timeout=room.run_timeout)
    stop = 0

    def record(kind: str, page: str, run: RunResult | None, control: Widget | None = None) -> None:
        entry = {
            "participant": index,
            "t": round(time.monotonic() - room.started, 2),
            "action": kind,
            "page": room.names.get(page, page),
            "control": control.name if control else "",
            "kind": control.kind if control else "",
            "ms": round(1000 * run.seconds, 1) if run else None,
            "status": run.status if run else "error",
        }
        room.actions.append(entry)
        for problem in run.problems if run else []:
            room.problems.append({"participant": index, **vars(problem)})

    async def join(page: str) -> StreamlitSession:
        """A new session on ``page``; retried as the browser retries (it shows "Connecting")."""
        for attempt in range(1, CONNECT_ATTEMPTS + 1):
            fresh = StreamlitSession(room.url, timeout=room.run_timeout)
            try:
                record("open", page, await fresh.open(page))
                return fresh
            except (OSError, ProtocolError, InvalidHandshake, TimeoutError) as error:
                await fresh.close()
                room.problems.append(
                    {
                        "participant": index,
                        "kind": "connect_failed",
                        "page": room.names.get(page, page),
                        "text": f"{type(error).__name__}: {error}",
                    }
                )
                if attempt == CONNECT_ATTEMPTS:
                    raise
                await asyncio.sleep(2.0)
        raise AssertionError("unreachable")

    try:
        page = tour[0]
        session = await join(page)
        moves_left = rng.randint(*MOVES_PER_PAGE)
        while True:
            await asyncio.sleep(rng.uniform(*room.think))
            if time.monotonic() >= room.deadline:
                break
            try:
                controls, training = eligible(session.widgets)
                if moves_left == 0 or not (controls or (retrainer and training)):
                    stop = (stop + 1) % len(tour)
                    page = tour[stop]
                    record("navigate", page, await session.open(page))
                    moves_left = rng.randint(*MOVES_PER_PAGE)
                    continue
                moves_left -= 1
                if retrainer and training and (not controls or rng.random() < 0.5):
                    button = rng.choice(training)
                    record("train", page, await session.click(button), button)
                    continue
                widget = rng.choice(controls)
                if widget.is_button:
                    record("move", page, await session.click(widget), widget)
                    continue
                values = propose_values(widget, rng, 1)
                if not values:
                    continue
                run = await session.set_widget(widget, values[0])
                if run.status == "pending":  # a form: submit it, as a person would
                    submit = next(
                        (
                            w
                            for w in session.widgets
                            if w.kind == "form_submit_button" and w.form_id == widget.form_id
                        ),
                        None,
                    )
                    if submit is None:
                        continue
                    run = await session.click(submit)
                record("move", page, run, widget)
            except KeyError:
                continue  # the control left the page in between; choose again next time
            except ProtocolError as error:
                room.problems.append(
                    {
                        "participant": index,
                        "kind": "disconnected",
                        "page": room.names.get(page, page),
                        "text": str(error),
                    }
                )
                record("reconnect", page, None)
                await session.close()
                session = await join(page)
    except Exception as error:  # one participant's failure must not end the room
        room.problems.append(
            {
                "participant": index,
                "kind": "client_error",
                "page": "?",
                "text": f"{type(error).__name__}: {error}",
            }
        )
    finally:
        await session.close()


async def list_pages(url: str, *, warm: bool) -> dict[str, str]:
    """``{URL path: page name}`` from the server's navigation; opens each page if ``warm``."""
    async with StreamlitSession(url) as session:
        await session.open("")
        pages = {page.url_path: page.name for page in session.pages} or {"": "main"}
        if warm:  # every page once, untimed, as the README asks before a room arrives
            for path in pages:
                await session.open(path)
    return pages


async def run_room(servers: Servers, args: argparse.Namespace) -> tuple[Room, dict[str, Any]]:
    if args.warm:
        print(f"warming {len(servers.worker_urls)} worker(s): every page once...", flush=True)
        for url in servers.worker_urls:
            names = await list_pages(url, warm=True)
    else:
        names = await list_pages(servers.url, warm=False)
    started = time.monotonic()
    room = Room(
        url=servers.url,
        pages=list(names),
        names=names,
        deadline=started + args.duration,
        think=(args.think_min, args.think_max),
        run_timeout=args.run_timeout,
        started=started,
    )
    client_cpu_start = harness.process_cpu_seconds(os.getpid())
    balancer_pids = [servers.balancer_pid] if servers.balancer_pid else []
    with (
        harness.ProcessSampler(servers.worker_pids) as sampler,
        harness.ProcessSampler(balancer_pids) as balancer,
    ):
        await asyncio.gather(
            *(
                participant(room, index, args.seed, index < args.retrainers, args.ramp)
                for index in range(args.participants)
            )
        )
    elapsed = time.monotonic() - started
    client_cpu = harness.process_cpu_seconds(os.getpid()) - client_cpu_start
    usage = {
        "wall_s": round(elapsed, 1),
        "server_peak_rss_mb": round(sampler.peak_rss / 2**20, 1),
        "server_final_rss_mb": round(sampler.last_rss / 2**20, 1),
        "server_cpu_percent": round(sampler.cpu_percent, 1),
        "server_peak_cpu_percent": round(sampler.peak_cpu_percent, 1),
        "client_cpu_percent": round(100 * client_cpu / elapsed, 1) if elapsed else None,
        "balancer_cpu_percent": round(balancer.cpu_percent, 1) if balancer_pids else None,
    }
    return room, usage


@contextmanager
def serve_workers(workers: int):
    """`scripts/serve.py` with ``workers`` workers on free ports; yields :class:`Servers`."""
    port = harness.free_port()
    state_file = report.OUT_DIR / f"serve-state-{port}.json"
    log_path = report.OUT_DIR / f"serve-{port}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable,
        str(ROOT / "scripts" / "serve.py"),
        "--workers",
        str(workers),
        "--port",
        str(port),
        "--address",
        "127.0.0.1",
        "--worker-ports",
        "auto",
        "--state-file",
        str(state_file),
    ]
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 240
        while not state_file.exists():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"scripts/serve.py did not start:\n{log_path.read_text()}")
            time.sleep(0.3)
        state = json.loads(state_file.read_text())
        yield Servers(
            url=state["url"],
            worker_pids=[worker["pid"] for worker in state["workers"]],
            worker_urls=[f"http://127.0.0.1:{worker['port']}" for worker in state["workers"]],
            balancer_pid=state["balancer"]["pid"],
        )
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)  # what Ctrl-C does: serve.py stops its children
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def summarize(room: Room, usage: dict[str, Any], servers: Servers, args: argparse.Namespace):
    by_action: dict[str, list[float]] = {}
    for action in room.actions:
        if action["ms"] is not None and action["status"] not in ("timeout", "error"):
            by_action.setdefault(action["action"], []).append(action["ms"] / 1000)
    moves = by_action.get("move", [])
    per_page = {
        name: report.summary_ms(
            [
                a["ms"] / 1000
                for a in room.actions
                if a["page"] == name and a["action"] == "move" and a["ms"] is not None
            ]
        )
        for name in room.names.values()
    }
    kinds = Counter(problem["kind"] for problem in room.problems)
    distinct = Counter(
        f"{problem['kind']} on {problem['page']}: {problem['text'][:160]}"
        for problem in room.problems
    )
    return {
        "benchmark": "room",
        "environment": report.environment(),
        "settings": {
            "participants": args.participants,
            "duration_s": args.duration,
            "workers": len(servers.worker_pids),
            "retrainers": args.retrainers,
            "seed": args.seed,
            "think_s": [args.think_min, args.think_max],
            "ramp_s": args.ramp,
            "warm": args.warm,
            "url": servers.url,
        },
        "moves": report.summary_ms(moves),
        "navigations": report.summary_ms(by_action.get("navigate", [])),
        "opens": report.summary_ms(by_action.get("open", [])),
        "trainings": report.summary_ms(by_action.get("train", [])),
        "per_page_moves": per_page,
        "timeouts": sum(1 for a in room.actions if a["status"] == "timeout"),
        "exceptions": kinds.get("exception", 0) + kinds.get("compile_error", 0),
        "errors": kinds.get("error", 0),
        "other_problems": {
            kind: count
            for kind, count in kinds.items()
            if kind not in ("exception", "compile_error", "error")
        },
        "distinct_problems": dict(distinct.most_common()),
        **usage,
        "actions": room.actions,
    }


def print_result(result: dict[str, Any]) -> None:
    settings = result["settings"]
    print(
        f"\nRoom: {settings['participants']} participants, {settings['duration_s']} s, "
        f"{settings['workers']} worker(s), {settings['retrainers']} retrainer(s), "
        f"seed {settings['seed']}"
    )
    rows = []
    for label, key in (
        ("control move", "moves"),
        ("page switch", "navigations"),
        ("first open", "opens"),
        ("training", "trainings"),
    ):
        stats = result[key]
        rows.append(
            [
                label,
                stats["n"],
                report.fmt(stats["median_ms"]),
                report.fmt(stats["p95_ms"]),
                report.fmt(stats["max_ms"]),
            ]
        )
    print(report.table(["rerun (ms)", "n", "p50", "p95", "max"], rows))
    page_rows = [
        [page, s["n"], report.fmt(s["median_ms"]), report.fmt(s["p95_ms"])]
        for page, s in result["per_page_moves"].items()
    ]
    print()
    print(report.table(["page (moves)", "n", "p50", "p95"], page_rows))
    print(
        f"\nexceptions {result['exceptions']}, errors {result['errors']}, "
        f"timeouts {result['timeouts']}, other {result['other_problems'] or 0}"
    )
    print(
        f"server memory: peak {result['server_peak_rss_mb']} MB, final "
        f"{result['server_final_rss_mb']} MB (RSS summed over workers); server CPU "
        f"{result['server_cpu_percent']} % of one core on average, peak "
        f"{result['server_peak_cpu_percent']} %; simulator CPU {result['client_cpu_percent']} %"
        + (
            f"; HAProxy CPU {result['balancer_cpu_percent']} %"
            if result["balancer_cpu_percent"] is not None
            else ""
        )
    )
    for text, count in list(result["distinct_problems"].items())[:10]:
        print(f"  {count} x {text}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=30)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of activity")
    parser.add_argument("--retrainers", type=int, default=0, help="participants who also train")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=1, help=">1: start scripts/serve.py")
    parser.add_argument("--url", help="a running server or balancer instead of starting one")
    parser.add_argument(
        "--server-ports",
        help="with --url: the ports of the Streamlit processes to measure (default: the URL's)",
    )
    parser.add_argument("--think-min", type=float, default=1.5)
    parser.add_argument("--think-max", type=float, default=4.5)
    parser.add_argument("--ramp", type=float, default=5.0, help="participants join within this")
    parser.add_argument("--run-timeout", type=float, default=120.0)
    parser.add_argument("--no-warm", dest="warm", action="store_false", help="skip the warm-up")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    with ExitStack() as stack:
        if args.url:
            ports = (
                [int(p) for p in args.server_ports.split(",")]
                if args.server_ports
                else [urllib.parse.urlsplit(args.url).port or 80]
            )
            found = harness.pids_listening_on(ports)
            if not found:
                sys.exit(f"no process listens on {ports}: cannot measure memory and CPU")
            servers = Servers(
                url=args.url.rstrip("/"),
                worker_pids=list(found.values()),
                worker_urls=[f"http://127.0.0.1:{port}" for port in found],
            )
        elif args.workers > 1:
            servers = stack.enter_context(serve_workers(args.workers))
        else:
            server = stack.enter_context(harness.streamlit_app("Home.py"))
            servers = Servers(url=server.url, worker_pids=[server.pid], worker_urls=[server.url])
        print(f"room at {servers.url}, server PIDs {servers.worker_pids}", flush=True)
        room, usage = asyncio.run(run_room(servers, args))
    result = summarize(room, usage, servers, args)
    print_result(result)
    workers = result["settings"]["workers"]
    name = f"room-{args.participants}" + (f"-workers-{workers}" if workers > 1 else "")
    out = report.write_json(args.out or report.OUT_DIR / f"{name}.json", result)
    print(f"\nwritten to {out}")


if __name__ == "__main__":
    main()
