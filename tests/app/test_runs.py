"""app.runs: one store of retrained runs for every session, one trainer at a time."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest


def _page():
    import streamlit as st

    from app import runs

    trained = st.session_state.setdefault("trained", [])
    seed = st.number_input("seed", 0, 99, 0, key="seed")

    def run(progress):
        progress(0.5, "half way")
        trained.append(seed)
        return {"seed": seed, "loss": 1.0 / (seed + 1)}

    if st.button("Retrain", key="retrain"):
        runs.select("toy", seed)
        runs.train("toy", seed, run, label="Training the toy")
    chosen = runs.selected("toy")
    st.markdown(f"shown: {chosen}")


def test_a_run_is_trained_once_and_shown_only_to_the_session_that_chose_it():
    app = AppTest.from_function(_page).run()
    assert app.markdown[0].value == "shown: None"
    app.button(key="retrain").click().run()
    assert not app.exception
    assert app.session_state["trained"] == [0]
    assert app.markdown[0].value == "shown: {'seed': 0, 'loss': 1.0}"
    app.button(key="retrain").click().run()  # stored: not trained again
    assert app.session_state["trained"] == [0]

    other = AppTest.from_function(_page).run()  # another participant
    assert other.markdown[0].value == "shown: None"  # their page is untouched
    other.button(key="retrain").click().run()
    assert other.session_state["trained"] == []  # served from the shared store
    assert other.markdown[0].value == "shown: {'seed': 0, 'loss': 1.0}"


def test_the_store_keeps_the_newest_runs_per_topic():
    from app import runs

    app = AppTest.from_function(_page).run()
    seeds = range(50, 50 + runs.KEPT_PER_TOPIC + 2)
    for seed in seeds:
        app.number_input(key="seed").set_value(seed).run()
        app.button(key="retrain").click().run()
    assert not app.exception
    kept = runs._trainer().runs["toy"]
    assert len(kept) == runs.KEPT_PER_TOPIC
    assert list(kept)[-runs.KEPT_PER_TOPIC :] == list(seeds)[2:]  # the two oldest went first
