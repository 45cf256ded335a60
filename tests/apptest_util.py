"""Helpers for running pages with Streamlit's AppTest (headless, in-process).

The page tests share their set-ups through here: the ``app`` fixture (``app = page_fixture(PAGE)``
in a test module), a page opened at an address it takes in full (:func:`run_at_address`) or at one
it must refuse (:func:`run_at_hostile_address`), and a page on a server that trains nothing
(:func:`run_with_training_off`).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from app import runs

ROOT = Path(__file__).resolve().parents[1]
# Typed text a sentence box must show as plain text: accents and emoji, and HTML markup.
ODD_TEXTS = ("Café déjà vu, naïve! 🦊🦊", "<script>alert('x')</script> <b>bold</b>")


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


def page_fixture(relative_path: str):
    """The fixture ``app``: the page run once at its defaults, afresh for every test that asks.

    A page's test module binds it with ``app = page_fixture(PAGE)``.
    """

    @pytest.fixture(name="app")
    def fresh_page() -> AppTest:
        return run_page(relative_path)

    return fresh_page


def assert_clean(app: AppTest) -> None:
    """No exception and no error box on the page."""
    assert not app.exception, [item.value for item in app.exception]
    assert not app.error, [item.value for item in app.error]


def run_at_address(relative_path: str, query: dict[str, str]) -> AppTest:
    """Open the page at the address ``query``: it runs clean and takes every value the link sets."""
    app = run_page(relative_path, query=query)
    assert_clean(app)
    assert address_notes(app) == []
    return app


def run_at_hostile_address(
    relative_path: str, query: dict[str, str], notes: int
) -> tuple[AppTest, list[str]]:
    """Open the page at an address of values it cannot take: it runs clean anyway.

    Returns the page and its notes about the address, after checking there are ``notes`` of them.
    """
    app = run_page(relative_path, query=query)
    assert_clean(app)
    found = address_notes(app)
    assert len(found) == notes, found
    return app, found


def run_with_training_off(
    relative_path: str, monkeypatch: pytest.MonkeyPatch, query: dict[str, str] | None = None
) -> AppTest:
    """Open the page on a server that trains nothing (``MAX_TRAININGS = 0``): it runs clean and
    shows the note that says so."""
    monkeypatch.setattr(runs, "MAX_TRAININGS", 0)
    app = run_page(relative_path, query=query)
    assert_clean(app)
    assert runs.TRAINING_OFF in [item.value for item in app.info]
    return app


def assert_typed_text_shown_safely(app: AppTest) -> None:
    """After odd typed text: the page runs clean, still draws, and no markdown may render HTML."""
    assert_clean(app)
    assert charts(app)
    assert not any(getattr(item, "allow_html", False) for item in app.markdown)


def assert_cut_with_a_warning(app: AppTest, typed: int, menu: str, kept: int = 12) -> None:
    """After a sentence of ``typed`` tokens: the page runs clean, warns with that count, and the
    menu keyed ``menu`` offers only the first ``kept`` tokens."""
    assert_clean(app)
    assert f"{typed} tokens" in app.warning[0].value
    assert len(app.selectbox(key=menu).options) == kept


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
