"""Multi-head attention on toy sentences: hand-set heads, a tiny trained transformer,
the head view, concatenation and W_o, and switching heads off."""

import numpy as np
import streamlit as st

from app import runs, ui
from app.charts import draw
from lab import charts
from lab.multi_head import (
    DEFAULT_OWN,
    EXAMPLES,
    FEATURES,
    JOBS,
    KNOWN_WORDS,
    OWN_SENTENCE,
    WORD_TYPES,
    Ablation,
    HandHeadsConfig,
    HeadExplanation,
    Heads,
    HeadView,
    Job,
    Pattern,
    TinyConfig,
    TinyTrainConfig,
    TrainedModel,
    ablate,
    accuracy_without,
    ambiguous_pronoun,
    best_head,
    default_job,
    default_word,
    describe,
    explain_head,
    hand_head_view,
    hand_model,
    head_label,
    heads_offered,
    load_checkpoint,
    page_exercises,
    prose,
    top_predictions,
    toy_tokens,
    trained_head_labels,
    trained_head_view,
    word_type,
)
from lab.multi_head import charts as head_charts
from lab.text import escape_markdown, position_labels

SLUG = "multi_head"
Run = tuple[int, int]  # (seed, steps): names a trained model, shipped or retrained


@st.cache_resource(show_spinner=False)
def shipped_model() -> TrainedModel | None:
    """The checkpoint in lab/checkpoints (None if it is missing or stale)."""
    try:
        return load_checkpoint()
    except ValueError:
        return None


def run_of(model: TrainedModel) -> Run:
    return (model.train_config.seed, model.train_config.steps)


# Computations, shared by every session. A trained model is keyed by its run (seed,
# steps): a run is a pure function of them, so the model itself is not hashed.
@st.cache_data(max_entries=256, show_spinner=False)
def hand_view(tokens: tuple[str, ...]) -> HeadView:
    return hand_head_view(tokens)


@st.cache_data(max_entries=512, show_spinner=False)
def trained_view(run: Run, tokens: tuple[str, ...], layer: int, _model: TrainedModel) -> HeadView:
    return trained_head_view(_model, tokens, layer)


@st.cache_data(max_entries=256, show_spinner=False)
def explanation(tokens: tuple[str, ...], head: int) -> HeadExplanation:
    return explain_head(hand_model().heads[head], tokens)


@st.cache_data(max_entries=1024, show_spinner=False)
def ablation(
    run: Run, tokens: tuple[str, ...], job: Job, word: int, off: tuple, _model: TrainedModel
) -> Ablation:
    return ablate(_model, tokens, job, word, off)


@st.cache_data(max_entries=32, show_spinner=False)
def notice(run: Run | None, _model: TrainedModel | None) -> list[str]:
    pair = best_head(_model, Pattern.PREVIOUS) if _model else None
    return prose.notice_lines(_model, accuracy_without(_model, {pair}) if _model else None)


@st.cache_data(max_entries=256, show_spinner=False)
def exercise_list(tokens: tuple[str, ...], run: Run | None, can_train: bool, _model) -> list:
    return page_exercises(tokens, _model, can_train=can_train)


def retrain(config: TinyTrainConfig, progress: runs.Progress) -> TrainedModel:
    from lab.multi_head.train import train  # torch is imported here, and only here

    def report(step: int, total: int, loss: float) -> None:
        progress(step / total, f"Step {step} of {total} · loss {loss:.4f}")

    return train(TinyConfig(), config, progress=report)


def back_to_shipped() -> None:
    runs.select(SLUG, None)
    st.session_state["seed"] = TinyTrainConfig().seed
    st.session_state["steps"] = TinyTrainConfig().steps


ui.page_header(SLUG)
st.latex(
    r"\mathrm{head}_h = \mathrm{softmax}\!\left(\frac{Q_h K_h^\top}{\sqrt{d_k}}\right)V_h,"
    r"\qquad \mathrm{MultiHead}(X) = \mathrm{Concat}(\mathrm{head}_1, \dots, \mathrm{head}_H)\,W_o"
)

