"""Soft vs hard attention: a weighted average against a single pick, and how each one trains."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from app_ui import notes, page_header
from app_ui import show_chart as show
from lab import hard_training as ht
from lab import legacy_charts as charts
from lab import soft_hard as sh
from lab import soft_hard_charts as shc
from lab.text import escape_markdown

CURVES_PATH = Path(__file__).resolve().parents[1] / "lab" / "data" / "soft_hard_curves.json"
TEMPERATURES = [0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 20.0]
TAUS = [0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0, 2.0, 5.0, 10.0]
DRAWS = [1, 10, 100, 1000, 10000]
ERROR_COUNTS = [1, 3, 10, 30, 100, 300, 1000, 3000, 10000]  # the 1/√N chart
SWEEP_ANGLES = np.linspace(-180.0, 180.0, 361)  # one-degree steps
PATH_TEMPERATURES = np.geomspace(0.02, 50.0, 80)
STEP_OPTIONS = [100, 200, 400, 600, 900, 1200]
MAX_STORED = 24  # trained comparisons kept in memory for everyone
SHORT_LABELS = {"soft": "soft", "reinforce": "REINFORCE", "gumbel_st": "Gumbel-ST"}
DEFAULT_NOISE_SEED = 2  # a typical first draw: both the samples and the Gumbel pick favour A


# ---------------------------------------------------------------------------
# Cached computations
# ---------------------------------------------------------------------------


@st.cache_data(max_entries=256, show_spinner=False)
def sweep(
    names: tuple[str, ...],
    keys: tuple[tuple[float, float], ...],
    values: tuple[tuple[float, float], ...],
    target: int,
    length: float,
    temperature: float,
) -> sh.AngleSweep:
    scene = sh.make_scene(names, keys, values)
    return sh.angle_sweep(scene, target, SWEEP_ANGLES, length, temperature)


@st.cache_data(max_entries=256, show_spinner=False)
def sweep_autograd(
    names: tuple[str, ...],
    keys: tuple[tuple[float, float], ...],
    values: tuple[tuple[float, float], ...],
    target: int,
    length: float,
    temperature: float,
) -> ht.SweepGradients:
    scene = sh.make_scene(names, keys, values)
    return ht.sweep_gradients(scene, target, SWEEP_ANGLES, length, temperature)


@st.cache_resource(max_entries=128, show_spinner=False)
def sweep_spec(
    names: tuple[str, ...],
    keys: tuple[tuple[float, float], ...],
    values: tuple[tuple[float, float], ...],
    target: int,
    length: float,
    temperature: float,
    expected: bool,
) -> dict:
    """The sweep chart as a Vega-Lite dict, built once per setting of everything but θ.

    Moving θ only moves the "query now" rule, a parameter of the spec
    (``shc.with_sweep_angle``), so the chart is not rebuilt on every slider step.
    """
    numbers = sweep(names, keys, values, target, length, temperature)
    grads = sweep_autograd(names, keys, values, target, length, temperature)
    losses = {"soft": grads.soft_loss, "hard": grads.hard_loss}
    gradients = {"soft": grads.soft_grad, "hard": grads.hard_grad}
    if expected:
        losses["expected hard (sampled)"] = grads.expected_loss
        gradients["expected hard (sampled)"] = grads.expected_grad
    chart = shc.sweep_chart(
        SWEEP_ANGLES, losses, gradients, current_angle=0.0, jumps=numbers.jumps()
    )
    return chart.to_dict(validate=False)


@st.cache_data(show_spinner=False)
def shipped_payload() -> dict | None:
    try:
        return json.loads(CURVES_PATH.read_text())
    except (OSError, ValueError):
        return None


@st.cache_resource(show_spinner=False)
def trained_store() -> dict[str, ht.Comparison]:
    """Comparisons trained on this server, shared by every session (a tiny LRU)."""
    return {}


def show_cached(spec: dict) -> None:
    """Draw a cached Vega-Lite dict (Streamlit copies the top level before editing it)."""
    st.vega_lite_chart(dict(spec), width="content")


def config_key(config: ht.TrainConfig) -> str:
    return json.dumps(
        {"seed": config.seed, "items": config.task.n_items, "steps": config.steps},
        sort_keys=True,
    )


def scene_key(scene: sh.Scene) -> tuple:
    return (
        scene.names,
        tuple(map(tuple, scene.keys.tolist())),
        tuple(map(tuple, scene.value_points.tolist())),
    )


def next_draw() -> None:
    st.session_state["sh_seed"] = (
        int(st.session_state.get("sh_seed", DEFAULT_NOISE_SEED)) + 1
    ) % 10_000


# ---------------------------------------------------------------------------
# Header and controls
# ---------------------------------------------------------------------------

page_header("soft_vs_hard")
st.latex(
    r"s_i = \frac{q\cdot k_i}{\sqrt{2}}\qquad"
    r"\underbrace{o = \sum_i \mathrm{softmax}(s/T)_i\, v_i}_{\text{soft: an average}}\qquad"
    r"\underbrace{o = v_{\arg\max_i s_i}}_{\text{hard: one pick}}"
)

with st.container(border=True):
    preset_col, angle_col, length_col, temperature_col = st.columns([1.6, 1.6, 1.2, 1.6])
    with preset_col:
        preset = st.selectbox(
            "Items",
            list(sh.PRESETS),
            key="sh_preset",
            help="A few items, each with a 2-D key and a 2-D value. Edit them below.",
        )
    with angle_col:
        angle = st.slider(
            "Query direction θ (degrees)",
            -180,
            180,
            30,
            step=1,
            key="sh_angle",
            help="The query is q = length · (cos θ, sin θ). Keys pointing the same way score high.",
        )
    with length_col:
        length = st.slider(
            "Query length",
            0.0,
            4.0,
            2.0,
            step=0.1,
            key="sh_length",
            help="Longer queries give larger scores, so softmax gets sharper.",
        )
    with temperature_col:
        temperature = st.select_slider(
            "Softmax temperature T",
            TEMPERATURES,
            value=1.0,
            key="sh_temperature",
            help="softmax(s / T): small T sharpens the weights towards hard attention, "
            "large T flattens them towards a plain average.",
        )
    with st.expander("Edit the items (keys and values)"):
        st.caption(
            f"Between {sh.MIN_ITEMS} and {sh.MAX_ITEMS} items; coordinates within "
            f"±{sh.MAX_COORDINATE:g}. Add or delete rows at the table's edge."
        )
        edited = st.data_editor(
            pd.DataFrame(sh.scene_table(sh.PRESETS[preset])),
            key=f"sh_items_{preset}",
            num_rows="dynamic",
            hide_index=True,
            width="stretch",
            column_config={
                "item": st.column_config.TextColumn("item", max_chars=12),
                **{
                    column: st.column_config.NumberColumn(
                        column,
                        min_value=-sh.MAX_COORDINATE,
                        max_value=sh.MAX_COORDINATE,
                        step=0.1,
                        format="%.2f",
                    )
                    for column in sh.TABLE_COLUMNS[1:]
                },
            },
        )

try:
    scene = sh.scene_from_table(edited.to_dict("records"))
except ValueError as problem:
    st.warning(
        f"The item table cannot be used: {escape_markdown(str(problem))}. "
        f"Showing the preset *{escape_markdown(preset)}* instead.",
        icon=":material/table_edit:",
    )
    scene = sh.PRESETS[preset]

names = list(scene.names)
query = sh.query_vector(angle, length)
scores = sh.attention_scores(query, scene.keys)
logits = scores / temperature
soft = sh.soft_weights(scores, temperature)
hard = sh.hard_weights(scores)
winner = int(np.argmax(scores))
if sh.has_top_tie(scores):
    st.info(
        "Two or more items share the top score (a zero-length query makes every score 0). "
        "Soft attention gives them equal weight; hard attention must break "
        f"the tie, and argmax takes the first one, **{escape_markdown(names[winner])}**.",
        icon=":material/balance:",
    )

# ---------------------------------------------------------------------------
# 1 · Four ways to turn the same scores into weights
# ---------------------------------------------------------------------------

st.header("1 · Same scores, four kinds of weights", anchor=False)
score_text = ", ".join(
    f"{escape_markdown(name)} **{value:.2f}**" for name, value in zip(names, scores, strict=True)
)
st.markdown(f"Scores s = q · k / √2 for the {len(names)} items: {score_text}.")

top_left, top_right = st.columns(2, gap="large")
with top_left:
    show(
        shc.weight_bars(
            soft, names, title=f"Soft: softmax(s / T), T = {temperature:g}", color=shc.PRIMARY
        )
    )
    st.caption("Every item gets some weight. The output is the weighted average of all values.")
with top_right:
    show(shc.weight_bars(hard, names, title="Hard: one-hot on argmax s", color=shc.ACCENT))
    st.caption(
        f"All the weight on **{escape_markdown(names[winner])}**. The output is that one value."
    )

bottom_left, bottom_right = st.columns(2, gap="large")
with bottom_left:
    st.markdown("**Sampled hard attention:** draw an item with probability softmax(s / T)")
    n_draws = st.segmented_control(
        "Draws",
        DRAWS,
        default=100,
        required=True,
        key="sh_draws",
        format_func=lambda n: f"{n:,}",
    )
    seed_col, button_col = st.columns([1, 1], vertical_alignment="bottom")
    with seed_col:
        noise_seed = st.number_input(
            "Noise seed",
            0,
            9999,
            DEFAULT_NOISE_SEED,
            step=1,
            key="sh_seed",
            help="Seeds the draws and the Gumbel noise: the same seed, the same draws.",
        )
    with button_col:
        st.button("New draw", key="sh_redraw", on_click=next_draw, icon=":material/casino:")
    n_draws = int(n_draws or 100)
    frequencies = sh.sample_frequencies(scores, n_draws, temperature, int(noise_seed))
    show(
        shc.weight_bars(
            frequencies,
            names,
            title=f"Frequencies over {n_draws:,} draw{'s' if n_draws > 1 else ''}",
            color=shc.ACCENT,
            reference=soft,
            band=sh.frequency_band(soft, n_draws),
        )
    )
    st.caption(
        "Bars: how often each item was drawn. Black ticks: the soft weights. Grey bands: "
        "where about 95 % of frequencies land, ±2·√(p(1 − p)/N). One draw is hard "
        "attention; the average of many is soft attention."
    )
    errors, bands = sh.frequency_gaps(scores, ERROR_COUNTS, temperature, int(noise_seed))
    show(shc.frequency_error_chart(ERROR_COUNTS, errors, bands, current=n_draws))

with bottom_right:
    st.markdown("**Gumbel-softmax:** a soft stand-in for one draw")
    tau = st.select_slider(
        "Gumbel temperature τ",
        TAUS,
        value=0.5,
        key="sh_tau",
        help="Small τ: nearly one-hot. Large τ: nearly uniform.",
    )
    straight_through = st.toggle(
        "Straight-through",
        value=False,
        key="sh_st",
        help="Forward: the one-hot of the sample. Backward: the gradient of the soft y.",
    )
    noise = sh.gumbel_noise(len(names), int(noise_seed))
    gumbel_soft = sh.gumbel_softmax_weights(logits, tau, noise)
    gumbel_hard = sh.gumbel_softmax_weights(logits, tau, noise, hard=True)
    picked = int(np.argmax(gumbel_hard))
    if straight_through:
        show(
            shc.weight_bars(
                gumbel_hard,
                names,
                title=f"Straight-through, τ = {tau:g}: one-hot forward",
                color=shc.GUMBEL,
                reference=gumbel_soft,
                reference_title="soft y (backward)",
            )
        )
        st.caption(
            f"The forward pass uses the one-hot on **{escape_markdown(names[picked])}**, a real "
            "sample. The backward pass pretends the soft y (black ticks) was used, so "
            "gradients still reach every score."
        )
    else:
        show(
            shc.weight_bars(
                gumbel_soft,
                names,
                title=f"y = softmax((s/T + g) / τ), τ = {tau:g}",
                color=shc.GUMBEL,
                reference=soft,
            )
        )
        st.caption(
            "Add Gumbel noise g = −log(−log U) to the logits, then a softmax at temperature τ. "
            f"The largest entry is a draw from softmax(s / T) (here **{escape_markdown(names[picked])}**); "
            "black ticks show the soft weights for comparison. Press *New draw* for new noise."
        )
    st.markdown(
        "The randomness now sits outside, in g: for a fixed g, y is an ordinary "
        "differentiable function of the scores (the *reparameterisation* trick)."
    )

# ---------------------------------------------------------------------------
# 2 · Geometry
# ---------------------------------------------------------------------------

st.header("2 · The picture to remember: inside the hull, or on a value", anchor=False)
soft_output = sh.attend(soft, scene.value_points)
hard_output = sh.attend(hard, scene.value_points)
gumbel_output = sh.attend(gumbel_hard if straight_through else gumbel_soft, scene.value_points)
_, temperature_path = sh.soft_output_path(scores, scene.value_points, PATH_TEMPERATURES)
numbers = sweep(*scene_key(scene), 0, float(length), float(temperature))
hull = sh.convex_hull(scene.value_points)
st.markdown(
    "Soft attention returns a weighted average of the values, which is always a point "
    "inside their **convex hull** (grey outline). Hard attention returns one of the "
    "values themselves. Move θ or T and watch the blue point glide while the orange "
    "square jumps from one value to another."
)
key_col, value_col = st.columns([1, 1.15], gap="large")
with key_col:
    show(shc.key_space_chart(scene.keys, names, query, winner=winner))
    st.caption(
        "The query is the blue arrow. Each score is the dot product of the arrow with a "
        "key, so the key that sticks out furthest along the arrow wins (orange)."
    )
with value_col:
    show(
        shc.value_space_chart(
            scene.value_points,
            names,
            hull,
            soft_output=soft_output,
            hard_output=hard_output,
            gumbel_output=gumbel_output,
            temperature_path=temperature_path,
            angle_path=numbers.soft_outputs,
        )
    )
    st.caption(
        f"Blue band: the soft output as T runs from 0.02 (at the hard pick) to 50 (near the "
        f"plain mean). Dashed loop: the soft output as the query turns full circle at T = "
        f"{temperature:g}. The soft output is now ({soft_output[0]:.2f}, {soft_output[1]:.2f}); "
        f"hard attention returns {escape_markdown(names[winner])} = "
        f"({hard_output[0]:.2f}, {hard_output[1]:.2f})."
    )

# ---------------------------------------------------------------------------
# 3 · Differentiability
# ---------------------------------------------------------------------------

st.header("3 · Why only soft attention trains by backpropagation", anchor=False)
st.markdown(
    "Say the model *should* retrieve one particular value. Sweep the query direction θ "
    "and measure how far the output lands from it, ‖o − v_target‖². Training follows "
    "the gradient dL/dθ, here computed by **torch autograd**."
)


@st.fragment
def differentiability(scene: sh.Scene, angle: int, length: float, temperature: float) -> None:
    """The sweep chart and its controls; choosing a target reruns only this part."""
    names = list(scene.names)
    target_col, expected_col = st.columns([1.2, 2], vertical_alignment="bottom")
    with target_col:
        # Labels as options (not indices with a format_func): the browser would keep an
        # old item's name on screen after the items change.
        target_labels = [f"{index} · {name}" for index, name in enumerate(names)]
        target = target_labels.index(
            st.selectbox(
                "Value we want to retrieve",
                target_labels,
                index=min(1, len(names) - 1),
                key="sh_target",
            )
        )
    with expected_col:
        show_expected = st.toggle(
            "Show the average loss of sampling (what REINFORCE descends)",
            value=False,
            key="sh_expected",
        )
    target = int(target) if target is not None and int(target) < len(names) else 0
    numbers = sweep(*scene_key(scene), target, float(length), float(temperature))
    grads = sweep_autograd(*scene_key(scene), target, float(length), float(temperature))
    spec = sweep_spec(*scene_key(scene), target, float(length), float(temperature), show_expected)
    show_cached(shc.with_sweep_angle(spec, float(angle)))
    here = int(np.argmin(np.abs(SWEEP_ANGLES - angle)))
    jump_count = len(numbers.jumps())
    st.markdown(
        f"At θ = {angle}°: the soft loss is **{grads.soft_loss[here]:.3f}** with gradient "
        f"**{grads.soft_grad[here]:+.3f}**, a direction to move in. The hard loss is "
        f"**{grads.hard_loss[here]:.3f}** with gradient **{grads.hard_grad[here]:.0f}**: flat "
        f"steps, and {jump_count} cliff{'s' if jump_count != 1 else ''} (dotted) where the derivative "
        "does not exist. Autograd finds no path from an argmax back to the scores, so every "
        "step of gradient descent on hard attention stands still."
    )
    if length == 0:
        st.info(
            "With a zero-length query, θ changes nothing: every curve is flat. Lengthen the query.",
            icon=":material/straighten:",
        )


differentiability(scene, angle, length, temperature)
st.markdown(
    "Two ways out, both used below. **REINFORCE** (the score-function estimator) samples "
    "an item and nudges log p(item) down or up by how much worse or better the loss was "
    "than a running baseline. The *average* loss of sampling is smooth (switch on the "
    "purple curve above), and each REINFORCE update is an unbiased but noisy estimate of "
    "its gradient. **Gumbel-softmax straight-through** uses a one-hot sample going forward "
    "and the gradient of the soft y going back: less noise, some bias."
)

# ---------------------------------------------------------------------------
# 4 · Training side by side
# ---------------------------------------------------------------------------

st.header("4 · Training side by side", anchor=False)
st.markdown(
    "**The task: find the item that matches the cue.** Each example shows a few items, "
    "each with a colour and a symbol (♠ ♥ ♦ ♣). The cue names a colour; the answer is the "
    "symbol of the item with that colour. The model scores every item against the cue "
    "(q = cue · W_q, k = item · W_k), attends, and reads the symbol off what it sees. "
    "The only way to succeed is to learn where to look. The three models start from "
    "the same weights and see the same batches."
)


@st.cache_resource(max_entries=2 * MAX_STORED, show_spinner=False)
def training_specs(key: str, _comparison: ht.Comparison) -> dict[str, dict]:
    """The training charts as Vega-Lite dicts, built once per comparison.

    They do not change when the other controls move, so page reruns reuse them
    instead of rebuilding four Altair charts every time.
    """
    curves = {method: vars(curve) for method, curve in _comparison.curves.items()}
    chance = 1 / _comparison.config.task.n_labels
    built = {
        "accuracy": shc.learning_curve_chart(
            curves,
            "accuracy",
            SHORT_LABELS,
            title=f"Held-out accuracy (chance = {chance:.2f})",
            y_title="accuracy",
            domain=(0.0, 1.0),
        ),
        "loss": shc.learning_curve_chart(
            curves,
            "loss",
            SHORT_LABELS,
            title="Held-out loss (cross-entropy)",
            y_title="loss",
            log=True,
            y_format="~g",
        ),
        "variance": shc.learning_curve_chart(
            curves,
            "total_variance",
            SHORT_LABELS,
            title="Variance of the attention gradient",
            y_title="total variance",
            log=True,
            y_format="~e",
        ),
    }
    for index, example in enumerate(_comparison.examples):
        weights = np.array([_comparison.example_weights[method][index] for method in ht.METHODS])
        built[f"example {index}"] = charts.weights_heatmap(
            weights,
            [SHORT_LABELS[method] for method in ht.METHODS],
            item_names(example),
            title=(
                f"Cue: {ht.color_name(example['cue'])}   →   answer "
                f"{ht.label_name(example['answer'])}   (▶ marks the match)"
            ),
            row_title="model",
            col_title="item",
            cell_size=58,
            max_width=760,
        )
    return {name: chart.to_dict(validate=False) for name, chart in built.items()}


def method_table(comparison: ht.Comparison) -> pd.DataFrame:
    """One row per method: how fast, how well, and how noisy its gradients were."""
    base = comparison.curves["soft"].total_variance[0]
    rows = []
    for method, curve in comparison.curves.items():
        start = curve.total_variance[0]
        reached = curve.steps_to(0.95)
        rows.append(
            {
                "method": ht.METHOD_LABELS[method],
                "steps to 95 %": "not reached" if reached is None else str(reached),
                "final accuracy": curve.accuracy[-1],
                "variance at step 0": start,
                "× soft": start / base if base > 0 else float("nan"),
                "noise / signal": curve.noise_to_signal[0],
                "time (s)": curve.seconds,
            }
        )
    return pd.DataFrame(rows)


def item_names(example: dict) -> list[str]:
    colors, labels = example["colors"], example["labels"]
    return [
        ("▶ " if index == example["target"] else "")
        + f"{ht.color_name(color)} {ht.label_name(label)}"
        for index, (color, label) in enumerate(zip(colors, labels, strict=True))
    ]


@st.fragment
def training_section() -> None:
    """The comparison, its retrain form and its charts; reruns alone on Retrain."""
    payload = shipped_payload()
    shipped = ht.comparison_from_dict(payload) if payload else None
    store = trained_store()
    default = ht.TrainConfig()
    with st.form("sh_train_form", border=True):
        seed_col, items_col, steps_col, button_col = st.columns(
            [1, 1.6, 1.8, 1], vertical_alignment="bottom"
        )
        with seed_col:
            seed = st.number_input(
                "Training seed", 0, 9999, default.seed, step=1, key="sh_train_seed"
            )
        with items_col:
            n_items = st.slider(
                "Items per example",
                2,
                default.task.n_colors,
                default.task.n_items,
                key="sh_train_items",
                help="One match and the rest distractors. More items: harder to find by chance.",
            )
        with steps_col:
            steps = st.select_slider(
                "Training steps", STEP_OPTIONS, value=default.steps, key="sh_train_steps"
            )
        with button_col:
            retrain = st.form_submit_button(
                "Retrain", key="sh_retrain", type="primary", icon=":material/model_training:"
            )
    if retrain:
        config = ht.with_settings(default, seed=int(seed), n_items=int(n_items), steps=int(steps))
        key = config_key(config)
        if key not in store:
            bar = st.progress(0.0, text="Training the three methods…")
            store[key] = ht.compare_methods(
                config, progress=lambda done, message: bar.progress(min(1.0, done), text=message)
            )
            bar.empty()
            while len(store) > MAX_STORED:
                store.pop(next(iter(store)))
        st.session_state["sh_trained"] = key
    comparison = store.get(st.session_state.get("sh_trained", ""))
    if comparison is None and shipped is None:
        st.info(
            "The shipped curves file is missing; press *Retrain* to train the three methods "
            "(a few seconds).",
            icon=":material/model_training:",
        )
        return
    if comparison is None:
        comparison = shipped
        st.caption(
            f"Curves shipped with the lab (seed {shipped.config.seed}, "
            f"{shipped.config.task.n_items} items, {shipped.config.steps} steps), made by "
            "`scripts/train_soft_hard.py`. Press *Retrain* to train them here, in a few seconds."
        )
    else:
        config = comparison.config
        seconds = sum(curve.seconds for curve in comparison.curves.values())
        message = (
            f"Trained on this server: seed {config.seed}, {config.task.n_items} items, "
            f"{config.steps} steps ({seconds:.1f} s of training)."
        )
        if shipped is not None and config_key(config) == config_key(shipped.config):
            gap = max(
                float(np.max(np.abs(np.subtract(curve.loss, shipped.curves[method].loss))))
                for method, curve in comparison.curves.items()
            )
            message += (
                f" Same settings as the shipped curves; the largest difference in held-out "
                f"loss is {gap:.1e}. Same seed, same curves."
            )
        st.caption(message)

    specs = training_specs(
        config_key(comparison.config) + ("" if comparison is not shipped else " shipped"),
        comparison,
    )
    left, right = st.columns(2, gap="large")
    with left:
        show_cached(specs["accuracy"])
    with right:
        show_cached(specs["loss"])
    st.caption(
        "Held-out examples; the soft model is tested with soft attention, the two hard "
        "ones with argmax (they look at exactly one item)."
    )

    st.subheader("The price: noisy gradients", anchor=False)
    st.markdown(
        "At a handful of steps we freeze the model and compute its attention gradient "
        f"(for W_q and W_k) on {comparison.config.variance_batches} fresh batches, then "
        "measure how much the estimates disagree: the total variance, summed over all "
        "weights. At step 0 all three models have the same weights, so that column is a "
        "fair comparison of the estimators alone."
    )
    table = method_table(comparison)
    left, right = st.columns([1.25, 1], gap="large")
    with left:
        show_cached(specs["variance"])
    with right:
        ratios = dict(zip(table["method"], table["× soft"], strict=True))
        st.markdown("**Gradient variance at step 0, as a multiple of soft's**")
        reinforce_col, gumbel_col = st.columns(2)
        reinforce_col.metric(
            "REINFORCE",
            f"{ratios[ht.METHOD_LABELS['reinforce']]:.1f}×",
            help="Total variance of the attention gradient at step 0, divided by soft's.",
        )
        gumbel_col.metric(
            "Gumbel-ST",
            f"{ratios[ht.METHOD_LABELS['gumbel_st']]:.1f}×",
            help="Total variance of the attention gradient at step 0, divided by soft's.",
        )
        st.markdown(
            "With the same weights, REINFORCE's estimates scatter far more than backprop's: "
            "it learns from one sampled item and a single number, how good the result was, "
            "not from how the loss changes with every weight. Gumbel straight-through keeps "
            "a gradient through the soft y and stays close to backprop. Noisier gradients "
            "mean smaller useful steps, hence more of them."
        )
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        column_config={
            "steps to 95 %": st.column_config.TextColumn(
                help="First measured step with held-out accuracy of at least 0.95."
            ),
            "final accuracy": st.column_config.NumberColumn(format="%.3f"),
            "variance at step 0": st.column_config.NumberColumn(
                format="%.2e", help="Total variance of the attention gradient, same weights."
            ),
            "× soft": st.column_config.NumberColumn(format="%.1f ×"),
            "noise / signal": st.column_config.NumberColumn(
                format="%.1f",
                help="At step 0: total variance divided by the squared norm of the mean gradient.",
            ),
            "time (s)": st.column_config.NumberColumn(
                format="%.2f", help="Wall time of the training steps."
            ),
        },
    )

    st.subheader("Where each trained model looks", anchor=False)
    example_index = st.segmented_control(
        "Example",
        list(range(len(comparison.examples))),
        default=0,
        required=True,
        format_func=lambda index: f"Example {index + 1}",
        key="sh_example",
    )
    example_index = int(example_index or 0)
    show_cached(specs[f"example {example_index}"])
    target_position = comparison.examples[example_index]["target"]
    on_match = ", ".join(
        f"{ht.METHOD_LABELS[method]} **{comparison.example_weights[method][example_index][target_position]:.2f}**"
        for method in ht.METHODS
    )
    st.caption(
        "Each row: softmax of the trained model's scores on this held-out example (for the "
        f"hard models, the probabilities they sample from). Weight on the match: {on_match}."
    )


training_section()

# ---------------------------------------------------------------------------
# 5 · Notes
# ---------------------------------------------------------------------------

st.header("5 · Two notes from the literature", anchor=False)
note_left, note_right = st.columns(2, gap="large")
with note_left:
    st.markdown(
        "**Hard attention in image captioning.** Captioning models that attend over image "
        "regions were built both ways: soft, averaging the features of all regions, and "
        "hard, sampling one region per word. The hard version cannot be trained by "
        "backpropagation alone; it was trained with a REINFORCE-style estimator (a "
        "reinforcement-learning method) with a moving-average baseline, as on this page. "
        "Its attention maps look at one region at a time, which is why it is the classic "
        "picture of hard attention (Xu et al., *Show, Attend and Tell*, 2015)."
    )
with note_right:
    st.markdown(
        "**An attention map is not an explanation.** It is tempting to read the weights "
        "as *why* the model produced an output. Whether they are is disputed: different "
        "weights can give the same output (values can cancel, and later layers can "
        "ignore what was averaged), and removing the most-attended input does not always "
        "change the decision. See *Is Attention Interpretable?* (Serrano and Smith, 2019) "
        "and *On Identifiability in Transformers* (Brunner et al., 2020). Treat a heatmap "
        "as a hypothesis to test, not a proof."
    )

st.divider()
notes(
    what_to_notice=[
        "Soft weights are a distribution; hard weights are one-hot. The same scores give both.",
        "The soft output always lies inside the hull of the values and glides as θ or T "
        "changes; the hard output sits on a value and jumps.",
        "Loss of hard attention against θ is a staircase: its gradient is 0 on every step "
        "and undefined at the cliffs, so backpropagation has nothing to follow.",
        "Sample frequencies approach the soft weights, with a gap shrinking like 1/√N.",
        "REINFORCE gets there too, but its gradient estimates are several times noisier "
        "than backprop's, and it needs more steps.",
    ],
    try_this=[
        "Set T to 0.05, then 20. Where does the blue point go in each case, and why?",
        "Pick *Two near-twin keys* and sweep θ near 0°. What does hard attention do between "
        "A and A′, and what does soft attention do?",
        "Draw 1, then 10, 100, 1000. Press *New draw* a few times at each: how far do the bars "
        "stray from the black ticks?",
        "In section 3, find an angle where the hard loss is high. What does its gradient "
        "tell gradient descent to do? Switch on the average loss of sampling: what changes?",
        "Retrain with 16 items and 200 steps. Which method falls behind, and by how much?",
    ],
)
