"""tf.random_normal, truncated_normal, random_uniform: counter-based Philox, the same on every backend."""
from __future__ import annotations

__all__: list[str] = []
