"""tf.nn: activations, softmax and cross-entropies, convolution, pooling, dropout, normalization."""
from __future__ import annotations

__all__: list[str] = []
