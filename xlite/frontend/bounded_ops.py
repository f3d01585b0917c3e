"""Ops whose output size depends on the data: tf.boolean_mask, one-argument tf.where, tf.unique(_with_counts),
tf.math.bincount, tf.dynamic_partition and tf.dynamic_stitch (of indices not known when the graph is built), as
bounded buffers plus a run-time count.

Each result is computed at its largest size (known from the input's size, so one executable serves every
run) with the kept rows first and zeros after them, and a count of the kept rows. A TrimToCount op joins
the two: its static shape has None on that axis, and Session.run cuts a fetched value to the count
(xlite/runtime/fetches.py). Inside the graph only consumers the zero padding leaves right may read it:
tf.reduce_sum / tf.reduce_any over the bounded axis, and gradient ops that read its shape only (so
tf.gradients of it or of such a sum works); tf.shape, tf.size and tf.reduce_mean (over the bounded axis)
read the count instead (bounded_shape, bounded_mean); an elementwise op of operands bounded by one count
(results masked by one mask tensor) or broadcast along that axis, a slice keeping the whole bounded axis
(tf.where(m)[:, 0]) and a gather by bounded indices run on the padded buffers, their padding zeroed again,
and are themselves bounded; any other consumer raises UnimplementedError naming the op.
Eagerly each op runs compiled as it is made and the eager executor cuts a TrimToCount's buffer to its count
(xlite/eager/dispatch.py), so values have TF's exact shapes; a tf.function's outputs are cut the same way.
Rows are compacted by a scatter (unsorted_segment_sum) to slots an exclusive cumsum numbers, so nothing
reads or writes out of bounds whatever is fed, and gradients follow.
"""
from __future__ import annotations

import builtins
import collections

import numpy as np

from xlite import errors
from xlite.frontend import array_ops, math_ops, pad_ops
from xlite.frontend import graph as _graph
from xlite.frontend.convert import convert_to_tensor
from xlite.frontend.fill_ops import ones_like, zeros
from xlite.frontend.gradients import grad_rule
from xlite.frontend.graph import Tensor
from xlite.frontend.join_ops import concat, stack
from xlite.frontend.op_registry import input_check, lowering, make_op
from xlite.frontend.reduction_ops import cumsum, reduce_any, reduce_max, reduce_prod, reduce_sum
from xlite.frontend.run_checks import RunCheck, check_in_range, repeated, site
from xlite.frontend.scopes import name_scope
from xlite.frontend.segment_ops import unsorted_segment_sum
from xlite.frontend.shape_ops import shape, size
from xlite.ir import dtypes
from xlite.ir.shape import Shape

__all__ = ["boolean_mask", "where_indices", "unique", "unique_with_counts", "bincount", "dynamic_partition",
           "dynamic_stitch", "padded_like_buffer"]

TRIMMED = "TrimToCount"
_PADDING_SAFE_REDUCTIONS = frozenset({"Sum", "Any"})   # zeros / False padding changes neither
_SHAPE_READERS = frozenset({"BroadcastReduced", "BroadcastToShapeOf"})   # gradient ops reading its shape only
_ELEMENTWISE = frozenset(set(math_ops.UNARY) | set(math_ops.BINARY) | set(math_ops.COMPARISONS) | {
    "FloorDiv", "FloorMod", "SquaredDifference", "BitwiseXor", "Square", "Reciprocal", "Cast", "SelectV2",
    "Identity", "Relu", "Relu6", "Elu", "Selu", "Softplus", "LeakyRelu"})


@lowering(TRIMMED)
def _lower_trimmed(ctx, op, padded, count):
    """The padded buffer itself; its static shape does not know how many rows the data keeps."""
    if ctx.static:
        dims = list(padded.shape.dims)
        dims[op.attrs["axis"]] = None
        return ctx.unknown(Shape(padded.dtype, tuple(dims)))
    return padded


