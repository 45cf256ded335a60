"""Home: what Attention Lab is, the demos with this session's progress, two workshop plans, the notation."""

import streamlit as st

from app import exercises
from app.catalog import DEMOS, SECTIONS, WORKSHOP_INTRO, WORKSHOP_WRAP_UP, demos_in


def plan_cell(minutes: int) -> str:
    return str(minutes) if minutes else "self-study"


st.title("Attention Lab", anchor=False)
st.markdown(
    "Hands-on demos of the attention mechanism behind transformers. Move a slider and "
    "watch the mathematics change: every number on screen comes from the lab's tested "
    "code. Most are computed live from your settings. A few results are shipped with the "
    "lab so their pages open at once: the learned kernel bandwidth, the soft-vs-hard "
    "training curves, the tiny transformer, the two translation models and the measured "
    "cost of attention. Each of those pages says so, and can retrain or re-measure them."
)
st.markdown(
    "**For** learners working through attention on their own, and instructors who want a "
    "walkthrough that behaves the same on every participant's screen. You need a little "
    "linear algebra (matrix products) and the idea of a softmax; the pages build the rest. "
    "Every page keeps its settings in its address: copy it to share the exact view."
)

st.header("The demos", anchor=False)
for section in SECTIONS:
    st.subheader(section, anchor=False)
    columns = st.columns(3)
    for index, entry in enumerate(demos_in(section)):
        with columns[index % 3].container(border=True, height="stretch"):
            st.page_link(entry.file, label=f"**{entry.title}**", icon=entry.icon)
            st.markdown(entry.promise)
            done = exercises.progress(entry.slug)
            total = exercises.total(entry.slug)
            if total:
                right = sum(done.values())
                st.markdown(f"Your exercises: **{right} of {total}** answered right")
            elif entry.minutes:
                st.markdown(f"About {entry.minutes} minutes in a workshop")
            else:
                st.markdown("For self-study after a workshop")

st.header("Running it as a workshop", anchor=False)
long_total = WORKSHOP_INTRO + sum(entry.minutes for entry in DEMOS) + WORKSHOP_WRAP_UP
short_total = WORKSHOP_INTRO + sum(entry.minutes_short for entry in DEMOS) + WORKSHOP_WRAP_UP
st.markdown(
    f"Two plans, in sidebar order: **{long_total} minutes** or **{short_total} minutes**; "
    "the pages marked *self-study* are left for participants to explore afterwards. On each page, "
    "show the first screen, read *What to notice* together, then give the room the *Try "
    "this* exercises: the lab checks each answer. The instructor's guide "
    "(`docs/workshop.md` in the repository) has what to say, the answers, and a link to "
    "every view."
)
st.table(
    {
        "Demo": ["Welcome: the notation below"]
        + [entry.title for entry in DEMOS]
        + ["Questions and wrap-up"],
        f"{long_total}-minute plan": [str(WORKSHOP_INTRO)]
        + [plan_cell(entry.minutes) for entry in DEMOS]
        + [str(WORKSHOP_WRAP_UP)],
        f"{short_total}-minute plan": [str(WORKSHOP_INTRO)]
        + [plan_cell(entry.minutes_short) for entry in DEMOS]
        + [str(WORKSHOP_WRAP_UP)],
        "After it, a learner can": [""] + [" ".join(entry.objectives) for entry in DEMOS] + [""],
    },
    hide_index=True,
)

st.header("Notation used on every page", anchor=False)
left, right = st.columns(2, gap="large")
with left:
    st.markdown(
        "- **Q** queries, one row per position that asks: shape *L × d*\n"
        "- **K** keys, one row per position that can be looked at: *S × d*\n"
        "- **V** values, what each key hands back: *S × d_v*\n"
        "- *L* queries, *S* keys, *d* (also written *d_k*) the size of a query and a key, "
        "*d_v* the size of a value, *H* heads, *h* a kernel's bandwidth\n"
        "- In self-attention Q, K and V all come from the same sentence, so *S = L*\n"
        "- The lab's code writes these sizes as torch does: *E* for *d* and *Ev* for *d_v*"
    )
with right:
    st.latex(
        r"\mathrm{Attention}(Q, K, V) = \mathrm{softmax}\!\left(\frac{Q K^\top}{\sqrt{d}}\right) V"
    )
    st.markdown(
        "- Heatmaps put **keys across** and **queries down**: row *i* is what query *i* "
        "looks at\n"
        "- Each row of weights is non-negative and **sums to 1**\n"
        "- Masks follow `torch.nn.functional.scaled_dot_product_attention`: `True` means "
        "*may attend*, forbidden scores become −∞, and a query with no allowed key gets "
        "all-zero weights. `torch.nn.MultiheadAttention` uses the opposite convention "
        "(`True` = ignore) for its `key_padding_mask` and boolean `attn_mask`, and returns "
        "NaN for a fully masked row when it also returns weights (its default)."
    )
