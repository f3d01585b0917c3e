"""tf.layers: dense, conv2d, pooling, flatten, dropout, built on tf.get_variable."""
from __future__ import annotations

__all__: list[str] = []
