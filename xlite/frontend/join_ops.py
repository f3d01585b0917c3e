"""Joining and parting tensors: tf.concat, tf.stack, tf.unstack and tf.split, each the others' gradient."""
from __future__ import annotations

import numbers

import numpy as np

from xlite.frontend.array_helpers import (array_lowering, as_int_tensor, constant_arg, is_tensor_like,
                                          normalize_axis, op_scope, scalar_arg, shape_arg, slice_dim)
from xlite.frontend.convert import convert_to_tensor, default_graph_of
from xlite.frontend.gradients import grad_rule, no_gradient
from xlite.frontend.graph import Tensor
from xlite.frontend.op_registry import make_op
from xlite.frontend.shape_ops import shape_n
from xlite.frontend.slicing_ops import slice  # noqa: A004 - TF's name
from xlite.ir.shape import Shape
from xlite.ir.shape_inference import merge_dim

__all__ = ["concat", "stack", "unstack", "split"]


def _merged_dims(shapes, skip=None) -> tuple:
    """Dims that must agree across shapes (all but `skip`), merged; TF's message when they do not."""
    dims = list(shapes[0].dims)
    for s in shapes[1:]:
        if s.rank != len(dims):
            raise ValueError(f"Shape must be rank {len(dims)} but is rank {s.rank}: shapes {list(shapes[0].dims)} "
                             f"and {list(s.dims)}")
        for i, d in enumerate(s.dims):
            if i == skip:
                continue
            try:
                dims[i] = merge_dim(dims[i], d, "")
            except ValueError:
                raise ValueError(f"Dimension {i} in both shapes must be equal, but are {dims[i]} and {d}. Shapes "
                                 f"are {list(shapes[0].dims)} and {list(s.dims)}.") from None
    return tuple(dims)


def _common_dtype(values, op_type: str) -> list:
    """Python values adopt the first tensor's dtype; tensors must all agree."""
    first = next((convert_to_tensor(v) for v in values if is_tensor_like(v)), None)
    tensors = [convert_to_tensor(v) if is_tensor_like(v) or first is None else
               convert_to_tensor(v, dtype=first.dtype) for v in values]
    kinds = [t.dtype for t in tensors]
    if any(k != kinds[0] for k in kinds):
        raise TypeError(f"Tensors in list passed to 'values' of '{op_type}' Op have types "
                        f"[{', '.join(k.name for k in kinds)}] that don't all match.")
    return tensors


# concat ------------------------------------------------------------------------------------
@array_lowering("ConcatV2")
def _lower_concat(ctx, op, *operands):
    *values, axis_inst = operands
    rank = values[0].shape.rank
    if rank == 0:
        raise ValueError("Can't concatenate scalars (use tf.stack instead)")
    axis = scalar_arg(ctx, op, axis_inst, "axis")
    if axis is None:
        return ctx.unknown(Shape(values[0].dtype, (None,) * rank))
    if not -rank <= axis < rank:
        raise ValueError(f"ConcatOp : Expected concatenating dimensions in the range [{-rank}, {rank}), "
                         f"but got {axis}")
    _merged_dims([v.shape for v in values], skip=axis % rank)
    return ctx.b.emit("concatenate", tuple(values), dimension=axis % rank)


@array_lowering("ConcatOffset", outputs=lambda op: op.attrs["N"])
def _lower_concat_offset(ctx, op, axis_inst, *shapes):
    """Where each input of a concat starts in its result: the gradient's slice offsets."""
    axis = scalar_arg(ctx, op, axis_inst, "concat_dim")
    values = [constant_arg(ctx, op, s, "shape") for s in shapes]
    if axis is None or any(v is None for v in values):
        return [ctx.unknown(s.shape) for s in shapes]
    dims = [np.reshape(v, -1) for v in values]
    axis = normalize_axis(axis, len(dims[0]), "concat_dim")
    offsets, total = [], 0
    for d, s in zip(dims, shapes):
        offset = np.zeros(len(d), dtype=s.dtype.np)
        offset[axis] = total
        total += int(d[axis])
        offsets.append(ctx.b.constant(offset))
    return offsets


no_gradient("ConcatOffset")


