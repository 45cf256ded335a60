"""Before/after tables (Markdown) from two folders of benchmark JSON.

    .venv/bin/python bench/compare.py artifacts/bench/before artifacts/bench/after

Reads what rerun_cost.py, room.py and browser_latency.py wrote into each
folder (``rerun_cost.json``, ``room-*.json``, ``browser_latency.json``; a file
missing on one side shows as "-") and prints the tables docs/performance.md
holds: server time per rerun by page, the room, and the browser's key press
-> pixels and first chart, each with the floor app measured in the same run.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def _load(folder: Path, name: str) -> dict[str, Any] | None:
    path = folder / name
    return json.loads(path.read_text()) if path.exists() else None


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _by_page(report: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    return {} if report is None else {page["page"]: page for page in report["pages"]}


def rerun_table(before: dict[str, Any] | None, after: dict[str, Any] | None) -> str:
    """Median / p95 / max server time of a rerun after a control move, per page."""
    old, new = _by_page(before), _by_page(after)
    rows = []
    for name in [*new, *(name for name in old if name not in new)]:
        a, b = old.get(name, {}), new.get(name, {})
        if not (a.get("n") or b.get("n")):
            continue
        rows.append(
            [name]
            + [
                f"{_ms(a.get(key))} → {_ms(b.get(key))}"
                for key in ("median_ms", "p95_ms", "max_ms")
            ]
        )
    floors = [
        report["floor"][0] if report and report.get("floor") else {} for report in (before, after)
    ]
    rows.append(
        ["*floor app*"]
        + [
            f"{_ms(floors[0].get(key))} → {_ms(floors[1].get(key))}"
            for key in ("median_ms", "p95_ms", "max_ms")
        ]
    )
    return _table(["page", "median ms", "p95 ms", "max ms"], rows)


def room_table(runs: list[tuple[str, dict[str, Any] | None]]) -> str:
    """One row per room run: latency of a control move, problems, memory and CPU."""
    rows = []
    for label, report in runs:
        if report is None:
            continue
        moves = report["moves"]
        rows.append(
            [
                label,
                str(report["settings"]["participants"]),
                str(report["settings"]["workers"]),
                str(report["settings"]["retrainers"]),
                _ms(moves["median_ms"]),
                _ms(moves["p95_ms"]),
                str(report["errors"] + report["exceptions"] + report["timeouts"]),
                _ms(report["server_peak_rss_mb"]),
                f"{report['server_cpu_percent']:.0f} %",
            ]
        )
    header = ["run", "participants", "workers", "retrainers", "p50 ms", "p95 ms"]
    header += ["errors + exceptions + timeouts", "peak MB", "server CPU"]
    return _table(header, rows)


def browser_table(before: dict[str, Any] | None, after: dict[str, Any] | None) -> str:
    """Key press -> pixels (ms and ratio to the floor app) and first chart (s), per page."""
    old, new = _by_page(before), _by_page(after)
    rows = []
    for name in [*new, *(name for name in old if name not in new)]:
        a, b = old.get(name, {}), new.get(name, {})
        if a.get("median_first_ms") is None and b.get("median_first_ms") is None:
            if a.get("first_chart_s") is None and b.get("first_chart_s") is None:
                continue

        def ratio(page: dict[str, Any]) -> str:
            value = page.get("ratio_to_floor")
            return "-" if value is None else f"{value:.2f}×"

        def seconds(page: dict[str, Any]) -> str:
            value = page.get("first_chart_s")
            return "-" if value is None else f"{value:.1f}"

        rows.append(
            [
                name,
                f"{_ms(a.get('median_first_ms'))} → {_ms(b.get('median_first_ms'))}",
                f"{ratio(a)} → {ratio(b)}",
                f"{seconds(a)} → {seconds(b)}",
            ]
        )
    floors = [report.get("floor") or {} if report else {} for report in (before, after)]
    rows.append(
        [
            "*floor app*",
            f"{_ms(floors[0].get('median_first_ms'))} → {_ms(floors[1].get('median_first_ms'))}",
            "1 → 1",
            f"{floors[0].get('first_chart_s', '-')} → {floors[1].get('first_chart_s', '-')}",
        ]
    )
    return _table(["page", "key press → pixels, ms", "× floor app", "first chart, s"], rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    args = parser.parse_args()
    print("## Server time of a rerun after a control move (before → after)\n")
    print(rerun_table(_load(args.before, "rerun_cost.json"), _load(args.after, "rerun_cost.json")))
    print("\n## A room\n")
    runs = [
        (f"{side} {path.stem}", json.loads(path.read_text()))
        for side, folder in (("before", args.before), ("after", args.after))
        for path in sorted(folder.glob("room-*.json"))
    ]
    print(room_table(runs))
    print("\n## In Chromium (before → after)\n")
    print(
        browser_table(
            _load(args.before, "browser_latency.json"), _load(args.after, "browser_latency.json")
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
