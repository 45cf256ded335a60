"""The alignment page under AppTest: defaults, every control, its address, exercises, retraining."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest

import tests.apptest_util as pages
from app import runs
from lab.alignment import (
    EXAMPLE_SENTENCES,
    TARGET_TOKENS,
    MapReading,
    PairSet,
    Scoring,
    held_out_pairs,
    load_aligner,
    misleading_example,
    pad_pairs,
    read_source,
    view_sentence,
)
from lab.alignment.sweep import load_seed_sweep, seed_spread

PAGE = "demos/alignment.py"
TYPE_OWN = "Type my own sentence…"
CHARTS = 6  # alignment map, truth bars, curves, seed dots, two misleading maps
MODELS = {scoring: load_aligner(scoring) for scoring in Scoring}

app = pages.page_fixture(PAGE)


def _spec(chart) -> dict:
    return json.loads(chart.proto.spec)


def _data(chart, name: str) -> list[dict]:
    """A chart's dataset as records, decoded from the Arrow bytes Streamlit sends."""
    for item in chart.proto.datasets:
        if item.name == name:
            return pa.ipc.open_stream(item.data.data).read_all().to_pylist()
    raise KeyError(name)


def _chart(app, title_start: str):
    found = [c for c in pages.charts(app) if _spec(c)["title"].startswith(title_start)]
    assert len(found) == 1, [_spec(c)["title"] for c in pages.charts(app)]
    return found[0]


def _map(app):
    return _chart(app, "Where each output step looked")


def _type(app, text: str) -> AppTest:
    app.selectbox(key="sentence").set_value(TYPE_OWN).run()
    return app.text_input(key="typed").set_value(text).run()


def test_the_first_screen_shows_the_output_and_the_outlined_map(app):
    pages.assert_clean(app)
    assert app.title[0].value == "Cross-attention and alignment"
    assert len(pages.charts(app)) == CHARTS
    reading = read_source(EXAMPLE_SENTENCES[0])
    view = view_sentence(MODELS[Scoring.ADDITIVE], reading)
    shown = pages.texts(app)
    assert "**Model output:** lo kano grani na gato peti chasas \\<eos\\>" in shown
    assert "the same, word for word" in shown
    assert f"**Alignment score of this sentence:** {view.alignment_score:.3f}" in shown
    chart = _map(app)
    assert "additive (MLP)" in _spec(chart)["title"]
    cells = _data(chart, "cells")
    np.testing.assert_allclose([c["value"] for c in cells], view.attention.ravel())
    truth = [(c["row"], c["col"]) for c in _data(chart, "truth")]
    assert truth == list(enumerate(reading.pair.alignment[:-1]))  # words only, no <eos> row


@pytest.mark.parametrize("scoring", list(Scoring), ids=lambda s: s.value)
def test_every_example_sentence_with_each_scoring(app, scoring):
    app.segmented_control(key="scoring").set_value(scoring).run()
    for sentence in EXAMPLE_SENTENCES:
        app.selectbox(key="sentence").set_value(sentence).run()
        pages.assert_clean(app)
        assert len(pages.charts(app)) == CHARTS
        view = view_sentence(MODELS[scoring], read_source(sentence))
        assert view.matches_reference
        assert f"{view.alignment_score:.3f} (uniform" in pages.texts(app)
        bars = _data(_chart(app, "Weight on the true source word"), "bars")
        for option in Scoring:
            other = view_sentence(MODELS[option], read_source(sentence))
            mine = [b["weight"] for b in bars if b["scoring"] == option.label]
            np.testing.assert_allclose(mine, other.on_truth)
        # the outlined cells carry the same weights as the bars of the chosen scoring
        truth = _data(_map(app), "truth")
        np.testing.assert_allclose(
            [view.attention[c["row"], c["col"]] for c in truth], view.on_truth
        )


def test_the_misleading_examples_follow_the_scoring(app):
    for scoring in Scoring:
        app.segmented_control(key="scoring").set_value(scoring).run()
        for reading in MapReading:
            case = misleading_example(MODELS[scoring], reading)
            chart = _chart(app, f"“{' '.join(case.pair.source)}”")
            (focus,) = _data(chart, "focus")
            assert (focus["row"], focus["col"]) == (case.step.step, case.step.top_position)
            assert f"{case.step.top_weight:.3f}" in pages.texts(app)


def test_the_bars_equal_the_outlined_cells_even_when_the_output_goes_wrong(app):
    text = "the tall small red river follows a happy red ball"
    _type(app, text)
    view = view_sentence(MODELS[Scoring.ADDITIVE], read_source(text))
    assert view.matches_reference is False
    assert "**different**" in pages.texts(app)
    truth = _data(_map(app), "truth")
    assert len(truth) == 4  # up to and including the first wrong word
    np.testing.assert_allclose(
        [view.attention[c["row"], c["col"]] for c in truth], view.on_truth[: len(truth)]
    )


