"""Training soft and hard attention in torch: backprop, REINFORCE and Gumbel straight-through.

The only module of the topic that imports torch; the page imports it inside
the functions that train or differentiate, never at the top.

The toy task, "find the item that matches the cue" (:mod:`lab.soft_vs_hard.cue_task`):

    q = cue W_q                          (B, d)
    k_i = item_i W_k                     (B, S, d)
    s_i = q · k_i / sqrt(d)              (B, S)     scores
    w = weights(s)                       (B, S)     soft, sampled or Gumbel-ST
    glimpse = sum_i w_i item_i           (B, C+K)   values are the items themselves
    logits = glimpse W_o + b_o           (B, K)

The read-out ``W_o, b_o`` learns by backpropagation in every method: it gets
the gradient of the loss through the glimpse it was given, one item or an
average. The methods differ only in how the attention parameters ``W_q, W_k``
(where to look) get theirs:

* ``SOFT``: ``w = softmax(s)``, plain backpropagation (exact gradient of the loss).
* ``REINFORCE``: draw ``i ~ softmax(s)``, look only at item ``i``; the attention
  gets the score-function estimate ``(loss - b) ∇ log p(i)`` with a running-mean
  baseline ``b``. Unbiased for the expected loss, but noisy.
* ``GUMBEL_ST``: ``w`` is one-hot on ``argmax(s + g)`` in the forward pass (a
  real sample, by the Gumbel-max trick) and the gradient of
  ``softmax((s + g) / tau)`` in the backward pass. Low noise, but biased.

Shapes:
    B   batch (examples)
    S   items per example (one match, ``S - 1`` distractors)
    C   colours, K labels; an item is ``C + K`` numbers (two one-hots)
    d   query/key size
    R   repeated gradient estimates (for the variance)
    A   query angles of a sweep

Everything is seeded through explicit ``torch.Generator`` objects (never the
global RNG), so a seed always gives the same curves.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from numpy.typing import ArrayLike

from lab.checks import as_real, check_float, check_int
from lab.soft_vs_hard.compute import SweepGradients
from lab.soft_vs_hard.cue_task import (
    CURVE_SERIES,
    CueTaskConfig,
    CueTrainConfig,
    Curves,
    Example,
    TrainingComparison,
    TrainingMethod,
)
from lab.soft_vs_hard.scene import Scene
from lab.torch_utils import generator, use_one_thread

N_EXAMPLES = 3  # held-out examples shown with each model's weights

# ---------------------------------------------------------------------------
# Gumbel-softmax with a straight-through estimator
# ---------------------------------------------------------------------------


def gumbel_softmax_st(
    logits: torch.Tensor, tau: float, noise: torch.Tensor, *, hard: bool = True
) -> torch.Tensor:
    """Gumbel-softmax for given noise; straight-through when ``hard``.

    ``y_soft = softmax((l + g) / tau)``. With ``hard=True`` the result equals
    the one-hot ``y_hard`` on ``argmax(l + g)`` in value but carries the
    gradient of ``y_soft``: ``y_hard - y_soft.detach() + y_soft``. This is
    what ``torch.nn.functional.gumbel_softmax(hard=True)`` computes; here the
    noise is an argument so it can be seeded and shown.

    Args:
        logits: ``(..., S)``.
        tau: temperature ``> 0``.
        noise: Gumbel noise, same shape as ``logits``.
        hard: straight-through one-hot (``True``) or the soft sample.

    Returns:
        ``(..., S)``.
    """
    check_float("tau", tau, positive=True)
    if noise.shape != logits.shape:
        raise ValueError(f"noise has shape {tuple(noise.shape)} but logits {tuple(logits.shape)}")
    y_soft = torch.softmax((logits + noise) / tau, dim=-1)
    if not hard:
        return y_soft
    index = y_soft.argmax(dim=-1, keepdim=True)
    y_hard = torch.zeros_like(y_soft).scatter_(-1, index, 1.0)
    return y_hard - y_soft.detach() + y_soft


def torch_gumbel_noise(shape: tuple[int, ...], source: torch.Generator) -> torch.Tensor:
    """Standard Gumbel noise ``-log(E)``, ``E ~ Exponential(1)``, as torch draws it."""
    return -torch.empty(shape, dtype=torch.float32).exponential_(generator=source).log()


# ---------------------------------------------------------------------------
# The sweep of the page: losses and their autograd gradients against the query angle
# ---------------------------------------------------------------------------


def sweep_gradients(
    scene: Scene, target: int, angles_degrees: ArrayLike, length: float, temperature: float
) -> SweepGradients:
    """Loss ``||o(θ) - v_target||²`` and its gradients by autograd, for every angle.

    All angles go through torch at once, in float64: the angle, the keys and
    the values are leaves with one copy per angle, so the gradient of the
    summed loss holds every angle's own derivatives.
    """
    check_int("target", target, minimum=0, maximum=scene.size - 1)
    check_float("temperature", temperature, positive=True)
    check_float("length", length, minimum=0.0)
    grid = as_real("angles_degrees", angles_degrees, ndim=1, finite=True, dtype=np.float64)
    use_one_thread()
    count, size = grid.shape[0], scene.size
    goal = torch.as_tensor(scene.value_points[target])  # (2,) a constant: what we want back

    def losses(theta: torch.Tensor, keys: torch.Tensor, values: torch.Tensor, mode: str):
        radians = torch.deg2rad(theta)  # (A,)
        query = length * torch.stack([torch.cos(radians), torch.sin(radians)], dim=-1)  # (A, 2)
        scores = torch.einsum("ad,asd->as", query, keys) / math.sqrt(2)  # (A, S)
        if mode == "expected":
            distances = ((values - goal) ** 2).sum(-1)  # (A, S)
            return (torch.softmax(scores / temperature, dim=-1) * distances).sum(-1)
        if mode == "soft":
            weights = torch.softmax(scores / temperature, dim=-1)  # (A, S)
        else:
            # argmax returns integers: the one-hot carries no graph back to the scores.
            weights = F.one_hot(scores.argmax(-1), size).to(values.dtype)  # (A, S)
        output = torch.einsum("as,asv->av", weights, values)  # (A, 2)
        return ((output - goal) ** 2).sum(-1)

    result: dict[str, list[np.ndarray]] = {}
    for mode in ("soft", "hard", "expected"):
        theta = torch.as_tensor(grid).clone().requires_grad_(True)  # (A,) degrees
        keys = torch.as_tensor(scene.keys).expand(count, size, 2).clone().requires_grad_(True)
        values = (
            torch.as_tensor(scene.value_points).expand(count, size, 2).clone().requires_grad_(True)
        )
        loss = losses(theta, keys, values, mode)
        leaves = (theta, keys, values)
        # Each angle's loss depends only on its own copies, so the gradient of the sum is
        # every angle's own derivative. A leaf with no path to the loss comes back as
        # None: its gradient is exactly 0.
        grads = torch.autograd.grad(loss.sum(), leaves, allow_unused=True)
        result[mode] = [loss.detach().numpy()] + [
            np.zeros(leaf.shape) if grad is None else grad.numpy()
            for leaf, grad in zip(leaves, grads, strict=True)
        ]
    return SweepGradients(
        soft_loss=result["soft"][0],
        soft_grad=result["soft"][1],
        hard_loss=result["hard"][0],
        hard_grad=result["hard"][1],
        expected_loss=result["expected"][0],
        expected_grad=result["expected"][1],
        soft_key_grad=result["soft"][2],
        hard_key_grad=result["hard"][2],
        soft_value_grad=result["soft"][3],
        hard_value_grad=result["hard"][3],
    )


# ---------------------------------------------------------------------------
# The toy task
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Batch:
    """A batch of examples.

    Attributes:
        cue: ``(B, C)`` one-hot colour to look for.
        items: ``(B, S, C + K)`` colour one-hot then label one-hot.
        target: ``(B,)`` position of the matching item.
        answer: ``(B,)`` its label.
    """

    cue: torch.Tensor
    items: torch.Tensor
    target: torch.Tensor
    answer: torch.Tensor


def cue_batch(task: CueTaskConfig, size: int, source: torch.Generator) -> Batch:
    """Draw ``size`` examples of the task."""
    S, C, K = task.n_items, task.n_colors, task.n_labels
    colors = torch.argsort(torch.rand(size, C, generator=source), dim=1)[:, :S]  # (B, S)
    labels = torch.randint(0, K, (size, S), generator=source)  # (B, S)
    target = torch.randint(0, S, (size,), generator=source)  # (B,)
    rows = torch.arange(size)
    items = torch.cat([F.one_hot(colors, C), F.one_hot(labels, K)], dim=-1).float()  # (B, S, C+K)
    cue = F.one_hot(colors[rows, target], C).float()  # (B, C)
    return Batch(cue, items, target, labels[rows, target])


def describe_example(batch: Batch, index: int, task: CueTaskConfig) -> Example:
    """One example in words: item colours and labels, the cue and the answer."""
    items = batch.items[index]
    return {
        "colors": items[:, : task.n_colors].argmax(-1).tolist(),
        "labels": items[:, task.n_colors :].argmax(-1).tolist(),
        "cue": int(batch.cue[index].argmax()),
        "target": int(batch.target[index]),
        "answer": int(batch.answer[index]),
    }


class CueReader(torch.nn.Module):
    """Attention from a cue over items, then a linear read-out of the glimpse."""

    def __init__(self, task: CueTaskConfig, attention_size: int, source: torch.Generator):
        super().__init__()
        features = task.n_colors + task.n_labels
        self.attention_size = attention_size

        def init(rows: int, cols: int) -> torch.nn.Parameter:
            return torch.nn.Parameter(torch.randn(rows, cols, generator=source) / rows**0.5)

        self.w_query = init(task.n_colors, attention_size)  # (C, d)
        self.w_key = init(features, attention_size)  # (C+K, d)
        self.w_out = init(features, task.n_labels)  # (C+K, K)
        self.b_out = torch.nn.Parameter(torch.zeros(task.n_labels))  # (K,)

    def attention_parameters(self) -> list[torch.nn.Parameter]:
        """The parameters that decide where to look (where the estimators differ)."""
        return [self.w_query, self.w_key]

    def scores(self, batch: Batch) -> torch.Tensor:
        query = batch.cue @ self.w_query  # (B, d)
        keys = batch.items @ self.w_key  # (B, S, d)
        return torch.einsum("bd,bsd->bs", query, keys) / math.sqrt(self.attention_size)

    def read(self, weights: torch.Tensor, batch: Batch) -> torch.Tensor:
        glimpse = torch.einsum("bs,bsf->bf", weights, batch.items)  # (B, C+K)
        return glimpse @ self.w_out + self.b_out  # (B, K)


def surrogate_terms(
    model: CueReader,
    batch: Batch,
    method: TrainingMethod,
    source: torch.Generator,
    baseline: float,
    tau: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-example losses whose gradient is each method's gradient estimate.

    Returns:
        ``(surrogate, loss)``, both ``(B,)``: the mean of ``surrogate`` is what
        a step differentiates; ``loss`` is the answer's cross-entropy, detached.
    """
    method = TrainingMethod(method)
    scores = model.scores(batch)  # (B, S)
    if method is TrainingMethod.SOFT:
        logits = model.read(torch.softmax(scores, dim=-1), batch)
        per_example = F.cross_entropy(logits, batch.answer, reduction="none")
        return per_example, per_example.detach()
    if method is TrainingMethod.REINFORCE:
        log_p = torch.log_softmax(scores, dim=-1)  # (B, S)
        picked = torch.multinomial(log_p.detach().exp(), 1, generator=source)  # (B, 1)
        weights = torch.zeros_like(scores).scatter_(-1, picked, 1.0)  # one-hot, no gradient
        per_example = F.cross_entropy(model.read(weights, batch), batch.answer, reduction="none")
        advantage = per_example.detach() - baseline  # (B,)
        # The read-out learns by backprop through the glimpse it got; the attention
        # parameters only through log p(i): the score-function (REINFORCE) estimate.
        score_term = advantage * log_p.gather(-1, picked).squeeze(-1)
        return per_example + score_term, per_example.detach()
    noise = torch_gumbel_noise(tuple(scores.shape), source)
    weights = gumbel_softmax_st(scores, tau, noise, hard=True)
    per_example = F.cross_entropy(model.read(weights, batch), batch.answer, reduction="none")
    return per_example, per_example.detach()


