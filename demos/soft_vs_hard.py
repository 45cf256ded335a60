"""Soft vs hard attention: a weighted average against a single pick, and how each one trains."""

import numpy as np
import pandas as pd
import streamlit as st

from app import runs, ui
from app.charts import draw
from lab.charts import ACCENT
from lab.soft_vs_hard import (
    MAX_COORDINATE,
    SHIPPED_CONFIGS,
    SWEEP_ANGLES,
    TABLE_COLUMNS,
    AngleSweep,
    CueTrainConfig,
    Preset,
    QueryView,
    SweepGradients,
    TrainingComparison,
    angle_sweep,
    attend,
    frequency_band,
    frequency_gaps,
    gumbel_noise,
    gumbel_softmax_weights,
    load_comparisons,
    look,
    page_exercises,
    prose,
    sample_frequencies,
    scene_from_key,
    scene_from_table,
    scene_table,
    summarise,
    with_settings,
)
from lab.soft_vs_hard import charts as svh
from lab.soft_vs_hard.charts import GUMBEL_COLOR, SweepCurve, TrainingPanel
from lab.soft_vs_hard.exercises import exercise_target
from lab.soft_vs_hard.scene import Scene, SceneKey
from lab.text import escape_markdown, position_labels

SLUG = "soft_vs_hard"
TEMPERATURES = (0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 20.0)
TAUS = (0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0, 2.0, 5.0, 10.0)
DRAWS = (1, 10, 100, 1000, 10000)
ERROR_COUNTS = (1, 3, 10, 30, 100, 300, 1000, 3000, 10000)  # the 1/√N chart
STEP_OPTIONS = (100, 200, 400, 600, 900, 1200)
NOISE_SEED = 2  # a typical first draw: both the samples and the Gumbel pick favour A
DEFAULT = CueTrainConfig()
HARDER = SHIPPED_CONFIGS[1]  # the training exercise's task: 16 items, 200 steps
NUMBER_COLUMN = st.column_config.NumberColumn(
    min_value=-MAX_COORDINATE, max_value=MAX_COORDINATE, step=0.1, format="%.2f"
)
TABLE_CONFIG = {
    "item": st.column_config.TextColumn("item", max_chars=12),
    **dict.fromkeys(TABLE_COLUMNS[1:], NUMBER_COLUMN),
}


# Cached across sessions, keyed by plain values: the items as tuples, numbers and seeds.
@st.cache_data(max_entries=512, show_spinner=False)
def looked(items: SceneKey, angle: int, length: float, temperature: float) -> QueryView:
    return look(scene_from_key(items), angle, length, temperature)


@st.cache_data(max_entries=128, show_spinner=False)
def swept(items: SceneKey, target: int, length: float, temperature: float) -> AngleSweep:
    return angle_sweep(scene_from_key(items), target, SWEEP_ANGLES, length, temperature)


@st.cache_data(max_entries=64, show_spinner="Differentiating with torch autograd …")
def differentiated(
    items: SceneKey, target: int, length: float, temperature: float
) -> SweepGradients:
    from lab.soft_vs_hard.train import sweep_gradients  # torch: imported once, when first needed

    return sweep_gradients(scene_from_key(items), target, SWEEP_ANGLES, length, temperature)


@st.cache_data(max_entries=512, show_spinner=False)
def sampled(scores: tuple[float, ...], draws: int, temperature: float, seed: int):
    """Frequencies of ``draws`` samples, and the largest gaps and bands of the 1/√N chart."""
    gaps, bands = frequency_gaps(scores, ERROR_COUNTS, temperature, seed)
    return sample_frequencies(scores, draws, temperature, seed), gaps, bands


@st.cache_resource(show_spinner=False)  # shared, never copied: the page only reads it
def shipped_runs() -> tuple[TrainingComparison, ...]:
    try:
        return load_comparisons()
    except (FileNotFoundError, ValueError):
        return ()


def compare(config: CueTrainConfig, progress) -> TrainingComparison:
    """Train the three methods; torch is imported here only, when a learner asks for it."""
    progress(0.0, "Importing torch …")
    from lab.soft_vs_hard.train import compare_training_methods

    return compare_training_methods(config, progress)


def shipped_with(config: CueTrainConfig) -> TrainingComparison | None:
    return next((run for run in shipped_runs() if run.config == config), None)


def next_draw() -> None:
    """Button callback: the next noise seed, before the page reruns."""
    current = int(st.session_state.get("seed", NOISE_SEED))
    st.session_state["seed"] = (current + 1) % (ui.SEED_MAX + 1)


