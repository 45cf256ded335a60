"""Training soft and hard attention in torch: backprop, REINFORCE and Gumbel straight-through.

The toy task, "find the item that matches the cue": an example shows ``S``
items, each a colour (one of ``C``, all different within the example) and a
label (one of ``K``). A cue names one of the colours. The answer is the label
of the item with that colour. The model must learn *where to look*:

    q = cue W_q                          (B, d)
    k_i = item_i W_k                     (B, S, d)
    s_i = q · k_i / sqrt(d)              (B, S)     scores
    w = weights(s)                       (B, S)     soft, sampled or Gumbel-ST
    glimpse = sum_i w_i item_i           (B, C+K)   values are the items themselves
    logits = glimpse W_o + b_o           (B, K)

Three ways to train the attention parameters ``W_q, W_k``:

* ``soft``: ``w = softmax(s)``, plain backpropagation (exact gradient of the loss).
* ``reinforce``: draw ``i ~ softmax(s)``, look only at item ``i``; the attention
  gets the score-function estimate ``(loss - b) ∇ log p(i)`` with a running-mean
  baseline ``b``. Unbiased for the expected loss, but noisy.
* ``gumbel_st``: ``w`` is one-hot on ``argmax(s + g)`` in the forward pass (a
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
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace

import numpy as np
import torch
import torch.nn.functional as F
from numpy.typing import ArrayLike

from lab.soft_hard import Scene

METHODS: tuple[str, ...] = ("soft", "reinforce", "gumbel_st")
METHOD_LABELS: dict[str, str] = {
    "soft": "soft + backprop",
    "reinforce": "hard + REINFORCE",
    "gumbel_st": "hard + Gumbel straight-through",
}
Progress = Callable[[float, str], None]


@contextmanager
def single_thread() -> Iterator[None]:
    """Run torch on one thread for the duration, then restore the previous setting.

    The tensors here are tiny, so extra threads only add synchronisation; on a
    busy two-core machine they made training ten times slower.
    """
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


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
    if not (isinstance(tau, int | float) and math.isfinite(tau) and tau > 0):
        raise ValueError(f"tau must be a positive finite number, got {tau!r}")
    if noise.shape != logits.shape:
        raise ValueError(f"noise has shape {tuple(noise.shape)} but logits {tuple(logits.shape)}")
    y_soft = torch.softmax((logits + noise) / tau, dim=-1)
    if not hard:
        return y_soft
    index = y_soft.argmax(dim=-1, keepdim=True)
    y_hard = torch.zeros_like(y_soft).scatter_(-1, index, 1.0)
    return y_hard - y_soft.detach() + y_soft


def torch_gumbel_noise(shape: tuple[int, ...], generator: torch.Generator) -> torch.Tensor:
    """Standard Gumbel noise ``-log(E)``, ``E ~ Exponential(1)``, as torch draws it."""
    return -torch.empty(shape, dtype=torch.float32).exponential_(generator=generator).log()


# ---------------------------------------------------------------------------
# The sweep of the page: loss and its autograd gradient against the query angle
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SweepGradients:
    """Losses and ``dL/dθ`` from torch autograd, ``θ`` in radians, one entry per angle.

    Attributes:
        soft_loss, soft_grad: ``(A,)`` for ``o = softmax(s / T) V``.
        hard_loss, hard_grad: ``(A,)`` for ``o = onehot(argmax s) V``; autograd
            finds no path from the loss back to θ, so the gradient is 0.
        expected_loss, expected_grad: ``(A,)`` for the average loss of sampled
            hard attention, the quantity REINFORCE estimates the gradient of.
    """

    soft_loss: np.ndarray
    soft_grad: np.ndarray
    hard_loss: np.ndarray
    hard_grad: np.ndarray
    expected_loss: np.ndarray
    expected_grad: np.ndarray


def sweep_gradients(
    scene: Scene, target: int, angles_degrees: ArrayLike, length: float, temperature: float
) -> SweepGradients:
    """Loss ``||o(θ) - v_target||²`` and its gradient by autograd, for every angle.

    All angles go through torch at once as a batch of leaves, in float64.
    """
    if not 0 <= int(target) < scene.size:
        raise ValueError(f"target must be an item index in [0, {scene.size - 1}], got {target}")
    if not (math.isfinite(temperature) and temperature > 0):
        raise ValueError(f"temperature must be a positive finite number, got {temperature!r}")
    if not (math.isfinite(length) and length >= 0):
        raise ValueError(f"length must be a finite number >= 0, got {length!r}")
    degrees = torch.as_tensor(np.asarray(angles_degrees, dtype=np.float64))
    keys = torch.as_tensor(scene.keys)  # (S, 2)
    values = torch.as_tensor(scene.value_points)  # (S, 2)
    goal = values[int(target)]  # (2,)

    def losses(theta: torch.Tensor, mode: str) -> torch.Tensor:
        query = length * torch.stack([torch.cos(theta), torch.sin(theta)], dim=-1)  # (A, 2)
        scores = query @ keys.T / math.sqrt(2)  # (A, S)
        if mode == "soft":
            output = torch.softmax(scores / temperature, dim=-1) @ values  # (A, 2)
            return ((output - goal) ** 2).sum(-1)
        if mode == "hard":
            # argmax has no gradient: the one-hot is built from integers.
            picked = F.one_hot(scores.argmax(-1), keys.shape[0]).to(values.dtype)
            return ((picked @ values - goal) ** 2).sum(-1)
        distances = ((values - goal) ** 2).sum(-1)  # (S,)
        return torch.softmax(scores / temperature, dim=-1) @ distances

    result = {}
    with single_thread():
        for mode in ("soft", "hard", "expected"):
            theta = torch.deg2rad(degrees).requires_grad_(True)
            loss = losses(theta, mode)
            if loss.requires_grad:
                # Each loss depends only on its own angle, so the gradient of the sum
                # is the vector of per-angle derivatives.
                (grad,) = torch.autograd.grad(loss.sum(), theta)
            else:
                # The hard loss: argmax returns integers, so the graph from θ ends
                # there and autograd sees a constant. Its derivative is zero.
                grad = torch.zeros_like(theta)
            result[mode] = (loss.detach().numpy(), grad.detach().numpy())
    return SweepGradients(
        soft_loss=result["soft"][0],
        soft_grad=result["soft"][1],
        hard_loss=result["hard"][0],
        hard_grad=result["hard"][1],
        expected_loss=result["expected"][0],
        expected_grad=result["expected"][1],
    )


# ---------------------------------------------------------------------------
# The toy task
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TaskConfig:
    """The "find the item that matches the cue" task."""

    n_items: int = 10  # S: items per example, one match and S - 1 distractors
    n_colors: int = 16  # C: colours in the vocabulary (items in an example differ)
    n_labels: int = 4  # K: answer classes; chance accuracy is 1 / K

    def __post_init__(self) -> None:
        for name in ("n_items", "n_colors", "n_labels"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 2:
                raise ValueError(f"{name} must be an integer >= 2, got {value!r}")
        if self.n_items > self.n_colors:
            raise ValueError(
                f"n_items ({self.n_items}) cannot exceed n_colors ({self.n_colors}): "
                "the items of an example have different colours"
            )


@dataclass(frozen=True)
class TrainConfig:
    """How the three methods are trained and measured (the same for all three)."""

    task: TaskConfig = field(default_factory=TaskConfig)  # the toy task
    steps: int = 600  # optimiser steps per method; soft is done by ~200
    batch_size: int = 32  # examples per step
    learning_rate: float = 0.01  # Adam, for every parameter
    attention_size: int = 8  # d: query/key size
    tau: float = 1.0  # Gumbel-softmax temperature of the straight-through backward pass
    baseline_decay: float = 0.9  # REINFORCE running-mean baseline: b <- decay b + (1 - decay) loss
    eval_every: int = 20  # steps between points of the learning curves
    eval_size: int = 512  # held-out examples for the curves (fixed per seed)
    variance_batches: int = 64  # R: gradient estimates per variance measurement
    seed: int = 0  # one seed for data, initial weights and noise

    def __post_init__(self) -> None:
        positive_ints = ("steps", "batch_size", "attention_size", "eval_every", "eval_size")
        for name in positive_ints:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if self.variance_batches < 2:
            raise ValueError("variance_batches must be at least 2 to measure a variance")
        for name in ("learning_rate", "tau"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a positive finite number, got {value!r}")
        if not 0 <= self.baseline_decay < 1:
            raise ValueError(f"baseline_decay must lie in [0, 1), got {self.baseline_decay}")


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


def make_batch(task: TaskConfig, size: int, generator: torch.Generator) -> Batch:
    """Draw ``size`` examples of the task."""
    S, C, K = task.n_items, task.n_colors, task.n_labels
    colors = torch.argsort(torch.rand(size, C, generator=generator), dim=1)[:, :S]  # (B, S)
    labels = torch.randint(0, K, (size, S), generator=generator)  # (B, S)
    target = torch.randint(0, S, (size,), generator=generator)  # (B,)
    rows = torch.arange(size)
    items = torch.cat([F.one_hot(colors, C), F.one_hot(labels, K)], dim=-1).float()  # (B, S, C+K)
    cue = F.one_hot(colors[rows, target], C).float()  # (B, C)
    return Batch(cue, items, target, labels[rows, target])


COLOR_NAMES = (
    "red", "orange", "yellow", "lime", "green", "teal", "cyan", "sky",
    "blue", "navy", "violet", "purple", "pink", "brown", "grey", "black",
)  # fmt: skip
LABEL_NAMES = ("♠", "♥", "♦", "♣", "★", "●", "▲", "■")  # fmt: skip


def color_name(color: int) -> str:
    """A readable name for colour ``color`` (``c<n>`` beyond the named ones)."""
    return COLOR_NAMES[color] if 0 <= color < len(COLOR_NAMES) else f"c{color}"


def label_name(label: int) -> str:
    """A readable name for label ``label`` (``l<n>`` beyond the named ones)."""
    return LABEL_NAMES[label] if 0 <= label < len(LABEL_NAMES) else f"l{label}"


Example = dict[str, int | list[int]]  # colours, labels, cue, target, answer


def describe_example(batch: Batch, index: int, task: TaskConfig) -> Example:
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

    def __init__(self, task: TaskConfig, attention_size: int, generator: torch.Generator):
        super().__init__()
        features = task.n_colors + task.n_labels
        self.attention_size = attention_size

        def init(rows: int, cols: int) -> torch.nn.Parameter:
            return torch.nn.Parameter(torch.randn(rows, cols, generator=generator) / rows**0.5)

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
    method: str,
    generator: torch.Generator,
    baseline: float,
    tau: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-example losses whose gradient is each method's gradient estimate.

    Returns:
        ``(surrogate, loss)``, both ``(B,)``: the mean of ``surrogate`` is what
        a step differentiates; ``loss`` is the answer's cross-entropy, detached.
    """
    scores = model.scores(batch)  # (B, S)
    if method == "soft":
        logits = model.read(torch.softmax(scores, dim=-1), batch)
        per_example = F.cross_entropy(logits, batch.answer, reduction="none")
        return per_example, per_example.detach()
    if method == "reinforce":
        log_p = torch.log_softmax(scores, dim=-1)  # (B, S)
        picked = torch.multinomial(log_p.detach().exp(), 1, generator=generator)  # (B, 1)
        weights = torch.zeros_like(scores).scatter_(-1, picked, 1.0)  # one-hot, no gradient
        per_example = F.cross_entropy(model.read(weights, batch), batch.answer, reduction="none")
        advantage = per_example.detach() - baseline  # (B,)
        # The read-out learns by backprop through the glimpse it got; the attention
        # parameters only through log p(i): the score-function (REINFORCE) estimate.
        score_term = advantage * log_p.gather(-1, picked).squeeze(-1)
        return per_example + score_term, per_example.detach()
    if method == "gumbel_st":
        noise = torch_gumbel_noise(tuple(scores.shape), generator)
        weights = gumbel_softmax_st(scores, tau, noise, hard=True)
        per_example = F.cross_entropy(model.read(weights, batch), batch.answer, reduction="none")
        return per_example, per_example.detach()
    raise ValueError(f"method must be one of {METHODS}, got {method!r}")