@grad_rule(TRIMMED)
def _trimmed_grad(op, g):
    """The padding rows' gradient is never read: the scatter that filled the buffer gathers kept rows only.
    In a graph g has the buffer's size; eagerly the trimmed value's, so it is padded back to the buffer."""
    return [padded_like_buffer(op.outputs[0], g), None]


def padded_like_buffer(t: Tensor, g: Tensor) -> Tensor:
    """g, a gradient of the data-dependent result t, padded with zeros to t's bounded buffer: in a graph it has
    the buffer's size already; an eager gradient has the size of the value cut to the count."""
    if g is None or t.op.type != TRIMMED:
        return g
    axis, padded = t.op.attrs["axis"], t.op.inputs[0]
    rows, kept = padded.shape.dims[axis], g.shape.dims[axis]
    if kept is None or rows == kept:
        return g
    widths = [[0, 0]] * g.shape.ndims
    widths[axis] = [0, rows - kept if rows is not None else shape(padded, out_type=dtypes.int32)[axis] - kept]
    return pad_ops.pad(g, widths)


@input_check
def _padding_safe_consumers(op_type: str, inputs, attrs, rebuild):
    bounded = [t for t in inputs if t.op.type == TRIMMED]
    if not bounded or op_type in _SHAPE_READERS:
        return None
    if op_type in _ELEMENTWISE:
        return _elementwise(op_type, inputs, bounded, rebuild)
    row_axis = _row_preserving_axis(op_type, inputs, attrs)
    if row_axis is not None:
        padded = [t.op.inputs[0] if t.op.type == TRIMMED else t for t in inputs]
        if op_type == "GatherV2":
            padded[1] = _past_the_end(inputs[1], inputs[0], int(inputs[2]._static_value))
            attrs["_clamped"] = True        # (the padding's indices are out of range; its rows are zeroed)
        return _rebounded(rebuild(padded).outputs[0], bounded[0].op.inputs[1], row_axis)
    for position, t in enumerate(inputs):
        if t.op.type != TRIMMED:
            continue
        if op_type in _PADDING_SAFE_REDUCTIONS and position == 0 and _reduces_axis(inputs, t.op.attrs["axis"]):
            continue
        raise _unsupported(op_type, t)
    return None


def _unsupported(op_type: str, t: Tensor, why: str = "") -> errors.OpError:
    return errors.unimplemented(
        f"{op_type} reading {t.name}, whose size depends on the data{why}: xlite computes it in a bounded buffer "
        f"and supports Session.run fetches, elementwise ops with operands of that same size (or broadcast along "
        f"it), slices keeping all of it, tf.gather by it, tf.shape/tf.size, and "
        f"tf.reduce_sum/reduce_mean/reduce_any over axis {t.op.attrs['axis']} of it")


def _row_preserving_axis(op_type: str, inputs, attrs) -> int | None:
    """Where the bounded axis lands in the output of a slice keeping all of it, or of a gather by bounded indices."""
    if op_type == "GatherV2" and inputs[0].op.type != TRIMMED and inputs[1].op.type == TRIMMED:
        axis = inputs[2]._static_value
        rank = inputs[0].shape.ndims
        if axis is None or rank is None or attrs.get("batch_dims", 0):
            return None
        return int(axis) % rank + inputs[1].op.attrs["axis"]
    if op_type == "StridedSlice" and inputs[0].op.type == TRIMMED and all(t.op.type != TRIMMED for t in inputs[1:]):
        axis, strides = inputs[0].op.attrs["axis"], inputs[3]._static_value
        if attrs.get("ellipsis_mask") or attrs.get("new_axis_mask") or strides is None or len(strides) <= axis:
            return None
        bit = 1 << axis
        whole = attrs.get("begin_mask", 0) & bit and attrs.get("end_mask", 0) & bit and int(strides[axis]) == 1
        if not whole or attrs.get("shrink_axis_mask", 0) & bit:
            return None
        return axis - bin(attrs.get("shrink_axis_mask", 0) & (bit - 1)).count("1")
    return None


