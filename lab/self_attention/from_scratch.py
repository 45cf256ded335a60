"""Self-attention in a dozen lines of numpy: the code the step-by-step page shows.

The page prints this function with ``inspect.getsource``, so what a learner
reads is what runs; a test checks it against
:func:`lab.attention.scaled_dot_product_attention` and torch.

Shapes: ``x`` is ``(L, d)``, ``w_q`` and ``w_k`` are ``(d, d_k)``, ``w_v`` is
``(d, d_v)``; the output is ``(L, d_v)`` and the weights ``(L, L)``.
"""

import numpy as np


def self_attention(
    x: np.ndarray, w_q: np.ndarray, w_k: np.ndarray, w_v: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Return (output, weights) of single-head self-attention over the rows of x."""
    q = x @ w_q  # (L, d_k): what each token looks for
    k = x @ w_k  # (L, d_k): what each token offers to be found by
    v = x @ w_v  # (L, d_v): what each token contributes to the average
    scores = q @ k.T / np.sqrt(k.shape[-1])  # (L, L): query i against key j, scaled
    scores = scores - scores.max(axis=-1, keepdims=True)  # same softmax, exp cannot overflow
    weights = np.exp(scores)
    weights = weights / weights.sum(axis=-1, keepdims=True)  # each row sums to 1
    output = weights @ v  # (L, d_v): row i is a weighted average of the value rows
    return output, weights
