"""tf.nn.max_pool and avg_pool as IR `reduce_window`; their gradients as `select_and_scatter` and pad + sum.

SAME average pooling divides each window by its count of real (unpadded)
elements, as TF does; the counts depend only on the spatial sizes, so they are
a constant of each run signature.
"""
from __future__ import annotations

import numpy as np

from xlite.frontend.convert import convert_to_tensor
from xlite.frontend.fill_ops import zeros_like
from xlite.frontend.gradients import grad_rule
from xlite.frontend.graph import Tensor
from xlite.frontend.nn_window import (data_format_axes, get_sequence, normalize_padding, shape_tensor,
                                      transpose_padding, window_padding)
from xlite.frontend.op_registry import lowering, make_op
from xlite.ir.shape import Shape


def _geometry(op, dims):
    """Per-dim window, strides and padding of a pooling op over an input of these dims."""
    a = op.attrs
    window, strides = tuple(a["ksize"]), tuple(a["strides"])
    if len(window) != len(dims):
        raise ValueError(f"{op.type}: ksize {list(window)} does not fit an input of rank {len(dims)}")
    pads = window_padding(dims, window, strides, a["padding"], a["explicit_paddings"])
    return window, strides, pads


def _window_counts(dims, window, strides, pads, out_dims) -> np.ndarray:
    """How many real input elements each output window covers, shaped to broadcast over the output."""
    counts = np.ones([1] * len(dims))
    for i, (d, w, s, (lo, _), o) in enumerate(zip(dims, window, strides, pads, out_dims)):
        if w == 1 and lo == 0:
            continue
        start = np.arange(o) * s - lo
        per_dim = np.minimum(start + w, d) - np.maximum(start, 0)
        shape = [1] * len(dims)
        shape[i] = o
        counts = counts * per_dim.reshape(shape)
    return counts


@lowering("MaxPool")
def _lower_max_pool(ctx, op, x):
    window, strides, pads = _geometry(op, x.shape.dims)
    return ctx.b.emit("reduce_window", (x,), kind="max", window=window, strides=strides, padding=pads)


@lowering("AvgPool")
def _lower_avg_pool(ctx, op, x):
    b = ctx.b
    window, strides, pads = _geometry(op, x.shape.dims)
    total = b.emit("reduce_window", (x,), kind="sum", window=window, strides=strides, padding=pads)
    if None in x.shape.dims or None in total.shape.dims:
        return ctx.unknown(total.shape)
    counts = _window_counts(x.shape.dims, window, strides, pads, total.shape.dims)
    return b.emit("div", (total, b.broadcast_to(b.constant(counts.astype(x.dtype.np)), total.shape.dims)))


@lowering("MaxPoolGrad")
def _lower_max_pool_grad(ctx, op, x, _y, g):
    """Each window's gradient goes to the first maximal element of the window, like TF's kernel."""
    if g.shape.rank != x.shape.rank:
        raise ValueError(f"MaxPoolGrad: gradient {g.shape} does not match the input {x.shape}")
    window, strides, pads = _geometry(op, x.shape.dims)
    return ctx.b.emit("select_and_scatter", (x, g), window=window, strides=strides, padding=pads)


@lowering("MaxPoolGradGrad")
def _lower_max_pool_grad_grad(ctx, op, x, _y, gg):
    """MaxPoolGrad's transpose: each window takes gg at the element MaxPoolGrad sends its gradient to
    (the first maximal real element, NaN the maximum), found offset by offset over the window."""
    b = ctx.b
    window, strides, pads = _geometry(op, x.shape.dims)
    best = b.emit("reduce_window", (x,), kind="max", window=window, strides=strides, padding=pads)
    if None in x.shape.dims:
        return ctx.unknown(Shape(gg.dtype, best.shape.dims))
    rank, out_dims = x.shape.rank, best.shape.dims

    def padded(v, fill):
        return b.emit("pad", (v, b.scalar(fill, v.shape.dtype)), low=tuple(lo for lo, _ in pads),
                      high=tuple(hi for _, hi in pads), interior=(0,) * rank)

    def at(v, offset):
        """v's elements at this offset of every window, shaped like the pooled result."""
        limits = tuple(k + (o - 1) * s + 1 if o else k for k, o, s in zip(offset, out_dims, strides))
        return b.emit("slice", (v,), start_indices=offset, limit_indices=limits, strides=strides)

    xs, gs = padded(x, 0), padded(gg, 0)
    real = padded(b.broadcast_to(b.scalar(True, "bool"), x.shape.dims), False)
    nan_best = b.compare(best, best, "NE") if x.dtype.is_floating else None
    result = b.broadcast_to(b.scalar(0, gg.dtype), out_dims)
    for offset in reversed(list(np.ndindex(*window))):      # the first hit in row-major order wins
        xk = at(xs, offset)
        hit = b.compare(xk, best, "EQ")
        if nan_best is not None:
            hit = b.emit("or", (hit, b.emit("and", (b.compare(xk, xk, "NE"), nan_best))))
        hit = b.emit("and", (at(real, offset), hit))
        result = b.emit("select", (hit, at(gs, offset), result))
    return result


