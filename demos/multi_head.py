"""Multi-head attention on toy sentences: hand-set heads, a tiny trained transformer,
the head view, concatenation and W_o, and ablation."""

from dataclasses import dataclass, replace

import numpy as np
import streamlit as st

from app_ui import notes, page_header
from app_ui import show_chart as show
from lab import legacy_charts as charts
from lab.hand_heads import (
    FEATURES,
    HandHeadsConfig,
    explain_head,
    hand_model,
    hand_pattern_scores,
    run_hand_heads,
)
from lab.head_patterns import (
    PATTERN_LABELS,
    PATTERNS,
    SPECIALISED_AT,
    PatternScores,
    describe,
    pattern_scores,
)
from lab.multihead import MultiHeadSteps
from lab.multihead_charts import head_view, pattern_table
from lab.text import escape_markdown, position_labels
from lab.tiny_transformer import (
    JOBS,
    TinyConfig,
    TrainConfig,
    TrainedModel,
    attention_to,
    forward,
    gates_without,
    held_out_sentences,
    job_answer,
    knockout_effects,
    load_checkpoint,
    top_predictions,
    train,
)
from lab.toy_language import (
    EXAMPLES,
    KNOWN_WORDS,
    WORD_TYPES,
    antecedents,
    tokenize,
    word_type,
)

OWN = "✏️ Type my own sentence"
HAND, TRAINED = "Hand-set heads", "Trained model"
DEFAULT_OWN = "The boy saw the cats and they ran away."
JOB_LABELS = {
    "previous": "the word before it",
    "next": "the word after it",
    "referent": "the noun it refers to",
}
SHORT_PATTERN_LABELS = [  # column labels of the pattern tables
    {"antecedent": "pronoun→noun", "self": "itself"}.get(name, name) for name in PATTERNS
]
RETRAINED = "mh_retrained_model"  # session key of a model the learner retrained
HEAT = 165  # pixels of cells for one heatmap in a row of three (two rows: HEAT_WIDE)
HEAT_WIDE = 260  # ... in a row of two


BUILDERS = {
    "heatmap": charts.heatmap,
    "weights_heatmap": charts.weights_heatmap,
    "matrix_view": charts.matrix_view,
    "pattern_table": pattern_table,
}


@st.cache_data(max_entries=512, show_spinner=False)
def chart_spec(builder: str, *args, **options) -> dict:
    """A chart's Vega-Lite spec, built once per distinct input (workshops revisit examples)."""
    return BUILDERS[builder](*args, **options).to_dict(validate=False)


def show_cached(builder: str, *args, **options) -> None:
    st.vega_lite_chart(chart_spec(builder, *args, **options), width="content")


def show_bars(chart) -> None:
    """A bar chart from lab.charts."""
    show(chart)


@st.cache_resource(show_spinner=False)
def shipped_model() -> TrainedModel | None:
    """The checkpoint in lab/checkpoints (None if it is missing or stale)."""
    try:
        return load_checkpoint()
    except ValueError:
        return None


@st.cache_data(show_spinner=False)
def hand_scores_on_held_out() -> PatternScores:
    return hand_pattern_scores(held_out_sentences(TrainConfig()))


def head_label(layer: int, head: int) -> str:
    return f"L{layer + 1} H{head + 1}"


@dataclass(frozen=True)
class HeadSet:
    """What the page shows for one set of heads (hand-set, or one trained layer)."""

    names: tuple[str, ...]
    steps: MultiHeadSteps
    held_out: PatternScores  # scores over the held-out sentences
    here: PatternScores  # scores on this sentence
    value_labels: list[str] | None  # names of each head's value columns, if they have any
    output_labels: list[str] | None


