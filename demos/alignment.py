"""Cross-attention and reading an alignment: a tiny translation model's attention map,
checked against the true alignment, with additive and dot-product scoring."""

from functools import partial

import streamlit as st

from app import runs, ui
from app.charts import draw
from lab.alignment import (
    EXAMPLE_SENTENCES,
    MAX_SOURCE_WORDS,
    AlignmentConfig,
    MapReading,
    MisleadingCase,
    Scoring,
    SentenceView,
    TrainedAligner,
    alignment_mask,
    load_aligner,
    misleading_example,
    read_source,
    view_sentence,
)
from lab.alignment.charts import (
    alignment_heatmap,
    seed_dots,
    step_labels,
    training_curves,
    truth_bars,
    word_outline,
)
from lab.alignment.exercises import page_exercises, truth_labels
from lab.alignment.grammar import HELD_OUT_SIZE, PairSet
from lab.alignment.sweep import SeedResult, load_seed_sweep, seed_spread, sweep_columns
from lab.alignment.tables import metrics_table, seed_table, vocabulary_lines
from lab.text import escape_markdown

SLUG = "alignment"
TYPE_OWN = "Type my own sentence…"
HALF = 400  # pixels of cells for one of two charts side by side
FIRST_MAP = 300  # pixels of cells for the map beside the controls (labels and legend fit too)
MAX_TYPED = 200  # characters; longer than any sentence the model reads, so the core explains


@st.cache_resource(show_spinner=False)
def shipped(scoring: Scoring) -> TrainedAligner:
    return load_aligner(scoring)


@st.cache_data(max_entries=512, show_spinner=False)
def translate(scoring: Scoring, text: str) -> SentenceView:
    return view_sentence(shipped(scoring), read_source(text))


@st.cache_data(max_entries=128, show_spinner=False)
def retranslate(run_key: tuple, text: str, _aligner: TrainedAligner) -> SentenceView:
    return view_sentence(_aligner, read_source(text))


@st.cache_data(max_entries=8, show_spinner=False)
def example(scoring: Scoring, reading: MapReading) -> MisleadingCase | None:
    return misleading_example(shipped(scoring), reading)


def stored_in(scoring: Scoring, reading: MapReading) -> PairSet | None:
    """The fixed set of sentences the shipped model's example comes from."""
    found = [item for item in shipped(scoring).examples if item.reading is reading]
    return found[0].pair_set if found else None


@st.cache_resource(show_spinner=False)
def seed_results() -> tuple[SeedResult, ...]:
    return load_seed_sweep()


def train_run(config: AlignmentConfig, progress: runs.Progress) -> TrainedAligner:
    from lab.alignment.train import train_reporting  # torch, only when someone retrains

    return train_reporting(config, progress)


def draw_view(view: SentenceView, **options) -> None:
    """A translated sentence's map, its output words outlined on their true source words."""
    outline = word_outline(view.outline, view.reference)
    draw(alignment_heatmap, view.attention, view.source_labels, view.output, outline, **options)


def words_of(view: SentenceView) -> str:
    return " ".join(escape_markdown(word) for word in view.output)


ui.page_header(SLUG)
st.latex(
    r"\begin{gathered}"
    r"q_t = s_{t-1}\ \text{(decoder)},\quad k_j = v_j = z_j\ \text{(encoder)},\quad "
    r"a_t = \mathrm{softmax}_j\, \mathrm{score}(q_t, k_j),\quad c_t = \sum\nolimits_j a_{tj} v_j"
    r"\\ \mathrm{score}_{\text{add}}(q, k) = w_v \cdot \tanh(q W_q + k W_k)\qquad"
    r"\mathrm{score}_{\text{dot}}(q, k) = (q W_q) \cdot (k W_k) / \sqrt{d}"
    r"\end{gathered}"
)

