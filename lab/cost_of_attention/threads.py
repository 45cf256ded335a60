"""One thread for numpy's BLAS and for OpenMP while this package's heavier work runs.

On a small shared server, a matrix product split over several BLAS threads
waits for cores that other sessions are using: on the two-core machine under
load, a random-feature attention call took 20 to 160 times longer with
OpenBLAS's two threads than with one. So the error sweeps, the small example
and the timing code run with one BLAS and one OpenMP thread (k-means uses
OpenMP).

OpenBLAS's thread count is a process-wide setting: threadpoolctl sets it and
puts the old value back afterwards. Two such sections overlapping in two
sessions would put the values back in the wrong order and leave the whole
process limited for good, so every section that changes the setting holds
:data:`SETTINGS_LOCK`, and they run one at a time. While one runs, numpy work
elsewhere in the process also runs on one BLAS thread, which on a busy
server is no slower.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from threadpoolctl import threadpool_limits

# Held while this package has BLAS and OpenMP limited to one thread (re-entrant, so a
# limited section may call another).
SETTINGS_LOCK = threading.RLock()


@contextmanager
def one_thread() -> Iterator[None]:
    """Run the block with one BLAS and one OpenMP thread, then restore both."""
    with SETTINGS_LOCK, threadpool_limits(limits=1):
        yield
