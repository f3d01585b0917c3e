"""What tf.function needs of the eager package (xlite/eager/), in one place: whether eager execution is
on, the eager tensor and Variable classes, and making an eager tensor of a call's output.

`function` sits above `eager` in the layer table, so it imports it; the frontend never does."""
from __future__ import annotations

import numpy as np


def _eager():
    try:
        from xlite.eager import context, tensor, variables
    except ImportError:          # the eager package is being built alongside (#15): graph mode only
        return None
    return context, tensor, variables


_MODULES = None


def modules():
    global _MODULES
    if _MODULES is None:
        _MODULES = _eager() or ()
    return _MODULES


def executing_eagerly() -> bool:
    mods = modules()
    return bool(mods) and mods[0].executing_eagerly()


def eager_tensor_type():
    mods = modules()
    return mods[1].EagerTensor if mods else None


def eager_variable_type():
    mods = modules()
    return mods[2].EagerVariable if mods else None


def to_eager(array: np.ndarray):
    return modules()[1].EagerTensor(array)
