"""lab.hard_training: Gumbel straight-through against torch, autograd sweeps, the toy task,
the three training methods, gradient variance, reproducibility and the shipped curves."""

from __future__ import annotations

import importlib.util
import json
import math
from dataclasses import replace

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from app.catalog import ROOT
from lab import hard_training as ht
from lab import soft_hard as sh

ATOL, RTOL = 1e-5, 1.3e-6  # torch's float32 tolerances
# Small settings so the training tests take a second or two each.
SMALL = ht.TrainConfig(
    task=ht.TaskConfig(n_items=6, n_colors=8),
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
    scene = sh.PRESETS["Four items"]
    angles = np.array([-170.0, -60.0, 10.0, 30.0, 100.0, 160.0])
    grads = ht.sweep_gradients(scene, 1, angles, 2.0, 0.7)
    step = 1e-4  # degrees
    plus = sh.angle_sweep(scene, 1, angles + step, 2.0, 0.7)
    minus = sh.angle_sweep(scene, 1, angles - step, 2.0, 0.7)
    per_radian = 180 / math.pi / (2 * step)
    np.testing.assert_allclose(
        grads.soft_grad, (plus.soft_loss - minus.soft_loss) * per_radian, rtol=1e-5, atol=1e-6
    )
    np.testing.assert_allclose(
        grads.expected_grad,
        (plus.expected_hard_loss - minus.expected_hard_loss) * per_radian,
        rtol=1e-5,
        atol=1e-6,
    )
    numbers = sh.angle_sweep(scene, 1, angles, 2.0, 0.7)
    np.testing.assert_allclose(grads.soft_loss, numbers.soft_loss, atol=1e-12)
    np.testing.assert_allclose(grads.hard_loss, numbers.hard_loss, atol=1e-12)
    np.testing.assert_array_equal(grads.hard_grad, 0.0)
    assert np.abs(grads.soft_grad).max() > 1  # the soft gradient does point somewhere


def test_sweep_rejects_bad_settings():
    scene = sh.PRESETS["Four items"]
    with pytest.raises(ValueError, match="target"):
        ht.sweep_gradients(scene, 9, [0.0], 1.0, 1.0)
    with pytest.raises(ValueError, match="temperature"):
        ht.sweep_gradients(scene, 0, [0.0], 1.0, 0.0)


# ---------------------------------------------------------------------------
# The toy task
# ---------------------------------------------------------------------------


def test_every_example_has_exactly_one_match_and_its_label_is_the_answer():
    task = ht.TaskConfig(n_items=5, n_colors=7, n_labels=3)
    batch = ht.make_batch(task, 64, torch.Generator().manual_seed(0))
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


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"n_items": 1}, "n_items"),
        ({"n_items": 9, "n_colors": 8}, "cannot exceed"),
        ({"n_labels": True}, "n_labels"),
    ],
)
def test_task_config_is_checked(settings, message):
    with pytest.raises(ValueError, match=message):
        ht.TaskConfig(**settings)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"steps": 0}, "steps"),
        ({"learning_rate": -1.0}, "learning_rate"),
        ({"tau": math.inf}, "tau"),
        ({"baseline_decay": 1.0}, "baseline_decay"),
        ({"variance_batches": 1}, "variance_batches"),
    ],
)
def test_train_config_is_checked(settings, message):
    with pytest.raises(ValueError, match=message):
        ht.TrainConfig(**settings)


def test_unknown_method_is_refused():
    with pytest.raises(ValueError, match="method must be one of"):
        ht.train("sparsemax", SMALL)


# ---------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_runs():
    """Soft and REINFORCE on the small task (REINFORCE for twice as many steps)."""
    soft, _ = ht.train("soft", SMALL)
    reinforce, _ = ht.train("reinforce", replace(SMALL, steps=300))
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
    for method in ht.METHODS:
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
    curves, model = ht.train("gumbel_st", SMALL)
    assert curves.accuracy[-1] >= 0.9
    assert isinstance(model, ht.CueReader)


def test_training_is_reproducible_for_a_seed():
    config = replace(SMALL, steps=40, eval_every=20, variance_batches=3)
    first, _ = ht.train("reinforce", config)
    again, _ = ht.train("reinforce", config)
    other, _ = ht.train("reinforce", replace(config, seed=1))
    for name in ("loss", "accuracy", "train_loss", "total_variance"):
        np.testing.assert_array_equal(getattr(first, name), getattr(again, name))
    assert first.loss != other.loss


def test_progress_is_reported_up_to_the_end():
    seen = []
    config = replace(SMALL, steps=20, eval_every=10, variance_batches=2)
    ht.compare_methods(config, progress=lambda done, message: seen.append((done, message)))
    fractions = [done for done, _ in seen]
    assert fractions == sorted(fractions)
    assert fractions[0] == 0 and fractions[-1] == pytest.approx(1.0)
    assert any("REINFORCE" in message for _, message in seen)


def test_comparison_survives_a_json_round_trip():
    config = replace(SMALL, steps=20, eval_every=10, variance_batches=2)
    comparison = ht.compare_methods(config)
    text = json.dumps(ht.comparison_to_dict(comparison))
    again = ht.comparison_from_dict(json.loads(text))
    assert again.config == config
    for method in ht.METHODS:
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
    path = ROOT / "scripts" / "train_soft_hard.py"
    spec = importlib.util.spec_from_file_location("train_soft_hard", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_shipped_curves_are_what_the_script_produces():
    script = load_script()
    shipped = json.loads(script.CURVES_PATH.read_text())
    fresh = script.build_payload(shipped["config"]["seed"])
    assert fresh["config"] == shipped["config"]
    assert fresh["examples"] == shipped["examples"]
    for method in ht.METHODS:
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
    curves = ht.comparison_from_dict(shipped).curves
    assert curves["soft"].steps_to(0.95) < curves["reinforce"].steps_to(0.95)
    assert curves["reinforce"].total_variance[0] > 3 * curves["soft"].total_variance[0]
