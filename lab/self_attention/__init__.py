"""Self-attention step by step: one sentence through Q, K, V, scores, softmax and the output.

Re-exports the numpy API of the step-by-step page; imports no torch.
"""

from lab.embeddings import embed, projection_matrices, word_embedding
from lab.position import sinusoidal_positions
from lab.self_attention.compute import (
    SelfAttentionConfig,
    SelfAttentionSteps,
    self_attention_steps,
)
from lab.self_attention.exercises import page_exercises
from lab.self_attention.from_scratch import self_attention

__all__ = [
    "SelfAttentionConfig",
    "SelfAttentionSteps",
    "embed",
    "page_exercises",
    "projection_matrices",
    "self_attention",
    "self_attention_steps",
    "sinusoidal_positions",
    "word_embedding",
]
