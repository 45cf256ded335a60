"""The list of demos: one place for the sidebar, the Home cards and the README.

Pure data, no Streamlit and no torch, so Home can read it cheaply.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Demo:
    """One demo page."""

    slug: str  # URL path, e.g. /self_attention
    file: str  # page script, relative to the repository root
    title: str  # sidebar and card title
    icon: str  # Streamlit material icon
    section: str  # sidebar group
    promise: str  # one sentence: what the learner will see
    minutes: int  # suggested time in a workshop walkthrough

    @property
    def path(self) -> Path:
        return ROOT / self.file


SECTIONS: tuple[str, ...] = ("Foundations", "Mechanics of attention", "Multi-head and beyond")

DEMOS: tuple[Demo, ...] = (
    Demo(
        slug="kernel_regression",
        file="demos/kernel_regression.py",
        title="Kernel regression as attention",
        icon=":material/scatter_plot:",
        section="Foundations",
        promise="Nadaraya–Watson regression is attention with a fixed similarity: "
        "move the bandwidth and watch the lookup sharpen until it overfits.",
        minutes=15,
    ),
    Demo(
        slug="self_attention",
        file="demos/self_attention.py",
        title="Self-attention, step by step",
        icon=":material/footprint:",
        section="Foundations",
        promise="Follow a sentence from embeddings through Q, K, V, scores and softmax "
        "to the output, with every shape on screen.",
        minutes=15,
    ),
    Demo(
        slug="scaling",
        file="demos/scaling.py",
        title="Why scale by √d",
        icon=":material/straighten:",
        section="Mechanics of attention",
        promise="See dot products grow with the dimension, softmax saturate and "
        "gradients vanish, and how dividing by √d stops it.",
        minutes=10,
    ),
    Demo(
        slug="masked_attention",
        file="demos/masked_attention.py",
        title="Masked attention",
        icon=":material/visibility_off:",
        section="Mechanics of attention",
        promise="Padding and causal masks done right, three common ways to get them "
        "wrong, and leakage measured to the last digit.",
        minutes=10,
    ),
    Demo(
        slug="soft_vs_hard",
        file="demos/soft_vs_hard.py",
        title="Soft vs hard attention",
        icon=":material/call_split:",
        section="Mechanics of attention",
        promise="A weighted average against a single pick: why only the first one "
        "trains by backpropagation, and what the second one costs.",
        minutes=15,
    ),
    Demo(
        slug="multi_head",
        file="demos/multi_head.py",
        title="Multi-head attention",
        icon=":material/view_week:",
        section="Multi-head and beyond",
        promise="Several heads on a toy sentence, each looking at something different, "
        "then concatenated and mixed by W_o.",
        minutes=15,
    ),
)


def demos_in(section: str) -> list[Demo]:
    """The demos of one sidebar section, in teaching order."""
    return [demo for demo in DEMOS if demo.section == section]


def demo(slug: str) -> Demo:
    """Look a demo up by its slug."""
    for entry in DEMOS:
        if entry.slug == slug:
            return entry
    raise KeyError(f"no demo with slug {slug!r}; known: {[d.slug for d in DEMOS]}")
