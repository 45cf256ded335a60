"""Why scale by √d: dot-product variance, softmax sharpness and the softmax Jacobian."""

import inspect

import numpy as np
import pandas as pd
import streamlit as st

import lab.scaling as scaling
from app import ui
from app.charts import draw
from lab.exercises import Exercise
from lab.scaling import charts as scaling_charts

SLUG = "scaling"
DEFAULTS = scaling.ScalingConfig()


# ---------------------------------------------------------------- cached computations
# Vectors are drawn once per seed (and S) with unit variance; a new σ² rescales the
# scores and a new T or d only re-reads them, so nothing is resampled when they move.


@st.cache_data(max_entries=16, show_spinner=False)
def unit_dot_products(seed: int) -> scaling.DotProductSweep:
    return scaling.sweep_dot_products(variance=1.0, seed=seed, n_pairs=DEFAULTS.n_pairs)


@st.cache_data(max_entries=64, show_spinner=False)
def variances(seed: int, variance: float) -> pd.DataFrame:
    return scaling.variance_table(unit_dot_products(seed).with_variance(variance))


@st.cache_data(max_entries=256, show_spinner=False)
def scores_at(seed: int, variance: float, d: int, scaled: bool) -> np.ndarray:
    """A histogram's q·k at one d, divided by √d if ``scaled``: ``(N,)``."""
    return unit_dot_products(seed).with_variance(variance).at(d, scaled=scaled)


@st.cache_data(max_entries=16, show_spinner=False)
def unit_attention_scores(n_keys: int, seed: int) -> scaling.AttentionSweep:
    return scaling.sweep_attention_scores(n_keys, variance=1.0, seed=seed, rows=DEFAULTS.sweep_rows)


@st.cache_data(max_entries=128, show_spinner=False)
def sharpness(n_keys: int, seed: int, variance: float, temperature: float) -> pd.DataFrame:
    return scaling.sharpness_table(
        unit_attention_scores(n_keys, seed).with_variance(variance), temperature
    )


@st.cache_data(max_entries=64, show_spinner=False)
def variance_columns(seed: int, variance: float) -> dict[str, np.ndarray]:
    """The variance table as arrays: what the charts take (cheap to hash on every rerun)."""
    return scaling.sweep_columns(variances(seed, variance))


@st.cache_data(max_entries=128, show_spinner=False)
def sharpness_columns(
    n_keys: int, seed: int, variance: float, temperature: float
) -> dict[str, np.ndarray]:
    return scaling.sweep_columns(sharpness(n_keys, seed, variance, temperature))


@st.cache_data(max_entries=256, show_spinner=False)
def first_trial(
    n_keys: int, seed: int, variance: float, temperature: float, d: int
) -> dict[scaling.Mode, np.ndarray]:
    """The attention weights of the trial the page draws, ``(L, S)`` per mode."""
    scores = unit_attention_scores(n_keys, seed).with_variance(variance).at(d)[0]  # (L, S)
    return {
        mode: scaling.attention_weights(scores, d, scaled=mode.scaled, temperature=temperature)
        for mode in scaling.Mode
    }


@st.cache_data(max_entries=256, show_spinner=False)
def headline(
    n_keys: int, seed: int, variance: float, temperature: float, d: int
) -> dict[scaling.Mode, dict[str, float]]:
    """The numbers under the first chart, per mode."""
    tables = (variances(seed, variance), sharpness(n_keys, seed, variance, temperature))
    return {mode: scaling.summary_at(*tables, d, mode) for mode in scaling.Mode}


@st.cache_data(max_entries=128, show_spinner=False)
def notes(n_keys: int, seed: int, variance: float, temperature: float) -> list[str]:
    table = sharpness(n_keys, seed, variance, temperature)
    return scaling.notice_lines(variances(seed, variance), table, variance)


@st.cache_data(max_entries=128, show_spinner=False)
def exercise_list(n_keys: int, seed: int, variance: float, temperature: float) -> list[Exercise]:
    config = scaling.ScalingConfig(
        n_keys=n_keys, seed=seed, variance=variance, temperature=temperature
    )
    return scaling.page_exercises(config, sharpness(n_keys, seed, variance, temperature))


def mode_heading(mode: scaling.Mode, temperature: float) -> str:
    """``**Scaled**: softmax(q·k / √d)``, with the temperature when it is not 1."""
    divide = "(√d · T)" if mode.scaled else "T"
    if temperature == 1.0:
        divide = "√d" if mode.scaled else ""
    formula = f"softmax(q·k / {divide})" if divide else "softmax(q·k)"
    return f"**{mode.value.capitalize()}**: {formula}"


