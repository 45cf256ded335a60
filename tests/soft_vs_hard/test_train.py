"""lab.soft_vs_hard.train: Gumbel straight-through against torch, autograd sweeps, the toy
task, the three training methods, gradient variance, reproducibility and the shipped runs."""

from __future__ import annotations

import importlib.util
import json
import math
import threading
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from lab.soft_vs_hard import checkpoint, cue_task
from lab.soft_vs_hard import compute as sh
from lab.soft_vs_hard import train as ht
from lab.soft_vs_hard.cue_task import CueTaskConfig, CueTrainConfig, TrainingMethod
from lab.soft_vs_hard.scene import Preset
from tests.refusals import refuses

ROOT = Path(__file__).resolve().parents[2]

ATOL, RTOL = 1e-5, 1.3e-6  # torch's float32 tolerances
# Small settings so the training tests take a second or two each.
SMALL = CueTrainConfig(
    task=CueTaskConfig(n_items=6, n_colors=8),
    steps=150,
    eval_every=50,
    eval_size=256,
    variance_batches=4,
    seed=0,
)


# ---------------------------------------------------------------------------
# Gumbel-softmax straight-through
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("tau", [0.3, 1.0, 3.0])
def test_straight_through_matches_torch_gumbel_softmax(tau):
    """One-hot forward, the soft sample's gradient backward: the same as torch's."""
    torch.manual_seed(0)
    base = torch.randn(4, 6, dtype=torch.float64)
    upstream = torch.randn(4, 6, dtype=torch.float64)

    logits = base.clone().requires_grad_(True)
    torch.manual_seed(123)
    theirs = F.gumbel_softmax(logits, tau=tau, hard=True)
    (theirs * upstream).sum().backward()

    torch.manual_seed(123)  # the same generator state gives the same noise
    noise = -torch.empty_like(base).exponential_().log()
    ours_logits = base.clone().requires_grad_(True)
    ours = ht.gumbel_softmax_st(ours_logits, tau, noise, hard=True)
    (ours * upstream).sum().backward()

    # Forward: exactly one-hot, on argmax(l + g), equal to torch's.
    np.testing.assert_array_equal(ours.detach().numpy(), theirs.detach().numpy())
    assert set(np.unique(ours.detach().numpy())) == {0.0, 1.0}
    np.testing.assert_array_equal(ours.detach().sum(-1).numpy(), 1.0)
    np.testing.assert_array_equal(
        ours.detach().argmax(-1).numpy(), (base + noise).argmax(-1).numpy()
    )
    # Backward: torch's gradient, which is the gradient of the *soft* sample.
    np.testing.assert_allclose(ours_logits.grad.numpy(), logits.grad.numpy(), atol=ATOL, rtol=RTOL)
    soft_logits = base.clone().requires_grad_(True)
    soft = torch.softmax((soft_logits + noise) / tau, dim=-1)
    (soft * upstream).sum().backward()
    np.testing.assert_allclose(ours_logits.grad.numpy(), soft_logits.grad.numpy(), atol=1e-12)
    assert np.abs(ours_logits.grad.numpy()).max() > 0  # a real gradient, not zero


def test_soft_gumbel_sample_matches_numpy_version():
    logits = torch.tensor([0.2, -1.0, 1.5], dtype=torch.float64)
    noise = torch.tensor([0.3, 1.1, -0.4], dtype=torch.float64)
    ours = ht.gumbel_softmax_st(logits, 0.7, noise, hard=False).numpy()
    np.testing.assert_allclose(ours, sh.gumbel_softmax_weights(logits, 0.7, noise), atol=1e-12)
    with pytest.raises(ValueError, match="tau"):
        ht.gumbel_softmax_st(logits, 0.0, noise)
    with pytest.raises(ValueError, match="noise has shape"):
        ht.gumbel_softmax_st(logits, 1.0, noise[:2])


# ---------------------------------------------------------------------------
# The sweep: autograd against finite differences
# ---------------------------------------------------------------------------


