"""The tiny translation model with attention, run in numpy from its saved weights.

An encoder–decoder with attention, the seq2seq model of Bahdanau, Cho and
Bengio (2015) that Murphy's section on seq2seq with attention describes. A bidirectional GRU reads the source words (and ``<eos>``)
into states ``z_1 .. z_S``: these are the keys *and* the values. The decoder
is a GRU cell whose state ``s_{t-1}`` is the query at step ``t``:

    s_0       = tanh(W_b mean_j z_j + b_b)
    a_t       = attention(s_{t-1}, z_1..S)                 one weight per source position
    c_t       = sum_j a_t[j] z_j                           the context vector
    s_t       = GRU([E y_{t-1}; c_t], s_{t-1})             y_0 = <bos>
    p(y_t)    = softmax(W_o [s_t; c_t] + b_o)

The attention is :class:`Scoring.ADDITIVE`,
``score_j = w_v · tanh(s W_q + z_j W_k)`` (:func:`~lab.alignment.compute.additive_attention`),
or :class:`Scoring.DOT`, ``score_j = (s W_q) · (z_j W_k) / sqrt(A)``
(:func:`lab.attention.scaled_dot_product_attention`). Rows ``a_t`` stacked over
the steps are the alignment map: outputs on one axis, inputs on the other.

The weights are torch's own (``state_dict`` names and layouts: a ``Linear``
computes ``x W^T + b``, a GRU stacks its reset, update and new gates in that
order), saved as float32 in ``lab/checkpoints/alignment_<scoring>.npz`` next to
a JSON record of the configuration, metrics and training curves. This module
never imports torch; :mod:`lab.alignment.train` builds the same model in torch.

Shapes:
    B   batch of sentences
    S   source positions (words + ``<eos>``), padded to the longest in a batch
    T   output positions (words + ``<eos>``)
    Vs  source vocabulary, Vt target vocabulary
    E   word vector size
    Ze  encoder GRU state per direction; keys and values have size 2 Ze
    D   decoder state size (the query)
    A   attention size (hidden units of the additive MLP, or the projected size for dot)
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike, NDArray

import lab.alignment.compute as compute
from lab.alignment.grammar import (
    BOS,
    EOS,
    SOURCE_TOKENS,
    TARGET_IDS,
    TARGET_TOKENS,
    PairSet,
    SentencePair,
    SourceReading,
    pad_pairs,
    source_ids,
)
from lab.attention import FloatArray, scaled_dot_product_attention
from lab.checks import check_float, check_int, check_parameter_shapes
from lab.enums import LabelledEnum

IntArray = NDArray[np.int64]
AlignerWeights = dict[str, NDArray[np.floating]]

_CHECKPOINTS = Path(__file__).resolve().parent.parent / "checkpoints"  # lab/checkpoints/


class Scoring(LabelledEnum):
    """How the decoder's query is compared with each encoder state."""

    ADDITIVE = "additive", "additive (MLP)"  # w_v · tanh(q W_q + k W_k): a small MLP
    DOT = "dot", "scaled dot product"  # (q W_q) · (k W_k) / sqrt(A): a scaled dot product


@dataclass(frozen=True)
class AlignmentConfig:
    """The model's shape and how it is trained (the checkpoint's JSON keeps all of it)."""

    scoring: Scoring = Scoring.ADDITIVE  # the attention's scoring function
    embedding_size: int = 16  # E: word vectors (34 source and 35 target tokens)
    encoder_size: int = 16  # Ze per direction: keys and values have 2 Ze = 32 entries
    decoder_size: int = 64  # D: the decoder's state, which is the query
    attention_size: int = 32  # A: hidden units of the MLP, or the size q and k are projected to
    seed: int = 0  # seeds the initial weights and the stream of training sentences
    epochs: int = 12  # training rounds; the curves get one point per epoch
    steps_per_epoch: int = 25  # Adam steps per epoch (300 in all: about 10 s on one thread)
    batch_size: int = 64  # fresh sentence pairs per step (never a held-out sentence)
    learning_rate: float = 0.01  # Adam's step size, decayed linearly to 10 % by the end
    max_grad_norm: float = 1.0  # gradients are clipped to this norm (GRUs can spike early)

    def __post_init__(self) -> None:
        if not isinstance(self.scoring, Scoring):
            raise ValueError(f"scoring must be a Scoring, got {self.scoring!r}")
        for name in ("embedding_size", "encoder_size", "decoder_size", "attention_size"):
            check_int(
                name, getattr(self, name), minimum=1, maximum=64
            )  # the lab's models stay tiny
        for name in ("epochs", "steps_per_epoch", "batch_size"):
            check_int(name, getattr(self, name), minimum=1)
        check_int("seed", self.seed, minimum=0)
        check_float("learning_rate", self.learning_rate, positive=True, maximum=1.0)
        check_float("max_grad_norm", self.max_grad_norm, positive=True)

    @property
    def total_steps(self) -> int:
        return self.epochs * self.steps_per_epoch

    def to_json(self) -> dict[str, object]:
        record = asdict(self)
        record["scoring"] = self.scoring.value
        return record

    @classmethod
    def from_json(cls, record: dict[str, object]) -> AlignmentConfig:
        known = {item.name for item in fields(cls)}
        unexpected = sorted(set(record) - known)
        if unexpected:
            raise ValueError(f"unknown configuration fields {unexpected}")
        values = dict(record)
        if "scoring" in values:
            values["scoring"] = Scoring(values["scoring"])
        return cls(**values)  # type: ignore[arg-type]