@dataclass(frozen=True)
class Evaluation:
    """A model on the held-out examples, attending the way it will be used."""

    loss: float  # mean cross-entropy
    accuracy: float  # answer correct
    looked_right: float  # the largest weight is on the matching item


def evaluate(model: CueReader, batch: Batch, method: str) -> Evaluation:
    """Soft models are used with soft weights; hard ones with argmax (no sampling)."""
    with torch.no_grad():
        scores = model.scores(batch)
        if method == "soft":
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
    config: TrainConfig,
    method: str,
    generator: torch.Generator,
    baseline: float,
) -> GradientStats:
    """Measure a method's gradient noise at the model's current parameters.

    Draws ``R = config.variance_batches`` fresh batches (and fresh sampling or
    Gumbel noise), computes the attention-parameter gradient each time and
    returns the mean's squared norm and the total variance. Soft attention's
    spread comes only from which examples are in the batch; the hard methods
    add the noise of their own random choices. The model is left unchanged.
    """
    estimates = []
    parameters = model.attention_parameters()
    with single_thread():
        for _ in range(config.variance_batches):
            batch = make_batch(config.task, config.batch_size, generator)
            surrogate, _ = surrogate_terms(model, batch, method, generator, baseline, config.tau)
            grads = torch.autograd.grad(surrogate.mean(), parameters)
            estimates.append(torch.cat([grad.reshape(-1) for grad in grads]))
    stacked = torch.stack(estimates).double()  # (R, P)
    mean_norm_sq = float((stacked.mean(0) ** 2).sum())
    total_variance = float(stacked.var(0, unbiased=True).sum())
    ratio = total_variance / mean_norm_sq if mean_norm_sq > 0 else math.inf
    return GradientStats(mean_norm_sq, total_variance, ratio)


