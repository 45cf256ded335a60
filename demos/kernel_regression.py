"""Kernel regression as attention: Nadaraya–Watson with a bandwidth slider."""

from collections import OrderedDict

import numpy as np
import pandas as pd
import streamlit as st

from app_ui import notes, page_header
from app_ui import show_chart as show
from lab import kernel_regression as kr
from lab import kernel_regression_charts as krc

GRID = tuple(float(f"{h:.6g}") for h in kr.bandwidth_grid())  # slider: 61 values, 0.01 to 10
DEFAULT_DATA = kr.DataConfig()
DEFAULT_TRAINING = kr.TrainingConfig()
LEARNING_RATES = (0.01, 0.02, 0.05, 0.1, 0.2)
STEP_CHOICES = (50, 100, 200, 400)
MAX_STORED_RUNS = 64  # learned-bandwidth runs kept for everyone (a few kB each)
FUNCTION_NAMES = tuple(kr.TRUE_FUNCTIONS)
KERNEL_NAMES = tuple(kr.KERNELS)


def nearest_on_grid(bandwidth: float) -> float:
    """The slider value closest to ``bandwidth`` on a log scale."""
    return kr.nearest_bandwidth(GRID, bandwidth)


DEFAULT_BANDWIDTH = nearest_on_grid(0.25)
DEFAULTS = {
    "kr_kernel": "gaussian",
    "kr_bandwidth": DEFAULT_BANDWIDTH,
    "kr_function": DEFAULT_DATA.function,
    "kr_n_train": DEFAULT_DATA.n_train,
    "kr_noise": DEFAULT_DATA.noise,
    "kr_seed": DEFAULT_DATA.seed,
    "kr_query": 2.5,
    "kr_learn_start": nearest_on_grid(DEFAULT_TRAINING.initial_bandwidth),
    "kr_learn_rate": DEFAULT_TRAINING.learning_rate,
    "kr_learn_steps": DEFAULT_TRAINING.steps,
}
for widget_key, default in DEFAULTS.items():
    # Defaults live in session state (not in value=), so buttons may move the sliders.
    st.session_state.setdefault(widget_key, default)


def set_bandwidth(bandwidth: float) -> None:
    """Button callback: move the bandwidth slider before the page reruns."""
    st.session_state["kr_bandwidth"] = nearest_on_grid(bandwidth)


def show_wide(chart) -> None:
    """Draw a chart across its column, keeping the height it asks for."""
    show(krc.fit_width(chart), width="stretch")


def show_bandwidth(bandwidth: float) -> str:
    return krc.format_bandwidth(bandwidth)


def show_error(value: float) -> str:
    return "—" if np.isnan(value) else f"{value:.3f}"


@st.cache_data(max_entries=64, show_spinner=False)
def dataset(config: kr.DataConfig) -> kr.RegressionData:
    return kr.make_data(config)


@st.cache_data(max_entries=256, show_spinner=False)
def fit(config: kr.DataConfig, kernel: str, bandwidth: float) -> kr.NadarayaWatsonResult:
    data = dataset(config)
    return kr.nadaraya_watson(
        data.x_train, data.y_train, data.x_query, kernel=kernel, bandwidth=bandwidth
    )


@st.cache_data(max_entries=256, show_spinner=False)
def training_fit(config: kr.DataConfig, kernel: str, bandwidth: float) -> float:
    data = dataset(config)
    result = kr.nadaraya_watson(
        data.x_train, data.y_train, data.x_train, kernel=kernel, bandwidth=bandwidth
    )
    return kr.mean_squared_error(result.estimate, data.y_train)


@st.cache_data(max_entries=64, show_spinner=False)
def curves(config: kr.DataConfig, kernel: str) -> kr.ErrorCurves:
    data = dataset(config)
    return kr.error_curves(
        data.x_train, data.y_train, GRID, kernel=kernel, x_test=data.x_query, y_test=data.y_test
    )


@st.cache_data(max_entries=64, show_spinner=False)
def fine_loo_optimum(config: kr.DataConfig) -> float | None:
    """The gaussian leave-one-out optimum on a fine grid (100 steps per decade)."""
    data = dataset(config)
    return kr.best_bandwidth(data.x_train, data.y_train, kr.bandwidth_grid(1e-3, 10.0, 100))


@st.cache_resource
def learned_runs() -> OrderedDict:
    """Learned-bandwidth runs for everyone, keyed by (data, training) settings.

    Seeded with the shipped run on the default data, so the first view needs
    no torch and no training.
    """
    data_config, training, saved = kr.load_learning_curves()
    return OrderedDict({(data_config, training): saved})


