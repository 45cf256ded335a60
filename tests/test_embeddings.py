"""Reproducible word vectors and projections (lab.embeddings)."""

from __future__ import annotations

import numpy as np

from lab.embeddings import embed, projection_matrices, word_embedding


def test_a_word_has_the_same_vector_in_every_run():
    """The vector comes from a stable checksum of the lower-cased word, not Python's ``hash``.

    Pinned values: they are the same in every process (``hash`` would change them per run),
    and a change of the recipe (another checksum, upper-casing) shows up here.
    """
    expected = [0.6132872741023077, -0.15190889920903697, -0.061908306284273164]
    np.testing.assert_allclose(word_embedding("the", 3, seed=0), expected, rtol=1e-12)
    np.testing.assert_allclose(word_embedding("THE", 3, seed=0), expected, rtol=1e-12)
    np.testing.assert_allclose(
        word_embedding("the", 3, seed=5),
        [-0.022999888888529347, -0.8053611891023613, -0.27648905433436305],
        rtol=1e-12,
    )


def test_an_empty_sentence_embeds_as_no_rows():
    vectors = embed((), 4, seed=0)
    assert vectors.shape == (0, 4) and vectors.dtype == np.float64
    assert embed([], 7, seed=3).shape == (0, 7)


def test_projections_are_the_same_in_every_run():
    w_q, w_k, w_v = projection_matrices(2, seed=0)
    np.testing.assert_allclose(
        w_q,
        [[0.07280914478120139, -0.6933374117731594], [-0.5780444670255905, -0.7268222414542642]],
    )
    np.testing.assert_allclose(
        w_k,
        [[-0.40620378776378774, 1.3937992643052304], [0.278145214155343, -0.0016328244727777277]],
    )
    np.testing.assert_allclose(
        w_v, [[-1.8917949186817145, 1.3736207434057786], [0.0137768140198197, -1.599620848857957]]
    )
