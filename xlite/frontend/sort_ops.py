"""tf.nn.top_k, tf.sort and tf.argsort: TopKV2 lowered to existing IR opcodes by ranking every pair.

An element's rank along the last axis is how many elements come before it (greater, or equal at a lower
index, so ties keep input order as TF's do; NaN ranks above every number). The k outputs then pick the
element whose rank is their position: compare, reduce and select only, so every backend runs it and
nothing reads out of bounds. The cost is O(n^2) per row of n, fused into one reduction.
"""
from __future__ import annotations

import builtins

from xlite import errors
from xlite.frontend import array_ops, math_ops
from xlite.frontend.array_helpers import scalar_arg
from xlite.frontend.convert import convert_to_tensor
from xlite.frontend.fill_ops import one_hot
from xlite.frontend.gradients import grad_rule
from xlite.frontend.graph import Tensor
from xlite.frontend.op_registry import lowering, make_op
from xlite.frontend.reduction_ops import reduce_sum
from xlite.frontend.scopes import name_scope
from xlite.frontend.shape_ops import shape
from xlite.ir import dtypes
from xlite.ir.shape import Shape
from xlite.ir.symbolic import SymbolicUnsupported, SymInt

__all__ = ["top_k", "sort", "argsort", "searchsorted"]


def _comes_before(b, x, pairs):
    """pairs[..., i, j]: x[..., j] comes before x[..., i] in descending order (ties: lower index first)."""
    r = x.shape.rank
    lead = tuple(builtins.range(r - 1))
    xi = b.broadcast_in_dim(x, pairs, lead + (r - 1,))
    xj = b.broadcast_in_dim(x, pairs, lead + (r,))
    greater, equal = b.compare(xj, xi, "GT"), b.compare(xj, xi, "EQ")
    if x.dtype.is_floating:
        nan_i, nan_j = b.compare(xi, xi, "NE"), b.compare(xj, xj, "NE")
        greater = b.emit("or", (greater, b.emit("and", (nan_j, b.emit("not", (nan_i,))))))
        equal = b.emit("or", (equal, b.emit("and", (nan_i, nan_j))))
    lower_index = b.compare(b.iota(dtypes.int32, pairs, r), b.iota(dtypes.int32, pairs, r - 1), "LT")
    return b.emit("or", (greater, b.emit("and", (equal, lower_index))))


def _pick(b, hit, value, zero_dtype, r):
    """Sum over i of value[..., p, i] where hit[..., p, i]: the one element each position p ranks."""
    zero = b.broadcast_to(b.scalar(0, zero_dtype), hit.shape.dims)
    return b.reduce(b.emit("select", (hit, value, zero)), "sum", [r])


@lowering("TopKV2")
def _lower_top_k(ctx, op, x, k_inst):
    if x.shape.rank < 1:
        raise ValueError(f"input must be at least 1-dimensional, got shape {list(x.shape.dims)}")
    if x.dtype.is_bool:
        raise TypeError("top_k does not sort bool tensors")
    k = scalar_arg(ctx, op, k_inst, "k", index=1)
    n = x.shape.dims[-1]
    if k is not None and k < 0:
        raise ValueError(f"Need k >= 0, got {k}")
    if k is not None and isinstance(n, int) and n < k:
        raise ValueError(f"input must have at least k columns. Had {n}, needed {k}")
    if k and isinstance(n, SymInt):     # k <= n is checked per size: the Session compiles this run's sizes
        raise SymbolicUnsupported(f"top_k over the symbolic row size {n}")
    lead = x.shape.dims[:-1]
    if k is None or n is None:
        if not ctx.static:
            raise errors.unimplemented("tf.nn.top_k with a k known only at run time (feed a constant k)")
        return [ctx.unknown(Shape(x.dtype, lead + (k,))), ctx.unknown(Shape(dtypes.int32, lead + (k,)))]
    b, r = ctx.b, x.shape.rank
    pairs = lead + (n, n)
    rank = b.reduce(b.convert(_comes_before(b, x, pairs), dtypes.int32), "sum", [r])
    chosen = lead + (k, n)
    hit = b.compare(b.broadcast_in_dim(rank, chosen, tuple(builtins.range(r - 1)) + (r,)),
                    b.iota(dtypes.int32, chosen, r - 1), "EQ")
    spread = b.broadcast_in_dim(x, chosen, tuple(builtins.range(r - 1)) + (r,))
    values = _pick(b, hit, spread, x.dtype, r)
    if x.dtype.is_floating:     # the sum dropped the sign of a -0.0: pick that sign too, as TF keeps it
        zero = b.broadcast_to(b.scalar(0, x.dtype), chosen)
        negative_zero = b.emit("and", (b.compare(spread, zero, "EQ"),
                                       b.compare(b.emit("div", (b.broadcast_to(b.scalar(1, x.dtype), chosen), spread)),
                                                 zero, "LT")))
        was_negative = b.compare(_pick(b, hit, b.convert(negative_zero, dtypes.int32), dtypes.int32, r),
                                 b.broadcast_to(b.scalar(0, dtypes.int32), lead + (k,)), "GT")
        values = b.emit("select", (was_negative, b.broadcast_to(b.scalar(-0.0, x.dtype), lead + (k,)), values))
    indices = _pick(b, hit, b.iota(dtypes.int32, chosen, r), dtypes.int32, r)
    return [values, indices]


