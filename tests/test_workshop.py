"""The instructor's guide: every link opens its view as stated, the plans match the catalog,
and the answer key is the lab's own (regenerated and compared)."""

from __future__ import annotations

import re

import pytest

from app.catalog import DEMOS, WORKSHOP_INTRO, WORKSHOP_WRAP_UP
from scripts import workshop_answers
from tests.apptest_util import address_notes, assert_clean

GUIDE_TEXT = workshop_answers.GUIDE.read_text()
VIEWS = workshop_answers.views(GUIDE_TEXT)


def test_the_guide_links_every_page():
    linked = {view.slug for view in VIEWS}
    assert linked == {"home"} | {demo.slug for demo in DEMOS}


@pytest.mark.parametrize(
    "view", [view for view in VIEWS if view.slug != "home"], ids=lambda v: v.url
)
def test_every_link_opens_its_view_with_the_controls_it_states(view):
    app = workshop_answers.run_view(view)
    assert_clean(app)
    assert address_notes(app) == [], "the page could not take a value the link sets"
    for key, _ in view.query:
        assert key in app.session_state, f"{view.url}: no control has the key {key!r}"


def test_the_plans_in_the_guide_match_the_catalog():
    rows = {
        match[0]: (match[1], match[2])
        for match in re.findall(
            r"^\| ([^|]+?) \| (\d+|self-study) \| (\d+|self-study) \|$", GUIDE_TEXT, re.M
        )
    }
    cell = lambda minutes: str(minutes) if minutes else "self-study"  # noqa: E731
    for demo in DEMOS:
        assert rows[demo.title] == (cell(demo.minutes), cell(demo.minutes_short)), demo.title
    assert rows["Welcome: Home and the notation"] == (str(WORKSHOP_INTRO),) * 2
    assert rows["Questions and wrap-up"] == (str(WORKSHOP_WRAP_UP),) * 2


def test_the_answer_key_is_up_to_date():
    """docs/workshop_answers.md must be what the lab computes for the linked views now."""
    assert workshop_answers.ANSWERS.read_text() == workshop_answers.answer_key(GUIDE_TEXT), (
        "run .venv/bin/python scripts/workshop_answers.py"
    )
