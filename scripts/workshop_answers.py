"""The answer key of the instructor's guide, computed by the lab for every view the guide links.

    .venv/bin/python scripts/workshop_answers.py          # rewrites docs/workshop_answers.md
    .venv/bin/python scripts/workshop_answers.py --check  # exit 1 if the file is out of date

docs/workshop.md links each step of a walkthrough to a view of a page (its
address holds the controls). This script opens every linked view of a page
that has exercises, exactly as a participant would (the page runs under
Streamlit's AppTest with the link's address), reads the exercises the page
built from the data on its screen, and writes their answers and explanations.
So the answer key can never disagree with the lab: tests/test_workshop.py
fails when it does.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lab.exercises import ChoiceAnswer, Exercise, NumberAnswer  # noqa: E402

GUIDE = ROOT / "docs" / "workshop.md"
ANSWERS = ROOT / "docs" / "workshop_answers.md"
BASE = "http://localhost:8501"  # the address `make run` serves; the guide says to replace it
_LINK = re.compile(r"\]\((" + re.escape(BASE) + r"/[^)\s]*)\)")


@dataclass(frozen=True)
class View:
    """One linked view: a page and the controls its address sets."""

    url: str
    slug: str
    query: tuple[tuple[str, str], ...]

    @property
    def page(self) -> Path:
        return ROOT / "demos" / f"{self.slug}.py"


def views(text: str) -> list[View]:
    """Every distinct page view linked from the guide, in the order they first appear."""
    seen: dict[str, View] = {}
    for url in _LINK.findall(text):
        parts = urlsplit(url)
        slug = parts.path.strip("/") or "home"
        if url not in seen:
            seen[url] = View(url, slug, tuple(parse_qsl(parts.query, keep_blank_values=True)))
    return list(seen.values())


def run_view(view: View, timeout: float = 120):
    """The page of ``view`` run once under AppTest with the view's address."""
    from streamlit.testing.v1 import AppTest

    app = AppTest.from_file(str(view.page), default_timeout=timeout)
    for key, value in view.query:
        app.query_params[key] = value
    return app.run()


def shown_exercises(app, slug: str) -> tuple[Exercise, ...]:
    """The exercises the page showed, read from the session (app.exercises keeps them)."""
    try:
        return tuple(app.session_state["_exercise_shown"][slug])
    except KeyError:
        return ()


def answer_text(exercise: Exercise) -> str:
    if isinstance(exercise.answer, NumberAnswer):
        answer = exercise.answer
        return f"**{answer.value:.4g}** (accepted within ±{answer.tolerance:g})"
    if isinstance(exercise.answer, ChoiceAnswer):
        return f"**{exercise.answer.options[exercise.answer.correct]}**"
    raise TypeError(f"unknown answer type {type(exercise.answer).__name__}")


def answer_key(text: str) -> str:
    """The whole answer key, as Markdown."""
    lines = [
        "# Answers to the exercises, view by view",
        "",
        "Written by `scripts/workshop_answers.py` from the views that `docs/workshop.md` "
        "links: each page was opened with the link's address and its exercises read from "
        "the data on screen. Do not edit by hand; `make workshop-answers` rewrites it and "
        "the tests fail when it is out of date. Answers follow the controls, so they hold "
        "for the linked view only: a participant who moved a slider has other numbers, "
        "and the page checks their answer against those.",
    ]
    written: dict[str, list[tuple[str, str, str]]] = {}  # slug -> answer sets already written
    for view in views(text):
        if view.slug == "home":
            continue
        app = run_view(view)
        if app.exception:
            raise RuntimeError(f"{view.url} raised: {[item.value for item in app.exception]}")
        items = [
            (" ".join(item.question.split()), answer_text(item), " ".join(item.explanation.split()))
            for item in shown_exercises(app, view.slug)
        ]
        if not items or items in written.setdefault(view.slug, []):
            continue  # a view whose exercises have the same answers as one above
        written[view.slug].append(items)
        title = app.title[0].value
        lines += ["", f"## {title}", "", f"View: <{view.url}>", ""]
        for number, (question, answer, explanation) in enumerate(items, 1):
            lines += [f"{number}. {question}", f"   - Answer: {answer}", f"   - Why: {explanation}"]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="fail if the file is out of date")
    args = parser.parse_args()
    key = answer_key(GUIDE.read_text())
    if args.check:
        if not ANSWERS.exists() or ANSWERS.read_text() != key:
            print(f"{ANSWERS.relative_to(ROOT)} is out of date: run scripts/workshop_answers.py")
            return 1
        return 0
    ANSWERS.write_text(key)
    print(f"wrote {ANSWERS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
