"""The page's sentences: each number, direction and count checked against the data."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from lab.multi_head import (
    EXAMPLES,
    Job,
    ablate,
    answer_probabilities,
    explain_head,
    generate_sentences,
    hand_head_view,
    hand_model,
    toy_tokens,
    trained_head_labels,
    trained_head_view,
)
from lab.multi_head.hand_heads import HandHeadsConfig
from lab.multi_head.prose import (
    ablation_text,
    ambiguity_note,
    concat_text,
    heading,
    heatmaps_caption,
    none_specialised_text,
    retrain_intro,
    scores_note,
    scores_text,
    section_number,
    specialised_text,
)
from tests.multi_head.helpers import GIRL, exactly


def test_sections_are_numbered_in_page_order():
    assert heading("Where the patterns come from") == "2 · Where the patterns come from"
    assert section_number("Ablation: switch heads off") == 4
    with pytest.raises(ValueError, match=exactly("tuple.index(x): x not in tuple")):
        section_number("Nowhere")


@pytest.mark.parametrize("sentence", [GIRL, *generate_sentences(20, seed=2)])
def test_every_hand_set_score_is_beta_alpha_or_zero(sentence):
    """The page says every cell of a hand-set head's score map is β, α or 0."""
    config = HandHeadsConfig()
    text = scores_text(config, len(sentence))
    assert "√d_k = 8 (each head's queries and keys have d_k = 64 entries)" in text
    assert "β = 10 (the pattern's target), α = 5 (the token itself) or 0" in text
    for head in hand_model().heads:
        scores = explain_head(head, sentence).scores
        assert set(np.round(scores, 9).ravel()) <= {config.strength, config.fallback, 0.0}


def test_the_caption_counts_tokens_heads_and_held_out_sentences(shipped):
    hand = heatmaps_caption(hand_head_view(GIRL), None, 300)
    assert hand.startswith(
        "The same 11 tokens through five heads whose W_q and W_k were set by hand, one "
        "pattern each: each head h has its own Q_h = X W_q^(h)"
    )
    assert "on 300 held-out sentences and on this one." in hand
    trained = heatmaps_caption(trained_head_view(shipped, GIRL, 1), 1, 300)
    assert "through the 4 heads of layer 2 of the trained model" in trained


def test_the_concatenation_text_states_the_shapes(shipped):
    assert concat_text(hand_head_view(GIRL), trained=False).startswith(
        "Each hand-set head's value is the key's word type, so its output row says what "
        "*kind* of word the head found (11 × 8). Side by side: 11 × 40. Here W_o (40 × 8) is "
        "5 identity blocks stacked"
    )
    view = trained_head_view(shipped, GIRL, 0)
    assert view.w_o.shape == (32, 32) and view.concat.shape == (11, 32)
    assert concat_text(view, trained=True) == (
        "Each head hands back an 11 × 8 matrix (its weights times its own V, d_v = 8). Side by "
        "side they make the 11 × 32 concatenation; W_o (32 × 32) mixes every head's columns "
        "into each output column, giving 11 × 32, which is added to the residual stream."
    )
    # the hand-set W_o really is identity blocks: the output is the sum of the heads' outputs
    hand = hand_head_view(GIRL)
    np.testing.assert_allclose(hand.output, hand.head_outputs.sum(axis=0), atol=1e-12)


def test_the_ablation_text_follows_the_numbers(shipped):
    names = trained_head_labels(shipped)
    result = ablate(shipped, GIRL, Job.REFERENT, 7, {(0, 3)})
    before, after = answer_probabilities(result, GIRL)
    text = ablation_text(result, GIRL, names)
    assert text.startswith(
        f"At **she** the model should name “girl” (the noun it refers to). With every head on "
        f"it gives that answer probability **{before:.2f}**; with L1 H4 off it gives "
        f"**{after:.2f}**."
    )
    # at "on" the word before is given away: no single head matters
    calm = ablate(shipped, GIRL, Job.PREVIOUS, 3, ())
    assert calm.effects.min() > 0.95
    assert "No single head matters here" in ablation_text(calm, GIRL, names)
    watcher = int(np.argmax(calm.looked))
    assert f"{names[watcher]} puts the most weight from “on” on “sat”" in ablation_text(
        calm, GIRL, names
    )
    # at "girl" the previous-token head both looks and matters
    girl = ablate(shipped, GIRL, Job.PREVIOUS, 1, ())
    assert int(np.argmax(girl.looked)) == int(np.argmin(girl.effects)) == 1
    assert "Here looking and mattering agree: L1 H2 puts the most weight" in ablation_text(
        girl, GIRL, names
    )
    # with the head that mattered already off, no one more head moves the answer
    gone = ablate(shipped, GIRL, Job.PREVIOUS, 1, {(0, 1)})
    before, after = answer_probabilities(gone, GIRL)
    assert gone.effects.max() - gone.effects.min() < 0.05 and after < 0.05
    assert ablation_text(gone, GIRL, names).endswith(
        f"Switching off L1 H2 took P from {before:.2f} to {after:.2f}; no one more head moves "
        "it by 0.05 or more."
    )
    with pytest.raises(ValueError, match=exactly("ablation_text needs a job with a right answer")):
        ablation_text(ablate(shipped, GIRL, Job.NEXT, 10, ()), GIRL, names)


def test_the_scores_note_compares_the_layers(shipped):
    note = scores_note(shipped)
    assert "Layer 2's heads are blurrier (best score 0.40, against 0.81 in layer 1)" in note
    sharp_second = replace(shipped, scores=shipped.scores[::-1].copy())
    assert "blurrier" not in scores_note(sharp_second)


def test_what_is_said_when_no_head_reaches_the_mark(shipped):
    assert specialised_text(shipped) == (
        "Score ≥ 0.6: L1 H1 (pronoun → its noun), L1 H2 (previous token), L1 H3 (next token)."
    )
    flat = replace(shipped, scores=np.full_like(shipped.scores, 0.3))
    assert specialised_text(flat) is None
    assert none_specialised_text(flat) == (
        "No head scores 0.6 or more on a single pattern, yet every job is done: the work is "
        "shared between heads."
    )
    unlearned = replace(flat, metrics={**flat.metrics, "referent_accuracy": 0.4})
    assert none_specialised_text(unlearned).endswith(
        "not every job is learned yet: try more steps."
    )


def test_the_retrain_box_quotes_the_shipped_run(shipped):
    seconds = shipped.metrics["train_seconds"]
    assert retrain_intro(shipped).startswith(
        "**Retrain the model.** Same data and jobs, a new run of up to 3000 steps (the shipped "
        f"run of 1500 steps took {seconds:.0f} s"
    )


def test_the_ambiguity_note_names_the_nouns():
    cat = toy_tokens(EXAMPLES[-1]).tokens
    assert ambiguity_note(cat, 7, (1, 5)).startswith("“it” agrees with “cat” and “mat”")
