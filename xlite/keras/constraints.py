"""tf.keras.constraints: projections the optimizer applies to a weight after each update (Keras' formulas)."""
from __future__ import annotations

from xlite.frontend import clip_ops, math_ops, reduction_ops


class Constraint:
    def __call__(self, w):
        return w

    def get_config(self) -> dict:
        return {}


def _norms(w, axis):
    return math_ops.sqrt(reduction_ops.reduce_sum(math_ops.square(w), axis=axis, keepdims=True))


class MaxNorm(Constraint):
    """Rescales each slice along `axis` whose norm exceeds max_value down to it."""

    def __init__(self, max_value=2, axis=0):
        self.max_value, self.axis = max_value, axis

    def __call__(self, w):
        norms = _norms(w, self.axis)
        desired = clip_ops.clip_by_value(norms, 0.0, float(self.max_value))
        return w * (desired / (1e-7 + norms))

    def get_config(self) -> dict:
        return {"max_value": self.max_value, "axis": self.axis}


class NonNeg(Constraint):
    def __call__(self, w):
        return w * math_ops.cast(w >= 0.0, w.dtype)


class UnitNorm(Constraint):
    def __init__(self, axis=0):
        self.axis = axis

    def __call__(self, w):
        return w / (1e-7 + _norms(w, self.axis))

    def get_config(self) -> dict:
        return {"axis": self.axis}


class MinMaxNorm(Constraint):
    def __init__(self, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
        self.min_value, self.max_value, self.rate, self.axis = min_value, max_value, rate, axis

    def __call__(self, w):
        norms = _norms(w, self.axis)
        desired = self.rate * clip_ops.clip_by_value(norms, float(self.min_value), float(self.max_value)) + \
            (1 - self.rate) * norms
        return w * (desired / (1e-7 + norms))

    def get_config(self) -> dict:
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate, "axis": self.axis}


max_norm, non_neg, unit_norm, min_max_norm = MaxNorm, NonNeg, UnitNorm, MinMaxNorm
_BY_NAME = {"max_norm": MaxNorm, "non_neg": NonNeg, "unit_norm": UnitNorm, "min_max_norm": MinMaxNorm}


def get(identifier):
    if identifier is None or isinstance(identifier, Constraint) or callable(identifier) and not isinstance(
            identifier, type):
        return identifier
    if isinstance(identifier, str):
        if identifier not in _BY_NAME:
            raise ValueError(f"Unknown constraint: '{identifier}'")
        return _BY_NAME[identifier]()
    if isinstance(identifier, dict):
        import re
        key = re.sub("([a-z0-9])([A-Z])", r"\1_\2", identifier["class_name"]).lower()
        return _BY_NAME[key](**identifier.get("config", {}))
    raise ValueError(f"Could not interpret constraint identifier: {identifier}")