def train_with_progress(config: kr.DataConfig, training: kr.TrainingConfig) -> dict:
    from lab.learned_bandwidth import learn_both  # torch is imported only when training

    bar = st.progress(0.0, text="Importing torch …")
    data = dataset(config)

    def report(done: int, total: int) -> None:
        if done % 10 == 0 or done == total:
            run = "plain training loss" if done <= total // 2 else "leave-one-out loss"
            bar.progress(done / total, text=f"Training on the {run}: step {done} of {total}")

    runs = learn_both(data.x_train, data.y_train, config=training, progress=report)
    bar.empty()
    store = learned_runs()
    store[(config, training)] = runs
    while len(store) > MAX_STORED_RUNS:
        store.popitem(last=False)
    return runs


page_header("kernel_regression")
st.latex(
    r"\begin{gathered}"
    r"\hat f(x) = \sum_{i=1}^{n} \alpha(x, x_i)\, y_i, \qquad "
    r"\alpha(x, x_i) = \frac{K\!\left(\frac{x - x_i}{h}\right)}"
    r"{\sum_j K\!\left(\frac{x - x_j}{h}\right)} \\[4pt]"
    r"\text{Gaussian } K(u) = e^{-u^2/2}:\quad \alpha(x, x_i) = "
    r"\mathrm{softmax}_i\!\left(-\frac{(x - x_i)^2}{2h^2}\right)"
    r"\end{gathered}"
)
st.markdown(
    "Attention is a soft dictionary lookup, and this is the oldest example of it. The "
    "**query** is a test input *x*, the **keys** are the training inputs *xᵢ*, the **values** "
    "are their targets *yᵢ*. The similarity is fixed (a kernel of the distance), and the "
    "**bandwidth h** decides how sharp the lookup is."
)

with st.container(border=True):
    kernel_col, bandwidth_col = st.columns([2, 3], gap="large")
    with kernel_col:
        kernel = st.selectbox(
            "Kernel K",
            KERNEL_NAMES,
            format_func=lambda name: kr.KERNELS[name].label,
            key="kr_kernel",
            help="Gaussian weights never vanish; boxcar, Epanechnikov and triangular ones are "
            "zero outside the window |x − xᵢ| < h; the constant kernel weighs every key the same.",
        )
    with bandwidth_col:
        bandwidth = st.select_slider(
            "Bandwidth h (log scale)",
            GRID,
            format_func=show_bandwidth,
            key="kr_bandwidth",
            help="How far a query looks. Small h: only the nearest keys count. Large h: all do.",
        )
    with st.expander("Data: true function, number of points, noise, seed"):
        columns = st.columns(4, gap="medium")
        with columns[0]:
            function = st.selectbox(
                "True function",
                FUNCTION_NAMES,
                format_func=lambda name: kr.TRUE_FUNCTIONS[name].label,
                key="kr_function",
            )
        with columns[1]:
            n_train = st.slider(
                "Training points",
                5,
                100,
                step=5,
                key="kr_n_train",
                help="Drawn uniformly on [0, 5] and sorted.",
            )
        with columns[2]:
            noise = st.slider(
                "Noise σ", 0.0, 2.0, step=0.05, key="kr_noise", help="Gaussian noise on targets."
            )
        with columns[3]:
            seed = st.number_input("Seed", 0, 9999, step=1, key="kr_seed")
        st.caption(
            f"Training inputs uniform on [0, 5], targets y = "
            f"{kr.TRUE_FUNCTIONS[function].label} + noise; {DEFAULT_DATA.n_query} evenly spaced "
            "test queries, whose held-out noisy targets give the test error."
        )

config = kr.DataConfig(n_train=int(n_train), noise=float(noise), seed=int(seed), function=function)
data = dataset(config)
spec = kr.KERNELS[kernel]
result = fit(config, kernel, bandwidth)
error_grid = curves(config, kernel)
spacing = data.typical_gap