page_header("multi_head")
st.latex(
    r"\mathrm{head}_h = \mathrm{softmax}\!\left(\frac{Q_h K_h^\top}{\sqrt{d_k}}\right)V_h"
    r"\quad\text{with}\quad Q_h = XW_q^{(h)},\; K_h = XW_k^{(h)},\; V_h = XW_v^{(h)}"
)
st.latex(r"\mathrm{MultiHead}(X) = \mathrm{Concat}(\mathrm{head}_1, \dots, \mathrm{head}_H)\,W_o")

model = st.session_state.get(RETRAINED) or shipped_model()

with st.container(border=True):
    sentence_col, source_col, layer_col = st.columns([3.2, 2.2, 1.1], gap="medium")
    with sentence_col:
        choice = st.selectbox(
            "Sentence",
            [*EXAMPLES, OWN],
            key="mh_example",
            help="Example sentences of the toy language, or your own.",
        )
        if choice == OWN:
            text = st.text_input(
                "Your sentence",
                value=DEFAULT_OWN,
                key="mh_sentence",
                max_chars=400,
                help="Words of the toy vocabulary (listed below), at most 12 tokens; "
                "capitals do not matter, other words become <unk>.",
            )
            with st.expander(f"The toy vocabulary ({len(KNOWN_WORDS)} words)"):
                for kind in WORD_TYPES:
                    words = [word for word in KNOWN_WORDS if word_type(word) == kind]
                    st.markdown(
                        f"**{kind}**: " + ", ".join(escape_markdown(word) for word in words)
                    )
                st.caption(
                    "Nouns agree with one pronoun each: boy, man → he; girl, woman → she; "
                    "cat, dog, bird, ball, box, mat → it; kids, cats, dogs → they."
                )
        else:
            text = choice
    with source_col:
        sources = [HAND, TRAINED] if model is not None else [HAND]
        source = st.radio(
            "Heads",
            sources,
            key="mh_source",
            horizontal=True,
            help="Hand-set: five heads whose W_q and W_k were written by hand. "
            "Trained: a two-layer transformer with four heads per layer.",
        )
    with layer_col:
        n_layers = model.config.num_layers if model is not None else 1
        layer_number = st.selectbox(
            "Layer",
            list(range(1, n_layers + 1)),
            key="mh_layer",
            disabled=source != TRAINED,
            help="Which layer of the trained model to show.",
        )

if model is None:
    st.warning(
        "The trained model's checkpoint (lab/checkpoints/tiny_transformer.npz) is missing "
        "or was made for another vocabulary; only the hand-set heads are shown. "
        "Run `python scripts/train_tiny_transformer.py` to rebuild it.",
        icon=":material/warning:",
    )

read = tokenize(text)
if read.is_empty:
    st.info(read.message or "Type a sentence.", icon=":material/edit:")
    st.stop()
if read.message:
    st.warning(escape_markdown(read.message), icon=":material/spellcheck:")

tokens = read.tokens
labels = list(tokens)
L = len(tokens)
layer = int(layer_number) - 1
trained_view = source == TRAINED and model is not None

if trained_view:
    run = forward(model.weights, read.ids, model.config)
    steps = run.layers[layer].attention
    head_set = HeadSet(
        names=tuple(head_label(layer, head) for head in range(model.config.num_heads)),
        steps=steps,
        held_out=model.layer_scores(layer),
        here=pattern_scores([steps.head_weights], [tokens]),
        value_labels=None,
        output_labels=None,
    )
else:
    steps = run_hand_heads(tokens)
    head_set = HeadSet(
        names=hand_model().names,
        steps=steps,
        held_out=hand_scores_on_held_out(),
        here=pattern_scores([steps.head_weights], [tokens]),
        value_labels=list(WORD_TYPES),
        output_labels=list(WORD_TYPES),
    )
H = len(head_set.names)

pronouns = antecedents(tokens)
ambiguous = {pronoun: nouns for pronoun, nouns in pronouns.items() if len(nouns) > 1}
if ambiguous:
    pronoun, nouns = next(iter(ambiguous.items()))
    st.info(
        f"“{escape_markdown(tokens[pronoun])}” agrees with "
        + " and ".join(f"“{escape_markdown(tokens[noun])}”" for noun in nouns)
        + ": word types alone cannot tell which one it means (people use meaning: "
        "a mat does not get tired), so a head built from word types splits its weight.",
        icon=":material/call_split:",
    )

