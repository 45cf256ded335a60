"""The cost of attention: exact attention grows like n², and two ways around it."""

import numpy as np
import streamlit as st

from app import runs, ui
from app.charts import draw
from lab.cost_of_attention import (
    MAX_CLUSTERS,
    MAX_D,
    MAX_FEATURES,
    MAX_HEATMAP_N,
    MAX_N,
    PAGE_MEASURE_BUDGET_SECONDS,
    PAGE_MEASURE_N_VALUES,
    SHIPPED_MEASUREMENTS,
    CostOfAttentionConfig,
    CrossoverPlace,
    Implementation,
    Measurements,
    Method,
    crossover_length,
    load_measurements,
    measured_crossovers,
    sweep_values,
)
from lab.cost_of_attention.charts import (
    cost_model_chart,
    error_chart,
    measured_chart,
    method_heatmap,
)
from lab.cost_of_attention.exercises import page_exercises
from lab.cost_of_attention.study import (
    ErrorMeasure,
    ErrorStudy,
    MeasuredQuantity,
    SmallExample,
    error_study,
    last_growth,
    slopes,
    small_example,
    speedup,
    square_matrices,
)

SLUG = "cost_of_attention"
CONFIG = CostOfAttentionConfig()
NUMPY, TORCH, FUSED = Implementation.NUMPY, Implementation.TORCH, Implementation.TORCH_FUSED
EXACT = (NUMPY, TORCH, FUSED)
VERSUS = (NUMPY, Implementation.PERFORMER, Implementation.LINEAR, Implementation.CLUSTERED)
MAGNITUDES = (0.25, 0.5, 0.75, 1.0, 1.5)
COUNTED_N = sweep_values(4096)[4:]  # 16 ... 4096, the sizes of the counted chart


@st.cache_data(show_spinner=False)
def shipped(path: str) -> Measurements:
    return load_measurements(path)


@st.cache_data(max_entries=256, show_spinner=f"Sweeping r and C over {CONFIG.sweep_seeds} seeds …")
def study(n: int, d: int, seed: int, magnitude: float) -> ErrorStudy:
    return error_study(n, d, seed=seed, magnitude=magnitude, sweep_seeds=CONFIG.sweep_seeds)


@st.cache_data(max_entries=256, show_spinner=False)
def example(n: int, d: int, seed: int, magnitude: float, r: int, c: int) -> SmallExample:
    return small_example(n, d, seed=seed, magnitude=magnitude, num_features=r, num_clusters=c)


def measure_here(progress: runs.Progress) -> Measurements:
    """Time every implementation on this server (torch is imported here, only when asked)."""
    from lab.cost_of_attention.measure import measure

    def report(fraction: float) -> None:
        progress(fraction, "Timing exact attention and the approximations")

    return measure(
        PAGE_MEASURE_N_VALUES, budget_seconds=PAGE_MEASURE_BUDGET_SECONDS, progress=report
    )


def provenance(figures: Measurements, is_shipped: bool) -> str:
    machine, settings = figures.machine, figures.settings
    where = (
        f"**Shipped figures**, measured by `bench/attention_cost.py` on {machine.date[:10]}"
        if is_shipped
        else f"**Measured on this server** at {machine.date[:16].replace('T', ' ')} UTC"
    )
    return (
        f"{where} on {machine.machine} ({machine.cpu_count} CPUs), torch, BLAS and OpenMP "
        f"limited to {machine.threads} thread (on this server the lab runs torch on one "
        f"thread in the whole process); {settings.dtype}, d = {settings.d}, one head; each time is the "
        f"least of {settings.repeats} timed loops. Memory: for numpy, tracemalloc's peak of "
        "the array bytes allocated during one call; for both torch lines, the peak of live "
        "tensor bytes torch.profiler recorded during one call. Inputs made before the call "
        f"do not count, the output does. {machine.note}"
    )


