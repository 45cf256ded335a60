"""The tiny transformer: shipped checkpoint, numpy vs torch forward, training, ablation."""

from __future__ import annotations

import json
import math
import threading
from dataclasses import replace

import numpy as np
import pytest
import torch

import lab.multi_head.tiny_transformer as tiny
from lab.multi_head import (
    PAD,
    PATTERNS,
    SPECIALISED_AT,
    TOKEN_IDS,
    TOKENS,
    PatternScores,
    encode,
    toy_tokens,
)
from lab.multi_head.train import torch_forward, train
from tests.multi_head.helpers import exactly
from tests.refusals import assert_refuses

# A tiny run for tests: a few seconds at most.
SMALL = tiny.TinyTrainConfig(
    seed=1, steps=25, batch_size=16, train_sentences=200, eval_sentences=20
)


@pytest.fixture(scope="module")
def held_out(shipped):
    return tiny.held_out_sentences(shipped.train_config)


def test_checkpoint_is_small_and_complete(shipped):
    npz, record = tiny.CHECKPOINT.with_suffix(".npz"), tiny.CHECKPOINT.with_suffix(".json")
    assert npz.stat().st_size + record.stat().st_size < 1_000_000
    tiny.check_weights(shipped.weights, shipped.config)
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
    measured = tiny.measure_patterns(shipped.weights, held_out, shipped.config)
    np.testing.assert_allclose(measured, shipped.scores, atol=1e-8, equal_nan=True)


def test_checkpoint_reproduces_its_recorded_accuracies(shipped, held_out):
    measured = tiny.evaluate(shipped.weights, held_out, shipped.config)
    for name, value in measured.items():
        assert value == pytest.approx(shipped.metrics[name], abs=1e-6)
        assert value >= 0.95  # every job is learned


def test_at_least_two_heads_specialise_in_different_patterns(shipped, held_out):
    recomputed = tiny.measure_patterns(shipped.weights, held_out, shipped.config)
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
    inputs, _, valid = tiny.make_batch(sentences, config.max_len)
    params = {
        name: torch.tensor(value, dtype=torch.float64) for name, value in shipped.weights.items()
    }
    gates = tiny.gates_without([(0, 1), (1, 3)], config)
    theirs, their_weights = torch_forward(
        params, torch.from_numpy(inputs), torch.from_numpy(valid), config, torch.tensor(gates)
    )
    for row, sentence in enumerate(sentences):
        length = len(sentence)
        ours = tiny.forward(shipped.weights, encode(sentence), config, head_gates=gates)
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
        [encode(s) for s in tiny.held_out_sentences(shipped.train_config)[:50] if len(s) == 10]
    )
    batched = tiny.forward(shipped.weights, ids, shipped.config).probabilities
    for row, sentence_ids in enumerate(ids):
        single = tiny.forward(shipped.weights, sentence_ids, shipped.config).probabilities
        np.testing.assert_allclose(batched[row], single, atol=1e-12)


def test_switching_off_the_previous_token_head_hurts_its_job_most(shipped, held_out):
    config = shipped.config
    previous = PATTERNS.index("previous")
    layer, head = np.unravel_index(
        np.argmax(shipped.scores[..., previous]), shipped.scores.shape[:2]
    )
    job = tiny.JOBS.index("previous")
    drops = np.zeros((config.num_layers, config.num_heads))
    for sentence in held_out[:40]:
        ids = encode(sentence)
        full = tiny.forward(shipped.weights, ids, config).probabilities[job]
        for position in range(1, len(sentence)):
            answer = ids[position - 1]
            effects = tiny.knockout_effects(
                shipped.weights, ids, "previous", position, answer, config
            )
            drops += full[position, answer] - effects
    assert np.unravel_index(np.argmax(drops), drops.shape) == (layer, head)