def test_the_misleading_examples_say_where_they_come_from(app):
    for scoring in Scoring:
        app.segmented_control(key="scoring").set_value(scoring).run()
        sets = {e.reading: e.pair_set for e in MODELS[scoring].examples}
        shown = pages.texts(app)
        three = sets[MapReading.RIGHT_PLACE_WRONG_WORD] is PairSet.THREE_ADJECTIVES
        assert ("training never showed more than two" in shown) == three
        held_out = PairSet.HELD_OUT in sets.values()
        assert ("one of the 300 held-out sentences" in shown) == held_out


def test_the_typed_sentence_box_appears_on_request(app):
    assert "typed" not in [box.key for box in app.text_input]  # until "type my own" is chosen
    _type(app, "The HAPPY fox sees a red ball")
    pages.assert_clean(app)
    assert "lo vulpa felo na bolo rusa vidas" in pages.texts(app)
    assert len(pages.charts(app)) == CHARTS


@pytest.mark.parametrize(
    ("typed", "kind", "message"),
    [
        ("", "info", "Type a sentence, for example"),
        ("   ", "info", "Type a sentence, for example"),
        ("the zebra sleeps", "warning", "Not in the vocabulary: “zebra”"),
        (
            "the big red dog chases a small cat near the tall tree under the house",
            "warning",
            "That sentence has 15 words; the model reads at most 12",
        ),
        ("**bold** <b>dog</b> [x](y)", "warning", "Not in the vocabulary"),
    ],
)
def test_odd_typed_input_gets_the_cores_message_and_no_map(app, typed, kind, message):
    _type(app, typed)
    pages.assert_clean(app)
    shown = [item.value.replace("\\", "") for item in app.get(kind)]  # drop escapes
    assert any(message in text for text in shown), shown
    assert not any(c for c in pages.charts(app) if _spec(c)["title"].startswith("Where each"))
    assert len(pages.charts(app)) == CHARTS - 2  # no map and no bars; the rest of the page stays
    assert "<b>" not in pages.texts(app)  # markup typed by a learner is shown as text


def test_markdown_in_typed_words_is_escaped(app):
    _type(app, "the dog_cat_ sleeps")  # an underscore is a word character: one unknown word
    (warning,) = [w.value for w in app.warning]
    assert "“dog\\_cat\\_”" in warning  # shown as typed, not turned into italics


def test_known_words_out_of_grammar_are_translated_without_an_outline(app):
    _type(app, "dog the sees")
    pages.assert_clean(app)
    assert any("has no true alignment" in item.value for item in app.info)
    spec = _spec(_map(app))
    assert [d.name for d in _map(app).proto.datasets] == ["cells"]
    assert "outlined" not in spec["description"]
    assert "no cell is outlined" in pages.texts(app)


def test_the_address_reproduces_a_view():
    query = {"sentence": TYPE_OWN, "typed": "the dog sees the dog", "scoring": "scaled dot product"}
    app = pages.run_at_address(PAGE, query)
    view = view_sentence(MODELS[Scoring.DOT], read_source("the dog sees the dog"))
    spec = _spec(_map(app))
    assert "scaled dot product" in spec["title"]
    np.testing.assert_allclose(
        [c["value"] for c in _data(_map(app), "cells")], view.attention.ravel()
    )
    assert f"{view.alignment_score:.3f} (uniform" in pages.texts(app)


def test_an_example_sentence_by_its_address():
    app = pages.run_at_address(PAGE, {"sentence": EXAMPLE_SENTENCES[4], "epochs": "3"})
    assert app.slider(key="epochs").value == 3
    assert "na avi peti lo kaval alto apud lo rivo amas" in pages.texts(app)


def test_a_hostile_address_opens_with_defaults_and_notes():
    query = {
        "sentence": "<script>alert(1)</script>",
        "scoring": "cubic",
        "epochs": "99",
        "train_seed": "-4",
        "typed": "x" * 500,
    }
    # Four notes, not five: the menu fell back, so the typed box stays closed.
    app, _ = pages.run_at_hostile_address(PAGE, query, notes=4)
    assert app.selectbox(key="sentence").value == EXAMPLE_SENTENCES[0]
    assert app.slider(key="epochs").value == 12
    assert "additive (MLP)" in _spec(_map(app))["title"]
    assert "<script>" not in pages.texts(app)


def test_a_too_long_typed_address_is_cut_with_a_note():
    pages.run_at_hostile_address(PAGE, {"sentence": TYPE_OWN, "typed": "dog " * 80}, notes=1)


