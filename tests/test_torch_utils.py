"""lab.torch_utils: one intra-op thread for the thread that trains, and repeatable generators."""

from __future__ import annotations

import threading

import torch

from lab.torch_utils import generator, use_one_thread


def test_one_thread_in_the_calling_thread_every_time_it_is_asked():
    seen = {}

    def session(name: str) -> None:
        use_one_thread()
        seen[name] = torch.get_num_threads()

    # Two "sessions" in threads of their own, as Streamlit runs scripts: each gets one thread.
    for name in ("first", "second"):
        worker = threading.Thread(target=session, args=(name,))
        worker.start()
        worker.join()
    assert seen == {"first": 1, "second": 1}
    use_one_thread()
    assert torch.get_num_threads() == 1


def test_generators_repeat_from_their_seed():
    first = torch.rand(4, generator=generator(7))
    again = torch.rand(4, generator=generator(7))
    other = torch.rand(4, generator=generator(8))
    assert torch.equal(first, again) and not torch.equal(first, other)