def test_make_batch_targets_and_padding():
    sentence = ("the", "girl", "saw", "the", "dog", "because", "she", "ran", ".")
    inputs, targets, valid = tiny.make_batch([sentence, ("a", "cat")], max_len=12)
    assert inputs.shape == (2, 12) and targets.shape == (2, len(tiny.JOBS), 12)
    ids = encode(sentence)
    np.testing.assert_array_equal(inputs[0, :9], ids)
    assert (
        np.all(inputs[1, 2:] == TOKEN_IDS[PAD]) and valid[1].tolist() == [True] * 2 + [False] * 10
    )
    np.testing.assert_array_equal(targets[0, 0, 1:9], ids[:8])  # previous word
    np.testing.assert_array_equal(targets[0, 1, :8], ids[1:])  # next word
    assert targets[0, 0, 0] == tiny.IGNORE and targets[0, 1, 8] == tiny.IGNORE
    assert np.flatnonzero(targets[0, 2] != tiny.IGNORE).tolist() == [6]  # only the pronoun ...
    assert targets[0, 2, 6] == TOKEN_IDS["girl"]  # ... whose referent is the girl
    assert np.all(targets[:, :, ~valid[1]][1] == tiny.IGNORE)
    with pytest.raises(ValueError, match="more than max_len"):
        tiny.make_batch([("the",) * 5], max_len=4)


def test_training_is_reproducible_and_learns():
    calls = []
    first = train(tiny.TinyConfig(), SMALL, progress=lambda *args: calls.append(args))
    second = train(tiny.TinyConfig(), SMALL)
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
            tiny.TinyConfig(),
            replace(SMALL, steps=2),
            progress=lambda *_: seen.append(torch.get_num_threads()),
        )

    worker = threading.Thread(target=run)
    worker.start()
    worker.join()
    assert seen and set(seen) == {1}


def test_checkpoint_round_trip(tmp_path):
    model = train(tiny.TinyConfig(), replace(SMALL, steps=5))
    npz, record = tiny.save_checkpoint(model, tmp_path / "tiny")
    loaded = tiny.load_checkpoint(npz)
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
        tiny.load_checkpoint(tmp_path / "missing.npz")
    model = train(tiny.TinyConfig(), replace(SMALL, steps=2))
    npz, record = tiny.save_checkpoint(model, tmp_path / "tiny")
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
        tiny.load_checkpoint(npz)


def test_initial_weights_have_the_documented_shapes_and_scale():
    config = tiny.TinyConfig()
    weights = tiny.init_weights(config, seed=0)
    assert {name: value.shape for name, value in weights.items()} == tiny.parameter_shapes(config)
    w_q = weights["layers.0.w_q"]
    assert abs(w_q.std() - 1 / math.sqrt(config.d_model)) < 0.03
    with pytest.raises(ValueError, match="missing"):
        tiny.check_weights({"token_embedding": weights["token_embedding"]}, config)


