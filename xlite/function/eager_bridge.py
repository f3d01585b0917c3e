"""What tf.function needs of the eager package (xlite/eager/), in one place: whether eager execution is
on, what an eager tensor and an eager Variable are, and an eager tensor of a call's output.

`function` sits above `eager` in the layer table, so it imports it; the frontend never does."""
from __future__ import annotations

import numpy as np

from xlite.eager.tensor import EagerTensor
from xlite.frontend.graph import executing_eagerly


def is_eager_tensor(value) -> bool:
    return isinstance(value, EagerTensor)


def is_eager_variable(value) -> bool:
    """An eager Variable (xlite/eager/variables.py marks its class with `_is_eager_variable`)."""
    return getattr(type(value), "_is_eager_variable", False) is True


def eager_array(value) -> np.ndarray:
    """The array an eager tensor holds (never written: no copy needed), or a NumPy value's own."""
    return value._value if type(value) is EagerTensor else np.asarray(value)


def to_eager(array: np.ndarray):
    return EagerTensor(array)


__all__ = ["EagerTensor", "executing_eagerly", "is_eager_tensor", "is_eager_variable", "eager_array", "to_eager"]
