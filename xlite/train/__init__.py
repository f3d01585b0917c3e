"""tf.train: optimizers, the global step and checkpoints (Saver)."""
from __future__ import annotations
