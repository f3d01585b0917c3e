"""tf.math: elementwise ops with NumPy broadcasting, reductions, matmul, argmax and casts."""
from __future__ import annotations

from functools import reduce as _fold

import numpy as np

from xlite.frontend.convert import convert_pair, convert_to_tensor
from xlite.frontend.graph import Tensor
from xlite.frontend.op_registry import lowering, make_op
from xlite.ir import dtypes
from xlite.ir.builder import broadcast_dims

# elementwise ----------------------------------------------------------------------
UNARY_OPCODES = {
    "Neg": "neg", "Abs": "abs", "Exp": "exp", "Log": "log", "Log1p": "log1p", "Tanh": "tanh",
    "Sigmoid": "logistic", "Sqrt": "sqrt", "Rsqrt": "rsqrt", "Sign": "sign", "Floor": "floor",
    "Ceil": "ceil", "Round": "round", "Sin": "sin", "Cos": "cos", "LogicalNot": "not",
    "IsFinite": "is_finite",
}
BINARY_OPCODES = {
    "AddV2": "add", "Sub": "sub", "Mul": "mul", "RealDiv": "div", "Pow": "pow",
    "Maximum": "max", "Minimum": "min", "LogicalAnd": "and", "LogicalOr": "or",
}
COMPARISONS = {"Equal": "EQ", "NotEqual": "NE", "Less": "LT", "LessEqual": "LE",
               "Greater": "GT", "GreaterEqual": "GE"}


def broadcast_all(b, *xs):
    dims = _fold(broadcast_dims, [x.shape.dims for x in xs])
    return [b.broadcast_to(x, dims) for x in xs]


@lowering(*UNARY_OPCODES)
def _lower_unary(ctx, op, x):
    return ctx.b.emit(UNARY_OPCODES[op.type], (x,))


@lowering(*BINARY_OPCODES)
def _lower_binary(ctx, op, x, y):
    return ctx.b.emit(BINARY_OPCODES[op.type], broadcast_all(ctx.b, x, y))


@lowering(*COMPARISONS)
def _lower_compare(ctx, op, x, y):
    return ctx.b.compare(*broadcast_all(ctx.b, x, y), COMPARISONS[op.type])


@lowering("FloorDiv")
def _lower_floordiv(ctx, op, x, y):
    b = ctx.b
    x, y = broadcast_all(b, x, y)
    if x.dtype.is_floating:
        return b.emit("floor", (b.emit("div", (x, y)),))
    q = b.emit("div", (x, y))
    r = b.emit("rem", (x, y))
    zero = b.broadcast_to(b.scalar(0, x.dtype), x.shape.dims)
    adjust = b.emit("and", (b.compare(r, zero, "NE"),
                            b.compare(b.compare(r, zero, "LT"), b.compare(y, zero, "LT"), "NE")))
    one = b.broadcast_to(b.scalar(1, x.dtype), x.shape.dims)
    return b.emit("select", (adjust, b.emit("sub", (q, one)), q))


@lowering("FloorMod")
def _lower_floormod(ctx, op, x, y):
    b = ctx.b
    x, y = broadcast_all(b, x, y)
    r = b.emit("rem", (x, y))
    zero = b.broadcast_to(b.scalar(0, x.dtype), x.shape.dims)
    adjust = b.emit("and", (b.compare(r, zero, "NE"),
                            b.compare(b.compare(r, zero, "LT"), b.compare(y, zero, "LT"), "NE")))
    return b.emit("select", (adjust, b.emit("add", (r, y)), r))


@lowering("Square")
def _lower_square(ctx, op, x):
    return ctx.b.emit("mul", (x, x))


@lowering("Reciprocal")
def _lower_reciprocal(ctx, op, x):
    return ctx.b.emit("div", (ctx.b.broadcast_to(ctx.b.scalar(1, x.dtype), x.shape.dims), x))


@lowering("Identity", "StopGradient")
def _lower_identity(ctx, op, x):
    return x


@lowering("SelectV2")
def _lower_select(ctx, op, cond, x, y):
    return ctx.b.emit("select", broadcast_all(ctx.b, cond, x, y))


@lowering("Cast")
def _lower_cast(ctx, op, x):
    return ctx.b.convert(x, op.attrs["DstT"])


def _unary(op_type: str, x, name=None, float_only: bool = False) -> Tensor:
    x = convert_to_tensor(x)
    if float_only and not x.dtype.is_floating:
        raise TypeError(f"Value passed to parameter 'x' has DataType {x.dtype.name} not in list of allowed "
                        f"values: float16, bfloat16, float32, float64 (op {op_type})")
    return make_op(op_type, [x], name=name or op_type).outputs[0]