# ----------------------------------------------------------------------------
st.header("1 · One heatmap per head", anchor=False)
what = (
    "five heads whose W_q and W_k were set by hand, one pattern each"
    if not trained_view
    else f"the {H} heads of layer {layer + 1} of the trained model"
)
st.caption(
    f"The same {L} tokens through {what}; queries are rows, keys columns. Under each map: "
    "the pattern the head follows most and its score (the share of weight on the "
    f"pattern's target) on {TrainConfig().eval_sentences} held-out sentences and on this one."
)
per_row = 2 if H % 3 and H % 2 == 0 else 3  # 4 heads: two rows of two
for start in range(0, H, per_row):
    columns = st.columns(per_row, gap="medium")
    for head, column in zip(range(start, min(start + per_row, H)), columns, strict=False):
        with column:
            show_cached(
                "weights_heatmap",
                head_set.steps.head_weights[head],
                labels,
                labels,
                title=head_set.names[head],
                max_width=HEAT if per_row == 3 else HEAT_WIDE,
                show_values=False,
                legend=head == H - 1,
            )
            pattern, _ = head_set.held_out.best(head)
            here = head_set.here.score(head, pattern)
            here_text = "n/a here" if np.isnan(here) else f"{here:.2f} here"
            st.caption(f"**{describe(head_set.held_out, head)}** held-out · {here_text}")


# ----------------------------------------------------------------------------
@st.fragment
def head_view_section(head_set: HeadSet) -> None:
    names = head_set.names
    shown = st.pills(
        "Heads drawn",
        list(range(len(names))),
        selection_mode="multi",
        default=list(range(len(names))),
        format_func=lambda index: names[index],
        key=f"mh_view_{'trained' if trained_view else 'hand'}",
        width="stretch",
        wrap=True,
        help="Click a head to hide or show its lines.",
    )
    shown = shown or []
    if not shown:
        st.info("Pick at least one head to draw its lines.", icon=":material/touch_app:")
    left, right = st.columns([1.4, 1], gap="large")
    with left:
        show(
            head_view(
                head_set.steps.head_weights,
                labels,
                names,
                visible=[index in shown for index in range(len(names))],
                width=400,
            )
        )
    with right:
        st.markdown(
            "All heads at once, as in the BERT visualisations: each coloured line joins a "
            "query word (left) to a key word (right), as opaque as the weight. "
            "**Hover a word** on the left to see only where it looks, or on the right to "
            "see who looks at it. Click heads above to hide them."
        )
        if not trained_view:
            st.markdown(
                "With the hand-set heads the colours separate cleanly: blue lines step "
                "down one row (previous token), orange lines step up (next token), green "
                "lines all run to the first word, and the purple line leaves the pronoun "
                "for its noun."
            )


st.header("2 · All heads in one picture", anchor=False)
head_view_section(head_set)

# ----------------------------------------------------------------------------
st.header("3 · Where the patterns come from", anchor=False)


