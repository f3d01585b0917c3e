"""tf.keras.regularizers: L1, L2, L1L2 penalties as frontend ops."""
from __future__ import annotations

from xlite.frontend import math_ops, reduction_ops


class Regularizer:
    def __call__(self, x):
        return 0.0

    def get_config(self) -> dict:
        return {}


class L1L2(Regularizer):
    """l1 * sum(|x|) + l2 * sum(x^2), Keras' formula."""

    def __init__(self, l1: float = 0.0, l2: float = 0.0):
        self.l1, self.l2 = float(l1), float(l2)

    def __call__(self, x):
        penalty = 0.0
        if self.l1:
            penalty = penalty + self.l1 * reduction_ops.reduce_sum(math_ops.abs(x))
        if self.l2:
            penalty = penalty + self.l2 * reduction_ops.reduce_sum(math_ops.square(x))
        return penalty

    def get_config(self) -> dict:
        return {"l1": self.l1, "l2": self.l2}


def L1(l1: float = 0.01) -> L1L2:  # noqa: N802  (Keras' class names)
    return L1L2(l1=l1)


def L2(l2: float = 0.01) -> L1L2:  # noqa: N802
    return L1L2(l2=l2)


l1, l2, l1_l2 = L1, L2, L1L2


def get(identifier):
    if identifier is None or callable(identifier):
        return identifier
    if isinstance(identifier, str):
        return {"l1": L1, "l2": L2, "l1_l2": L1L2}[identifier.lower()]()
    raise ValueError(f"Could not interpret regularizer identifier: {identifier}")
