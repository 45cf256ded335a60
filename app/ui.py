"""Streamlit plumbing every page shares: the header, controls bound to the address, notes.

Every control of a demo is made by a function here, so that, on every page:

* it has a key, and its value lives in the page address (Streamlit's
  ``bind="query-params"``): a copied address reproduces the view for anyone,
  and values equal to the default stay out of it;
* a value in the address that the control cannot take (not a number, out of
  range, an unknown option, too long) opens the page anyway: a short note
  beside the control says what was asked and what the page uses instead;
* "Reset this page" knows every control's default.

Keys are short plain names ("d", "seed", "sentence"): they are what a learner
sees in the address, and Streamlit keeps each page's bound values apart.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

import streamlit as st

from app.catalog import demo
from app.exercises import show as show_exercises
from lab.exercises import Exercise
from lab.text import Tokenized, escape_markdown, tokenize

T = TypeVar("T")

SEED_MAX = 9999  # seeds a learner can type; every page draws its random numbers from one
_PAGE = "_ui_page"  # session key: the slug of the page being drawn
_DEFAULTS = "_ui_defaults"  # session key: {slug: {widget key: default}} for "Reset this page"
_SHOWN_RAW = 48  # characters of a bad address value quoted back in a note
_DROPPED = "_ui_dropped"  # session key: {address key: raw value} taken out before the controls ran
_HUGE = 1e12  # no control of the lab takes a number this large; Streamlit overflows on some

_LINK_BUTTON = """
<div style="display:flex;align-items:center;gap:0.6rem;flex-wrap:wrap">
  <button type="button" id="lab-copy-link" style="font:inherit;font-size:0.9rem;
    padding:0.3rem 0.8rem;border-radius:0.5rem;border:1px solid rgba(128,128,128,0.45);
    background:transparent;color:inherit;cursor:pointer">Copy link to this view</button>
  <span id="lab-copy-status" role="status" style="font-size:0.85rem"></span>
