"""tf.reshape, tf.transpose, tf.expand_dims, tf.squeeze, tf.tile, tf.reverse and tf.broadcast_to.

This module is also the array-op namespace: it gathers the sibling modules
(shapes, fills, joins, slicing, padding, gathers) so `xlite/__init__.py`
star-imports one name list.
"""
from __future__ import annotations

import builtins
import math

import numpy as np

from xlite.frontend.array_helpers import (array_lowering, as_int_tensor, constant_arg, op_scope,
                                          partial_value, scalar_arg, shape_arg)
from xlite.frontend.convert import constant, convert_to_tensor
from xlite.frontend.fill_ops import *  # noqa: F401,F403
from xlite.frontend.fill_ops import __all__ as _fill_all
from xlite.frontend.gather_ops import *  # noqa: F401,F403
from xlite.frontend.gather_ops import __all__ as _gather_all
from xlite.frontend.gradients import grad_rule, no_gradient, sum_to_shape_of
from xlite.frontend.graph import Tensor
from xlite.frontend.join_ops import *  # noqa: F401,F403
from xlite.frontend.join_ops import __all__ as _join_all
from xlite.frontend.join_ops import stack
from xlite.frontend.op_registry import make_op
from xlite.frontend.pad_ops import *  # noqa: F401,F403
from xlite.frontend.pad_ops import __all__ as _pad_all
from xlite.frontend.shape_ops import *  # noqa: F401,F403
from xlite.frontend.shape_ops import __all__ as _shape_all
from xlite.frontend.shape_ops import rank, shape, size
from xlite.frontend.slicing_ops import *  # noqa: F401,F403
from xlite.frontend.slicing_ops import __all__ as _slicing_all
from xlite.ir.symbolic import SymbolicUnsupported, has_symbolic
from xlite.ir.shape import Shape

__all__ = ["reshape", "transpose", "invert_permutation", "expand_dims", "squeeze", "tile", "reverse",
           "reverse_v2", "broadcast_to", "meshgrid", "newaxis"]
__all__ += _shape_all + _fill_all + _join_all + _slicing_all + _pad_all + _gather_all

newaxis = None
# the star imports above bind tf.range and tf.slice here; Python's own are builtins.range and builtins.slice


# reshape ------------------------------------------------------------------------------
def _reshape_dims(dims, target) -> list:
    """The result dims of reshaping `dims` to `target` (which may hold one -1), checking element counts."""
    for d in target:
        if d is not None and d < -1:
            raise ValueError(f"Invalid value in tensor used for shape: {d}")
    inferred = [i for i, d in enumerate(target) if d == -1]
    if len(inferred) > 1:
        raise ValueError(f"Only one input size may be -1, not both {inferred[0]} and {inferred[1]}")
    rest = [d for d in target if d != -1]
    n_in = None if None in dims else math.prod(dims)        # (math.prod: symbolic sizes too)
    n_rest = None if None in rest else math.prod(rest)
    out = list(target)
    if inferred:
        if n_in is None or n_rest is None:
            out[inferred[0]] = None
        elif n_rest == 0:
            raise ValueError(f"Reshape cannot infer the missing input size for an empty tensor unless all "
                             f"specified input sizes are non-zero (shape {list(target)})")
        elif n_in % n_rest:
            raise ValueError(f"Cannot reshape a tensor with {n_in} elements to shape {list(target)}: "
                             f"{n_in} is not divisible by {n_rest}")
        else:
            out[inferred[0]] = n_in // n_rest
    elif n_in is not None and n_rest is not None and n_in != n_rest:
        raise ValueError(f"Cannot reshape a tensor with {n_in} elements to shape {list(target)} "
                         f"({n_rest} elements)")
    return out


@array_lowering("Reshape")
def _lower_reshape(ctx, op, x, shape_inst):
    target = shape_arg(ctx, op, 1, shape_inst)
    if target is None:   # a shape of unknown length: the API made the output's rank unknown
        return ctx.unknown(Shape(x.dtype, ()))
    return ctx.b.reshape(x, _reshape_dims(x.shape.dims, target))


@grad_rule("Reshape", "ExpandDims", "Squeeze")
def _reshape_grad(op, g):
    x = op.inputs[0]
    return [reshape(g, shape(x))] + [None] * (len(op.inputs) - 1)