shipped = shipped_model()
model = runs.selected(SLUG) or shipped

with st.container(border=True):
    sentence_col, heads_col = st.columns([2.5, 2.7], gap="medium")
    with sentence_col:
        picked = ui.choose(
            "Sentence",
            [*EXAMPLES, OWN_SENTENCE],
            key="example",
            help="Example sentences of the toy language, or your own (the last option).",
        )
        text = EXAMPLES[picked] if picked < len(EXAMPLES) else None
        if text is None:
            text = ui.text(
                "Your sentence",
                DEFAULT_OWN,
                key="sentence",
                max_chars=400,
                help="Words of the toy vocabulary (listed below), at most 12 tokens; "
                "capitals do not matter, other words become <unk>.",
            )
            with st.expander(f"The toy vocabulary ({len(KNOWN_WORDS)} words)"):
                for kind in WORD_TYPES:
                    words = [escape_markdown(w) for w in KNOWN_WORDS if word_type(w) is kind]
                    st.markdown(f"**{kind}**: " + ", ".join(words))
                st.caption(prose.NOUN_CLASSES)
    with heads_col:
        heads = ui.segmented(
            "Heads",
            heads_offered(model.config.num_layers if model else None),
            Heads.HAND,
            key="heads",
            help="Hand-set: five heads whose W_q and W_k were written by hand. Trained: one "
            "layer of a two-layer transformer with four heads per layer.",
        )

if model is None:
    st.warning(
        "The trained model's checkpoint (lab/checkpoints/multi_head.npz) is missing or was "
        "made for another vocabulary; only the hand-set heads are shown. Run "
        "`python scripts/train_tiny_transformer.py` to rebuild it.",
        icon=":material/warning:",
    )

read = toy_tokens(text)
if read.is_empty:
    st.info(read.message or "Type a sentence.", icon=":material/edit:")
    st.stop()
if read.message:
    st.warning(escape_markdown(read.message), icon=":material/spellcheck:")

tokens = read.tokens
run = run_of(model) if model else None
hand_set = heads.layer is None
view = hand_view(tokens) if hand_set else trained_view(run, tokens, heads.layer, model)
H = view.num_heads
split = ambiguous_pronoun(tokens)
if split:
    st.info(prose.ambiguity_note(tokens, *split), icon=":material/call_split:")

run_config = TinyTrainConfig() if hand_set else model.train_config
per_row = head_charts.maps_per_row(H)
for start in range(0, H, per_row):
    row = zip(range(start, min(start + per_row, H)), st.columns(per_row), strict=False)
    for head, column in row:
        with column:
            draw(head_charts.head_map, view.head_weights[head], tokens, view.names[head], head, H)
            pattern, _ = view.held_out.best(head)
            here = view.here.score(head, pattern)
            here_text = "n/a here" if np.isnan(here) else f"{here:.2f} here"
            st.caption(f"**{describe(view.held_out, head)}** held-out · {here_text}")
st.caption(prose.heatmaps_caption(view, heads.layer, run_config.eval_sentences))


@st.fragment
def head_view_section(view: HeadView, hand_set: bool) -> None:
    """The head view, redrawn alone when the learner picks which heads to draw."""
    left, right = st.columns([1.4, 1], gap="large")
    with right:
        drawn = ui.choose("Heads drawn", ["all heads", *view.names], key="drawn")
    visible = tuple(drawn in (0, index + 1) for index in range(view.num_heads))
    with left:
        draw(
            head_charts.head_view,
            view.head_weights,
            list(view.tokens),
            list(view.names),
            visible=visible,
            width=400,
        )
    with right:
        st.markdown(prose.HEAD_VIEW_HOW)
        st.markdown(prose.head_view_text(view, hand_set))


st.header(prose.heading(prose.HEAD_VIEW_SECTION), anchor=False)
head_view_section(view, hand_set)


