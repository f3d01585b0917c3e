"""tf.matmul: MatMul for matrices, BatchMatMulV2 with broadcast batch dims, one general `dot` either way."""
from __future__ import annotations

from xlite import errors
from xlite.frontend.convert import convert_pair
from xlite.frontend.gradients import grad_rule, sum_to_shape_of
from xlite.frontend.graph import Tensor
from xlite.frontend.math_ops import NUMERIC, check_dtype
from xlite.frontend.op_registry import lowering, make_op
from xlite.ir.builder import broadcast_dims


def _transposes(op) -> tuple[bool, bool]:
    a = op.attrs
    return (a["transpose_a"], a["transpose_b"]) if op.type == "MatMul" else (a["adj_x"], a["adj_y"])


@lowering("MatMul", "BatchMatMulV2")
def _lower_matmul(ctx, op, a, b_):
    b = ctx.b
    ta, tb = _transposes(op)
    ra, rb = a.shape.rank, b_.shape.rank
    if op.type == "MatMul" and (ra != 2 or rb != 2):
        raise ValueError(f"Shape must be rank 2 for MatMul, got {a.shape} and {b_.shape}")
    if ra < 2 or rb < 2:
        raise ValueError(f"matmul needs operands of rank >= 2, got {a.shape} and {b_.shape}")
    batch = broadcast_dims(a.shape.dims[:-2], b_.shape.dims[:-2])
    a = b.broadcast_to(a, batch + a.shape.dims[-2:])
    b_ = b.broadcast_to(b_, batch + b_.shape.dims[-2:])
    nb = len(batch)
    return b.emit("dot", (a, b_), lhs_batch_dims=tuple(range(nb)), rhs_batch_dims=tuple(range(nb)),
                  lhs_contracting_dims=(nb if ta else nb + 1,), rhs_contracting_dims=(nb + 1 if tb else nb,))


def matmul(a, b, transpose_a=False, transpose_b=False, adjoint_a=False, adjoint_b=False,
           a_is_sparse=False, b_is_sparse=False, output_type=None, name=None) -> Tensor:
    """MatMul for two matrices, BatchMatMulV2 when either operand has rank > 2 or an unknown rank (as TF)."""
    if transpose_a and adjoint_a:
        raise ValueError("Only one of transpose_a and adjoint_a can be True.")
    if transpose_b and adjoint_b:
        raise ValueError("Only one of transpose_b and adjoint_b can be True.")
    if output_type is not None:
        raise errors.unimplemented("matmul: output_type is not supported")
    a, b = convert_pair(a, b, "MatMul")
    check_dtype(a, NUMERIC, "MatMul", "a")
    for t in (a, b):
        if t.shape.ndims is not None and t.shape.ndims < 2:
            raise ValueError(f"Shape must be rank 2 but is rank {t.shape.ndims} for 'MatMul' with input "
                             f"shapes: {a.shape}, {b.shape}.")
    ta, tb = bool(transpose_a or adjoint_a), bool(transpose_b or adjoint_b)
    if a.shape.ndims == 2 and b.shape.ndims == 2:
        return make_op("MatMul", [a, b], {"transpose_a": ta, "transpose_b": tb}, name=name or "MatMul").outputs[0]
    return make_op("BatchMatMulV2", [a, b], {"adj_x": ta, "adj_y": tb}, name=name or "MatMul").outputs[0]


@grad_rule("MatMul", "BatchMatMulV2")
def _matmul_grad(op, g):
    """TF's four transpose cases; broadcast batch dims are summed back to each operand's shape."""
    a, b = op.inputs
    ta, tb = _transposes(op)
    if not ta and not tb:
        ga, gb = matmul(g, b, transpose_b=True), matmul(a, g, transpose_a=True)
    elif not ta:
        ga, gb = matmul(g, b), matmul(g, a, transpose_a=True)
    elif not tb:
        ga, gb = matmul(b, g, transpose_b=True), matmul(a, g)
    else:
        ga = matmul(b, g, transpose_a=True, transpose_b=True)
        gb = matmul(g, a, transpose_a=True, transpose_b=True)
    return [sum_to_shape_of(ga, a), sum_to_shape_of(gb, b)]


__all__ = ["matmul"]