# --- 1. The fit -------------------------------------------------------------------------
st.header("1 · The estimate: a weighted average of the targets", anchor=False)
st.markdown(
    "The blue points are the dictionary: each key xᵢ sits on the x axis, its value yᵢ above "
    f"it. The orange line is the lookup at {len(data.x_query)} query points: at each one, "
    "the weighted average of all the values."
)
show_wide(
    krc.fit_chart(
        data.x_train,
        data.y_train,
        data.x_query,
        result.estimate,
        data.truth,
        title=f"{spec.label} kernel, h = {show_bandwidth(bandwidth)}: "
        f"{kr.TRUE_FUNCTIONS[function].label}",
    )
)
empty = result.empty_indices
if empty:
    where = ", ".join(f"{data.x_query[index]:.2f}" for index in empty[:10])
    more = f" and {len(empty) - 10} more" if len(empty) > 10 else ""
    st.warning(
        f"{len(empty)} of {len(data.x_query)} queries have **no training point within "
        f"h = {show_bandwidth(bandwidth)}** (x = {where}{more}). With the {spec.label} kernel "
        "every weight there is zero, so the average 0 / 0 is undefined: these queries get no "
        "estimate (red ticks on the x axis, grey rows in the heatmap). Widen the bandwidth, "
        "or use the gaussian kernel, whose weights never vanish.",
        icon=":material/block:",
    )

neighbours = kr.effective_neighbours(result.weights)
defined_neighbours = neighbours[~np.isnan(neighbours)]
position = GRID.index(bandwidth)
kernel_chart_col, metrics_col = st.columns(2, gap="large")
with kernel_chart_col:
    show_wide(krc.kernel_chart(kernel, bandwidth, spacing=spacing))
with metrics_col:
    top_left, top_right = st.columns(2)
    bottom_left, bottom_right = st.columns(2)
    top_left.metric(
        "Keys per query",
        f"{defined_neighbours.mean():.1f}" if defined_neighbours.size else "none",
        help="1 / Σ αᵢ², averaged over the queries: 1 for a nearest-neighbour lookup, "
        f"{n_train} when every key weighs the same.",
    )
    top_right.metric(
        "Training error",
        show_error(error_grid.train[position]),
        help="Mean squared error on the training points themselves, each one in its own "
        "dictionary.",
    )
    bottom_left.metric(
        "Leave-one-out",
        show_error(error_grid.loo[position]),
        help="Each training point predicted from the others only. Undefined when some point "
        "has no neighbour inside its window.",
    )
    bottom_right.metric(
        "Test error",
        show_error(error_grid.test[position]),
        help=f"On the {len(data.x_query)} queries, against fresh noisy targets. Undefined "
        "when some query has an empty window.",
    )
    undefined = [
        name
        for name, value in (
            ("leave-one-out", error_grid.loo[position]),
            ("test", error_grid.test[position]),
        )
        if np.isnan(value)
    ]
    if undefined:
        st.caption(
            f"— : the {' and '.join(undefined)} "
            f"{'errors are' if len(undefined) > 1 else 'error is'} undefined here: some point "
            "has no key inside its window."
        )
    narrow = bandwidth < spacing
    if kernel == "constant":
        st.caption("The constant kernel ignores h: every query gets the mean of all targets.")
    elif spec.compact:
        st.caption(
            f"Zero outside the window |x − xᵢ| < h = {show_bandwidth(bandwidth)}."
            + (
                f" That is narrower than the typical gap between keys ({spacing:.2f}): many "
                "windows hold no key at all."
                if narrow
                else ""
            )
        )
    else:
        st.caption(
            "The gaussian never reaches zero: every key keeps a little weight."
            + (
                f" With h below the typical gap between keys ({spacing:.2f}), the nearest key "
                "takes almost all of it."
                if narrow
                else ""
            )
        )

# --- 2. The attention matrix ---------------------------------------------------------------
st.header("2 · The attention matrix: queries against keys", anchor=False)
heat_col, text_col = st.columns([3, 2], gap="large")
with heat_col:
    show(
        krc.attention_heatmap(
            result.weights,
            data.x_query,
            data.x_train,
            title=f"Attention weights α(x, xᵢ), h = {show_bandwidth(bandwidth)}",
            size=370,
        )
    )
with text_col:
    st.markdown(
        "Each **row** is one test query, each **column** one training key, sorted by x. A row "
        "holds that query's weights; they sum to 1, and its estimate is the row times the "
        "targets.\n\n"
        "Because queries and keys are both sorted, nearby pairs sit on the **diagonal**. Shrink "
        "h and the band narrows: each query copies its nearest keys and their noise. Widen it "
        "and the band smears into flat rows: every query gets nearly the global mean."
    )
    st.dataframe(
        pd.DataFrame(
            {
                "attention": ["query", "keys", "values", "score", "weights"],
                "kernel regression": [
                    "test input x",
                    "training inputs xᵢ",
                    "training targets yᵢ",
                    "log K((x − xᵢ)/h), fixed",
                    "softmax of the scores",
                ],
            }
        ),
        hide_index=True,
    )