@lowering("AvgPoolGrad")
def _lower_avg_pool_grad(ctx, op, sizes_inst, g):
    """Spreads g / count over each window: a sum over windows of the stride-dilated, padded gradient."""
    b = ctx.b
    sizes = ctx.constant_value(sizes_inst)
    if sizes is not None and len(sizes) != g.shape.rank:
        raise ValueError(f"AvgPoolGrad: orig_input_shape {list(sizes)} does not match the gradient {g.shape}")
    if sizes is None or None in g.shape.dims:
        return ctx.unknown(Shape(g.dtype, (None,) * g.shape.rank if sizes is None else tuple(int(s) for s in sizes)))
    dims = [int(s) for s in sizes]
    window, strides, pads = _geometry(op, dims)
    counts = _window_counts(dims, window, strides, pads, g.shape.dims)
    scaled = b.emit("div", (g, b.broadcast_to(b.constant(counts.astype(g.dtype.np)), g.shape.dims)))
    spread = [transpose_padding(d, y, w, s, 1, lo) for d, y, w, s, (lo, _) in
              zip(dims, g.shape.dims, window, strides, pads)]
    padded = b.emit("pad", (scaled, b.scalar(0, g.dtype)), low=tuple(lo for lo, _ in spread),
                    high=tuple(hi for _, hi in spread), interior=tuple(s - 1 for s in strides))
    return b.emit("reduce_window", (padded,), kind="sum", window=window, strides=(1,) * len(dims),
                  padding=((0, 0),) * len(dims))


def _pool_attrs(op) -> dict:
    return {k: op.attrs[k] for k in ("ksize", "strides", "padding", "explicit_paddings", "data_format")}


@grad_rule("MaxPool")
def _max_pool_grad(op, g):
    x, y = op.inputs[0], op.outputs[0]
    dx = make_op("MaxPoolGrad", [x, y, g], _pool_attrs(op), name="MaxPoolGrad").outputs[0]
    dx.set_shape(x.shape)
    return [dx]


@grad_rule("MaxPoolGrad")
def _max_pool_grad_grad(op, gg):
    x, y = op.inputs[0], op.inputs[1]
    dg = make_op("MaxPoolGradGrad", [x, y, gg], _pool_attrs(op), name="MaxPoolGradGrad").outputs[0]
    dg.set_shape(y.shape)
    return [zeros_like(x), zeros_like(y), dg]         # as TF's: x and y only choose where gradients go


@grad_rule("MaxPoolGradGrad")
def _max_pool_grad_grad_grad(op, g):
    x, y = op.inputs[0], op.inputs[1]
    dgg = make_op("MaxPoolGrad", [x, y, g], _pool_attrs(op), name="MaxPoolGrad").outputs[0]
    dgg.set_shape(x.shape)
    return [zeros_like(x), zeros_like(y), dgg]


@grad_rule("AvgPool")
def _avg_pool_grad(op, g):
    x = op.inputs[0]
    attrs = {**_pool_attrs(op), "dtype": x.dtype}     # the result's type, not the int32 sizes
    dx = make_op("AvgPoolGrad", [shape_tensor(x), g], attrs, name="AvgPoolGrad").outputs[0]
    dx.set_shape(x.shape)
    return [dx]


@grad_rule("AvgPoolGrad")
def _avg_pool_grad_grad(op, dd):
    return [None, make_op("AvgPool", [dd], _pool_attrs(op), name="AvgPool").outputs[0]]


# the API -----------------------------------------------------------------------------------
def _pool(op_type: str, value, ksize, strides, padding, data_format, name) -> Tensor:
    x = convert_to_tensor(value, name="input")
    data_format = data_format or "NHWC"
    batch, feature, spatial = data_format_axes(data_format)
    rank = len(spatial) + 2
    if x.shape.ndims is not None and x.shape.ndims != rank:
        raise ValueError(f"{op_type} with data_format {data_format} needs rank-{rank} input, got {x.shape}")
    if op_type == "AvgPool" and not x.dtype.is_floating:
        raise TypeError(f"avg_pool needs floating point input, got {x.dtype.name}")
    if x.dtype.is_bool:
        raise TypeError("max_pool does not accept bool input")
    ksize = get_sequence(ksize, rank - 2, feature, "ksize")
    strides = get_sequence(strides, rank - 2, feature, "strides")
    if ksize[batch] != 1 or strides[batch] != 1:
        raise ValueError("Pooling is not yet supported on the batch dimension.")
    if any(k < 1 for k in ksize) or any(s < 1 for s in strides):
        raise ValueError(f"ksize {ksize} and strides {strides} must be positive")
    mode, explicit = normalize_padding(padding, rank, data_format)
    attrs = {"ksize": tuple(ksize), "strides": tuple(strides), "padding": mode, "explicit_paddings": explicit,
             "data_format": data_format}
    return make_op(op_type, [x], attrs, name=name or op_type).outputs[0]


def max_pool(value, ksize, strides, padding, data_format="NHWC", name=None, input=None) -> Tensor:  # noqa: A002
    return _pool("MaxPool", value if value is not None else input, ksize, strides, padding, data_format, name)


def avg_pool(value, ksize, strides, padding, data_format="NHWC", name=None, input=None) -> Tensor:  # noqa: A002
    return _pool("AvgPool", value if value is not None else input, ksize, strides, padding, data_format, name)


max_pool2d = max_pool
avg_pool2d = avg_pool

