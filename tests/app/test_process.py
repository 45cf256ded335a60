"""app.process: the server runs numpy's BLAS on one thread, set once for the process."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from tests.apptest_util import ROOT


def test_home_leaves_blas_on_one_thread_for_every_thread():
    """In a fresh interpreter (as a new server): before Home, BLAS uses every core; after, one.

    OpenBLAS keeps a thread's own setting once that thread sets one, so the check
    runs in threads that never set it, as Streamlit's session threads are.
    """
    script = textwrap.dedent(
        f"""
        import os, threading
        import numpy
        from threadpoolctl import threadpool_info
        from streamlit.testing.v1 import AppTest

        def blas():
            return [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]

        before = blas()
        app = AppTest.from_file({str(ROOT / "Home.py")!r}, default_timeout=60).run()
        assert not app.exception, app.exception
        seen = []
        worker = threading.Thread(target=lambda: seen.append(blas()))
        worker.start()
        worker.join()
        print(before, blas(), seen[0], os.cpu_count())
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    before, main, worker, cores = result.stdout.strip().splitlines()[-1].rsplit(" ", 3)
    assert main == "[1]" and worker == "[1]", result.stdout
    if int(cores) > 1:
        assert before != "[1]"  # the limit came from Home, not from the machine
