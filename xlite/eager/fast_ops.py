"""The operators of EagerTensor on a kernel already compiled: `x * 0.5 + 1.0` in a loop (W7).

`x * y` on Tensors is the frontend's `tf.multiply`: dtype rules, conversion of the Python operand to
a constant, `make_op`, then the executor looks the kernel up. Once that path has compiled the kernel
of a signature, these methods go straight to it: they build the very signature key `dispatch.execute`
files the kernel under and call it, so the result is the same kernel's. Anything else (no kernel yet,
a tape recording, a Python value TF would convert differently, an op whose lowering needs input
values) falls back to the frontend's operator, which raises or compiles as always.
"""
from __future__ import annotations

import numpy as np

from xlite.eager import dispatch, recording
from xlite.eager.tensor import EagerTensor
from xlite.frontend.graph import Tensor

_INT32 = (-2 ** 31, 2 ** 31)
_scalars: dict = {}                 # (Python value, NumPy dtype) -> its read-only 0-d array


def _scalar(value, dt: np.dtype) -> np.ndarray:
    key = (value, dt)
    array = _scalars.get(key)
    if array is None:
        array = np.array(value, dt)
        array.flags.writeable = False
        if value != 0 and len(_scalars) < 1024:       # (0.0 and -0.0 are one key)
            _scalars[key] = array
    return array


def _operand(self: EagerTensor, other):
    """The array `other` converts to beside `self` when that needs no rule but TF's plainest ones."""
    kind = type(other)
    if kind is EagerTensor:
        return other._value if other.dtype is self.dtype else None
    if kind is float:
        return _scalar(other, self._value.dtype) if self.dtype.kind == "float" else None
    if kind is int:
        name = self.dtype.name
        if name == "float32" or name == "float64" or name == "int64" or (
                name == "int32" and _INT32[0] <= other < _INT32[1]):
            return _scalar(other, self._value.dtype)
    return None


_known: dict = {}       # (op type, dtype char, shapes) -> kernel: a cheaper key than dispatch's, for hits


def _find(op_type: str, a: np.ndarray, b: np.ndarray):
    """The kernel dispatch.execute compiled for these operands, filed under the cheap key; or None."""
    kernel = dispatch._kernels.get((op_type, (), ((a.dtype, a.shape), (b.dtype, b.shape)), None, ()))
    if kernel is None or kernel.single is None:
        return None
    if len(_known) >= dispatch.MAX_KERNELS:
        _known.clear()
    _known[(op_type, a.dtype.char, a.shape, b.shape)] = kernel
    return kernel


_known_by_target: dict[str, dict] = {}


def forget() -> None:
    """Drops the cheap keys (dispatch's kernels were cleared)."""
    _known.clear()


def switch(old: str, new: str) -> None:
    """From `old` target's kernels to `new`'s (dispatch.set_target): each keeps its cheap keys."""
    global _known
    _known_by_target[old] = _known
    _known = _known_by_target.setdefault(new, {})


def _fast(op_type: str, fallback, reverse: bool):
    new, value_inputs = EagerTensor.__new__, dispatch._value_inputs
    key2 = (op_type, 2)                     # (dispatch's key of learned value inputs)
    floats_only = op_type == "RealDiv"      # tf.truediv casts integers first: another op sequence

    def method(self, other):
        if not recording.active and key2 not in value_inputs and (floats_only is False or
                                                                     self.dtype.kind == "float"):
            b = _operand(self, other)
            if b is not None:
                a = self._value
                if reverse:
                    a, b = b, a
                kernel = _known.get((op_type, a.dtype.char, a.shape, b.shape))
                if kernel is None:
                    kernel = _find(op_type, a, b)
                if kernel is not None:
                    t = new(EagerTensor)
                    t._value, t.dtype, t._shape_cache = kernel._call((a, b))[0], kernel.single, None
                    return t
        return fallback(self, other)
    method.__name__ = fallback.__name__
    method.__doc__ = f"{fallback.__name__} on a compiled {op_type} kernel where there is one (fast_ops.py)."
    return method


_OPERATORS = {"add": "AddV2", "sub": "Sub", "mul": "Mul", "truediv": "RealDiv"}


def install() -> None:
    """Puts the fast operators on EagerTensor (once the frontend's own are on Tensor)."""
    for name, op_type in _OPERATORS.items():
        for dunder, reverse in ((f"__{name}__", False), (f"__r{name}__", True)):
            setattr(EagerTensor, dunder, _fast(op_type, getattr(Tensor, dunder), reverse))


__all__ = ["install", "forget"]