@grad_rule("ConcatV2")
def _concat_grad(op, g):
    *values, axis = op.inputs
    shapes = shape_n(values)
    offsets = make_op("ConcatOffset", [axis] + shapes, {"N": len(shapes), "T": shapes[0].dtype},
                      name="ConcatOffset", n_outputs=len(shapes)).outputs
    return [slice(g, o, s) for o, s in zip(offsets, shapes)] + [None]


def concat(values, axis, name="concat") -> Tensor:
    from xlite.frontend.math_ops import identity
    if not isinstance(values, (list, tuple)):
        values = [values]
    with op_scope(name, "concat", default_graph_of(*values)) as scope:
        tensors = _common_dtype(values, "ConcatV2")
        if len(tensors) == 1:
            return identity(tensors[0], name=scope)
        axis_t = as_int_tensor(axis, "axis")
        return make_op("ConcatV2", tensors + [axis_t], {"N": len(tensors), "T": tensors[0].dtype,
                                                        "Tidx": axis_t.dtype}, name=scope).outputs[0]


# stack / unstack ------------------------------------------------------------------------------
@array_lowering("Pack")
def _lower_pack(ctx, op, *values):
    rank = values[0].shape.rank
    axis = op.attrs["axis"]
    if not -rank - 1 <= axis <= rank:
        raise ValueError(f"Argument `axis` = {axis} not in range [{-rank - 1}, {rank + 1})")
    axis %= rank + 1
    _merged_dims([v.shape for v in values])
    b = ctx.b
    parts = []
    for v in values:
        dims = list(v.shape.dims)
        dims.insert(axis, 1)
        parts.append(b.reshape(v, dims))
    return b.emit("concatenate", tuple(parts), dimension=axis)


@grad_rule("Pack")
def _pack_grad(op, g):
    return unstack(g, num=op.attrs["N"], axis=op.attrs["axis"])


def stack(values, axis=0, name="stack") -> Tensor:
    """A list of Python values at axis 0 becomes one Const, as in TF."""
    stacked = getattr(values, "_tensor_array_stack", None)   # a list AutoGraph made a TensorArray
    if stacked is not None and axis == 0:
        return stacked(name=name)
    if axis == 0 and not any(is_tensor_like(v) for v in values):
        try:
            return convert_to_tensor(values, name=name)
        except (TypeError, ValueError):
            pass
    tensors = _common_dtype(values, "Pack")
    if not tensors:
        raise ValueError("stack expects a non-empty list of tensors")
    ranks = {t.shape.ndims for t in tensors} - {None}
    if ranks:
        r = ranks.pop()
        if not -r - 1 <= axis <= r:
            raise ValueError(f"Argument `axis` = {axis} not in range [{-r - 1}, {r + 1})")
    return make_op("Pack", tensors, {"axis": int(axis), "N": len(tensors), "T": tensors[0].dtype},
                   name=name).outputs[0]


@array_lowering("Unpack", outputs=lambda op: op.attrs["num"])
def _lower_unpack(ctx, op, x):
    num = op.attrs["num"]
    dims = x.shape.dims
    axis = normalize_axis(op.attrs["axis"], len(dims))
    if dims[axis] is not None and dims[axis] != num:
        raise ValueError(f"Dimension {axis} of a tensor of shape {list(dims)} must equal num = {num}")
    out = dims[:axis] + dims[axis + 1:]
    if None in dims:
        return [ctx.unknown(Shape(x.dtype, out)) for _ in range(num)]
    return [ctx.b.reshape(slice_dim(ctx.b, x, axis, i, i + 1), out) for i in range(num)]


@grad_rule("Unpack")
def _unpack_grad(op, *grads):
    return [stack(list(grads), axis=op.attrs["axis"])]


def unstack(value, num=None, axis=0, name="unstack") -> list:
    x = convert_to_tensor(value)
    if num is None:
        r = x.shape.ndims
        if r is None:
            raise ValueError(f"Cannot infer argument `num` from shape {x.shape}")
        if not -r <= axis < r:
            raise ValueError(f"Argument `axis` = {axis} not in range [{-r}, {r})")
        num = x.shape.dims[axis]
        if num is None:
            raise ValueError(f"Cannot infer argument `num` from shape {x.shape}")
    op = make_op("Unpack", [x], {"num": int(num), "axis": int(axis), "T": x.dtype}, name=name, n_outputs=int(num))
    return list(op.outputs)