@dataclass(frozen=True)
class Curves:
    """Learning curves of one method.

    Attributes:
        method: one of :data:`METHODS`.
        steps: optimiser steps at which the curves are measured (0 first).
        loss, accuracy, looked_right: held-out :class:`Evaluation` per step.
        train_loss: mean training loss over the steps since the previous point.
        total_variance, noise_to_signal: :class:`GradientStats` per step, at
            the parameters the method had reached.
        seconds: wall time of the training (not of the measurements).
    """

    method: str
    steps: list[int]
    loss: list[float]
    accuracy: list[float]
    looked_right: list[float]
    train_loss: list[float]
    total_variance: list[float]
    noise_to_signal: list[float]
    seconds: float

    def steps_to(self, accuracy: float) -> int | None:
        """First measured step at which held-out accuracy reached ``accuracy``."""
        for step, value in zip(self.steps, self.accuracy, strict=True):
            if value >= accuracy:
                return step
        return None


def _variance_points(config: TrainConfig) -> set[int]:
    """Steps at which the gradient noise is measured: about 6, always 0 and the end."""
    evals = list(range(0, config.steps + 1, config.eval_every))
    if evals[-1] != config.steps:
        evals.append(config.steps)
    stride = max(1, len(evals) // 6)
    return set(evals[::stride]) | {0, config.steps}


def train(
    method: str,
    config: TrainConfig = TrainConfig(),
    progress: Progress | None = None,
) -> tuple[Curves, CueReader]:
    """Train one method on the toy task from the seed's initial weights.

    All three methods start from the same weights and see the same batches
    (their own sampling noise aside), so the curves compare the estimators.

    Args:
        method: ``"soft"``, ``"reinforce"`` or ``"gumbel_st"``.
        config: the shared settings.
        progress: called with the fraction done and a message.

    Returns:
        ``(curves, trained_model)``.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    with single_thread():
        return _train(method, config, progress)


def _train(method: str, config: TrainConfig, progress: Progress | None) -> tuple[Curves, CueReader]:
    seed = int(config.seed)
    model = CueReader(config.task, config.attention_size, torch.Generator().manual_seed(seed))
    optimizer = torch.optim.Adam(model.parameters(), lr=config.learning_rate)
    data = torch.Generator().manual_seed(seed + 1)  # training batches
    noise = torch.Generator().manual_seed(seed + 2)  # sampling / Gumbel noise
    held_out = make_batch(config.task, config.eval_size, torch.Generator().manual_seed(seed + 3))
    measure = torch.Generator().manual_seed(seed + 4)  # the variance measurements
    variance_at = _variance_points(config)

    series = ("steps", "loss", "accuracy", "looked_right", "train_loss")
    record: dict[str, list] = {name: [] for name in (*series, "total_variance", "noise_to_signal")}
    # REINFORCE's baseline starts at log K, the loss of a uniform guess over the labels.
    baseline = math.log(config.task.n_labels)
    recent: list[float] = []
    seconds = 0.0
    for step in range(config.steps + 1):
        if step % config.eval_every == 0 or step == config.steps:
            result = evaluate(model, held_out, method)
            record["steps"].append(step)
            record["loss"].append(result.loss)
            record["accuracy"].append(result.accuracy)
            record["looked_right"].append(result.looked_right)
            record["train_loss"].append(float(np.mean(recent)) if recent else result.loss)
            recent = []
            if step in variance_at:
                stats = gradient_stats(model, config, method, measure, baseline)
                record["total_variance"].append(stats.total_variance)
                record["noise_to_signal"].append(stats.noise_to_signal)
            else:
                record["total_variance"].append(math.nan)
                record["noise_to_signal"].append(math.nan)
            if progress is not None:
                progress(step / config.steps, f"{METHOD_LABELS[method]}: step {step}")
        if step == config.steps:
            break
        started = time.perf_counter()
        batch = make_batch(config.task, config.batch_size, data)
        surrogate, per_example = surrogate_terms(model, batch, method, noise, baseline, config.tau)
        optimizer.zero_grad()
        surrogate.mean().backward()
        optimizer.step()
        batch_loss = float(per_example.mean())
        decay = config.baseline_decay
        baseline = decay * baseline + (1 - decay) * batch_loss
        recent.append(batch_loss)
        seconds += time.perf_counter() - started
    curves = Curves(
        method=method,
        steps=record["steps"],
        loss=record["loss"],
        accuracy=record["accuracy"],
        looked_right=record["looked_right"],
        train_loss=record["train_loss"],
        total_variance=record["total_variance"],
        noise_to_signal=record["noise_to_signal"],
        seconds=seconds,
    )
    return curves, model


@dataclass(frozen=True)
class Comparison:
    """The three methods trained with one config, and where each looks on a few examples.

    Attributes:
        config: the settings used.
        curves: one :class:`Curves` per method, in :data:`METHODS` order.
        examples: a few held-out examples (:func:`describe_example`).
        example_weights: per method, ``(n_examples, S)`` attention weights on
            them after training (softmax of the scores for every method: for
            the hard ones, the distribution they sample from).
    """

    config: TrainConfig
    curves: dict[str, Curves]
    examples: list[Example]
    example_weights: dict[str, list[list[float]]]


N_EXAMPLES = 3  # held-out examples shown with each model's weights


def compare_methods(
    config: TrainConfig = TrainConfig(), progress: Progress | None = None
) -> Comparison:
    """Train all three methods with one config (what the page and the script show)."""
    curves: dict[str, Curves] = {}
    weights: dict[str, list[list[float]]] = {}
    shown = make_batch(config.task, N_EXAMPLES, torch.Generator().manual_seed(config.seed + 5))
    for position, method in enumerate(METHODS):

        def report(fraction: float, message: str, position: int = position) -> None:
            if progress is not None:
                progress((position + fraction) / len(METHODS), message)

        curves[method], model = train(method, config, report)
        with torch.no_grad():
            weights[method] = torch.softmax(model.scores(shown), dim=-1).tolist()
    examples = [describe_example(shown, index, config.task) for index in range(N_EXAMPLES)]
    return Comparison(config, curves, examples, weights)


# ---------------------------------------------------------------------------
# Saving and loading (the shipped curves file)
# ---------------------------------------------------------------------------


def _clean(value: float) -> float | None:
    return None if not math.isfinite(value) else value


def comparison_to_dict(comparison: Comparison) -> dict:
    """A JSON-ready dict (NaN becomes ``None``; timings are kept but not compared)."""
    curves = {}
    for method, curve in comparison.curves.items():
        entry = asdict(curve)
        for name in ("total_variance", "noise_to_signal"):
            entry[name] = [_clean(value) for value in entry[name]]
        curves[method] = entry
    return {
        "config": asdict(comparison.config),
        "curves": curves,
        "examples": comparison.examples,
        "example_weights": comparison.example_weights,
    }


def comparison_from_dict(data: dict) -> Comparison:
    """Inverse of :func:`comparison_to_dict`."""
    settings = dict(data["config"])
    task = TaskConfig(**settings.pop("task"))
    config = TrainConfig(task=task, **settings)
    curves = {}
    for method, entry in data["curves"].items():
        entry = dict(entry)
        for name in ("total_variance", "noise_to_signal"):
            entry[name] = [math.nan if value is None else value for value in entry[name]]
        curves[method] = Curves(**entry)
    return Comparison(config, curves, data["examples"], data["example_weights"])


def with_settings(config: TrainConfig, *, seed: int, n_items: int, steps: int) -> TrainConfig:
    """The default config with the three settings the page lets a learner change."""
    return replace(config, seed=seed, steps=steps, task=replace(config.task, n_items=n_items))