def _binary(op_type: str, x, y, name=None) -> Tensor:
    x, y = convert_pair(x, y, op_type)
    return make_op(op_type, [x, y], name=name or op_type).outputs[0]


def add(x, y, name=None):
    return _binary("AddV2", x, y, name or "Add")


def subtract(x, y, name=None):
    return _binary("Sub", x, y, name)


def multiply(x, y, name=None):
    return _binary("Mul", x, y, name)


def _as_float_pair(x, y, name):
    x, y = convert_pair(x, y, "RealDiv")
    if x.dtype.is_integer:
        target = dtypes.float32 if x.dtype.itemsize <= 2 else dtypes.float64
        x, y = cast(x, target), cast(y, target)
    elif x.dtype.is_bool:
        raise TypeError("x and y must not be bool for division")
    return x, y


def truediv(x, y, name=None):
    """Integers divide in float64, as TF's truediv does."""
    x, y = _as_float_pair(x, y, name)
    return make_op("RealDiv", [x, y], name=name or "truediv").outputs[0]


def divide(x, y, name=None):
    return truediv(x, y, name or "truediv")


def realdiv(x, y, name=None):
    return _binary("RealDiv", x, y, name)


def floordiv(x, y, name=None):
    return _binary("FloorDiv", x, y, name or "floordiv")


def div(x, y, name=None):
    x, y = convert_pair(x, y, "Div")
    if x.dtype.is_floating:
        return make_op("RealDiv", [x, y], name=name or "div").outputs[0]
    return make_op("FloorDiv", [x, y], name=name or "div").outputs[0]


def mod(x, y, name=None):
    return _binary("FloorMod", x, y, name or "mod")


floormod = mod


def pow(x, y, name=None):  # noqa: A001 - TF's name
    return _binary("Pow", x, y, name)


def maximum(x, y, name=None):
    return _binary("Maximum", x, y, name)


def minimum(x, y, name=None):
    return _binary("Minimum", x, y, name)


def equal(x, y, name=None):
    return _binary("Equal", x, y, name)


def not_equal(x, y, name=None):
    return _binary("NotEqual", x, y, name)


def less(x, y, name=None):
    return _binary("Less", x, y, name)


def less_equal(x, y, name=None):
    return _binary("LessEqual", x, y, name)


def greater(x, y, name=None):
    return _binary("Greater", x, y, name)


def greater_equal(x, y, name=None):
    return _binary("GreaterEqual", x, y, name)


def _logical(op_type, x, y, name):
    x, y = convert_pair(x, y, op_type)
    if not x.dtype.is_bool:
        raise TypeError(f"{op_type} expects bool tensors, got {x.dtype.name}")
    return make_op(op_type, [x, y], name=name or op_type).outputs[0]


def logical_and(x, y, name=None):
    return _logical("LogicalAnd", x, y, name)


def logical_or(x, y, name=None):
    return _logical("LogicalOr", x, y, name)


def logical_xor(x, y, name="LogicalXor"):
    return logical_and(logical_or(x, y), logical_not(logical_and(x, y)), name=name)


def logical_not(x, name=None):
    x = convert_to_tensor(x)
    if not x.dtype.is_bool:
        raise TypeError(f"LogicalNot expects a bool tensor, got {x.dtype.name}")
    return make_op("LogicalNot", [x], name=name or "LogicalNot").outputs[0]


def negative(x, name=None):
    return _unary("Neg", x, name)


def abs(x, name=None):  # noqa: A001
    return _unary("Abs", x, name)


def sign(x, name=None):
    return _unary("Sign", x, name)


def square(x, name=None):
    return _unary("Square", x, name)


def reciprocal(x, name=None):
    return _unary("Reciprocal", x, name)


def _float_unary(op_type):
    def fn(x, name=None):
        return _unary(op_type, x, name, float_only=True)
    fn.__name__ = op_type.lower()
    return fn


exp = _float_unary("Exp")
log = _float_unary("Log")
log1p = _float_unary("Log1p")
tanh = _float_unary("Tanh")
sigmoid = _float_unary("Sigmoid")
sqrt = _float_unary("Sqrt")
rsqrt = _float_unary("Rsqrt")
floor = _float_unary("Floor")
ceil = _float_unary("Ceil")
round = _float_unary("Round")  # noqa: A001
sin = _float_unary("Sin")
cos = _float_unary("Cos")
is_finite = _float_unary("IsFinite")


def is_nan(x, name=None):
    x = convert_to_tensor(x)
    return not_equal(x, x, name=name or "IsNan")


def is_inf(x, name=None):
    x = convert_to_tensor(x)
    return equal(abs(x), np.inf, name=name or "IsInf")