def value_space(scene: Scene, view: QueryView, **extra) -> None:
    """The values, their hull and the soft and hard outputs, plus ``extra`` paths or markers."""
    draw(
        svh.value_space_chart,
        scene.value_points,
        list(scene.names),
        view.hull,
        soft_output=view.soft_output,
        hard_output=view.hard_output,
        **extra,
    )


def edited_scene(preset: Preset) -> Scene:
    """The items table (its edits live in the session, per preset), or the preset if broken."""
    st.caption(prose.TABLE_CAPTION)
    edited = st.data_editor(
        pd.DataFrame(scene_table(preset.scene)),
        key=f"table_{preset.name.lower()}",
        num_rows="dynamic",
        hide_index=True,
        width="stretch",
        column_config=TABLE_CONFIG,
    )
    try:
        return scene_from_table(edited.to_dict("records"))
    except ValueError as problem:
        st.warning(prose.table_warning(str(problem), preset.value), icon=":material/table_edit:")
        return preset.scene


ui.page_header(SLUG)
st.latex(prose.WEIGHTS_EQUATION)
with st.container(border=True):
    preset_col, angle_col, length_col, temperature_col = st.columns([1.6, 1.6, 1.2, 1.6])
    with preset_col:
        labels = [preset.value for preset in Preset]
        preset = list(Preset)[ui.choose("Items", labels, key="preset", help=prose.PRESET_HELP)]
    with angle_col:
        angle = ui.slider(
            "Query direction θ (degrees)", -180, 180, 30, key="angle", help=prose.ANGLE_HELP
        )
    with length_col:
        length = ui.slider(
            "Query length", 0.0, 4.0, 2.0, key="length", step=0.1, help=prose.LENGTH_HELP
        )
    with temperature_col:
        temperature = ui.select_slider(
            "Softmax temperature T", TEMPERATURES, 1.0, key="temperature", help=prose.T_HELP
        )
    with st.expander("Edit the items (keys and values)"):
        scene = edited_scene(preset)

items = scene.key
names = list(scene.names)
view = looked(items, angle, length, temperature)
winner = escape_markdown(names[view.winner])
if view.tie:
    st.info(prose.tie_note(winner), icon=":material/balance:")

st.markdown(prose.scores_sentence(names, view.scores))
soft_col, hard_col = st.columns(2, gap="large")
with soft_col:
    draw(svh.weight_bars, view.soft, names, title=f"Soft: softmax(s / T), T = {temperature:g}")
    st.caption(prose.soft_caption(view.soft_output))
with hard_col:
    draw(svh.weight_bars, view.hard, names, title="Hard: one-hot on argmax s", color=ACCENT)
    st.caption(prose.hard_caption(winner, view.hard_output))

st.header("1 · The picture to remember: inside the hull, or on a value", anchor=False)
st.markdown(prose.GEOMETRY)
target_default = exercise_target(scene)
loop = swept(items, target_default, length, temperature).soft_outputs[::2]  # every 2°
key_col, value_col = st.columns([1, 1.15], gap="large")
with key_col:
    draw(svh.key_space_chart, scene.keys, names, view.query, winner=view.winner)
    st.caption(prose.KEY_CAPTION)
with value_col:
    value_space(scene, view, temperature_path=view.temperature_path, angle_path=loop)
    st.caption(
        prose.value_caption(temperature, view.soft_output, winner, view.hard_output, view.tie)
    )


@st.fragment
def gradient_section(items: SceneKey, angle: int, length: float, temperature: float) -> None:
    """The sweep chart and its controls; choosing a target reruns only this part."""
    names = list(items[0])
    target_col, average_col = st.columns([1.2, 2], vertical_alignment="bottom")
    with target_col:
        target = ui.choose(
            "Value we want to retrieve",
            position_labels(names),
            key="target",
            default=exercise_target(scene_from_key(items)),
        )
    with average_col:
        average = ui.toggle(prose.AVERAGE_LABEL, False, key="average", help=prose.AVERAGE_HELP)
    numbers = swept(items, target, length, temperature)
    grads = differentiated(items, target, length, temperature)
    losses = {SweepCurve.SOFT: grads.soft_loss, SweepCurve.HARD: grads.hard_loss}
    slopes = {SweepCurve.SOFT: grads.soft_grad, SweepCurve.HARD: grads.hard_grad}
    if average:
        losses[SweepCurve.SAMPLED] = grads.expected_loss
        slopes[SweepCurve.SAMPLED] = grads.expected_grad
    draw(
        svh.angle_sweep_chart,
        SWEEP_ANGLES,
        losses,
        slopes,
        current_angle=angle,
        jumps=numbers.jumps(),
    )
    for paragraph in prose.gradient_sentences(names, angle, numbers, grads):
        st.markdown(paragraph)
    if length == 0:
        st.info(prose.FLAT_NOTE, icon=":material/straighten:")


