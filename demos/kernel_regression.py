"""Kernel regression as attention: Nadaraya–Watson with a bandwidth slider."""

import numpy as np
import pandas as pd
import streamlit as st

from app import runs, ui
from app.charts import draw
from lab.kernel_regression import (
    DataConfig,
    ErrorCurves,
    Kernel,
    LearningRuns,
    NadarayaWatsonResult,
    RegressionData,
    TrainingConfig,
    TrueFunction,
    bandwidth_grid,
    contributions,
    effective_neighbours,
    error_curves,
    format_bandwidth,
    format_error,
    load_learning_runs,
    make_data,
    nadaraya_watson,
    nearest_bandwidth,
    page_exercises,
    prose,
    refined_best_bandwidth,
)
from lab.kernel_regression import charts as kc

SLUG = "kernel_regression"
GRID = tuple(float(f"{h:.6g}") for h in bandwidth_grid())  # slider: 61 values, 0.01 to 10
DEFAULT_DATA = DataConfig()
DEFAULT_TRAINING = TrainingConfig()
LEARNING_RATES = (0.01, 0.02, 0.05, 0.1, 0.2)
STEP_CHOICES = (50, 100, 200, 400)


def on_grid(bandwidth: float) -> float:
    """The slider value closest to ``bandwidth`` on a log scale."""
    return nearest_bandwidth(GRID, bandwidth)


def set_bandwidth(bandwidth: float) -> None:
    """Button callback: move the bandwidth slider before the page reruns."""
    st.session_state["h"] = on_grid(bandwidth)


# Cached across sessions, keyed by plain values: the data's settings (a frozen dataclass of
# numbers and a name), the kernel's name, the bandwidth and the query.
@st.cache_data(max_entries=64, show_spinner=False)
def dataset(config: DataConfig) -> RegressionData:
    return make_data(config)


@st.cache_data(max_entries=512, show_spinner=False)
def fit(
    config: DataConfig, kernel: str, bandwidth: float, query_x: float | None = None
) -> NadarayaWatsonResult:
    """The estimate at the page's queries, or at one query ``query_x``."""
    data = dataset(config)
    queries = data.x_query if query_x is None else [query_x]
    return nadaraya_watson(data.x_train, data.y_train, queries, kernel=kernel, bandwidth=bandwidth)


@st.cache_data(max_entries=64, show_spinner=False)
def curves(config: DataConfig, kernel: str) -> ErrorCurves:
    data = dataset(config)
    return error_curves(
        data.x_train, data.y_train, GRID, kernel=kernel, x_test=data.x_query, y_test=data.y_test
    )


@st.cache_data(max_entries=64, show_spinner=False)
def closed_form_optimum(config: DataConfig) -> float | None:
    """The gaussian leave-one-out optimum, refined on a fine grid (what learning should find)."""
    data = dataset(config)
    return refined_best_bandwidth(data.x_train, data.y_train, GRID)


@st.cache_resource(show_spinner=False)
def shipped_runs() -> LearningRuns:
    return load_learning_runs()


@st.cache_data(max_entries=128, show_spinner=False)
def exercise_list(
    config: DataConfig, kernel: str, training: TrainingConfig | None, _runs: LearningRuns | None
):
    # ``training`` keys the cache for the run shown (a run is a pure function of its settings).
    return page_exercises(config, kernel, GRID, _runs)


def learn(config: DataConfig, training: TrainingConfig, progress) -> LearningRuns:
    """Train both runs; torch is imported here only, when a learner asks for it."""
    progress(0.0, "Importing torch …")
    from lab.kernel_regression.train import learn_both

    return learn_both(config, training, progress)


def shown_runs(config: DataConfig) -> LearningRuns | None:
    """The run this session chose for these data, else the shipped one if it fits them."""
    chosen = runs.selected(SLUG)
    if chosen is not None and chosen.data == config:
        return chosen
    shipped = shipped_runs()
    return shipped if shipped.data == config else None


