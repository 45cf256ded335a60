"""A tiny transformer trained on the toy language, and what its heads learned (numpy).

The model reads a whole sentence of the toy language
(:mod:`lab.multi_head.toy_language`) and has three jobs at every word, each
with its own linear read-out (:class:`Job`):

* ``previous``: name the word just before it;
* ``next``: name the word just after it;
* ``referent``: at a pronoun, name the noun it refers to (``she`` -> ``girl``).

The jobs say *what* to find, never *how*: which head ends up looking where is
left to training, and :mod:`lab.multi_head.head_patterns` measures what each
head learned. With the default seed three heads of the first layer specialise
clearly (on the previous token, the next token, and from a pronoun to its
noun); another seed can share the jobs between heads instead (seed 4 does every
job with no head above the 0.6 mark), which is itself worth seeing.

Two layers of four-head self-attention (pre-LayerNorm, bias-free attention
projections, a small ReLU feed-forward block, learned positions) are trained
with torch (:mod:`lab.multi_head.train`, the only module here that imports
it); this module runs the same forward pass in numpy (:func:`forward`, built
on :func:`lab.multi_head.multi_head_steps`), so showing the shipped checkpoint
never imports torch.

The checkpoint is two files in ``lab/checkpoints/``: the weights
(``multi_head.npz``, float32) and a JSON record of the configuration, the
training metrics and each head's pattern scores on held-out sentences
(``multi_head.json``). :func:`save_checkpoint` and :func:`load_checkpoint` are
the one pair that writes and reads them; ``scripts/train_tiny_transformer.py``
rebuilds both from a seed.

Shapes:
    B   batch of sentences (any number of leading dimensions in :func:`forward`)
    L   tokens (at most ``max_len``)
    V   vocabulary size
    d   model size
    H   heads per layer
    E   d / H, query/key/value size per head
    N   layers
    J   jobs (3)
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike, NDArray

from lab.attention import FloatArray, softmax
from lab.checks import as_real, check_int, check_parameter_shapes
from lab.enums import LabelledStrEnum, parse_member
from lab.multi_head.compute import MultiHeadSteps, multi_head_steps
from lab.multi_head.head_patterns import PATTERNS, PatternScores, pattern_scores
from lab.multi_head.toy_language import (
    MAX_TOKENS,
    PAD,
    TOKEN_IDS,
    TOKENS,
    antecedents,
    encode,
    generate_sentences,
)

CHECKPOINT_DIR = Path(__file__).resolve().parents[1] / "checkpoints"
CHECKPOINT = CHECKPOINT_DIR / "multi_head.npz"  # and multi_head.json beside it
IGNORE = -100  # target of a position that has no answer to learn (torch's ignore_index)
LAYER_NORM_EPS = 1e-5  # torch's default

Weights = dict[str, FloatArray]
ProgressCallback = Callable[[int, int, float], None]  # (step, total steps, loss)


class Job(LabelledStrEnum):
    """What the model names at every word; each job has its own read-out."""

    PREVIOUS = "previous", "the word before it"
    NEXT = "next", "the word after it"
    REFERENT = "referent", "the noun it refers to"


JOBS: tuple[Job, ...] = tuple(Job)  # the read-outs' order in the weights and the logits


@dataclass(frozen=True)
class TinyConfig:
    """The shape of the model."""

    vocab_size: int = len(TOKENS)  # V: the toy vocabulary, special tokens included
    max_len: int = MAX_TOKENS  # longest sentence; one learned position vector each
    d_model: int = 32  # d: small enough to train in seconds, big enough for 4 heads
    num_heads: int = 4  # H per layer: head size E = d / H = 8
    num_layers: int = 2  # N: the page lets the learner pick a layer
    d_ff: int = 64  # hidden size of the feed-forward block

    def __post_init__(self) -> None:
        for name in ("vocab_size", "max_len", "d_model", "num_heads", "num_layers", "d_ff"):
            check_int(name, getattr(self, name), minimum=1)
        if self.d_model % self.num_heads:
            raise ValueError(
                f"d_model ({self.d_model}) must be a multiple of num_heads ({self.num_heads})"
            )

    @property
    def head_size(self) -> int:
        return self.d_model // self.num_heads


@dataclass(frozen=True)
class TinyTrainConfig:
    """How the tiny transformer is trained and measured."""

    seed: int = 3  # seeds the initial weights and the batches (3: three layer-1 heads specialise)
    steps: int = 1500  # Adam steps; 10-30 s on two CPU cores
    batch_size: int = 64  # sentences per step
    learning_rate: float = 1e-2  # Adam's step, decayed linearly to 10 %; 3e-3 spreads the heads
    train_sentences: int = 4000  # the training pool (the grammar allows many more)
    eval_sentences: int = 300  # held-out sentences, none of them in the training pool
    eval_seed: int = 10_000  # the held-out sentences come from their own stream

    def __post_init__(self) -> None:
        check_int("seed", self.seed, minimum=0)
        for name in ("steps", "batch_size", "train_sentences", "eval_sentences"):
            check_int(name, getattr(self, name), minimum=1)
        if not 0 < self.learning_rate < 1:
            raise ValueError(f"learning_rate must lie in (0, 1), got {self.learning_rate}")


@dataclass(frozen=True)
class TrainedModel:
    """Weights plus what is known about them.

    Attributes:
        config, train_config: how it was built.
        weights: parameter name -> array (see :func:`parameter_shapes`).
        scores: ``(N, H, P)`` pattern scores of every head on the held-out
            sentences, patterns in :data:`lab.multi_head.PATTERNS` order.
        metrics: final training loss, held-out accuracies, training time.
        loss_history: the training loss every few steps.
    """

    config: TinyConfig
    train_config: TinyTrainConfig
    weights: Weights
    scores: FloatArray
    metrics: dict[str, float]
    loss_history: tuple[float, ...] = field(default=())

    def layer_scores(self, layer: int) -> PatternScores:
        """The pattern scores of one layer's heads (rows are not recorded: zeros)."""
        return PatternScores(self.scores[layer], np.zeros(len(PATTERNS), dtype=np.int64))


