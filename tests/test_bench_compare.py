"""bench/compare.py: the before/after tables docs/performance.md holds."""

from __future__ import annotations

from bench.compare import browser_table, rerun_table, room_table


def _rerun(page_ms: float, floor_ms: float) -> dict:
    page = {"page": "scaling", "n": 4, "median_ms": page_ms, "p95_ms": page_ms + 10, "max_ms": 999}
    floor = {"page": "main", "n": 4, "median_ms": floor_ms, "p95_ms": floor_ms, "max_ms": floor_ms}
    return {"pages": [{"page": "home", "n": 0}, page], "floor": [floor]}


def test_rerun_table_pairs_each_page_with_its_before_and_skips_pages_without_moves():
    table = rerun_table(_rerun(311.4, 81.0), _rerun(56.2, 48.0)).splitlines()
    assert table == [
        "| page | median ms | p95 ms | max ms |",
        "|---|---|---|---|",
        "| scaling | 311 → 56 | 321 → 66 | 999 → 999 |",
        "| *floor app* | 81 → 48 | 81 → 48 | 81 → 48 |",
    ]


def test_a_page_missing_before_shows_a_dash():
    after = _rerun(50.0, 48.0)
    after["pages"][1]["page"] = "alignment"
    assert "| alignment | - → 50 | - → 60 | - → 999 |" in rerun_table(_rerun(300, 80), after)


def test_room_table_counts_every_problem_together():
    report = {
        "settings": {"participants": 30, "workers": 1, "retrainers": 0},
        "moves": {"median_ms": 52.4, "p95_ms": 278.0},
        "errors": 1,
        "exceptions": 2,
        "timeouts": 3,
        "server_peak_rss_mb": 518.8,
        "server_cpu_percent": 40.1,
    }
    rows = room_table([("after room-30", report), ("before room-30", None)]).splitlines()
    assert rows[2] == "| after room-30 | 30 | 1 | 0 | 52 | 278 | 6 | 519 | 40 % |"
    assert len(rows) == 3


def test_browser_table_gives_ratios_and_seconds():
    def report(ms, ratio, seconds):
        page = {"page": "scaling", "median_first_ms": ms, "ratio_to_floor": ratio}
        page["first_chart_s"] = seconds
        floor = {"median_first_ms": 54.0, "first_chart_s": 1.3}
        return {"pages": [page], "floor": floor}

    rows = browser_table(report(161.0, 1.52, 2.44), report(193.0, 3.6, 2.71)).splitlines()
    assert rows[2] == "| scaling | 161 → 193 | 1.52× → 3.60× | 2.4 → 2.7 |"
    assert rows[3] == "| *floor app* | 54 → 54 | 1 → 1 | 1.3 → 1.3 |"