def weight_shapes(config: AlignmentConfig) -> dict[str, tuple[int, ...]]:
    """Name -> shape of every parameter, as torch's ``state_dict`` of the model has them."""
    E, Ze, D, A = (
        config.embedding_size,
        config.encoder_size,
        config.decoder_size,
        config.attention_size,
    )
    shapes: dict[str, tuple[int, ...]] = {
        "source_embedding.weight": (len(SOURCE_TOKENS), E),
        "target_embedding.weight": (len(TARGET_TOKENS), E),
    }
    for suffix in ("l0", "l0_reverse"):
        shapes |= {
            f"encoder.weight_ih_{suffix}": (3 * Ze, E),
            f"encoder.weight_hh_{suffix}": (3 * Ze, Ze),
            f"encoder.bias_ih_{suffix}": (3 * Ze,),
            f"encoder.bias_hh_{suffix}": (3 * Ze,),
        }
    shapes |= {
        "bridge.weight": (D, 2 * Ze),
        "bridge.bias": (D,),
        "decoder.weight_ih": (3 * D, E + 2 * Ze),
        "decoder.weight_hh": (3 * D, D),
        "decoder.bias_ih": (3 * D,),
        "decoder.bias_hh": (3 * D,),
        "attention.w_q": (D, A),
        "attention.w_k": (2 * Ze, A),
    }
    if config.scoring is Scoring.ADDITIVE:
        shapes["attention.w_v"] = (A,)
    shapes |= {
        "readout.weight": (len(TARGET_TOKENS), D + 2 * Ze),
        "readout.bias": (len(TARGET_TOKENS),),
    }
    return shapes


def check_aligner_weights(weights: AlignerWeights, config: AlignmentConfig) -> None:
    """Raise ``ValueError`` unless ``weights`` has exactly the parameters ``config`` needs."""
    check_parameter_shapes(weights, weight_shapes(config))


# ----------------------------------------------------------------------------
# The forward pass
# ----------------------------------------------------------------------------


def _sigmoid(x: FloatArray) -> FloatArray:
    # the tanh form cannot overflow in exp, whatever the sign of x
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def gru_cell(
    x: ArrayLike,
    state: ArrayLike,
    weight_ih: ArrayLike,
    weight_hh: ArrayLike,
    bias_ih: ArrayLike,
    bias_hh: ArrayLike,
) -> FloatArray:
    """One step of a GRU, exactly as ``torch.nn.GRUCell`` computes it.

    ``r = σ(x W_ir^T + b_ir + h W_hr^T + b_hr)``, ``z = σ(x W_iz^T + b_iz + h W_hz^T + b_hz)``,
    ``n = tanh(x W_in^T + b_in + r ⊙ (h W_hn^T + b_hn))``, ``h' = (1 - z) ⊙ n + z ⊙ h``.

    Args:
        x: ``(B, I)`` inputs.
        state: ``(B, Hs)`` the previous state ``h``.
        weight_ih: ``(3 Hs, I)`` the r, z, n input weights stacked (torch's layout).
        weight_hh: ``(3 Hs, Hs)``.
        bias_ih, bias_hh: ``(3 Hs,)``.

    Returns:
        ``(B, Hs)`` the new state.
    """
    h = np.asarray(state, dtype=np.float64)
    from_input = np.asarray(x, dtype=np.float64) @ np.asarray(weight_ih).T + bias_ih  # (B, 3 Hs)
    from_state = h @ np.asarray(weight_hh).T + bias_hh  # (B, 3 Hs)
    in_r, in_z, in_n = np.split(from_input, 3, axis=-1)
    st_r, st_z, st_n = np.split(from_state, 3, axis=-1)
    reset = _sigmoid(in_r + st_r)
    update = _sigmoid(in_z + st_z)
    candidate = np.tanh(in_n + reset * st_n)
    return (1.0 - update) * candidate + update * h


