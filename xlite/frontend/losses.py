"""tf.losses: the loss functions of TF1 with their reductions."""
from __future__ import annotations

__all__: list[str] = []