def reading(figures: Measurements, quantity: MeasuredQuantity) -> str:
    """What the first chart says, in numbers taken from it."""
    n, fits = figures.n_values[-1], slopes(figures)
    values = {item: quantity.values(figures.series_for(item))[-1] for item in EXACT}
    if quantity is MeasuredQuantity.TIME:
        text = f"At n = {n}, numpy's exact attention took **{values[NUMPY]:.4g} ms**."
        growth = last_growth(figures, NUMPY, quantity)
        if growth:
            text += (
                f" From n = {growth.n_before} to {growth.n_after} its time grew "
                f"**×{growth.factor:.1f}**; pure n² growth gives ×{growth.quadratic_factor:.0f}."
            )
        if fits:
            text += (
                " On log-log axes a power law nᵖ is a straight line of slope p: the fits "
                f"(n ≥ {fits[NUMPY].seconds.n_min}) give p = {fits[NUMPY].seconds.slope:.2f} for numpy, "
                f"{fits[TORCH].seconds.slope:.2f} for explicit torch and "
                f"{fits[FUSED].seconds.slope:.2f} for the fused kernel."
            )
        return text
    itemsize = np.dtype(figures.settings.dtype).itemsize
    text = (
        f"At n = {n}, one n × n {figures.settings.dtype} matrix is "
        f"{itemsize * n * n / 1e6:.3g} MB (10⁶ bytes). numpy's peak is **{values[NUMPY]:.4g} MB** "
        f"({square_matrices(figures, NUMPY):.1f} such matrices), explicit torch's "
        f"{values[TORCH]:.4g} MB ({square_matrices(figures, TORCH):.1f}), the fused "
        f"kernel's {values[FUSED]:.4g} MB ({square_matrices(figures, FUSED):.2f})."
    )
    fused = fits.get(FUSED)
    if fused and fused.peak_bytes and "flash" in figures.machine.fused_kernel:
        text += (
            f" The fused call ran `{figures.machine.fused_kernel}`: its memory grows with "
            f"slope {fused.peak_bytes.slope:.2f} and its time with slope "
            f"{fused.seconds.slope:.2f}. A flash kernel walks through the keys in blocks and "
            "never holds the whole n × n matrix, but it still computes every score."
        )
    return text


@st.fragment
def measured_section(figures: Measurements | None, is_shipped: bool) -> None:
    """Section 1: its chart, what it says, where the figures come from, the measure button."""
    if figures is not None:
        chart_col, text_col = st.columns([1.15, 1], gap="medium")
        with text_col:
            quantity = ui.segmented(
                "Show",
                list(MeasuredQuantity),
                MeasuredQuantity.TIME,
                key="show",
            )
            st.markdown(reading(figures, quantity))
        with chart_col:
            draw(
                measured_chart,
                figures,
                EXACT,
                quantity,
                title=f"Exact attention: {quantity.label} against n",
                legend_on_top=True,
                width=350,
                height=175,
            )
        if len(figures.n_values) < 2:
            st.warning(
                f"The {figures.settings.budget_seconds:g} s budget allowed only n = "
                f"{figures.n_values[0]} on this server (the budget counts the server's other "
                "work too), so there is no slope to fit.",
                icon=":material/timer_off:",
            )
        st.caption(provenance(figures, is_shipped))
    if not runs.training_allowed():
        st.info(runs.TRAINING_OFF, icon=":material/info:")
        return
    measure_col, back_col = st.columns(2)
    with measure_col:
        pressed = st.button(
            "Measure on this server",
            key="measure",
            icon=":material/timer:",
            help=f"Times n = {', '.join(map(str, PAGE_MEASURE_N_VALUES))} within about "
            f"{PAGE_MEASURE_BUDGET_SECONDS:g} s, one measurement at a time on the whole "
            "server. The result is kept and shown to anyone else who presses the button.",
        )
    if not is_shipped:
        back_col.button(
            "Back to the shipped figures", key="back", on_click=runs.select, args=(SLUG, None)
        )
    if pressed:
        key = ("measure", PAGE_MEASURE_N_VALUES, PAGE_MEASURE_BUDGET_SECONDS)
        runs.train(SLUG, key, measure_here, label="Measuring attention on this server")
        runs.select(SLUG, key)
        st.rerun()


@st.fragment
def error_section(errors: ErrorStudy, r: int, c: int) -> None:
    """Section 2's charts: error against r and against C, in the measure chosen here."""
    measure = ui.segmented("Error measure", list(ErrorMeasure), ErrorMeasure.OUTPUT, key="error")
    st.markdown(
        r"The relative output error is $\lVert \hat O - O\rVert_F / \lVert O\rVert_F$, the "
        r"Frobenius norm taken over all n × d entries of the output $O$."
        if measure is ErrorMeasure.OUTPUT
        else r"$\mathrm{KL}(p \,\Vert\, q) = \sum_j p_j \log(p_j / q_j)$ compares each "
        "approximate row q with the exact row p, in nats, averaged over the n queries: the "
        "extra nats per key choice an approximate row costs when the exact row is the truth."
    )
    linear = errors.at(Method.LINEAR, measure)
    charts = (
        (errors.features, r, "Random features: error against r"),
        (errors.clusters, c, "Clustered attention: error against C"),
    )
    for column, (sweep, chosen, title) in zip(st.columns(2, gap="medium"), charts, strict=True):
        with column:
            draw(
                error_chart,
                sweep,
                measure,
                chosen=chosen,
                title=title,
                linear_error=linear,
                width=330,
            )
    last_seed = errors.seed + len(errors.features.seeds) - 1
    st.markdown(
        f"At seed {errors.seed} (the diamonds): random features with r = {r} "
        f"**{errors.at(Method.PERFORMER, measure, r):.3f}**, clustered attention with "
        f"C = {c} **{errors.at(Method.CLUSTERED, measure, c):.3f}**, linear attention "
        f"**{linear:.3f}** ({measure.label}). Lines are the mean over seeds {errors.seed} … "
        f"{last_seed} of the random directions or of k-means' starting centres; the band "
        "spans one sample standard deviation either side."
    )


