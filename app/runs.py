"""The one store for runs a learner retrains, and the gate that keeps training from stalling a room.

A "Retrain" or "Learn" button costs seconds of CPU. One Streamlit process
serves every participant of a workshop, so this module:

* keeps finished runs in one store shared by every session, keyed by the
  topic and the run's settings: a run is a pure function of its settings and
  seed, so when two participants ask for the same one, the second gets it at
  once;
* lets at most ``MAX_TRAININGS`` runs train at a time in the process (one by
  default); the others wait in line and see their place in it, then a
  progress bar, while everyone else's pages stay responsive;
* remembers, per session, which run each page shows, so one participant's
  retrain never changes another participant's screen;
* can switch training off (``ATTENTION_LAB_MAX_TRAININGS=0``): the pages then
  show their shipped results only, which suits a room on one or two cores.

torch sets its thread count once for the whole process (``lab.torch_utils``),
so no setting leaks from one session's run to another's.
"""

from __future__ import annotations

import itertools
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import streamlit as st

T = TypeVar("T")
Progress = Callable[[float, str], None]  # fraction done in [0, 1], and a line saying what

MAX_TRAININGS = int(os.environ.get("ATTENTION_LAB_MAX_TRAININGS", "1"))  # 0: shipped only
KEPT_PER_TOPIC = 16  # finished runs kept per topic, oldest dropped first
_POLL = 0.25  # seconds between updates of a waiting participant's place in line
_SELECTED = "_runs_selected"  # session key: {topic: key of the run this session shows}


@dataclass
class _Trainer:
    """Process-wide state, shared by every session (one per server process)."""

    slots: threading.BoundedSemaphore
    lock: threading.Lock = field(default_factory=threading.Lock)
    line: list[int] = field(default_factory=list)  # tickets waiting, first in line first
    tickets: itertools.count = field(default_factory=itertools.count)
    runs: dict[str, OrderedDict[Hashable, Any]] = field(default_factory=dict)


@st.cache_resource(show_spinner=False)
def _trainer() -> _Trainer:
    return _Trainer(slots=threading.BoundedSemaphore(max(MAX_TRAININGS, 1)))


def training_allowed() -> bool:
    """False when the server shows shipped results only (``ATTENTION_LAB_MAX_TRAININGS=0``)."""
    return MAX_TRAININGS > 0


TRAINING_OFF = (
    "Training is switched off on this server (it runs in workshop mode with "
    "`ATTENTION_LAB_MAX_TRAININGS=0`), so the page shows its shipped results."
)


def stored(topic: str, key: Hashable) -> Any | None:
    """The finished run of ``topic`` with settings ``key``, if any session trained it."""
    trainer = _trainer()
    with trainer.lock:
        runs = trainer.runs.get(topic)
        if runs is None or key not in runs:
            return None
        runs.move_to_end(key)
        return runs[key]


def _keep(topic: str, key: Hashable, run: Any) -> None:
    trainer = _trainer()
    with trainer.lock:
        runs = trainer.runs.setdefault(topic, OrderedDict())
        runs[key] = run
        runs.move_to_end(key)
        while len(runs) > KEPT_PER_TOPIC:
            runs.popitem(last=False)


def train(topic: str, key: Hashable, run: Callable[[Progress], T], *, label: str = "Training") -> T:
    """The run of ``topic`` with settings ``key``: stored if it exists, else trained now.

    Training waits for a free slot (showing the participant's place in line),
    then calls ``run(progress)`` under a progress bar and stores the result for
    every session. If the participant leaves or reruns the page meanwhile, the
    slot and the place in line are given back.

    Args:
        topic: the page's slug (one store per topic).
        key: hashable settings that determine the run (seed included).
        run: trains and returns the result; calls ``progress(fraction, text)``.
        label: the progress bar's first line.
    """
    if not training_allowed():
        raise RuntimeError(TRAINING_OFF)
    done = stored(topic, key)
    if done is not None:
        return done
    trainer = _trainer()
    with trainer.lock:
        ticket = next(trainer.tickets)
        trainer.line.append(ticket)
    status = st.empty()
    try:
        while not trainer.slots.acquire(timeout=_POLL):
            with trainer.lock:
                ahead = trainer.line.index(ticket)
            status.info(
                f"Waiting for the trainer: {ahead} run{'s' * (ahead != 1)} ahead of yours. "
                "Training runs one at a time so everyone's pages stay quick.",
                icon=":material/hourglass_top:",
            )
        try:
            with trainer.lock:
                trainer.line.remove(ticket)
            done = stored(topic, key)  # someone may have trained it while we waited
            if done is None:
                bar = status.progress(0.0, text=label)
                started = time.perf_counter()

                def progress(fraction: float, message: str) -> None:
                    seconds = time.perf_counter() - started
                    bar.progress(min(max(fraction, 0.0), 1.0), text=f"{message} ({seconds:.0f} s)")

                done = run(progress)
                _keep(topic, key, done)
        finally:
            trainer.slots.release()
    finally:
        with trainer.lock:
            if ticket in trainer.line:
                trainer.line.remove(ticket)
        status.empty()
    return done


def select(topic: str, key: Hashable | None) -> None:
    """Show the run ``key`` of ``topic`` on this session's page (``None``: the shipped one)."""
    st.session_state.setdefault(_SELECTED, {})[topic] = key


def selected(topic: str) -> Any | None:
    """The run this session chose for ``topic``, if it is still stored; else ``None``."""
    key = st.session_state.get(_SELECTED, {}).get(topic)
    return None if key is None else stored(topic, key)