def test_job_answers():
    tokens = ("the", "girl", "saw", "the", "dog", "because", "she", "ran", ".")
    assert (
        tiny.job_answer(tokens, "previous", 0) is None
        and tiny.job_answer(tokens, "previous", 4) == 3
    )
    assert tiny.job_answer(tokens, "next", 8) is None and tiny.job_answer(tokens, "next", 4) == 5
    assert (
        tiny.job_answer(tokens, "referent", 6) == 1
        and tiny.job_answer(tokens, "referent", 4) is None
    )
    assert (
        tiny.job_answer(tokens, tiny.Job.REFERENT, 6) == 1
    )  # the enum and its value are the same job
    with pytest.raises(
        ValueError, match=exactly("job must be one of previous, next, referent, got 'colour'")
    ):
        tiny.job_answer(tokens, "colour", 1)
    with pytest.raises(ValueError, match=exactly("position must lie in [0, 8], got 9")):
        tiny.job_answer(tokens, "next", 9)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda weights: tiny.forward(weights, np.array([], dtype=np.int64)),
            "forward needs at least one token",
        ),
        (
            lambda weights: tiny.forward(weights, np.zeros(13, dtype=np.int64)),
            "the model knows 12 positions, got 13 tokens",
        ),
        (
            lambda weights: tiny.forward(weights, np.array([len(TOKENS)])),
            "token ids must lie in [0, 45]",
        ),
        (
            lambda weights: tiny.forward(weights, np.array([0.5])),
            "token ids must be integers, got dtype float64",
        ),
        (
            lambda weights: tiny.forward(weights, np.array([1, 2]), head_gates=np.ones(4)),
            "head_gates must have shape (2, 4), got (4,)",
        ),
        (
            lambda weights: tiny.gates_without([(2, 0)]),
            "no head (2, 0) in a model of 2 layers with 4 heads",
        ),
        (
            lambda weights: tiny.TinyConfig(d_model=30, num_heads=4),
            "d_model (30) must be a multiple of num_heads (4)",
        ),
        (lambda weights: tiny.TinyConfig(d_ff=0), "d_ff must be at least 1, got 0"),
        (lambda weights: tiny.TinyTrainConfig(steps=0), "steps must be at least 1, got 0"),
        (lambda weights: tiny.TinyTrainConfig(seed=-1), "seed must be at least 0, got -1"),
        (
            lambda weights: tiny.TinyTrainConfig(learning_rate=1.5),
            "learning_rate must lie in (0, 1), got 1.5",
        ),
        (
            lambda weights: tiny.as_job("colour"),
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
    top = tiny.top_predictions(probabilities, k=2)
    assert top == [("cat", 0.3), ("dog", 0.2)]
    with pytest.raises(ValueError):
        tiny.top_predictions(np.ones(3))


def test_the_checkpoint_is_named_after_the_page():
    assert tiny.CHECKPOINT.name == "multi_head.npz"
    assert (
        tiny.CHECKPOINT.parent.name == "checkpoints" and tiny.CHECKPOINT.parent.parent.name == "lab"
    )
    assert tiny.CHECKPOINT.with_suffix(".json").exists()


def test_torch_forward_returns_one_distribution_per_job_and_position(shipped):
    config = shipped.config
    sentences = [toy_tokens("the girl sat .").tokens, toy_tokens("a dog ran").tokens]
    inputs, _, valid = tiny.make_batch(sentences, max_len=5)
    params = {name: torch.tensor(value) for name, value in shipped.weights.items()}
    logits, weights = torch_forward(
        params, torch.from_numpy(inputs), torch.from_numpy(valid), config
    )
    assert tuple(logits.shape) == (2, len(tiny.JOBS), 5, config.vocab_size)  # (B, J, L, V)
    assert len(weights) == config.num_layers
    assert all(tuple(w.shape) == (2, config.num_heads, 5, 5) for w in weights)  # (B, H, L, L)
    # padding is never a key: its column gets exactly zero weight
    assert torch.all(weights[0][1, :, :, 3:] == 0)


def test_round_trip_keeps_every_recorded_field(tmp_path):
    model = train(tiny.TinyConfig(), replace(SMALL, steps=4, eval_sentences=6))
    model = replace(model, scores=np.where(np.arange(6) == 4, np.nan, model.scores))
    _, record_path = tiny.save_checkpoint(model, tmp_path / "run")
    record = json.loads(record_path.read_text())
    assert record["train_config"]["steps"] == 4 and record["train_config"]["eval_sentences"] == 6
    assert record["patterns"] == [pattern.value for pattern in PATTERNS]
    assert record["pattern_scores"][0][0][4] is None  # NaN is written as null
    loaded = tiny.load_checkpoint(tmp_path / "run.npz")
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
    all_on = tiny.evaluate(shipped.weights, held_out, config)
    without = tiny.evaluate(
        shipped.weights, held_out, config, head_gates=tiny.gates_without([(0, 1)], config)
    )
    assert all_on["previous_accuracy"] == 1.0
    assert without["previous_accuracy"] == pytest.approx(0.6402, abs=1e-4)
    assert without["next_accuracy"] > 0.99 and without["referent_accuracy"] == 1.0
    everything_off = np.zeros((config.num_layers, config.num_heads))
    blind = tiny.evaluate(shipped.weights, held_out, config, head_gates=everything_off)
    assert blind["previous_accuracy"] < without["previous_accuracy"]


def test_jobs_are_a_closed_set_with_labels():
    assert tiny.JOBS == tuple(tiny.Job) == (tiny.Job.PREVIOUS, tiny.Job.NEXT, tiny.Job.REFERENT)
    assert [job.label for job in tiny.JOBS] == [
        "the word before it",
        "the word after it",
        "the noun it refers to",
    ]
    assert tiny.as_job("next") is tiny.Job.NEXT and tiny.as_job(tiny.Job.NEXT) is tiny.Job.NEXT


# A model shape other than the default: a function that forgets to pass its config on
# falls back to TinyConfig() and breaks on these weights.
NARROW = tiny.TinyConfig(d_model=8, num_heads=2, num_layers=1, d_ff=8)
GIRL_IDS = encode(toy_tokens("The girl sat on the mat because she was tired.").tokens)


@pytest.fixture(scope="module")
def narrow_weights():
    return tiny.init_weights(NARROW, seed=0)


def test_every_step_passes_its_config_on(narrow_weights):
    sentences = [toy_tokens(text).tokens for text in ("the girl sat .", "a dog ran", "she ran .")]
    per_layer = tiny.head_weights_by_layer(narrow_weights, sentences, NARROW)
    assert [[w.shape for w in layer] for layer in per_layer] == [[(2, 4, 4), (2, 3, 3), (2, 3, 3)]]
    scores = tiny.measure_patterns(narrow_weights, sentences, NARROW)
    assert scores.shape == (1, 2, len(PATTERNS))
    accuracies = tiny.evaluate(narrow_weights, sentences, NARROW)
    run = tiny.forward(narrow_weights, encode(sentences[1]), NARROW)
    guesses = run.probabilities.argmax(axis=-1)  # (J, L)
    # "a dog ran": previous at positions 1, 2 and next at 0, 1 (no referent anywhere)
    assert set(accuracies) == {"previous_accuracy", "next_accuracy", "referent_accuracy"}
    assert accuracies["referent_accuracy"] == 0.0  # no pronoun has a noun before it
    assert guesses.shape == (3, 3)
    effects = tiny.knockout_effects(narrow_weights, encode(sentences[0]), "next", 0, 5, NARROW)
    assert effects.shape == (1, 2)
    for head in range(2):
        gates = tiny.gates_without([(0, head)], NARROW)
        alone = tiny.forward(narrow_weights, encode(sentences[0]), NARROW, head_gates=gates)
        assert effects[0, head] == alone.probabilities[1, 0, 5]


def test_finish_measures_with_the_model_config(narrow_weights):
    train_config = tiny.TinyTrainConfig(train_sentences=10, eval_sentences=5)
    model = tiny.finish(NARROW, train_config, narrow_weights, 1.5, (2.0, 1.5), 3.0)
    held_out = tiny.held_out_sentences(train_config)
    np.testing.assert_array_equal(
        model.scores, tiny.measure_patterns(narrow_weights, held_out, NARROW)
    )
    assert model.metrics == {
        "final_loss": 1.5,
        **tiny.evaluate(narrow_weights, held_out, NARROW),
        "train_seconds": 3.0,
    }
    assert model.loss_history == (2.0, 1.5) and model.config == NARROW


def test_an_accuracy_over_one_answer_is_zero_or_one(shipped):
    """One sentence, one pronoun: the referent accuracy is that one answer, right or wrong."""
    girl = toy_tokens("The girl sat on the mat because she was tired.").tokens
    assert tiny.evaluate(shipped.weights, [girl], shipped.config)["referent_accuracy"] == 1.0


def test_forward_keeps_every_layer_stage(shipped):
    w, config = shipped.weights, shipped.config
    run = tiny.forward(w, GIRL_IDS, config)
    first, second = run.layers
    start = w["token_embedding"][GIRL_IDS] + w["position_embedding"][: len(GIRL_IDS)]
    np.testing.assert_allclose(first.residual_in, start, atol=1e-12)
    for index, trace in enumerate(run.layers):
        ln = (w[f"layers.{index}.ln1.weight"], w[f"layers.{index}.ln1.bias"])
        np.testing.assert_allclose(
            trace.normed, tiny.layer_norm(trace.residual_in, *ln), atol=1e-12
        )
    np.testing.assert_array_equal(second.residual_in, first.residual_out)
    final = tiny.layer_norm(second.residual_out, w["final_ln.weight"], w["final_ln.bias"])
    logits = np.stack([final @ w["readout.w"][j] + w["readout.b"][j] for j in range(3)])
    np.testing.assert_allclose(run.logits, logits, atol=1e-10)
    np.testing.assert_allclose(run.probabilities.sum(axis=-1), 1.0, atol=1e-12)


def test_padding_id_zero_is_a_token_id(shipped):
    assert TOKEN_IDS[PAD] == 0
    run = tiny.forward(shipped.weights, np.array([0, 1]), shipped.config)
    assert run.logits.shape == (3, 2, len(TOKENS))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda weights: tiny.forward(weights, [1, 2], head_gates=np.full((2, 4), np.nan)),
            "head_gates contains NaN or infinity; every entry must be a finite number",
        ),
        (
            lambda weights: tiny.gates_without([(0, 4)]),
            "no head (0, 4) in a model of 2 layers with 4 heads",
        ),
        (
            lambda weights: tiny.TinyTrainConfig(learning_rate=0.0),
            "learning_rate must lie in (0, 1), got 0.0",
        ),
        (
            lambda weights: tiny.TinyTrainConfig(learning_rate=1.0),
            "learning_rate must lie in (0, 1), got 1.0",
        ),
        (
            lambda weights: tiny.top_predictions(np.ones(3)),
            f"expected ({len(TOKENS)},) probabilities, got (3,)",
        ),
    ],
)
def test_more_bad_inputs_are_refused_with_what_to_fix(shipped, call, message):
    assert_refuses(lambda: call(shipped.weights), message)