@st.fragment
def weights_section(d: int, seed: int, magnitude: float, r: int, c: int) -> None:
    """Section 4: every method's weights for a few positions, on one colour scale."""
    with st.columns(2)[0]:
        size = ui.slider(
            "Positions shown",
            4,
            MAX_HEATMAP_N,
            CONFIG.heatmap_n,
            key="shown",
            help=f"At most {MAX_HEATMAP_N}: beyond that a cell is too small to read.",
        )
    small = example(size, d, seed, magnitude, r, c)
    if c >= size:
        st.info(
            f"C = {c} ≥ {size} queries: every query is its own cluster, so clustered "
            "attention equals exact attention here.",
            icon=":material/info:",
        )
    domain = (0.0, max(small.largest_weight, 1e-9))
    settings = {Method.PERFORMER: f"r = {r}", Method.CLUSTERED: f"C = {small.clusters_used}"}
    methods = list(small.results)
    for row in (methods[:2], methods[2:]):
        for column, method in zip(st.columns(2, gap="medium"), row, strict=True):
            with column:
                draw(
                    method_heatmap,
                    small.results[method],
                    small.labels,
                    setting=settings.get(method, ""),
                    domain=domain,
                    legend=method is methods[-1],
                    max_width=300,
                )
    st.caption(
        f"One colour scale for all four, from 0 to {domain[1]:.3f}, the largest weight in any "
        "of them. Each label is a position and its token kind (a letter); in "
        f"{small.own_kind_rows} of {size} rows exact attention's largest weight falls on a "
        "key of the query's own kind."
    )


ui.page_header(SLUG)
st.latex(
    r"\underbrace{\mathrm{softmax}\!\Big(\frac{QK^\top}{\sqrt d}\Big)V}_{O(n^2 d)\ \text{time},"
    r"\ O(n^2)\ \text{memory}}"
    r"\qquad\text{against}\qquad"
    r"\underbrace{\frac{\phi(Q)\,\big[\phi(K)^\top V\big]}{\phi(Q)\,\big[\phi(K)^\top"
    r"\mathbf{1}\big]}}_{O(n\,r\,d)}"
)

chosen_run = runs.selected(SLUG)
try:
    figures = chosen_run or shipped(str(SHIPPED_MEASUREMENTS))
except (OSError, ValueError) as problem:
    st.warning(
        f"The shipped measurements could not be read ({problem}). Measure on this server "
        "below, or re-run `bench/attention_cost.py`.",
        icon=":material/error:",
    )
    figures = None

st.header("1 · Exact attention, measured: n² in time and memory", anchor=False)
measured_section(figures, chosen_run is None)

st.header("2 · Two ways around it, and their error", anchor=False)
st.markdown(
    r"**Random features** (kernelised attention, as in the Performer) draw r random "
    r"directions, the rows of $W$, and map a vector to "
    r"$\phi(x) = \exp\big(Wx' - \lVert x'\rVert^2/2\big)/\sqrt{r}$ with $x' = x/d^{1/4}$. "
    r"Then $\phi(q)\cdot\phi(k)$ is an unbiased estimate of $\exp(q\cdot k/\sqrt{d})$, and "
    r"regrouping $(\phi(Q)\phi(K)^\top)V$ as $\phi(Q)\,(\phi(K)^\top V)$ builds an r × d "
    "summary once instead of n² scores. **Linear attention** regroups the same way with a "
    "fixed map, elu(x) + 1: it is cheap but estimates no softmax at all. **Clustered "
    "attention** groups the n queries into C clusters with k-means, runs exact attention "
    "once per cluster centre, and gives every query its centre's row of weights."
)
with st.container(border=True):
    n_col, d_col, a_col = st.columns(3, gap="medium")
    with n_col:
        n = ui.select_slider("Sequence length n", sweep_values(MAX_N)[3:], CONFIG.n, key="n")
    with d_col:
        d = ui.select_slider("Query/key size d", sweep_values(MAX_D), CONFIG.d, key="d")
    with a_col:
        magnitude = ui.select_slider(
            "Query/key scale a",
            MAGNITUDES,
            CONFIG.magnitude,
            key="a",
            help="Multiplies every query and key. Larger a: sharper attention, and a much "
            "noisier random-feature estimate.",
        )
    r_col, c_col, seed_col = st.columns(3, gap="medium")
    with r_col:
        r = ui.select_slider(
            "Random features r", sweep_values(MAX_FEATURES), CONFIG.num_features, key="r"
        )
    with c_col:
        c = ui.select_slider("Clusters C", sweep_values(MAX_CLUSTERS), CONFIG.num_clusters, key="C")
    with seed_col:
        seed = ui.seed(
            help="Draws the queries, keys and values, the random directions and k-means' "
            "starting centres."
        )
    st.caption(
        f"Caps, so that one visitor cannot stall a shared server: n ≤ {MAX_N} (every point "
        f"of the sweeps forms n × n weights), d ≤ {MAX_D}, r ≤ {MAX_FEATURES}, C ≤ "
        f"{MAX_CLUSTERS} (C ≥ n is exact), heatmaps ≤ {MAX_HEATMAP_N} positions; the server "
        f"measures n ≤ {PAGE_MEASURE_N_VALUES[-1]}. The queries come in "
        f"{min(CONFIG.kinds, n)} token kinds, each scattered around its own centre."
    )