def _past_the_end(indices: Tensor, params: Tensor, axis: int) -> Tensor:
    """Bounded indices whose padding names no row of params: the gradient's IndexedSlices then touch only the
    kept rows (a sparse optimizer drops the rest), while the forward gather's clamped padding rows are zeroed."""
    padded, count = indices.op.inputs
    rows = math_ops.cast(shape(params, out_type=dtypes.int32)[axis % params.shape.ndims], padded.dtype)
    at = indices.op.attrs["axis"]
    kept = math_ops.less(array_ops.range(shape(padded, out_type=count.dtype)[at]), count)
    kept = array_ops.reshape(kept, [-1] + [1] * (padded.shape.ndims - at - 1))
    return math_ops.where(kept, padded, array_ops.broadcast_to(rows, shape(padded)))


def _rebounded(y: Tensor, count: Tensor, axis: int) -> Tensor:
    """y's rows from `count` on along axis zeroed, and y bounded by that count there."""
    rank = y.shape.ndims
    kept = math_ops.less(array_ops.range(shape(y, out_type=count.dtype)[axis]), count)
    kept = array_ops.reshape(kept, [-1] + [1] * (rank - axis - 1))
    y = math_ops.where(kept, y, array_ops.zeros_like(y))
    return make_op(TRIMMED, [y, count], {"axis": axis, "T": y.dtype}, name="trimmed")


def _elementwise(op_type: str, inputs, bounded, rebuild):
    """The op on the padded buffers, its padding zeroed again, bounded by the same count (one mask, one count)."""
    first = bounded[0]
    count, axis, rank = first.op.inputs[1], first.op.attrs["axis"], first.shape.ndims
    out_rank = builtins.max((t.shape.ndims or 0) for t in inputs)
    if any(t.shape.ndims is None for t in inputs):
        raise _unsupported(op_type, first, " (an operand has unknown rank)")
    out_axis = axis + out_rank - rank
    for t in inputs:
        at = out_axis - (out_rank - t.shape.ndims)
        if t.op.type == TRIMMED:
            if t.op.inputs[1] is not count or at != t.op.attrs["axis"]:
                raise _unsupported(op_type, t, " (operands counted apart: build them from one mask tensor)")
        elif at >= 0 and t.shape.dims[at] != 1:
            raise _unsupported(op_type, first, f" (operand {t.name} is not broadcast along it)")
    return _rebounded(rebuild([t.op.inputs[0] if t.op.type == TRIMMED else t for t in inputs]).outputs[0],
                      count, out_axis)


def bounded_shape(t: Tensor, out_type=dtypes.int32, name=None) -> Tensor:
    """tf.shape of a data-dependent result: the padded buffer's shape with the run's count on its axis."""
    padded, count = t.op.inputs
    axis = t.op.attrs["axis"]
    dims = shape(padded, out_type=out_type)
    return concat([dims[:axis], array_ops.reshape(math_ops.cast(count, out_type), [1]), dims[axis + 1:]], 0,
                  name=name or "Shape")


def bounded_mean(t: Tensor, axis, keepdims: bool, name=None) -> Tensor:
    """tf.reduce_mean of a data-dependent result over its axis: the padding-safe sum over the kept count."""
    with name_scope(name, "Mean", [t]):
        total = reduce_sum(t, axis, keepdims=keepdims)
        dims = bounded_shape(t)
        counted = reduce_prod(dims) if axis is None else reduce_prod(array_ops.gather(dims, axis))
        if t.dtype.is_integer:     # TF's truncated integer mean; an empty one divides by 1, not 0
            return math_ops.truncatediv(total, math_ops.cast(math_ops.maximum(counted, 1), t.dtype))
        return total / math_ops.cast(counted, t.dtype)


def _reduces_axis(inputs, axis: int) -> bool:
    if len(inputs) < 2:
        return True
    axes = inputs[1]._static_value
    if axes is None:
        return False
    rank = inputs[0].shape.ndims
    return any(int(a) % rank == axis for a in axes.reshape(-1))


def trimmed(padded: Tensor, count: Tensor, axis: int = 0) -> Tensor:
    return make_op(TRIMMED, [padded, count], {"axis": axis, "T": padded.dtype}, name="trimmed").outputs[0]