def cast(x, dtype, name=None) -> Tensor:
    x = convert_to_tensor(x)
    dtype = dtypes.as_dtype(dtype)
    if x.dtype == dtype:
        return x
    return make_op("Cast", [x], {"DstT": dtype, "SrcT": x.dtype}, name=name or "Cast").outputs[0]


def to_float(x, name="ToFloat"):
    return cast(x, dtypes.float32, name)


def to_int32(x, name="ToInt32"):
    return cast(x, dtypes.int32, name)


def to_int64(x, name="ToInt64"):
    return cast(x, dtypes.int64, name)


def where(condition, x=None, y=None, name=None):
    """The three-argument form, broadcasting like tf.where_v2; the one-argument form has a data-dependent shape."""
    if x is None and y is None:
        raise NotImplementedError("tf.where(condition) returns a data-dependent number of indices, "
                                  "which xlite's static shapes cannot express; use tf.where(cond, x, y)")
    condition = convert_to_tensor(condition)
    if not condition.dtype.is_bool:
        raise TypeError(f"tf.where condition must be bool, got {condition.dtype.name}")
    x, y = convert_pair(x, y, "SelectV2")
    return make_op("SelectV2", [condition, x, y], name=name or "Select").outputs[0]


select = where
where_v2 = where


def identity(x, name=None) -> Tensor:
    x = convert_to_tensor(x)
    return make_op("Identity", [x], name=name or "Identity").outputs[0]


def stop_gradient(x, name=None) -> Tensor:
    x = convert_to_tensor(x)
    return make_op("StopGradient", [x], name=name or "StopGradient").outputs[0]


def add_n(inputs, name="AddN") -> Tensor:
    inputs = [convert_to_tensor(i) for i in inputs]
    if not inputs:
        raise ValueError("inputs must be a non-empty list of tensors")
    total = inputs[0]
    for t in inputs[1:]:
        total = add(total, t)
    return identity(total, name=name)


def scalar_mul(scalar, x, name=None):
    return multiply(scalar, x, name)


def squared_difference(x, y, name=None):
    return square(subtract(x, y), name=name or "SquaredDifference")


# reductions -------------------------------------------------------------------------
_REDUCE_KINDS = {"Sum": "sum", "Prod": "prod", "Max": "max", "Min": "min", "All": "and", "Any": "or"}


def _normalize_axes(ctx, axes_inst, rank):
    if axes_inst is None:
        return tuple(range(rank))
    value = ctx.constant_value(axes_inst)
    if value is None:
        return None
    axes = [int(a) for a in np.asarray(value).reshape(-1)]
    for a in axes:
        if not -rank <= a < rank:
            raise ValueError(f"Invalid reduction dimension {a} for input with {rank} dimensions")
    return tuple(sorted({a % rank if rank else a for a in axes}))


@lowering(*_REDUCE_KINDS, "Mean")
def _lower_reduce(ctx, op, x, axes_inst=None):
    b = ctx.b
    rank = x.shape.rank
    axes = _normalize_axes(ctx, axes_inst, rank)
    keep = op.attrs.get("keep_dims", False)
    if axes is None:
        raise ValueError("reduction axes must be known when the graph is built (a compile-time constant)")
    kind = "sum" if op.type == "Mean" else _REDUCE_KINDS[op.type]
    r = b.reduce(x, kind, axes)
    if op.type == "Mean":
        count = 1
        for a in axes:
            d = x.shape.dims[a]
            count = None if count is None or d is None else count * d
        if count is None:
            r = ctx.unknown(r.shape)
        else:
            divisor = max(count, 1) if x.dtype.is_integer else count
            r = b.emit("div", (r, b.broadcast_to(b.scalar(divisor, x.dtype), r.shape.dims)))
    if keep:
        r = b.reshape(r, tuple(1 if i in axes else d for i, d in enumerate(x.shape.dims)))
    return r


def _reduction(op_type, input_tensor, axis, keepdims, name, reduction_indices=None, keep_dims=None):
    x = convert_to_tensor(input_tensor)
    if axis is None and reduction_indices is not None:
        axis = reduction_indices
    if keepdims is None:
        keepdims = bool(keep_dims)
    if op_type in ("All", "Any") and not x.dtype.is_bool:
        raise TypeError(f"reduce_{op_type.lower()} expects a bool tensor, got {x.dtype.name}")
    if op_type not in ("All", "Any") and x.dtype.is_bool:
        raise TypeError(f"{op_type} does not accept bool tensors")
    inputs = [x]
    if axis is not None:
        inputs.append(convert_to_tensor(axis, dtype=dtypes.int32, name="reduction_indices")
                      if not isinstance(axis, Tensor) else axis)
    return make_op(op_type, inputs, {"keep_dims": bool(keepdims)}, name=name or op_type).outputs[0]


