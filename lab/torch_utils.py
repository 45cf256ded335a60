"""The torch settings every module that trains shares. Imports torch: import it only
from ``train.py`` modules and estimator modules, never from a package ``__init__``.

The lab's tensors are tiny (a few thousand numbers), so extra intra-op threads
only add synchronisation: on a busy two-core machine they made training up to
ten times slower. One Streamlit process serves every visitor, each session
running its script in a thread of its own, and torch's intra-op thread count
(OpenMP's) belongs to the calling thread. So every training entry point sets
one thread for the thread it runs in, and nothing ever sets it back: setting
and restoring around each run would race between two sessions training at once.
"""

from __future__ import annotations

import torch


def use_one_thread() -> None:
    """Make torch run on one intra-op thread in the calling thread, from now on.

    Cheap to call at the start of every training or measurement: it changes
    nothing when the thread already uses one.
    """
    if torch.get_num_threads() != 1:
        torch.set_num_threads(1)


def generator(seed: int) -> torch.Generator:
    """A CPU random generator seeded with ``seed``, so runs repeat exactly."""
    return torch.Generator().manual_seed(int(seed))