def test_neighbours_next_to_the_ends_have_answers():
    tokens = ("the", "girl", "ran", ".")
    assert tiny.job_answer(tokens, "previous", 1) == 0
    assert tiny.job_answer(tokens, "next", 2) == 3


def test_initial_weights_are_reproducible_and_layer_norms_start_at_one():
    weights = tiny.init_weights(tiny.TinyConfig(), seed=3)
    # the shipped checkpoint was trained from these: the same seed gives the same start
    np.testing.assert_allclose(
        weights["token_embedding"][0, :3],
        [-1.0833562250827422, -1.2029064925007689, 0.15532890523195983],
        rtol=1e-15,
    )
    for name in ("layers.0.ln1.weight", "layers.1.ln2.weight", "final_ln.weight"):
        np.testing.assert_array_equal(weights[name], 1.0)
    for name in ("layers.0.ln1.bias", "layers.1.ff.b2", "final_ln.bias"):
        np.testing.assert_array_equal(weights[name], 0.0)
    # embeddings are N(0, 1), not scaled by a fan-in
    assert abs(weights["token_embedding"].std() - 1) < 0.05
    assert abs(weights["position_embedding"].std() - 1) < 0.15


def test_default_top_predictions_are_five_and_ties_keep_vocabulary_order():
    uniform = np.full(len(TOKENS), 1 / len(TOKENS))
    assert [word for word, _ in tiny.top_predictions(uniform)] == list(TOKENS[1:6])


