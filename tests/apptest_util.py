"""Helpers for running pages with Streamlit's AppTest (headless, in-process)."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]


def run_page(
    relative_path: str, timeout: float = 60, query: dict[str, str] | None = None
) -> AppTest:
    """Load a page script by its path from the repository root and run it once.

    ``query`` plays the page address: ``{"d": "9"}`` opens it as ``?d=9``.
    """
    app = AppTest.from_file(str(ROOT / relative_path), default_timeout=timeout)
    for key, value in (query or {}).items():
        app.query_params[key] = value
    return app.run()


def assert_clean(app: AppTest) -> None:
    """No exception and no error box on the page."""
    assert not app.exception, [item.value for item in app.exception]
    assert not app.error, [item.value for item in app.error]


def charts(app: AppTest) -> list:
    """The Vega-Lite charts the page drew."""
    return list(app.get("vega_lite_chart"))


def texts(app: AppTest) -> str:
    """All markdown, captions, warnings and infos on the page, as one string."""
    parts = []
    for kind in ("markdown", "caption", "warning", "info", "error", "success"):
        parts.extend(str(item.value) for item in app.get(kind))
    return "\n".join(parts)


def address_notes(app: AppTest) -> list[str]:
    """The notes a page showed about values in its address it could not take."""
    return [item.value for item in app.warning if item.value.startswith("The link set")]
