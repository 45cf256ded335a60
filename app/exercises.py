"""Showing a page's exercises, checking answers, and keeping the session's progress for Home.

Each exercise is a small form: typing does not rerun anything, and pressing
"Check" reruns only the exercises (a fragment), not the page's charts.
Answers are never put in the page address (a shared link must not give
them away); progress lives in the session, so Home can show it.
"""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from lab.exercises import (
    ChoiceAnswer,
    Exercise,
    NumberAnswer,
    Verdict,
    check_choice,
    check_number,
)

_PROGRESS = "_exercise_progress"  # session key: {slug: {exercise key: True once answered right}}
_ANSWERED = "_exercise_answered"  # session key: {slug: {exercise key: last answer checked}}
_TOTAL = "_exercise_total"  # session key: {slug: number of exercises the page showed}
_SHOWN = "_exercise_shown"  # session key: {slug: the exercises as last shown} (the answer key)


def progress(slug: str) -> dict[str, bool]:
    """This session's results on a page: exercise key -> answered right at least once."""
    return dict(st.session_state.get(_PROGRESS, {}).get(slug, {}))


def shown(slug: str) -> tuple[Exercise, ...]:
    """The exercises the page showed last in this session, answers included (the answer key)."""
    return tuple(st.session_state.get(_SHOWN, {}).get(slug, ()))


def total(slug: str) -> int:
    """How many exercises the page showed this session (0 if the learner has not opened it)."""
    return int(st.session_state.get(_TOTAL, {}).get(slug, 0))


def _record(slug: str, key: str, given: str | None, verdict: Verdict) -> None:
    results = st.session_state.setdefault(_PROGRESS, {}).setdefault(slug, {})
    if verdict.correct is not None:
        results[key] = results.get(key, False) or verdict.correct
    st.session_state.setdefault(_ANSWERED, {}).setdefault(slug, {})[key] = given


def _verdict(exercise: Exercise, given: str | None) -> Verdict:
    if isinstance(exercise.answer, NumberAnswer):
        return check_number(exercise.answer, given or "")
    return check_choice(exercise.answer, given)


def _show_verdict(verdict: Verdict) -> None:
    if verdict.correct is None:
        st.warning(verdict.message, icon=":material/help:")
    elif verdict.correct:
        st.success(verdict.message, icon=":material/check_circle:")
    else:
        st.error(verdict.message, icon=":material/cancel:")


@st.fragment
def show(slug: str, exercises: Sequence[Exercise]) -> None:
    """The "Try this" section: every exercise with its answer box, hint and explanation."""
    st.subheader("Try this", anchor=False)
    st.session_state.setdefault(_TOTAL, {})[slug] = len(exercises)
    st.session_state.setdefault(_SHOWN, {})[slug] = tuple(exercises)
    answered = st.session_state.get(_ANSWERED, {}).get(slug, {})
    for number, exercise in enumerate(exercises, 1):
        with st.container(border=True):
            st.markdown(f"**{number}.** {exercise.question}")
            with st.form(key=f"exercise_{exercise.key}", border=False, enter_to_submit=True):
                field, button = st.columns([3, 1], vertical_alignment="bottom")
                with field:
                    if isinstance(exercise.answer, ChoiceAnswer):
                        given = st.radio(
                            "Your answer",
                            exercise.answer.options,
                            index=None,
                            key=f"answer_{exercise.key}",
                        )
                    else:
                        given = st.text_input(
                            "Your answer",
                            key=f"answer_{exercise.key}",
                            placeholder="a number, e.g. 0.25",
                            max_chars=40,
                        )
                with button:
                    checked = st.form_submit_button("Check", width="stretch")
            if checked:
                _record(slug, exercise.key, given, _verdict(exercise, given))
                answered = st.session_state[_ANSWERED][slug]
            if exercise.key in answered:
                # Re-checked on every draw: the answer follows the controls on screen.
                verdict = _verdict(exercise, answered[exercise.key])
                _show_verdict(verdict)
            with st.expander("Hint"):
                st.markdown(exercise.hint)
            if exercise.key in answered:
                with st.expander("Explanation", expanded=False):
                    st.markdown(exercise.explanation)