def parameter_shapes(config: TinyConfig) -> dict[str, tuple[int, ...]]:
    """Name -> shape of every parameter. Projections act as ``x @ W`` (rows = inputs)."""
    d, V = config.d_model, config.vocab_size
    shapes: dict[str, tuple[int, ...]] = {
        "token_embedding": (V, d),
        "position_embedding": (config.max_len, d),
    }
    for layer in range(config.num_layers):
        prefix = f"layers.{layer}."
        shapes |= {
            prefix + "ln1.weight": (d,),
            prefix + "ln1.bias": (d,),
            prefix + "w_q": (d, d),
            prefix + "w_k": (d, d),
            prefix + "w_v": (d, d),
            prefix + "w_o": (d, d),
            prefix + "ln2.weight": (d,),
            prefix + "ln2.bias": (d,),
            prefix + "ff.w1": (d, config.d_ff),
            prefix + "ff.b1": (config.d_ff,),
            prefix + "ff.w2": (config.d_ff, d),
            prefix + "ff.b2": (d,),
        }
    shapes |= {
        "final_ln.weight": (d,),
        "final_ln.bias": (d,),
        "readout.w": (len(JOBS), d, V),  # one linear read-out per job
        "readout.b": (len(JOBS), V),
    }
    return shapes


def check_weights(weights: Weights, config: TinyConfig) -> None:
    """Raise ``ValueError`` unless ``weights`` has exactly the parameters ``config`` needs."""
    check_parameter_shapes(weights, parameter_shapes(config))


# ----------------------------------------------------------------------------
# The forward pass in numpy
# ----------------------------------------------------------------------------


def layer_norm(x: ArrayLike, weight: ArrayLike, bias: ArrayLike) -> FloatArray:
    """``(x - mean) / sqrt(var + eps) * weight + bias`` over the last axis (torch's LayerNorm)."""
    array = np.asarray(x, dtype=float)
    mean = array.mean(axis=-1, keepdims=True)
    variance = array.var(axis=-1, keepdims=True)
    return (array - mean) / np.sqrt(variance + LAYER_NORM_EPS) * weight + bias