@grad_rule("TopKV2")
def _top_k_grad(op, grad_values, grad_indices):
    """As TF: the values' gradient goes back to the positions the indices name; k and the indices get none."""
    x = op.inputs[0]
    if grad_values is None:
        return [None, None]
    depth = shape(x, out_type=dtypes.int32)[-1]
    spread = one_hot(op.outputs[1], depth, dtype=grad_values.dtype)      # [..., k, n]
    return [reduce_sum(spread * array_ops.expand_dims(grad_values, -1), axis=-2), None]


def top_k(input, k=1, sorted=True, name=None) -> tuple:   # noqa: A002 - TF's argument names
    """The k largest entries of the last axis and their indices (ties: lower index first). Always sorted."""
    x = convert_to_tensor(input, name="input")
    with x.graph.name_scope(name or "TopKV2") as scope:
        k = convert_to_tensor(k, dtype=dtypes.int32, name="k")
        op = make_op("TopKV2", [x, k], {"sorted": bool(sorted), "T": x.dtype}, name=scope, n_outputs=2)
    return _TopKResult(op.outputs[0], op.outputs[1])


class _TopKResult(tuple):
    """TF's namedtuple TopKV2(values, indices)."""

    def __new__(cls, values, indices):
        return super().__new__(cls, (values, indices))

    values = property(lambda self: self[0])
    indices = property(lambda self: self[1])


def _descending(x: Tensor, axis: int, want_indices: bool) -> Tensor:
    """TF's _descending_sort: top_k over the whole axis, moved last and back."""
    rank = x.shape.ndims
    if rank is None:
        raise errors.unimplemented("tf.sort/tf.argsort of a tensor of unknown rank")
    if not -rank <= axis < rank:
        raise ValueError(f"axis {axis} is out of range for a tensor of rank {rank}")
    axis %= rank
    perm = list(builtins.range(rank))
    perm[axis], perm[-1] = perm[-1], perm[axis]
    moved = x if axis == rank - 1 else array_ops.transpose(x, perm)
    n = moved.shape.dims[-1]
    k = n if n is not None else shape(moved, out_type=dtypes.int32)[-1]
    values, indices = top_k(moved, k)
    out = indices if want_indices else values
    return out if axis == rank - 1 else array_ops.transpose(out, perm)


def _sorted(values, axis, direction, want_indices, name, default_name):
    if direction not in ("ASCENDING", "DESCENDING"):
        raise ValueError(f"direction should be one of ASCENDING, DESCENDING, got {direction!r}")
    x = convert_to_tensor(values, name="values")
    with x.graph.name_scope(name or default_name):
        if direction == "DESCENDING":
            return _descending(x, axis, want_indices)
        # Ascending is descending of a reversed order: -x, or ~x (= -x - 1) for integers so none overflows.
        flipped = -x - 1 if x.dtype.is_integer else -x
        out = _descending(flipped, axis, want_indices)
        if want_indices:
            return out
        return -out - 1 if x.dtype.is_integer else math_ops.negative(out)


def sort(values, axis=-1, direction="ASCENDING", name=None) -> Tensor:
    """The values sorted along `axis` (TF's tf.sort, built on top_k as TF builds it)."""
    return _sorted(values, axis, direction, False, name, "sort")


def argsort(values, axis=-1, direction="ASCENDING", stable=False, name=None) -> Tensor:
    """int32 indices that sort `values` along `axis`; always stable (ties keep input order)."""
    return _sorted(values, axis, direction, True, name, "argsort")


def searchsorted(sorted_sequence, values, side="left", out_type=dtypes.int32, name=None) -> Tensor:
    """For each value, the index in its row of `sorted_sequence` ([..., N], ascending) where it would go:
    the count of elements below it ("left") or not above it ("right"), over the same leading dims."""
    if side not in ("left", "right"):
        raise ValueError(f"side must be 'left' or 'right', got {side!r}")
    with name_scope(name, "SearchSorted", [sorted_sequence, values]) as scope:
        seq = convert_to_tensor(sorted_sequence, name="sorted_sequence")
        vals = convert_to_tensor(values, dtype=seq.dtype, name="values")
        before = math_ops.less if side == "left" else math_ops.less_equal
        below = before(array_ops.expand_dims(seq, -2), array_ops.expand_dims(vals, -1))     # [..., M, N]
        return reduce_sum(math_ops.cast(below, out_type), -1, name=scope)
