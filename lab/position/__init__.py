"""Order and position: attention alone is blind to word order; encodings fix it.

The one home of the lab's positional encodings: the sinusoidal encoding and
the similarity between positions (:mod:`lab.position.compute`), rotary
embedding (:mod:`lab.position.rotary_embedding`), and the permutation test and the
repeated-word effect on a sentence (:mod:`lab.position.order`). numpy only:
importing this package imports neither torch nor Streamlit.
"""

from lab.position.compute import (
    DEFAULT_BASE,
    MAX_D_MODEL,
    MAX_LENGTH,
    DiagonalProfile,
    diagonal_profile,
    pair_frequencies,
    position_similarity,
    similarity_by_offset,
    sinusoidal_positions,
    wavelengths,
)
from lab.position.order import (
    MAX_SENTENCE_D_MODEL,
    MAX_TOKENS,
    ROW_TOLERANCE,
    AttentionRun,
    OrderComparison,
    PermutationCheck,
    PositionEffect,
    RepeatedWord,
    SentenceConfig,
    identical_rows,
    permutation_check,
    permutation_matrix,
    position_effect,
    run_self_attention,
    shuffle_permutation,
    swap_permutation,
)
from lab.position.rotary_embedding import (
    RotaryScoreGrid,
    random_query_key,
    rotary,
    rotary_score_grid,
)

__all__ = [
    "DEFAULT_BASE",
    "MAX_D_MODEL",
    "MAX_LENGTH",
    "MAX_SENTENCE_D_MODEL",
    "MAX_TOKENS",
    "ROW_TOLERANCE",
    "AttentionRun",
    "DiagonalProfile",
    "OrderComparison",
    "PermutationCheck",
    "PositionEffect",
    "RepeatedWord",
    "RotaryScoreGrid",
    "SentenceConfig",
    "diagonal_profile",
    "identical_rows",
    "pair_frequencies",
    "permutation_check",
    "permutation_matrix",
    "position_effect",
    "position_similarity",
    "random_query_key",
    "rotary",
    "rotary_score_grid",
    "run_self_attention",
    "shuffle_permutation",
    "similarity_by_offset",
    "sinusoidal_positions",
    "swap_permutation",
    "wavelengths",
]
