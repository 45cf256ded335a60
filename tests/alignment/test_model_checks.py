"""The translation model's input checks, lengths, files and stored examples, pinned exactly.

Everything here runs without torch and without training: the input checks run on an all-zero
model of the default shape, the rest on the shipped checkpoints, loaded in each test's own body
(so a mutation test links every test that reads a checkpoint to :func:`model.load_aligner`).
"""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

import lab.alignment.model as model
from lab.alignment.compute import MapReading
from lab.alignment.grammar import (
    EOS,
    SOURCE_IDS,
    SOURCE_TOKENS,
    TARGET_IDS,
    held_out_pairs,
    pad_pairs,
    read_source,
    three_adjective_pairs,
)
from tests.refusals import assert_refuses, refuses

SCORINGS = pytest.mark.parametrize("scoring", list(model.Scoring), ids=lambda s: s.value)
REBUILD = "run `python scripts/train_alignment.py` to make one"


def _zero_weights() -> model.AlignerWeights:
    """A model of the default shape whose every parameter is 0: enough to exercise the checks."""
    return {
        name: np.zeros(shape)
        for name, shape in model.weight_shapes(model.AlignmentConfig()).items()
    }


# ----------------------------------------------------------------------------
# Input checks
# ----------------------------------------------------------------------------

_TWO_BY_THREE = np.array([[2, 10, 1], [2, 11, 1]])  # "the dog <eos>", "the cat <eos>": B = 2, S = 3
_IDS_IN = f"source ids must lie in [0, {len(SOURCE_TOKENS) - 1}]"


@pytest.mark.parametrize(
    ("source", "lengths", "message"),
    [
        (
            np.array([2, 1]),
            np.array([2]),
            "source must be a (B, S) array of token ids, got shape (2,)",
        ),
        (
            np.array([[2.0, 1.0]]),
            np.array([2]),
            "source must be a (B, S) array of token ids, got shape (1, 2)",
        ),
        (_TWO_BY_THREE, np.array([3]), "lengths must be (2,) whole numbers, got (1,)"),
        (_TWO_BY_THREE, np.array([3.0, 3.0]), "lengths must be (2,) whole numbers, got (2,)"),
        (_TWO_BY_THREE, np.array([0, 3]), "lengths must lie in [1, 3], got [0, 3]"),
        (_TWO_BY_THREE, np.array([3, 4]), "lengths must lie in [1, 3], got [3, 4]"),
        (np.array([[-1, 1]]), np.array([2]), _IDS_IN),
        (np.array([[len(SOURCE_TOKENS), 1]]), np.array([2]), _IDS_IN),
    ],
    ids=[
        "one-axis",
        "float-ids",
        "lengths-shape",
        "float-lengths",
        "length-zero",
        "length-past-end",
        "negative-id",
        "id-past-vocabulary",
    ],
)
def test_source_checks_say_what_to_fix(source, lengths, message):
    assert_refuses(lambda: model.encode_source(_zero_weights(), source, lengths), message)


def test_a_source_of_eos_alone_is_read():
    encoded = model.encode_source(_zero_weights(), np.array([[SOURCE_IDS[EOS]]]), np.array([1]))
    assert encoded.keys.shape == (1, 1, 32)
    assert encoded.valid.tolist() == [[True]]
    assert encoded.initial_state.shape == (1, 64)


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        (np.zeros((1, 4), dtype=np.int64), "inputs must be (B, T) with B = 2, got (1, 4)"),
        (np.zeros(2, dtype=np.int64), "inputs must be (B, T) with B = 2, got (2,)"),
    ],
    ids=["other-batch", "one-axis"],
)
def test_teacher_forced_inputs_are_checked(inputs, message):
    weights = _zero_weights()
    assert_refuses(
        lambda: model.teacher_forced(
            weights, model.Scoring.ADDITIVE, _TWO_BY_THREE, np.array([3, 3]), inputs
        ),
        message,
    )


def test_scoring_no_sentences_is_refused():
    assert_refuses(
        lambda: model.score_translations(_zero_weights(), model.AlignmentConfig(), []),
        "score_translations needs at least one sentence pair",
    )


_SIZES = ("embedding_size", "encoder_size", "decoder_size", "attention_size")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        *(({name: 0}, f"{name} must be at least 1, got 0") for name in _SIZES),
        *(({name: 65}, f"{name} must be at most 64, got 65") for name in _SIZES),
        ({"steps_per_epoch": 0}, "steps_per_epoch must be at least 1, got 0"),
        ({"batch_size": 0}, "batch_size must be at least 1, got 0"),
        ({"seed": -1}, "seed must be at least 0, got -1"),
        ({"seed": 1.5}, "seed must be a whole number, got 1.5"),
        ({"learning_rate": 1.5}, "learning_rate must be at most 1.0, got 1.5"),
        ({"max_grad_norm": 0.0}, "max_grad_norm must be positive, got 0.0"),
        ({"max_grad_norm": -1.0}, "max_grad_norm must be positive, got -1.0"),
        ({"max_grad_norm": "big"}, "max_grad_norm must be a number, got 'big'"),
    ],
    ids=lambda value: (
        "-".join(f"{k}={v}" for k, v in value.items()) if isinstance(value, dict) else None
    ),
)
def test_config_bounds_and_names(changes, message):
    assert_refuses(lambda: model.AlignmentConfig(**changes), message)