ui.page_header(SLUG)
with st.container(border=True):
    kernel_col, bandwidth_col = st.columns([5, 3], gap="large")
    with kernel_col:
        kernel = ui.segmented(
            "Kernel K",
            list(Kernel),
            Kernel.GAUSSIAN,
            key="kernel",
            help=prose.KERNEL_HELP,
        )
    with bandwidth_col:
        bandwidth = ui.select_slider(
            "Bandwidth h (log scale)",
            GRID,
            on_grid(0.25),
            key="h",
            format_func=format_bandwidth,
            help="How far a query looks. Small h: only the nearest keys count. Large h: all do.",
        )
fit_col, idea_col = st.columns([3, 2], gap="large")
with idea_col:
    st.latex(prose.EQUATION)
    st.markdown(prose.IDEA)
    with st.expander("Data: true function, number of points, noise, seed"):
        function = ui.segmented(
            "True function",
            list(TrueFunction),
            DEFAULT_DATA.function,
            key="function",
            format_func=lambda item: item.value,
        )
        left, right = st.columns(2)
        with left:
            n_train = ui.slider("Training points S", 5, 100, DEFAULT_DATA.n_train, key="n", step=5)
            seed = ui.seed(help="Draws the training inputs and both noise samples.")
        with right:
            noise = ui.slider(
                "Noise σ",
                0.0,
                2.0,
                DEFAULT_DATA.noise,
                key="noise",
                step=0.05,
                help="Standard deviation of the gaussian noise added to every target.",
            )
        st.caption(
            f"Training inputs uniform on [0, {DEFAULT_DATA.x_max:g}], targets "
            f"y = {function.label} + noise; L = {DEFAULT_DATA.n_query} evenly spaced test "
            "queries, whose own noisy targets give the test error."
        )

kernel = Kernel(kernel)
config = DataConfig(n_train=int(n_train), noise=float(noise), seed=int(seed), function=function)
data = dataset(config)
result = fit(config, kernel.value, bandwidth)
error_grid = curves(config, kernel.value)
h_text = format_bandwidth(bandwidth)
L, S = data.x_query.size, data.x_train.size

with fit_col:
    draw(
        kc.fit_chart,
        data.x_train,
        data.y_train,
        data.x_query,
        result.estimate,
        data.truth,
        title=f"{kernel.label} kernel, h = {h_text}: {function.label}",
        height=230,
        width="stretch",
    )
    st.caption(
        f"Blue: the S = {S} training points (keys → values). Orange: the estimate at the "
        f"L = {L} queries. Move **h** and watch it smooth out or wiggle."
    )
if result.empty_indices:
    st.warning(
        prose.empty_windows(result.empty_indices, data.x_query, kernel, bandwidth),
        icon=":material/block:",
    )

st.header("1 · The weights: a kernel of the distance", anchor=False)
neighbours = effective_neighbours(result.weights)
neighbours = neighbours[~np.isnan(neighbours)]
train_error, loo_error, test_error = error_grid.at(bandwidth)
kernel_chart_col, metrics_col = st.columns(2, gap="large")
with kernel_chart_col:
    draw(kc.kernel_chart, kernel, bandwidth, spacing=data.typical_gap, width="stretch")
    d2l = f" {prose.TRIANGULAR_NOTE}" if kernel in (Kernel.TRIANGULAR, Kernel.EPANECHNIKOV) else ""
    st.caption(f"$K(u) = {kernel.formula}$, $u = (x - x_i)/h$.{d2l}")
