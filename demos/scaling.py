"""Why scale by √d: dot-product variance, softmax sharpness and vanishing gradients."""

import altair as alt
import streamlit as st

from app_ui import notes, page_header
from app_ui import show_chart as show
from lab import legacy_charts as charts
from lab import scaling as sc
from lab import scaling_charts as scc

DEFAULTS = sc.ScalingConfig()
HALF = 280  # pixels of cells for one of two heatmaps side by side (legend included: ~400)
MODE_CHOICES = {
    "both": ("Both", sc.MODES),
    "unscaled": ("Unscaled", ("unscaled",)),
    "scaled": ("Scaled", ("scaled",)),
}


@st.cache_data(max_entries=32, show_spinner=False)
def dot_products(seed: int, variance: float) -> sc.DotProductSweep:
    """Every (q, k) pair of the histogram and the variance sweep, drawn once."""
    return sc.sweep_dot_products(variance=variance, seed=seed, n_pairs=DEFAULTS.n_pairs)


@st.cache_data(max_entries=32, show_spinner=False)
def variances(seed: int, variance: float):
    """Empirical against theoretical variance of the scores, for every d."""
    return sc.variance_table(dot_products(seed, variance))


@st.cache_data(max_entries=64, show_spinner=False)
def attention_scores(n_keys: int, seed: int, variance: float) -> sc.AttentionSweep:
    """The n-by-n attention trials for every d, drawn once per (n, seed, variance)."""
    return sc.sweep_attention_scores(n_keys, variance=variance, seed=seed, rows=DEFAULTS.sweep_rows)


@st.cache_data(max_entries=128, show_spinner=False)
def sharpness(n_keys: int, seed: int, variance: float, temperature: float):
    """Entropy, largest weight and Jacobian size for every d (a new T reuses the samples)."""
    return sc.sharpness_table(attention_scores(n_keys, seed, variance), temperature)


@st.cache_data(max_entries=64, show_spinner=False)
def variance_spec(seed: int, variance: float, modes: tuple[str, ...]) -> dict:
    """The variance sweep's Vega-Lite spec: built once, it does not depend on d."""
    chart = scc.variance_chart(variances(seed, variance), modes=modes, width=350)
    return chart.to_dict(validate=False)


@st.cache_data(max_entries=256, show_spinner=False)
def sharpness_specs(
    n_keys: int, seed: int, variance: float, temperature: float, modes: tuple[str, ...]
) -> dict[str, dict]:
    """The three sharpness and gradient sweeps as Vega-Lite specs (independent of d)."""
    table = sharpness(n_keys, seed, variance, temperature)
    uniform = sc.uniform_entropy(n_keys)
    built = {
        "entropy": scc.sweep_chart(
            table,
            "mean_entropy",
            title="Mean entropy of the weights",
            y_title="entropy (nats)",
            references=[(f"uniform: log n = {uniform:.2f}", uniform)],
            modes=modes,
            y_domain=(0.0, uniform * 1.08),
        ),
        "max_weight": scc.sweep_chart(
            table,
            "mean_max_weight",
            title="Mean largest weight",
            y_title="largest weight",
            references=[("one-hot: 1", 1.0), (f"uniform: 1/n = {1 / n_keys:.3f}", 1 / n_keys)],
            modes=modes,
            y_domain=(0.0, 1.05),
        ),
        "jacobian": scc.sweep_chart(
            table,
            "jacobian_median",
            title="Softmax Jacobian ‖J‖, median query",
            y_title="‖J‖  (log scale)",
            references=[
                (
                    f"uniform: √(n−1)/n = {sc.uniform_jacobian_norm(n_keys):.3f}",
                    sc.uniform_jacobian_norm(n_keys),
                )
            ],
            modes=modes,
            band=("jacobian_q10", "jacobian_q90"),
            log_y=True,
            floor=sc.JACOBIAN_FLOOR,
            value_format=".2e",
            width=350,
            height=340,
        ),
    }
    return {name: chart.to_dict(validate=False) for name, chart in built.items()}