def test_exercises_are_checked_against_the_screen(app):
    view = view_sentence(MODELS[Scoring.ADDITIVE], read_source(EXAMPLE_SENTENCES[0]))
    app.text_input(key="answer_verb").set_value(f"{view.attention[6, 3]:.2f}")
    app.button(key="FormSubmitter:exercise_verb-Check").click().run()
    assert [item.value for item in app.success] == ["Right."]
    spread = seed_spread(load_seed_sweep(), Scoring.ADDITIVE)
    app.text_input(key="answer_seeds").set_value(f"{spread.alignment_range + 0.1:.2f}")
    app.button(key="FormSubmitter:exercise_seeds-Check").click().run()
    assert any(item.value.startswith("Not quite") for item in app.error)
    app.radio(key="answer_misleading").set_value("word 6: the")  # the true word, not the top one
    app.button(key="FormSubmitter:exercise_misleading-Check").click().run()
    assert any(item.value.startswith("Not this one") for item in app.error)


def test_the_claims_on_the_page_are_the_labs_numbers(app):
    shown = pages.texts(app)
    # "the same encoder and decoder and the same training settings": only scoring differs
    additive_config, dot_config = (MODELS[s].config for s in Scoring)
    assert replace(additive_config, scoring=Scoring.DOT) == dot_config
    assert "Measured on 300 held-out sentences" in shown and len(held_out_pairs()) == 300
    # "Chance: always answering lo (the most common word)"
    batch = pad_pairs(held_out_pairs())
    references = batch.target[batch.target_valid]
    assert TARGET_TOKENS[np.bincount(references).argmax()] == "lo"
    assert "always answering *lo* (the most common word)" in shown
    additive, dot = (MODELS[s].metrics for s in Scoring)
    assert f"| alignment score | {additive['alignment_score']:.3f} | " in shown
    assert f"{additive['chance_alignment']:.3f} for uniform attention" in shown
    assert f"{abs(additive['alignment_score'] - dot['alignment_score']):.3f} in alignment" in shown
    for metrics in (additive, dot):
        # "the token accuracy falls to …, the alignment score only to …"
        accuracy_drop = metrics["token_accuracy"] - metrics["three_adjectives_token_accuracy"]
        alignment_drop = metrics["alignment_score"] - metrics["three_adjectives_alignment_score"]
        assert accuracy_drop > alignment_drop > 0
    results = load_seed_sweep()
    for scoring in Scoring:
        spread = seed_spread(results, scoring)
        assert f"the alignment score from {spread.alignment_low:.3f} to" in shown
    config = MODELS[Scoring.ADDITIVE].config
    assert f"(here {config.decoder_size} and {2 * config.encoder_size})" in shown


@pytest.fixture
def one_torch_thread():
    """torch's thread count is kept per thread by threads already running, and
    lab.torch_utils sets it once per process: set it from pytest's own thread before
    AppTest trains in its script thread, or later tests here would see the default."""
    from lab.torch_utils import use_one_thread

    use_one_thread()


@pytest.mark.usefixtures("one_torch_thread")
def test_retraining_shows_the_run_to_the_session_that_asked_only(app):
    app.number_input(key="train_seed").set_value(2)
    app.slider(key="epochs").set_value(1).run()
    app.button(key="retrain").click().run()
    pages.assert_clean(app)
    run = runs.stored("alignment", ("additive", 2, 1))
    assert run is not None and run.config.epochs == 1 and run.config.seed == 2
    shown = pages.texts(app)
    assert "**Your model: additive (MLP) scoring, seed 2, 1 epoch**" in shown
    assert f"token accuracy {run.metrics['token_accuracy']:.3f}" in shown
    assert len(pages.charts(app)) == CHARTS + 2  # its curves and its map of the sentence
    mine = _chart(app, "Your model on the sentence above")
    expected = view_sentence(run, read_source(EXAMPLE_SENTENCES[0]))
    np.testing.assert_allclose(
        [c["value"] for c in _data(mine, "cells")], expected.attention.ravel()
    )

    other = pages.run_page(PAGE)  # another participant on the same server
    assert "No retrained model yet in this session" in pages.texts(other)
    assert len(pages.charts(other)) == CHARTS


def test_training_switched_off_shows_the_note_instead_of_the_button(monkeypatch):
    app = pages.run_with_training_off(PAGE, monkeypatch)
    assert not [b for b in app.button if b.key == "retrain"]


def test_the_page_stays_short_and_torch_free_at_import():
    source = (pages.ROOT / PAGE).read_text()
    assert len(source.splitlines()) <= 450
    top = source.split("\ndef train_run")[0]
    assert "torch" not in top.replace("# torch", "")


def test_reset_brings_every_control_back_to_its_default(app):
    app.segmented_control(key="scoring").set_value(Scoring.DOT).run()
    app.selectbox(key="sentence").set_value(EXAMPLE_SENTENCES[3]).run()
    app.slider(key="epochs").set_value(4).run()
    assert "scaled dot product" in _spec(_map(app))["title"]
    app.button(key="reset_page").click().run()
    pages.assert_clean(app)
    assert app.selectbox(key="sentence").value == EXAMPLE_SENTENCES[0]
    assert app.slider(key="epochs").value == 12
    assert "additive (MLP)" in _spec(_map(app))["title"]