def argmax_gradients(model: CueReader, batch: Batch) -> dict[str, torch.Tensor]:
    """Plain backpropagation through hard (argmax) attention: every parameter's gradient.

    The read-out ``w_out, b_out`` gets the gradient of the loss through the
    picked item; ``w_query`` and ``w_key`` get none, because argmax returns
    integers and the graph from them to the loss ends there. Their entries
    are zero tensors (autograd reports no path).

    Returns:
        Parameter name -> gradient of the mean cross-entropy, same shape as the parameter.
    """
    use_one_thread()
    weights = F.one_hot(model.scores(batch).argmax(-1), batch.items.shape[1]).float()  # (B, S)
    loss = F.cross_entropy(model.read(weights, batch), batch.answer)
    names, parameters = zip(*model.named_parameters(), strict=True)
    grads = torch.autograd.grad(loss, parameters, allow_unused=True)
    return {
        name: torch.zeros_like(parameter) if grad is None else grad
        for name, parameter, grad in zip(names, parameters, grads, strict=True)
    }


@dataclass(frozen=True)
class Evaluation:
    """A model on the held-out examples, attending the way it will be used."""

    loss: float  # mean cross-entropy
    accuracy: float  # answer correct
    looked_right: float  # the largest weight is on the matching item


def evaluate_method(model: CueReader, batch: Batch, method: TrainingMethod) -> Evaluation:
    """Soft models are used with soft weights; hard ones with argmax (no sampling)."""
    with torch.no_grad():
        scores = model.scores(batch)
        if TrainingMethod(method) is TrainingMethod.SOFT:
            weights = torch.softmax(scores, dim=-1)
        else:
            weights = F.one_hot(scores.argmax(-1), scores.shape[-1]).float()
        logits = model.read(weights, batch)
        return Evaluation(
            loss=float(F.cross_entropy(logits, batch.answer)),
            accuracy=float((logits.argmax(-1) == batch.answer).float().mean()),
            looked_right=float((scores.argmax(-1) == batch.target).float().mean()),
        )