@dataclass(frozen=True)
class Encoded:
    """The encoder's view of a batch of source sentences.

    Attributes:
        keys: ``(B, S, 2 Ze)`` encoder states (keys and values); zero at padding.
        valid: ``(B, S)`` ``True`` at real positions (words and ``<eos>``).
        initial_state: ``(B, D)`` the decoder's first state ``s_0``.
    """

    keys: FloatArray
    valid: NDArray[np.bool_]
    initial_state: FloatArray


def _check_source(source: ArrayLike, lengths: ArrayLike) -> tuple[IntArray, IntArray]:
    ids = np.asarray(source)
    sizes = np.asarray(lengths)
    if ids.ndim != 2 or not np.issubdtype(ids.dtype, np.integer):
        raise ValueError(f"source must be a (B, S) array of token ids, got shape {ids.shape}")
    if sizes.shape != (ids.shape[0],) or not np.issubdtype(sizes.dtype, np.integer):
        raise ValueError(f"lengths must be ({ids.shape[0]},) whole numbers, got {sizes.shape}")
    if sizes.size and (sizes.min() < 1 or sizes.max() > ids.shape[1]):
        raise ValueError(f"lengths must lie in [1, {ids.shape[1]}], got {sizes.tolist()}")
    if ids.size and (ids.min() < 0 or ids.max() >= len(SOURCE_TOKENS)):
        raise ValueError(f"source ids must lie in [0, {len(SOURCE_TOKENS) - 1}]")
    return ids.astype(np.int64), sizes.astype(np.int64)


def encode_source(weights: AlignerWeights, source: ArrayLike, lengths: ArrayLike) -> Encoded:
    """Run the bidirectional encoder over a padded batch.

    Forward: ``f_j = GRU(x_j, f_{j-1})``; backward: ``b_j = GRU(x_j, b_{j+1})``
    starting at each sentence's own last position; ``z_j = [f_j; b_j]``. Padding
    never enters either direction (as with torch's packed sequences).

    Args:
        weights: the model's parameters.
        source: ``(B, S)`` source ids (``<eos>`` included, then padding).
        lengths: ``(B,)`` real positions per sentence.

    Returns:
        :class:`Encoded`.
    """
    ids, sizes = _check_source(source, lengths)
    batch, positions = ids.shape
    vectors = np.asarray(weights["source_embedding.weight"], dtype=np.float64)[ids]  # (B, S, E)
    valid = np.arange(positions) < sizes[:, None]  # (B, S)
    directions = []
    for suffix, order in (("l0", range(positions)), ("l0_reverse", range(positions - 1, -1, -1))):
        params = [
            weights[f"encoder.{name}_{suffix}"]
            for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
        ]
        size = params[1].shape[1]
        state = np.zeros((batch, size))
        states = np.zeros((batch, positions, size))
        for j in order:
            stepped = gru_cell(vectors[:, j], state, *params)
            # past a sentence's end the state stays as it was (zero, for the backward pass)
            state = np.where(valid[:, j, None], stepped, state)
            states[:, j] = np.where(valid[:, j, None], state, 0.0)
        directions.append(states)
    keys = np.concatenate(directions, axis=-1)  # (B, S, 2 Ze)
    mean = keys.sum(axis=1) / sizes[:, None]  # padding is zero, so this is the mean of real states
    initial = np.tanh(mean @ np.asarray(weights["bridge.weight"]).T + weights["bridge.bias"])
    return Encoded(keys, valid, initial)


