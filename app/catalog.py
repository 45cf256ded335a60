"""The list of demos: one place for the sidebar, the Home cards, the workshop plans and the README.

Pure data, no Streamlit and no torch, so Home can read it cheaply.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Demo:
    """One demo page."""

    slug: str  # URL path (/self_attention), page file demos/<slug>.py, package lab/<slug>/
    title: str  # sidebar and card title
    icon: str  # Streamlit material icon (drawn from the font Streamlit ships, never fetched)
    section: str  # sidebar group
    promise: str  # one sentence: what the learner will see
    minutes: int  # time in the 90-minute workshop plan; 0 = left for self-study there
    minutes_short: int  # time in the 60-minute plan; 0 = left for self-study there
    objectives: tuple[str, ...] = ()  # what a learner can do after the page

    @property
    def file(self) -> str:
        """The page script, relative to the repository root."""
        return f"demos/{self.slug}.py"

    @property
    def path(self) -> Path:
        return ROOT / self.file


SECTIONS: tuple[str, ...] = ("Foundations", "Mechanics of attention", "Multi-head and beyond")

DEMOS: tuple[Demo, ...] = (
    Demo(
        slug="kernel_regression",
        title="Kernel regression as attention",
        icon=":material/scatter_plot:",
        section="Foundations",
        promise="Nadaraya–Watson regression is attention with a fixed similarity: "
        "move the bandwidth and watch the lookup sharpen until it overfits.",
        minutes=10,
        minutes_short=10,
        objectives=(
            "Read kernel regression as attention: queries are test inputs, keys are "
            "training inputs, values are training targets.",
            "Explain how the bandwidth trades a smooth fit for a wiggly one, and why the "
            "training error alone cannot choose it.",
        ),
    ),
    Demo(
        slug="self_attention",
        title="Self-attention, step by step",
        icon=":material/footprint:",
        section="Foundations",
        promise="Follow a sentence from embeddings through Q, K, V, scores and softmax "
        "to the output, with every shape on screen.",
        minutes=15,
        minutes_short=15,
        objectives=(
            "Compute Q, K, V, the scaled scores, the weights and the output for a short "
            "sentence, and say the shape of each.",
            "Check one output entry by hand as a weighted average of value rows.",
        ),
    ),
    Demo(
        slug="position",
        title="Order and position",
        icon=":material/swap_horiz:",
        section="Foundations",
        promise="Reorder a sentence and the outputs only reorder: attention alone is blind "
        "to word order, until sinusoidal or rotary positions are added.",
        minutes=5,
        minutes_short=0,
        objectives=(
            "Show that self-attention without positions is permutation-equivariant, and "
            "why that makes it blind to word order.",
            "Read the sinusoidal encoding and rotary scores as functions of the offset "
            "between two positions.",
        ),
    ),
    Demo(
        slug="scaling",
        title="Why scale by √d",
        icon=":material/straighten:",
        section="Mechanics of attention",
        promise="See dot products grow with the dimension, softmax saturate and "
        "its Jacobian shrink, and how dividing by √d stops it.",
        minutes=5,
        minutes_short=5,
        objectives=(
            "State why the variance of q·k grows like d for unit-variance entries.",
            "Explain how saturated softmax rows starve learning, and what dividing by √d fixes.",
        ),
    ),
    Demo(
        slug="masked_attention",
        title="Masked attention",
        icon=":material/visibility_off:",
        section="Mechanics of attention",
        promise="Padding and causal masks done right, three common ways to get them "
        "wrong, and leakage measured to the last digit.",
        minutes=10,
        minutes_short=10,
        objectives=(
            "Build padding and causal masks in the SDPA convention (True = may attend).",
            "Tell which wrong ways of masking change results, and when.",
        ),
    ),
    Demo(
        slug="soft_vs_hard",
        title="Soft vs hard attention",
        icon=":material/call_split:",
        section="Mechanics of attention",
        promise="A weighted average against a single pick: why backpropagation cannot teach "
        "the pick where to look, and what the ways around it cost.",
        minutes=10,
        minutes_short=0,
        objectives=(
            "Compare soft, hard, sampled and Gumbel-softmax weights on the same scores.",
            "Explain why the hard choice (the query and keys) gets no gradient while the "
            "picked value does, and how REINFORCE and straight-through estimators work "
            "around it.",
        ),
    ),
    Demo(
        slug="multi_head",
        title="Multi-head attention",
        icon=":material/view_week:",
        section="Multi-head and beyond",
        promise="Several heads on a toy sentence, each looking at something different, "
        "then concatenated and mixed by the output matrix Wₒ.",
        minutes=10,
        minutes_short=10,
        objectives=(
            "Describe what each head of a small model attends to, from its pattern.",
            "Trace how heads are concatenated and mixed by Wₒ, and what switching one off does.",
        ),
    ),
    Demo(
        slug="cost_of_attention",
        title="The cost of attention",
        icon=":material/speed:",
        section="Multi-head and beyond",
        promise="Watch exact attention's time and memory grow like n², then trade accuracy "
        "for speed with random features and clusters.",
        minutes=5,
        minutes_short=0,
        objectives=(
            "Read the n² growth of exact attention's time and memory from a log-log plot, and "
            "say why a fused kernel saves memory but not arithmetic.",
            "Explain how random features and clustering make attention linear in n, and "
            "measure what each costs in accuracy and where it starts to pay off.",
        ),
    ),
    Demo(
        slug="alignment",
        title="Cross-attention and alignment",
        icon=":material/translate:",
        section="Multi-head and beyond",
        promise="A tiny translation model's decoder asks and its encoder answers: read the "
        "attention map against the true alignment, with additive and dot-product scoring.",
        minutes=10,
        minutes_short=0,
        objectives=(
            "Name the query, keys and values of cross-attention in an encoder–decoder, and "
            "read an alignment map against the true alignment of a sentence.",
            "Compare additive and scaled dot-product scoring, and explain why a map that "
            "matches the alignment does not show which words the output depended on.",
        ),
    ),
)


WORKSHOP_INTRO = 5  # minutes: the notation on Home and how to move the controls
WORKSHOP_WRAP_UP = 5  # minutes: questions and what to read next


def demos_in(section: str) -> list[Demo]:
    """The demos of one sidebar section, in teaching order."""
    return [demo for demo in DEMOS if demo.section == section]


def demo(slug: str) -> Demo:
    """Look a demo up by its slug."""
    for entry in DEMOS:
        if entry.slug == slug:
            return entry
    raise KeyError(f"no demo with slug {slug!r}; known: {[d.slug for d in DEMOS]}")
