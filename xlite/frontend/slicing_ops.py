"""tf.slice, tf.strided_slice and Python indexing of Tensors and Variables (`x[1:, ::-1, tf.newaxis, i]`).

A strided slice lowers to reverse (negative steps), one IR slice, a gather per
index known only at run time (XLA's clamped gather: such an index out of
range is clamped, where TF raises), and a reshape for new and shrunk axes.
Its gradient pads the incoming gradient back with interior padding.
"""
from __future__ import annotations

import builtins
import numbers

import numpy as np

from xlite.frontend.array_helpers import (array_lowering, as_int_tensor, is_tensor_like, op_scope, partial_value,
                                          shape_arg, slice_ir, zeros_ir)
from xlite.frontend.convert import constant, convert_to_tensor
from xlite.frontend.gradients import grad_rule
from xlite.frontend.graph import Tensor
from xlite.frontend.op_registry import make_op
from xlite.frontend.shape_ops import shape
from xlite.frontend.slice_spec import strided_slice_spec
from xlite.frontend.variables import Variable
from xlite.ir import dtypes
from xlite.ir.shape import Shape

__all__ = ["slice", "strided_slice"]

_MASKS = ("begin_mask", "end_mask", "ellipsis_mask", "new_axis_mask", "shrink_axis_mask")


# slice ------------------------------------------------------------------------------------
@array_lowering("Slice")
def _lower_slice(ctx, op, x, begin_inst, size_inst):
    dims = x.shape.dims
    rank = len(dims)
    begin = shape_arg(ctx, op, 1, begin_inst) or [None] * rank
    size = shape_arg(ctx, op, 2, size_inst) or [None] * rank
    if len(begin) != rank or len(size) != rank:
        raise ValueError(f"Expected begin and size arguments to be 1-D tensors of size {rank}, but got shapes "
                         f"[{len(begin)}] and [{len(size)}] instead.")
    out = []
    for i, (d, b, s) in enumerate(zip(dims, begin, size)):
        if b is not None and (b < 0 or (d is not None and b > d)):
            raise ValueError(f"Expected begin[{i}] in [0, {d}], but got {b}")
        if s is not None and (s < -1 or (s >= 0 and None not in (b, d) and b + s > d)):
            raise ValueError(f"Expected size[{i}] in [-1, {'?' if None in (b, d) else d - b}], but got {s}")
        out.append((None if None in (b, d) else d - b) if s == -1 else s)
    if None in out or None in begin or None in dims:
        return ctx.unknown(Shape(x.dtype, out))
    return slice_ir(ctx.b, x, begin, [b + s for b, s in zip(begin, out)])


@grad_rule("Slice")
def _slice_grad(op, g):
    """Pads g back to x's shape: begin before, the rest after."""
    x, begin, _ = op.inputs
    after = shape(x, out_type=begin.dtype) - begin - shape(g, out_type=begin.dtype)
    paddings = make_op("Pack", [begin, after], {"axis": 1, "N": 2, "T": begin.dtype}, name="stack").outputs[0]
    gx = make_op("Pad", [g, paddings], {"T": g.dtype, "Tpaddings": begin.dtype}, name="Pad").outputs[0]
    gx.set_shape(x.shape)
    return [gx, None, None]


def slice(input_, begin, size, name=None) -> Tensor:  # noqa: A001 - TF's name
    x = convert_to_tensor(input_)
    with op_scope(name, "Slice", x.graph) as scope:
        begin_t, size_t = _same_index_dtype(as_int_tensor(begin, "begin"), as_int_tensor(size, "size"))
        return make_op("Slice", [x, begin_t, size_t], {"T": x.dtype, "Index": begin_t.dtype}, name=scope).outputs[0]


def _same_index_dtype(*ts):
    """Index vectors all int64 if any is, as TF's slicing does."""
    from xlite.frontend.math_ops import cast
    if any(t.dtype == dtypes.int64 for t in ts):
        return [cast(t, dtypes.int64) for t in ts]
    return list(ts)


# strided_slice ---------------------------------------------------------------------------------
def _vector(ctx, op, index, inst):
    """A begin/end/strides vector as a list, None for elements known only at run time."""
    value = ctx.constant_value(inst)
    if value is not None:
        return [int(v) for v in np.reshape(value, -1)]
    return partial_value(op.inputs[index])


def _spec(ctx, op, dims, vectors: tuple, first: int):
    """The slice spec of begin/end/strides operands found at op.inputs[first:first + 3]."""
    vectors = [_vector(ctx, op, first + k, inst) for k, inst in enumerate(vectors)]
    if any(v is None for v in vectors):
        return None
    return strided_slice_spec(dims, *vectors, **{k: op.attrs[k] for k in _MASKS})