@dataclass(frozen=True)
class LayerTrace:
    """One layer of one forward pass.

    Attributes:
        residual_in: ``(..., L, d)`` the stream entering the layer.
        normed: ``(..., L, d)`` its LayerNorm, the ``X`` the heads read.
        attention: the multi-head attention stages on ``normed``.
        residual_out: ``(..., L, d)`` after attention and feed-forward are added.
    """

    residual_in: FloatArray
    normed: FloatArray
    attention: MultiHeadSteps
    residual_out: FloatArray


@dataclass(frozen=True)
class TinyForward:
    """A forward pass: every layer's trace and the output distribution.

    Attributes:
        layers: one :class:`LayerTrace` per layer.
        logits: ``(..., J, L, V)``, one distribution per job and position.
        probabilities: ``(..., J, L, V)`` softmax of the logits over the vocabulary.
    """

    layers: tuple[LayerTrace, ...]
    logits: FloatArray
    probabilities: FloatArray


def _check_ids(ids: ArrayLike, config: TinyConfig) -> NDArray[np.int64]:
    array = np.asarray(ids)
    if not np.issubdtype(array.dtype, np.integer):
        raise ValueError(f"token ids must be integers, got dtype {array.dtype}")
    if array.ndim < 1 or array.shape[-1] == 0:
        raise ValueError("forward needs at least one token")
    if array.shape[-1] > config.max_len:
        raise ValueError(
            f"the model knows {config.max_len} positions, got {array.shape[-1]} tokens"
        )
    if array.min() < 0 or array.max() >= config.vocab_size:
        raise ValueError(f"token ids must lie in [0, {config.vocab_size - 1}]")
    return array.astype(np.int64)


def forward(
    weights: Weights,
    ids: ArrayLike,
    config: TinyConfig = TinyConfig(),
    *,
    head_gates: ArrayLike | None = None,
) -> TinyForward:
    """Run the model in numpy (float64) on token ids.

    ``x_0 = E[ids] + P[:L]``; per layer ``h = LN(x)``,
    ``x = x + MultiHead(h)``, ``x = x + W_2 relu(W_1 LN(x) + b_1) + b_2``;
    ``logits_j = LN(x) W_j + b_j`` for each job ``j``.

    Args:
        weights: as made by :func:`train` or :func:`load_checkpoint`.
        ids: ``(..., L)`` token ids (every sentence of a batch the same length).
        head_gates: ``(N, H)``; multiply each head's output (0 switches it off).

    Returns:
        :class:`TinyForward`.
    """
    tokens = _check_ids(ids, config)
    gates = np.ones((config.num_layers, config.num_heads))
    if head_gates is not None:
        gates = as_real("head_gates", head_gates, finite=True, dtype=np.float64)
        if gates.shape != (config.num_layers, config.num_heads):
            raise ValueError(
                f"head_gates must have shape ({config.num_layers}, {config.num_heads}), "
                f"got {gates.shape}"
            )
    w = {name: np.asarray(value, dtype=float) for name, value in weights.items()}
    length = tokens.shape[-1]
    stream = w["token_embedding"][tokens] + w["position_embedding"][:length]  # (..., L, d)
    traces = []
    for layer in range(config.num_layers):
        p = f"layers.{layer}."
        normed = layer_norm(stream, w[p + "ln1.weight"], w[p + "ln1.bias"])  # (..., L, d)
        attention = multi_head_steps(
            normed,
            w[p + "w_q"],
            w[p + "w_k"],
            w[p + "w_v"],
            w[p + "w_o"],
            config.num_heads,
            head_gates=gates[layer],
        )
        middle = stream + attention.output
        hidden = np.maximum(
            layer_norm(middle, w[p + "ln2.weight"], w[p + "ln2.bias"]) @ w[p + "ff.w1"]
            + w[p + "ff.b1"],
            0.0,
        )  # (..., L, d_ff)
        out = middle + hidden @ w[p + "ff.w2"] + w[p + "ff.b2"]  # (..., L, d)
        traces.append(LayerTrace(stream, normed, attention, out))
        stream = out
    final = layer_norm(stream, w["final_ln.weight"], w["final_ln.bias"])
    # (..., 1, L, d) @ (J, d, V) -> (..., J, L, V): one distribution per job and position
    logits = final[..., None, :, :] @ w["readout.w"] + w["readout.b"][:, None, :]
    probabilities = softmax(logits, axis=-1)  # (..., J, L, V)
    return TinyForward(tuple(traces), logits, probabilities)