@st.fragment
def explain_hand_heads() -> None:
    heads = hand_model().heads
    config = HandHeadsConfig()
    index = st.selectbox(
        "Head to explain",
        list(range(len(heads))),
        format_func=lambda i: heads[i].name,
        index=4,
        key="mh_explain",
    )
    head = heads[index]
    parts = explain_head(head, tokens, config)
    st.markdown(f"**{head.name}.** {head.rule}")
    st.markdown(
        f"Every token is a row of {len(FEATURES)} features, each 0 or 1: its position, word "
        "type, noun class, a constant *bias* and the word itself. Below, only the rows of W_q and "
        "W_k that this sentence switches on, and the columns both use."
    )
    if not parts.columns:
        st.info(
            "This sentence switches on none of the features this head reads, so every "
            "score is 0 and the head spreads its weight evenly.",
            icon=":material/info:",
        )
    else:
        column_labels = [str(column) for column in parts.columns]
        shared = charts.symmetric_domain(parts.w_q, parts.w_k)
        cell = 20 if len(parts.columns) <= 14 else 13
        for column, matrix, features_used, name, side in zip(
            st.columns(2, gap="large"),
            (parts.w_q, parts.w_k),
            (parts.query_features, parts.key_features),
            ("W_q", "W_k"),
            ("query", "key"),
            strict=True,
        ):
            with column:
                show_cached(
                    "heatmap",
                    matrix,
                    features_used,
                    column_labels,
                    title=f"{name}, rows used   ({matrix.shape[0]} × {matrix.shape[1]} of "
                    f"{len(FEATURES)} × {config.key_size})",
                    signed=True,
                    row_title=f"{side} feature",
                    col_title="column",
                    value_title="entry",
                    value_format=".0f",
                    cell_size=cell,
                    show_values=cell >= 20,
                    domain=shared,
                    legend=False,
                )
        left, right = st.columns([1.3, 1], gap="large")
        with left:
            show_cached(
                "heatmap",
                parts.scores,
                labels,
                labels,
                title=f"scores q·k / √E on this sentence   ({L} × {L})",
                signed=True,
                value_title="score",
                value_format=".0f",
                max_width=300,
                show_values=True,
                legend=False,
            )
        with right:
            st.markdown(
                f"Read a score as *row feature meets column*: q_i · k_j adds up, over the "
                f"columns, the query's entry times the key's entry. A query lights up "
                f"columns with √E = {np.sqrt(config.key_size):.0f}; a key answers with the "
                f"score it should get after the division by √E. So every cell of the map "
                f"on the left is β = {config.strength:g} (the pattern's target), "
                f"α = {config.fallback:g} (the token itself) or 0."
            )


@st.fragment
def retrain_box(current: TrainedModel) -> None:
    defaults = TrainConfig()
    with st.container(border=True):
        st.markdown(
            f"**Retrain the model.** Same data and jobs, a new run: about "
            f"{current.metrics.get('train_seconds', 15):.0f} s for "
            f"{current.train_config.steps} steps on this machine. Other seeds often share "
            "a job between two or three heads instead of giving it to one."
        )
        seed_col, steps_col, button_col = st.columns([1, 2, 1.4], gap="medium")
        with seed_col:
            seed = st.number_input(
                "Seed",
                0,
                9999,
                defaults.seed,
                step=1,
                key="mh_seed",
                help="Initial weights and batches.",
            )
        with steps_col:
            steps_wanted = st.slider(
                "Training steps",
                100,
                3000,
                defaults.steps,
                step=100,
                key="mh_steps",
                help=f"Fewer steps: blurrier heads. The shipped model used {defaults.steps}.",
            )
        with button_col:
            st.write("")
            clicked = st.button("Retrain", key="mh_retrain", icon=":material/model_training:")
            if st.session_state.get(RETRAINED) is not None and st.button(
                "Back to the shipped model", key="mh_reset"
            ):
                del st.session_state[RETRAINED]
                st.rerun()
        if clicked:
            bar = st.progress(0.0, text="Training…")

            def progress(step: int, total: int, loss: float) -> None:
                bar.progress(step / total, text=f"Step {step} of {total} · loss {loss:.4f}")

            new_config = replace(defaults, seed=int(seed), steps=int(steps_wanted))
            st.session_state[RETRAINED] = train(TinyConfig(), new_config, progress=progress)
            st.rerun()