def test_config_accepts_its_bounds():
    smallest = model.AlignmentConfig(**dict.fromkeys(_SIZES, 1), seed=0, learning_rate=1.0)
    assert model.weight_shapes(smallest)["attention.w_v"] == (1,)
    assert smallest.learning_rate == 1.0 and smallest.seed == 0
    assert model.AlignmentConfig(max_grad_norm=1e-6).max_grad_norm == 1e-6


# ----------------------------------------------------------------------------
# Where each decoded row ends
# ----------------------------------------------------------------------------


def _short_and_long_batch():
    """ "the horse waits" (4 target tokens with <eos>) and a 9-word sentence, padded together."""
    pairs = held_out_pairs()
    short = next(pair for pair in pairs if len(pair.target) == 3)
    long = next(pair for pair in pairs if len(pair.target) >= 7)
    return pad_pairs([short, long])


@SCORINGS
def test_rows_that_reach_eos_and_rows_that_do_not_get_their_own_lengths(scoring):
    aligner = model.load_aligner(scoring)
    batch = _short_and_long_batch()
    greedy = model.greedy_decode(
        aligner.weights, scoring, batch.source, batch.source_lengths, max_steps=5
    )
    # the short sentence ends after 4 tokens; the long one is cut at 5 without an <eos>
    assert greedy.tokens[0, 3] == TARGET_IDS[EOS]
    assert TARGET_IDS[EOS] not in greedy.tokens[1].tolist()
    assert greedy.lengths.tolist() == [4, 5] and greedy.lengths.dtype == np.int64
    forced = model.teacher_forced(
        aligner.weights, scoring, batch.source, batch.source_lengths, batch.decoder_input[:, :5]
    )
    assert forced.tokens[0, 3] == TARGET_IDS[EOS]
    assert TARGET_IDS[EOS] not in forced.tokens[1].tolist()
    assert forced.lengths.tolist() == [4, 5] and forced.lengths.dtype == np.int64


@SCORINGS
def test_an_output_that_never_ends_runs_two_steps_past_the_reference_length(scoring):
    view = model.view_sentence(model.load_aligner(scoring), read_source("big big big"))
    assert len(view.output) == 3 + 1 + model.EXTRA_STEPS == 6
    assert EOS not in view.output
    assert view.attention.shape == (6, 4)


@SCORINGS
def test_the_outline_is_boolean(scoring):
    view = model.view_sentence(model.load_aligner(scoring), read_source("the dog sleeps"))
    assert view.outline.dtype == np.bool_
    assert view.outline.tolist() == [
        [True, False, False, False],
        [False, True, False, False],
        [False, False, True, False],
        [False, False, False, True],
    ]


# ----------------------------------------------------------------------------
# Precision
# ----------------------------------------------------------------------------


def test_gru_cell_computes_float32_inputs_in_float64():
    rng = np.random.default_rng(0)
    x, state = rng.normal(size=(2, 5)), rng.normal(size=(2, 3))
    params = [rng.normal(size=shape) for shape in ((9, 5), (9, 3), (9,), (9,))]
    narrow = [array.astype(np.float32) for array in (x, state, *params)]
    ours = model.gru_cell(*narrow)
    assert ours.dtype == np.float64
    # the same float32 values, widened first: no rounding to float32 on the way
    np.testing.assert_allclose(
        ours, model.gru_cell(*(array.astype(np.float64) for array in narrow)), rtol=0, atol=1e-15
    )


@SCORINGS
def test_cross_attention_computes_a_float32_state_in_float64(scoring):
    aligner = model.load_aligner(scoring)  # float32 weights, as stored
    batch = _short_and_long_batch()
    encoded = model.encode_source(aligner.weights, batch.source, batch.source_lengths)
    state = encoded.initial_state.astype(np.float32)
    context, weights = model.cross_attend(aligner.weights, scoring, state, encoded)
    wide_context, wide_weights = model.cross_attend(
        aligner.weights, scoring, state.astype(np.float64), encoded
    )
    assert context.dtype == weights.dtype == np.float64
    np.testing.assert_allclose(context, wide_context, rtol=0, atol=1e-15)
    np.testing.assert_allclose(weights, wide_weights, rtol=0, atol=1e-15)


# ----------------------------------------------------------------------------
# Misleading cases
# ----------------------------------------------------------------------------


