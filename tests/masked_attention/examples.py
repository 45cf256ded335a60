"""Small inputs shared by the masked-attention tests."""

from __future__ import annotations

import numpy as np

# Three tokenized sentences of 6, 2 and 4 words: padded to S = 6, the last two have padding.
SENTENCES = (
    ("the", "cat", "sat", "on", "the", "mat"),
    ("dogs", "bark"),
    ("a", "small", "bird", "sings"),
)

# Scores of L = 3 queries over S = 4 keys and which keys each query may look at: two keys,
# three keys, and none at all (the row every wrong way gets wrong).
SCORES = np.array([[2.0, 1.0, -1.0, 0.5], [0.3, -0.2, 1.5, 0.0], [1.0, 2.0, 3.0, 4.0]])
ALLOWED = np.array([[True, True, False, False], [True, False, True, True], [False] * 4])