def _check_static(op, spec) -> None:
    for d, s in enumerate(spec.dims):
        if s.size is None or (s.start is None and not s.shrink):
            raise NotImplementedError(
                f"{op.type} '{op.name}': the bounds and stride of dimension {d} must be compile-time constants; "
                f"only a single index (x[i]) may be computed at run time")


def _window(dim: int, s) -> tuple[int, int, int]:
    """(start, step, size) of a dim's slice after its reversal for a negative step; a run-time index keeps all."""
    if s.shrink:
        return (0, 1, dim) if s.start is None else (s.start, 1, 1)
    if s.step > 0:
        return s.start, s.step, s.size
    return dim - 1 - s.start, -s.step, s.size


def _run_time_index(b, begin, s, dim: int):
    """Element s.sparse_index of the begin vector, negative values counted from the end, clamped into range."""
    k = s.sparse_index
    i = b.reshape(b.emit("slice", (begin,), start_indices=(k,), limit_indices=(k + 1,), strides=(1,)), ())
    zero = b.scalar(0, i.dtype)
    i = b.emit("select", (b.compare(i, zero, "LT"), b.emit("add", (i, b.scalar(dim, i.dtype))), i))
    return b.emit("clamp", (zero, i, b.scalar(max(dim - 1, 0), i.dtype)))


@array_lowering("StridedSlice")
def _lower_strided_slice(ctx, op, x, begin, end, strides):
    dims = x.shape.dims
    spec = _spec(ctx, op, dims, (begin, end, strides), 1)
    if spec is None:   # vectors of unknown length: the API made the rank unknown
        return ctx.unknown(Shape(x.dtype, ()))
    dynamic = [d for d, s in enumerate(spec.dims) if s.start is None]
    if ctx.static and (None in dims or dynamic or None in spec.result_dims):
        return ctx.unknown(Shape(x.dtype, spec.result_dims))
    _check_static(op, spec)
    b = ctx.b
    flipped = tuple(d for d, s in enumerate(spec.dims) if not s.shrink and s.step < 0)
    if flipped:
        x = b.emit("reverse", (x,), dimensions=flipped)
    windows = [_window(n, s) for n, s in zip(dims, spec.dims)]
    x = slice_ir(b, x, [w[0] for w in windows], [w[0] + (w[2] - 1) * w[1] + 1 if w[2] else w[0] for w in windows],
                 [w[1] for w in windows])
    for d in reversed(dynamic):
        x = b.emit("gather", (x, _run_time_index(b, begin, spec.dims[d], dims[d])), axis=d)
    return b.reshape(x, spec.result_dims)


@array_lowering("StridedSliceGrad")
def _lower_strided_slice_grad(ctx, op, shape_inst, begin, end, strides, dy):
    """Scatters dy back into zeros of the sliced tensor's shape: the forward lowering undone step by step."""
    dims = shape_arg(ctx, op, 0, shape_inst)
    if dims is None:
        return ctx.unknown(Shape(dy.dtype, ()))
    spec = _spec(ctx, op, dims, (begin, end, strides), 1)
    if ctx.static and (spec is None or None in dims or any(s.start is None for s in spec.dims)):
        return ctx.unknown(Shape(dy.dtype, dims))
    _check_static(op, spec)
    b = ctx.b
    windows = [_window(n, s) for n, s in zip(dims, spec.dims)]
    dynamic = [d for d, s in enumerate(spec.dims) if s.start is None]
    g = b.reshape(dy, [w[2] for d, w in enumerate(windows) if d not in dynamic])
    for d in dynamic:
        held = [w[2] for e, w in enumerate(windows) if e not in dynamic or e <= d]
        index = _run_time_index(b, begin, spec.dims[d], dims[d])
        g = b.emit("scatter_add", (zeros_ir(b, dy.dtype, held), index, g), axis=d)
    high = [n - (w[0] + (w[2] - 1) * w[1] + 1) if w[2] else n - w[0] for n, w in zip(dims, windows)]
    g = b.emit("pad", (g, b.scalar(0, dy.dtype)), low=tuple(w[0] for w in windows), high=tuple(high),
               interior=tuple(w[1] - 1 for w in windows))
    flipped = tuple(d for d, s in enumerate(spec.dims) if not s.shrink and s.step < 0)
    return b.emit("reverse", (g,), dimensions=flipped) if flipped else g