# --- 3. One query up close ----------------------------------------------------------------
@st.fragment
def query_up_close(config: kr.DataConfig, kernel: str, bandwidth: float) -> None:
    """One query's weights and weighted average; reruns alone when the query moves."""
    data = dataset(config)
    query_x = st.slider(
        "Query x",
        0.0,
        float(config.x_max),
        step=0.05,
        key="kr_query",
        help="Any x is a query: its weights come from its distances to the training inputs.",
    )
    one = kr.nadaraya_watson(
        data.x_train, data.y_train, [query_x], kernel=kernel, bandwidth=bandwidth
    )
    weights, estimate = one.weights[0], float(one.estimate[0])
    domain = (0.0, float(config.x_max))
    chart_col, table_col = st.columns([3, 2], gap="large")
    with chart_col:
        show_wide(krc.query_weights_chart(data.x_train, weights, query_x, x_domain=domain))
        show_wide(
            krc.weighted_targets_chart(
                data.x_train, data.y_train, weights, query_x, estimate, x_domain=domain
            )
        )
    with table_col:
        if one.empty[0]:
            st.warning(
                f"No training point lies within h = {show_bandwidth(bandwidth)} of x = "
                f"{query_x:.2f}, so every weight is 0 and this query has no estimate. "
                "Move the query or widen the bandwidth.",
                icon=":material/block:",
            )
            return
        top = kr.contributions(weights, data.y_train, top=8)
        table = pd.DataFrame(
            [
                {
                    "key xᵢ": data.x_train[j],
                    "value yᵢ": data.y_train[j],
                    "weight αᵢ": weight,
                    "αᵢ · yᵢ": part,
                }
                for j, weight, part in top
            ]
        )
        st.markdown(f"The {len(top)} keys with the most weight:")
        st.dataframe(
            table,
            hide_index=True,
            column_config={
                name: st.column_config.NumberColumn(format="%.3f") for name in table.columns
            },
        )
        shown = sum(weight for _, weight, _ in top)
        used = kr.effective_neighbours(one.weights)[0]
        truth = float(data.true_function([query_x])[0])
        st.markdown(
            f"These {len(top)} keys carry **{shown:.1%}** of the weight; in effect the query "
            f"averages about **{used:.1f}** keys. Adding up αᵢ · yᵢ over all "
            f"{len(weights)} keys gives the estimate **{estimate:.3f}** (true value "
            f"{truth:.3f})."
        )


st.header("3 · One query up close", anchor=False)
query_up_close(config, kernel, bandwidth)

# --- 4. Choosing the bandwidth --------------------------------------------------------------
st.header("4 · Choosing the bandwidth: too sharp overfits", anchor=False)
error_col, advice_col = st.columns([3, 2], gap="large")
with error_col:
    show_wide(krc.error_chart(error_grid, bandwidth, noise_variance=noise**2))
with advice_col:
    st.markdown(
        "The **training error** falls to 0 as h shrinks: each training point ends up "
        "attending only to itself and returns its own noisy target. That says nothing about "
        "new inputs. **Leave-one-out** asks each point to be predicted by the others, "
        "and costs nothing extra: take the training weight matrix, zero its diagonal and "
        "renormalise each row. It tracks the **test error** without needing a test set."
    )
    best = error_grid.best_bandwidth
    if best is None:
        st.info(
            "With the constant kernel the bandwidth changes nothing: every curve is flat."
            if kernel == "constant"
            else "The leave-one-out error is undefined at every bandwidth here.",
            icon=":material/info:",
        )
    else:
        st.button(
            f"Use the leave-one-out optimum, h = {show_bandwidth(best)}",
            key="kr_use_loo",
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
            f"Below h ≈ {show_bandwidth(last)} some training point has no other point inside "
            f"its {spec.label} window, so leave-one-out error is undefined there and the "
            "curve stops."
        )