def mode_columns(modes: tuple[scaling.Mode, ...]) -> dict[scaling.Mode, object]:
    """One column per mode shown (two when comparing, one otherwise)."""
    return dict(zip(modes, st.columns(2, gap="medium"), strict=False))


# ---------------------------------------------------------------- header and controls
ui.page_header(SLUG)
st.latex(
    r"\mathrm{Var}(q\cdot k)=\sum_{i=1}^{d}\mathrm{Var}(q_i k_i)=d\,\sigma^4"
    r"\qquad\Longrightarrow\qquad"
    r"\mathrm{Var}\!\left(\frac{q\cdot k}{\sqrt{d}}\right)=\sigma^4,"
    r"\qquad w=\mathrm{softmax}\!\left(\frac{q\cdot k}{\sqrt{d}\;T}\right)"
)

controls_col, glance_col = st.columns([1, 1.12], gap="medium")
with controls_col, st.container(border=True):
    d = ui.select_slider(
        "Dimension d of q and k (log scale)",
        scaling.D_VALUES,
        DEFAULTS.d,
        key="d",
        help="Powers of two from 1 to 1024. Common head sizes are 64 and 128.",
    )
    keys_col, t_col = st.columns(2, gap="medium")
    with keys_col:
        n_keys = ui.slider(
            "Keys per query S",
            2,
            DEFAULTS.max_n_keys,
            DEFAULTS.n_keys,
            key="keys",
            help="Each trial has S queries and S keys; softmax runs over the S keys.",
        )
    with t_col:
        temperature = ui.select_slider(
            "Temperature T",
            scaling.TEMPERATURES,
            DEFAULTS.temperature,
            key="temperature",
            format_func=lambda value: f"{value:g}",
            help="Divides the scores before softmax: below 1 sharpens, above 1 flattens.",
        )
    variance_col, seed_col = st.columns(2, gap="medium")
    with variance_col:
        variance = ui.select_slider(
            "Entry variance σ²",
            scaling.VARIANCES,
            DEFAULTS.variance,
            key="variance",
            format_func=lambda value: f"{value:g}",
            help="The variance of every component of q and k. 1 is the textbook case; √d "
            "does not fix other values.",
        )
    with seed_col:
        seed = ui.seed(help="Draws every q and k on the page.")
    comparison = ui.segmented(
        "Scaling",
        list(scaling.Comparison),
        scaling.Comparison.BOTH,
        key="scaling",
    )

d, n_keys, seed = int(d), int(n_keys), int(seed)
variance, temperature = float(variance), float(temperature)
modes = scaling.Comparison(comparison).modes
variance_stats = variance_columns(seed, variance)
sharp_stats = sharpness_columns(n_keys, seed, variance, temperature)
weights_by_mode = first_trial(n_keys, seed, variance, temperature, d)  # each (L, S)
numbers = headline(n_keys, seed, variance, temperature, d)
rows = scaling.query_rows(n_keys, DEFAULTS.sweep_rows)  # per d, in the sweeps

# ---------------------------------------------------------------- the point, at a glance
with glance_col:
    draw(scaling_charts.max_weight_chart, sharp_stats, n_keys, modes=modes, d=d, height=250)

st.markdown(
    f"Below, at d = {d} and over {rows} random queries with {n_keys} keys each: the spread "
    "of the scores, the mean largest weight (the chart above, at its dotted line), and the median "
    r"Frobenius norm of the softmax Jacobian $\lVert J\rVert_F$, which bounds how much "
    "gradient passes back through softmax to the scores (section 4)."
)
for mode, column in mode_columns(modes).items():
    with column, st.container(border=True):
        st.markdown(mode_heading(mode, temperature))
        spread, peak, jacobian = st.columns([1, 1, 1.25])
        spread.metric(
            "score std",
            f"{numbers[mode]['score_std']:.2f}",
            help=f"The standard deviation of {DEFAULTS.n_pairs} sampled scores at this d; "
            f"theory {'σ²' if mode.scaled else '√d · σ²'} = {numbers[mode]['theory_std']:.2f}.",
        )
        peak.metric(
            "top weight",
            f"{numbers[mode]['mean_max_weight']:.2f}",
            help=f"The largest weight of a query, averaged over {rows} queries: "
            f"1/S = {1 / n_keys:.3f} would be uniform, 1 is one-hot.",
        )
        jacobian.metric(
            r"median $\lVert J\rVert_F$",
            scaling.format_small(numbers[mode]["jacobian_median"]),
            help="The Frobenius norm of the softmax Jacobian, the median over "
            f"{rows} queries; {numbers[mode]['saturated']:.1%} of them are below "
            f"{scaling.SATURATED_BELOW:g} (saturated).",
        )
