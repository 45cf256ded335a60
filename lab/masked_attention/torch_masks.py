"""The same masks in torch: the calls the page shows, run for real.

The page prints these functions with ``inspect.getsource``, and the tests run
them against :func:`lab.masked_attention.batch_attention`, so the snippet a
learner copies is code that works with torch 2.13. torch is imported inside
each function: importing this module (or the page) does not import torch.

Shapes (right padding: the real tokens come first):
    B   sentences
    S   padded length (keys; also the queries in self-attention)
    E   query/key size, Ev value size, d model size
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike


def torch_masked_attention(
    q: ArrayLike, k: ArrayLike, v: ArrayLike, valid_lens: ArrayLike, *, causal: bool = False
) -> np.ndarray:
    """Padding (and causal) masked attention with torch's SDPA, where True = may attend."""
    import torch
    import torch.nn.functional as F

    q, k, v = (torch.as_tensor(array) for array in (q, k, v))  # (B, S, E), (B, S, E), (B, S, Ev)
    S = k.shape[-2]
    real = torch.arange(S) < torch.as_tensor(valid_lens)[:, None]  # (B, S): True = real token
    allowed = real[:, None, :]  # (B, 1, S): a query axis, so it broadcasts over the queries
    if causal:
        allowed = allowed & torch.ones(S, S, dtype=torch.bool).tril()  # (B, S, S): keys j <= i
    return F.scaled_dot_product_attention(q, k, v, attn_mask=allowed).numpy()  # (B, S, Ev)


def torch_multihead_attention(
    mha: Any,
    x: ArrayLike,
    valid_lens: ArrayLike,
    *,
    causal: bool = False,
    need_weights: bool = True,
) -> tuple[np.ndarray, np.ndarray | None]:
    """The same masks for ``nn.MultiheadAttention``, whose boolean masks mean True = ignore."""
    import torch

    x = torch.as_tensor(x)  # (B, S, d); the module was built with batch_first=True
    S = x.shape[-2]
    real = torch.arange(S) < torch.as_tensor(valid_lens)[:, None]  # (B, S): True = real token
    ahead = torch.ones(S, S, dtype=torch.bool).triu(1) if causal else None  # True = ignore
    with torch.no_grad():
        output, weights = mha(
            x, x, x, key_padding_mask=~real, attn_mask=ahead, need_weights=need_weights
        )
    return output.numpy(), None if weights is None else weights.numpy()  # (B, S, d), (B, S, S)
