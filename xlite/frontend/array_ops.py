"""tf.reshape, tf.transpose, slicing, concat, gather and the other array ops."""
from __future__ import annotations

__all__: list[str] = []
