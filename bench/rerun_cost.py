"""Server time of one rerun after a control change, per page and per control.

For every page the server lists (read from its navigation message), a fresh
session opens the page, reads its controls from the elements the server sent,
and for each control sets a handful of values (the ends of a range, random
points on its step grid, other options: values the caches have likely not
seen) and times each rerun from the BackMsg to the ``script_finished`` message.
After a control's values it is set back, so the next control starts from the
page's defaults. Buttons are pressed; buttons and forms that train (a label
matching retrain/learn/train/measure) are left out unless --include-training.
The floor app (bench/floor_app.py: one slider, one small heatmap) is measured
the same way, beside the lab.

    .venv/bin/python bench/rerun_cost.py                   # or: make bench-rerun
    .venv/bin/python bench/rerun_cost.py --pages scaling,masked_attention --values 6
    .venv/bin/python bench/rerun_cost.py --url http://127.0.0.1:8501   # a running server

Prints a table per page and per control (median, p95 and max in ms) and writes
artifacts/bench/rerun_cost.json. Run alone on a quiet machine for numbers to
compare; the targets (issue #11) are a median <= 60 ms and a p95 <= 150 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import harness, report  # noqa: E402
from bench.st_client import StreamlitSession, Widget, propose_values  # noqa: E402


def measurable(widget: Widget, include_training: bool) -> bool:
    return widget.supported and not widget.disabled and (include_training or not widget.is_training)


async def measure_page(
    url: str, url_path: str, *, values: int, rng: random.Random, include_training: bool
) -> dict[str, Any]:
    """Open one page in a fresh session and time a rerun for every value of every control."""
    async with StreamlitSession(url) as session:
        opened = await session.open(url_path)
        page = session.page
        controls: list[dict[str, Any]] = []
        problems = [vars(problem) for problem in opened.problems]
        widgets = session.widgets
        submitters = {w.form_id: w for w in widgets if w.kind == "form_submit_button"}
        for widget in widgets:
            if widget.kind == "form_submit_button" or not measurable(widget, include_training):
                continue
            submit = submitters.get(widget.form_id) if widget.form_id else None
            entry: dict[str, Any] = {
                "control": widget.name,
                "label": widget.label,
                "kind": widget.kind,
                "in_fragment": bool(widget.fragment_id),
                "in_form": bool(widget.form_id),
                "runs": [],
            }
            controls.append(entry)
            if submit is not None and submit.is_training and not include_training:
                entry["skipped"] = f"its form is submitted by a training button ({submit.label})"
                continue
            original = widget.value
            presses = values if widget.is_button else 0
            for value in propose_values(widget, rng, values) + [None] * presses:
                try:
                    if widget.is_button:
                        run = await session.click(widget)
                    else:
                        run = await session.set_widget(widget, value)
                        if run.status == "pending" and submit is not None:
                            run = await session.click(submit)
                except KeyError:
                    entry["skipped"] = "it left the page after another control moved"
                    break
                entry["runs"].append(
                    {
                        "value": value,
                        "ms": round(1000 * run.seconds, 1),
                        "status": run.status,
                        "messages": run.messages,
                        "bytes": run.bytes,
                    }
                )
                problems.extend(vars(problem) for problem in run.problems)
            if not widget.is_button and entry["runs"]:
                try:  # back to the default, untimed, so the next control starts clean
                    await session.set_widget(widget, original)
                    if submit is not None:
                        await session.click(submit)
                except KeyError:
                    pass
        for entry in controls:
            timed = [run["ms"] / 1000 for run in entry["runs"] if run["status"] != "no_rerun"]
            entry.update(report.summary_ms(timed))
        all_runs = [run["ms"] / 1000 for entry in controls for run in entry["runs"]]
        return {
            "page": page.name if page else url_path,
            "title": page.title if page else "",
            "open_ms": round(1000 * opened.seconds, 1),
            "open_bytes": opened.bytes,
            **report.summary_ms(all_runs),
            "controls": controls,
            "problems": problems,
        }


async def list_pages(url: str) -> list[str]:
    """The URL paths of the app's pages, from the server's navigation message."""
    async with StreamlitSession(url) as session:
        await session.open("")
        return [page.url_path for page in session.pages] or [""]


async def measure_app(url: str, args: argparse.Namespace, only: list[str] | None) -> list[dict]:
    rng = random.Random(args.seed)
    pages = await list_pages(url)
    if only:
        pages = [path for path in pages if path in only or (not path and "home" in only)]
    results = []
    for url_path in pages:
        result = await measure_page(
            url, url_path, values=args.values, rng=rng, include_training=args.include_training
        )
        results.append(result)
        print(
            f"  {result['page']:24} open {report.fmt(result['open_ms'])} ms, "
            f"median {report.fmt(result['median_ms'])} ms, p95 {report.fmt(result['p95_ms'])} ms "
            f"({result['n']} reruns)",
            flush=True,
        )
    return results


def print_tables(app: list[dict], floor: list[dict]) -> None:
    rows = []
    for label, pages in (("", app), ("floor: ", floor)):
        for page in pages:
            worst = max(
                (c for c in page["controls"] if c.get("median_ms") is not None),
                key=lambda c: c["median_ms"],
                default=None,
            )
            rows.append(
                [
                    label + page["page"],
                    sum(1 for c in page["controls"] if c["runs"]),
                    page["n"],
                    report.fmt(page["open_ms"]),
                    report.fmt(page["median_ms"]),
                    report.fmt(page["p95_ms"]),
                    report.fmt(page["max_ms"]),
                    f"{worst['control']} ({report.fmt(worst['median_ms'])})" if worst else "-",
                    len(page["problems"]),
                ]
            )
    print("\nServer time of one rerun after a control change (ms)")
    print(
        report.table(
            [
                "page",
                "controls",
                "reruns",
                "open",
                "median",
                "p95",
                "max",
                "slowest control (median)",
                "problems",
            ],
            rows,
        )
    )
    print("\nPer control (ms)")
    control_rows = []
    for page in app + floor:
        for control in page["controls"]:
            control_rows.append(
                [
                    f"{page['page']} / {control['control']}",
                    control["kind"] + (" (fragment)" if control["in_fragment"] else ""),
                    control["n"],
                    report.fmt(control["median_ms"]),
                    report.fmt(control["p95_ms"]),
                    report.fmt(control["max_ms"]),
                    control.get("skipped", ""),
                ]
            )
    print(
        report.table(["page / control", "kind", "n", "median", "p95", "max", "note"], control_rows)
    )
    for page in app + floor:
        for problem in page["problems"]:
            print(f"PROBLEM on {page['page']}: {problem['kind']}: {problem['text'][:200]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running lab (default: start `streamlit run Home.py`)")
    parser.add_argument("--floor-url", help="a running floor app (default: start one)")
    parser.add_argument("--no-floor", action="store_true", help="skip the floor app")
    parser.add_argument("--pages", help="comma-separated URL paths (default: every page)")
    parser.add_argument("--values", type=int, default=4, help="values (or presses) per control")
    parser.add_argument("--seed", type=int, default=0, help="seed of the values chosen")
    parser.add_argument(
        "--include-training", action="store_true", help="also press buttons that train"
    )
    parser.add_argument("--out", type=Path, default=report.OUT_DIR / "rerun_cost.json")
    args = parser.parse_args()
    only = args.pages.split(",") if args.pages else None

    with ExitStack() as stack:
        url = args.url or stack.enter_context(harness.streamlit_app("Home.py")).url
        print(f"lab at {url}", flush=True)
        app = asyncio.run(measure_app(url, args, only))
        floor: list[dict] = []
        if not args.no_floor:
            floor_url = (
                args.floor_url
                or stack.enter_context(harness.streamlit_app("bench/floor_app.py")).url
            )
            print(f"floor app at {floor_url}", flush=True)
            floor = asyncio.run(measure_app(floor_url, args, None))
    print_tables(app, floor)
    out = report.write_json(
        args.out,
        {
            "benchmark": "rerun_cost",
            "environment": report.environment(),
            "settings": {
                "values_per_control": args.values,
                "seed": args.seed,
                "include_training": args.include_training,
            },
            "pages": app,
            "floor": floor,
        },
    )
    print(f"\nwritten to {out}")


if __name__ == "__main__":
    main()