def reduce_sum(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None, keep_dims=None):
    return _reduction("Sum", input_tensor, axis, keepdims, name, reduction_indices, keep_dims)


def reduce_mean(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None, keep_dims=None):
    return _reduction("Mean", input_tensor, axis, keepdims, name, reduction_indices, keep_dims)


def reduce_max(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None, keep_dims=None):
    return _reduction("Max", input_tensor, axis, keepdims, name, reduction_indices, keep_dims)


def reduce_min(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None, keep_dims=None):
    return _reduction("Min", input_tensor, axis, keepdims, name, reduction_indices, keep_dims)


def reduce_prod(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None, keep_dims=None):
    return _reduction("Prod", input_tensor, axis, keepdims, name, reduction_indices, keep_dims)


def reduce_all(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None, keep_dims=None):
    return _reduction("All", input_tensor, axis, keepdims, name, reduction_indices, keep_dims)


def reduce_any(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None, keep_dims=None):
    return _reduction("Any", input_tensor, axis, keepdims, name, reduction_indices, keep_dims)


# argmax / argmin ------------------------------------------------------------------------
@lowering("ArgMax", "ArgMin")
def _lower_argminmax(ctx, op, x, axis_inst):
    value = ctx.constant_value(axis_inst)
    rank = x.shape.rank
    index_dtype = op.attrs["output_type"]
    if value is None:
        return ctx.unknown(x.shape.with_dtype(index_dtype).with_dims([None] * (rank - 1)))
    axis = int(value)
    if not -rank <= axis < rank:
        raise ValueError(f"Expected dimension in the range [{-rank}, {rank}), but got {axis}")
    return ctx.b.emit("argmax" if op.type == "ArgMax" else "argmin", (x,),
                      dimension=axis % rank, index_dtype=index_dtype)


def _arg(op_type, input, axis, name, output_type, dimension):
    x = convert_to_tensor(input)
    if axis is None:
        axis = 0 if dimension is None else dimension
    axis_t = convert_to_tensor(axis, dtype=dtypes.int32, name="dimension") if not isinstance(axis, Tensor) else axis
    return make_op(op_type, [x, axis_t], {"output_type": dtypes.as_dtype(output_type)},
                   name=name or op_type).outputs[0]


def argmax(input, axis=None, name=None, dimension=None, output_type=dtypes.int64):  # noqa: A002
    return _arg("ArgMax", input, axis, name, output_type, dimension)


def argmin(input, axis=None, name=None, dimension=None, output_type=dtypes.int64):  # noqa: A002
    return _arg("ArgMin", input, axis, name, output_type, dimension)


# matmul --------------------------------------------------------------------------------
@lowering("BatchMatMulV2")
def _lower_matmul(ctx, op, a, b_):
    """Batched matmul with broadcast batch dims, as one general dot."""
    b = ctx.b
    ta, tb = op.attrs["adj_x"], op.attrs["adj_y"]
    ra, rb = a.shape.rank, b_.shape.rank
    if ra < 2 or rb < 2:
        raise ValueError(f"matmul needs rank >= 2 operands, got {a.shape} and {b_.shape}")
    batch = broadcast_dims(a.shape.dims[:-2], b_.shape.dims[:-2])
    a = b.broadcast_to(a, batch + a.shape.dims[-2:])
    b_ = b.broadcast_to(b_, batch + b_.shape.dims[-2:])
    nb = len(batch)
    return b.emit("dot", (a, b_), lhs_batch_dims=tuple(range(nb)), rhs_batch_dims=tuple(range(nb)),
                  lhs_contracting_dims=(nb if ta else nb + 1,), rhs_contracting_dims=(nb + 1 if tb else nb,))


def matmul(a, b, transpose_a=False, transpose_b=False, adjoint_a=False, adjoint_b=False,
           a_is_sparse=False, b_is_sparse=False, name=None) -> Tensor:
    a, b = convert_pair(a, b, "MatMul")
    if a.dtype.is_bool:
        raise TypeError("matmul does not accept bool tensors")
    for t in (a, b):
        if t.shape.ndims is not None and t.shape.ndims < 2:
            raise ValueError(f"Shape must be rank 2 but is rank {t.shape.ndims} for 'MatMul' with input "
                             f"shapes: {a.shape}, {b.shape}.")
    attrs = {"adj_x": bool(transpose_a or adjoint_a), "adj_y": bool(transpose_b or adjoint_b)}
    return make_op("BatchMatMulV2", [a, b], attrs, name=name or "MatMul").outputs[0]

