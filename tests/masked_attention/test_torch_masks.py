"""The torch code the page shows runs, agrees with the lab, and backs the page's claims (torch 2.13)."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch

from lab.masked_attention import (
    MaskingConfig,
    MaskKind,
    batch_attention,
    embed_batch,
    pad_batch,
)
from lab.masked_attention.torch_masks import torch_masked_attention, torch_multihead_attention
from lab.text import tokenize
from tests.masked_attention.torch_helpers import multihead_from

ATOL, RTOL = 1e-5, 1.3e-6
SENTENCES = ("the cat sat on the mat", "dogs bark", "a small bird sings")


def test_torch_is_imported_only_inside_the_functions():
    source = open(sys.modules[torch_masked_attention.__module__].__file__).read()
    assert "\nimport torch" not in source and "\nfrom torch" not in source
    assert source.count("    import torch\n") == 2


def batch_of(*sentences: str):
    return pad_batch([tokenize(sentence).tokens for sentence in sentences])


@pytest.mark.parametrize("kind", [MaskKind.PADDING, MaskKind.PADDING_AND_CAUSAL])
def test_the_sdpa_code_shown_gives_the_lab_outputs(kind):
    batch = batch_of(*SENTENCES, "")
    attention = batch_attention(batch, kind, MaskingConfig(d_model=5, seed=3))
    output = torch_masked_attention(
        attention.q, attention.k, attention.v, batch.valid_lens, causal=kind.causal
    )
    assert output.shape == attention.output.shape
    np.testing.assert_allclose(output, attention.output, atol=ATOL, rtol=RTOL)
    # The empty sentence: SDPA gives its fully masked rows a zero output, as the lab does.
    assert np.all(output[3] == 0) and np.all(attention.output[3] == 0)


@pytest.mark.parametrize("kind", [MaskKind.PADDING, MaskKind.PADDING_AND_CAUSAL])
def test_the_multihead_code_shown_gives_the_lab_weights(kind):
    batch = batch_of(*SENTENCES)
    config = MaskingConfig(d_model=6, seed=2)
    attention = batch_attention(batch, kind, config)
    mha = multihead_from(config, bias=False)
    output, weights = torch_multihead_attention(
        mha, embed_batch(batch, config), batch.valid_lens, causal=kind.causal
    )
    np.testing.assert_allclose(output, attention.output, atol=ATOL, rtol=RTOL)
    np.testing.assert_allclose(weights, attention.weights, atol=ATOL, rtol=RTOL)


def test_multihead_attention_on_an_all_padding_sentence_depends_on_need_weights():
    """The page: NaN with need_weights=True (the default), an attention output of 0 without."""
    batch = batch_of("dogs bark", "")
    config = MaskingConfig()
    mha = multihead_from(config, bias=True)
    x = embed_batch(batch, config)
    output, weights = torch_multihead_attention(mha, x, batch.valid_lens, need_weights=True)
    assert np.isnan(output[1]).all() and np.isnan(weights[1]).all()
    assert not np.isnan(output[0]).any()
    output, weights = torch_multihead_attention(mha, x, batch.valid_lens, need_weights=False)
    assert weights is None
    bias = mha.out_proj.bias.detach().numpy()
    np.testing.assert_array_equal(output[1], np.broadcast_to(bias, output[1].shape))
    # need_weights=True is nn.MultiheadAttention's default.
    x_t = torch.tensor(x)
    ignore = torch.tensor([[False, False], [True, True]])
    with torch.no_grad():
        default_output, default_weights = mha(x_t, x_t, x_t, key_padding_mask=ignore)
    assert default_weights is not None and torch.isnan(default_output[1]).all()
    ours = batch_attention(batch, MaskKind.PADDING, config).output
    assert np.all(ours[1] == 0)