def reshape(tensor, shape, name=None) -> Tensor:  # noqa: A002 - TF's argument name
    x = convert_to_tensor(tensor)
    with op_scope(name, "Reshape", x.graph) as scope:
        target = as_int_tensor(shape, "shape")
        if target.shape.ndims is not None and target.shape.ndims != 1:
            raise ValueError(f"Shape must be rank 1 but is rank {target.shape.ndims} for 'Reshape' "
                             f"(the new shape of {x.name})")
        output_shapes = None
        known = partial_value(target)
        if known is None:
            output_shapes = [None]
        elif x.shape.ndims is None:
            output_shapes = [[None if d == -1 else d for d in known]]
        return make_op("Reshape", [x, target], {"T": x.dtype, "Tshape": target.dtype}, name=scope,
                       output_shapes=output_shapes).outputs[0]


# transpose ------------------------------------------------------------------------------
@array_lowering("Transpose")
def _lower_transpose(ctx, op, x, perm_inst):
    rank = x.shape.rank
    perm = constant_arg(ctx, op, perm_inst, "perm")
    if perm is None:
        return ctx.unknown(Shape(x.dtype, (None,) * rank))
    perm = [int(p) for p in np.reshape(perm, -1)]
    if len(perm) != rank:
        raise ValueError(f"Dimension must be {rank} but is {len(perm)} (transpose of a rank-{rank} tensor "
                         f"with perm {perm})")
    if sorted(perm) != list(builtins.range(rank)):
        raise ValueError(f"transpose expects a permutation of 0..{rank - 1}, got perm {perm}")
    return ctx.b.transpose(x, perm)


@grad_rule("Transpose")
def _transpose_grad(op, g):
    perm = op.inputs[1]
    if perm._static_value is not None:
        inverse = constant(np.argsort(perm._static_value).astype(perm.dtype.np), name="invert_permutation")
    else:
        inverse = invert_permutation(perm)
    return [transpose(g, inverse), None]


def transpose(a, perm=None, name="transpose", conjugate=False) -> Tensor:
    x = convert_to_tensor(a)
    with op_scope(name, "transpose", x.graph) as scope:
        if perm is not None:
            perm = as_int_tensor(perm, "perm")
        elif x.shape.ndims is not None:
            perm = constant(np.arange(x.shape.ndims - 1, -1, -1, dtype=np.int32), name="perm")
        else:
            r = rank(x)
            perm = (r - 1) - range(0, r, 1)  # tf.range
        return make_op("Transpose", [x, perm], {"T": x.dtype, "Tperm": perm.dtype}, name=scope).outputs[0]


@array_lowering("InvertPermutation")
def _lower_invert_permutation(ctx, op, p):
    """inverse[p[i]] = i: a scatter of iota, so it needs no value known at compile time."""
    b = ctx.b
    if p.shape.rank != 1:
        raise ValueError(f"invert_permutation expects a vector, got shape {list(p.shape.dims)}")
    (n,) = p.shape.dims
    if n is None:
        return ctx.unknown(p.shape)
    zeros = b.broadcast_in_dim(b.scalar(0, p.dtype), (n,), ())
    return b.emit("scatter_add", (zeros, p, b.iota(p.dtype, (n,), 0)), axis=0)


no_gradient("InvertPermutation")


def invert_permutation(x, name=None) -> Tensor:
    p = as_int_tensor(x, "x")
    return make_op("InvertPermutation", [p], {"T": p.dtype}, name=name or "InvertPermutation").outputs[0]


# expand_dims / squeeze --------------------------------------------------------------------
@array_lowering("ExpandDims")
def _lower_expand_dims(ctx, op, x, axis_inst):
    rank = x.shape.rank
    axis = scalar_arg(ctx, op, axis_inst, "axis")
    if axis is None:
        return ctx.unknown(Shape(x.dtype, (None,) * (rank + 1)))
    if not -rank - 1 <= axis <= rank:
        raise ValueError(f"dim {axis} not in the interval [{-rank - 1}, {rank}].")
    dims = list(x.shape.dims)
    dims.insert(axis % (rank + 1), 1)
    return ctx.b.reshape(x, dims)


