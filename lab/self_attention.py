"""Self-attention on one sentence, every intermediate kept for display.

Shapes (one sentence, so no batch axis):
    L   tokens (queries, and also keys: this is *self*-attention, so S = L)
    d   embedding size
    E   query/key size (= d here)
    Ev  value size (= d here)

The embeddings are random but reproducible: a word's vector depends only on
the word (lower-cased) and the seed, so the same word always gets the same
vector. That is how a learned embedding table behaves too, and it makes the
point of positional encodings visible: without them, two copies of "the"
produce identical rows everywhere.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass

import numpy as np

from lab.attention import FloatArray, scaled_dot_product_attention


@dataclass(frozen=True)
class SelfAttentionConfig:
    """Settings of the step-by-step demo."""

    d_model: int = 5  # embedding size d; the seed text's example uses 5
    seed: int = 0  # one seed for the embeddings and W_q, W_k, W_v
    positional: bool = False  # add sinusoidal positional encodings to X
    max_d_model: int = 16  # larger matrices stop being readable as heatmaps


@dataclass(frozen=True)
class SelfAttentionSteps:
    """Every stage of ``softmax(Q K^T / sqrt(E)) V`` for one sentence.

    Attributes:
        tokens: the ``L`` tokens.
        embeddings: ``(L, d)`` word vectors before positions are added.
        x: ``(L, d)`` the input, embeddings plus positional encodings if used.
        w_q, w_k, w_v: ``(d, E)``, ``(d, E)``, ``(d, Ev)`` projection matrices.
        q, k, v: ``(L, E)``, ``(L, E)``, ``(L, Ev)``.
        scores: ``(L, L)`` raw dot products ``Q K^T``.
        scale: the factor ``1 / sqrt(E)``.
        scaled_scores: ``(L, L)`` ``scores * scale``.
        weights: ``(L, L)`` row-wise softmax of ``scaled_scores``; rows sum to 1.
        output: ``(L, Ev)`` ``weights @ v``.
    """

    tokens: tuple[str, ...]
    embeddings: FloatArray
    x: FloatArray
    w_q: FloatArray
    w_k: FloatArray
    w_v: FloatArray
    q: FloatArray
    k: FloatArray
    v: FloatArray
    scores: FloatArray
    scale: float
    scaled_scores: FloatArray
    weights: FloatArray
    output: FloatArray

    def contributions(self, query_index: int) -> FloatArray:
        """``(L, Ev)``: row ``j`` is ``weights[i, j] * v[j]``; the rows sum to ``output[i]``."""
        if not 0 <= query_index < len(self.tokens):
            raise ValueError(
                f"query_index must lie in [0, {len(self.tokens) - 1}], got {query_index}"
            )
        return self.weights[query_index][:, None] * self.v  # (L, Ev)


def word_embedding(token: str, d_model: int, seed: int) -> FloatArray:
    """A reproducible random vector for a word, ``(d,)`` with N(0, 1) entries.

    The vector depends on the lower-cased word and the seed only, via a stable
    checksum (Python's ``hash`` changes between runs, so it is not used).
    """
    word_id = zlib.crc32(token.lower().encode("utf-8"))
    rng = np.random.default_rng([seed, word_id])
    return rng.standard_normal(d_model)


def embed(tokens: tuple[str, ...] | list[str], d_model: int, seed: int) -> FloatArray:
    """Stack :func:`word_embedding` for each token: ``(L, d)``."""
    if not tokens:
        return np.zeros((0, d_model))
    return np.stack([word_embedding(token, d_model, seed) for token in tokens])  # (L, d)


def sinusoidal_positions(length: int, d_model: int) -> FloatArray:
    """Sinusoidal positional encodings of the Transformer paper, ``(L, d)``.

    ``P[p, 2i] = sin(p / 10000^(2i/d))``, ``P[p, 2i+1] = cos(p / 10000^(2i/d))``.
    """
    if length < 0 or d_model < 1:
        raise ValueError(f"need length >= 0 and d_model >= 1, got {length} and {d_model}")
    positions = np.arange(length)[:, None]  # (L, 1)
    pair_index = np.arange(0, d_model, 2)  # (ceil(d/2),)
    frequencies = np.exp(-math.log(10000.0) * pair_index / d_model)
    angles = positions * frequencies  # (L, ceil(d/2))
    encoding = np.zeros((length, d_model))
    encoding[:, 0::2] = np.sin(angles)
    encoding[:, 1::2] = np.cos(angles[:, : d_model // 2])
    return encoding


def projection_matrices(d_model: int, seed: int) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Random ``W_q, W_k, W_v`` of shape ``(d, d)``, entries N(0, 1/d).

    The ``1/d`` variance keeps the entries of Q, K and V near unit variance when
    X has unit-variance entries, so the raw scores have variance about ``d``.
    """
    rng = np.random.default_rng([seed, 1])  # a stream apart from the word vectors
    w_q, w_k, w_v = rng.standard_normal((3, d_model, d_model)) / math.sqrt(d_model)
    return w_q, w_k, w_v


def self_attention_steps(
    tokens: tuple[str, ...] | list[str], config: SelfAttentionConfig = SelfAttentionConfig()
) -> SelfAttentionSteps:
    """Run single-head self-attention on ``tokens`` and keep every stage.

    ``Q = X W_q``, ``K = X W_k``, ``V = X W_v``,
    ``weights = softmax(Q K^T / sqrt(E))``, ``output = weights V``.
    The last two come from :func:`lab.attention.scaled_dot_product_attention`.

    Raises:
        ValueError: if there are no tokens or ``d_model`` is out of range.
    """
    tokens = tuple(tokens)
    if not tokens:
        raise ValueError("self-attention needs at least one token")
    if not 1 <= config.d_model <= config.max_d_model:
        raise ValueError(f"d_model must lie in [1, {config.max_d_model}], got {config.d_model}")
    embeddings = embed(tokens, config.d_model, config.seed)  # (L, d)
    x = (
        embeddings + sinusoidal_positions(len(tokens), config.d_model)
        if config.positional
        else embeddings
    )
    w_q, w_k, w_v = projection_matrices(config.d_model, config.seed)
    q, k, v = x @ w_q, x @ w_k, x @ w_v  # (L, E), (L, E), (L, Ev)
    scale = 1.0 / math.sqrt(q.shape[-1])
    scores = q @ k.T  # (L, L)
    output, weights = scaled_dot_product_attention(q, k, v, scale=scale)  # (L, Ev), (L, L)
    return SelfAttentionSteps(
        tokens=tokens,
        embeddings=embeddings,
        x=x,
        w_q=w_q,
        w_k=w_k,
        w_v=w_v,
        q=q,
        k=k,
        v=v,
        scores=scores,
        scale=scale,
        scaled_scores=scores * scale,
        weights=weights,
        output=output,
    )
