"""The page's computations: the error study, the small example and the readings of figures."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from threadpoolctl import threadpool_info

from lab.cost_of_attention import (
    MAX_FEATURES,
    Implementation,
    Method,
    compare_methods,
    load_measurements,
    measured_slopes,
    sweep_values,
)
from lab.cost_of_attention.study import (
    ErrorMeasure,
    MeasuredQuantity,
    error_study,
    kind_labels,
    last_growth,
    slopes,
    small_example,
    speedup,
    square_matrices,
    study_inputs,
)
from lab.cost_of_attention.threads import one_thread


@pytest.fixture(scope="module")
def study():
    return error_study(32, 8, seed=3, magnitude=0.5, sweep_seeds=2)


def test_the_study_sweeps_powers_of_two_from_the_page_seed(study):
    assert study.features.values.tolist() == list(sweep_values(MAX_FEATURES))
    assert study.clusters.values.tolist() == [1, 2, 4, 8, 16, 32]
    assert study.features.seeds.tolist() == [3, 4]
    assert study.clusters.output_errors.shape == (6, 2)


@pytest.mark.parametrize(("r", "c"), [(64, 8), (1, 1), (512, 32)])
def test_the_first_column_is_compare_methods_at_the_page_seed(study, r, c):
    data = study_inputs(32, 8, seed=3, magnitude=0.5)
    results = compare_methods(
        data.query, data.key, data.value, num_features=r, num_clusters=c, seed=3
    )
    for measure in ErrorMeasure:
        for method in Method:
            setting = {Method.PERFORMER: r, Method.CLUSTERED: c}.get(method, 1)
            assert study.at(method, measure, setting) == pytest.approx(
                measure.of(results[method]), rel=1e-12, abs=1e-15
            ), (method, measure)


def test_clusters_beyond_n_count_as_n_and_are_exact(study):
    assert study.at(Method.CLUSTERED, ErrorMeasure.OUTPUT, 256) == 0.0
    assert study.at(Method.CLUSTERED, ErrorMeasure.KL, 32) == 0.0
    assert study.at(Method.CLUSTERED, ErrorMeasure.OUTPUT, 1) > 0


def test_best_is_the_smallest_error(study):
    errors = {
        Method.PERFORMER: study.at(Method.PERFORMER, ErrorMeasure.OUTPUT, 2),
        Method.LINEAR: study.at(Method.LINEAR, ErrorMeasure.OUTPUT),
        Method.CLUSTERED: study.at(Method.CLUSTERED, ErrorMeasure.OUTPUT, 32),
    }
    assert study.best(ErrorMeasure.OUTPUT, 2, 32) is min(errors, key=errors.get)
    assert study.best(ErrorMeasure.OUTPUT, 2, 32) is Method.CLUSTERED  # exact at C = n


def test_a_setting_that_was_not_swept_says_what_to_choose(study):
    with pytest.raises(ValueError, match=r"^r = 3 was not swept; choose one of \[1, 2, 4"):
        study.at(Method.PERFORMER, ErrorMeasure.OUTPUT, 3)
    with pytest.raises(ValueError, match="only random features and clustered attention"):
        study.sweep(Method.LINEAR)


def test_random_features_get_worse_with_larger_queries_and_keys():
    # The estimate's relative variance is (exp(|q' + k'|^2) - 1) / r: it grows with a.
    small = error_study(64, 32, seed=0, magnitude=0.25, sweep_seeds=1)
    large = error_study(64, 32, seed=0, magnitude=1.5, sweep_seeds=1)
    for r in (16, 64, 256):
        assert large.at(Method.PERFORMER, ErrorMeasure.OUTPUT, r) > small.at(
            Method.PERFORMER, ErrorMeasure.OUTPUT, r
        )


def thread_settings() -> list[tuple[str, int]]:
    return sorted((info["user_api"], info["num_threads"]) for info in threadpool_info())


def test_the_sweeps_run_on_one_thread_and_put_the_settings_back():
    before = thread_settings()
    inside: list[list[tuple[str, int]]] = []
    with one_thread():
        inside.append(thread_settings())
    assert {count for _, count in inside[0]} == {1}
    assert thread_settings() == before


def test_sessions_sweeping_at_once_leave_no_limit_behind():
    # Each sweep limits the process-wide BLAS setting and restores it; without the lock,
    # overlapping sections restore in the wrong order and leave the process limited.
    before = thread_settings()
    workers = [
        threading.Thread(
            target=error_study,
            args=(16, 4),
            kwargs={"seed": seed, "magnitude": 0.5, "sweep_seeds": 1},
        )
        for seed in range(4)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert thread_settings() == before


def test_small_example_labels_kinds_and_counts_rows_of_their_own_kind():
    example = small_example(12, 32, seed=0, magnitude=0.5, num_features=64, num_clusters=8)
    data = study_inputs(12, 32, seed=0, magnitude=0.5)
    assert example.labels == kind_labels(data.kinds)
    assert list(example.results) == list(Method)
    strongest = np.argmax(example.results[Method.EXACT].weights, axis=1)
    assert example.own_kind_rows == int(np.sum(data.kinds[strongest] == data.kinds))
    assert example.clusters_used == 8
    assert example.largest_weight == max(
        float(result.weights.max()) for result in example.results.values()
    )
    exact = small_example(6, 4, seed=1, magnitude=0.5, num_features=2, num_clusters=256)
    assert exact.clusters_used == 6
    assert exact.results[Method.CLUSTERED].output_error == 0.0


def test_kind_labels_are_positions_and_letters():
    assert kind_labels(np.array([1, 0, 7])) == ("0 B", "1 A", "2 H")


def test_small_example_refuses_more_positions_than_a_heatmap_shows():
    with pytest.raises(ValueError, match=r"^n must be at most 32, got 33$"):
        small_example(33, 4, seed=0, magnitude=0.5, num_features=2, num_clusters=2)


# ----------------------------------------------------------------------------- readings


def test_readings_of_the_shipped_figures():
    figures = load_measurements()
    numpy_series = figures.series_for(Implementation.NUMPY)
    growth = last_growth(figures, Implementation.NUMPY, MeasuredQuantity.TIME)
    assert (growth.n_before, growth.n_after) == figures.n_values[-2:]
    assert growth.factor == pytest.approx(numpy_series.seconds[-1] / numpy_series.seconds[-2])
    assert growth.quadratic_factor == pytest.approx(4.0)
    n = figures.n_values[-1]
    assert square_matrices(figures, Implementation.NUMPY) == numpy_series.peak_bytes[-1] / (
        4 * n * n
    )
    assert speedup(figures, Implementation.PERFORMER) == pytest.approx(
        numpy_series.seconds[-1] / figures.series_for(Implementation.PERFORMER).seconds[-1]
    )
    assert dict(slopes(figures)) == measured_slopes(figures)
    memory = MeasuredQuantity.MEMORY.values(numpy_series)
    np.testing.assert_allclose(memory, np.asarray(numpy_series.peak_bytes) / 1e6)
    np.testing.assert_allclose(
        MeasuredQuantity.TIME.values(numpy_series), np.asarray(numpy_series.seconds) * 1e3
    )


def test_one_measured_size_has_no_slope_and_no_growth(one_size):
    assert dict(slopes(one_size)) == {}
    assert last_growth(one_size, Implementation.NUMPY, MeasuredQuantity.TIME) is None
    assert square_matrices(one_size, Implementation.NUMPY) > 0
