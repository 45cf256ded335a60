"""Turning what a learner types into tokens, and showing tokens safely.

Nothing here knows about Streamlit: a page calls :func:`tokenize` and shows
the ``message`` it returns with ``st.warning`` or ``st.info``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# A word (letters, digits, accents, inner apostrophes: "don't", "l'été") or a run
# of other visible characters (punctuation, emoji, including emoji joined by ZWJ).
_TOKEN_PATTERN = re.compile(r"\w+(?:['’]\w+)*|[^\w\s]+")

# Characters that Markdown (as Streamlit renders it) would interpret.
_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~$:])")

DEFAULT_MAX_TOKENS = 12  # enough for a sentence, small enough for readable heatmaps


@dataclass(frozen=True)
class Tokenized:
    """The tokens of a sentence and what happened on the way.

    Attributes:
        tokens: the tokens kept, in order (at most ``max_tokens``).
        dropped: how many tokens were cut off the end.
        message: a sentence for the learner when something was adjusted or is
            missing, else ``None``.
    """

    tokens: tuple[str, ...]
    dropped: int
    message: str | None

    @property
    def is_empty(self) -> bool:
        return not self.tokens


def split_tokens(text: str) -> list[str]:
    """Split text into words and punctuation: ``"fox!"`` -> ``["fox", "!"]``."""
    return _TOKEN_PATTERN.findall(text or "")


def tokenize(text: str, max_tokens: int = DEFAULT_MAX_TOKENS) -> Tokenized:
    """Tokenize a sentence typed by a learner, keeping at most ``max_tokens``.

    Returns a :class:`Tokenized` whose ``message`` says, in plain words, if the
    text was empty or had to be cut.
    """
    if max_tokens < 1:
        raise ValueError(f"max_tokens must be at least 1, got {max_tokens}")
    tokens = split_tokens(text)
    if not tokens:
        return Tokenized((), 0, "Type a sentence (a few words) to see attention at work.")
    if len(tokens) > max_tokens:
        dropped = len(tokens) - max_tokens
        message = (
            f"That sentence has {len(tokens)} tokens; this demo keeps the first "
            f"{max_tokens} so every label stays readable ({dropped} dropped)."
        )
        return Tokenized(tuple(tokens[:max_tokens]), dropped, message)
    return Tokenized(tuple(tokens), 0, None)


def escape_markdown(text: str) -> str:
    """Escape ``text`` so ``st.markdown`` shows it literally (no HTML, links or bold)."""
    return _MARKDOWN_SPECIALS.sub(r"\\\1", text)


def position_labels(tokens: list[str] | tuple[str, ...]) -> list[str]:
    """Labels that tell repeated tokens apart: ``["0 · the", "1 · cat", "2 · the"]``."""
    return [f"{index} · {token}" for index, token in enumerate(tokens)]
