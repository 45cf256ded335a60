"""The tiny transformer: shipped checkpoint, numpy vs torch forward, training, ablation."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import numpy as np
import pytest
import torch

from lab.head_patterns import PATTERNS, SPECIALISED_AT, PatternScores
from lab.tiny_transformer import (
    CHECKPOINT,
    IGNORE,
    JOBS,
    TinyConfig,
    TrainConfig,
    check_weights,
    evaluate,
    forward,
    gates_without,
    held_out_sentences,
    init_weights,
    job_answer,
    knockout_effects,
    load_checkpoint,
    make_batch,
    measure_patterns,
    parameter_shapes,
    save_checkpoint,
    top_predictions,
    torch_forward,
    train,
)
from lab.toy_language import PAD, TOKEN_IDS, TOKENS, encode, tokenize

# A tiny run for tests: a few seconds at most.
SMALL = TrainConfig(seed=1, steps=25, batch_size=16, train_sentences=200, eval_sentences=20)


@pytest.fixture(scope="module")
def shipped():
    return load_checkpoint()


@pytest.fixture(scope="module")
def held_out(shipped):
    return held_out_sentences(shipped.train_config)


def test_checkpoint_is_small_and_complete(shipped):
    npz, record = CHECKPOINT.with_suffix(".npz"), CHECKPOINT.with_suffix(".json")
    assert npz.stat().st_size + record.stat().st_size < 1_000_000
    check_weights(shipped.weights, shipped.config)
    assert all(value.dtype == np.float32 for value in shipped.weights.values())
    assert shipped.config.d_model <= 64 and 2 <= shipped.config.num_heads <= 4
    assert shipped.config.num_layers in (1, 2)
    assert shipped.scores.shape == (
        shipped.config.num_layers,
        shipped.config.num_heads,
        len(PATTERNS),
    )


def test_checkpoint_reproduces_its_recorded_pattern_scores(shipped, held_out):
    assert len(held_out) == shipped.train_config.eval_sentences
    measured = measure_patterns(shipped.weights, held_out, shipped.config)
    np.testing.assert_allclose(measured, shipped.scores, atol=1e-8, equal_nan=True)


def test_checkpoint_reproduces_its_recorded_accuracies(shipped, held_out):
    measured = evaluate(shipped.weights, held_out, shipped.config)
    for name, value in measured.items():
        assert value == pytest.approx(shipped.metrics[name], abs=1e-6)
        assert value >= 0.95  # every job is learned


def test_at_least_two_heads_specialise_in_different_patterns(shipped, held_out):
    recomputed = measure_patterns(shipped.weights, held_out, shipped.config)
    found = {}
    for layer in range(shipped.config.num_layers):
        scores = PatternScores(recomputed[layer], np.zeros(len(PATTERNS), dtype=np.int64))
        for head, pattern in scores.specialised().items():
            assert scores.score(head, pattern) >= SPECIALISED_AT
            found[(layer, head)] = pattern
    assert len(set(found.values())) >= 2, found


def test_numpy_forward_equals_torch_forward(shipped):
    config = shipped.config
    sentences = [tokenize(text).tokens for text in ("The girl sat on the mat.", "a dog ran")]
    inputs, _, valid = make_batch(sentences, config.max_len)
    params = {
        name: torch.tensor(value, dtype=torch.float64) for name, value in shipped.weights.items()
    }
    gates = gates_without([(0, 1), (1, 3)], config)
    theirs, their_weights = torch_forward(
        params, torch.from_numpy(inputs), torch.from_numpy(valid), config, torch.tensor(gates)
    )
    for row, sentence in enumerate(sentences):
        length = len(sentence)
        ours = forward(shipped.weights, encode(sentence), config, head_gates=gates)
        # padding is masked out as a key, so the real tokens do not see it
        np.testing.assert_allclose(
            ours.logits, theirs[row, :, :length].numpy(), atol=1e-9, rtol=1e-9
        )
        for layer, trace in enumerate(ours.layers):
            np.testing.assert_allclose(
                trace.attention.head_weights,
                their_weights[layer][row, :, :length, :length].numpy(),
                atol=1e-9,
            )
        np.testing.assert_allclose(ours.probabilities.sum(axis=-1), 1.0, atol=1e-12)


def test_batched_forward_equals_one_sentence_at_a_time(shipped):
    ids = np.stack(
        [encode(s) for s in held_out_sentences(shipped.train_config)[:50] if len(s) == 10]
    )
    batched = forward(shipped.weights, ids, shipped.config).probabilities
    for row, sentence_ids in enumerate(ids):
        single = forward(shipped.weights, sentence_ids, shipped.config).probabilities
        np.testing.assert_allclose(batched[row], single, atol=1e-12)


def test_switching_off_the_previous_token_head_hurts_its_job_most(shipped, held_out):
    config = shipped.config
    previous = PATTERNS.index("previous")
    layer, head = np.unravel_index(
        np.argmax(shipped.scores[..., previous]), shipped.scores.shape[:2]
    )
    job = JOBS.index("previous")
    drops = np.zeros((config.num_layers, config.num_heads))
    for sentence in held_out[:40]:
        ids = encode(sentence)
        full = forward(shipped.weights, ids, config).probabilities[job]
        for position in range(1, len(sentence)):
            answer = ids[position - 1]
            effects = knockout_effects(shipped.weights, ids, "previous", position, answer, config)
            drops += full[position, answer] - effects
    assert np.unravel_index(np.argmax(drops), drops.shape) == (layer, head)


def test_make_batch_targets_and_padding():
    sentence = ("the", "girl", "saw", "the", "dog", "because", "she", "ran", ".")
    inputs, targets, valid = make_batch([sentence, ("a", "cat")], max_len=12)
    assert inputs.shape == (2, 12) and targets.shape == (2, len(JOBS), 12)
    ids = encode(sentence)
    np.testing.assert_array_equal(inputs[0, :9], ids)
    assert (
        np.all(inputs[1, 2:] == TOKEN_IDS[PAD]) and valid[1].tolist() == [True] * 2 + [False] * 10
    )
    np.testing.assert_array_equal(targets[0, 0, 1:9], ids[:8])  # previous word
    np.testing.assert_array_equal(targets[0, 1, :8], ids[1:])  # next word
    assert targets[0, 0, 0] == IGNORE and targets[0, 1, 8] == IGNORE
    assert np.flatnonzero(targets[0, 2] != IGNORE).tolist() == [6]  # only the pronoun ...
    assert targets[0, 2, 6] == TOKEN_IDS["girl"]  # ... whose referent is the girl
    assert np.all(targets[:, :, ~valid[1]][1] == IGNORE)
    with pytest.raises(ValueError, match="more than max_len"):
        make_batch([("the",) * 5], max_len=4)


def test_training_is_reproducible_and_learns():
    calls = []
    first = train(TinyConfig(), SMALL, progress=lambda *args: calls.append(args))
    second = train(TinyConfig(), SMALL)
    for name, value in first.weights.items():
        np.testing.assert_array_equal(value, second.weights[name])
    assert calls[-1][:2] == (SMALL.steps, SMALL.steps)
    assert [step for step, _, _ in calls] == sorted(step for step, _, _ in calls)
    assert first.loss_history[-1] < first.loss_history[0]
    assert first.scores.shape == (2, 4, len(PATTERNS))
    assert torch.get_num_threads() >= 1  # the thread count is restored


def test_checkpoint_round_trip(tmp_path):
    model = train(TinyConfig(), replace(SMALL, steps=5))
    npz, record = save_checkpoint(model, tmp_path / "tiny")
    loaded = load_checkpoint(npz)
    assert loaded.config == model.config and loaded.train_config == model.train_config
    for name, value in model.weights.items():
        np.testing.assert_array_equal(loaded.weights[name], value)
    np.testing.assert_allclose(loaded.scores, model.scores, atol=1e-9, equal_nan=True)
    assert json.loads(record.read_text())["vocabulary"] == list(TOKENS)


def test_stale_or_missing_checkpoints_say_how_to_rebuild(tmp_path):
    with pytest.raises(ValueError, match=r"train_tiny_transformer\.py"):
        load_checkpoint(tmp_path / "missing.npz")
    model = train(TinyConfig(), replace(SMALL, steps=2))
    npz, record = save_checkpoint(model, tmp_path / "tiny")
    data = json.loads(record.read_text())
    data["vocabulary"] = data["vocabulary"][:-1]
    record.write_text(json.dumps(data))
    with pytest.raises(ValueError, match="another vocabulary"):
        load_checkpoint(npz)


def test_initial_weights_have_the_documented_shapes_and_scale():
    config = TinyConfig()
    weights = init_weights(config, seed=0)
    assert {name: value.shape for name, value in weights.items()} == parameter_shapes(config)
    w_q = weights["layers.0.w_q"]
    assert abs(w_q.std() - 1 / math.sqrt(config.d_model)) < 0.03
    with pytest.raises(ValueError, match="missing"):
        check_weights({"token_embedding": weights["token_embedding"]}, config)


def test_job_answers():
    tokens = ("the", "girl", "saw", "the", "dog", "because", "she", "ran", ".")
    assert job_answer(tokens, "previous", 0) is None and job_answer(tokens, "previous", 4) == 3
    assert job_answer(tokens, "next", 8) is None and job_answer(tokens, "next", 4) == 5
    assert job_answer(tokens, "referent", 6) == 1 and job_answer(tokens, "referent", 4) is None
    with pytest.raises(ValueError, match="job must be one of"):
        job_answer(tokens, "colour", 1)
    with pytest.raises(ValueError, match="position must lie"):
        job_answer(tokens, "next", 9)


def test_forward_and_gates_reject_bad_inputs(shipped):
    with pytest.raises(ValueError, match="at least one token"):
        forward(shipped.weights, np.array([], dtype=np.int64))
    with pytest.raises(ValueError, match="knows 12 positions"):
        forward(shipped.weights, np.zeros(13, dtype=np.int64))
    with pytest.raises(ValueError, match="must lie in"):
        forward(shipped.weights, np.array([len(TOKENS)]))
    with pytest.raises(ValueError, match="must be integers"):
        forward(shipped.weights, np.array([0.5]))
    with pytest.raises(ValueError, match=r"head_gates must have shape \(2, 4\)"):
        forward(shipped.weights, np.array([1, 2]), head_gates=np.ones(4))
    with pytest.raises(ValueError, match="no head"):
        gates_without([(2, 0)])
    with pytest.raises(ValueError, match="multiple of num_heads"):
        TinyConfig(d_model=30, num_heads=4)
    with pytest.raises(ValueError, match="steps must be a positive integer"):
        TrainConfig(steps=0)


def test_top_predictions_are_sorted_and_skip_padding():
    probabilities = np.zeros(len(TOKENS))
    probabilities[TOKEN_IDS[PAD]] = 0.5
    probabilities[TOKEN_IDS["cat"]] = 0.3
    probabilities[TOKEN_IDS["dog"]] = 0.2
    top = top_predictions(probabilities, k=2)
    assert top == [("cat", 0.3), ("dog", 0.2)]
    with pytest.raises(ValueError):
        top_predictions(np.ones(3))