if d == 1:
    st.info("At d = 1, dividing by √1 changes nothing: unscaled and scaled are the same.")
if variance != 1.0 and scaling.Mode.SCALED in modes:
    st.info(
        f"With σ² = {variance:g}, even the scaled scores have variance σ⁴ = {variance**2:g}, "
        "not 1. Dividing by √d removes the dependence on d, not on the size of the inputs; "
        "keeping σ² near 1 is the job of normalisation (LayerNorm on the inputs, or on q "
        r"and k themselves in some models) and of how $W_q$ and $W_k$ are initialised."
    )


# ---------------------------------------------------------------- 1 · histograms
@st.fragment
def histograms(seed: int, variance: float, d: int, modes: tuple[scaling.Mode, ...]) -> None:
    """Section 1: the same-axis toggle reruns only these two charts."""
    text_col, toggle_col = st.columns([3, 1.2], gap="large", vertical_alignment="bottom")
    with toggle_col:
        shared_axis = ui.toggle(
            "Same x axis for both",
            True,
            key="same_axis",
            help="On: widths compare directly. Off: each chart fits its own scores, and the "
            "scaled one shows its bell shape.",
        )
    with text_col:
        st.markdown(
            f"Each histogram shows q·k for **{DEFAULTS.n_pairs} random pairs** with "
            f"**d = {d}** and entries drawn from N(0, σ² = {variance:g}), as a density. The "
            "dashed curve is the normal density with the variance the theory predicts."
        )
    widest = scaling.score_domain(d, variance, scaled=scaling.Mode.UNSCALED not in modes)
    for mode, column in mode_columns(modes).items():
        domain = widest if shared_axis else scaling.score_domain(d, variance, scaled=mode.scaled)
        with column:
            draw(
                scaling_charts.score_histogram,
                scores_at(seed, variance, d, mode.scaled),  # (N,)
                d=d,
                variance=variance,
                mode=mode,
                domain=domain,
            )
    if d <= 2:
        st.caption(
            "At very small d the scores are peakier than the normal curve: one product q₁k₁ "
            "of two normals is not normal. A sum of many terms (larger d) comes close to normal."
        )


st.header("1 · Dot products spread out as d grows", anchor=False)
histograms(seed, variance, d, modes)

# ---------------------------------------------------------------- 2 · variance sweep
st.header("2 · Variance grows like d; scaled, it stays put", anchor=False)
chart_col, text_col = st.columns([3, 2], gap="large")
with chart_col:
    draw(scaling_charts.variance_chart, variance_stats, modes=modes, d=d)
with text_col:
    st.markdown(
        "Each dot is the sample variance of the scores at one d; its bar spans ± 2 standard "
        f"errors for {DEFAULTS.n_pairs} pairs (from the Gaussian theory). The dashed lines are "
        "the theory. On log-log axes, a variance of d·σ⁴ is a straight line of slope 1; "
        "dividing by √d divides the variance by d and flattens it."
    )
    st.markdown(
        "\n".join(
            f"- {mode.value}: **{scaling.format_number(numbers[mode]['score_variance'])}** "
            f"(theory {scaling.format_number(numbers[mode]['theory_variance'])})"
            for mode in modes
        )
    )
    st.caption(f"The dotted vertical line marks d = {d}.")