with metrics_col:
    top_left, top_right = st.columns(2)
    bottom_left, bottom_right = st.columns(2)
    top_left.metric(
        "Effective number of keys",
        f"{neighbours.mean():.1f}" if neighbours.size else "none",
        help=prose.EFFECTIVE_KEYS_HELP + f" Here S = {S}.",
    )
    top_right.metric("Training error", format_error(train_error))
    bottom_left.metric("Leave-one-out error", format_error(loo_error))
    bottom_right.metric("Test error", format_error(test_error))
    st.caption(prose.ERRORS_NOTE)
    note = prose.narrow_note(kernel, bandwidth, data.typical_gap, result.weights)
    if note:
        st.caption(note)

st.header("2 · The attention matrix: queries against keys", anchor=False)
heat_col, text_col = st.columns([3, 2], gap="large")
with heat_col:
    draw(
        kc.attention_heatmap,
        result.weights,
        data.x_query,
        data.x_train,
        title=f"Attention weights α(x, xᵢ), h = {h_text}",
        size=370,
    )
with text_col:
    st.markdown(prose.MATRIX)
    st.dataframe(pd.DataFrame(prose.DICTIONARY), hide_index=True)


@st.fragment
def query_up_close(config: DataConfig, kernel: Kernel, bandwidth: float) -> None:
    """One query's weights and weighted average; reruns alone when the query moves."""
    data = dataset(config)
    query_x = ui.slider(
        "Query x",
        0.0,
        float(config.x_max),
        2.5,
        key="query",
        step=0.05,
        help="Any x is a query: its weights come from its distances to the training inputs.",
    )
    one = fit(config, kernel.value, bandwidth, query_x)
    weights, estimate = one.weights[0], float(one.estimate[0])
    domain = (0.0, float(config.x_max))
    chart_col, table_col = st.columns([3, 2], gap="large")
    with chart_col:
        draw(
            kc.query_weights_chart, data.x_train, weights, query_x, x_domain=domain, width="stretch"
        )
        draw(
            kc.weighted_targets_chart,
            data.x_train,
            data.y_train,
            weights,
            query_x,
            estimate,
            x_domain=domain,
            width="stretch",
        )
    with table_col:
        if one.empty[0]:
            st.warning(
                f"No training point lies within h = {format_bandwidth(bandwidth)} of x = "
                f"{query_x:.2f}, so every weight is 0 and this query has no estimate. "
                "Move the query or widen the bandwidth.",
                icon=":material/block:",
            )
            return
        top = [item for item in contributions(weights, data.y_train, top=8) if item[1] > 0]
        table = pd.DataFrame(
            {
                "key xᵢ": [data.x_train[j] for j, _, _ in top],
                "value yᵢ": [data.y_train[j] for j, _, _ in top],
                "weight αᵢ": [weight for _, weight, _ in top],
                "αᵢ · yᵢ": [part for _, _, part in top],
            }
        )
        st.markdown(f"The {len(top)} key{'s' * (len(top) != 1)} with the most weight:")
        number = st.column_config.NumberColumn(format="%.3f")
        st.dataframe(table, hide_index=True, column_config=dict.fromkeys(table, number))
        st.markdown(
            prose.query_summary(
                shown=sum(weight for _, weight, _ in top),
                top=len(top),
                used=float(effective_neighbours(one.weights)[0]),
                keys=len(weights),
                estimate=estimate,
                truth=float(data.true_function([query_x])[0]),
            )
        )


st.header("3 · One query up close", anchor=False)
query_up_close(config, kernel, bandwidth)

st.header("4 · Choosing the bandwidth: too sharp overfits", anchor=False)
best = error_grid.best_bandwidth
error_col, advice_col = st.columns([3, 2], gap="large")
with error_col:
    draw(kc.error_chart, error_grid, bandwidth, noise_variance=config.noise**2, width="stretch")