def test_sweep_gradients_match_finite_differences_and_hard_is_zero():
    scene = Preset.FOUR.scene
    angles = np.array([-170.0, -60.0, 10.0, 30.0, 100.0, 160.0])
    grads = ht.sweep_gradients(scene, 1, angles, 2.0, 0.7)
    step = 1e-4  # degrees
    plus = sh.angle_sweep(scene, 1, angles + step, 2.0, 0.7)
    minus = sh.angle_sweep(scene, 1, angles - step, 2.0, 0.7)
    per_degree = 1 / (2 * step)  # the sweep's gradients are per degree, as its axis
    per_radian = 180 / math.pi / (2 * step)
    np.testing.assert_allclose(
        grads.soft_grad, (plus.soft_loss - minus.soft_loss) * per_degree, rtol=1e-5, atol=1e-8
    )
    # Per radian is 180/π times larger: the number the page showed before, unlabelled.
    np.testing.assert_allclose(
        grads.soft_grad * 180 / math.pi,
        (plus.soft_loss - minus.soft_loss) * per_radian,
        rtol=1e-5,
        atol=1e-6,
    )
    np.testing.assert_allclose(
        grads.expected_grad,
        (plus.expected_hard_loss - minus.expected_hard_loss) * per_degree,
        rtol=1e-5,
        atol=1e-8,
    )
    numbers = sh.angle_sweep(scene, 1, angles, 2.0, 0.7)
    np.testing.assert_allclose(grads.soft_loss, numbers.soft_loss, atol=1e-12)
    np.testing.assert_allclose(grads.hard_loss, numbers.hard_loss, atol=1e-12)
    np.testing.assert_allclose(grads.expected_loss, numbers.expected_hard_loss, atol=1e-12)
    np.testing.assert_array_equal(grads.hard_grad, 0.0)
    assert np.abs(grads.soft_grad).max() > 0.02  # the soft gradient does point somewhere


def test_the_page_default_gradient_is_reported_per_degree():
    """θ = 30°, target B, length 2, T = 1: −11.290 per radian is −0.197 per degree."""
    grads = ht.sweep_gradients(Preset.FOUR.scene, 1, [30.0], 2.0, 1.0)
    assert grads.soft_grad[0] == pytest.approx(-11.290 * math.pi / 180, abs=1e-5)
    assert grads.soft_loss[0] == pytest.approx(5.546, abs=5e-4)
    assert grads.hard_loss[0] == pytest.approx(10.25)


def test_hard_attention_gives_the_picked_value_a_gradient_and_the_selection_none():
    """Autograd through argmax: the value it picked learns, the query and keys get 0."""
    scene = Preset.FOUR.scene
    angles = np.array([-100.0, 0.0, 30.0, 170.0])
    grads = ht.sweep_gradients(scene, 1, angles, 2.0, 1.0)
    numbers = sh.angle_sweep(scene, 1, angles, 2.0, 1.0)
    goal = scene.value_points[1]
    for row, picked in enumerate(numbers.hard_index):
        expected = np.zeros((scene.size, 2))
        expected[picked] = 2 * (scene.value_points[picked] - goal)  # d‖v − goal‖²/dv
        np.testing.assert_allclose(grads.hard_value_grad[row], expected, atol=1e-12)
    assert np.abs(grads.hard_value_grad[2]).max() > 0  # θ = 30° picks A, not the target B
    np.testing.assert_array_equal(grads.hard_key_grad, 0.0)  # no path through argmax
    np.testing.assert_array_equal(grads.hard_grad, 0.0)  # the query angle: none either
    # Soft attention: every key and every value gets a gradient.
    assert np.all(np.linalg.norm(grads.soft_key_grad, axis=-1) > 0)
    assert np.all(np.linalg.norm(grads.soft_value_grad, axis=-1) > 0)


def test_soft_key_and_value_gradients_match_finite_differences():
    scene = Preset.TRIANGLE.scene
    step = 1e-6
    grads = ht.sweep_gradients(scene, 2, [40.0], 1.5, 0.8)
    for field, points in (("soft_key_grad", "keys"), ("soft_value_grad", "value_points")):
        numeric = np.zeros((scene.size, 2))
        for item in range(scene.size):
            for axis in range(2):
                moved = []
                for sign in (1, -1):
                    array = getattr(scene, points).copy()
                    array[item, axis] += sign * step
                    keys = array if points == "keys" else scene.keys
                    values = array if points == "value_points" else scene.value_points
                    scores = sh.dot_product_scores(sh.query_vector(40, 1.5), keys)
                    output = sh.attend(sh.soft_weights(scores, 0.8), values)
                    # The goal stays the scene's value: a fixed target, not a parameter.
                    moved.append(np.sum((output - scene.value_points[2]) ** 2))
                numeric[item, axis] = (moved[0] - moved[1]) / (2 * step)
        np.testing.assert_allclose(getattr(grads, field)[0], numeric, rtol=1e-5, atol=1e-7)


def test_the_cue_model_trained_through_argmax_learns_its_read_out_only():
    """Plain backprop through hard attention in the cue task: W_o gets a gradient, W_q, W_k none."""
    config = SMALL
    model = ht.CueReader(config.task, config.attention_size, torch.Generator().manual_seed(0))
    batch = ht.cue_batch(config.task, 32, torch.Generator().manual_seed(1))
    grads = ht.argmax_gradients(model, batch)
    assert set(grads) == {"w_query", "w_key", "w_out", "b_out"}
    assert torch.count_nonzero(grads["w_query"]) == 0
    assert torch.count_nonzero(grads["w_key"]) == 0
    assert grads["w_out"].abs().max() > 0 and grads["b_out"].abs().max() > 0
    assert grads["w_key"].shape == model.w_key.shape