@st.fragment
def explain_hand_heads(tokens: tuple[str, ...]) -> None:
    """One hand-set head's W_q and W_k, cut down to what this sentence uses."""
    hand = hand_model()
    index = ui.choose("Head to explain", hand.names, key="explain", default=4)
    parts = explanation(tokens, index)
    config = HandHeadsConfig()
    st.markdown(f"**{hand.names[index]}.** {hand.heads[index].rule}")
    st.markdown(prose.FEATURES_TEXT.format(count=len(FEATURES)))
    if not parts.columns:
        st.info(
            "This sentence switches on none of the features this head reads, so every "
            "score is 0 and the head spreads its weight evenly.",
            icon=":material/info:",
        )
        return
    shared = charts.symmetric_domain(parts.w_q, parts.w_k)
    sides = (("W_q", parts.w_q, parts.query_features), ("W_k", parts.w_k, parts.key_features))
    for column, (side, matrix, rows) in zip(st.columns(2, gap="large"), sides, strict=True):
        with column:
            draw(head_charts.feature_matrix, matrix, rows, parts.columns, side, shared)
    left, right = st.columns([1.3, 1], gap="large")
    with left:
        draw(head_charts.feature_scores, parts.scores, tokens)
    with right:
        st.markdown(prose.scores_text(config, len(tokens)))


@st.fragment
def retrain_box(model: TrainedModel, shipped: TrainedModel | None) -> None:
    """Seed, steps and the Retrain button: moving them reruns only this box."""
    defaults = TinyTrainConfig()
    with st.container(border=True):
        st.markdown(prose.retrain_intro(shipped))
        if not runs.training_allowed():
            st.info(runs.TRAINING_OFF, icon=":material/block:")
            return
        seed_col, steps_col, button_col = st.columns([1, 2, 1.4], gap="medium")
        with seed_col:
            seed = ui.seed(value=defaults.seed, help="Draws the initial weights and the batches.")
        with steps_col:
            steps = ui.slider(
                "Training steps",
                100,
                3000,
                defaults.steps,
                key="steps",
                step=100,
                help=f"Adam steps of the new run. The shipped model used {defaults.steps}.",
            )
        with button_col:
            clicked = st.button("Retrain", key="retrain", icon=":material/model_training:")
            if runs.selected(SLUG) is not None:
                st.button("Back to the shipped model", key="shipped", on_click=back_to_shipped)
        if (seed, steps) != run_of(model):
            st.caption(f"Press **Retrain** to train seed {seed} with {steps} steps.")
        if clicked:
            config = TinyTrainConfig(seed=int(seed), steps=int(steps))
            key = (config.seed, config.steps)
            label = f"Training seed {config.seed}, {config.steps} steps"
            runs.train(SLUG, key, lambda progress: retrain(config, progress), label=label)
            runs.select(SLUG, key)
            st.rerun(scope="app")


st.header(prose.heading(prose.PATTERNS_SECTION), anchor=False)
if hand_set:
    st.markdown(
        "Each hand-set head is a rule written into W_q and W_k. Pick a head to see the part "
        "of its matrices this sentence uses and the scores they produce."
    )
    explain_hand_heads(tokens)
    with st.expander("The hand-set heads' pattern scores on held-out sentences"):
        draw(
            head_charts.pattern_table,
            view.held_out.scores,
            list(view.names),
            [pattern.short for pattern in Pattern],
            title=f"Pattern scores on {run_config.eval_sentences} held-out sentences",
            cell_width=92,
        )
else:
    st.markdown(prose.trained_intro(model, runs.selected(SLUG) is not None))
    draw(
        head_charts.pattern_table,
        model.scores.reshape(-1, len(Pattern)),
        list(trained_head_labels(model)),
        [pattern.short for pattern in Pattern],
        title=f"Pattern scores on {run_config.eval_sentences} held-out sentences",
        cell_width=92,
    )
    found = prose.specialised_text(model)
    if found:
        st.success(found, icon=":material/target:")
    else:
        st.warning(prose.none_specialised_text(model), icon=":material/blur_on:")
    st.markdown(prose.scores_note(model))
    retrain_box(model, shipped)

