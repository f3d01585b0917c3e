"""tf.nn.embedding_lookup over one table or a list of shards ('mod' or 'div' partitioning), with max_norm,
and tf.nn.embedding_lookup_sparse.

Each shard is gathered at every id: at its in-shard row where the shard owns
the id, and at an out-of-range row (giving zeros) where it does not, so the
result needs no data-dependent partition. A shard's gradient is an
IndexedSlices whose indices for the ids it does not own are out of range, so
the optimizers' scatters drop them and the rows TF would not touch stay as they are.
"""
from __future__ import annotations

from xlite import errors
from xlite.frontend import array_ops, clip_ops, math_ops
from xlite.frontend.array_helpers import array_lowering, zeros_ir
from xlite.frontend.convert import convert_to_tensor
from xlite.frontend.gather_ops import gathered_rows
from xlite.frontend.gradients import grad_rule
from xlite.frontend.graph import Tensor
from xlite.frontend.indexed_slices import IndexedSlices
from xlite.frontend.op_registry import make_op
from xlite.frontend.segment_ops import unsorted_segment_sum
from xlite.ir.shape import Shape
from xlite.frontend.sparse_ops import SparseTensor


def _shard_rows(shards: list[Tensor]) -> list[int]:
    rows = [p.shape.dims[0] if p.shape.ndims else None for p in shards]
    if None in rows:
        raise errors.unimplemented("embedding_lookup over sharded params needs each shard's first dimension "
                                   "known when the graph is built")
    return rows


def _owner_and_row(ids: Tensor, shards: list[Tensor], strategy: str) -> tuple[Tensor, Tensor]:
    """(the shard that holds each id, its row there), TF's partition_strategy rules."""
    n = len(shards)
    if strategy == "mod":
        return math_ops.floormod(ids, n), math_ops.floordiv(ids, n)
    if strategy != "div":
        raise ValueError(f"Unrecognized partition strategy: {strategy}")
    total = sum(_shard_rows(shards))
    per, extras = total // n, total % n
    owner = math_ops.maximum(math_ops.floordiv(ids, per + 1), math_ops.floordiv(ids - extras, max(per, 1)))
    row = math_ops.where(math_ops.less(owner, extras), math_ops.floormod(ids, per + 1),
                         math_ops.floormod(ids - extras, max(per, 1)))
    return owner, row


@array_lowering("ShardGather")
def _lower_shard_gather(ctx, op, params, indices):
    """Rows of params at indices; zeros for an index out of range."""
    if ctx.static and (None in params.shape.dims or None in indices.shape.dims):
        return ctx.unknown(Shape(params.dtype, tuple(indices.shape.dims) + tuple(params.shape.dims[1:])))
    b = ctx.b
    rows = params.shape.dims[0]
    dt = indices.dtype
    gathered = b.emit("gather", (params, b.emit("clamp", (b.scalar(0, dt), indices, b.scalar(max(rows - 1, 0), dt)))),
                      axis=0)
    dims = gathered.shape.dims
    inside = b.emit("and", (b.compare(indices, zeros_ir(b, dt, indices.shape.dims), "GE"),
                            b.compare(indices, b.broadcast_in_dim(b.scalar(rows, dt), indices.shape.dims, ()), "LT")))
    inside = b.broadcast_in_dim(inside, dims, tuple(range(indices.shape.rank)))
    return b.emit("select", (inside, gathered, zeros_ir(b, params.dtype, dims)))


@grad_rule("ShardGather")
def _shard_gather_grad(op, g):
    """g's rows at the indices as they are, zero at out-of-range ones (which scatters drop)."""
    values, flat, dense_shape = gathered_rows(*op.inputs, g)
    inside = math_ops.logical_and(math_ops.greater_equal(flat, 0), math_ops.less(flat, dense_shape[0]))
    inside = array_ops.broadcast_to(array_ops.reshape(inside, array_ops.concat(
        [array_ops.shape(flat, out_type=flat.dtype), array_ops.ones_like(dense_shape[1:])], 0)),
        array_ops.shape(values))
    return [IndexedSlices(math_ops.where(inside, values, array_ops.zeros_like(values)), flat, dense_shape), None]