if trained_view:
    all_scores = model.scores.reshape(-1, len(PATTERNS))  # (N*H, P)
    all_names = [
        head_label(n, h)
        for n in range(model.config.num_layers)
        for h in range(model.config.num_heads)
    ]
    specialised = [
        f"{head_label(n, h)} ({PATTERN_LABELS[p]})"
        for n in range(model.config.num_layers)
        for h, p in model.layer_scores(n).specialised().items()
    ]
    retrained = st.session_state.get(RETRAINED) is not None
    run_name = (
        f"retrained here, seed {model.train_config.seed}, {model.train_config.steps} steps"
        if retrained
        else f"the shipped checkpoint, seed {model.train_config.seed}"
    )
    st.markdown(
        f"This model ({run_name}) was never told which word to look at. It was trained on "
        f"{model.train_config.train_sentences} grammar sentences for three jobs at every "
        "word: **name the word before it, name the word after it, and, at a pronoun, name "
        "the noun it refers to**; each job has its own read-out from the last layer. "
        "The patterns are what training found useful for these jobs. On held-out sentences "
        + ", ".join(
            f"{name.split('_')[0]} {value:.0%}"
            for name, value in model.metrics.items()
            if name.endswith("_accuracy")
        )
        + " of the answers are right."
    )
    show_cached(
        "pattern_table",
        all_scores,
        all_names,
        SHORT_PATTERN_LABELS,
        title=f"Pattern scores on {model.train_config.eval_sentences} held-out sentences",
        cell_width=92,
    )
    if specialised:
        st.success(
            f"Score ≥ {SPECIALISED_AT}: " + ", ".join(specialised) + ".",
            icon=":material/target:",
        )
    else:
        st.warning(
            f"No head scores {SPECIALISED_AT} or more on a single pattern: the jobs are "
            "shared between heads. Try more steps or another seed.",
            icon=":material/blur_on:",
        )
    st.markdown(
        "A score is the share of a head's weight on the pattern's target, averaged "
        "over every row where the pattern applies (for *pronoun → noun*, only the "
        "pronoun rows). A head spreading evenly over 10 words would score about 0.1. "
        "Layer 2 has less left to do once layer 1 has copied the neighbours in, so its "
        "heads are blurrier."
    )
    retrain_box(model)
else:
    st.markdown(
        "Each hand-set head is a rule written into W_q and W_k. Pick a head to see the part "
        "of its matrices this sentence uses and the scores they produce."
    )
    explain_hand_heads()
    with st.expander("The hand-set heads' pattern scores on held-out sentences"):
        show_cached(
            "pattern_table",
            head_set.held_out.scores,
            list(head_set.names),
            SHORT_PATTERN_LABELS,
            title=f"Pattern scores on {TrainConfig().eval_sentences} held-out sentences",
            cell_width=92,
        )

# ----------------------------------------------------------------------------
st.header("4 · Concatenate, then mix with W_o", anchor=False)
stages = head_set.steps
Ev = stages.head_outputs.shape[-1]
d_out = stages.output.shape[-1]
if trained_view:
    st.markdown(
        f"Each head hands back an {L} × {Ev} matrix (weights × its own V). Side by side they "
        f"make the {L} × {H * Ev} concatenation; W_o ({H * Ev} × {d_out}) mixes every head's "
        f"columns into each output column, giving {L} × {d_out}, which is added to the "
        "residual stream."
    )
else:
    st.markdown(
        f"Each hand-set head's value is the key's word type, so its output row says what "
        f"*kind* of word the head found ({L} × {Ev}). Side by side: {L} × {H * Ev}. "
        f"Here W_o ({H * Ev} × {d_out}) is five identity blocks stacked, so it simply adds "
        "the heads' findings type by type; a trained W_o (switch to the trained model) "
        "mixes them in learned proportions."
    )
shared = charts.symmetric_domain(stages.head_outputs, stages.concat)
per_row = H if H <= 4 else 3
for start in range(0, H, per_row):
    columns = st.columns(per_row, gap="medium")
    for head, column in zip(range(start, min(start + per_row, H)), columns, strict=False):
        with column:
            show_cached(
                "matrix_view",
                stages.head_outputs[head],
                labels,
                head_set.names[head],
                col_labels=head_set.value_labels,
                col_title=None,
                row_title=None,
                cell_size=18 if per_row == 3 else 14,
                show_values=False,
                domain=shared,
                legend=False,
            )
