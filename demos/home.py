"""Home: what Attention Lab is, the demos, a workshop path and the notation."""

import streamlit as st

from lab.catalog import DEMOS, SECTIONS, demos_in

st.title("Attention Lab")
st.markdown(
    "Hands-on demos of the attention mechanism behind transformers. Move a slider "
    "and watch the mathematics change: every number on screen is computed live by "
    "the lab's tested code, not drawn by hand."
)
st.markdown(
    "**For** learners working through attention on their own, and instructors who "
    "want a walkthrough that behaves the same on every participant's screen. You "
    "need a little linear algebra (matrix products) and the idea of a softmax; "
    "the pages build the rest."
)

for section in SECTIONS:
    st.subheader(section, anchor=False)
    columns = st.columns(3)
    for index, entry in enumerate(demos_in(section)):
        with columns[index % 3].container(border=True, height="stretch"):
            st.page_link(entry.file, label=f"**{entry.title}**", icon=entry.icon)
            st.markdown(entry.promise)
            st.caption(f"About {entry.minutes} minutes in a workshop")

st.subheader("A workshop path", anchor=False)
total = sum(entry.minutes for entry in DEMOS)
st.markdown(
    f"Run the pages in sidebar order, about {total} minutes in all. In each, show "
    "the first screen, read *What to notice* together, then give the room two or "
    "three *Try this* questions."
)
st.table(
    {
        "Step": list(range(1, len(DEMOS) + 1)),
        "Demo": [entry.title for entry in DEMOS],
        "Minutes": [entry.minutes for entry in DEMOS],
        "The point": [entry.promise for entry in DEMOS],
    },
    hide_index=True,
)

st.subheader("Notation used on every page", anchor=False)
left, right = st.columns(2, gap="large")
with left:
    st.markdown(
        "- **Q** queries, one row per position that asks: shape *L × E*\n"
        "- **K** keys, one row per position that can be looked at: *S × E*\n"
        "- **V** values, what each key hands back: *S × E_v*\n"
        "- *L* queries, *S* keys, *d* (or *E*) the size of a query and key vector\n"
        "- In self-attention Q, K and V all come from the same sentence, so *S = L*"
    )
with right:
    st.latex(
        r"\mathrm{Attention}(Q, K, V) = \mathrm{softmax}\!\left(\frac{Q K^\top}{\sqrt{d}}\right) V"
    )
    st.markdown(
        "- Heatmaps put **keys across** and **queries down**: row *i* is what query *i* looks at\n"
        "- Each row of weights is non-negative and **sums to 1** (a fully masked row is all 0)\n"
        "- Masks follow PyTorch: `True` means *may attend*; forbidden scores become −∞"
    )
