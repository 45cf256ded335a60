"""Reproducible random word vectors and projections, shared by the sentence demos.

A word's vector depends only on the word (lower-cased) and the seed, so the
same word always gets the same vector, as a learned embedding table would
give it: that is what makes two copies of "the" produce identical rows when
no position is added. The step-by-step, masked and position pages draw their
inputs here, so one sentence and one seed mean the same numbers on each.

Shapes:
    L   tokens
    d   embedding size (also the query, key and value size here)
"""

from __future__ import annotations

import math
import zlib

import numpy as np

from lab.attention import FloatArray


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


def projection_matrices(d_model: int, seed: int) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Random ``W_q, W_k, W_v`` of shape ``(d, d)``, entries N(0, 1/d).

    The ``1/d`` variance keeps the entries of Q, K and V near unit variance when
    X has unit-variance entries, so the raw scores have variance about ``d``.
    """
    rng = np.random.default_rng([seed, 1])  # a stream apart from the word vectors
    w_q, w_k, w_v = rng.standard_normal((3, d_model, d_model)) / math.sqrt(d_model)
    return w_q, w_k, w_v