def head_weights_by_layer(
    weights: Weights, sentences: Sequence[Sequence[str]], config: TinyConfig = TinyConfig()
) -> list[list[FloatArray]]:
    """``[layer][sentence]`` -> ``(H, L, L)`` attention weights, sentences batched by length."""
    result: list[list[FloatArray | None]] = [
        [None] * len(sentences) for _ in range(config.num_layers)
    ]
    by_length: dict[int, list[int]] = {}
    for index, sentence in enumerate(sentences):
        by_length.setdefault(len(sentence), []).append(index)
    for indices in by_length.values():
        ids = np.stack([encode(sentences[index]) for index in indices])  # (B, L)
        run = forward(weights, ids, config)
        for layer, trace in enumerate(run.layers):
            for row, index in enumerate(indices):
                result[layer][index] = trace.attention.head_weights[row]  # (H, L, L)
    return result  # type: ignore[return-value]


def measure_patterns(
    weights: Weights, sentences: Sequence[Sequence[str]], config: TinyConfig = TinyConfig()
) -> FloatArray:
    """``(N, H, P)`` pattern scores of every head, pooled over ``sentences``."""
    per_layer = head_weights_by_layer(weights, sentences, config)
    return np.stack([pattern_scores(layer, sentences).scores for layer in per_layer])


def held_out_sentences(
    train_config: TinyTrainConfig = TinyTrainConfig(),
) -> list[tuple[str, ...]]:
    """The sentences the scores are measured on: none is in the training pool."""
    pool = set(generate_sentences(train_config.train_sentences, train_config.seed))
    return generate_sentences(train_config.eval_sentences, train_config.eval_seed, exclude=pool)


# ----------------------------------------------------------------------------
# The task
# ----------------------------------------------------------------------------


def make_batch(
    sentences: Sequence[Sequence[str]], max_len: int = MAX_TOKENS
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.bool_]]:
    """Inputs and the three jobs' targets for a batch of sentences, padded to ``max_len``.

    At position ``i`` the targets are the word at ``i - 1`` (job ``previous``),
    the word at ``i + 1`` (job ``next``) and, if the word at ``i`` is a pronoun
    with exactly one antecedent, that noun (job ``referent``). Where a job has
    no answer (no word before the first, no referent for a non-pronoun, any
    padding) the target is ``IGNORE``.

    Returns:
        ``inputs (B, max_len)``, ``targets (B, J, max_len)`` with ``J = len(JOBS)``,
        ``valid (B, max_len)`` (``False`` at padding).
    """
    batch = len(sentences)
    inputs = np.full((batch, max_len), TOKEN_IDS[PAD], dtype=np.int64)
    targets = np.full((batch, len(JOBS), max_len), IGNORE, dtype=np.int64)
    valid = np.zeros((batch, max_len), dtype=bool)
    for row, sentence in enumerate(sentences):
        ids = encode(sentence)
        length = len(ids)
        if length > max_len:
            raise ValueError(f"a sentence has {length} tokens, more than max_len={max_len}")
        inputs[row, :length] = ids
        valid[row, :length] = True
        targets[row, 0, 1:length] = ids[:-1]  # previous word
        targets[row, 1, : length - 1] = ids[1:]  # next word
        for pronoun, candidates in antecedents(sentence).items():
            if len(candidates) == 1:
                targets[row, 2, pronoun] = ids[candidates[0]]  # referent
    return inputs, targets, valid


def evaluate(
    weights: Weights,
    sentences: Sequence[Sequence[str]],
    config: TinyConfig = TinyConfig(),
    *,
    head_gates: ArrayLike | None = None,
) -> dict[str, float]:
    """Accuracy of each job: the share of positions with an answer where the top
    prediction is right. Keys ``"<job>_accuracy"``.

    ``head_gates`` ``(N, H)`` switches heads off (0) as in :func:`forward`, to
    measure what the model loses without them.
    """
    correct = np.zeros(len(JOBS))
    total = np.zeros(len(JOBS))
    by_length: dict[int, list[Sequence[str]]] = {}
    for sentence in sentences:
        by_length.setdefault(len(sentence), []).append(sentence)
    for group in by_length.values():
        inputs, targets, _ = make_batch(group, max_len=len(group[0]))
        run = forward(weights, inputs, config, head_gates=head_gates)
        guesses = run.probabilities.argmax(axis=-1)  # (B, J, L)
        answered = targets != IGNORE
        correct += np.sum((guesses == targets) & answered, axis=(0, 2))
        total += np.sum(answered, axis=(0, 2))
    return {
        f"{job}_accuracy": float(correct[index] / max(total[index], 1))
        for index, job in enumerate(JOBS)
    }


