"""The tiny transformer: shipped checkpoint, numpy vs torch forward, training, ablation."""

from __future__ import annotations

import json
import math
import threading
from dataclasses import replace

import numpy as np
import pytest
import torch

from lab.multi_head import (
    CHECKPOINT,
    IGNORE,
    JOBS,
    PAD,
    PATTERNS,
    SPECIALISED_AT,
    TOKEN_IDS,
    TOKENS,
    Job,
    PatternScores,
    TinyConfig,
    TinyTrainConfig,
    as_job,
    check_weights,
    encode,
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
    toy_tokens,
)
from lab.multi_head.train import torch_forward, train
from tests.multi_head.helpers import exactly

# A tiny run for tests: a few seconds at most.
SMALL = TinyTrainConfig(seed=1, steps=25, batch_size=16, train_sentences=200, eval_sentences=20)


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
    sentences = [toy_tokens(text).tokens for text in ("The girl sat on the mat.", "a dog ran")]
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


def test_training_runs_torch_on_one_thread():
    """As a page does: in a thread of its own (Streamlit runs each script run in one)."""
    seen = []

    def run() -> None:
        train(
            TinyConfig(),
            replace(SMALL, steps=2),
            progress=lambda *_: seen.append(torch.get_num_threads()),
        )

    worker = threading.Thread(target=run)
    worker.start()
    worker.join()
    assert seen and set(seen) == {1}


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
    missing = tmp_path / "missing"
    with pytest.raises(
        ValueError,
        match=exactly(
            f"no checkpoint at {missing}.npz and {missing}.json; "
            "run `python scripts/train_tiny_transformer.py` to make one"
        ),
    ):
        load_checkpoint(tmp_path / "missing.npz")
    model = train(TinyConfig(), replace(SMALL, steps=2))
    npz, record = save_checkpoint(model, tmp_path / "tiny")
    data = json.loads(record.read_text())
    data["vocabulary"] = data["vocabulary"][:-1]
    record.write_text(json.dumps(data))
    with pytest.raises(
        ValueError,
        match=exactly(
            "the checkpoint was trained on another vocabulary; "
            "run `python scripts/train_tiny_transformer.py` to retrain it"
        ),
    ):
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
    assert job_answer(tokens, Job.REFERENT, 6) == 1  # the enum and its value are the same job
    with pytest.raises(
        ValueError, match=exactly("job must be one of previous, next, referent, got 'colour'")
    ):
        job_answer(tokens, "colour", 1)
    with pytest.raises(ValueError, match=exactly("position must lie in [0, 8], got 9")):
        job_answer(tokens, "next", 9)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda weights: forward(weights, np.array([], dtype=np.int64)),
            "forward needs at least one token",
        ),
        (
            lambda weights: forward(weights, np.zeros(13, dtype=np.int64)),
            "the model knows 12 positions, got 13 tokens",
        ),
        (
            lambda weights: forward(weights, np.array([len(TOKENS)])),
            "token ids must lie in [0, 45]",
        ),
        (
            lambda weights: forward(weights, np.array([0.5])),
            "token ids must be integers, got dtype float64",
        ),
        (
            lambda weights: forward(weights, np.array([1, 2]), head_gates=np.ones(4)),
            "head_gates must have shape (2, 4), got (4,)",
        ),
        (
            lambda weights: gates_without([(2, 0)]),
            "no head (2, 0) in a model of 2 layers with 4 heads",
        ),
        (
            lambda weights: TinyConfig(d_model=30, num_heads=4),
            "d_model (30) must be a multiple of num_heads (4)",
        ),
        (lambda weights: TinyConfig(d_ff=0), "d_ff must be at least 1, got 0"),
        (lambda weights: TinyTrainConfig(steps=0), "steps must be at least 1, got 0"),
        (lambda weights: TinyTrainConfig(seed=-1), "seed must be at least 0, got -1"),
        (
            lambda weights: TinyTrainConfig(learning_rate=1.5),
            "learning_rate must lie in (0, 1), got 1.5",
        ),
        (
            lambda weights: as_job("colour"),
            "job must be one of previous, next, referent, got 'colour'",
        ),
    ],
)
def test_forward_configs_and_gates_reject_bad_inputs(shipped, call, message):
    with pytest.raises(ValueError, match=exactly(message)):
        call(shipped.weights)