@st.cache_data(max_entries=256, show_spinner=False)
def histogram_specs(
    seed: int, variance: float, d: int, modes: tuple[str, ...], shared_axis: bool
) -> dict[str, dict]:
    """The score histograms at one d as Vega-Lite specs (independent of n and T)."""
    dots = dot_products(seed, variance)
    widest = sc.score_domain(d, variance, scaled="unscaled" not in modes)
    specs = {}
    for mode in modes:
        scaled = mode == "scaled"
        domain = widest if shared_axis else sc.score_domain(d, variance, scaled=scaled)
        theory = sc.score_variance(d, variance, scaled=scaled)
        theory_text = f"N(0, {'σ⁴' if scaled else 'd·σ⁴'} = {theory:g})"
        chart = scc.score_histogram(
            dots.at(d, scaled=scaled),
            theory_variance=theory,
            domain=domain,
            title=f"{scc.MODE_TITLES[mode]}   vs   {theory_text}",
            color=scc.MODE_COLORS[mode],
            x_title="q·k / √d" if scaled else "q·k",
        )
        specs[mode] = chart.to_dict(validate=False)
    return specs


def show_spec(spec: dict, d: int | None = None) -> None:
    """Draw a cached chart spec, with the marker at the current d on a sweep.

    The spec was made by ``chart.to_dict(validate=False)``, exactly what
    ``app_ui.show_chart`` sends; caching it spares a rerun from rebuilding
    charts whose inputs did not change (the sweeps do not depend on d at all).
    """
    st.vega_lite_chart(spec if d is None else scc.with_d_marker(spec, d), width="content")


def mode_heading(mode: str, temperature: float) -> str:
    """``**Scaled**: softmax(q·k / √d)``, with the temperature when it is not 1."""
    divide = "(√d · T)" if mode == "scaled" else "T"
    if temperature == 1.0:
        divide = "√d" if mode == "scaled" else ""
    formula = f"softmax(q·k / {divide})" if divide else "softmax(q·k)"
    return f"**{mode.capitalize()}**: {formula}"


def pair_of_columns(modes):
    """One column per mode shown (two when comparing, one otherwise)."""
    return dict(zip(modes, st.columns(2, gap="medium"), strict=False))


page_header("scaling")
st.latex(
    r"\mathrm{Var}(q\cdot k)=\sum_{i=1}^{d}\mathrm{Var}(q_i k_i)=d\,\sigma^4"
    r"\qquad\Longrightarrow\qquad"
    r"\mathrm{Var}\!\left(\frac{q\cdot k}{\sqrt{d}}\right)=\sigma^4,"
    r"\qquad w=\mathrm{softmax}\!\left(\frac{q\cdot k}{\sqrt{d}\;T}\right)"
)

with st.container(border=True):
    d_col, n_col, t_col = st.columns([2.2, 1.4, 1.6], gap="medium")
    with d_col:
        d = st.select_slider(
            "Dimension d of q and k (log scale)",
            options=list(sc.D_VALUES),
            value=DEFAULTS.d,
            key="sc_d",
            help="Powers of two from 1 to 1024. Real heads use 64 or 128.",
        )
    with n_col:
        n_keys = st.slider(
            "Keys per query n",
            2,
            DEFAULTS.max_n_keys,
            DEFAULTS.n_keys,
            key="sc_n",
            help="Each trial has n queries and n keys; softmax runs over the n keys.",
        )
    with t_col:
        temperature = st.select_slider(
            "Softmax temperature T",
            options=list(sc.TEMPERATURES),
            value=DEFAULTS.temperature,
            key="sc_temperature",
            help="Divides the scores before softmax: below 1 sharpens, above 1 flattens.",
        )
    mode_col, variance_col, seed_col = st.columns([2.2, 1.9, 1.1], gap="medium")
    with mode_col:
        mode_key = st.segmented_control(
            "Scaling",
            options=list(MODE_CHOICES),
            default="both",
            required=True,
            format_func=lambda key: MODE_CHOICES[key][0],
            key="sc_mode",
        )
    with variance_col:
        variance = st.select_slider(
            "Variance σ² of each component of q and k",
            options=list(sc.VARIANCES),
            value=DEFAULTS.variance,
            key="sc_variance",
            help="1 is the textbook case. √d does not fix other values: normalisation layers do.",
        )
    with seed_col:
        seed = st.number_input(
            "Seed",
            0,
            9999,
            DEFAULTS.seed,
            step=1,
            key="sc_seed",
            help="Draws every q and k on the page.",
        )