if c > n:
    st.info(
        f"C = {c} is more than the n = {n} queries: every query is its own cluster and "
        "clustered attention is exact (no k-means runs).",
        icon=":material/info:",
    )
clusters = min(c, n)
errors = study(n, d, seed, magnitude)
error_section(errors, r, clusters)

st.header("3 · When does an approximation pay off?", anchor=False)
counted_col, timed_col = st.columns(2, gap="medium")
with counted_col:
    draw(
        cost_model_chart,
        COUNTED_N,
        d,
        num_features=r,
        num_clusters=clusters,
        title="Counted: multiply-adds against n",
        width=330,
    )
if figures is not None:
    with timed_col:
        draw(
            measured_chart,
            figures,
            VERSUS,
            MeasuredQuantity.TIME,
            title="Measured: time against n",
            subtitle=f"d = {figures.settings.d}, r = {figures.settings.num_features}, "
            f"C = {figures.settings.num_clusters}",
            reference_power=None,
            mark_crossovers=True,
            width=330,
        )
model_n = crossover_length(Method.PERFORMER, d, num_features=r, num_clusters=clusters)
st.markdown(
    f"**Counting** (left, at section 2's d, r and C): random features need fewer "
    f"multiply-adds than exact attention once 2n²d > 4nrd + 2nr, that is n > 2r + r/d: "
    f"from n = **{model_n}** here. Linear attention needs n > d + 1: from n = "
    f"{crossover_length(Method.LINEAR, d, num_features=r, num_clusters=clusters)}. Below those "
    "lengths, computing the features takes more multiply-adds than the n² scores they "
    "replace."
)
if figures is not None:
    settings, largest = figures.settings, figures.n_values[-1]
    places = {
        CrossoverPlace.BELOW_RANGE: "at every measured n",
        CrossoverPlace.ABOVE_RANGE: f"not yet at n = {largest}",
    }
    wins = [
        f"{item.label} {places.get(crossover.place) or f'from n ≈ {crossover.n:.0f}'}"
        for item, crossover in measured_crossovers(figures).items()
    ]
    counted = crossover_length(
        Method.PERFORMER,
        settings.d,
        num_features=settings.num_features,
        num_clusters=settings.num_clusters,
    )
    exact_ms, random_ms = (
        figures.series_for(item).seconds[-1] * 1e3 for item in (NUMPY, Implementation.PERFORMER)
    )
    st.markdown(
        f"**Measuring** (right, d = {settings.d}, r = {settings.num_features}, C = "
        f"{settings.num_clusters}), faster than numpy's exact attention: "
        + "; ".join(wins)
        + f". At n = {largest} exact attention took {exact_ms:.3g} ms and random features "
        f"{random_ms:.3g} ms, ×{speedup(figures, Implementation.PERFORMER):.1f} faster. "
        f"Counting says random features win from n = {counted} at these settings; the count "
        "leaves out the exponentials, memory traffic and Python's work per call."
    )

st.header("4 · The weights themselves, for a few positions", anchor=False)
weights_section(d, seed, magnitude, r, c)

ui.page_end(
    SLUG,
    notice=[
        "Exact attention does 2n²d multiply-adds: on log-log axes its time is a line of "
        "slope about 2, and so is the memory of every version that holds the n × n "
        "weights. A fused flash kernel avoids holding them, not computing them.",
        "Random features' error shrinks slowly as r grows (each estimate's spread falls "
        "like 1/√r) and grows fast with the scale a of queries and keys.",
        "Clustered attention is exact once C reaches the number of distinct queries, and "
        "close to exact once C matches the groups the queries form.",
        "For fixed r and C the approximations cost O(n), so past some length they win: "
        "count the multiply-adds for a first estimate, and time them for the real one.",
    ],
    exercises=page_exercises(figures, errors, num_features=r, num_clusters=clusters),
)
