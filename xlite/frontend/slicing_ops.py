"""tf.slice, tf.strided_slice and Python indexing of Tensors and Variables (`x[1:, ::-1, tf.newaxis, i]`).

A strided slice lowers to reverse (negative steps), one IR slice, a
dynamic_slice for the dims whose begin is fed at run time (`x[i]`, `x[k:k + 3]`,
`tf.slice(x, begin, size)` with a fed begin and a static size), and a reshape
for new and shrunk axes. A fed begin follows XLA's dynamic-slice, not TF's
kernels: negative values count from the end (as TF does), and a window that
would leave the array is moved back inside it (clamped), where TF raises
InvalidArgumentError or returns fewer elements; native code never reads out of
bounds, whatever is fed. A result whose size depends on fed values (`x[k:n]`)
raises UnimplementedError. Gradients pad the incoming gradient back (TF's
Slice gradient is a Pad), or write it into zeros at the same clamped window
with a dynamic_update_slice when the begin is fed.
"""
from __future__ import annotations

import builtins
import numbers

import numpy as np

from xlite import errors
from xlite.frontend.array_helpers import (NeedsFedValue, array_lowering, as_int_tensor, is_tensor_like, op_scope,
                                          partial_value, shape_arg, slice_ir, zeros_ir)
from xlite.frontend.convert import constant, convert_to_tensor
from xlite.frontend.gradients import grad_rule
from xlite.frontend.graph import Tensor
from xlite.frontend.op_registry import make_op
from xlite.frontend.shape_ops import shape
from xlite.frontend.slice_bounds import bound_difference
from xlite.frontend.slice_spec import DimSlice, SliceSpec, strided_slice_spec
from xlite.frontend.variables import Variable
from xlite.ir import dtypes
from xlite.ir.shape import Shape

__all__ = ["slice", "strided_slice"]

_MASKS = ("begin_mask", "end_mask", "ellipsis_mask", "new_axis_mask", "shrink_axis_mask")


def _unimplemented(op, message: str, kind=errors.UnimplementedError) -> errors.UnimplementedError:
    """`kind` NeedsFedValue: a result shape computed from fed values, which the Session compiles again with
    small integer feeds as constants."""
    return kind(op.node_def, op, f"{op.type} '{op.name}': {message}")


def _vector(ctx, op, index, inst) -> list | None:
    """An index vector operand as a list, None for elements known only at run time (None if its length is)."""
    value = ctx.constant_value(inst)
    if value is not None:
        return [int(v) for v in np.reshape(value, -1)]
    known = partial_value(op.inputs[index])
    if known is None and not ctx.static and inst.shape.rank == 1:
        return [None] * inst.shape.dims[0]
    return known


def _start(b, begin, k: int, dim: int | None = None):
    """Element k of the begin vector as a scalar; with `dim`, a negative value counts from the end."""
    i = b.reshape(b.emit("slice", (begin,), start_indices=(k,), limit_indices=(k + 1,), strides=(1,)), ())
    if dim is None:
        return i
    return b.emit("select", (b.compare(i, b.scalar(0, i.dtype), "LT"), b.emit("add", (i, b.scalar(dim, i.dtype))), i))


# slice ------------------------------------------------------------------------------------
@array_lowering("Slice")
def _lower_slice(ctx, op, x, begin_inst, size_inst):
    dims = x.shape.dims
    rank = len(dims)
    if not ctx.static and ctx.constant_value(size_inst) is None:
        raise _unimplemented(op, "size must be a compile-time constant: xlite compiles static shapes (a size "
                                 "computed from small integer feeds compiles for their values)", NeedsFedValue)
    begin = _vector(ctx, op, 1, begin_inst) or [None] * rank
    size = shape_arg(ctx, op, 2, size_inst) or [None] * rank
    if len(begin) != rank or len(size) != rank:
        raise ValueError(f"Expected begin and size arguments to be 1-D tensors of size {rank}, but got shapes "
                         f"[{len(begin)}] and [{len(size)}] instead.")
    out = []
    for i, (d, b, s) in enumerate(zip(dims, begin, size)):
        if b is not None and (b < 0 or (d is not None and b > d)):
            raise ValueError(f"Expected begin[{i}] in [0, {d}], but got {b}")
        high = d if b is None else None if d is None else d - b
        if s is not None and (s < -1 or (s >= 0 and high is not None and s > high)):
            raise ValueError(f"Expected size[{i}] in [-1, {'?' if high is None else high}], but got {s}")
        out.append((None if None in (b, d) else d - b) if s == -1 else s)
    if ctx.static and (None in out or None in begin or None in dims):
        return ctx.unknown(Shape(x.dtype, out))
    if None in out:
        raise _unimplemented(op, "size -1 with a begin fed at run time gives a result whose shape depends on the "
                                 "fed value (compiled per value of small integer feeds only)", NeedsFedValue)
    if None not in begin:
        return slice_ir(ctx.b, x, begin, [b + s for b, s in zip(begin, out)])
    b = ctx.b
    starts = [_start(b, begin_inst, k) if v is None else b.scalar(v, begin_inst.dtype) for k, v in enumerate(begin)]
    return b.emit("dynamic_slice", (x, *starts), dynamic_slice_sizes=tuple(out))