def test_checkpoint_files_are_float32_and_readable_json(tmp_path, narrow_weights):
    model = tiny.TrainedModel(
        NARROW,
        tiny.TinyTrainConfig(),
        narrow_weights,
        np.full((1, 2, len(PATTERNS)), 1 / 3),
        {"final_loss": 1.0},
    )
    npz, record = tiny.save_checkpoint(model, tmp_path / "deep" / "down" / "run")
    with np.load(npz) as archive:
        assert {archive[name].dtype for name in archive.files} == {np.dtype(np.float32)}
    lines = record.read_text().splitlines()
    assert lines[:2] == [
        "{",
        ' "about": "Tiny transformer on the toy language; rebuild with '
        '`python scripts/train_tiny_transformer.py`.",',
    ]
    assert json.loads(record.read_text())["pattern_scores"][0][0][0] == 0.3333333333
    # a record without a loss history (older checkpoints) loads with an empty one
    data = json.loads(record.read_text())
    del data["loss_history"]
    record.write_text(json.dumps(data))
    assert tiny.load_checkpoint(npz).loss_history == ()


def test_a_checkpoint_with_one_file_missing_or_other_patterns_is_refused(tmp_path, narrow_weights):
    model = tiny.TrainedModel(
        NARROW, tiny.TinyTrainConfig(), narrow_weights, np.zeros((1, 2, len(PATTERNS))), {}
    )
    npz, record = tiny.save_checkpoint(model, tmp_path / "run")
    data = json.loads(record.read_text())
    data["patterns"] = data["patterns"][::-1]
    record.write_text(json.dumps(data))
    assert_refuses(
        lambda: tiny.load_checkpoint(npz),
        "the checkpoint's pattern scores use another list of patterns",
    )
    record.unlink()
    assert_refuses(
        lambda: tiny.load_checkpoint(npz),
        f"no checkpoint at {npz} and {record}; "
        "run `python scripts/train_tiny_transformer.py` to make one",
    )