# split ------------------------------------------------------------------------------------
def _pieces(ctx, x, axis, sizes):
    dims = x.shape.dims
    outs = [dims[:axis] + (s,) + dims[axis + 1:] for s in sizes]
    if None in dims or None in sizes:
        return [ctx.unknown(Shape(x.dtype, o)) for o in outs]
    pieces, start = [], 0
    for s in sizes:
        pieces.append(slice_dim(ctx.b, x, axis, start, start + s))
        start += s
    return pieces


@array_lowering("Split", outputs=lambda op: op.attrs["num_split"])
def _lower_split(ctx, op, axis_inst, x):
    n = op.attrs["num_split"]
    rank = x.shape.rank
    axis = scalar_arg(ctx, op, axis_inst, "split_dim")
    if axis is None:
        return [ctx.unknown(Shape(x.dtype, (None,) * rank)) for _ in range(n)]
    axis = normalize_axis(axis, rank, "split_dim")
    d = x.shape.dims[axis]
    if d is not None and d % n:
        raise ValueError(f"Dimension size must be evenly divisible by {n} but is {d}")
    return _pieces(ctx, x, axis, [None if d is None else d // n] * n)


@array_lowering("SplitV", outputs=lambda op: op.attrs["num_split"])
def _lower_split_v(ctx, op, x, sizes_inst, axis_inst):
    n = op.attrs["num_split"]
    rank = x.shape.rank
    sizes = shape_arg(ctx, op, 1, sizes_inst)
    sizes = [None] * n if sizes is None else list(sizes)
    if len(sizes) != n:
        raise ValueError(f"size_splits has {len(sizes)} entries but num_split is {n}")
    axis = scalar_arg(ctx, op, axis_inst, "split_dim")
    if axis is None:
        return [ctx.unknown(Shape(x.dtype, (None,) * rank)) for _ in range(n)]
    axis = normalize_axis(axis, rank, "split_dim")
    if any(s is not None and s < -1 for s in sizes):
        raise ValueError(f"size_splits must be non-negative (or -1 once), got {sizes}")
    inferred = [i for i, s in enumerate(sizes) if s == -1]
    if len(inferred) > 1:
        raise ValueError("size_splits can only have one -1")
    d = x.shape.dims[axis]
    rest = [s for s in sizes if s != -1]
    total = None if None in rest else sum(rest)
    if inferred:
        if d is not None and total is not None and total > d:
            raise ValueError(f"can't split axis of size {d} into pieces of size {sizes}")
        sizes[inferred[0]] = None if d is None or total is None else d - total
    elif d is not None and total is not None and total != d:
        raise ValueError(f"can't split axis of size {d} into pieces of size {sizes}")
    return _pieces(ctx, x, axis, sizes)


@grad_rule("Split")
def _split_grad(op, *grads):
    return [None, concat(list(grads), op.inputs[0])]


@grad_rule("SplitV")
def _split_v_grad(op, *grads):
    return [concat(list(grads), op.inputs[2]), None, None]


def split(value, num_or_size_splits, axis=0, num=None, name="split") -> list:
    x = convert_to_tensor(value)
    splits = num_or_size_splits
    if is_tensor_like(splits) and convert_to_tensor(splits).shape.ndims == 0:
        t = convert_to_tensor(splits)
        if t._static_value is None:
            raise ValueError(f"num_or_size_splits {t.name} must be a compile-time constant when it is a scalar")
        splits = int(t._static_value)
    with op_scope(name, "split", x.graph) as scope:
        if isinstance(splits, numbers.Integral) and not isinstance(splits, bool):
            n = int(splits)
            if n < 1:
                raise ValueError(f"num_or_size_splits must be >= 1, got {n}")
            axis_t = as_int_tensor(axis, "split_dim")
            op = make_op("Split", [axis_t, x], {"num_split": n, "T": x.dtype}, name=scope, n_outputs=n)
            return list(op.outputs)
        sizes = as_int_tensor(splits, "size_splits")
        if num is None:
            if sizes.shape.ndims != 1 or sizes.shape.dims[0] is None:
                raise ValueError(f"Cannot infer argument `num` from shape {sizes.shape}")
            num = sizes.shape.dims[0]
        axis_t = as_int_tensor(axis, "split_dim")
        op = make_op("SplitV", [x, sizes, axis_t], {"num_split": int(num), "T": x.dtype, "Tlen": sizes.dtype},
                     name=scope, n_outputs=int(num))
        return list(op.outputs)
