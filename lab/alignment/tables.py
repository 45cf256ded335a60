"""The alignment page's tables and lists, as Markdown built from the lab's numbers.

Pure text, no Streamlit: the page shows each string with ``st.markdown``, and
the tests read the same numbers back from the checkpoints and the sweep.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from lab.alignment.grammar import LEXICON, WordClass
from lab.alignment.model import Scoring
from lab.alignment.sweep import SeedResult

# (row name, metric key, chance-level key or None), in the order the table shows them
METRIC_ROWS = (
    ("token accuracy (greedy)", "token_accuracy", "chance_accuracy"),
    ("alignment score", "alignment_score", "chance_alignment"),
    ("token accuracy, three adjectives", "three_adjectives_token_accuracy", None),
    ("alignment score, three adjectives", "three_adjectives_alignment_score", None),
)


def metrics_table(metrics: Mapping[Scoring, Mapping[str, float]]) -> str:
    """One row per held-out measure, one column per scoring function, then its chance level.

    Args:
        metrics: scoring function -> a checkpoint's recorded metrics (both
            scoring functions, measured on the same sentences, so the chance
            levels are the same; the first one's are shown).
    """
    scorings = [scoring for scoring in Scoring if scoring in metrics]
    if not scorings:
        raise ValueError("metrics_table needs the metrics of at least one scoring function")
    first = metrics[scorings[0]]
    lines = [
        "| held-out | " + " | ".join(scoring.label for scoring in scorings) + " | chance |",
        "|---" * (len(scorings) + 2) + "|",
    ]
    for name, key, chance in METRIC_ROWS:
        values = " | ".join(f"{metrics[scoring][key]:.3f}" for scoring in scorings)
        lines.append(f"| {name} | {values} | {f'{first[chance]:.3f}' if chance else ''} |")
    return "\n".join(lines)


def seed_table(results: Sequence[SeedResult]) -> str:
    """One column per seed; rows: each scoring function's token accuracy and alignment score."""
    seeds = sorted({result.seed for result in results})
    if not seeds:
        raise ValueError("seed_table needs at least one result")
    by_key = {(result.scoring, result.seed): result for result in results}
    lines = [
        "| held-out | " + " | ".join(f"seed {seed}" for seed in seeds) + " |",
        "|---" * (len(seeds) + 1) + "|",
    ]
    for scoring in Scoring:
        if not any(key[0] is scoring for key in by_key):
            continue
        for name, field in (("token accuracy", "token_accuracy"), ("alignment", "alignment_score")):
            cells = [
                f"{getattr(by_key[scoring, seed], field):.3f}" if (scoring, seed) in by_key else ""
                for seed in seeds
            ]
            lines.append(f"| {scoring.value}: {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def vocabulary_lines() -> list[str]:
    """One Markdown line per word class: its source words and their translations."""
    return [
        f"**{word_class.value}**: "
        + ", ".join(
            f"{entry.source} → {entry.target}"
            for entry in LEXICON
            if entry.word_class is word_class
        )
        for word_class in WordClass
    ]
