"""A one-head ``nn.MultiheadAttention`` built from the lab's projections, for the torch comparisons."""

from __future__ import annotations

import numpy as np
import torch

from lab.embeddings import projection_matrices
from lab.masked_attention import MaskingConfig


def multihead_from(config: MaskingConfig, *, bias: bool = False) -> torch.nn.MultiheadAttention:
    """One head with the lab's W_q, W_k, W_v; ``out_proj`` the identity, plus 1, 2, … if ``bias``."""
    d = config.d_model
    mha = torch.nn.MultiheadAttention(d, 1, bias=bias, batch_first=True, dtype=torch.float64)
    w_q, w_k, w_v = projection_matrices(d, config.seed)
    with torch.no_grad():
        # nn.Linear computes x @ W.T, and the lab's projections are x @ w, so W = w.T.
        mha.in_proj_weight.copy_(torch.tensor(np.concatenate([w_q.T, w_k.T, w_v.T])))
        mha.out_proj.weight.copy_(torch.eye(d, dtype=torch.float64))
        if bias:
            mha.in_proj_bias.zero_()
            mha.out_proj.bias.copy_(torch.arange(1.0, d + 1, dtype=torch.float64))
    return mha