controls, glance = st.columns([1, 1.35], gap="large")
with controls:
    with st.container(border=True):
        picked = ui.choose(
            "Source sentence",
            [*EXAMPLE_SENTENCES, TYPE_OWN],
            key="sentence",
            help="Sentences of the toy language; the last choice opens a box to type one.",
        )
        if picked < len(EXAMPLE_SENTENCES):
            text = EXAMPLE_SENTENCES[picked]
        else:
            text = ui.text(
                "Your sentence",
                "the happy fox sees a red ball",
                key="typed",
                max_chars=MAX_TYPED,
                help=f"At most {MAX_SOURCE_WORDS} words from the vocabulary below.",
            )
        scoring = ui.segmented("Scoring function", list(Scoring), Scoring.ADDITIVE, key="scoring")
    reading = read_source(text)
    if not reading.usable:
        show = st.info if not text.strip() else st.warning
        show(escape_markdown(reading.message or ""), icon=":material/edit:")
        view = None
    else:
        if reading.message:
            st.info(escape_markdown(reading.message), icon=":material/info:")
        view = translate(scoring, " ".join(reading.words))
        S, L = len(view.source_labels), len(view.output)  # source positions, output steps
        st.markdown(f"**Model output:** {words_of(view)}")
        if view.reference is not None:
            verdict = (
                "the same, word for word."
                if view.matches_reference
                else f"{' '.join(escape_markdown(w) for w in view.reference)}: **different**."
            )
            st.markdown(
                f"**Grammar's translation:** {verdict}  \n"
                f"**Alignment score of this sentence:** {view.alignment_score:.3f} (uniform "
                f"attention: 1/{S} = {1 / S:.3f})"
            )
    with st.expander("The toy language: vocabulary and rules"):
        st.markdown("  \n".join(vocabulary_lines()))
        st.markdown(
            "Adjectives follow their noun and the verb goes last: *the big dog chases a "
            "small cat* → *lo kano grani na gato peti chasas*."
        )

with glance:
    if view is not None:
        draw_view(
            view,
            title=f"Where each output step looked, {scoring.label}   ({L} × {S})",
            cell_size=32 if max(L, S) <= 9 else None,
            max_width=FIRST_MAP,
            show_values=S <= 11 and L <= 13,  # numbers still fit cells of FIRST_MAP / 11 px
        )

if view is not None:
    st.header("1 · Reading the map", anchor=False)
    reading_col, bars_col = st.columns([1, 1.35], gap="large")
    with reading_col:
        outlined = (
            "The orange outline marks each output word's true source word, from the grammar "
            "(the end marker `<eos>` translates no word and is not outlined)"
            + (
                "."
                if view.matches_reference
                else ", up to the first word the model got wrong: after it the decoder is "
                "fed its own words, no longer the grammar's."
            )
            if view.outline is not None
            else "This sentence does not follow the grammar, so no cell is outlined."
        )
        st.markdown(
            "Row $t$ is decoder step $t$: its state $s_{t-1}$ is the query, the encoder's "
            f"states $z_1, \\dots, z_{{{S}}}$ of the {S} source positions are the keys and the "
            "values, and the row holds the softmax weights $a_t$ that average them into the "
            "context $c_t$. "
            f"{outlined} A weight measures how much of an encoder state went into the "
            "average at that step; that state was computed from the whole sentence by a "
            "bidirectional GRU, not from its word alone."
        )
    with bars_col:
        if reading.pair is not None and view.on_truth is not None:
            pair = reading.pair
            shares = {
                option: translate(option, " ".join(reading.words)).on_truth for option in Scoring
            }
            draw(
                truth_bars,
                truth_labels(pair.target, pair.source, pair.alignment),
                shares,
                title="Weight on the true source word, both scoring functions",
                uniform=1 / S,
            )
            st.caption(
                "Teacher-forced (the decoder is fed the grammar's words, as for the "
                "alignment score), so these equal the heatmap's outlined cells wherever "
                "the outline is drawn. Dashed line: uniform attention, 1/S."
            )

st.header("2 · Additive against dot-product scoring", anchor=False)
models = {option: shipped(option) for option in Scoring}
st.markdown(
    "Both models have the same encoder and decoder and the same training settings (seed, "
    "steps, batches of sentences); only the scoring function differs. Additive scoring "
    "passes the query and each key through a small MLP with one tanh layer, so they may "
    "have different sizes (here "
    f"{models[Scoring.ADDITIVE].config.decoder_size} and "
    f"{2 * models[Scoring.ADDITIVE].config.encoder_size}); dot-product scoring projects "
    f"both to d = {models[Scoring.DOT].config.attention_size} and takes a scaled dot "
    f"product. Measured on {HELD_OUT_SIZE} held-out sentences the models never trained on:"
)
metrics = {option: model.metrics for option, model in models.items()}
st.markdown(metrics_table(metrics))
st.caption(
    "Chance: always answering *lo* (the most common word), and uniform attention. "
    "Three adjectives before a noun never occur in training (at most two do)."
)
draw(
    training_curves,
    tuple((option.label, option, model.curves) for option, model in models.items()),
    title="Training, epoch by epoch (held-out numbers are teacher-forced)",
    chance={
        "accuracy": metrics[Scoring.ADDITIVE]["chance_accuracy"],
        "alignment": metrics[Scoring.ADDITIVE]["chance_alignment"],
    },
    panel_width=200,
)