@dataclass(frozen=True)
class GradientStats:
    """Spread of ``R`` gradient estimates of the attention parameters.

    Attributes:
        mean_norm_sq: ``||mean g||²``, the signal.
        total_variance: ``sum_j Var(g_j)`` (trace of the covariance), the noise.
        noise_to_signal: ``total_variance / mean_norm_sq``: how many times
            larger the noise is than the signal; the price of the estimator.
    """

    mean_norm_sq: float
    total_variance: float
    noise_to_signal: float


def gradient_stats(
    model: CueReader,
    config: CueTrainConfig,
    method: TrainingMethod,
    source: torch.Generator,
    baseline: float,
) -> GradientStats:
    """Measure a method's gradient noise at the model's current parameters.

    Draws ``R = config.variance_batches`` fresh batches (and fresh sampling or
    Gumbel noise), computes the attention-parameter gradient each time and
    returns the mean's squared norm and the total variance. Soft attention's
    spread comes only from which examples are in the batch; the hard methods
    add the noise of their own random choices. The model is left unchanged.
    """
    use_one_thread()
    estimates = []
    parameters = model.attention_parameters()
    for _ in range(config.variance_batches):
        batch = cue_batch(config.task, config.batch_size, source)
        surrogate, _ = surrogate_terms(model, batch, method, source, baseline, config.tau)
        grads = torch.autograd.grad(surrogate.mean(), parameters)
        estimates.append(torch.cat([grad.reshape(-1) for grad in grads]))
    stacked = torch.stack(estimates).double()  # (R, P)
    mean_norm_sq = float((stacked.mean(0) ** 2).sum())
    total_variance = float(stacked.var(0, unbiased=True).sum())
    ratio = total_variance / mean_norm_sq if mean_norm_sq > 0 else math.inf
    return GradientStats(mean_norm_sq, total_variance, ratio)