# ----------------------------------------------------------------------------
# Training (the numpy half: torch is in lab.multi_head.train)
# ----------------------------------------------------------------------------


def init_weights(config: TinyConfig, seed: int) -> Weights:
    """Initial weights: N(0, 1/fan_in) projections, N(0, 1) embeddings, unit LayerNorms."""
    rng = np.random.default_rng([seed, 7])
    weights: Weights = {}
    for name, shape in parameter_shapes(config).items():
        if name.endswith(("ln1.weight", "ln2.weight", "final_ln.weight")):
            weights[name] = np.ones(shape)
        elif len(shape) == 1:
            weights[name] = np.zeros(shape)
        elif "embedding" in name:
            weights[name] = rng.standard_normal(shape)
        else:
            fan_in = shape[-2]  # rows of x @ W (the read-outs stack one W per job)
            weights[name] = rng.standard_normal(shape) / math.sqrt(fan_in)
    return weights


def finish(
    config: TinyConfig,
    train_config: TinyTrainConfig,
    weights: Weights,
    final_loss: float,
    history: tuple[float, ...],
    seconds: float,
) -> TrainedModel:
    """Measure trained weights on the held-out sentences and wrap them up."""
    held_out = held_out_sentences(train_config)
    scores = measure_patterns(weights, held_out, config)
    metrics = {
        "final_loss": final_loss,
        **evaluate(weights, held_out, config),
        "train_seconds": seconds,
    }
    return TrainedModel(config, train_config, weights, scores, metrics, history)


# ----------------------------------------------------------------------------
# The checkpoint
# ----------------------------------------------------------------------------


def save_checkpoint(model: TrainedModel, path: Path = CHECKPOINT) -> tuple[Path, Path]:
    """Write ``<path>.npz`` (float32 weights) and ``<path>.json`` (everything else)."""
    weights_path, record_path = Path(path).with_suffix(".npz"), Path(path).with_suffix(".json")
    weights_path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        weights_path,
        **{name: np.asarray(value, np.float32) for name, value in model.weights.items()},
    )
    record = {
        "about": "Tiny transformer on the toy language; rebuild with "
        "`python scripts/train_tiny_transformer.py`.",
        "config": asdict(model.config),
        "train_config": asdict(model.train_config),
        "vocabulary": list(TOKENS),
        "patterns": list(PATTERNS),
        "pattern_scores": [
            [[_rounded(value) for value in head] for head in layer] for layer in model.scores
        ],
        "metrics": {name: round(float(value), 6) for name, value in model.metrics.items()},
        "loss_history": [round(value, 5) for value in model.loss_history],
    }
    record_path.write_text(json.dumps(record, indent=1) + "\n")
    return weights_path, record_path


def _rounded(value: float) -> float | None:
    return None if math.isnan(value) else round(float(value), 10)


def load_checkpoint(path: Path = CHECKPOINT) -> TrainedModel:
    """Read a checkpoint written by :func:`save_checkpoint`.

    The recorded pattern scores are returned as recorded (not recomputed).

    Raises:
        ValueError: if the files are missing, or were made for another vocabulary
            or shape (retrain with ``scripts/train_tiny_transformer.py``).
    """
    weights_path, record_path = Path(path).with_suffix(".npz"), Path(path).with_suffix(".json")
    if not weights_path.exists() or not record_path.exists():
        raise ValueError(
            f"no checkpoint at {weights_path} and {record_path}; "
            "run `python scripts/train_tiny_transformer.py` to make one"
        )
    record = json.loads(record_path.read_text())
    if record.get("vocabulary") != list(TOKENS):
        raise ValueError(
            "the checkpoint was trained on another vocabulary; "
            "run `python scripts/train_tiny_transformer.py` to retrain it"
        )
    if record.get("patterns") != list(PATTERNS):
        raise ValueError("the checkpoint's pattern scores use another list of patterns")
    config = TinyConfig(**record["config"])
    train_config = TinyTrainConfig(**record["train_config"])
    with np.load(weights_path) as archive:
        weights = {name: archive[name] for name in archive.files}
    check_weights(weights, config)
    scores = np.array(
        [
            [[np.nan if v is None else v for v in head] for head in layer]
            for layer in record["pattern_scores"]
        ],
        dtype=float,
    )
    return TrainedModel(
        config,
        train_config,
        weights,
        scores,
        dict(record["metrics"]),
        tuple(record.get("loss_history", ())),
    )


