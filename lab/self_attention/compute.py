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
from dataclasses import dataclass

from lab.attention import FloatArray, scaled_dot_product_attention
from lab.checks import check_int
from lab.embeddings import embed, projection_matrices
from lab.position import sinusoidal_positions


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
    check_int("d_model", config.d_model, minimum=1, maximum=config.max_d_model)
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
