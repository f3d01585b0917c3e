"""Collective op types over the world of MPI processes, named as Horovod's TensorFlow ops are.

`HorovodAllreduce` (reduce_op: sum, average, max, min), `HorovodAllgather` (along dimension 0) and
`HorovodBroadcast` (root_rank) lower to the IR's all_reduce, all_gather and collective_broadcast; their
gradients are Horovod's: an all-reduce of the gradient (the part of this rank for a gather, and zero
except on the root for a broadcast). xlite.distribute builds its Horovod-style API and strategies on them.
"""
from __future__ import annotations

from xlite import errors
from xlite.frontend.convert import convert_to_tensor
from xlite.frontend.gradients import grad_rule
from xlite.frontend.graph import Tensor
from xlite.frontend.op_registry import lowering, make_op
from xlite.frontend.slicing_ops import slice  # noqa: A004 - TF's name
from xlite.semantics.world import world

REDUCE_OPS = {"sum": "sum", "average": "mean", "max": "max", "min": "min"}

__all__ = ["all_reduce", "all_gather", "broadcast", "REDUCE_OPS"]


@lowering("HorovodAllreduce")
def _lower_allreduce(ctx, op, x):
    return ctx.b.emit("all_reduce", (x,), kind=REDUCE_OPS[op.attrs["reduce_op"]])


@lowering("HorovodAllgather")
def _lower_allgather(ctx, op, x):
    return ctx.b.emit("all_gather", (x,), replicas=op.attrs["replicas"])


@lowering("HorovodBroadcast")
def _lower_broadcast(ctx, op, x):
    return ctx.b.emit("collective_broadcast", (x,), root=op.attrs["root_rank"])


def all_reduce(tensor, reduce_op: str = "average", name: str | None = None) -> Tensor:
    """tensor combined over every process: "sum", "average", "max" or "min" (Horovod's op names)."""
    if reduce_op not in REDUCE_OPS:
        raise ValueError(f"reduce_op must be one of {sorted(REDUCE_OPS)}, got {reduce_op!r}")
    tensor = convert_to_tensor(tensor)
    return make_op("HorovodAllreduce", [tensor], {"reduce_op": reduce_op}, name=name or "HorovodAllreduce").outputs[0]


def all_gather(tensor, name: str | None = None) -> Tensor:
    """Every process's tensor (the same shape on each) concatenated along dimension 0 in rank order."""
    tensor = convert_to_tensor(tensor)
    return make_op("HorovodAllgather", [tensor], {"replicas": world().size},
                   name=name or "HorovodAllgather").outputs[0]


def broadcast(tensor, root_rank: int = 0, name: str | None = None) -> Tensor:
    """Process root_rank's tensor, on every process."""
    size = world().size
    if not 0 <= int(root_rank) < size:
        raise errors.InvalidArgumentError(None, None, f"broadcast from rank {root_rank}, but the world has "
                                                      f"{size} processes")
    tensor = convert_to_tensor(tensor)
    return make_op("HorovodBroadcast", [tensor], {"root_rank": int(root_rank)},
                   name=name or "HorovodBroadcast").outputs[0]


@grad_rule("HorovodAllreduce")
def _allreduce_grad(op, g):
    kind = op.attrs["reduce_op"]
    if kind not in ("sum", "average"):
        raise errors.unimplemented(f"the gradient of an all-reduce {kind} (op {op.name}): Horovod has none either")
    return [all_reduce(g, kind)]


@grad_rule("HorovodAllgather")
def _allgather_grad(op, g):
    """The sum over processes of the gradient, this rank's rows of it."""
    x = op.inputs[0]
    rows = x.shape.dims[0] if x.shape.ndims else None
    if rows is None:
        raise errors.unimplemented(f"the gradient of all-gather {op.name} of an input whose first dimension "
                                   "is unknown")
    summed = all_reduce(g, "sum")
    rank = x.shape.ndims
    return [slice(summed, [world().rank * rows] + [0] * (rank - 1), [rows] + [-1] * (rank - 1))]


@grad_rule("HorovodBroadcast")
def _broadcast_grad(op, g):
    summed = all_reduce(g, "sum")
    return [summed if world().rank == op.attrs["root_rank"] else summed * 0]