st.header(prose.heading(prose.CONCAT_SECTION), anchor=False)
st.markdown(prose.concat_text(view, trained=not hand_set))
shared = charts.symmetric_domain(view.head_outputs, view.concat)
per_row = head_charts.outputs_per_row(H)
for start in range(0, H, per_row):
    row = zip(range(start, min(start + per_row, H)), st.columns(per_row), strict=False)
    for head, column in row:
        with column:
            draw(
                head_charts.head_output, view.head_outputs[head], tokens, view.names[head],
                view.value_labels, shared, H,
            )  # fmt: skip
concat_labels = tuple(view.concat_labels())
draw(head_charts.concatenation, view.concat, tokens, concat_labels, shared)
w_o_column, output_column = (
    st.columns([1, 1.4], gap="large")
    if head_charts.narrow_output(view.output.shape[-1])
    else (st.container(), st.container())
)
with w_o_column:
    draw(head_charts.output_projection, view.w_o, concat_labels, view.output_labels)
with output_column:
    draw(head_charts.layer_output, view.output, tokens, view.output_labels)


@st.fragment
def ablation_section(model: TrainedModel, run: Run, tokens: tuple[str, ...]) -> None:
    """Switch trained heads off at one word: redrawn alone when a control here moves."""
    names = trained_head_labels(model)
    per_layer = model.config.num_heads
    start = default_word(tokens)
    word_col, job_col, heads_col = st.columns([1, 1, 2.2], gap="medium")
    with word_col:
        word = ui.choose("At the word", position_labels(tokens), key="word", default=start)
    with job_col:
        job = ui.radio(
            "The model names",
            JOBS,
            default_job(tokens, start),
            key="job",
            horizontal=False,
        )
    with heads_col:
        st.markdown("**Heads on** (switched-off heads hand W_o zeros)")
        switches = st.columns(per_layer)
        on = []
        for index, name in enumerate(names):
            with switches[index % per_layer]:
                on.append(ui.toggle(name, True, key=name.replace(" ", "")))
    off = tuple(divmod(index, per_layer) for index, flag in enumerate(on) if not flag)
    result = ablation(run, tokens, job, word, off, model)
    if result.answer is None:
        st.info(prose.no_answer_note(result.job), icon=":material/help:")
    cut = "Off: " + ", ".join(head_label(*pair) for pair in off) if off else "Switch heads off"
    for column, probabilities, title in zip(
        st.columns(2, gap="large"), (result.full, result.cut), ("All heads on", cut), strict=True
    ):
        with column:
            top = top_predictions(probabilities, k=5)
            draw(
                charts.bar_chart,
                [p for _, p in top],
                [w for w, _ in top],
                title=title,
                value_title="probability",
                label_title=None,
                domain=(0.0, 1.0),
            )
    if result.answer is None:
        return
    left, right = st.columns(2, gap="large")
    with left:
        draw(
            charts.bar_chart,
            result.effects,
            list(names),
            title=f"P({tokens[result.answer]}) with one more head off",
            value_title="probability of the right answer",
            label_title="head off",
            domain=(0.0, 1.0),
        )
    with right:
        st.markdown(prose.ablation_text(result, tokens, names))


st.header(prose.heading(prose.ABLATION_SECTION), anchor=False)
if model is None:
    st.info(
        "Ablation needs the trained model, whose checkpoint is missing.", icon=":material/info:"
    )
else:
    st.markdown(
        "A head matters if the prediction changes without it. Pick a word and a job, switch "
        "heads off, and watch the trained model's answer"
        + (" (this section always uses the trained model)." if hand_set else ".")
    )
    ablation_section(model, run, tokens)
    st.info(prose.NOT_EXPLANATIONS, icon=":material/psychology_alt:")

ui.page_end(
    SLUG,
    notice=notice(run, model),
    exercises=exercise_list(tokens, run, runs.training_allowed(), model),
)
