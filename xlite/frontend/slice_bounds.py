"""Slice bounds fed at run time whose difference is known when the graph is built: `x[k:k + 3]`.

Like TF-XLA's StridedSlice (which asks value inference for `end - begin`), a
slice whose begin is fed but whose end is the same value plus a constant has a
static size, so it compiles to a dynamic slice. Bounds are followed through
Pack (the Python slice syntax), Identity, integer Cast, and Add/Sub of
constants.
"""
from __future__ import annotations

import numpy as np

from xlite.frontend.graph import Tensor

_PASS_THROUGH = ("Identity", "Cast")
_ADDS = ("Add", "AddV2")
# Op types whose output is a function of their inputs and attributes alone (Const's value is an attribute).
_PURE = frozenset({"Const", "Identity", "Cast", "Add", "AddV2", "Sub", "Mul", "Pack", "Reshape", "Squeeze",
                   "StridedSlice", "Shape"})


def bound_difference(end: Tensor, begin: Tensor, k: int) -> int | None:
    """end[k] - begin[k] where both are one fed value plus constants, else None."""
    end_base, end_offset = _base_and_offset(*_element(end, k))
    begin_base, begin_offset = _base_and_offset(*_element(begin, k))
    if end_base is None or begin_base is None or end_base[1] != begin_base[1] \
            or not _same_value(end_base[0], begin_base[0]):
        return None
    return end_offset - begin_offset


def _same_value(a: Tensor, b: Tensor, depth: int = 8) -> bool:
    """Whether a and b are the same tensor, or the same pure op of the same inputs (`v[0]` written twice)."""
    if a is b:
        return True
    if depth == 0 or a.value_index != b.value_index or a.op.type != b.op.type or a.op.type not in _PURE:
        return False
    if not _same_attrs(a.op.attrs, b.op.attrs) or len(a.op.inputs) != len(b.op.inputs):
        return False
    return all(_same_value(x, y, depth - 1) for x, y in zip(a.op.inputs, b.op.inputs))


def _same_attrs(x: dict, y: dict) -> bool:
    if x.keys() != y.keys():
        return False
    for k, v in x.items():
        w = y[k]
        if isinstance(v, np.ndarray) or isinstance(w, np.ndarray):
            v, w = np.asarray(v), np.asarray(w)
            if v.dtype != w.dtype or not np.array_equal(v, w):
                return False
        elif v != w:
            return False
    return True


def _element(t: Tensor, k: int) -> tuple:
    """(tensor, index): element k of vector t, with index None where that tensor is the element itself."""
    op = t.op
    if op.type == "Pack" and op.attrs["axis"] == 0 and all(i.shape.ndims == 0 for i in op.inputs):
        return op.inputs[k], None
    return t, k


def _constant_at(t: Tensor, k: int | None) -> int | None:
    """Element k (or the scalar) of a tensor whose value is known at graph construction."""
    value = t._static_value
    if value is None or not np.issubdtype(np.asarray(value).dtype, np.integer):
        return None
    value = np.asarray(value)
    if value.ndim == 0:
        return int(value)
    if k is not None and value.ndim == 1 and k < value.shape[0]:
        return int(value[k])
    return None


def _base_and_offset(t: Tensor, k: int | None) -> tuple:
    """((tensor, index) of the fed value, constant offset) with element k of t = that value + offset."""
    offset = 0
    while True:
        op = t.op
        if op.type in _PASS_THROUGH and op.inputs[0].dtype.is_integer:
            t = op.inputs[0]
            continue
        if op.type in _ADDS + ("Sub",):
            a, c = op.inputs
            known = _constant_at(c, k)
            if known is None and op.type in _ADDS:
                c, a = a, c
                known = _constant_at(c, k)
            if known is not None:
                offset += -known if op.type == "Sub" else known
                t, k = a, (k if a.shape.ndims != 0 else None)
                continue
        break
    if _constant_at(t, k) is not None:
        return None, 0        # no fed value: the caller knows such bounds already
    return (t, k), offset
