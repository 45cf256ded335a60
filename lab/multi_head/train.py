"""Training the tiny transformer with torch: the only module of ``lab.multi_head`` that imports it.

A page imports this module inside the function that retrains, so showing the
shipped checkpoint (:func:`lab.multi_head.load_checkpoint`) never loads torch.
The forward pass here is the torch twin of :func:`lab.multi_head.forward`
(numpy); the tests check that the two agree to 1e-9 in float64.

Shapes:
    B   batch of sentences (padded to one length)
    L   positions
    V   vocabulary size
    d   model size
    H   heads per layer
    E   d / H, query/key/value size per head
    N   layers
    J   jobs (3: previous word, next word, referent)
"""

from __future__ import annotations

import math
import time

import numpy as np
import torch

from lab.multi_head.tiny_transformer import (
    IGNORE,
    LAYER_NORM_EPS,
    ProgressCallback,
    TinyConfig,
    TinyTrainConfig,
    TrainedModel,
    finish,
    init_weights,
    make_batch,
)
from lab.multi_head.toy_language import generate_sentences
from lab.torch_utils import use_one_thread


def torch_forward(
    params: dict[str, torch.Tensor],
    ids: torch.Tensor,
    valid: torch.Tensor,
    config: TinyConfig,
    head_gates: torch.Tensor | None = None,
) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """The forward pass of :func:`lab.multi_head.forward`, in torch, for a padded batch.

    Args:
        params: name -> tensor, shaped as :func:`lab.multi_head.parameter_shapes` says.
        ids: ``(B, L)`` long tensor; valid: ``(B, L)`` bool tensor (False at padding).
        head_gates: optional ``(N, H)`` tensor multiplying each head's output.

    Returns:
        ``(logits, weights)``: logits of shape ``(B, J, L, V)``, one distribution
        over the vocabulary per job ``J`` (previous word, next word, referent;
        see :class:`lab.multi_head.Job`) and position; weights a list of ``N``
        tensors ``(B, H, L, L)``, one per layer.
    """
    batch, length = ids.shape
    H, E = config.num_heads, config.head_size
    x = params["token_embedding"][ids] + params["position_embedding"][:length]  # (B, L, d)
    may_attend = valid[:, None, None, :]  # (B, 1, 1, S): padding is never a key
    all_weights = []
    for layer in range(config.num_layers):
        p = f"layers.{layer}."
        h = torch.nn.functional.layer_norm(
            x, (config.d_model,), params[p + "ln1.weight"], params[p + "ln1.bias"], LAYER_NORM_EPS
        )

        def heads(matrix: torch.Tensor, h: torch.Tensor = h) -> torch.Tensor:
            return (h @ matrix).view(batch, length, H, E).transpose(1, 2)  # (B, H, L, E)

        q, k, v = heads(params[p + "w_q"]), heads(params[p + "w_k"]), heads(params[p + "w_v"])
        scores = q @ k.transpose(-1, -2) / math.sqrt(E)  # (B, H, L, S)
        scores = scores.masked_fill(~may_attend, float("-inf"))
        weights = torch.softmax(scores, dim=-1)  # (B, H, L, S)
        out = weights @ v  # (B, H, L, E)
        if head_gates is not None:
            out = out * head_gates[layer][None, :, None, None]
        concat = out.transpose(1, 2).reshape(batch, length, config.d_model)  # (B, L, H*E)
        x = x + concat @ params[p + "w_o"]
        h2 = torch.nn.functional.layer_norm(
            x, (config.d_model,), params[p + "ln2.weight"], params[p + "ln2.bias"], LAYER_NORM_EPS
        )
        x = (
            x
            + torch.relu(h2 @ params[p + "ff.w1"] + params[p + "ff.b1"]) @ params[p + "ff.w2"]
            + params[p + "ff.b2"]
        )
        all_weights.append(weights)
    final = torch.nn.functional.layer_norm(
        x, (config.d_model,), params["final_ln.weight"], params["final_ln.bias"], LAYER_NORM_EPS
    )
    # (B, 1, L, d) @ (J, d, V) -> (B, J, L, V)
    logits = final[:, None] @ params["readout.w"] + params["readout.b"][:, None, :]
    return logits, all_weights


def train(
    config: TinyConfig | None = None,
    train_config: TinyTrainConfig | None = None,
    progress: ProgressCallback | None = None,
) -> TrainedModel:
    """Train the tiny transformer with Adam, reproducibly from ``train_config.seed``.

    Batches are drawn (with a numpy generator seeded from the seed) from a pool
    of ``train_sentences`` grammar sentences; the loss is the cross-entropy at
    the positions :func:`lab.multi_head.make_batch` gives a target. At the end,
    the heads' pattern scores and the accuracies are measured on held-out
    sentences with the numpy forward pass (float32 weights), exactly as a
    checkpoint will be. torch runs on one thread (``lab.torch_utils``): for a
    model this small more threads only add overhead, and one thread keeps the
    arithmetic, so the weights, identical from run to run.

    Args:
        config: the model's shape (default :class:`TinyConfig`).
        train_config: the run's settings (default :class:`TinyTrainConfig`, the
            shipped model's).
        progress: called as ``progress(step, total_steps, loss)`` about 50 times.
    """
    use_one_thread()
    config = config or TinyConfig()
    train_config = train_config or TinyTrainConfig()
    started = time.perf_counter()
    pool = generate_sentences(train_config.train_sentences, train_config.seed)
    picker = np.random.default_rng([train_config.seed, 1])
    # Nothing draws from torch's global random state (a process-wide setting that
    # other sessions share): the weights come from ``init_weights``, the batches from
    # ``picker``.
    params = {
        name: torch.tensor(value, dtype=torch.float32, requires_grad=True)
        for name, value in init_weights(config, train_config.seed).items()
    }
    optimizer = torch.optim.Adam(params.values(), lr=train_config.learning_rate)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: 1.0 - 0.9 * step / max(train_config.steps, 1)
    )
    history: list[float] = []
    report_every = max(1, train_config.steps // 50)
    loss_value = float("nan")
    for step in range(1, train_config.steps + 1):
        picks = picker.integers(len(pool), size=train_config.batch_size)
        inputs, targets, valid = make_batch([pool[index] for index in picks], config.max_len)
        logits, _ = torch_forward(params, torch.from_numpy(inputs), torch.from_numpy(valid), config)
        loss = torch.nn.functional.cross_entropy(
            logits.reshape(-1, config.vocab_size),
            torch.from_numpy(targets).reshape(-1),
            ignore_index=IGNORE,
        )
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
        loss_value = float(loss.detach())
        if step % report_every == 0 or step == train_config.steps:
            history.append(loss_value)
            if progress is not None:
                progress(step, train_config.steps, loss_value)
    weights = {name: value.detach().numpy().astype(np.float32) for name, value in params.items()}
    return finish(
        config, train_config, weights, loss_value, tuple(history), time.perf_counter() - started
    )