def test_top_predictions_are_sorted_and_skip_padding():
    probabilities = np.zeros(len(TOKENS))
    probabilities[TOKEN_IDS[PAD]] = 0.5
    probabilities[TOKEN_IDS["cat"]] = 0.3
    probabilities[TOKEN_IDS["dog"]] = 0.2
    top = top_predictions(probabilities, k=2)
    assert top == [("cat", 0.3), ("dog", 0.2)]
    with pytest.raises(ValueError):
        top_predictions(np.ones(3))


def test_the_checkpoint_is_named_after_the_page():
    assert CHECKPOINT.name == "multi_head.npz"
    assert CHECKPOINT.parent.name == "checkpoints" and CHECKPOINT.parent.parent.name == "lab"
    assert CHECKPOINT.with_suffix(".json").exists()


def test_torch_forward_returns_one_distribution_per_job_and_position(shipped):
    config = shipped.config
    sentences = [toy_tokens("the girl sat .").tokens, toy_tokens("a dog ran").tokens]
    inputs, _, valid = make_batch(sentences, max_len=5)
    params = {name: torch.tensor(value) for name, value in shipped.weights.items()}
    logits, weights = torch_forward(
        params, torch.from_numpy(inputs), torch.from_numpy(valid), config
    )
    assert tuple(logits.shape) == (2, len(JOBS), 5, config.vocab_size)  # (B, J, L, V)
    assert len(weights) == config.num_layers
    assert all(tuple(w.shape) == (2, config.num_heads, 5, 5) for w in weights)  # (B, H, L, L)
    # padding is never a key: its column gets exactly zero weight
    assert torch.all(weights[0][1, :, :, 3:] == 0)


def test_round_trip_keeps_every_recorded_field(tmp_path):
    model = train(TinyConfig(), replace(SMALL, steps=4, eval_sentences=6))
    model = replace(model, scores=np.where(np.arange(6) == 4, np.nan, model.scores))
    _, record_path = save_checkpoint(model, tmp_path / "run")
    record = json.loads(record_path.read_text())
    assert record["train_config"]["steps"] == 4 and record["train_config"]["eval_sentences"] == 6
    assert record["patterns"] == [pattern.value for pattern in PATTERNS]
    assert record["pattern_scores"][0][0][4] is None  # NaN is written as null
    loaded = load_checkpoint(tmp_path / "run.npz")
    assert np.isnan(loaded.scores[..., 4]).all()
    assert loaded.metrics == pytest.approx({k: round(v, 6) for k, v in model.metrics.items()})
    assert loaded.loss_history == tuple(round(value, 5) for value in model.loss_history)
    assert set(loaded.metrics) == {
        "final_loss",
        "previous_accuracy",
        "next_accuracy",
        "referent_accuracy",
        "train_seconds",
    }


def test_switching_off_the_previous_token_head_costs_its_job_a_third_of_the_words(
    shipped, held_out
):
    config = shipped.config
    all_on = evaluate(shipped.weights, held_out, config)
    without = evaluate(
        shipped.weights, held_out, config, head_gates=gates_without([(0, 1)], config)
    )
    assert all_on["previous_accuracy"] == 1.0
    assert without["previous_accuracy"] == pytest.approx(0.6402, abs=1e-4)
    assert without["next_accuracy"] > 0.99 and without["referent_accuracy"] == 1.0
    everything_off = np.zeros((config.num_layers, config.num_heads))
    blind = evaluate(shipped.weights, held_out, config, head_gates=everything_off)
    assert blind["previous_accuracy"] < without["previous_accuracy"]


def test_jobs_are_a_closed_set_with_labels():
    assert JOBS == tuple(Job) == (Job.PREVIOUS, Job.NEXT, Job.REFERENT)
    assert [job.label for job in JOBS] == [
        "the word before it",
        "the word after it",
        "the noun it refers to",
    ]
    assert as_job("next") is Job.NEXT and as_job(Job.NEXT) is Job.NEXT