def cross_attend(
    weights: AlignerWeights, scoring: Scoring, state: ArrayLike, encoded: Encoded
) -> tuple[FloatArray, FloatArray]:
    """One step of cross-attention: the decoder state asks, the encoder states answer.

    Args:
        weights: the model's parameters.
        scoring: which scoring function the model was trained with.
        state: ``(B, D)`` the decoder's state ``s_{t-1}`` (the query).
        encoded: the batch's encoder states (keys and values) and their mask.

    Returns:
        ``(context, weights)``: ``(B, 2 Ze)`` and ``(B, S)``; padding gets weight 0.
    """
    query = np.asarray(state, dtype=np.float64)[:, None, :]  # (B, 1, D)
    mask = encoded.valid[:, None, :]  # (B, 1, S): True = may attend
    if scoring is Scoring.ADDITIVE:
        context, attention = compute.additive_attention(
            query,
            encoded.keys,
            encoded.keys,
            weights["attention.w_q"],
            weights["attention.w_k"],
            weights["attention.w_v"],
            mask=mask,
        )
    else:
        context, attention = scaled_dot_product_attention(
            query @ weights["attention.w_q"],  # (B, 1, A)
            encoded.keys @ weights["attention.w_k"],  # (B, S, A)
            encoded.keys,
            mask=mask,
        )
    return context[:, 0], attention[:, 0]