@grad_rule("Slice")
def _slice_grad(op, g):
    """Pads g back to x's shape: begin before, the rest after; a fed begin writes g into zeros there instead."""
    x, begin, _ = op.inputs
    known = partial_value(begin)
    if known is None or None in known:
        from xlite.frontend.fill_ops import zeros_like
        return [dynamic_update_slice(zeros_like(x), g, begin), None, None]
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


# dynamic update slice ---------------------------------------------------------------------------
@array_lowering("XlaDynamicUpdateSlice")
def _lower_dynamic_update_slice(ctx, op, x, update, indices):
    """TF-XLA's op: x with `update` written at `indices`, clamped so the window fits (a Slice's gradient)."""
    if indices.shape.dims != (x.shape.rank,):
        raise ValueError(f"indices must be a vector of {x.shape.rank} elements, got shape {list(indices.shape.dims)}")
    starts = [_start(ctx.b, indices, k) for k in range(x.shape.rank)]
    return ctx.b.emit("dynamic_update_slice", (x, update, *starts))


@grad_rule("XlaDynamicUpdateSlice")
def _dynamic_update_slice_grad(op, g):
    _, update, indices = op.inputs
    from xlite.frontend.fill_ops import zeros_like
    update_grad = slice(g, indices, shape(update, out_type=indices.dtype))
    return [dynamic_update_slice(g, zeros_like(update), indices), update_grad, None]


def dynamic_update_slice(operand, update, indices, name=None) -> Tensor:
    """tf.raw_ops.XlaDynamicUpdateSlice: `operand` with `update` written at `indices` (clamped into range)."""
    x, u = convert_to_tensor(operand), convert_to_tensor(update)
    with op_scope(name, "XlaDynamicUpdateSlice", x.graph) as scope:
        i = as_int_tensor(indices, "indices")
        return make_op("XlaDynamicUpdateSlice", [x, u, i], {"T": x.dtype, "Tindices": i.dtype},
                       name=scope).outputs[0]


# strided_slice ---------------------------------------------------------------------------------
def _spec(ctx, op, dims, vectors: tuple, first: int):
    """The slice spec of begin/end/strides operands found at op.inputs[first:first + 3]."""
    values = [_vector(ctx, op, first + k, inst) for k, inst in enumerate(vectors)]
    if any(v is None for v in values):
        return None
    spec = strided_slice_spec(dims, *values, **_masks(op))
    begin, end = op.inputs[first], op.inputs[first + 1]
    return SliceSpec(tuple(_fed_window(op, s, begin, end) for s in spec.dims), spec.layout)