st.subheader("Same accuracy, different maps", anchor=False)
results = seed_results()
spreads = {option: seed_spread(results, option) for option in Scoring}
dots_col, words_col = st.columns([1.3, 1], gap="large")
with dots_col:
    draw(
        seed_dots,
        *sweep_columns(results),
        title="Every seed: accuracy piles up, alignment spreads",
        width=380,
    )
with words_col:
    st.markdown(
        f"The same model trained from {spreads[Scoring.ADDITIVE].seeds} seeds per scoring "
        "function (other initial weights, another stream of training sentences). "
        + " ".join(
            f"With {option.label} scoring the token accuracy runs from "
            f"{spread.accuracy_low:.3f} to {spread.accuracy_high:.3f}, the alignment score "
            f"from {spread.alignment_low:.3f} to {spread.alignment_high:.3f}."
            for option, spread in spreads.items()
        )
    )
st.markdown(seed_table(results))

st.header("3 · Where attention maps mislead", anchor=False)
st.markdown(
    f"Two steps of the {scoring.label} model where the map and the output disagree, found "
    "by searching fixed sets of sentences. The decoder is fed the grammar's words "
    "(teacher forcing), so every row has a right answer; a row's label is the word the "
    "model ranked first, followed by “(not …)” and the right word when they differ. The "
    "orange outlines are the true source words; the dashed one is the largest weight of "
    "the step discussed."
)
cases = {kind: example(scoring, kind) for kind in MapReading}
for kind, case in cases.items():
    st.subheader(kind.value.capitalize(), anchor=False)
    if case is None:
        st.info("This model has no such step in the sentences searched.")
        continue
    pair, step = case.pair, case.step
    where = stored_in(scoring, kind)
    map_col, story_col = st.columns([1.5, 1], gap="large")
    with map_col:
        draw(
            alignment_heatmap,
            case.attention,
            pair.source_tokens,
            step_labels(case.predicted, pair.target_tokens),
            word_outline(
                alignment_mask(pair.alignment, len(pair.source_tokens)), pair.target_tokens
            ),
            title=f"“{' '.join(pair.source)}”",
            most_weight_row=step.step,
            max_width=HALF,
            legend=False,
        )
    word = escape_markdown(pair.target_tokens[step.step])
    said = escape_markdown(case.predicted[step.step])
    with story_col:
        if kind is MapReading.WRONG_PLACE_RIGHT_WORD:
            st.markdown(
                f"Output word {step.step + 1}, *{word}*, translates "
                f"*{escape_markdown(case.true_word)}*, which gets {step.on_truth:.3f} of the "
                f"weight; the most, {step.top_weight:.3f}, goes to "
                f"*{escape_markdown(case.attended_word)}* (dashed). The model says *{said}*: "
                "right. Read as an explanation, the map points at the wrong word."
            )
        else:
            st.markdown(
                f"At output word {step.step + 1} the largest weight, {step.top_weight:.3f}, is "
                f"on the true source word *{escape_markdown(case.true_word)}* (both outlines), "
                f"yet the model says *{said}* where the grammar says *{word}*."
            )
        if where is PairSet.THREE_ADJECTIVES:
            st.markdown(
                "The sentence has three adjectives before its noun; training never showed "
                "more than two."
            )
        else:
            st.markdown(f"The sentence is one of the {HELD_OUT_SIZE} held-out sentences.")
st.markdown(
    "A weight measures how much of an encoder state went into the context vector, not how "
    "much the output depends on that word: each state carries information from the whole "
    "sentence, and the decoder carries its own state forward. Whether attention maps explain a model is "
    "debated; Murphy points to *Is attention interpretable?* (Serrano and Smith, 2019)."
)