def decoder_step(
    weights: AlignerWeights,
    scoring: Scoring,
    encoded: Encoded,
    state: ArrayLike,
    previous: ArrayLike,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """One decoder step: attend with ``s_{t-1}``, update the state, score the next word.

    Args:
        state: ``(B, D)`` ``s_{t-1}``.
        previous: ``(B,)`` the ids of ``y_{t-1}`` (``<bos>`` at the first step).

    Returns:
        ``(new_state, logits, attention)``: ``(B, D)``, ``(B, Vt)``, ``(B, S)``.
    """
    context, attention = cross_attend(weights, scoring, state, encoded)
    word = np.asarray(weights["target_embedding.weight"], dtype=np.float64)[previous]  # (B, E)
    new_state = gru_cell(
        np.concatenate([word, context], axis=-1),
        state,
        weights["decoder.weight_ih"],
        weights["decoder.weight_hh"],
        weights["decoder.bias_ih"],
        weights["decoder.bias_hh"],
    )
    features = np.concatenate([new_state, context], axis=-1)  # (B, D + 2 Ze)
    logits = features @ np.asarray(weights["readout.weight"]).T + weights["readout.bias"]
    return new_state, logits, attention


@dataclass(frozen=True)
class Decoded:
    """What the decoder did over a batch, step by step.

    Attributes:
        logits: ``(B, T, Vt)`` scores of the next word at every step.
        attention: ``(B, T, S)`` the attention rows (the alignment maps).
        tokens: ``(B, T)`` the word chosen at every step (greedy), or the
            argmax of the logits (teacher forcing).
        lengths: ``(B,)`` output positions up to and including the first
            ``<eos>`` (``T`` if none was produced).
    """

    logits: FloatArray
    attention: FloatArray
    tokens: IntArray
    lengths: IntArray


def _lengths_to_eos(tokens: IntArray) -> IntArray:
    is_eos = tokens == TARGET_IDS[EOS]
    first = np.argmax(is_eos, axis=1) + 1
    return np.where(is_eos.any(axis=1), first, tokens.shape[1]).astype(np.int64)


def teacher_forced(
    weights: AlignerWeights,
    scoring: Scoring,
    source: ArrayLike,
    lengths: ArrayLike,
    inputs: ArrayLike,
) -> Decoded:
    """Decode with the correct previous word fed in at every step (as in training).

    Args:
        source: ``(B, S)`` source ids; lengths: ``(B,)``.
        inputs: ``(B, T)`` decoder inputs: ``<bos>`` then the reference words.

    Returns:
        :class:`Decoded` (``tokens`` are the argmax predictions at each step).
    """
    encoded = encode_source(weights, source, lengths)
    previous = np.asarray(inputs)
    if previous.ndim != 2 or previous.shape[0] != encoded.keys.shape[0]:
        raise ValueError(
            f"inputs must be (B, T) with B = {encoded.keys.shape[0]}, got {previous.shape}"
        )
    state = encoded.initial_state
    all_logits, all_attention = [], []
    for step in range(previous.shape[1]):
        state, logits, attention = decoder_step(weights, scoring, encoded, state, previous[:, step])
        all_logits.append(logits)
        all_attention.append(attention)
    logits = np.stack(all_logits, axis=1)  # (B, T, Vt)
    tokens = logits.argmax(axis=-1)
    return Decoded(logits, np.stack(all_attention, axis=1), tokens, _lengths_to_eos(tokens))


def greedy_decode(
    weights: AlignerWeights, scoring: Scoring, source: ArrayLike, lengths: ArrayLike, max_steps: int
) -> Decoded:
    """Translate by feeding back the model's own most likely word at each step.

    ``y_t = argmax p(y_t | y_<t, x)`` until ``<eos>`` or ``max_steps`` words.

    Args:
        source: ``(B, S)`` source ids; lengths: ``(B,)``.
        max_steps: the most output positions to produce (``<eos>`` included).

    Returns:
        :class:`Decoded` with ``T = max_steps``; read each row up to its ``lengths``.
    """
    max_steps = check_int("max_steps", max_steps, minimum=1)
    encoded = encode_source(weights, source, lengths)
    batch = encoded.keys.shape[0]
    state = encoded.initial_state
    previous = np.full(batch, TARGET_IDS[BOS], dtype=np.int64)
    all_logits, all_attention, all_tokens = [], [], []
    for _ in range(max_steps):
        state, logits, attention = decoder_step(weights, scoring, encoded, state, previous)
        previous = logits.argmax(axis=-1)
        all_logits.append(logits)
        all_attention.append(attention)
        all_tokens.append(previous)
    tokens = np.stack(all_tokens, axis=1)  # (B, T)
    return Decoded(
        np.stack(all_logits, axis=1),
        np.stack(all_attention, axis=1),
        tokens,
        _lengths_to_eos(tokens),
    )


# ----------------------------------------------------------------------------
# A trained model and what it scores
# ----------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredExample:
    """Where a checkpoint's misleading example is: a step of a sentence of a fixed set.

    Attributes:
        pair_set: which fixed set the sentence is in.
        sentence: its index in ``pair_set.pairs()``.
        step: the output position.
        reading: how the map and the output disagree there.
    """

    pair_set: PairSet
    sentence: int
    step: int
    reading: compute.MapReading


@dataclass(frozen=True)
class TrainedAligner:
    """A trained model: its weights plus what is known about them.

    Attributes:
        config: the model's shape and training settings.
        weights: parameter name -> float32 array (:func:`weight_shapes`).
        metrics: held-out results of :func:`score_translations` (and ``train_seconds``).
        curves: per epoch: ``loss`` (mean training loss), ``accuracy`` (held-out
            teacher-forced token accuracy) and ``alignment`` (held-out alignment score).
        examples: the clearest misleading step of each kind (:func:`find_misleading`).
    """

    config: AlignmentConfig
    weights: AlignerWeights
    metrics: dict[str, float]
    curves: dict[str, tuple[float, ...]] = field(default_factory=dict)
    examples: tuple[StoredExample, ...] = ()

    @property
    def scoring(self) -> Scoring:
        return self.config.scoring


def score_translations(
    weights: AlignerWeights, config: AlignmentConfig, pairs: Sequence[SentencePair]
) -> dict[str, float]:
    """Score a model on sentence pairs (the held-out set, for the recorded numbers).

    * ``token_accuracy``: greedy translations, the share of reference positions
      (words and ``<eos>``) whose token the model produced at that position;
    * ``sentence_accuracy``: the share of sentences translated exactly;
    * ``teacher_forced_accuracy``: the share of reference tokens ranked first
      when the correct previous words are fed in;
    * ``alignment_score``: teacher-forced, the mean over sentences of the mean
      attention each output word puts on its true source word (``<eos>`` row left out);
    * ``chance_alignment``: what uniform attention would score on the same sentences;
    * ``chance_accuracy``: the token accuracy of always answering the most
      common reference token (``lo``, "the").

    Returns:
        Name -> value, all in ``[0, 1]``.
    """
    if not pairs:
        raise ValueError("score_translations needs at least one sentence pair")
    batch = pad_pairs(pairs)
    valid = batch.target_valid  # (B, T)
    forced = teacher_forced(
        weights, config.scoring, batch.source, batch.source_lengths, batch.decoder_input
    )
    greedy = greedy_decode(
        weights,
        config.scoring,
        batch.source,
        batch.source_lengths,
        max_steps=batch.target.shape[1],
    )
    # a position after the model's <eos> counts as wrong: nothing was produced there
    produced = np.arange(batch.target.shape[1]) < greedy.lengths[:, None]
    greedy_right = (greedy.tokens == batch.target) & produced & valid
    exact = [
        greedy.lengths[row] == len(pair.target) + 1
        and greedy_right[row].sum() == greedy.lengths[row]
        for row, pair in enumerate(pairs)
    ]
    scores = [
        compute.sentence_alignment_score(
            forced.attention[row, : len(pair.target), : len(pair.source) + 1],
            pair.alignment[:-1],
        )
        for row, pair in enumerate(pairs)
    ]
    references = batch.target[valid]
    most_common = np.bincount(references).argmax()
    return {
        "token_accuracy": float(greedy_right.sum() / valid.sum()),
        "sentence_accuracy": float(np.mean(exact)),
        "teacher_forced_accuracy": float(
            ((forced.tokens == batch.target) & valid).sum() / valid.sum()
        ),
        "alignment_score": float(np.mean(scores)),
        "chance_alignment": compute.chance_alignment_score(
            [len(pair.source) + 1 for pair in pairs]
        ),
        "chance_accuracy": float(np.mean(references == most_common)),
    }


# ----------------------------------------------------------------------------
# Where the map misleads
# ----------------------------------------------------------------------------


@dataclass(frozen=True)
class MisleadingCase:
    """A step of a teacher-forced translation where the map and the output disagree.

    Attributes:
        sentence: index of the pair in the list searched.
        pair: the sentence pair.
        step: what disagrees (:class:`~lab.alignment.compute.MisleadingStep`).
        attention: ``(T, S)`` the teacher-forced map of the whole sentence
            (rows: target words and ``<eos>``; columns: source words and ``<eos>``).
        predicted: the ``T`` tokens the model ranked first at each step.
    """

    sentence: int
    pair: SentencePair
    step: compute.MisleadingStep
    attention: FloatArray
    predicted: tuple[str, ...]

    @property
    def reading(self) -> compute.MapReading:
        return self.step.reading

    @property
    def attended_word(self) -> str:
        """The source token with the most weight at this step."""
        return self.pair.source_tokens[self.step.top_position]

    @property
    def true_word(self) -> str:
        """The source word the output word truly translates."""
        return self.pair.source_tokens[self.step.true_position]

    @property
    def same_word(self) -> bool:
        """True if the attended word is another copy of the true word (e.g. a second "the")."""
        return self.attended_word == self.true_word


def find_misleading(
    weights: AlignerWeights, config: AlignmentConfig, pairs: Sequence[SentencePair]
) -> list[MisleadingCase]:
    """Every word step of ``pairs`` where reading the map as an explanation misleads.

    Teacher-forced, so each step has a correct word; the ``<eos>`` rows are left
    out, as in the alignment score. See
    :func:`~lab.alignment.compute.misleading_steps` for the two kinds.

    Returns:
        The cases, by sentence and then step.
    """
    if not pairs:
        return []
    batch = pad_pairs(pairs)
    forced = teacher_forced(
        weights, config.scoring, batch.source, batch.source_lengths, batch.decoder_input
    )
    cases = []
    for row, pair in enumerate(pairs):
        T, S = len(pair.target) + 1, len(pair.source) + 1
        attention = forced.attention[row, :T, :S]
        predicted = forced.tokens[row, :T]
        steps = compute.misleading_steps(
            attention[:-1], pair.alignment[:-1], predicted[:-1], batch.target[row, : T - 1]
        )
        words = tuple(TARGET_TOKENS[index] for index in predicted)
        cases += [MisleadingCase(row, pair, step, attention, words) for step in steps]
    return cases


def clearest_case(
    cases: Sequence[MisleadingCase], reading: compute.MapReading
) -> MisleadingCase | None:
    """The most convincing case of one kind, or ``None``.

    A wrong-looking map with the right word: prefer a map pointing at another
    word (not a second copy of the same word), then the least weight on the
    true word. A right-looking map with the wrong word: the most weight on the
    true word.
    """
    kind = [case for case in cases if case.reading is reading]
    if not kind:
        return None
    if reading is compute.MapReading.WRONG_PLACE_RIGHT_WORD:
        return min(kind, key=lambda case: (case.same_word, case.step.on_truth))
    return max(kind, key=lambda case: case.step.on_truth)


def find_examples(weights: AlignerWeights, config: AlignmentConfig) -> tuple[StoredExample, ...]:
    """The clearest misleading step of each kind, searched in the fixed sets.

    Each kind is looked for in the held-out set first; a kind it does not show
    (a model that is right on almost every held-out word rarely has a
    right-looking map with a wrong word) is looked for in the three-adjective set.
    A kind found in neither is left out.
    """
    found: dict[PairSet, list[MisleadingCase]] = {}
    examples = []
    for reading in compute.MapReading:
        for pair_set in PairSet:
            if pair_set not in found:
                found[pair_set] = find_misleading(weights, config, pair_set.pairs())
            case = clearest_case(found[pair_set], reading)
            if case is not None:
                examples.append(StoredExample(pair_set, case.sentence, case.step.step, reading))
                break
    return tuple(examples)


def misleading_example(
    aligner: TrainedAligner, reading: compute.MapReading
) -> MisleadingCase | None:
    """The checkpoint's stored example of one kind, or ``None`` if it has none.

    Recomputed from the weights (the checkpoint stores only where it is).
    """
    for example in aligner.examples:
        if example.reading is reading:
            index = example.sentence
            pair = example.pair_set.pairs()[index]
            for case in find_misleading(aligner.weights, aligner.config, [pair]):
                if case.step.step == example.step and case.reading is reading:
                    return replace(case, sentence=index)
            raise ValueError(
                f"the checkpoint's example of {reading.value!r} ({example.pair_set.value} "
                f"sentence {index}, step {example.step}) no longer disagrees; "
                "retrain with `python scripts/train_alignment.py`"
            )
    return None


# ----------------------------------------------------------------------------
# One sentence, for the page
# ----------------------------------------------------------------------------

EXTRA_STEPS = 2  # greedy decoding may run this many steps past a correct length, to show a miss


@dataclass(frozen=True)
class SentenceView:
    """A typed sentence translated, with everything the page shows about it.

    Attributes:
        source_labels: the ``S`` source tokens (words and ``<eos>``): the map's columns.
        output: the ``T`` tokens the model produced (greedy, up to and including
            ``<eos>``): the map's rows.
        attention: ``(T, S)`` the map: row ``t`` is where step ``t`` looked.
        reference: the grammar's translation (words and ``<eos>``), or ``None``
            if the sentence does not follow the grammar.
        matches_reference: whether ``output`` equals ``reference`` (``None``
            without a reference).
        outline: ``(T, S)`` ``True`` at each row's true source position, for
            the rows where it is defined: up to and including the first output
            token that differs from the reference (before it, the model read
            exactly what the reference would have fed it). ``None`` without a reference.
        on_truth: ``(W,)`` for each of the reference's ``W`` words, the
            teacher-forced weight on its true source word; ``None`` without a reference.
        alignment_score: the mean of ``on_truth``: this sentence's alignment
            score (teacher-forced, so it is defined even if the output is wrong).
    """

    source_labels: tuple[str, ...]
    output: tuple[str, ...]
    attention: FloatArray
    reference: tuple[str, ...] | None
    matches_reference: bool | None
    outline: NDArray[np.bool_] | None
    on_truth: FloatArray | None
    alignment_score: float | None


def view_sentence(aligner: TrainedAligner, reading: SourceReading) -> SentenceView:
    """Translate a sentence read by :func:`~lab.alignment.grammar.read_source`.

    Greedy decoding gives the output and the map; if the sentence follows the
    grammar, a teacher-forced pass on the reference gives the per-word weight
    on the true word and the sentence's alignment score.

    Args:
        aligner: a trained model.
        reading: a usable reading (``reading.usable``).

    Returns:
        :class:`SentenceView`.
    """
    if not reading.usable:
        raise ValueError(
            "this reading cannot be translated (empty, unknown words or too long); "
            "show reading.message instead"
        )
    ids = source_ids(reading.words)[None, :]  # (1, S)
    lengths = np.array([ids.shape[1]])
    greedy = greedy_decode(
        aligner.weights,
        aligner.scoring,
        ids,
        lengths,
        max_steps=len(reading.words) + 1 + EXTRA_STEPS,
    )
    T = int(greedy.lengths[0])
    output = tuple(TARGET_TOKENS[index] for index in greedy.tokens[0, :T])
    attention = greedy.attention[0, :T]
    source_labels = (*reading.words, EOS)
    pair = reading.pair
    if pair is None:
        return SentenceView(source_labels, output, attention, None, None, None, None, None)
    reference = pair.target_tokens
    differs = [t for t in range(min(T, len(reference))) if output[t] != reference[t]]
    last_defined = differs[0] if differs else min(T, len(reference)) - 1
    outline = np.zeros((T, len(source_labels)), dtype=bool)
    for t in range(last_defined + 1):
        outline[t] = compute.alignment_mask(pair.alignment[t : t + 1], len(source_labels))[0]
    batch = pad_pairs([pair])
    forced = teacher_forced(
        aligner.weights, aligner.scoring, batch.source, batch.source_lengths, batch.decoder_input
    )
    forced_map = forced.attention[0, : len(pair.target)]  # word rows only
    on_truth = compute.attention_on_truth(forced_map, pair.alignment[:-1])
    return SentenceView(
        source_labels,
        output,
        attention,
        reference,
        output == reference,
        outline,
        on_truth,
        float(on_truth.mean()),
    )


# ----------------------------------------------------------------------------
# The checkpoints
# ----------------------------------------------------------------------------


def checkpoint_path(scoring: Scoring) -> Path:
    """Where the shipped checkpoint of a scoring function lives (``.npz``; the ``.json`` beside it)."""
    return _CHECKPOINTS / f"alignment_{scoring.value}.npz"


def save_aligner(aligner: TrainedAligner, path: Path | None = None) -> tuple[Path, Path]:
    """Write ``<path>.npz`` (float32 weights) and ``<path>.json`` (everything else).

    Args:
        path: defaults to :func:`checkpoint_path` of the model's scoring.

    Returns:
        The two paths written.
    """
    base = Path(path) if path is not None else checkpoint_path(aligner.scoring)
    weights_path, record_path = base.with_suffix(".npz"), base.with_suffix(".json")
    weights_path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        weights_path,
        **{name: np.asarray(value, np.float32) for name, value in aligner.weights.items()},
    )
    record = {
        "about": f"Tiny translation model with {aligner.scoring.label} attention; "
        "rebuild with `python scripts/train_alignment.py`.",
        "config": aligner.config.to_json(),
        "source_tokens": list(SOURCE_TOKENS),
        "target_tokens": list(TARGET_TOKENS),
        "metrics": {name: float(value) for name, value in aligner.metrics.items()},
        "curves": {
            name: [round(float(value), 6) for value in values]
            for name, values in aligner.curves.items()
        },
        "examples": [
            {
                "pair_set": example.pair_set.value,
                "sentence": example.sentence,
                "step": example.step,
                "reading": example.reading.value,
                "source": " ".join(example.pair_set.pairs()[example.sentence].source),
            }
            for example in aligner.examples
        ],
    }
    record_path.write_text(json.dumps(record, indent=1, ensure_ascii=False) + "\n")
    return weights_path, record_path


