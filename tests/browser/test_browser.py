"""Every page of the lab, opened from the sidebar in a real Chromium.

Starts `streamlit run Home.py` on a free port, clicks each sidebar entry,
waits for the script to finish, and checks that every chart on the page is
drawn and that no exception or error box is shown. Screenshots (1280 × 800,
full page) go to artifacts/screenshots/ for people to look at.
"""

from __future__ import annotations

import re

import pytest

from app.catalog import DEMOS
from bench import harness

PAGES = [("home", "Home")] + [(demo.slug, demo.title) for demo in DEMOS]


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
def browser_page(server):
    url, _ = server
    with harness.chromium_page() as page:
        page.goto(url)
        harness.wait_until_idle(page)
        yield page


def test_sidebar_lists_every_page_in_order(browser_page):
    # A link's text is its icon's name, a line break, then the title.
    links = [
        link.inner_text().strip().split("\n")[-1].strip()
        for link in browser_page.locator(harness.SIDEBAR_LINK).all()
    ]
    titles = [title for _, title in PAGES]
    assert [link for link in links if link in titles] == titles, links


@pytest.mark.parametrize(("slug", "title"), PAGES, ids=[slug for slug, _ in PAGES])
def test_page_draws_its_charts_without_errors(browser_page, slug, title):
    page = browser_page
    page.locator(harness.SIDEBAR_LINK, has_text=title).first.click()
    page.wait_for_url(re.compile(r"/(home)?$" if slug == "home" else rf"/{slug}$"))
    harness.wait_until_idle(page)
    page.screenshot(path=str(harness.SCREENSHOTS / f"{slug}.png"))  # the first screen
    harness.full_page_screenshot(page, harness.SCREENSHOTS / f"{slug}-full.png")

    assert harness.page_problems(page) == []
    expected_heading = "Attention Lab" if slug == "home" else title
    assert expected_heading in page.locator("h1").first.inner_text()
    charts = page.locator(harness.CHART).count()
    if slug != "home":
        assert charts > 0, f"{slug} shows no chart"
    undrawn = harness.undrawn_charts(page)
    assert not undrawn, f"{slug}: {undrawn}"


def test_deep_link_on_a_fresh_server_gets_the_lab_navigation(browser_page):
    """The first request a new server sees is a demo's URL, not Home's.

    With a pages/ folder Streamlit would answer it in its old multipage mode
    (a flat list of file names in the sidebar); the lab's grouped navigation
    must show instead, with the demo drawn.
    """
    demo = DEMOS[len(DEMOS) // 2]
    # A second server, and a new context in the already running browser (Playwright's
    # sync API cannot start a second browser while the module's one is open).
    context = browser_page.context.browser.new_context(viewport=harness.VIEWPORT)
    with harness.streamlit_server() as (url, _):
        page = context.new_page()
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
    context.close()
