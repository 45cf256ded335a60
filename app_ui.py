"""Streamlit pieces that every page shares (the only shared module that imports Streamlit).

Pages stay thin: they read widgets, call ``lab`` and render with these helpers.
"""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import streamlit as st
from altair.utils.schemapi import disable_debug_mode

from app.catalog import demo
from lab.text import Tokenized, tokenize

# Altair checks every chart against the Vega-Lite JSON schema twice (when built and
# when serialised); on a page of a dozen charts that costs most of a second per
# rerun. The chart builders' specs are validated in tests/test_charts.py instead.
disable_debug_mode()
alt.data_transformers.disable_max_rows()


def show_chart(chart: alt.TopLevelMixin, *, width: str = "content") -> None:
    """Draw an Altair chart, serialised without the (slow) schema validation."""
    st.vega_lite_chart(chart.to_dict(validate=False), width=width)


def page_header(slug: str) -> None:
    """Title and one-sentence promise of a demo, from the catalog."""
    entry = demo(slug)
    st.title(entry.title)
    st.markdown(f"*{entry.promise}*")


def notes(what_to_notice: Sequence[str], try_this: Sequence[str]) -> None:
    """The closing "What to notice" and "Try this" blocks of a page."""
    left, right = st.columns(2, gap="large")
    with left:
        st.subheader("What to notice", anchor=False)
        st.markdown("\n".join(f"- {line}" for line in what_to_notice))
    with right:
        st.subheader("Try this", anchor=False)
        st.markdown("\n".join(f"{number}. {line}" for number, line in enumerate(try_this, 1)))


def sentence_tokens(
    label: str, *, default: str, key: str, max_tokens: int, help: str | None = None
) -> Tokenized:
    """A sentence box that returns its tokens and explains empty or long input on the page."""
    text = st.text_input(label, value=default, key=key, help=help, max_chars=400)
    result = tokenize(text, max_tokens=max_tokens)
    if result.is_empty:
        st.info(result.message or "Type a sentence.", icon=":material/edit:")
    elif result.message:
        st.warning(result.message, icon=":material/content_cut:")
    return result
