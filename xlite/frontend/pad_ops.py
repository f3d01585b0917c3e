"""tf.pad: CONSTANT lowers to the IR pad; REFLECT and SYMMETRIC to reversed slices concatenated around x."""
from __future__ import annotations

import numpy as np

from xlite.frontend.array_helpers import (array_lowering, as_int_tensor, constant_arg, is_tensor_like, op_scope,
                                          pad_dim, slice_dim)
from xlite.frontend.convert import convert_to_tensor
from xlite.frontend.gradients import grad_rule
from xlite.frontend.graph import Tensor
from xlite.frontend.op_registry import make_op
from xlite.frontend.shape_ops import shape
from xlite.frontend.slicing_ops import slice  # noqa: A004 - TF's name
from xlite.ir.shape import Shape

__all__ = ["pad"]


def _paddings(ctx, op, inst, rank: int):
    value = constant_arg(ctx, op, inst, "paddings")
    if value is None:
        return None
    pads = np.asarray(value).astype(np.int64)
    if pads.size == 0:
        pads = pads.reshape(0, 2)
    if pads.shape != (rank, 2):
        raise ValueError(f"The first dimension of paddings must be the rank of inputs: paddings of shape "
                         f"{list(pads.shape)} for a tensor of rank {rank}")
    if (pads < 0).any():
        raise ValueError(f"Paddings must be non-negative: {pads.tolist()}")
    return [(int(lo), int(hi)) for lo, hi in pads]


@array_lowering("Pad", "PadV2")
def _lower_pad(ctx, op, x, paddings, value=None):
    b = ctx.b
    pads = _paddings(ctx, op, paddings, x.shape.rank)
    if pads is None:
        return ctx.unknown(Shape(x.dtype, (None,) * x.shape.rank))
    if value is None:
        value = b.scalar(0, x.dtype)
    elif value.shape.rank != 0:
        raise ValueError(f"constant_values must be a scalar, got shape {list(value.shape.dims)}")
    return b.emit("pad", (x, value), low=tuple(p[0] for p in pads), high=tuple(p[1] for p in pads),
                  interior=(0,) * x.shape.rank)


def _reverse(b, x, axis):
    return b.emit("reverse", (x,), dimensions=(axis,))


@array_lowering("MirrorPad")
def _lower_mirror_pad(ctx, op, x, paddings):
    """Per axis: [reverse of the next `lo` elements | x | reverse of the `hi` before the end]."""
    dims = x.shape.dims
    pads = _paddings(ctx, op, paddings, len(dims))
    if pads is None:
        return ctx.unknown(Shape(x.dtype, (None,) * len(dims)))
    skip = 1 if op.attrs["mode"] == "REFLECT" else 0
    for n, (lo, hi) in zip(dims, pads):
        if n is not None and max(lo, hi) > n - skip:
            relation = "less than" if skip else "no greater than"
            raise ValueError(f"paddings must be {relation} the dimension size: {lo}, {hi} for a dimension of {n} "
                             f"in {op.attrs['mode']} mode")
    if None in dims:
        return ctx.unknown(Shape(x.dtype, [None if n is None else n + lo + hi for n, (lo, hi) in zip(dims, pads)]))
    b = ctx.b
    for axis, (lo, hi) in enumerate(pads):
        n = dims[axis]
        parts = [x]
        if lo:
            parts.insert(0, _reverse(b, slice_dim(b, x, axis, skip, skip + lo), axis))
        if hi:
            parts.append(_reverse(b, slice_dim(b, x, axis, n - hi - skip, n - skip), axis))
        if len(parts) > 1:
            x = b.emit("concatenate", tuple(parts), dimension=axis)
    return x


@array_lowering("MirrorPadGrad")
def _lower_mirror_pad_grad(ctx, op, g, paddings):
    """Folds the mirrored borders of g back onto the elements they copied."""
    pads = _paddings(ctx, op, paddings, g.shape.rank)
    if pads is None:
        return ctx.unknown(Shape(g.dtype, (None,) * g.shape.rank))
    out = [None if n is None else n - lo - hi for n, (lo, hi) in zip(g.shape.dims, pads)]
    if None in out:
        return ctx.unknown(Shape(g.dtype, out))
    skip = 1 if op.attrs["mode"] == "REFLECT" else 0
    b = ctx.b
    for axis, (lo, hi) in enumerate(pads):
        n = out[axis]
        total = slice_dim(b, g, axis, lo, lo + n)
        if lo:
            left = _reverse(b, slice_dim(b, g, axis, 0, lo), axis)
            total = b.emit("add", (total, pad_dim(b, left, axis, skip, n - skip - lo)))
        if hi:
            right = _reverse(b, slice_dim(b, g, axis, lo + n, lo + n + hi), axis)
            total = b.emit("add", (total, pad_dim(b, right, axis, n - hi - skip, skip)))
        g = total
    return g


@grad_rule("Pad", "PadV2")
def _pad_grad(op, g):
    """The slice of g that x became; no gradient for constant_values, as in TF."""
    x, paddings = op.inputs[:2]
    gx = slice(g, paddings[:, 0], shape(x, out_type=paddings.dtype))
    return [gx] + [None] * (len(op.inputs) - 1)


@grad_rule("MirrorPad")
def _mirror_pad_grad(op, g):
    return [make_op("MirrorPadGrad", [g, op.inputs[1]], dict(op.attrs), name="MirrorPadGrad").outputs[0], None]


@grad_rule("MirrorPadGrad")
def _mirror_pad_grad_grad(op, g):
    return [make_op("MirrorPad", [g, op.inputs[1]], dict(op.attrs), name="MirrorPad").outputs[0], None]


def pad(tensor, paddings, mode="CONSTANT", name=None, constant_values=0) -> Tensor:
    x = convert_to_tensor(tensor)
    mode = str(mode).upper()
    with op_scope(name, {"CONSTANT": "Pad", "REFLECT": "MirrorPad", "SYMMETRIC": "MirrorPad"}.get(mode, "Pad"),
                  x.graph) as scope:
        if mode not in ("CONSTANT", "REFLECT", "SYMMETRIC"):
            raise ValueError(f'Value of argument `mode` expected to be one of "CONSTANT", "REFLECT", or '
                             f'"SYMMETRIC". Received `mode` = {mode}')
        pads = as_int_tensor(paddings, "paddings")
        attrs = {"T": x.dtype, "Tpaddings": pads.dtype}
        if mode != "CONSTANT":
            return make_op("MirrorPad", [x, pads], dict(attrs, mode=mode), name=scope).outputs[0]
        if not is_tensor_like(constant_values) and np.ndim(constant_values) == 0 and constant_values == 0:
            return make_op("Pad", [x, pads], attrs, name=scope).outputs[0]
        value = convert_to_tensor(constant_values, dtype=x.dtype, name="constant_values")
        return make_op("PadV2", [x, pads, value], attrs, name=scope).outputs[0]
