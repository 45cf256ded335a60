"""Every page of the lab in a real Chromium: drawn, quiet, offline-safe, accessible, shareable.

Starts `streamlit run Home.py` on a free port and, for every page:

* opens it from the sidebar and checks that every chart is drawn, no exception
  or error box shows, nothing is fetched from another host (the lab must work
  on a closed network), the console holds no error and Vega no warning;
* opens it in the light and the dark theme, scrolls through it, opens every
  expander and runs axe-core: no serious or critical violation that the app
  owns (Streamlit's own are listed in tests/browser/checks.py and the README).

Screenshots go to artifacts/screenshots/ (the first screen at 1280 × 800 and
the whole page; each theme at 1440 × 900 and at 1280 × 720, a projector):
look at them.
"""

from __future__ import annotations

import re
from urllib.parse import urlparse

import pytest

from app.catalog import DEMOS
from bench import harness
from tests.browser import checks

PAGES = [("home", "Home")] + [(demo.slug, demo.title) for demo in DEMOS]
THEMES = ("light", "dark")
# On a deep link the frontend first asks for /<page>/_stcore/health and host-config to
# find the app's base path, gets 404 and falls back to /: Streamlit's own probing.
SLIDER = '[data-testid="stSlider"] input[type="range"]'
BASE_PATH_PROBE = re.compile(r"/[^/]+/_stcore/(health|host-config)$")


@pytest.fixture(scope="module")
def server():
    with harness.streamlit_server() as (url, log_lines):
        yield url, log_lines
    # After the server stopped: nothing alarming may have reached the terminal.
    alarming = [
        line
        for line in log_lines
        if re.search(r"Traceback|Error|Warning|WARNING|deprecat", line, re.IGNORECASE)
    ]
    assert not alarming, "the streamlit terminal showed:\n" + "\n".join(alarming)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=harness.require_chromium(), headless=True, args=harness.CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


def new_page(browser, *, theme: str = "light", viewport: dict | None = None):
    context = browser.new_context(viewport=viewport or harness.VIEWPORT, color_scheme=theme)
    page = context.new_page()
    page.set_default_timeout(60_000)
    return page


def failed_responses(page) -> list[str]:
    """Collect responses of 400 and above, but for Streamlit's base-path probe."""
    failed: list[str] = []

    def on_response(response) -> None:
        path = urlparse(response.url).path
        if response.status >= 400 and not BASE_PATH_PROBE.search(path):
            failed.append(f"{response.status} {response.url}")

    page.on("response", on_response)
    return failed


def console_errors(seen: checks.Watch) -> list[str]:
    """Console errors, but for the 404s of the base-path probe (checked by URL instead)."""
    return [text for text in seen.console_errors if not text.startswith("Failed to load resource")]


@pytest.fixture(scope="module")
def sidebar_page(server, browser):
    url, _ = server
    page = new_page(browser)
    seen = checks.watch(page)
    failed = failed_responses(page)
    page.goto(url)
    harness.wait_until_idle(page)
    yield page, seen, failed
    page.context.close()


def test_sidebar_lists_every_page_in_order(sidebar_page):
    page, _, _ = sidebar_page
    # A link's text is its icon's name, a line break, then the title.
    links = [
        link.inner_text().strip().split("\n")[-1].strip()
        for link in page.locator(harness.SIDEBAR_LINK).all()
    ]
    titles = [title for _, title in PAGES]
    assert [link for link in links if link in titles] == titles, links