def _fed_window(op, s: DimSlice, begin: Tensor, end: Tensor) -> DimSlice:
    """A range whose begin is fed keeps a static size when its end is that begin plus a constant (x[k:k + 3])."""
    bit = 1 << s.sparse_index
    if s.shrink or s.start is not None or s.size is not None or not s.step or s.step < 0 \
            or (op.attrs["begin_mask"] | op.attrs["end_mask"]) & bit:
        return s
    if begin.shape.ndims != 1 or begin.shape[0] is None or s.sparse_index >= begin.shape[0]:
        return s   # a trailing dim the index vectors do not name (x[i] of a matrix): the whole dim

    difference = bound_difference(end, begin, s.sparse_index)
    if difference is None:
        return s
    return DimSlice(None, s.step, max(0, -(-difference // s.step)), False, s.sparse_index)


def _extent(s: DimSlice) -> int:
    """How many elements of its input dim a slice of a dim spans, first to last."""
    return (s.size - 1) * abs(s.step) + 1 if s.size else 0


def _check_compilable(op, spec, dims) -> None:
    """Raises UnimplementedError for a result whose shape depends on fed values (and TF's error for an index
    into an empty dim)."""
    for d, s in enumerate(spec.dims):
        if s.step is None or s.size is None:
            raise _unimplemented(op, f"the size of dimension {d} of the result depends on values fed to the run "
                                     "(compiled per value of small integer feeds; a begin fed with a compile-time "
                                     "size, as in x[i] or x[k:k + 3], compiles once); xlite compiles static shapes",
                                 NeedsFedValue)
        if s.start is not None:
            continue
        if s.shrink and dims[d] == 0:
            raise ValueError(f"slice index of dimension {d} out of bounds: the dimension is empty")
        if s.step < 0:
            raise _unimplemented(op, f"dimension {d} has a begin fed at run time and a negative stride")
        if _extent(s) > dims[d]:
            raise _unimplemented(op, f"dimension {d} takes {s.size} elements of a dimension of {dims[d]}: with a "
                                     "begin fed at run time the result's shape would depend on the fed value")


def _window(dim: int, s) -> tuple[int, int, int]:
    """(start, step, size) of a dim's static slice after its reversal for a negative step; a fed begin keeps all."""
    if s.start is None:
        return 0, 1, dim
    if s.shrink or s.step > 0:
        return s.start, s.step, s.size
    return dim - 1 - s.start, -s.step, s.size


def _limit(w: tuple) -> int:
    return w[0] + (w[2] - 1) * w[1] + 1 if w[2] else w[0]


def _flipped(spec) -> tuple:
    return tuple(d for d, s in enumerate(spec.dims) if s.start is not None and not s.shrink and s.step < 0)


def _fed_starts(b, spec, dims, begin) -> list | None:
    """The dynamic_slice starts: the fed begins of dims that have one (negatives counted from the end), 0 elsewhere."""
    fed = [s.start is None for s in spec.dims]
    if not any(fed):
        return None
    zero = b.scalar(0, begin.dtype)
    return [_start(b, begin, s.sparse_index, n) if f else zero for s, n, f in zip(spec.dims, dims, fed)]


@array_lowering("StridedSlice")
def _lower_strided_slice(ctx, op, x, begin, end, strides):
    dims = x.shape.dims
    spec = _spec(ctx, op, dims, (begin, end, strides), 1)
    if spec is None:   # vectors of unknown length: the API made the rank unknown
        return ctx.unknown(Shape(x.dtype, ()))
    if ctx.static and (None in dims or None in spec.result_dims or any(s.start is None for s in spec.dims)):
        return ctx.unknown(Shape(x.dtype, spec.result_dims))
    _check_compilable(op, spec, dims)
    b = ctx.b
    flipped = _flipped(spec)
    if flipped:
        x = b.emit("reverse", (x,), dimensions=flipped)
    windows = [_window(n, s) for n, s in zip(dims, spec.dims)]
    x = slice_ir(b, x, [w[0] for w in windows], [_limit(w) for w in windows], [w[1] for w in windows])
    starts = _fed_starts(b, spec, dims, begin)
    if starts is not None:
        spans = [_extent(s) if s.start is None else n for s, n in zip(spec.dims, x.shape.dims)]
        x = b.emit("dynamic_slice", (x, *starts), dynamic_slice_sizes=tuple(spans))
        x = slice_ir(b, x, [0] * len(spans), spans, [s.step if s.start is None else 1 for s in spec.dims])
    return b.reshape(x, spec.result_dims)


@array_lowering("StridedSliceGrad")
def _lower_strided_slice_grad(ctx, op, shape_inst, begin, end, strides, dy):
    """Writes dy back into zeros of the sliced tensor's shape: the forward lowering undone step by step."""
    dims = shape_arg(ctx, op, 0, shape_inst)
    if dims is None:
        return ctx.unknown(Shape(dy.dtype, ()))
    spec = _spec(ctx, op, dims, (begin, end, strides), 1)
    if ctx.static and (spec is None or None in dims or any(s.start is None for s in spec.dims)):
        return ctx.unknown(Shape(dy.dtype, dims))
    _check_compilable(op, spec, dims)
    b = ctx.b
    g = b.reshape(dy, [s.size for s in spec.dims])
    windows = [_window(n, s) for n, s in zip(dims, spec.dims)]
    fed = [s.start is None for s in spec.dims]
    low = [0 if f else w[0] for f, w in zip(fed, windows)]
    high = [0 if f else n - _limit(w) for f, n, w in zip(fed, dims, windows)]
    interior = [s.step - 1 if f else w[1] - 1 for f, s, w in zip(fed, spec.dims, windows)]
    if any(low) or any(high) or any(interior):
        g = b.emit("pad", (g, b.scalar(0, dy.dtype)), low=tuple(low), high=tuple(high), interior=tuple(interior))
    starts = _fed_starts(b, spec, dims, begin)
    if starts is not None:
        g = b.emit("dynamic_update_slice", (zeros_ir(b, dy.dtype, dims), g, *starts))
    flipped = _flipped(spec)
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