d = int(d)
n_keys = int(n_keys)
seed = int(seed)
variance = float(variance)
temperature = float(temperature)
modes = MODE_CHOICES.get(mode_key or "both", MODE_CHOICES["both"])[1]

variance_stats = variances(seed, variance)
sharp_stats = sharpness(n_keys, seed, variance, temperature)
sweep = attention_scores(n_keys, seed, variance)
dots = dot_products(seed, variance)

# ---------------------------------------------------------------- headline numbers
for mode, column in pair_of_columns(modes).items():
    numbers = sc.summary_at(variance_stats, sharp_stats, d, mode)
    with column, st.container(border=True):
        st.markdown(mode_heading(mode, temperature))
        spread, peak, gradient = st.columns(3)
        spread.metric(
            "score std",
            f"{numbers['score_std']:.2f}",
            help=f"Spread: the standard deviation of {dots.n_pairs} scores; theory "
            f"{'σ²' if mode == 'scaled' else '√d · σ²'} = {numbers['theory_std']:.2f}.",
        )
        peak.metric(
            "top weight",
            f"{numbers['mean_max_weight']:.2f}",
            help=f"The largest weight of a query, averaged over about {DEFAULTS.sweep_rows} "
            f"queries: 1/n = {1 / n_keys:.3f} would be uniform, 1 is one-hot.",
        )
        gradient.metric(
            "gradient ‖J‖",
            sc.format_small(numbers["jacobian_median"]),
            help="Median Frobenius norm of the softmax Jacobian over the queries; "
            f"{numbers['saturated']:.0%} of them are below 0.001 (saturated).",
        )

if d == 1:
    st.info("At d = 1, dividing by √1 changes nothing: unscaled and scaled are the same.")
if variance != 1.0 and "scaled" in modes:
    st.info(
        f"With σ² = {variance:g}, even the scaled scores have variance σ⁴ = {variance**2:g}, "
        "not 1. Dividing by √d removes the dependence on d, not on the size of the inputs; "
        "keeping σ² near 1 is what normalisation layers (LayerNorm) are for."
    )

# ---------------------------------------------------------------- 1 · histograms
st.header("1 · Dot products spread out as d grows", anchor=False)
text_col, toggle_col = st.columns([3, 1.2], gap="large", vertical_alignment="bottom")
with toggle_col:
    shared_axis = st.toggle(
        "Same x axis for both",
        value=True,
        key="sc_shared_axis",
        help="On: widths compare directly. Off: each chart fits its own scores, and the "
        "scaled one shows its bell shape.",
    )
with text_col:
    st.markdown(
        f"Each chart counts q·k over **{dots.n_pairs} random pairs** with **d = {d}** and "
        f"entries drawn from N(0, σ² = {variance:g}). The dashed curve is the normal density "
        "the theory predicts."
    )
histograms = histogram_specs(seed, variance, d, modes, bool(shared_axis))
for mode, column in pair_of_columns(modes).items():
    with column:
        show_spec(histograms[mode])
if d <= 2:
    st.caption(
        "At very small d the scores are peakier than the normal curve: one product q₁k₁ of "
        "two normals is not normal. Summing many terms (larger d) makes it normal."
    )

# ---------------------------------------------------------------- 2 · variance sweep
st.header("2 · Variance grows like d; scaled, it stays put", anchor=False)
chart_col, text_col = st.columns([3, 2], gap="large")
with chart_col:
    show_spec(variance_spec(seed, variance, modes), d)