@pytest.mark.parametrize(("slug", "title"), PAGES, ids=[slug for slug, _ in PAGES])
def test_page_draws_its_charts_quietly_and_offline(sidebar_page, slug, title):
    page, seen, failed = sidebar_page
    page.locator(harness.SIDEBAR_LINK, has_text=title).first.click()
    page.wait_for_url(re.compile(r"/(home)?$" if slug == "home" else rf"/{slug}$"))
    harness.wait_until_idle(page)
    checks.scroll_through(page)
    harness.wait_until_idle(page)
    page.screenshot(path=str(harness.SCREENSHOTS / f"{slug}.png"))  # the first screen
    harness.full_page_screenshot(page, harness.SCREENSHOTS / f"{slug}-full.png")

    assert harness.page_problems(page) == []
    expected_heading = "Attention Lab" if slug == "home" else title
    assert expected_heading in page.locator("h1").first.inner_text()
    if slug != "home":
        assert page.locator(harness.CHART).count() > 0, f"{slug} shows no chart"
    undrawn = harness.undrawn_charts(page)
    assert not undrawn, f"{slug}: {undrawn}"
    assert seen.foreign_requests == [], "fetched from another host"
    assert console_errors(seen) == []
    assert seen.vega_warnings == []
    assert failed == []


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize(("slug", "title"), PAGES, ids=[slug for slug, _ in PAGES])
def test_page_has_no_serious_accessibility_problem_of_its_own(server, browser, slug, title, theme):
    url, _ = server
    page = new_page(browser, theme=theme, viewport={"width": 1440, "height": 900})
    seen = checks.watch(page)
    try:
        page.goto(url if slug == "home" else f"{url}/{slug}")
        harness.wait_until_idle(page)
        page.screenshot(path=str(harness.SCREENSHOTS / f"{slug}-{theme}-1440.png"))
        checks.scroll_through(page)
        checks.open_expanders(page)
        harness.wait_until_idle(page)
        problems = checks.app_owned(checks.axe_violations(page))
        assert problems == [], "\n".join(
            f"{item['impact']} {item['rule']} in {item['owner']}: {item['html']}\n  {item['summary']}"
            for item in problems
        )
        assert seen.foreign_requests == []
        page.set_viewport_size({"width": 1280, "height": 720})
        page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]')?.scrollTo(0, 0)")
        page.wait_for_timeout(300)
        page.screenshot(path=str(harness.SCREENSHOTS / f"{slug}-{theme}-720.png"))
    finally:
        page.context.close()


def test_a_copied_address_reproduces_the_view(server, browser):
    """Move a slider; the address bar now holds it; a fresh browser opening it sees the same."""
    url, _ = server
    page = new_page(browser)
    try:
        page.goto(f"{url}/self_attention")
        harness.wait_until_idle(page)
        slider = page.locator(SLIDER).first
        slider.focus()
        for _ in range(3):
            page.keyboard.press("ArrowRight")
        page.wait_for_url(re.compile(r"d=8"))
        harness.wait_until_idle(page)
        copied = page.url
        value = slider.input_value()
    finally:
        page.context.close()
    assert value == "8"
    fresh = new_page(browser)
    try:
        fresh.goto(copied)
        harness.wait_until_idle(fresh)
        assert fresh.locator(SLIDER).first.input_value() == "8"
        assert "a vector of size d = 8" in fresh.locator('[data-testid="stMain"]').inner_text()
        assert harness.page_problems(fresh) == []
    finally:
        fresh.context.close()


def test_deep_link_on_a_fresh_server_gets_the_lab_navigation(browser):
    """The first request a new server sees is a demo's URL, not Home's.

    With a pages/ folder Streamlit would answer it in its old multipage mode
    (a flat list of file names in the sidebar); the lab's grouped navigation
    must show instead, with the demo drawn.
    """
    demo = DEMOS[len(DEMOS) // 2]
    with harness.streamlit_server() as (url, _):
        page = new_page(browser)
        page.goto(f"{url}/{demo.slug}")
        harness.wait_until_idle(page)
        links = [
            link.inner_text().strip().split("\n")[-1].strip()
            for link in page.locator(harness.SIDEBAR_LINK).all()
        ]
        assert links == [title for _, title in PAGES]
        assert demo.title in page.locator("h1").first.inner_text()
        assert harness.page_problems(page) == []
        undrawn = harness.undrawn_charts(page)
        assert not undrawn, undrawn
        page.context.close()