# ---------------------------------------------------------------- 3 and 4 · one query
@st.fragment
def query_up_close(
    weights_by_mode: dict[scaling.Mode, np.ndarray],
    modes: tuple[scaling.Mode, ...],
    d: int,
    table: dict[str, np.ndarray],
    rows: int,
    saturated: dict[scaling.Mode, float],
) -> None:
    """Sections 3 and 4: moving the query slider reruns only this part of the page."""
    n_keys = next(iter(weights_by_mode.values())).shape[-1]
    st.header("3 · Big scores make softmax nearly one-hot", anchor=False)
    if st.session_state.get("query", DEFAULTS.query) > n_keys - 1:
        st.session_state["query"] = n_keys - 1  # fewer keys now: keep the slider in range
    text_col, query_col = st.columns([3, 1.2], gap="large", vertical_alignment="bottom")
    with query_col:
        query = ui.slider(
            "Query shown up close",
            0,
            n_keys - 1,
            DEFAULTS.query,
            key="query",
            help="Which row of the attention matrices of section 5 the bars and the Jacobian show.",
        )
    with text_col:
        st.markdown(
            f"One query, **q{query}** (row {query} of the attention matrices in section 5), "
            f"against its **{n_keys} keys** at d = {d}. Its largest weight is drawn in full "
            "colour, the others pale. Queries differ: one with a near tie keeps some spread, "
            "so try a few."
        )
    for mode, column in mode_columns(modes).items():
        with column:
            draw(scaling_charts.weights_bars, weights_by_mode[mode][query], mode, query)

    entropy_col, entropy_text = st.columns([3, 2], gap="large")
    with entropy_col:
        draw(scaling_charts.entropy_chart, table, n_keys, modes=modes, d=d)
    with entropy_text:
        st.markdown(
            f"Over {rows} queries for every d: the mean entropy of the weights, "
            f"log S = {scaling.uniform_entropy(n_keys):.2f} nats when uniform and 0 when one-hot. "
            "Its mirror image is the mean largest weight at the top of the page "
            f"(1/S = {1 / n_keys:.3f} when uniform, 1 when one-hot)."
        )

    st.header("4 · A saturated softmax passes back almost no gradient", anchor=False)
    st.markdown(
        r"The Jacobian $J = \mathrm{diag}(w) - w w^\top$ says how much each weight moves when "
        r"a logit $z_j$ (a score after scaling and temperature) moves: "
        r"$J_{ij} = \partial w_i / \partial z_j$. A gradient $g$ on the weights reaches the "
        r"logits as $J g$, no longer than $\lVert J\rVert_F\,\lVert g\rVert$. For a one-hot row "
        r"every entry of J is 0, so no gradient reaches the scores, nor $W_q$ and $W_k$ behind "
        f"them. Below, J for q{query}; the colour scale spans ±¼, the largest an entry can be."
    )
    for mode, column in mode_columns(modes).items():
        with column:
            draw(
                scaling_charts.jacobian_heatmap,
                weights_by_mode[mode][query],
                mode,
                query,
                legend=mode == modes[-1],
            )
    gradient_col, gradient_text = st.columns([3, 2], gap="large")
    with gradient_col:
        draw(scaling_charts.jacobian_sweep_chart, table, n_keys, modes=modes, d=d)
    with gradient_text:
        st.markdown(
            "The line is the median query; the shaded band runs from the 10th to the 90th "
            "percentile. The y axis is logarithmic, with ticks at powers of ten. Values below "
            f"{scaling.JACOBIAN_FLOOR:.0e} are drawn at the bottom (next to a weight of size 1, "
            "float64 cannot hold a change that small)."
        )
        st.markdown(
            f"Saturated queries (Frobenius norm below {scaling.SATURATED_BELOW:g}) at d = {d}: "
            + ", ".join(f"{mode.value} **{saturated[mode]:.1%}**" for mode in modes)
            + "."
        )
    with st.expander("The lab's code for J and its Frobenius norm"):
        st.code(
            inspect.getsource(scaling.softmax_jacobian)
            + "\n\n"
            + inspect.getsource(scaling.jacobian_norm),
            language="python",
            wrap_lines=True,
        )


query_up_close(
    weights_by_mode,
    modes,
    d,
    sharp_stats,
    rows,
    {mode: numbers[mode]["saturated"] for mode in modes},
)

# ---------------------------------------------------------------- 5 · heatmaps
st.header("5 · The whole attention matrix", anchor=False)
st.markdown(
    f"The trial the bars and Jacobians come from: {n_keys} random queries (rows) against "
    f"{n_keys} random keys (columns) at d = {d}, weights on one 0-to-1 colour scale (purple, "
    "so that orange and blue keep meaning unscaled and scaled)."
)
for mode, column in mode_columns(modes).items():
    with column:
        draw(
            scaling_charts.attention_heatmap,
            weights_by_mode[mode],
            mode,
            legend=mode == modes[-1],
        )

ui.page_end(
    SLUG,
    notice=notes(n_keys, seed, variance, temperature),
    exercises=exercise_list(n_keys, seed, variance, temperature),
)