def _variance_points(config: CueTrainConfig) -> set[int]:
    """Steps at which the gradient noise is measured: about 6, always 0 and the end."""
    evals = list(range(0, config.steps + 1, config.eval_every))
    if evals[-1] != config.steps:
        evals.append(config.steps)
    stride = max(1, len(evals) // 6)
    return set(evals[::stride]) | {0, config.steps}


def train_method(
    method: TrainingMethod,
    config: CueTrainConfig | None = None,
    progress: Callable[[float, str], None] | None = None,
) -> tuple[Curves, CueReader]:
    """Train one method on the toy task from the seed's initial weights.

    All three methods start from the same weights and see the same batches
    (their own sampling noise aside), so the curves compare the estimators.
    Every method takes one forward and one backward pass over one batch per
    step; they differ in the gradient the attention parameters receive.

    Args:
        method: a :class:`TrainingMethod` (or its value, ``"soft"``, ``"reinforce"``,
            ``"gumbel_st"``).
        config: the shared settings (default: :class:`CueTrainConfig`'s defaults).
        progress: called with the fraction done and a message.

    Returns:
        ``(curves, trained_model)``.
    """
    config = CueTrainConfig() if config is None else config
    try:
        method = TrainingMethod(method)
    except ValueError:
        known = ", ".join(repr(str(item)) for item in TrainingMethod)
        raise ValueError(f"method must be one of {known}, got {method!r}") from None
    use_one_thread()
    seed = int(config.seed)
    model = CueReader(config.task, config.attention_size, generator(seed))
    optimizer = torch.optim.Adam(model.parameters(), lr=config.learning_rate)
    data = generator(seed + 1)  # training batches
    noise = generator(seed + 2)  # sampling / Gumbel noise
    held_out = cue_batch(config.task, config.eval_size, generator(seed + 3))
    measure = generator(seed + 4)  # the variance measurements
    variance_at = _variance_points(config)

    record: dict[str, list] = {name: [] for name in ("steps", *CURVE_SERIES)}
    # REINFORCE's baseline starts at log K, the loss of a uniform guess over the labels.
    baseline = math.log(config.task.n_labels)
    recent: list[float] = []
    for step in range(config.steps + 1):
        if step % config.eval_every == 0 or step == config.steps:
            result = evaluate_method(model, held_out, method)
            record["steps"].append(step)
            record["loss"].append(result.loss)
            record["accuracy"].append(result.accuracy)
            record["looked_right"].append(result.looked_right)
            record["train_loss"].append(float(np.mean(recent)) if recent else result.loss)
            recent = []
            stats = (
                gradient_stats(model, config, method, measure, baseline)
                if step in variance_at
                else GradientStats(math.nan, math.nan, math.nan)
            )
            record["total_variance"].append(stats.total_variance)
            record["noise_to_signal"].append(stats.noise_to_signal)
            if progress is not None:
                progress(step / config.steps, f"{method.label}: step {step}")
        if step == config.steps:
            break
        batch = cue_batch(config.task, config.batch_size, data)
        surrogate, per_example = surrogate_terms(model, batch, method, noise, baseline, config.tau)
        optimizer.zero_grad()
        surrogate.mean().backward()
        optimizer.step()
        batch_loss = float(per_example.mean())
        decay = config.baseline_decay
        baseline = decay * baseline + (1 - decay) * batch_loss
        recent.append(batch_loss)
    return Curves(method=method, **record), model


def compare_training_methods(
    config: CueTrainConfig | None = None,
    progress: Callable[[float, str], None] | None = None,
) -> TrainingComparison:
    """Train all three methods with one config (what the page and the script show).

    Args:
        config: the shared settings (default: :class:`CueTrainConfig`'s defaults).
        progress: called with the fraction done (over all three) and a message.
    """
    config = CueTrainConfig() if config is None else config
    use_one_thread()
    curves: dict[TrainingMethod, Curves] = {}
    weights: dict[TrainingMethod, list[list[float]]] = {}
    shown = cue_batch(config.task, N_EXAMPLES, generator(config.seed + 5))
    methods = list(TrainingMethod)
    for position, method in enumerate(methods):

        def report(fraction: float, message: str, position: int = position) -> None:
            if progress is not None:
                progress((position + fraction) / len(methods), message)

        curves[method], model = train_method(method, config, report)
        with torch.no_grad():
            weights[method] = torch.softmax(model.scores(shown), dim=-1).tolist()
    examples = [describe_example(shown, index, config.task) for index in range(N_EXAMPLES)]
    return TrainingComparison(config, curves, examples, weights)
