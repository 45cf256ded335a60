"""Caps and defaults of the cost-of-attention demo, in one place for the page to state.

The caps bound what one visitor can ask of a server that a whole room shares.
The library's mathematical functions accept any size; the page-facing ones
(``sample_inputs``, the error sweeps and
:func:`lab.cost_of_attention.measure.measure`) refuse values beyond these caps
with a message that names the cap.

Notation: ``n`` is the sequence length (``L = S = n`` queries and keys), ``d``
the query/key size (``E = Ev = d``), ``r`` the number of random features and
``C`` the number of query clusters.
"""

from __future__ import annotations

from dataclasses import dataclass

# Largest n for the error sweeps and the comparisons. Each point of an r sweep forms the
# implied n x n weights through r features (n^2 r multiply-adds) and each point of a C sweep
# runs k-means; at the caps below (n = 256, d = 128, r up to 512, C up to 256, 5 seeds) the
# r sweep took about 2 s and the C sweep about 5 s on the shared 2-core machine under load,
# so the page should cache both.
MAX_N = 256
# Largest n whose weights are drawn as heatmaps: beyond this a cell is under 10 pixels.
MAX_HEATMAP_N = 32
# Largest query/key size d; head sizes of real models are 64 or 128.
MAX_D = 128
# Largest number of random features r (Performer uses a few hundred for d = 64).
MAX_FEATURES = 512
# Largest number of clusters C; C = n makes clustered attention exact, so n's cap is C's cap.
MAX_CLUSTERS = MAX_N
# Most seeds one error sweep averages over (each seed repeats the whole sweep).
MAX_SEEDS = 8

# Largest n that measure() times: exact attention in numpy holds several n x n float32
# arrays at once (about 0.3 GB at n = 4096), which a shared server can afford once.
MAX_MEASURE_N = 4096
# Longest time budget measure() accepts, in seconds (the benchmark script's runs).
MAX_BUDGET_SECONDS = 300.0
# The page's "measure on this server" button: sizes and a budget of a few seconds.
PAGE_MEASURE_N_VALUES: tuple[int, ...] = (64, 128, 256, 512, 1024)
PAGE_MEASURE_BUDGET_SECONDS = 3.0
# The benchmark script's sizes (bench/attention_cost.py writes the shipped JSON from them).
BENCHMARK_N_VALUES: tuple[int, ...] = (64, 128, 256, 512, 1024, 2048, 4096)
# Log-log slopes are fitted to sizes n >= this: below it, fixed per-call overheads
# (Python, checks, thread start-up) hide the growth with n.
FIT_MIN_N = 256


@dataclass(frozen=True)
class CostOfAttentionConfig:
    """Defaults of the cost-of-attention page; the first screen shows the point with them."""

    n: int = 128  # sequence length of the error sections: big enough for clusters to matter
    d: int = 32  # query/key size: the textbook O(n^2 d) with a modest d
    num_features: int = 64  # r: about 2 d random features gives a visible but imperfect fit
    num_clusters: int = 8  # C: as many clusters as query groups, so clustering looks its best
    kinds: int = 8  # positions come in 8 token kinds; queries cluster around 8 centres
    spread: float = 0.3  # noise around a kind's centre (centres have N(0, 1) entries)
    # Scales queries and keys: same-kind scores are about magnitude^2 sqrt(d) = 1.4 higher,
    # peaked enough to matter, mild enough that random features visibly converge.
    magnitude: float = 0.5
    heatmap_n: int = 12  # n of the side-by-side weight heatmaps: 12 labelled rows stay readable
    seed: int = 0  # one seed for the data and for the methods' randomness
    # Seeds averaged in each error sweep; their spread is drawn as a band. Three give a band
    # and keep a sweep at a new (n, d, a, seed) to a few tenths of a second on the shared
    # machine (five took about twice as long).
    sweep_seeds: int = 3
    measure_d: int = 64  # d of the timed runs: a typical head size
    measure_features: int = 64  # r of the timed Performer runs
    measure_clusters: int = 16  # C of the timed clustered runs
    measure_repeats: int = 3  # timed loops per size; the least is kept (noise only adds time)