def top_predictions(
    probabilities: ArrayLike, k: int = 5, exclude: Iterable[str] = (PAD,)
) -> list[tuple[str, float]]:
    """The ``k`` most probable words of a ``(V,)`` distribution, as ``(word, probability)``."""
    array = np.asarray(probabilities, dtype=float)
    if array.shape != (len(TOKENS),):
        raise ValueError(f"expected ({len(TOKENS)},) probabilities, got {array.shape}")
    skip = {TOKEN_IDS[token] for token in exclude}
    order = [int(index) for index in np.argsort(-array, kind="stable") if int(index) not in skip]
    return [(TOKENS[index], float(array[index])) for index in order[:k]]


# ----------------------------------------------------------------------------
# Ablation: switch heads off and watch the predictions
# ----------------------------------------------------------------------------


def as_job(job: Job | str) -> Job:
    """``job`` as a :class:`Job`; a name that is not a job says which ones exist."""
    return parse_member(Job, job, "job")


def job_answer(tokens: Sequence[str], job: Job | str, position: int) -> int | None:
    """The position whose word is the right answer to ``job`` at ``position``, or ``None``.

    ``previous`` -> ``position - 1``; ``next`` -> ``position + 1``; ``referent``
    -> the antecedent of the pronoun at ``position`` (if it has exactly one).
    """
    job = as_job(job)
    if not 0 <= position < len(tokens):
        raise ValueError(f"position must lie in [0, {len(tokens) - 1}], got {position}")
    if job is Job.PREVIOUS:
        return position - 1 if position >= 1 else None
    if job is Job.NEXT:
        return position + 1 if position + 1 < len(tokens) else None
    candidates = antecedents(tokens).get(position, ())
    return candidates[0] if len(candidates) == 1 else None


def gates_without(off: Iterable[tuple[int, int]], config: TinyConfig = TinyConfig()) -> FloatArray:
    """``(N, H)`` head gates: 0 for every ``(layer, head)`` in ``off``, else 1."""
    gates = np.ones((config.num_layers, config.num_heads))
    for layer, head in off:
        if not (0 <= layer < config.num_layers and 0 <= head < config.num_heads):
            raise ValueError(
                f"no head ({layer}, {head}) in a model of {config.num_layers} layers "
                f"with {config.num_heads} heads"
            )
        gates[layer, head] = 0.0
    return gates


def knockout_effects(
    weights: Weights,
    ids: ArrayLike,
    job: Job | str,
    position: int,
    answer_id: int,
    config: TinyConfig = TinyConfig(),
    off: Iterable[tuple[int, int]] = (),
) -> FloatArray:
    """``(N, H)``: the probability of ``answer_id`` for ``job`` at ``position`` when
    each head in turn is switched off as well as the heads in ``off``.

    A head already in ``off`` gets the probability with ``off`` alone.
    """
    base_off = set(off)
    job_index = JOBS.index(as_job(job))
    effects = np.empty((config.num_layers, config.num_heads))
    for layer in range(config.num_layers):
        for head in range(config.num_heads):
            gates = gates_without(base_off | {(layer, head)}, config)
            run = forward(weights, ids, config, head_gates=gates)
            effects[layer, head] = run.probabilities[job_index, position, answer_id]
    return effects


def attention_to(run: TinyForward, query: int, key: int) -> FloatArray:
    """``(N, H)``: how much weight every head puts from position ``query`` on ``key``."""
    return np.stack([trace.attention.head_weights[..., query, key] for trace in run.layers])
