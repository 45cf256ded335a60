"""The alignment page's Markdown tables: the lab's numbers, row by row."""

from __future__ import annotations

import pytest

from lab.alignment import LEXICON, SOURCE_WORDS, Scoring, SeedResult, load_aligner, load_seed_sweep
from lab.alignment.tables import METRIC_ROWS, metrics_table, seed_table, vocabulary_lines


def _rows(table: str) -> list[list[str]]:
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in table.splitlines()]


def test_the_metrics_table_holds_each_checkpoints_recorded_numbers():
    metrics = {scoring: load_aligner(scoring).metrics for scoring in Scoring}
    rows = _rows(metrics_table(metrics))
    assert rows[0] == ["held-out", "additive (MLP)", "scaled dot product", "chance"]
    for row, (name, key, chance) in zip(rows[2:], METRIC_ROWS, strict=True):
        assert row[0] == name
        assert row[1:3] == [f"{metrics[scoring][key]:.3f}" for scoring in Scoring]
        assert row[3] == (f"{metrics[Scoring.ADDITIVE][chance]:.3f}" if chance else "")
    # the chance levels are the same for both models: measured on the same sentences
    for key in ("chance_accuracy", "chance_alignment"):
        assert metrics[Scoring.ADDITIVE][key] == metrics[Scoring.DOT][key]


def test_the_seed_table_has_a_column_per_seed():
    results = load_seed_sweep()
    rows = _rows(seed_table(results))
    assert rows[0] == ["held-out"] + [f"seed {seed}" for seed in range(6)]
    table = {row[0]: row[1:] for row in rows[2:]}
    for result in results:
        name = result.scoring.value
        assert table[f"{name}: token accuracy"][result.seed] == f"{result.token_accuracy:.3f}"
        assert table[f"{name}: alignment"][result.seed] == f"{result.alignment_score:.3f}"


def test_a_missing_seed_leaves_its_cell_empty_and_no_results_is_refused():
    rows = _rows(seed_table([SeedResult(Scoring.DOT, 3, 1.0, 1.0, 0.5)]))
    assert rows[2:] == [["dot: token accuracy", "1.000"], ["dot: alignment", "0.500"]]
    with pytest.raises(ValueError, match="at least one result"):
        seed_table([])
    with pytest.raises(ValueError, match="at least one scoring function"):
        metrics_table({})


def test_the_vocabulary_lists_every_word_once_with_its_translation():
    text = "\n".join(vocabulary_lines())
    assert len(vocabulary_lines()) == 6
    for entry in LEXICON:
        assert f"{entry.source} → {entry.target}" in text
    assert sum(line.count("→") for line in vocabulary_lines()) == len(SOURCE_WORDS)