def _flat_mask(m: Tensor) -> Tensor:
    """One flattened mask per mask tensor, so results masked by the same tensor share one count."""
    if _graph.executing_eagerly():      # an eager count is a value: nothing to share
        return array_ops.reshape(m, [-1])
    memo = m.graph.__dict__.setdefault("_xlite_flat_masks", {})
    if m not in memo:
        memo[m] = array_ops.reshape(m, [-1])
    return memo[m]


def _slots(keep: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Per kept row its slot (others: the row count, which the scatter drops), and the count; one set per mask."""
    memo = {} if _graph.executing_eagerly() else keep.graph.__dict__.setdefault("_xlite_mask_slots", {})
    if keep not in memo:
        rows = shape(keep, out_type=dtypes.int32)[0]
        flags = math_ops.cast(keep, dtypes.int32)
        slots = cumsum(flags, exclusive=True)
        memo[keep] = (math_ops.where(keep, slots, array_ops.broadcast_to(rows, shape(slots))), rows, reduce_sum(flags))
    return memo[keep]


def compact_rows(x: Tensor, keep: Tensor) -> tuple[Tensor, Tensor]:
    """x's rows where keep, first and in order, zeros after them; and how many rows were kept."""
    target, rows, count = _slots(keep)
    data = math_ops.cast(x, dtypes.int32) if x.dtype.is_bool else x
    padded = unsorted_segment_sum(data, target, rows)
    if x.dtype.is_bool:
        padded = math_ops.cast(padded, dtypes.bool_)
    return padded, count


def boolean_mask(tensor, mask, name="boolean_mask", axis=None) -> Tensor:
    """tensor's entries where mask is True, the mask's dims flattened into one of data-dependent size."""
    with name_scope(name, "boolean_mask", [tensor, mask]):
        x = convert_to_tensor(tensor, name="tensor")
        m = convert_to_tensor(mask, name="mask")
        if m.dtype != dtypes.bool_:
            raise TypeError(f"mask must be a bool tensor, got {m.dtype.name}")
        k, rank = m.shape.ndims, x.shape.ndims
        if k is None or rank is None:
            raise ValueError("Number of mask dimensions must be specified, even if some dimensions are None.")
        if k == 0:
            raise ValueError("mask cannot be scalar.")
        axis = 0 if axis is None else int(axis)
        axis = axis + rank if axis < 0 else axis
        if not 0 <= axis <= rank - k:
            raise ValueError(f"axis {axis} and mask of rank {k} do not fit a tensor of rank {rank}")
        x.shape[axis:axis + k].assert_is_compatible_with(m.shape)
        dims = shape(x, out_type=dtypes.int32)
        flat = array_ops.reshape(x, concat([dims[:axis], [size(m, out_type=dtypes.int32)], dims[axis + k:]], 0))
        keep = _flat_mask(m)
        order = [axis] + [d for d in builtins.range(rank - k + 1) if d != axis]
        moved = flat if axis == 0 else array_ops.transpose(flat, order)
        padded, count = compact_rows(moved, keep)
        if axis:
            back = [order.index(d) for d in builtins.range(rank - k + 1)]
            padded = array_ops.transpose(padded, back)
        return trimmed(padded, count, axis)


def where_indices(condition, name=None) -> Tensor:
    """tf.where(condition): int64 [num_true, rank] coordinates of the True entries, in row-major order."""
    with name_scope(name, "Where", [condition]):
        c = convert_to_tensor(condition, name="condition")
        if c.dtype != dtypes.bool_:
            c = math_ops.not_equal(c, array_ops.zeros_like(c))
        rank = c.shape.ndims
        if rank is None:
            raise errors.unimplemented("tf.where(condition) of unknown rank")
        keep = array_ops.reshape(c, [-1])
        dims = shape(c, out_type=dtypes.int64)
        flat = math_ops.cast(array_ops.range(size(c, out_type=dtypes.int32)), dtypes.int64)
        if rank == 0:
            coords = zeros(stack([size(keep), 0]), dtypes.int64)
        else:
            coords = stack([math_ops.floormod(math_ops.floordiv(flat, reduce_prod(dims[d + 1:])), dims[d])
                            for d in builtins.range(rank)], axis=1)
        return trimmed(*compact_rows(coords, keep))


Unique = collections.namedtuple("Unique", ["y", "idx"])
UniqueWithCounts = collections.namedtuple("UniqueWithCounts", ["y", "idx", "count"])


def _unique_parts(x, out_idx):
    x = convert_to_tensor(x, name="x")
    if x.shape.ndims != 1:
        raise ValueError(f"unique expects a 1D vector, got shape {x.shape}")
    out_idx = dtypes.as_dtype(out_idx)
    ramp = array_ops.range(size(x, out_type=dtypes.int32))
    same = math_ops.logical_or(   # [i, j]: x_i == x_j, or i == j (so a NaN names itself)
        math_ops.equal(array_ops.expand_dims(x, 1), array_ops.expand_dims(x, 0)),
        math_ops.equal(array_ops.expand_dims(ramp, 1), array_ops.expand_dims(ramp, 0)))
    earlier = math_ops.less(array_ops.expand_dims(ramp, 0), array_ops.expand_dims(ramp, 1))   # j < i
    first = math_ops.logical_not(reduce_any(math_ops.logical_and(same, earlier), axis=1))
    slots = cumsum(math_ops.cast(first, out_idx), exclusive=True)
    named = math_ops.logical_and(same, array_ops.expand_dims(first, 0))   # [i, j]: j is x_i's first occurrence
    idx = reduce_sum(math_ops.where(named, array_ops.broadcast_to(array_ops.expand_dims(slots, 0), shape(named)),
                                    array_ops.zeros_like(named, dtype=out_idx)), axis=1)
    y, count = compact_rows(x, first)
    return x, y, idx, count


def unique(x, out_idx=dtypes.int32, name=None) -> Unique:
    """The distinct values of a 1-D x in order of first appearance, and each entry's index among them."""
    with name_scope(name, "Unique", [x]):
        _, y, idx, count = _unique_parts(x, out_idx)
        return Unique(trimmed(y, count), idx)


def unique_with_counts(x, out_idx=dtypes.int32, name=None) -> UniqueWithCounts:
    """tf.unique plus how often each distinct value occurs."""
    with name_scope(name, "UniqueWithCounts", [x]):
        x, y, idx, count = _unique_parts(x, out_idx)
        occurrences = unsorted_segment_sum(ones_like(idx), idx, size(x, out_type=dtypes.int32))
        return UniqueWithCounts(trimmed(y, count), idx, trimmed(occurrences, count))


def bincount(arr, weights=None, minlength=None, maxlength=None, dtype=dtypes.int32, name=None) -> Tensor:
    """Counts (or summed weights) of each value in arr, max(arr) + 1 of them (at least minlength, at most
    maxlength): a Python int maxlength bounds the buffer; eagerly, or for arr known when the graph is built,
    the length is known; else TF's shape [None] has no bound xlite can size a buffer from."""
    with name_scope(name, "bincount", [arr, weights]):
        values = math_ops.cast(array_ops.reshape(convert_to_tensor(arr, name="arr"), [-1]), dtypes.int32)
        if weights is None:
            counted = ones_like(values, dtype=dtypes.as_dtype(dtype))
        else:
            counted = array_ops.reshape(convert_to_tensor(weights, name="weights"), [-1])
        high = _known_int(maxlength)
        low = _known_int(minlength) if minlength is not None else 0
        if high is None or low is None or maxlength is None:
            length = _known_length(values, low)
            if length is None or (maxlength is not None and high is None):
                raise errors.unimplemented(
                    "tf.math.bincount without a Python int maxlength (and minlength) of an arr fed at run time: "
                    "the output length max(arr) + 1 depends on the data and has no bound (TF's shape [None]); "
                    "give maxlength, or run it eagerly")
            return unsorted_segment_sum(counted, values, length if high is None else builtins.min(length, high))
        bins = unsorted_segment_sum(counted, values, high)
        if low >= high:
            return bins
        length = math_ops.minimum(math_ops.maximum(reduce_max(concat([values, [-1]], 0)) + 1, low), high)
        return trimmed(bins, length)


def _known_int(value) -> int | None:
    """A length argument's value where it is known now: a Python int, or an eager or constant tensor."""
    if value is None or isinstance(value, (int, np.integer)):
        return value
    known = convert_to_tensor(value, dtype=dtypes.int32)._static_value if isinstance(value, Tensor) else value
    return None if known is None else int(np.asarray(known))


def _known_length(values: Tensor, low: int | None) -> int | None:
    """max(values) + 1 (at least low) where values are known now (eagerly: the compiled max's value)."""
    if low is None:
        return None
    if _graph.executing_eagerly():
        return builtins.max(int(reduce_max(concat([values, [-1]], 0))) + 1, low)
    known = values._static_value
    return None if known is None else builtins.max(int(np.max(known, initial=-1)) + 1, low)


def dynamic_partition(data, partitions, num_partitions, name=None) -> list:
    """data's rows split into num_partitions lists by partitions' values, each in input order."""
    with name_scope(name, "DynamicPartition", [data, partitions]):
        x = convert_to_tensor(data, name="data")
        p = convert_to_tensor(partitions, name="partitions")
        k = p.shape.ndims
        if k is None:
            raise ValueError("partitions must have a known rank")
        dims = shape(x, out_type=dtypes.int32)
        rows = array_ops.reshape(x, concat([[size(p, out_type=dtypes.int32)], dims[k:]], 0))
        ids = array_ops.reshape(p, [-1])
        return [trimmed(*compact_rows(rows, math_ops.equal(ids, i))) for i in builtins.range(int(num_partitions))]


def _stitch_sources(known: list) -> np.ndarray:
    """For each output row, the row of the stacked data it takes (later entries win, as in TF; the last: zeros)."""
    flat = np.concatenate([k.reshape(-1) for k in known]).astype(np.int64)
    if (flat < 0).any():
        raise ValueError(f"dynamic_stitch indices must be non-negative, got {flat.min()}")
    source = np.full(int(flat.max(initial=-1)) + 1, flat.size, np.int32)
    source[flat] = np.arange(flat.size, dtype=np.int32)
    return source


@lowering("DynamicStitch")
def _lower_dynamic_stitch(ctx, op, *operands):
    n = op.attrs["N"]
    if op.attrs.get("bounded"):
        return _lower_bounded_stitch(ctx, op, operands[:n], operands[n:])
    known = [ctx.constant_value(i) for i in operands[:n]]
    if any(k is None for k in known):
        raise errors.unimplemented("tf.dynamic_stitch of constant indices lowered without their values")
    data = operands[n:]
    known = [np.asarray(k) for k in known]
    row_dims = tuple(data[0].shape.dims[known[0].ndim:])
    for k, d in zip(known, data):
        if tuple(d.shape.dims[:k.ndim]) != k.shape and all(x is not None for x in d.shape.dims[:k.ndim]):
            raise ValueError(f"data shape {list(d.shape.dims)} does not start with indices shape {list(k.shape)}")
    source = _stitch_sources(known)
    out = Shape(data[0].dtype, (len(source),) + row_dims)
    if any(x is None for x in row_dims) or any(x is None for d in data for x in d.shape.dims):
        return ctx.unknown(out)
    b = ctx.b
    rows = [b.reshape(d, (k.size,) + row_dims) for k, d in zip(known, data)]
    zero = b.broadcast_to(b.scalar(0, out.dtype), (1,) + row_dims)
    stacked = b.emit("concatenate", tuple(rows) + (zero,), dimension=0)
    return b.emit("gather", (stacked, b.constant(source)), axis=0)


_STITCH_RANGE = ("indices{where} = {value} is not in [0, {bound}): tf.dynamic_stitch of indices fed at run time "
                 "makes an output of at most as many rows as there are indices ({bound}), in xlite")


def _lower_bounded_stitch(ctx, op, indices, data):
    """merged in a buffer of one row per index: entry p lands at row indices[p] unless a later entry names the
    same row (an O(n^2) comparison, as tf.unique's), rows no index names stay zero; indices outside the
    buffer raise after the run (run_checks.py) and are dropped by the scatter."""
    ranks = [i.shape.rank for i in indices]
    row_dims = tuple(data[0].shape.dims[ranks[0]:])
    sizes = [int(np.prod(i.shape.dims, dtype=np.int64)) if None not in i.shape.dims else None for i in indices]
    length = op.attrs.get("rows")      # eagerly: max(indices) + 1, known; else one row per index
    if None in sizes or None in row_dims or any(None in d.shape.dims for d in data):
        total = None if None in sizes else builtins.sum(sizes)
        return ctx.unknown(Shape(data[0].dtype, (total if length is None else length,) + row_dims))
    for i, d in zip(indices, data):
        if tuple(d.shape.dims[:i.shape.rank]) != tuple(i.shape.dims):
            raise ValueError(f"data shape {list(d.shape.dims)} does not start with indices shape "
                             f"{list(i.shape.dims)}")
    b, total = ctx.b, builtins.sum(sizes)
    length = total if length is None else length
    flat = b.emit("concatenate", tuple(b.convert(b.reshape(i, (k,)), dtypes.int32) for i, k in zip(indices, sizes)),
                  dimension=0) if len(indices) > 1 else b.convert(b.reshape(indices[0], (total,)), dtypes.int32)
    rows = tuple(b.reshape(d, (k,) + row_dims) for d, k in zip(data, sizes))
    stacked = b.emit("concatenate", rows, dimension=0) if len(rows) > 1 else rows[0]
    check = RunCheck(op.name, site(op), (total,), template=_STITCH_RANGE if length == total else RunCheck.template)
    check_in_range(ctx, op, flat, length, check)
    overwritten = repeated(b, flat, "GT")
    target = b.emit("select", (overwritten, b.broadcast_to(b.scalar(length, dtypes.int32), (total,)), flat))
    zeros = b.broadcast_to(b.scalar(0, stacked.dtype), (length,) + row_dims)
    return b.emit("scatter_add", (zeros, target, stacked), axis=0)


@grad_rule("DynamicStitch")
def _dynamic_stitch_grad(op, g):
    """TF's rule: each data entry gets the gradient of the row its index names (an overwritten one too)."""
    n = op.attrs["N"]
    return [None] * n + [array_ops.gather(g, i) for i in op.inputs[:n]]


def dynamic_stitch(indices, data, name=None) -> Tensor:
    """merged[indices[m][i]] = data[m][i] (later entries win, rows no index names are zeros); max(indices) + 1
    rows. Indices known when the graph is built size it exactly; others (fed, or eager values) give a
    data-dependent result in a buffer of one row per index, an index past it raising InvalidArgumentError."""
    indices = [convert_to_tensor(i, dtype=dtypes.int32, name="indices") for i in indices]
    data = [convert_to_tensor(d, name="data") for d in data]
    if len(indices) != len(data) or not data:
        raise ValueError(f"dynamic_stitch needs as many index lists as data, got {len(indices)} and {len(data)}")
    if not _graph.executing_eagerly() and all(i._static_value is not None for i in indices):
        return make_op("DynamicStitch", indices + data, {"N": len(data), "T": data[0].dtype},
                       name=name or "DynamicStitch").outputs[0]
    with name_scope(name, "DynamicStitch", indices + data):
        attrs = {"N": len(data), "T": data[0].dtype, "bounded": True}
        count = reduce_max(concat([array_ops.reshape(i, [-1]) for i in indices] + [[-1]], 0)) + 1
        if _graph.executing_eagerly():
            attrs["rows"] = int(count)
        padded = make_op("DynamicStitch", indices + data, attrs, name="DynamicStitch").outputs[0]
        return padded if "rows" in attrs else trimmed(padded, count)