with text_col:
    here = variance_stats[variance_stats["d"] == d].set_index("mode")
    st.markdown(
        "Each dot is the sample variance of the scores at one d (bars: ± 2 standard errors "
        f"for {dots.n_pairs} pairs); the dashed lines are the theory. On log-log axes, "
        "variance d is a straight line of slope 1; dividing by √d divides the variance by d "
        "and flattens it."
    )
    st.markdown(
        "\n".join(
            f"- {mode}: **{sc.format_number(here.loc[mode, 'empirical'])}** "
            f"(theory {sc.format_number(here.loc[mode, 'theory'])})"
            for mode in modes
        )
    )
    st.caption(f"The dotted vertical line marks d = {d}.")

key_labels = [f"k{index}" for index in range(n_keys)]
query_labels = [f"q{index}" for index in range(n_keys)]
trial_scores = sweep.at(d)[0]  # (L, S) raw scores of the trial the page shows
weights_by_mode = {
    mode: sc.attention_weights(trial_scores, d, scaled=mode == "scaled", temperature=temperature)
    for mode in modes
}  # each (L, S)
saturated = {
    mode: sc.summary_at(variance_stats, sharp_stats, d, mode)["saturated"] for mode in modes
}


@st.fragment
def sharpness_and_gradients(
    weights_by_mode: dict,
    modes: tuple[str, ...],
    d: int,
    specs: dict[str, dict],
    saturated: dict[str, float],
) -> None:
    """Sections 3 and 4: moving the query slider reruns only this part of the page."""
    n_keys = next(iter(weights_by_mode.values())).shape[-1]
    key_labels = [f"k{index}" for index in range(n_keys)]

    st.header("3 · Big scores make softmax nearly one-hot", anchor=False)
    if st.session_state.get("sc_query", DEFAULTS.query) > n_keys - 1:
        st.session_state["sc_query"] = n_keys - 1  # fewer keys now: keep the slider in range
    text_col, query_col = st.columns([3, 1.2], gap="large", vertical_alignment="bottom")
    with query_col:
        query = int(
            st.slider(
                "Query shown up close",
                0,
                n_keys - 1,
                DEFAULTS.query,
                key="sc_query",
                help="Which row of the attention matrix (section 5) the bars and the "
                "Jacobian show.",
            )
        )
    with text_col:
        st.markdown(
            f"One query, **q{query}** (row {query} of the attention matrix in section 5), "
            f"against its **{n_keys} keys** at d = {d}. The orange bar is its largest weight. "
            "Queries differ: one with a near tie keeps some spread, so try a few."
        )
    bar_step = max(13, min(20, 320 // n_keys))  # pixels per bar: the charts stay ~ 330 px tall
    for mode, column in pair_of_columns(modes).items():
        row = weights_by_mode[mode][query]  # (S,)
        with column:
            show(
                charts.bar_chart(
                    row,
                    key_labels,
                    title=f"{scc.MODE_TITLES[mode]}: weights of q{query}",
                    domain=(0.0, 1.0),
                    highlight=int(row.argmax()),
                ).properties(height=alt.Step(bar_step))
            )

    st.markdown(
        f"Over about {DEFAULTS.sweep_rows} queries for every d: the entropy of the weights "
        f"(log n = {sc.uniform_entropy(n_keys):.2f} nats when uniform, 0 when one-hot) and "
        f"the largest weight (1/n = {1 / n_keys:.3f} when uniform, 1 when one-hot)."
    )
    entropy_col, max_col = st.columns(2, gap="medium")
    with entropy_col:
        show_spec(specs["entropy"], d)
    with max_col:
        show_spec(specs["max_weight"], d)

    st.header("4 · A saturated softmax passes back almost no gradient", anchor=False)
    st.markdown(
        "The Jacobian J = diag(w) − w wᵀ says how much each weight moves when a score (after "
        "scaling and temperature) moves: J[i, j] = ∂wᵢ/∂zⱼ. For a one-hot row every entry "
        "is 0, so no gradient reaches the scores, nor W_q and W_k behind them. Below, J for "
        f"q{query}; the colour scale spans ±¼, the largest an entry can be."
    )
    for mode, column in pair_of_columns(modes).items():
        row = weights_by_mode[mode][query]  # (S,)
        jacobian = sc.softmax_jacobian(row)  # (S, S)
        with column:
            show(
                charts.heatmap(
                    jacobian,
                    key_labels,
                    key_labels,
                    title=f"{scc.MODE_TITLES[mode]}: J of q{query}, "
                    f"‖J‖ {sc.format_small(float(sc.jacobian_norm(row)), equals=True)}",
                    signed=True,
                    row_title="weight wᵢ",
                    col_title="score zⱼ",
                    value_title="∂wᵢ/∂zⱼ",
                    domain=scc.jacobian_limits(),
                    max_width=HALF,
                    value_format=".2g",
                    legend=mode == modes[-1],
                )
            )
    gradient_col, gradient_text = st.columns([3, 2], gap="large")
    with gradient_col:
        show_spec(specs["jacobian"], d)
    with gradient_text:
        st.markdown(
            "The line is the median query; the shaded band runs from the 10th to the 90th "
            "percentile. The y axis is logarithmic: each gridline down is ten times less "
            f"gradient. Values below {sc.JACOBIAN_FLOOR:.0e} are drawn at the bottom "
            "(in float64 such a change is lost next to a weight of size 1)."
        )
        st.markdown(
            f"Saturated queries (‖J‖ below 0.001) at d = {d}: "
            + ", ".join(f"{mode} **{share:.0%}**" for mode, share in saturated.items())
            + "."
        )


sharpness_and_gradients(
    weights_by_mode,
    modes,
    d,
    sharpness_specs(n_keys, seed, variance, temperature, modes),
    saturated,
)

# ---------------------------------------------------------------- 5 · heatmaps
st.header("5 · The whole attention matrix", anchor=False)
st.markdown(
    f"{n_keys} random queries (rows) against {n_keys} random keys (columns) at d = {d}, "
    "weights on one 0-to-1 colour scale. At large d, unscaled rows light up a single cell "
    "while scaled rows spread their weight."
)
for mode, column in pair_of_columns(modes).items():
    with column:
        show(
            charts.weights_heatmap(
                weights_by_mode[mode],
                query_labels,
                key_labels,
                title=f"{scc.MODE_TITLES[mode]}   ({n_keys} × {n_keys})",
                max_width=HALF,
                legend=mode == modes[-1],
            )
        )

st.divider()
notes(
    what_to_notice=[
        "The unscaled variance sits on the line d·σ⁴ (slope 1 on log-log axes); the scaled "
        "one stays at σ⁴ for every d. The ± 2 standard error bars cover the theory.",
        "The largest weight climbs towards 1 and the entropy falls towards 0 as d grows "
        "unscaled: softmax turns into an arg-max. Scaled, both stay level.",
        "The gradient does not fall at once: a moderately peaked softmax has a larger "
        "Jacobian than a flat one. Once it saturates, ‖J‖ falls by orders of magnitude.",
        "√d fixes the dimension, not the scale of the inputs: with σ² = 4 the scaled "
        "scores have variance 16 and saturate too.",
    ],
    try_this=[
        "Set d = 1024. What fraction of the unscaled queries are saturated? And scaled?",
        "At d = 64 and T = 1, note the scaled top weight and ‖J‖. Now set T = 8 = √64: the "
        "unscaled column shows the same two numbers. Why? What does that say about √d?",
        "Set σ² = 4 with scaling on. Which charts change, and what would fix them?",
        "Change n from 4 to 32 at d = 64 unscaled. Does the largest weight go up or down? "
        "Compare with the uniform line 1/n.",
        "At d = 1 look at the histogram: why is it peakier than the normal curve, and why "
        "does the mismatch disappear by d = 16?",
    ],
)