def expand_dims(input, axis=None, name=None, dim=None) -> Tensor:  # noqa: A002
    if axis is not None and dim is not None:
        raise ValueError("Cannot specify both 'axis' and 'dim'")
    axis = dim if axis is None else axis
    if axis is None:
        raise ValueError("Must specify an axis argument to tf.expand_dims()")
    x = convert_to_tensor(input)
    with op_scope(name, "ExpandDims", x.graph) as scope:
        axis_t = as_int_tensor(axis, "dim")
        return make_op("ExpandDims", [x, axis_t], {"T": x.dtype, "Tdim": axis_t.dtype}, name=scope).outputs[0]


@array_lowering("Squeeze")
def _lower_squeeze(ctx, op, x):
    dims = x.shape.dims
    rank = len(dims)
    axes = op.attrs["squeeze_dims"]
    if axes:
        drop = set()
        for i, a in enumerate(axes):
            if not -rank <= a < rank:
                raise ValueError(f"squeeze_dims[{i}] not in [{-rank},{rank}).")
            if dims[a % rank] not in (None, 1):
                raise ValueError(f"Can not squeeze dim[{a % rank}], expected a dimension of 1, got {dims[a % rank]}")
            drop.add(a % rank)
    elif None in dims:   # which dims go depends on the run; the API made the static rank unknown
        return ctx.unknown(Shape(x.dtype, ()))
    elif has_symbolic(dims):     # whether a symbolic size goes depends on the run: specialize on it
        raise SymbolicUnsupported(f"Squeeze without squeeze_dims of {x.shape}")
    else:
        drop = {i for i, d in enumerate(dims) if d == 1}
    return ctx.b.reshape(x, [d for i, d in enumerate(dims) if i not in drop])


def squeeze(input, axis=None, name=None, squeeze_dims=None) -> Tensor:  # noqa: A002
    if axis is not None and squeeze_dims is not None:
        raise ValueError("Cannot specify both 'squeeze_dims' and 'axis'")
    axis = squeeze_dims if axis is None else axis
    axes = [] if axis is None else [int(a) for a in np.reshape(axis, -1)]
    x = convert_to_tensor(input)
    unknown_rank = not axes and x.shape.ndims is not None and None in x.shape.dims
    return make_op("Squeeze", [x], {"T": x.dtype, "squeeze_dims": axes}, name=name or "Squeeze",
                   output_shapes=[None] if unknown_rank else None).outputs[0]


# broadcast_to / tile ------------------------------------------------------------------------
@array_lowering("BroadcastTo")
def _lower_broadcast_to(ctx, op, x, shape_inst):
    target = shape_arg(ctx, op, 1, shape_inst)
    if target is None:
        return ctx.unknown(Shape(x.dtype, ()))
    dims = x.shape.dims
    if len(target) < len(dims):
        raise ValueError(f"Rank of input ({len(dims)}) must be no greater than rank of output shape "
                         f"({len(target)})")
    if any(t is not None and t < 0 for t in target):
        raise ValueError(f"broadcast_to: shape {target} has negative dimensions")
    out = list(target)
    offset = len(target) - len(dims)
    for i, d in enumerate(dims):
        t = target[offset + i]
        if d is None or d == 1:
            continue
        if t is None:
            out[offset + i] = d
        elif t != d:
            raise ValueError(f"Dimensions must be equal, but are {d} and {t}: cannot broadcast a tensor of "
                             f"shape {list(dims)} to shape {target}")
    return ctx.b.broadcast_to(x, out)


@grad_rule("BroadcastTo")
def _broadcast_to_grad(op, g):
    return [sum_to_shape_of(g, op.inputs[0]), None]


def broadcast_to(input, shape, name=None) -> Tensor:  # noqa: A002
    x = convert_to_tensor(input)
    with op_scope(name, "BroadcastTo", x.graph) as scope:
        target = as_int_tensor(shape, "shape")
        known = partial_value(target)
        return make_op("BroadcastTo", [x, target], {"T": x.dtype, "Tidx": target.dtype}, name=scope,
                       output_shapes=[None] if known is None else None).outputs[0]


