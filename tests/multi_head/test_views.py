"""What the page shows: head sets, head views, ablation, and the claims its text makes."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

import lab.multi_head.views as views
from lab.multi_head import (
    EXAMPLES,
    JOBS,
    SPECIALISED_AT,
    Job,
    Pattern,
    encode,
    forward,
    gates_without,
    generate_sentences,
    hand_model,
    run_hand_heads,
    toy_tokens,
)
from lab.multi_head.charts import head_color_name, head_view
from lab.multi_head.prose import LINE_SHAPES, head_view_text, notice_lines
from tests.multi_head.helpers import GIRL, exactly


def test_the_head_choices_name_their_layer_and_label():
    assert [(choice.layer, choice.label) for choice in views.Heads] == [
        (None, "Hand-set"),
        (0, "Trained: layer 1"),
        (1, "Trained: layer 2"),
    ]
    assert views.heads_offered(None) == (views.Heads.HAND,)
    assert views.heads_offered(1) == (views.Heads.HAND, views.Heads.LAYER_1)
    assert views.heads_offered(2) == tuple(views.Heads)
    with pytest.raises(ValueError, match=exactly("num_layers must be at most 2, got 3")):
        views.heads_offered(3)


def test_trained_head_labels_run_layer_by_layer(shipped):
    assert views.head_label(0, 1) == "L1 H2"
    assert views.trained_head_labels(shipped) == (
        "L1 H1",
        "L1 H2",
        "L1 H3",
        "L1 H4",
        "L2 H1",
        "L2 H2",
        "L2 H3",
        "L2 H4",
    )


def test_hand_head_view_holds_the_hand_set_layer_on_the_sentence():
    view = views.hand_head_view(GIRL)
    steps = run_hand_heads(GIRL)
    np.testing.assert_array_equal(view.head_weights, steps.head_weights)
    np.testing.assert_array_equal(view.output, steps.output)
    assert view.names == hand_model().names and view.num_heads == 5
    assert view.value_labels == ("det", "adj", "noun", "pron", "verb", "prep", "conj", "other")
    assert view.concat_labels()[:2] == ["1·det", "1·adj"] and len(view.concat_labels()) == 40
    assert view.held_out is views.hand_held_out_scores()  # computed once
    assert view.here.score(0, Pattern.PREVIOUS) > 0.99
    assert view.specialised() == {
        index: head.pattern for index, head in enumerate(hand_model().heads)
    }


@pytest.mark.parametrize("layer", [0, 1])
def test_trained_head_view_is_one_layer_of_the_forward_pass(shipped, layer):
    view = views.trained_head_view(shipped, GIRL, layer)
    attention = forward(shipped.weights, encode(GIRL), shipped.config).layers[layer].attention
    np.testing.assert_array_equal(view.head_weights, attention.head_weights)
    np.testing.assert_array_equal(view.concat, attention.concat)
    np.testing.assert_array_equal(view.w_o, shipped.weights[f"layers.{layer}.w_o"])
    assert view.names == tuple(views.head_label(layer, head) for head in range(4))
    np.testing.assert_array_equal(view.held_out.scores, shipped.scores[layer])
    assert view.concat_labels()[:3] == ["1·0", "1·1", "1·2"]
    assert view.value_labels is None and view.output_labels is None
    with pytest.raises(ValueError, match=exactly("layer must be at most 1, got 2")):
        views.trained_head_view(shipped, GIRL, 2)


def test_ambiguous_pronouns_and_where_the_ablation_starts():
    cat = toy_tokens(EXAMPLES[-1]).tokens
    assert views.ambiguous_pronoun(cat) == (7, (1, 5))
    assert views.ambiguous_pronoun(GIRL) is None
    assert views.default_word(GIRL) == 7 and views.default_job(GIRL, 7) is Job.REFERENT
    assert (
        views.default_word(("the", "cat")) == 1
        and views.default_job(("the", "cat"), 1) is Job.PREVIOUS
    )
    assert views.default_word(("cat",)) == 0


def test_ablate_agrees_with_the_forward_pass_it_summarises(shipped):
    off = {(0, 1), (1, 2)}
    result = views.ablate(shipped, GIRL, "previous", 1, off)
    ids = encode(GIRL)
    full = forward(shipped.weights, ids, shipped.config).probabilities[0, 1]
    gated = forward(
        shipped.weights, ids, shipped.config, head_gates=gates_without(off, shipped.config)
    )
    np.testing.assert_array_equal(result.full, full)
    np.testing.assert_array_equal(result.cut, gated.probabilities[0, 1])
    assert result.job is Job.PREVIOUS and result.answer == 0 and result.off == ((0, 1), (1, 2))
    assert result.effects.shape == (8,) and result.looked.shape == (8,)
    # a head already off gives the probability with ``off`` alone
    assert result.effects[1] == pytest.approx(result.cut[ids[0]])
    looked = [
        trace.attention.head_weights[:, 1, 0] for trace in forward(shipped.weights, ids).layers
    ]
    np.testing.assert_allclose(result.looked, np.concatenate(looked))
    before, after = views.answer_probabilities(result, GIRL)
    assert before == pytest.approx(full[ids[0]]) and after < 0.01
    nothing = views.ablate(shipped, GIRL, Job.NEXT, len(GIRL) - 1)
    assert nothing.answer is None and nothing.effects is None and nothing.looked is None
    with pytest.raises(ValueError, match=exactly("the job 'next' has no answer at 10")):
        views.answer_probabilities(nothing, GIRL)


def test_heads_that_specialise_and_heads_that_serve_two_patterns(shipped):
    assert views.specialised_heads(shipped) == {
        (0, 0): Pattern.ANTECEDENT,
        (0, 1): Pattern.PREVIOUS,
        (0, 2): Pattern.NEXT,
    }
    assert views.best_head(shipped, Pattern.PREVIOUS) == (0, 1)
    assert views.best_head(shipped, Pattern.NEXT) == (0, 2)
    ((pair, strong),) = views.double_duty(shipped).items()
    assert pair == (0, 0)
    assert [pattern for pattern, _ in strong] == [Pattern.ANTECEDENT, Pattern.NEXT]
    assert all(score >= SPECIALISED_AT for _, score in strong)
    flat = replace(shipped, scores=np.full_like(shipped.scores, 0.1))
    assert views.specialised_heads(flat) == {} and views.double_duty(flat) == {}


def test_accuracy_without_a_head_is_measured_on_the_held_out_sentences(shipped):
    without = views.accuracy_without(shipped, {(0, 1)})
    assert set(without) == {f"{job.value}_accuracy" for job in JOBS}
    assert without["previous_accuracy"] == pytest.approx(0.6402, abs=1e-4)


# ----------------------------------------------------------------------------
# The page's sentences about the head view, checked against the data
# ----------------------------------------------------------------------------


def strongest_lines(spec: dict, head: str) -> dict[int, dict]:
    """Per query, the head's heaviest line in the head view's data."""
    best: dict[int, dict] = {}
    for line in spec["datasets"]["lines"]:
        if line["head"] == head and line["weight"] > best.get(line["query"], {}).get("weight", -1):
            best[line["query"]] = line
    return best


@pytest.mark.parametrize(
    "tokens", [GIRL, toy_tokens(EXAMPLES[2]).tokens, *generate_sentences(5, seed=8)]
)
def test_previous_token_lines_rise_and_next_token_lines_drop(tokens):
    """#13: lines run from the query (left) to the key (right), the first token at the top,
    so the strongest line of a previous-token head ends one row higher (its key is query − 1)
    and that of a next-token head one row lower."""
    view = views.hand_head_view(tokens)
    spec = head_view(view.head_weights, list(tokens), list(view.names))
    low, high = spec["layer"][0]["encoding"]["y"]["scale"]["domain"]
    assert low > high  # y grows downwards: a smaller y is drawn higher
    for query, line in strongest_lines(spec, "previous token").items():
        if query > 0:
            assert line["key"] == query - 1 and line["y_end"] < line["y_start"]  # rises
    for query, line in strongest_lines(spec, "next token").items():
        if query < len(tokens) - 1:
            assert line["key"] == query + 1 and line["y_end"] > line["y_start"]  # drops
    text = head_view_text(view, hand_set=True)
    assert f"{head_color_name(0)} lines (previous token) rise one row" in text
    assert f"{head_color_name(1)} lines (next token) drop one row" in text


def test_the_trained_previous_token_head_mostly_rises_too(shipped):
    view = views.trained_head_view(shipped, GIRL, 0)
    spec = head_view(view.head_weights, list(GIRL), list(view.names))
    rising = [
        line["key"] == query - 1 and line["y_end"] < line["y_start"]
        for query, line in strongest_lines(spec, "L1 H2").items()
        if query > 0
    ]
    assert sum(rising) >= 0.8 * len(rising)
    text = head_view_text(view, hand_set=False)
    assert f"{head_color_name(1)} lines (L1 H2) {LINE_SHAPES[Pattern.PREVIOUS]}" in text
    assert text.startswith(
        "A head that scores 0.6 or more on a pattern puts, on average over the held-out "
        "sentences, that share of its weight where the pattern says: "
    )
    assert head_view_text(views.trained_head_view(shipped, GIRL, 1), hand_set=False) == (
        "No head of this layer scores 0.6 or more on one pattern, so no colour keeps to one "
        "direction."
    )


def test_what_to_notice_states_the_measured_numbers(shipped):
    without = views.accuracy_without(shipped, {(0, 1)})
    lines = notice_lines(shipped, without)
    own = [
        views.hand_held_out_scores().score(i, head.pattern)
        for i, head in enumerate(hand_model().heads)
    ]
    assert f"{min(own):.2f}" == "0.99"
    assert lines[1] == (
        "The hand-set heads are sharp (each scores at least 0.99 on its own pattern on held-out "
        "sentences) because their rules are exact; the best trained head scores 0.81, and L1 H1 "
        "serves two patterns at once (pronoun → its noun 0.78, next token 0.66)."
    )
    assert lines[-1] == (
        "Switching off the previous-token head (L1 H2) leaves *the word before it* right at "
        "64% of the held-out words, against 100% with every head on: the other heads cannot "
        "fully stand in for it."
    )
    assert notice_lines(None, None) == lines[:1] + lines[2:3]


def test_on_only_ever_follows_sat_in_the_toy_grammar():
    """The knockout exercise's explanation says so; the grammar makes it true."""
    sentences = generate_sentences(2000, seed=12)
    before_on = {
        sentence[i - 1] for sentence in sentences for i, w in enumerate(sentence) if w == "on"
    }
    assert before_on == {"sat"}