@st.fragment
def retrain_section(text: str | None, scoring: Scoring) -> None:
    """Retrain the chosen scoring function from a seed; only this session sees the result."""
    if not runs.training_allowed():
        st.info(runs.TRAINING_OFF, icon=":material/block:")
    else:
        seed_col, epochs_col, button_col = st.columns([1, 1.4, 1], vertical_alignment="bottom")
        with seed_col:
            seed = ui.seed(
                key="train_seed",
                value=1,
                help="Draws the initial weights and "
                "the training sentences. Seed 0 with 12 epochs is the shipped model.",
            )
        with epochs_col:
            epochs = ui.slider("Epochs (25 steps each)", 1, 12, 12, key="epochs")
        with button_col:
            clicked = st.button(
                f"Retrain {scoring.value}", key="retrain", icon=":material/model_training:"
            )
        if clicked:
            config = AlignmentConfig(scoring=scoring, seed=int(seed), epochs=int(epochs))
            key = (scoring.value, config.seed, config.epochs)
            runs.select(SLUG, key)
            runs.train(
                SLUG,
                key,
                partial(train_run, config),
                label=f"Training {scoring.label} scoring, seed {config.seed}",
            )
    run = runs.selected(SLUG)
    if run is None:
        st.caption("No retrained model yet in this session: the page shows the shipped ones.")
        return
    base = shipped(run.scoring)
    epochs = run.config.epochs
    name = f"seed {run.config.seed}, {epochs} epoch{'s' * (epochs != 1)}"
    st.markdown(
        f"**Your model: {run.scoring.label} scoring, {name}**, shown to you only. On the "
        f"held-out sentences: token accuracy {run.metrics['token_accuracy']:.3f} (shipped "
        f"{base.metrics['token_accuracy']:.3f}), alignment score "
        f"{run.metrics['alignment_score']:.3f} (shipped {base.metrics['alignment_score']:.3f})."
    )
    draw(
        training_curves,
        (
            ("shipped, seed 0", run.scoring, base.curves),
            (name, run.scoring, run.curves),
        ),
        title="Your run against the shipped one",
        panel_width=200,
    )
    if text is not None:
        mine = retranslate((run.scoring.value, run.config.seed, run.config.epochs), text, run)
        score = (
            "" if mine.alignment_score is None else f", alignment score {mine.alignment_score:.3f}"
        )
        draw_view(mine, title=f"Your model on the sentence above{score}", max_width=HALF)


st.header("4 · Retrain with another seed", anchor=False)
seconds = [model.metrics["train_seconds"] for model in models.values()]
st.markdown(
    "Train the chosen scoring function again. The shipped models took "
    f"{min(seconds):.0f} to {max(seconds):.0f} s each to train and measure on one core; this "
    f"server trains {runs.MAX_TRAININGS} model{'s' * (runs.MAX_TRAININGS != 1)} at a time and "
    "queues the rest. The map of the sentence above changes with the seed even where the "
    "translation does not."
)
retrain_section(" ".join(reading.words) if reading.usable else None, scoring)

additive, dot = metrics[Scoring.ADDITIVE], metrics[Scoring.DOT]
ui.page_end(
    SLUG,
    notice=[
        "The outline leaves the diagonal wherever the grammar reorders: adjectives "
        "follow their noun and the verb goes last. On held-out sentences, on average "
        f"{additive['alignment_score']:.3f} ({Scoring.ADDITIVE.value}) and "
        f"{dot['alignment_score']:.3f} ({Scoring.DOT.value}) of an output word's weight "
        f"lands on its true source word, against {additive['chance_alignment']:.3f} for "
        "uniform attention.",
        "Trained from the same seed, the two scoring functions differ by "
        f"{abs(additive['alignment_score'] - dot['alignment_score']):.3f} in alignment "
        "score; across seeds one scoring function's alignment score spreads by "
        f"{spreads[Scoring.ADDITIVE].alignment_range:.3f} ({Scoring.ADDITIVE.value}) and "
        f"{spreads[Scoring.DOT].alignment_range:.3f} ({Scoring.DOT.value}), at about "
        "the same accuracy.",
        "A map can point away from the true word while the output is right, and at it "
        "while the output is wrong: a weight says what was averaged, not what was used.",
        "Off the training data (three adjectives) the token accuracy falls to "
        f"{additive['three_adjectives_token_accuracy']:.3f} and "
        f"{dot['three_adjectives_token_accuracy']:.3f}, the alignment score only to "
        f"{additive['three_adjectives_alignment_score']:.3f} and "
        f"{dot['three_adjectives_alignment_score']:.3f}: a map that still looks right "
        "does not mean the words are.",
    ],
    exercises=page_exercises(
        reading, view, scoring, spreads[scoring], cases[MapReading.WRONG_PLACE_RIGHT_WORD]
    ),
)