@array_lowering("Tile")
def _lower_tile(ctx, op, x, multiples_inst):
    dims = x.shape.dims
    rank = len(dims)
    m = shape_arg(ctx, op, 1, multiples_inst)
    m = [None] * rank if m is None else m
    if len(m) != rank:
        raise ValueError(f"Expected multiples argument to be a vector of length {rank} but got length {len(m)}")
    for i, k in enumerate(m):
        if k is not None and k < 0:
            raise ValueError(f"Expected multiples[{i}] >= 0, but got {k}")
    out = [None if d is None or k is None else d * k for d, k in zip(dims, m)]
    if None in out:
        return ctx.unknown(Shape(x.dtype, out))
    b = ctx.b
    spread = [v for d, k in zip(dims, m) for v in (k, d)]
    return b.reshape(b.broadcast_in_dim(x, spread, tuple(builtins.range(1, 2 * rank, 2))), out)


@grad_rule("Tile")
def _tile_grad(op, g):
    """Views g as [m0, d0, m1, d1, ...] and sums over the multiples."""
    from xlite.frontend.reduction_ops import reduce_sum
    x, multiples = op.inputs
    split = reshape(transpose(stack([multiples, shape(x, out_type=multiples.dtype)])), [-1])
    r = x.shape.ndims if x.shape.ndims is not None else multiples.shape.dims[0]
    axes = list(builtins.range(0, 2 * r, 2)) if r is not None else range(0, 2 * rank(x), 2)
    gx = reduce_sum(reshape(g, split), axis=axes)
    gx.set_shape(x.shape)
    return [gx, None]


def tile(input, multiples, name=None) -> Tensor:  # noqa: A002
    x = convert_to_tensor(input)
    with op_scope(name, "Tile", x.graph) as scope:
        m = as_int_tensor(multiples, "multiples")
        return make_op("Tile", [x, m], {"T": x.dtype, "Tmultiples": m.dtype}, name=scope).outputs[0]


# reverse ------------------------------------------------------------------------------------
@array_lowering("ReverseV2")
def _lower_reverse(ctx, op, x, axis_inst):
    rank = x.shape.rank
    axes = constant_arg(ctx, op, axis_inst, "axis")
    if axes is None:
        return ctx.unknown(x.shape)
    dims = []
    for i, a in enumerate(int(a) for a in np.reshape(axes, -1)):
        if not -rank <= a < rank:
            raise ValueError(f"'axis'[{i}] = {a} is out of valid range [{-rank}, {rank})")
        if a % rank in dims:
            raise ValueError(f"axis {a % rank} specified more than once.")
        dims.append(a % rank)
    return ctx.b.emit("reverse", (x,), dimensions=tuple(sorted(dims))) if dims else x


@grad_rule("ReverseV2")
def _reverse_grad(op, g):
    return [reverse(g, op.inputs[1]), None]


def reverse(tensor, axis, name=None) -> Tensor:
    x = convert_to_tensor(tensor)
    with op_scope(name, "ReverseV2", x.graph) as scope:
        axis_t = as_int_tensor(axis, "axis")
        return make_op("ReverseV2", [x, axis_t], {"T": x.dtype, "Tidx": axis_t.dtype}, name=scope).outputs[0]


reverse_v2 = reverse


# compositions ----------------------------------------------------------------------------------
def meshgrid(*args, **kwargs) -> list:
    """Coordinate grids, each input reshaped onto its own axis and broadcast to the full grid."""
    indexing = kwargs.pop("indexing", "xy")
    name = kwargs.pop("name", "meshgrid")
    if kwargs:
        raise TypeError(f"'{next(iter(kwargs))}' is an invalid keyword argument for this function")
    if indexing not in ("xy", "ij"):
        raise ValueError("indexing parameter must be either 'xy' or 'ij'")
    n = len(args)
    with op_scope(name, "meshgrid"):
        xs = [convert_to_tensor(a) for a in args]
        axes = list(builtins.range(n))
        if indexing == "xy" and n > 1:
            axes[0], axes[1] = 1, 0
        sizes = [None] * n
        for x, a in zip(xs, axes):
            sizes[a] = size(x)
        grid = stack(sizes)
        outputs = []
        for x, a in zip(xs, axes):
            line = reshape(x, [-1 if i == a else 1 for i in builtins.range(n)])
            outputs.append(broadcast_to(line, grid))
        return outputs