def test_sweep_rejects_bad_settings():
    scene = Preset.FOUR.scene
    with refuses("target must be at most 3, got 9"):
        ht.sweep_gradients(scene, 9, [0.0], 1.0, 1.0)
    with refuses("temperature must be positive, got 0.0"):
        ht.sweep_gradients(scene, 0, [0.0], 1.0, 0.0)
    with refuses("length must be at least 0.0, got -1.0"):
        ht.sweep_gradients(scene, 0, [0.0], -1.0, 1.0)
    with refuses("angles_degrees contains NaN or infinity; every entry must be a finite number"):
        ht.sweep_gradients(scene, 0, [np.nan], 1.0, 1.0)


def test_training_leaves_torch_on_one_thread():
    """After the lab's torch code has run, every new thread (each Streamlit rerun is one) uses 1.

    torch keeps the count per OpenMP thread: a thread that already existed when
    the count was first set (pytest's main thread, if a page ran first) keeps
    its own, so the check runs in a new thread, as a page's script does.
    """
    ht.sweep_gradients(Preset.FOUR.scene, 0, [0.0], 1.0, 1.0)
    seen = []
    worker = threading.Thread(target=lambda: seen.append(torch.get_num_threads()))
    worker.start()
    worker.join()
    assert seen == [1]


# ---------------------------------------------------------------------------
# The toy task
# ---------------------------------------------------------------------------


def test_every_example_has_exactly_one_match_and_its_label_is_the_answer():
    task = CueTaskConfig(n_items=5, n_colors=7, n_labels=3)
    batch = ht.cue_batch(task, 64, torch.Generator().manual_seed(0))
    assert batch.items.shape == (64, 5, 10) and batch.cue.shape == (64, 7)
    colors = batch.items[..., :7].argmax(-1)  # (B, S)
    labels = batch.items[..., 7:].argmax(-1)
    for row in range(64):
        assert len(set(colors[row].tolist())) == 5  # all colours differ
    cue = batch.cue.argmax(-1)
    matches = colors == cue[:, None]  # (B, S)
    np.testing.assert_array_equal(matches.sum(-1).numpy(), 1)
    np.testing.assert_array_equal(matches.float().argmax(-1).numpy(), batch.target.numpy())
    np.testing.assert_array_equal(labels[torch.arange(64), batch.target], batch.answer)


def test_unknown_method_is_refused():
    with refuses("method must be one of 'soft', 'reinforce', 'gumbel_st', got 'sparsemax'"):
        ht.train_method("sparsemax", SMALL)


# ---------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_runs():
    """Soft and REINFORCE on the small task (REINFORCE for twice as many steps)."""
    soft, _ = ht.train_method(TrainingMethod.SOFT, SMALL)
    reinforce, _ = ht.train_method(TrainingMethod.REINFORCE, replace(SMALL, steps=300))
    return soft, reinforce


def test_soft_attention_learns_the_task_by_backprop(small_runs):
    soft, _ = small_runs
    assert soft.accuracy[0] < 0.5  # starts near chance (1/4) ...
    assert soft.accuracy[-1] >= 0.95  # ... and learns where to look
    assert soft.looked_right[-1] >= 0.95


def test_reinforce_learns_but_needs_more_steps(small_runs):
    soft, reinforce = small_runs
    assert reinforce.accuracy[-1] >= 0.9
    assert reinforce.looked_right[-1] >= 0.9
    assert soft.steps_to(0.95) <= reinforce.steps_to(0.95)


@pytest.mark.parametrize("seed", [0, 1])
def test_reinforce_gradients_are_noisier_than_backprop(seed):
    """Same weights, same batches: the estimators' spread, measured."""
    config = replace(SMALL, variance_batches=64, seed=seed)
    stats = {}
    for method in TrainingMethod:
        model = ht.CueReader(
            config.task, config.attention_size, torch.Generator().manual_seed(seed)
        )
        stats[method] = ht.gradient_stats(
            model, config, method, torch.Generator().manual_seed(99), math.log(4)
        )
    assert stats["reinforce"].total_variance > 3 * stats["soft"].total_variance
    # Straight-through stays within a factor of two of backprop.
    assert stats["gumbel_st"].total_variance < 2 * stats["soft"].total_variance
    for result in stats.values():
        assert result.noise_to_signal == pytest.approx(result.total_variance / result.mean_norm_sq)


def test_gumbel_straight_through_learns():
    curves, model = ht.train_method("gumbel_st", SMALL)
    assert curves.accuracy[-1] >= 0.9
    assert isinstance(model, ht.CueReader)


