"""The page's sentences that state numbers, held against the lab's results."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from lab import kernel_regression as kr
from lab.kernel_regression import prose
from tests.kernel_regression.util import GRID, exactly


@pytest.fixture(scope="module")
def data():
    return kr.make_data()


@pytest.fixture(scope="module")
def curves(data):
    return kr.error_curves(
        data.x_train, data.y_train, GRID, x_test=data.x_query, y_test=data.y_test
    )


def test_the_empty_window_warning_names_the_queries(data):
    result = kr.nadaraya_watson(
        data.x_train, data.y_train, data.x_query, kernel="boxcar", bandwidth=0.01
    )
    text = prose.empty_windows(result.empty_indices, data.x_query, kr.Kernel.BOXCAR, 0.01)
    count = len(result.empty_indices)
    assert count > 10
    assert text.startswith(
        f"{count} of 50 queries have **no training point within h = 0.01** (x = "
    )
    first = ", ".join(f"{data.x_query[i]:.2f}" for i in result.empty_indices[:10])
    assert f"(x = {first} and {count - 10} more)" in text
    assert "With the Boxcar kernel every weight there is zero" in text


def test_the_narrow_note_reads_the_weights(data):
    def note(kernel, h):
        fit = kr.nadaraya_watson(
            data.x_train, data.y_train, data.x_query, kernel=kernel, bandwidth=h
        )
        return prose.narrow_note(kernel, h, data.typical_gap, fit.weights), fit.weights

    assert note(kr.Kernel.GAUSSIAN, 0.25)[0] is None  # above the gap of 0.1: nothing to say
    text, weights = note(kr.Kernel.GAUSSIAN, 0.05)
    keys = kr.effective_neighbours(weights).mean()
    assert 2.0 < keys < 2.2
    assert text == (
        "h is below the typical gap between keys (0.10): each query leans on its nearest keys "
        f"(on average {keys:.1f} effective keys)."
    )
    text, weights = note(kr.Kernel.BOXCAR, 0.05)
    few = int(np.sum((weights > 0).sum(axis=1) <= 1))
    assert few > 25  # "one key or none" is most windows here
    assert text.endswith(f"{few} of 50 windows hold one key or none.")
    assert note(kr.Kernel.CONSTANT, 0.05)[0].startswith("The constant kernel ignores h")


def test_the_optima_sentence_counts_slider_steps(curves):
    best, test_best = curves.best_index, int(np.nanargmin(curves.test))
    assert (best, test_best) == (26, 27)
    assert prose.optima(curves) == (
        "Here leave-one-out is smallest at h = 0.2 and the test error at h = 0.224, 1 slider "
        "step apart; leave-one-out needs no test set."
    )
    flat = kr.error_curves([0.0, 1.0, 2.0], [1.0, 2.0, 3.0], [0.1, 1.0], kernel="constant")
    assert prose.optima(flat) is None


def test_the_learning_summary_reads_the_runs():
    runs = kr.load_learning_runs()
    text = prose.learning_summary(runs, 0.2041737)
    assert "h settles at **0.203**, next to the closed-form optimum 0.204 (ratio 0.99)" in text
    assert f"h has fallen to **{runs.plain.final_bandwidth:.4f}** and is still falling" in text
    assert f"its loss is {runs.plain.final_loss:.3f}" in text
    lowest, last = runs.plain.loo_losses.min(), runs.plain.loo_losses[-1]
    assert last > 1.5 * lowest  # it did rise again
    assert f"{lowest:.3f} at its lowest on the way, has risen to {last:.3f}" in text
    assert "closed-form optimum –." in prose.learning_summary(runs, None)
    settled = prose.learning_summary(
        replace(runs, curves={**runs.curves, kr.Objective.TRAIN: runs.loo}), 0.2
    )
    assert f"its leave-one-out loss is {runs.loo.loo_losses[-1]:.3f}." in settled
    assert "still falling" not in settled


def test_what_to_notice_states_the_training_error_at_both_ends(curves, data):
    notes = prose.what_to_notice(kr.Kernel.GAUSSIAN, curves)
    assert notes[2].startswith(
        "With the Gaussian kernel the training error is 1.258 at h = 10 and 0.014 at h = 0.01"
    )
    # "never leaves their range": an average of the targets.
    for h in (0.01, 0.25, 10.0):
        fit = kr.nadaraya_watson(data.x_train, data.y_train, data.x_query, bandwidth=h)
        assert data.y_train.min() <= fit.estimate.min() <= fit.estimate.max() <= data.y_train.max()
    # "the effective number of keys falls towards 1" as h shrinks.
    keys = [
        kr.effective_neighbours(
            kr.nadaraya_watson(data.x_train, data.y_train, data.x_query, bandwidth=h).weights
        ).mean()
        for h in (1.0, 0.25, 0.05, 0.01)
    ]
    assert np.all(np.diff(keys) < 0) and keys[-1] < 1.2


def test_the_query_summary():
    text = prose.query_summary(
        shown=0.9021, top=8, used=7.21, keys=50, estimate=3.2479, truth=3.278
    )
    assert text == (
        "These 8 keys carry **90.2%** of the weight; the query's effective number of keys is "
        "**7.2**. Adding up αᵢ · yᵢ over all 50 keys gives the estimate **3.248** (true value "
        "3.278)."
    )
    one = prose.query_summary(shown=1.0, top=1, used=1.0, keys=50, estimate=0.934, truth=1.6)
    assert one.startswith("This key carries **100.0%** of the weight")
    with exactly("a query without an estimate has no summary"):
        prose.query_summary(shown=0, top=0, used=0, keys=50, estimate=float("nan"), truth=1)


def test_the_d2l_note_names_both_kernels():
    assert "1 − |u|" in prose.TRIANGULAR_NOTE and "“Epanechikov”" in prose.TRIANGULAR_NOTE
    assert "triangular kernel" in prose.TRIANGULAR_NOTE and "1 − u²" in prose.TRIANGULAR_NOTE
    assert prose.TRIANGULAR_NOTE in prose.KERNEL_HELP