with advice_col:
    st.markdown(prose.LEAVE_ONE_OUT)
    if best is None:
        st.info(
            "With the constant kernel the bandwidth changes nothing: every curve is flat."
            if kernel is Kernel.CONSTANT
            else "The leave-one-out error is undefined at every bandwidth here.",
            icon=":material/info:",
        )
    else:
        found = prose.optima(error_grid)
        if found:
            st.markdown(found)
        st.button(
            f"Use the leave-one-out optimum, h = {format_bandwidth(best)}",
            key="use_loo",
            on_click=set_bandwidth,
            args=(best,),
            type="primary",
            disabled=best == bandwidth,
            icon=":material/target:",
        )
    undefined = np.isnan(error_grid.loo)
    if undefined.any() and not undefined.all():
        last = float(np.asarray(GRID)[undefined].max())
        st.caption(
            f"At h ≤ {format_bandwidth(last)} some training point has no other point inside its "
            f"{kernel.label} window, so leave-one-out error is undefined there and the curve stops."
        )


@st.fragment
def learning(config: DataConfig) -> None:
    """Learn h by gradient descent; its controls rerun only this part of the page."""
    st.markdown(prose.LEARNING)
    st.latex(prose.LOSSES)
    start_col, rate_col, steps_col, button_col = st.columns([2.5, 2, 2, 3], gap="medium")
    with start_col:
        start = ui.select_slider(
            "Start from h",
            GRID,
            on_grid(DEFAULT_TRAINING.initial_bandwidth),
            key="start",
            format_func=format_bandwidth,
        )
    with rate_col:
        rate = ui.select_slider(
            "Learning rate", LEARNING_RATES, DEFAULT_TRAINING.learning_rate, key="rate"
        )
    with steps_col:
        steps = ui.select_slider("Steps", STEP_CHOICES, DEFAULT_TRAINING.steps, key="steps")
    training = TrainingConfig(initial_bandwidth=start, learning_rate=rate, steps=steps)
    with button_col:
        if runs.training_allowed():
            st.write("")  # line the button up with the sliders
            pressed = st.button(
                "Learn the bandwidth",
                key="learn",
                type="primary",
                icon=":material/model_training:",
                help="Trains both runs on the current data with these settings (a few seconds).",
            )
        else:
            st.info(runs.TRAINING_OFF, icon=":material/block:")
            pressed = False
    if pressed:
        runs.select(SLUG, (config, training))
        runs.train(
            SLUG,
            (config, training),
            lambda progress: learn(config, training, progress),
            label="Learning the bandwidth",
        )
        st.rerun(scope="app")  # the exercises at the bottom follow the new run
    shown = shown_runs(config)
    if shown is None:
        st.info(
            "No run yet for these data. Press **Learn the bandwidth** to train on them "
            "(a few seconds; the result is then kept for everyone).",
            icon=":material/model_training:",
        )
        return
    optimum = closed_form_optimum(config)
    draw(kc.learning_curves_chart, shown.curves, closed_form_best=optimum)
    summary_col, use_col = st.columns([3, 2], gap="large")
    with summary_col:
        st.markdown(prose.learning_summary(shown, optimum))
        st.markdown(prose.COLLAPSE)
    with use_col:
        learned = shown.loo.final_bandwidth
        if st.button(
            f"Use the learned bandwidth (≈ {format_bandwidth(on_grid(learned))})",
            key="use_learned",
            on_click=set_bandwidth,
            args=(learned,),
            icon=":material/input:",
        ):
            st.rerun(scope="app")
        run = shown.training
        saved = (
            " (saved with the lab, so the page opens at once)" if shown is shipped_runs() else ""
        )
        st.caption(
            f"Run shown: start h = {format_bandwidth(run.initial_bandwidth)}, learning rate "
            f"{run.learning_rate:g}, {run.steps} steps{saved}."
        )


with st.expander("5 · Learn the bandwidth by gradient descent (torch)"):
    learning(config)

shown = shown_runs(config)
training_shown = None if shown is None else shown.training
ui.page_end(
    SLUG,
    notice=prose.what_to_notice(kernel, error_grid),
    exercises=exercise_list(config, kernel.value, training_shown, shown),
)
