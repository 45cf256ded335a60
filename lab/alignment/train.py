"""The translation model in torch, and its training. The only module of
``lab.alignment`` that imports torch: a page imports it inside the function
that retrains, never at the top.

:class:`Seq2SeqAttention` is the model of :mod:`lab.alignment.model` built
from torch layers (``nn.Embedding``, a bidirectional ``nn.GRU``, ``nn.GRUCell``,
``nn.Linear``); its ``state_dict`` is exactly the weights the numpy forward
pass reads. :func:`train` fits it with Adam on fresh sentence pairs from the
grammar (never a held-out one), records a curve point per epoch, and measures
the result with the numpy forward pass, as a checkpoint will be measured.

Shapes:
    B   batch of sentences
    S   source positions (words + ``<eos>``), padded
    T   output positions (words + ``<eos>``), padded
    Vt  target vocabulary
    Ze  encoder state per direction; D decoder state; A attention size
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch import nn

from lab.alignment.compute import alignment_score
from lab.alignment.grammar import (
    PAD,
    SOURCE_TOKENS,
    TARGET_IDS,
    TARGET_TOKENS,
    PairBatch,
    SentencePair,
    draw_pairs,
    held_out_pairs,
    pad_pairs,
)
from lab.alignment.model import (
    AlignerWeights,
    AlignmentConfig,
    Scoring,
    TrainedAligner,
    check_aligner_weights,
    find_examples,
    recorded_metrics,
    weight_shapes,
)
from lab.torch_utils import use_one_thread

TrainingProgress = Callable[[int, int, float], None]


class Seq2SeqAttention(nn.Module):
    """Bidirectional GRU encoder, GRU-cell decoder, attention from decoder to encoder.

    Parameter names and layouts are those :func:`lab.alignment.model.weight_shapes` lists.
    """

    def __init__(self, config: AlignmentConfig) -> None:
        super().__init__()
        E, Ze, D, A = (
            config.embedding_size,
            config.encoder_size,
            config.decoder_size,
            config.attention_size,
        )
        self.scoring = config.scoring
        self.source_embedding = nn.Embedding(len(SOURCE_TOKENS), E)
        self.target_embedding = nn.Embedding(len(TARGET_TOKENS), E)
        self.encoder = nn.GRU(E, Ze, batch_first=True, bidirectional=True)
        self.bridge = nn.Linear(2 * Ze, D)
        self.decoder = nn.GRUCell(E + 2 * Ze, D)
        self.attention = nn.ParameterDict(
            {"w_q": nn.Parameter(torch.zeros(D, A)), "w_k": nn.Parameter(torch.zeros(2 * Ze, A))}
        )
        if config.scoring is Scoring.ADDITIVE:
            self.attention["w_v"] = nn.Parameter(torch.zeros(A))
        self.readout = nn.Linear(D + 2 * Ze, len(TARGET_TOKENS))

    def encode_source(
        self, source: torch.Tensor, lengths: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(keys (B, S, 2 Ze), valid (B, S), s_0 (B, D))`` for a padded batch."""
        positions = source.shape[1]
        vectors = self.source_embedding(source)  # (B, S, E)
        packed = nn.utils.rnn.pack_padded_sequence(
            vectors, lengths, batch_first=True, enforce_sorted=False
        )
        states, _ = self.encoder(packed)
        keys, _ = nn.utils.rnn.pad_packed_sequence(
            states, batch_first=True, total_length=positions
        )  # (B, S, 2 Ze), zero at padding
        valid = torch.arange(positions)[None, :] < lengths[:, None]  # (B, S)
        mean = keys.sum(dim=1) / lengths[:, None].to(keys.dtype)
        return keys, valid, torch.tanh(self.bridge(mean))

    def cross_attend(
        self, state: torch.Tensor, keys: torch.Tensor, valid: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``(context (B, 2 Ze), weights (B, S))`` for the query ``state`` ``(B, D)``."""
        if self.scoring is Scoring.ADDITIVE:
            hidden = torch.tanh(
                (state @ self.attention["w_q"])[:, None, :] + keys @ self.attention["w_k"]
            )  # (B, S, A)
            scores = hidden @ self.attention["w_v"]  # (B, S)
        else:
            query = state @ self.attention["w_q"]  # (B, A)
            projected = keys @ self.attention["w_k"]  # (B, S, A)
            scores = (projected @ query[:, :, None])[..., 0] / math.sqrt(query.shape[-1])
        scores = scores.masked_fill(~valid, float("-inf"))
        weights = torch.softmax(scores, dim=-1)  # (B, S)
        context = (weights[:, :, None] * keys).sum(dim=1)  # (B, 2 Ze)
        return context, weights

    def forward(
        self, source: torch.Tensor, lengths: torch.Tensor, inputs: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Teacher-forced decoding.

        Args:
            source: ``(B, S)`` long; lengths: ``(B,)`` long (on the CPU); inputs:
                ``(B, T)`` long, ``<bos>`` then the reference words.

        Returns:
            ``(logits (B, T, Vt), attention (B, T, S))``.
        """
        keys, valid, state = self.encode_source(source, lengths)
        words = self.target_embedding(inputs)  # (B, T, E)
        all_logits, all_weights = [], []
        for step in range(inputs.shape[1]):
            context, weights = self.cross_attend(state, keys, valid)
            state = self.decoder(torch.cat([words[:, step], context], dim=-1), state)
            all_logits.append(self.readout(torch.cat([state, context], dim=-1)))
            all_weights.append(weights)
        return torch.stack(all_logits, dim=1), torch.stack(all_weights, dim=1)


def initial_weights(config: AlignmentConfig) -> AlignerWeights:
    """Initial weights from ``config.seed``, drawn with numpy (not torch's global generator).

    Embeddings ``N(0, 1)``; every other matrix and bias ``U(-1/sqrt(n), 1/sqrt(n))``
    with ``n`` its fan-in (torch's default for ``Linear`` and ``GRU``).
    """
    rng = np.random.default_rng([config.seed, 11])
    weights: AlignerWeights = {}
    for name, shape in weight_shapes(config).items():
        if "embedding" in name:
            weights[name] = rng.standard_normal(shape)
            continue
        if name.startswith("encoder."):
            fan_in = config.encoder_size
        elif name.startswith("decoder."):
            fan_in = config.decoder_size
        elif name.startswith("attention."):
            fan_in = shape[0]  # rows of x @ W (and the length of w_v)
        else:  # bridge and readout: torch's Linear, weight (out, in)
            fan_in = weight_shapes(config)[name.replace("bias", "weight")][1]
        bound = 1.0 / math.sqrt(fan_in)
        weights[name] = rng.uniform(-bound, bound, size=shape)
    return weights


def build_module(
    weights: AlignerWeights, config: AlignmentConfig, dtype: torch.dtype = torch.float32
) -> Seq2SeqAttention:
    """A :class:`Seq2SeqAttention` holding ``weights`` (copied), in ``dtype``."""
    check_aligner_weights(weights, config)
    module = Seq2SeqAttention(config).to(dtype)
    state = {name: torch.tensor(np.asarray(value), dtype=dtype) for name, value in weights.items()}
    module.load_state_dict(state, strict=True)
    return module


def module_weights(module: Seq2SeqAttention) -> AlignerWeights:
    """The module's parameters as float32 numpy arrays, keyed by ``state_dict`` name."""
    return {
        name: value.detach().cpu().numpy().astype(np.float32)
        for name, value in module.state_dict().items()
    }


def _tensors(batch: PairBatch) -> tuple[torch.Tensor, ...]:
    return (
        torch.from_numpy(batch.source),
        torch.from_numpy(batch.source_lengths),
        torch.from_numpy(batch.decoder_input),
        torch.from_numpy(batch.target),
    )


def batch_loss(module: Seq2SeqAttention, batch: PairBatch) -> torch.Tensor:
    """Mean cross-entropy of the reference tokens (words and ``<eos>``), padding ignored."""
    source, lengths, inputs, target = _tensors(batch)
    logits, _ = module(source, lengths, inputs)
    return nn.functional.cross_entropy(
        logits.reshape(-1, logits.shape[-1]), target.reshape(-1), ignore_index=TARGET_IDS[PAD]
    )


def _held_out_point(
    module: Seq2SeqAttention, batch: PairBatch, pairs: Sequence[SentencePair]
) -> tuple[float, float]:
    """Held-out teacher-forced token accuracy and alignment score, in torch (for the curves)."""
    source, lengths, inputs, _ = _tensors(batch)
    with torch.no_grad():
        logits, attention = module(source, lengths, inputs)
    valid = batch.target_valid
    right = (logits.argmax(dim=-1).numpy() == batch.target) & valid
    maps = attention.numpy()
    score = alignment_score(
        [maps[row, : len(pair.target), : len(pair.source) + 1] for row, pair in enumerate(pairs)],
        [np.asarray(pair.alignment[:-1]) for pair in pairs],
    )
    return float(right.sum() / valid.sum()), score


def train(config: AlignmentConfig, progress: TrainingProgress | None = None) -> TrainedAligner:
    """Train the model with Adam, reproducibly from ``config.seed``.

    Every step draws ``batch_size`` fresh sentences from the grammar (a numpy
    generator seeded from the seed; held-out sentences are skipped) and
    minimises the teacher-forced cross-entropy. After each epoch the held-out
    teacher-forced accuracy and alignment score are added to the curves. At
    the end, :func:`lab.alignment.model.recorded_metrics` scores the float32 weights
    with the numpy forward pass, exactly as a loaded checkpoint is scored.

    Args:
        config: the model and training settings. The defaults are the shipped
            checkpoints' settings: 300 steps, about 10 s on one thread.
        progress: called as ``progress(step, total_steps, loss)`` after every
            epoch's last step (``loss`` is that epoch's mean).

    Returns:
        :class:`~lab.alignment.model.TrainedAligner`.
    """
    use_one_thread()
    started = time.perf_counter()
    module = build_module(initial_weights(config), config)
    optimizer = torch.optim.Adam(module.parameters(), lr=config.learning_rate)
    total = config.total_steps
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: 1.0 - 0.9 * step / max(total, 1)
    )
    held_out = held_out_pairs()
    held_out_batch = pad_pairs(held_out)
    skip = frozenset(pair.source for pair in held_out)
    rng = np.random.default_rng([config.seed, 1])
    curves: dict[str, list[float]] = {"loss": [], "accuracy": [], "alignment": []}
    step = 0
    for _ in range(config.epochs):
        losses = []
        for _ in range(config.steps_per_epoch):
            pairs = draw_pairs(rng, config.batch_size, exclude=skip)
            loss = batch_loss(module, pad_pairs(pairs))
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(module.parameters(), config.max_grad_norm)
            optimizer.step()
            schedule.step()
            losses.append(float(loss.detach()))
            step += 1
        accuracy, score = _held_out_point(module, held_out_batch, held_out)
        curves["loss"].append(float(np.mean(losses)))
        curves["accuracy"].append(accuracy)
        curves["alignment"].append(score)
        if progress is not None:
            progress(step, total, curves["loss"][-1])
    weights = module_weights(module)
    metrics = recorded_metrics(weights, config)
    metrics["train_seconds"] = time.perf_counter() - started
    examples = find_examples(weights, config)
    return TrainedAligner(
        config,
        weights,
        metrics,
        {name: tuple(values) for name, values in curves.items()},
        examples,
    )


ReportProgress = Callable[[float, str], None]  # fraction done in [0, 1], and a line saying what


def train_reporting(config: AlignmentConfig, report: ReportProgress) -> TrainedAligner:
    """:func:`train`, telling a progress bar how far it is as ``report(fraction, text)``.

    The training steps fill the bar to 95 %; the rest is the closing measurement
    on the held-out and three-adjective sentences, which reports nothing while it runs.

    Args:
        config: the model and training settings.
        report: called with 0 before the first step, then after every epoch.

    Returns:
        :class:`~lab.alignment.model.TrainedAligner`, as :func:`train` returns it.
    """
    epochs = config.epochs

    def progress(step: int, total: int, loss: float) -> None:
        epoch = round(step / config.steps_per_epoch)
        if step < total:
            text = f"Epoch {epoch} of {epochs}: training loss {loss:.3f}"
        else:
            text = f"Trained (loss {loss:.3f}); scoring the held-out sentences"
        report(0.95 * step / total, text)

    report(0.0, f"Training {config.scoring.label} scoring, seed {config.seed}")
    return train(config, progress=progress)