concat_labels = (
    [f"{h + 1}·{name}" for h in range(H) for name in head_set.value_labels]
    if head_set.value_labels
    else [f"{h + 1}·{c}" for h in range(H) for c in range(Ev)]
)
show_cached(
    "matrix_view",
    stages.concat,
    labels,
    "Concat(head_1, …, head_H)",
    col_labels=concat_labels,
    col_title="head · column",
    cell_size=15,
    show_values=False,
    domain=shared,
)
narrow = stages.w_o.shape[1] <= 10  # hand-set: W_o is tall and thin, the output fits beside it
w_o_column, output_column = (
    st.columns([1, 1.4], gap="large") if narrow else (st.container(), st.container())
)
with w_o_column:
    show_cached(
        "matrix_view",
        stages.w_o,
        concat_labels,
        "W_o",
        col_labels=head_set.output_labels,
        row_title="head · column",
        col_title="output column",
        cell_size=12 if narrow else 14,
        show_values=False,
    )
with output_column:
    show_cached(
        "matrix_view",
        stages.output,
        labels,
        "output = Concat · W_o",
        col_labels=head_set.output_labels,
        col_title="output column",
        cell_size=None if narrow else 18,
        max_width=520,
        show_values=False,
    )


# ----------------------------------------------------------------------------
@st.fragment
def ablation(trained: TrainedModel) -> None:
    config = trained.config
    names = [head_label(n, h) for n in range(config.num_layers) for h in range(config.num_heads)]
    positions = position_labels(tokens)
    pronoun_positions = list(pronouns)
    controls = st.columns([1, 1, 1.6], gap="medium")
    with controls[0]:
        # Labels as options (not indices with a format_func): the browser would keep an
        # old sentence's label on screen after the sentence changes.
        chosen_word = st.selectbox(
            "At the word",
            positions,
            index=pronoun_positions[0] if pronoun_positions else min(1, L - 1),
            key="mh_word",
        )
        position = positions.index(chosen_word)
    with controls[1]:
        job = st.radio(
            "The model names",
            list(JOBS),
            index=2 if position in pronouns else 0,
            format_func=lambda name: JOB_LABELS[name],
            key="mh_job",
        )
    with controls[2]:
        off_indices = st.pills(
            "Heads switched off",
            list(range(len(names))),
            selection_mode="multi",
            format_func=lambda index: names[index],
            key="mh_off",
            width="stretch",
            wrap=True,
            help="Switched-off heads hand W_o zeros instead of their output.",
        )
    off = {divmod(index, config.num_heads) for index in off_indices or []}
    answer = job_answer(tokens, job, position)
    job_index = JOBS.index(job)
    full_run = forward(trained.weights, read.ids, config)
    full = full_run.probabilities[job_index, position]
    cut = forward(
        trained.weights, read.ids, config, head_gates=gates_without(off, config)
    ).probabilities[job_index, position]
    target = "—" if answer is None else f"“{escape_markdown(tokens[answer])}”"
    if answer is None:
        reason = {
            "previous": "the first word has no word before it",
            "next": "the last word has no word after it",
            "referent": "this word is not a pronoun with one agreeing noun before it",
        }[job]
        st.info(
            f"No right answer here: {reason}. The model still answers (below), but it was "
            "never trained for this case.",
            icon=":material/help:",
        )
    word = escape_markdown(tokens[position])
    full_top = top_predictions(full, k=5)
    cut_top = top_predictions(cut, k=5)
    for column, top, title in zip(
        st.columns(2, gap="large"),
        (full_top, cut_top),
        (
            "All heads on",
            "Off: " + ", ".join(names[i] for i in sorted(off_indices))
            if off
            else "Switch heads off above to compare",
        ),
        strict=True,
    ):
        with column:
            show_bars(
                charts.bar_chart(
                    [p for _, p in top],
                    [w for w, _ in top],
                    title=title,
                    value_title="probability",
                    label_title=None,
                    domain=(0.0, 1.0),
                    highlight=0,
                )
            )
    if answer is None:
        return
    before, after = full[read.ids[answer]], cut[read.ids[answer]]
    effects = knockout_effects(
        trained.weights, read.ids, job, position, int(read.ids[answer]), config, off
    ).ravel()  # (N * H,)
    left, right = st.columns([1, 1], gap="large")
    with left:
        show_bars(
            charts.bar_chart(
                effects,
                names,
                title=f"P({tokens[answer]}) with one more head off",
                value_title="probability of the right answer",
                label_title="head off",
                domain=(0.0, 1.0),
                highlight=int(np.argmin(effects)),
            )
        )
    with right:
        change = (
            f"with {', '.join(names[i] for i in sorted(off_indices))} off it gives **{after:.2f}**"
            if off
            else "switch heads off to see what it depends on"
        )
        st.markdown(
            f"At **{word}** the model should name {target} ({JOB_LABELS[job]}). With every "
            f"head on it gives that answer probability **{before:.2f}**; {change}."
        )
        looked = attention_to(full_run, position, answer).ravel()  # (N * H,)
        watcher, mover = int(np.argmax(looked)), int(np.argmin(effects))
        if watcher == mover:
            verdict = (
                f"Here looking and mattering agree: {names[watcher]} puts the most weight "
                f"from {word} on {target} ({looked[watcher]:.2f}), and switching it off "
                f"hurts most (P = {effects[mover]:.2f})."
            )
        else:
            verdict = (
                f"Looking is not mattering: {names[watcher]} puts the most weight from "
                f"{word} on {target} ({looked[watcher]:.2f}), yet without it P = "
                f"{effects[watcher]:.2f}; the biggest drop (to {effects[mover]:.2f}) comes "
                f"from switching off {names[mover]}."
            )
        st.markdown(verdict)