@SCORINGS
def test_each_case_keeps_its_own_sentence_map_in_a_mixed_batch(scoring):
    aligner = model.load_aligner(scoring)
    pairs = three_adjective_pairs()[:40]
    cases = model.find_misleading(aligner.weights, aligner.config, pairs)
    longest = max(len(pair.source) for pair in pairs)
    assert any(len(case.pair.source) < longest for case in cases)  # padding could leak in
    for case in cases:
        assert case.pair == pairs[case.sentence]
        assert case.attention.shape == (len(case.pair.target) + 1, len(case.pair.source) + 1)
        np.testing.assert_allclose(case.attention.sum(axis=1), 1.0, atol=1e-12)


@SCORINGS
def test_stored_examples_are_loaded_and_found_at_their_sentence_and_step(scoring):
    aligner = model.load_aligner(scoring)
    record = json.loads(model.checkpoint_path(scoring).with_suffix(".json").read_text())
    assert [(e.pair_set.value, e.sentence, e.step, e.reading.value) for e in aligner.examples] == [
        (e["pair_set"], e["sentence"], e["step"], e["reading"]) for e in record["examples"]
    ]
    for stored in aligner.examples:
        case = model.misleading_example(aligner, stored.reading)
        assert case.sentence == stored.sentence > 0  # the stored index, not the search's 0
        assert case.pair == stored.pair_set.pairs()[stored.sentence]
        assert case.step.step == stored.step and case.reading is stored.reading


# ----------------------------------------------------------------------------
# Files
# ----------------------------------------------------------------------------

_LABELS = {model.Scoring.ADDITIVE: "additive (MLP)", model.Scoring.DOT: "scaled dot product"}


@SCORINGS
def test_save_writes_float32_weights_and_an_indented_record_where_asked(tmp_path, scoring):
    shipped = model.load_aligner(scoring)
    aligner = replace(
        shipped,
        weights={name: value.astype(np.float64) for name, value in shipped.weights.items()},
        curves={"loss": (0.1234567891, 2.0)},
    )
    base = tmp_path / "new" / "folder" / "copy"  # neither folder exists yet
    weights_path, record_path = model.save_aligner(aligner, base)
    assert (weights_path, record_path) == (base.with_suffix(".npz"), base.with_suffix(".json"))
    with np.load(weights_path) as archive:
        assert {name: archive[name].dtype for name in archive.files} == dict.fromkeys(
            shipped.weights, np.dtype(np.float32)
        )
    text = record_path.read_text()
    assert text.splitlines()[:4] == [
        "{",
        f' "about": "Tiny translation model with {_LABELS[scoring]} attention; '
        'rebuild with `python scripts/train_alignment.py`.",',
        ' "config": {',
        f'  "scoring": "{scoring.value}",',
    ]
    assert text.endswith("}\n")
    assert json.loads(text)["curves"] == {"loss": [0.123457, 2.0]}
    loaded = model.load_aligner(scoring, weights_path)
    assert loaded.curves == {"loss": (0.123457, 2.0)}
    assert loaded.examples == shipped.examples


@SCORINGS
def test_save_and_load_without_a_path_use_the_checkpoint_folder(tmp_path, monkeypatch, scoring):
    shipped = model.load_aligner(scoring)
    monkeypatch.setattr(model, "_CHECKPOINTS", tmp_path)
    expected = tmp_path / f"alignment_{scoring.value}.npz"
    assert model.checkpoint_path(scoring) == expected  # never the shipped file
    assert model.save_aligner(shipped) == (expected, expected.with_suffix(".json"))
    loaded = model.load_aligner(scoring)
    assert loaded.config == shipped.config and loaded.examples == shipped.examples
    assert loaded.metrics == shipped.metrics


@pytest.mark.parametrize("suffix", [".npz", ".json"])
def test_a_checkpoint_with_one_file_missing_says_how_to_rebuild(tmp_path, suffix):
    shipped = model.load_aligner(model.Scoring.DOT)
    weights_path, record_path = model.save_aligner(shipped, tmp_path / "half")
    (tmp_path / "half").with_suffix(suffix).unlink()
    with refuses(f"no checkpoint at {weights_path} and {record_path}; {REBUILD}"):
        model.load_aligner(model.Scoring.DOT, weights_path)


def test_a_record_without_examples_loads_with_none(tmp_path):
    shipped = model.load_aligner(model.Scoring.ADDITIVE)
    weights_path, record_path = model.save_aligner(shipped, tmp_path / "older")
    record = json.loads(record_path.read_text())
    del record["examples"]
    record_path.write_text(json.dumps(record))
    loaded = model.load_aligner(model.Scoring.ADDITIVE, weights_path)
    assert loaded.examples == ()
    assert model.misleading_example(loaded, MapReading.WRONG_PLACE_RIGHT_WORD) is None
