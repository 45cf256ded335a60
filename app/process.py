"""Settings for the whole server process, applied once when the first visitor arrives.

One Streamlit process serves every participant of a room. numpy's BLAS
(OpenBLAS) splits each matrix product over every core by default; on one or
two shared cores, with thirty sessions computing at once, a product then
waits for cores the others hold, and the lab's small matrices gain nothing
from the split (on the two-core lab machine under load a product ran 20 to
160 times slower on two threads than on one). So the process runs BLAS on
one thread, set once here and never changed back. torch's own thread count
is set per training thread by ``lab.torch_utils``.
"""

from __future__ import annotations

import numpy  # noqa: F401  (loads OpenBLAS, so the limit below finds it)
import streamlit as st
from threadpoolctl import threadpool_limits


@st.cache_resource(show_spinner=False)
def configure() -> object:
    """Limit BLAS to one thread for the process (cached: runs once per process)."""
    return threadpool_limits(limits=1, user_api="blas")  # kept alive: never restored