def _masks(op) -> dict:
    return {k: op.attrs[k] for k in _MASKS}


@grad_rule("StridedSlice")
def _strided_slice_grad(op, g):
    x, begin, end, strides = op.inputs
    attrs = dict(_masks(op), T=g.dtype, Index=begin.dtype)
    gx = make_op("StridedSliceGrad", [shape(x, out_type=begin.dtype), begin, end, strides, g], attrs,
                 name="StridedSliceGrad").outputs[0]
    gx.set_shape(x.shape)
    return [gx, None, None, None]


@grad_rule("StridedSliceGrad")
def _strided_slice_grad_grad(op, g):
    _, begin, end, strides, _ = op.inputs
    return [None, None, None, None, strided_slice(g, begin, end, strides, **_masks(op))]


def _strided_slice_op(x: Tensor, begin, end, strides, masks: dict, scope: str) -> Tensor:
    begin, end, strides = _same_index_dtype(begin, end, strides)
    attrs = dict(masks, T=x.dtype, Index=begin.dtype)
    unknown_rank = partial_value(begin) is None
    return make_op("StridedSlice", [x, begin, end, strides], attrs, name=scope,
                   output_shapes=[None] if unknown_rank else None).outputs[0]


def strided_slice(input_, begin, end, strides=None, begin_mask=0, end_mask=0, ellipsis_mask=0,
                  new_axis_mask=0, shrink_axis_mask=0, var=None, name=None) -> Tensor:
    x = convert_to_tensor(input_)
    with op_scope(name, "StridedSlice", x.graph) as scope:
        begin_t = as_int_tensor(begin, "begin")
        end_t = as_int_tensor(end, "end")
        if strides is None:
            from xlite.frontend.fill_ops import ones_like
            strides_t = ones_like(begin_t)
        else:
            strides_t = as_int_tensor(strides, "strides")
        masks = dict(begin_mask=int(begin_mask), end_mask=int(end_mask), ellipsis_mask=int(ellipsis_mask),
                     new_axis_mask=int(new_axis_mask), shrink_axis_mask=int(shrink_axis_mask))
        return _strided_slice_op(x, begin_t, end_t, strides_t, masks, scope)


# indexing -------------------------------------------------------------------------------------
def _check_index(idx) -> None:
    if isinstance(idx, numbers.Integral):
        return
    if is_tensor_like(idx):
        t = convert_to_tensor(idx)
        if t.dtype in (dtypes.int32, dtypes.int64) and t.shape.ndims in (None, 0):
            return
    raise TypeError("Only integers, slices (`:`), ellipsis (`...`), tf.newaxis (`None`) and scalar "
                    f"tf.int32/tf.int64 tensors are valid indices, got {idx!r}")


def _slice_helper(tensor, slice_spec) -> Tensor:
    """TF's Tensor.__getitem__: each index becomes a begin/end/stride entry and a bit of one mask."""
    x = convert_to_tensor(tensor)
    if not isinstance(slice_spec, tuple):
        slice_spec = (slice_spec,)
    begin, end, strides = [], [], []
    masks = dict.fromkeys(_MASKS, 0)
    for index, s in enumerate(slice_spec):
        bit = 1 << index
        if isinstance(s, type(Ellipsis)):
            begin.append(0), end.append(0), strides.append(1)
            masks["ellipsis_mask"] |= bit
        elif s is None:
            begin.append(0), end.append(0), strides.append(1)
            masks["new_axis_mask"] |= bit
        elif isinstance(s, builtins.slice):
            for value, bound, mask in ((s.start, begin, "begin_mask"), (s.stop, end, "end_mask")):
                if value is None:
                    bound.append(0)
                    masks[mask] |= bit
                else:
                    _check_index(value)
                    bound.append(value)
            if s.step is not None:
                _check_index(s.step)
            strides.append(1 if s.step is None else s.step)
        else:
            _check_index(s)
            begin.append(s), end.append(s + 1), strides.append(1)
            masks["shrink_axis_mask"] |= bit
    with op_scope(None, "strided_slice", x.graph) as scope:
        if begin:
            vectors = [as_int_tensor(v, n) for v, n in ((begin, "stack"), (end, "stack_1"), (strides, "stack_2"))]
        else:
            vectors = [constant(np.zeros(0, np.int32), name=n) for n in ("stack", "stack_1", "stack_2")]
        return _strided_slice_op(x, *vectors, masks, scope)


Tensor.__getitem__ = _slice_helper
Variable.__getitem__ = _slice_helper