st.header("5 · Ablation: switch heads off", anchor=False)
if model is None:
    st.info(
        "Ablation needs the trained model, whose checkpoint is missing.", icon=":material/info:"
    )
else:
    st.markdown(
        "A head matters if the prediction changes without it. Pick a word and a job, switch "
        "heads off, and watch the trained model's answer"
        + (" (this section always uses the trained model)." if not trained_view else ".")
    )
    ablation(model)
    st.info(
        "Attention maps are not explanations: a head can put its weight on a word and still "
        "not matter for the answer (another head may carry the same information, or its "
        "value may be ignored downstream), so test a story about a head by switching it off.",
        icon=":material/psychology_alt:",
    )

st.divider()
notes(
    what_to_notice=[
        "Each head is its own W_q, W_k, W_v: the same tokens give different maps.",
        "The hand-set heads are sharp because their rules are exact; the trained heads are "
        "blurrier, and some share a job.",
        "Concatenation keeps the heads apart; only W_o mixes them.",
        "Switching off the previous-token head ruins *the word before it* at most words, "
        "but not where the word gives the answer away (*on* only ever follows *sat*).",
    ],
    try_this=[
        "Pick *The cat sat on the mat because it was tired.* with the hand-set heads: where "
        "does *pronoun → noun* look, and why can word types not settle it?",
        "Type *the dog saw the dog* : which hand-set head lights up, and what do the two "
        "*dog* rows look like?",
        "Trained model, layer 1: which head is the previous-token head? In section 5 pick "
        "*girl*, job *the word before it*, and switch that head off. Then pick *on*: why "
        "does the answer survive?",
        "Compare layer 1 and layer 2 in the pattern table. Why might layer 2 be blurrier?",
        "Retrain with seed 4 (about 15 s). Does any head still score 0.6? Are the three "
        "jobs still done? What does that say about reading a model through its heads?",
    ],
)