def test_training_is_reproducible_for_a_seed():
    config = replace(SMALL, steps=40, eval_every=20, variance_batches=3)
    first, _ = ht.train_method("reinforce", config)
    again, _ = ht.train_method("reinforce", config)
    other, _ = ht.train_method("reinforce", replace(config, seed=1))
    for name in ("loss", "accuracy", "train_loss", "total_variance"):
        np.testing.assert_array_equal(getattr(first, name), getattr(again, name))
    assert not np.array_equal(first.loss, other.loss)


def test_progress_is_reported_up_to_the_end():
    seen = []
    config = replace(SMALL, steps=20, eval_every=10, variance_batches=2)
    ht.compare_training_methods(config, progress=lambda done, message: seen.append((done, message)))
    fractions = [done for done, _ in seen]
    assert fractions == sorted(fractions)
    assert fractions[0] == 0 and fractions[-1] == pytest.approx(1.0)
    assert any("REINFORCE" in message for _, message in seen)


def test_comparison_survives_a_json_round_trip():
    config = replace(SMALL, steps=20, eval_every=10, variance_batches=2)
    comparison = ht.compare_training_methods(config)
    text = json.dumps(checkpoint.comparison_to_dict(comparison))
    again = checkpoint.comparison_from_dict(json.loads(text))
    assert again.config == config
    for method in TrainingMethod:
        np.testing.assert_array_equal(again.curves[method].loss, comparison.curves[method].loss)
        np.testing.assert_array_equal(
            again.curves[method].total_variance, comparison.curves[method].total_variance
        )  # NaN (no measurement) survives as NaN
    assert again.examples == comparison.examples
    assert len(again.example_weights["soft"]) == ht.N_EXAMPLES


# ---------------------------------------------------------------------------
# The shipped curves file
# ---------------------------------------------------------------------------


def load_script():
    path = ROOT / "scripts" / "train_soft_vs_hard.py"
    spec = importlib.util.spec_from_file_location("train_soft_vs_hard", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def fresh_and_shipped():
    """The script's runs, trained now, beside the shipped file's (as JSON dicts)."""
    script = load_script()
    fresh = [checkpoint.comparison_to_dict(run) for run in script.build_runs()]
    shipped = json.loads(checkpoint.CHECKPOINT_PATH.read_text())["runs"]
    return script, fresh, shipped


def test_shipped_curves_are_what_the_script_produces(fresh_and_shipped):
    _, runs, shipped_runs = fresh_and_shipped
    assert len(runs) == len(shipped_runs) == len(cue_task.SHIPPED_CONFIGS)
    for fresh, shipped in zip(runs, shipped_runs, strict=True):
        assert fresh["config"] == shipped["config"]
        assert fresh["examples"] == shipped["examples"]
        for method in TrainingMethod:
            ours, theirs = fresh["curves"][method], shipped["curves"][method]
            assert ours["steps"] == theirs["steps"]
            for name in ("loss", "accuracy", "looked_right", "train_loss"):
                np.testing.assert_allclose(ours[name], theirs[name], rtol=1e-4, atol=1e-6)
            for name in ("total_variance", "noise_to_signal"):
                a = np.array([np.nan if value is None else value for value in ours[name]])
                b = np.array([np.nan if value is None else value for value in theirs[name]])
                np.testing.assert_allclose(a, b, rtol=1e-4, equal_nan=True)
            np.testing.assert_allclose(
                fresh["example_weights"][method], shipped["example_weights"][method], atol=1e-5
            )
    # And what it ships tells the story the page tells.
    curves = checkpoint.comparison_from_dict(shipped_runs[0]).curves
    assert curves["soft"].steps_to(0.95) < curves["reinforce"].steps_to(0.95)
    assert curves["reinforce"].total_variance[0] > 3 * curves["soft"].total_variance[0]
    # On the harder task (16 items, 200 steps) REINFORCE falls furthest behind.
    harder = checkpoint.comparison_from_dict(shipped_runs[1])
    assert harder.config.settings == (0, 16, 200)
    final = {method: curve.accuracy[-1] for method, curve in harder.curves.items()}
    assert final["reinforce"] < final["gumbel_st"] < final["soft"]


def test_the_script_checks_its_own_runs(fresh_and_shipped):
    script, _, _ = fresh_and_shipped
    shipped = checkpoint.load_comparisons()
    assert script.same_curves(shipped[0], shipped[0])
    assert not script.same_curves(shipped[0], shipped[1])  # other settings
    moved = checkpoint.comparison_from_dict(checkpoint.comparison_to_dict(shipped[0]))
    moved.curves[TrainingMethod.SOFT].loss[3] += 1e-2
    assert not script.same_curves(shipped[0], moved)