st.header("2 · Why backpropagation cannot teach a pick where to look", anchor=False)
st.markdown(prose.SWEEP_INTRO)
gradient_section(items, angle, length, temperature)
st.markdown(prose.WAYS_ROUND)


@st.fragment
def sampling_section(view: QueryView, names: list[str], temperature: float, seed: int) -> None:
    """Sampled hard attention; the number of draws reruns only this part."""
    draws = ui.segmented("Draws", DRAWS, 100, key="draws")
    frequencies, gaps, bands = sampled(tuple(view.scores), draws, temperature, seed)
    bars_col, gaps_col = st.columns(2, gap="large")
    with bars_col:
        draw(
            svh.weight_bars,
            frequencies,
            names,
            title=f"Frequencies over {draws:,} draw{'s' if draws > 1 else ''}",
            color=ACCENT,
            reference=view.soft,
            band=frequency_band(view.soft, draws),
        )
        st.caption(prose.FREQUENCY_CAPTION)
    with gaps_col:
        draw(svh.frequency_error_chart, ERROR_COUNTS, gaps, bands, current=draws)


st.header("3 · Way round 1: sample the pick (REINFORCE)", anchor=False)
st.markdown(prose.SAMPLING)
seed_col, button_col, _ = st.columns([1, 1, 2], vertical_alignment="bottom")
with seed_col:
    seed = ui.seed(value=NOISE_SEED, label="Noise seed", help=prose.SEED_HELP)
with button_col:
    st.button("New draw", key="new_draw", on_click=next_draw, icon=":material/casino:")
sampling_section(view, names, temperature, seed)


@st.fragment
def gumbel_section(scene: Scene, view: QueryView, temperature: float, seed: int) -> None:
    """Gumbel-softmax and straight-through; τ and the toggle rerun only this part."""
    names = list(scene.names)
    tau_col, through_col = st.columns([2, 1], vertical_alignment="bottom")
    with tau_col:
        tau = ui.select_slider("Gumbel temperature τ", TAUS, 0.5, key="tau", help=prose.TAU_HELP)
    with through_col:
        through = ui.toggle("Straight-through", False, key="straight", help=prose.ST_HELP)
    logits = view.scores / temperature
    noise = gumbel_noise(len(names), seed)
    soft_y = gumbel_softmax_weights(logits, tau, noise)
    one_hot = gumbel_softmax_weights(logits, tau, noise, hard=True)
    picked = escape_markdown(names[int(np.argmax(one_hot))])
    bars_col, plane_col = st.columns([1, 1.15], gap="large")
    with bars_col:
        draw(
            svh.weight_bars,
            one_hot if through else soft_y,
            names,
            title=prose.gumbel_title(through, tau),
            color=GUMBEL_COLOR,
            reference=soft_y if through else view.soft,
            reference_title="soft y (backward)" if through else "softmax",
        )
        st.caption(prose.gumbel_caption(through, picked))
    with plane_col:
        gumbel = attend(one_hot if through else soft_y, scene.value_points)
        value_space(scene, view, gumbel_output=gumbel, title=prose.GUMBEL_PLANE)


st.header("4 · Way round 2: Gumbel-softmax and straight-through", anchor=False)
st.markdown(prose.GUMBEL)
gumbel_section(scene, view, temperature, seed)


def shown_run(config: CueTrainConfig) -> tuple[TrainingComparison, str, bool]:
    """The run for these settings: this session's, shipped, or stored; else a fallback.

    Returns ``(comparison, origin, matches)`` with origin "trained" or "shipped" and
    ``matches`` False when the settings have not been trained (the fallback is shown).
    """
    chosen = runs.selected(SLUG)
    if chosen is not None and chosen.config == config:
        return chosen, "trained", True
    shipped = shipped_with(config)
    if shipped is not None:
        return shipped, "shipped", True
    stored = runs.stored(SLUG, config.settings)
    if stored is not None:  # another participant trained exactly these settings
        runs.select(SLUG, config.settings)
        return stored, "trained", True
    if chosen is not None:
        return chosen, "trained", False
    return shipped_runs()[0], "shipped", False