def _shard_gather(shard: Tensor, rows: Tensor) -> Tensor:
    return make_op("ShardGather", [shard, rows], {"T": shard.dtype, "Tindices": rows.dtype},
                   name="ShardGather").outputs[0]


def _clip_rows(x: Tensor, ids: Tensor, max_norm) -> Tensor:
    """TF's _clip: each looked-up embedding scaled to an L2 norm of at most max_norm."""
    if max_norm is None:
        return x
    if x.shape.ndims is None or ids.shape.ndims is None:
        raise errors.unimplemented("embedding_lookup with max_norm needs params and ids of known rank")
    return clip_ops.clip_by_norm(x, max_norm, axes=list(range(ids.shape.ndims, x.shape.ndims)))


def embedding_lookup(params, ids, partition_strategy="mod", name=None, validate_indices=True,
                     max_norm=None) -> Tensor:
    """Rows of params (one table, or the shards of one) by id; ids out of range are clamped, XLA's rule."""
    shards = list(params) if isinstance(params, (list, tuple)) else [params]
    if not shards:
        raise ValueError("Need at least one param")
    shards = [convert_to_tensor(p, name="params") for p in shards]
    with shards[0].graph.name_scope(name or "embedding_lookup") as scope:
        ids = convert_to_tensor(ids, name="ids")
        if len(shards) == 1:
            return _clip_rows(array_ops.gather(shards[0], ids, name=None if max_norm else scope), ids, max_norm)
        owner, row = _owner_and_row(ids, shards, partition_strategy)
        result = None
        for k, (shard, size) in enumerate(zip(shards, _shard_rows(shards))):
            picked = _shard_gather(shard, math_ops.where(math_ops.equal(owner, k), row,
                                                         array_ops.zeros_like(row) + size))
            result = picked if result is None else result + picked
        return _clip_rows(math_ops.identity(result, name=None if max_norm else scope), ids, max_norm)


def embedding_lookup_sparse(params, sp_ids, sp_weights, partition_strategy="mod", name=None, combiner=None,
                            max_norm=None) -> Tensor:
    """Per row of sp_ids, the combination ('sum', 'mean' (default) or 'sqrtn') of its ids' embeddings, weighted
    by sp_weights (1 when None). The result has sp_ids.dense_shape[0] rows (an empty row gives zeros);
    TF's has max(row index) + 1, so the two agree unless the last rows are empty."""
    combiner = "mean" if combiner is None else combiner
    if combiner not in ("mean", "sqrtn", "sum"):
        raise ValueError("combiner must be one of 'mean', 'sqrtn' or 'sum'")
    if not isinstance(sp_ids, SparseTensor):
        raise TypeError("sp_ids must be SparseTensor")
    if sp_weights is not None and not isinstance(sp_weights, SparseTensor):
        raise TypeError("sp_weights must be either None or SparseTensor")
    with sp_ids.graph.name_scope(name or "embedding_lookup_sparse") as scope:
        segments = sp_ids.indices[:, 0]
        rows = sp_ids.dense_shape[0]
        embeddings = embedding_lookup(params, sp_ids.values, partition_strategy, max_norm=max_norm)
        if sp_weights is None:
            weights = array_ops.ones_like(sp_ids.values, dtype=embeddings.dtype)
        else:
            weights = math_ops.cast(sp_weights.values, embeddings.dtype)
            embeddings = embeddings * array_ops.reshape(weights, array_ops.concat(
                [array_ops.shape(weights), array_ops.ones([array_ops.rank(embeddings) - 1], "int32")], 0))
        total = unsorted_segment_sum(embeddings, segments, rows)
        if combiner == "sum":
            return math_ops.identity(total, name=scope)
        norm = unsorted_segment_sum(weights if combiner == "mean" else math_ops.square(weights), segments, rows)
        if combiner == "sqrtn":
            norm = math_ops.sqrt(norm)
        norm = array_ops.reshape(norm, array_ops.concat(
            [array_ops.shape(norm), array_ops.ones([array_ops.rank(total) - 1], "int32")], 0))
        return math_ops.div_no_nan(total, norm, name=scope)


__all__ = ["embedding_lookup", "embedding_lookup_sparse"]