def test_layer_scores_and_attention_to_read_one_layer(shipped):
    scores = shipped.layer_scores(1)
    np.testing.assert_array_equal(scores.scores, shipped.scores[1])
    assert scores.rows.dtype == np.int64 and scores.rows.tolist() == [0] * len(PATTERNS)
    run = tiny.forward(shipped.weights, GIRL_IDS, shipped.config)
    looked = tiny.attention_to(run, 7, 1)  # from "she" to "girl"
    assert looked.shape == (2, 4)
    for layer, trace in enumerate(run.layers):
        np.testing.assert_array_equal(looked[layer], trace.attention.head_weights[:, 7, 1])


def test_tied_predictions_keep_vocabulary_order():
    """Words of equal probability come in vocabulary order (a stable sort), whatever k."""
    levels = np.array([(index * 7) % 3 for index in range(len(TOKENS))], dtype=float)
    probabilities = levels / levels.sum()
    top = tiny.top_predictions(probabilities, k=len(TOKENS))
    expected = sorted(
        (index for index in range(len(TOKENS)) if TOKENS[index] != PAD),
        key=lambda index: -levels[index],  # sorted() is stable: ties keep index order
    )
    assert [word for word, _ in top] == [TOKENS[index] for index in expected]


def test_layer_norm_computes_in_float64():
    x = np.array([[1.0, 2.0, 4.0], [0.1, 0.2, 0.7]], dtype=np.float32)
    weight, bias = np.ones(3, dtype=np.float32), np.zeros(3, dtype=np.float32)
    wide = x.astype(np.float64)
    mean, variance = wide.mean(axis=-1, keepdims=True), wide.var(axis=-1, keepdims=True)
    normed = tiny.layer_norm(x, weight, bias)
    assert normed.dtype == np.float64
    np.testing.assert_allclose(normed, (wide - mean) / np.sqrt(variance + 1e-5), rtol=1e-14)