@st.fragment
def training_section() -> None:
    """The three methods trained side by side; its controls rerun only this part."""
    with st.container(border=True):
        seed_col, items_col, steps_col, button_col = st.columns(
            [1, 1.6, 1.8, 1], vertical_alignment="bottom"
        )
        with seed_col:
            train_seed = ui.seed(
                key="train_seed", label="Training seed", help=prose.TRAIN_SEED_HELP
            )
        with items_col:
            n_items = ui.slider(
                "Items per example",
                2,
                DEFAULT.task.n_colors,
                DEFAULT.task.n_items,
                key="items",
                help=prose.ITEMS_HELP,
            )
        with steps_col:
            steps = ui.select_slider("Training steps", STEP_OPTIONS, DEFAULT.steps, key="steps")
        config = with_settings(DEFAULT, seed=train_seed, n_items=n_items, steps=steps)
        with button_col:
            allowed = runs.training_allowed()
            pressed = allowed and st.button(
                "Retrain", key="retrain", type="primary", icon=":material/model_training:"
            )
    if not allowed:
        st.info(runs.TRAINING_OFF, icon=":material/block:")
    if pressed:
        runs.select(SLUG, config.settings)
        runs.train(
            SLUG,
            config.settings,
            lambda progress: compare(config, progress),
            label="Training the three methods",
        )
        st.rerun(scope="app")  # the exercises at the bottom follow the run on screen
    if not shipped_runs() and runs.selected(SLUG) is None:
        st.info(prose.NO_SHIPPED, icon=":material/model_training:")
        return
    comparison, origin, matches = shown_run(config)
    if not matches:
        st.info(prose.not_trained_note(config.settings, comparison.config.settings, allowed))
    st.caption(
        prose.shown_caption(
            comparison, origin, shipped_with(comparison.config) if origin == "trained" else None
        )
    )
    curves, labels = comparison.curves, comparison.config.task.n_labels
    left, right = st.columns(2, gap="large")
    with left:
        draw(svh.training_panel, curves, TrainingPanel.ACCURACY, labels)
    with right:
        draw(svh.training_panel, curves, TrainingPanel.LOSS, labels)
    st.caption(prose.EVALUATION_CAPTION)

    st.subheader("The price: noisy gradients", anchor=False)
    st.markdown(prose.VARIANCE.format(batches=comparison.config.variance_batches))
    summary = summarise(comparison)
    left, right = st.columns([1.25, 1], gap="large")
    with left:
        draw(svh.training_panel, curves, TrainingPanel.VARIANCE, labels)
    with right:
        st.markdown("**Gradient variance at step 0, as a multiple of soft's**")
        for column, row in zip(st.columns(2), summary[1:], strict=True):
            column.metric(row.method.short, f"{row.variance_ratio:.1f}×", help=prose.RATIO_HELP)
        st.markdown(prose.variance_reading(summary[1].variance_ratio, summary[2].variance_ratio))
    st.markdown(prose.COST.format(batch=comparison.config.batch_size))
    st.dataframe(pd.DataFrame(prose.summary_rows(summary)), hide_index=True, width="stretch")

    st.subheader("Where each trained model looks", anchor=False)
    example = ui.segmented(
        "Example",
        tuple(range(len(comparison.examples))),
        0,
        key="example",
        format_func=lambda index: f"Example {index + 1}",
    )
    weights = {method: rows[example] for method, rows in comparison.example_weights.items()}
    draw(svh.example_chart, comparison.examples[example], weights)
    st.caption(prose.on_match_caption(comparison, example))


st.header("5 · Training side by side", anchor=False)
st.markdown(prose.TASK)
training_section()

st.header("6 · Two notes from the literature", anchor=False)
note_left, note_right = st.columns(2, gap="large")
note_left.markdown(prose.CAPTIONING)
note_right.markdown(prose.NOT_AN_EXPLANATION)

# The training exercise reads this session's run if it is the harder task, else the shipped one.
chosen = runs.selected(SLUG)
harder_is_shipped = chosen is None or chosen.config.settings[1:] != HARDER.settings[1:]
harder = shipped_with(HARDER) if harder_is_shipped else chosen
target = exercise_target(scene)
first = shipped_runs()[0] if shipped_runs() else None
ui.page_end(
    SLUG,
    notice=prose.notice_lines(summarise(first)[1].variance_ratio if first else None),
    exercises=page_exercises(
        scene,
        view,
        length=length,
        temperature=temperature,
        seed=seed,
        sweep=swept(items, target, length, temperature),
        gradients=differentiated(items, target, length, temperature),
        harder=harder,
        harder_is_shipped=harder_is_shipped,
    ),
)
