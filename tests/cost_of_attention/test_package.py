"""The package imports light (no torch, scikit-learn or Streamlit) and exports what it says."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import lab.cost_of_attention as package
from lab.cost_of_attention.study import study_inputs

ROOT = Path(__file__).resolve().parents[2]


def test_importing_the_package_loads_no_torch_sklearn_or_streamlit():
    script = (
        "import sys, lab.cost_of_attention\n"
        "heavy = [name for name in ('torch', 'sklearn', 'streamlit') if name in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""


def test_every_exported_name_exists():
    missing = [name for name in package.__all__ if not hasattr(package, name)]
    assert missing == []
    assert "measure" not in package.__all__  # the torch timing code is imported on its own


def test_page_defaults_lie_within_the_caps():
    config = package.CostOfAttentionConfig()
    assert 1 <= config.n <= package.MAX_N
    assert 1 <= config.d <= package.MAX_D
    assert 1 <= config.num_features <= package.MAX_FEATURES
    assert 1 <= config.num_clusters <= min(config.n, package.MAX_CLUSTERS)
    assert 1 <= config.heatmap_n <= package.MAX_HEATMAP_N
    assert 1 <= config.sweep_seeds <= package.MAX_SEEDS
    assert config.measure_d <= package.MAX_D
    for sizes in (package.PAGE_MEASURE_N_VALUES, package.BENCHMARK_N_VALUES):
        assert list(sizes) == sorted(set(sizes)) and sizes[-1] <= package.MAX_MEASURE_N
    assert 0 < package.PAGE_MEASURE_BUDGET_SECONDS <= package.MAX_BUDGET_SECONDS
    # the page's inputs: sample_inputs with the defaults' kinds and spread
    data = study_inputs(config.n, config.d, seed=config.seed, magnitude=config.magnitude)
    assert data.query.shape == (config.n, config.d)