# --- 5. Learning the bandwidth ---------------------------------------------------------------
st.header("5 · Learn the bandwidth by gradient descent", anchor=False)
st.markdown(
    "Make h a parameter (strictly, log h, so it stays positive) and train it with Adam in "
    "torch, like any attention weight. The model is the gaussian one whatever kernel you "
    "chose above: a boxcar's weights do not change when h moves a little, so its gradient is "
    "zero. Two runs start from the same h, with two losses:"
)
st.latex(
    r"\underbrace{\tfrac1n\sum_i \big(y_i - \hat f(x_i)\big)^2}_{\text{plain: } x_i"
    r"\text{ may look itself up}}"
    r"\qquad\text{vs.}\qquad"
    r"\underbrace{\tfrac1n\sum_i \big(y_i - \hat f_{-i}(x_i)\big)^2}_{\text{leave-one-out: "
    r"its own key is masked}}"
)
with st.container(border=True):
    start_col, rate_col, steps_col, button_col = st.columns([2.5, 2, 2, 3], gap="medium")
    with start_col:
        start = st.select_slider(
            "Start from h", GRID, format_func=show_bandwidth, key="kr_learn_start"
        )
    with rate_col:
        rate = st.select_slider("Learning rate", LEARNING_RATES, key="kr_learn_rate")
    with steps_col:
        steps = st.select_slider("Steps", STEP_CHOICES, key="kr_learn_steps")
    training = kr.TrainingConfig(
        initial_bandwidth=float(start), learning_rate=float(rate), steps=int(steps)
    )
    runs = learned_runs().get((config, training))
    with button_col:
        st.write("")  # line the button up with the sliders
        learn = st.button(
            "Learn the bandwidth",
            key="kr_learn",
            type="primary",
            icon=":material/model_training:",
            help="Trains both runs on the current data with these settings.",
        )
    if learn:
        runs = train_with_progress(config, training)

if runs is None:
    st.info(
        "No run yet for these data and settings. Press **Learn the bandwidth** to train on "
        "them (a few seconds; the result is then kept for everyone).",
        icon=":material/model_training:",
    )
else:
    optimum = fine_loo_optimum(config)
    show(krc.learning_curves_chart(runs, closed_form_best=optimum))
    plain, loo = runs["train"], runs["loo"]
    summary_col, use_col = st.columns([3, 2], gap="large")
    with summary_col:
        ratio = f" (ratio {loo.final_bandwidth / optimum:.2f})" if optimum else ""
        st.markdown(
            f"- **Leave-one-out loss**: h settles at **{loo.final_bandwidth:.3f}**, next to "
            f"the closed-form optimum {show_bandwidth(optimum) if optimum else '–'}{ratio}.\n"
            f"- **Plain loss**: h has fallen to **{plain.final_bandwidth:.4f}**"
            f"{' and is still falling' if plain.still_moving else ''}; its loss is "
            f"{plain.final_loss:.3f} but its leave-one-out loss has grown to "
            f"{plain.loo_losses[-1]:.3f}.\n\n"
            "Why the plain run collapses: each training point is one of its own keys, at "
            "distance 0. The smaller h, the more weight that key takes, until the point simply "
            "returns its own target and the loss is 0. The minimum of the plain loss is at "
            "h → 0, a lookup table that memorises the noise. Masking the point's own key "
            "(a score of −∞ on the diagonal) removes that shortcut."
        )
    with use_col:
        st.button(
            f"Use the learned bandwidth (≈ {show_bandwidth(nearest_on_grid(loo.final_bandwidth))})",
            key="kr_use_learned",
            on_click=set_bandwidth,
            args=(loo.final_bandwidth,),
            icon=":material/input:",
        )
        if (config, training) == (DEFAULT_DATA, DEFAULT_TRAINING) and not learn:
            st.caption(
                "Shown from a saved run with these very data and settings, so the page opens "
                "at once; press **Learn the bandwidth** to watch it train."
            )

st.divider()
notes(
    what_to_notice=[
        "The estimate at a query is an average of training targets, so it never leaves "
        "their range: a wide h pulls everything to the global mean.",
        "As h shrinks, the band in the attention matrix narrows to one key per row and the "
        "fit threads through every noisy point: sharp attention overfits.",
        "Training error keeps falling as h shrinks; leave-one-out and test error turn back up. "
        "Their minima sit close together.",
        "Compact kernels can leave a query with no key at all: the estimate is then undefined, "
        "not zero.",
    ],
    try_this=[
        "Slide h from 10 down to 0.01. At which h does the estimate start to chase the noise? "
        "Check the error chart: is that where leave-one-out error turns up?",
        "Pick the **step** function. What does a wide bandwidth do at the jump, and which h "
        "does leave-one-out choose?",
        "Switch to the boxcar kernel and set h = 0.05. Which queries get no estimate, and why "
        "there? What is the smallest h with none?",
        "Set the noise to 0. Where is the leave-one-out optimum now, and why does it move?",
        "Learn the bandwidth again with a learning rate of 0.2, or from h = 0.01. Does the "
        "leave-one-out run still land near the closed-form optimum?",
    ],
)
