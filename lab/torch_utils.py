"""The torch settings every module that trains shares. Imports torch: import it only
from ``train.py`` modules and estimator modules, never from a package ``__init__``.

The lab's tensors are tiny (a few thousand numbers), so extra intra-op threads
only add synchronisation: on a busy two-core machine they made training up to
ten times slower. torch's thread count is a process-wide setting, and one
Streamlit process serves every visitor, so setting it and restoring it around
each training run would race between two sessions training at once (one
restores "4 threads" while the other is mid-run). The lab therefore sets it
once, for the whole process, and never changes it back.
"""

from __future__ import annotations

import threading

import torch

_lock = threading.Lock()
_configured = False


def use_one_thread() -> None:
    """Make torch run on one intra-op thread in this process, from now on.

    Idempotent and safe to call from several threads; every training entry point
    calls it first.
    """
    global _configured
    with _lock:
        if _configured:
            return
        torch.set_num_threads(1)
        _configured = True


def generator(seed: int) -> torch.Generator:
    """A CPU random generator seeded with ``seed``, so runs repeat exactly."""
    return torch.Generator().manual_seed(int(seed))