</div>
<script>
(() => {
  const button = document.getElementById("lab-copy-link");
  const status = document.getElementById("lab-copy-status");
  if (!button || button.dataset.ready) return;
  button.dataset.ready = "1";
  button.addEventListener("click", async () => {
    const url = window.location.href;
    try {
      await navigator.clipboard.writeText(url);
      status.textContent = "Copied. Anyone who opens it sees this exact view.";
    } catch (error) {
      window.prompt("Copy this link (it holds every control of this view):", url);
    }
  });
})();
</script>
"""


def page_header(slug: str) -> None:
    """Title, one-sentence promise, and the page's "copy link" and "reset" controls.

    Call it first on every demo page: it also starts the page's list of
    controls that "Reset this page" sets back.
    """
    entry = demo(slug)
    _drop_unusable_numbers()
    _forget_other_page(slug)
    st.session_state[_PAGE] = slug
    st.session_state.setdefault(_DEFAULTS, {})[slug] = {}  # filled by this run's controls
    st.title(entry.title, anchor=False)
    st.markdown(f"*{entry.promise}*")
    link_col, reset_col = st.columns([4, 1], vertical_alignment="center")
    with link_col:
        st.html(_LINK_BUTTON, unsafe_allow_javascript=True)
    with reset_col:
        st.button(
            "Reset this page",
            key="reset_page",
            icon=":material/restart_alt:",
            on_click=_reset,
            args=(slug,),
            help="Every control back to its default (and out of the address).",
            width="stretch",
        )


def _drop_unusable_numbers() -> None:
    """Take infinite, NaN and astronomically large numbers out of the address, then rerun.

    Streamlit's number controls raise an exception (not a note) when the address
    holds ``inf`` or ``1e400``. No control of the lab can take such a value, so
    it is removed before any control reads the address; the control that owns
    the key then says what the link asked for.
    """
    dropped = {}
    for key in list(st.query_params):
        raw = st.query_params.get(key, "")
        try:
            number = float(raw)
        except ValueError:
            continue
        if math.isfinite(number) and abs(number) < _HUGE:
            continue
        try:
            del st.query_params[key]
        except Exception:  # bound to a control already: it holds a valid value
            continue
        dropped[key] = raw
    if dropped:
        st.session_state.setdefault(_DROPPED, {}).update(dropped)
        st.rerun()


def _forget_other_page(slug: str) -> None:
    """Drop the controls of the page this session showed before, from its state and address.

    Pages share control names with other ranges ("d" is up to 1024 on one page
    and up to 16 on another): carried over, a value would be refused by the
    new page's control (Streamlit raises for a state value out of range).
    Each page starts from its own defaults, or from the link that opened it.
    """
    before = st.session_state.get(_PAGE)
    if before is None or before == slug:
        return
    for key in st.session_state.get(_DEFAULTS, {}).get(before, {}):
        st.session_state.pop(key, None)
        if key in st.query_params:
            try:
                del st.query_params[key]
            except Exception:  # bound to a control already: it holds a valid value
                continue


def _reset(slug: str) -> None:
    """Set every control the page drew on its last run back to its default.

    Read when the button is pressed, not when it was drawn: on a page's first
    run the button is drawn before the controls it resets.
    """
    for key, value in st.session_state.get(_DEFAULTS, {}).get(slug, {}).items():
        st.session_state[key] = value


def _register(key: str, default: Any) -> bool:
    """Remember ``key``'s default for the reset; True if this is the control's first run.

    On its first run a control takes its value from the address, so that is
    when the address must be checked.
    """
    slug = st.session_state.get(_PAGE)
    if slug is not None:
        st.session_state.setdefault(_DEFAULTS, {}).setdefault(slug, {})[key] = default
    return key not in st.session_state


def _address_value(key: str) -> list[str]:
    """The raw values the address holds for ``key`` (before the control reads them)."""
    dropped = st.session_state.get(_DROPPED, {})
    if key in dropped:
        return [dropped.pop(key)]
    try:
        return st.query_params.get_all(key)
    except Exception:  # an address Streamlit could not parse holds nothing usable
        return []


def _shortened(text: str) -> str:
    """``text`` cut to ``_SHOWN_RAW`` characters (with "…") for quoting in a note."""
    return text if len(text) <= _SHOWN_RAW else text[: _SHOWN_RAW - 1] + "…"


def _quoted(raw: list[str]) -> str:
    return escape_markdown(_shortened(", ".join(raw)))


@dataclass(frozen=True)
class _Accepts:
    """What a control takes from the address, as its note says when a link asks otherwise."""

    expected: str  # what the control accepts, for the note ("a whole number from 1 to 16")
    honoured: Callable[[str, Any], bool]  # whether a raw address value is what the control took
    shown: Callable[[Any], str] = str  # the chosen value as the note quotes it


def named(option: Any) -> str:
    """What a one-choice control shows, and its address holds, for an option by default.

    A lab enum member's ``label`` (see ``lab.enums``: the words a page shows for
    it); anything else (a number, a string) as ``str`` gives it.
    """
    label = getattr(option, "label", None)
    return label if isinstance(label, str) else str(option)


def _same_number(raw: str, value: float) -> bool:
    try:
        asked = float(raw)
    except ValueError:
        return False
    return math.isclose(asked, float(value), rel_tol=1e-9, abs_tol=1e-12)


def _in_range(kind: str, min_value: float, max_value: float) -> _Accepts:
    """A number control: ``kind`` ("a whole number") from ``min_value`` to ``max_value``."""
    return _Accepts(f"{kind} from {min_value} to {max_value}", _same_number)


def _one_of(options: Sequence[T], format_func: Callable[[T], str]) -> _Accepts:
    """A choice among ``options``, which the address names by their labels."""
    names = [format_func(option) for option in options[:8]]
    expected = "one of " + ", ".join(names) + (" …" if len(options) > 8 else "")
    return _Accepts(expected, lambda raw, chosen: raw == format_func(chosen), format_func)


_TRUE_OR_FALSE = _Accepts(
    "true or false",
    honoured=lambda raw, on: raw.lower() == str(on).lower(),
    shown=lambda on: "on" if on else "off",
)


def _bound(draw: Callable[..., T], label: str, reset_to: Any, accepts: _Accepts, *, key: str) -> T:
    """Draw one control bound to the address, and note an address value it could not take.

    Args:
        draw: the Streamlit widget with all its arguments but ``key`` and ``bind``
            (``partial(st.toggle, label, value=value, help=help)``).
        label: the control's label, for the note.
        reset_to: its default, kept for "Reset this page".
        accepts: what it takes from the address, for the note.
        key: its key, which is also its name in the address.
    """
    first = _register(key, reset_to)
    raw = _address_value(key) if first else []
    chosen = draw(key=key, bind="query-params")
    if raw and not all(accepts.honoured(item, chosen) for item in raw):
        st.warning(
            f"The link set **{escape_markdown(label)}** to “{_quoted(raw)}”, which is not "
            f"{accepts.expected}. The page uses **{escape_markdown(accepts.shown(chosen))}**.",
            icon=":material/link_off:",
        )
    return chosen


def slider(
    label: str,
    min_value: T,
    max_value: T,
    value: T,
    *,
    key: str,
    step: T | None = None,
    format: str | None = None,
    help: str | None = None,
) -> T:
    """``st.slider`` bound to the address. Returns the chosen number."""
    kind = "a whole number" if isinstance(value, int) else "a number"
    draw = partial(
        st.slider,
        label,
        min_value=min_value,
        max_value=max_value,
        value=value,
        step=step,
        format=format,
        help=help,
    )
    return _bound(draw, label, value, _in_range(kind, min_value, max_value), key=key)


def select_slider(
    label: str,
    options: Sequence[T],
    value: T,
    *,
    key: str,
    format_func: Callable[[T], str] = named,
    help: str | None = None,
) -> T:
    """``st.select_slider`` bound to the address (the address holds the option's label)."""
    draw = partial(
        st.select_slider,
        label,
        options=list(options),
        value=value,
        format_func=format_func,
        help=help,
    )
    return _bound(draw, label, value, _one_of(options, format_func), key=key)


def number(
    label: str,
    min_value: int,
    max_value: int,
    value: int,
    *,
    key: str,
    step: int = 1,
    help: str | None = None,
) -> int:
    """A whole-number ``st.number_input`` bound to the address."""
    draw = partial(
        st.number_input,
        label,
        min_value=min_value,
        max_value=max_value,
        value=value,
        step=step,
        help=help,
    )
    accepts = _in_range("a whole number", min_value, max_value)
    return int(_bound(draw, label, value, accepts, key=key))


def seed(
    *,
    key: str = "seed",
    value: int = 0,
    label: str = "Seed",
    help: str = "Draws the random numbers. Everyone with the same seed sees the same numbers.",
) -> int:
    """The one seed box of the lab: a whole number from 0 to ``SEED_MAX``."""
    return number(label, 0, SEED_MAX, value, key=key, help=help)


def toggle(label: str, value: bool, *, key: str, help: str | None = None) -> bool:
    """``st.toggle`` bound to the address."""
    draw = partial(st.toggle, label, value=value, help=help)
    return bool(_bound(draw, label, value, _TRUE_OR_FALSE, key=key))


def segmented(
    label: str,
    options: Sequence[T],
    value: T,
    *,
    key: str,
    format_func: Callable[[T], str] = named,
    help: str | None = None,
) -> T:
    """A one-choice ``st.segmented_control`` bound to the address; never returns ``None``."""
    draw = partial(
        st.segmented_control,
        label,
        options=list(options),
        default=value,
        format_func=format_func,
        required=True,
        help=help,
    )
    # No selection (None) stands for the default, in the note as in the result.
    accepts = _one_of(options, lambda option: format_func(value if option is None else option))
    chosen = _bound(draw, label, value, accepts, key=key)
    return value if chosen is None else chosen


def radio(
    label: str,
    options: Sequence[T],
    value: T,
    *,
    key: str,
    format_func: Callable[[T], str] = named,
    horizontal: bool = True,
    help: str | None = None,
) -> T:
    """``st.radio`` bound to the address."""
    index = list(options).index(value)
    draw = partial(
        st.radio,
        label,
        options=list(options),
        index=index,
        format_func=format_func,
        horizontal=horizontal,
        help=help,
    )
    return _bound(draw, label, value, _one_of(options, format_func), key=key)


def choose(
    label: str,
    labels: Sequence[str],
    *,
    key: str,
    default: int = 0,
    fallback: Callable[[str], str | None] | None = None,
    help: str | None = None,
) -> int:
    """A selectbox over labels that returns the chosen index, bound to the address.

    The labels themselves are the options (the address holds the label), so when
    the text behind them changes (a sentence is edited) the box never shows a
    stale label: a remembered label that no longer exists goes to
    ``fallback(remembered)`` if that names a current label, else to ``default``.
    """
    labels = list(labels)
    if not labels:
        raise ValueError(f"{label!r} needs at least one option")
    default = min(max(default, 0), len(labels) - 1)
    remembered = st.session_state.get(key)
    if remembered is not None and remembered not in labels:
        replacement = fallback(remembered) if fallback else None
        st.session_state[key] = replacement if replacement in labels else labels[default]
    accepts = _Accepts("one of the choices offered", lambda raw, option: raw == option)
    draw = partial(st.selectbox, label, options=labels, index=default, help=help)
    return labels.index(_bound(draw, label, labels[default], accepts, key=key))


def text(
    label: str,
    value: str,
    *,
    key: str,
    max_chars: int,
    help: str | None = None,
    placeholder: str | None = None,
) -> str:
    """``st.text_input`` bound to the address, at most ``max_chars`` characters."""
    draw = partial(
        st.text_input, label, value=value, max_chars=max_chars, help=help, placeholder=placeholder
    )
    accepts = _Accepts(
        f"at most {max_chars} characters", lambda raw, typed: raw == typed, _shortened
    )
    return _bound(draw, label, value, accepts, key=key)


def sentence(
    label: str, *, default: str, key: str, max_tokens: int, help: str | None = None
) -> Tokenized:
    """A sentence box that returns its tokens and explains empty or long input on the page."""
    typed = text(label, default, key=key, max_chars=400, help=help)
    result = tokenize(typed, max_tokens=max_tokens)
    if result.is_empty:
        st.info(result.message or "Type a sentence.", icon=":material/edit:")
    elif result.message:
        st.warning(result.message, icon=":material/content_cut:")
    return result


def what_to_notice(lines: Sequence[str]) -> None:
    """The closing "What to notice" list of a page."""
    st.subheader("What to notice", anchor=False)
    st.markdown("\n".join(f"- {line}" for line in lines))


def page_end(slug: str, notice: Sequence[str], exercises: Sequence[Exercise]) -> None:
    """The closing row of a page: "What to notice" beside its exercises ("Try this")."""
    st.divider()
    notice_col, exercise_col = st.columns(2, gap="large")
    with notice_col:
        what_to_notice(notice)
    with exercise_col:
        show_exercises(slug, exercises)