def load_aligner(scoring: Scoring, path: Path | None = None) -> TrainedAligner:
    """Read a checkpoint written by :func:`save_aligner`.

    Args:
        scoring: which shipped model (its scoring must match the file's).
        path: another location than :func:`checkpoint_path` (``.npz`` or no suffix).

    Raises:
        ValueError: if the files are missing, or were made for another
            vocabulary, shape or scoring (retrain with ``scripts/train_alignment.py``).
    """
    base = Path(path) if path is not None else checkpoint_path(scoring)
    weights_path, record_path = base.with_suffix(".npz"), base.with_suffix(".json")
    if not weights_path.exists() or not record_path.exists():
        raise ValueError(
            f"no checkpoint at {weights_path} and {record_path}; "
            "run `python scripts/train_alignment.py` to make one"
        )
    record = json.loads(record_path.read_text())
    if record.get("source_tokens") != list(SOURCE_TOKENS) or record.get("target_tokens") != list(
        TARGET_TOKENS
    ):
        raise ValueError(
            "the checkpoint was trained on another vocabulary; "
            "run `python scripts/train_alignment.py` to retrain it"
        )
    config = AlignmentConfig.from_json(record["config"])
    if config.scoring is not scoring:
        raise ValueError(
            f"the checkpoint at {weights_path} uses {config.scoring.value} scoring, "
            f"not {scoring.value}"
        )
    with np.load(weights_path) as archive:
        weights = {name: archive[name] for name in archive.files}
    check_aligner_weights(weights, config)
    examples = tuple(
        StoredExample(
            PairSet(item["pair_set"]),
            int(item["sentence"]),
            int(item["step"]),
            compute.MapReading(item["reading"]),
        )
        for item in record.get("examples", ())
    )
    return TrainedAligner(
        config,
        weights,
        {name: float(value) for name, value in record["metrics"].items()},
        {name: tuple(float(v) for v in values) for name, values in record["curves"].items()},
        examples,
    )


def recorded_metrics(weights: AlignerWeights, config: AlignmentConfig) -> dict[str, float]:
    """Everything a checkpoint records about its weights, measured afresh.

    :func:`score_translations` on the held-out set, plus ``three_adjectives_token_accuracy``
    and ``three_adjectives_alignment_score`` on the three-adjective set (how the
    model fares off its training data).
    """
    metrics = score_translations(weights, config, PairSet.HELD_OUT.pairs())
    stress = score_translations(weights, config, PairSet.THREE_ADJECTIVES.pairs())
    for name in ("token_accuracy", "alignment_score"):
        metrics[f"three_adjectives_{name}"] = stress[name]
    return metrics
