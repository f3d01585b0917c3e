"""tf.math: elementwise ops with TF's dtype rules and NumPy broadcasting, their lowerings and gradients.

matmul, the reductions (with argmax and cumsum) and the clipping functions live in
matmul_ops, reduction_ops and clip_ops, which build on this module; they are
re-exported at the bottom, so this module is the whole `tf.math` namespace.
"""
from __future__ import annotations

from functools import reduce as _fold

import numpy as np

from xlite.frontend.convert import constant, convert_pair, convert_to_tensor
from xlite.frontend.gradients import broadcast_to_shape_of, grad_rule, no_gradient, sum_to_shape_of
from xlite.frontend.graph import Tensor
from xlite.frontend.op_registry import lowering, make_op
from xlite.ir import dtypes
from xlite.ir.builder import broadcast_dims

# dtype rules --------------------------------------------------------------------------
FLOATS = (dtypes.float16, dtypes.bfloat16, dtypes.float32, dtypes.float64)
SIGNED = FLOATS + (dtypes.int8, dtypes.int32, dtypes.int64)
INTEGERS = (dtypes.int8, dtypes.int32, dtypes.int64, dtypes.uint8, dtypes.uint32)
NUMERIC = SIGNED + (dtypes.uint8, dtypes.uint32)
BOOL = (dtypes.bool_,)
ALL = NUMERIC + BOOL


def check_dtype(t: Tensor, allowed: tuple, op_type: str, param: str = "x") -> None:
    """TF's kernel-registration check: an op accepts only the dtypes it has kernels for."""
    if t.dtype not in allowed:
        names = ", ".join(d.name for d in allowed)
        raise TypeError(f"Value passed to parameter '{param}' has DataType {t.dtype.name} not in list of "
                        f"allowed values: {names} (op {op_type})")


# elementwise lowerings -------------------------------------------------------------------
UNARY = {  # op type: (IR opcode, accepted dtypes)
    "Neg": ("neg", SIGNED), "Abs": ("abs", SIGNED), "Sign": ("sign", SIGNED),
    "Exp": ("exp", FLOATS), "Log": ("log", FLOATS), "Log1p": ("log1p", FLOATS),
    "Tanh": ("tanh", FLOATS), "Sigmoid": ("logistic", FLOATS), "Sqrt": ("sqrt", FLOATS),
    "Rsqrt": ("rsqrt", FLOATS), "Sin": ("sin", FLOATS), "Cos": ("cos", FLOATS),
    "Floor": ("floor", FLOATS), "Ceil": ("ceil", FLOATS), "Round": ("round", FLOATS),
    "IsFinite": ("is_finite", FLOATS), "LogicalNot": ("not", BOOL), "Invert": ("not", INTEGERS),
}
BINARY = {
    "AddV2": ("add", NUMERIC), "Sub": ("sub", NUMERIC), "Mul": ("mul", NUMERIC),
    "RealDiv": ("div", NUMERIC), "Pow": ("pow", NUMERIC), "Maximum": ("max", NUMERIC),
    "Minimum": ("min", NUMERIC), "LogicalAnd": ("and", BOOL), "LogicalOr": ("or", BOOL),
    "BitwiseAnd": ("and", INTEGERS), "BitwiseOr": ("or", INTEGERS),
    "TruncateDiv": ("div", INTEGERS), "TruncateMod": ("rem", NUMERIC),
}
COMPARISONS = {"Equal": "EQ", "NotEqual": "NE", "Less": "LT", "LessEqual": "LE",
               "Greater": "GT", "GreaterEqual": "GE"}
_OTHER_BINARY = {"FloorDiv": NUMERIC, "FloorMod": NUMERIC, "SquaredDifference": NUMERIC,
                 "BitwiseXor": INTEGERS, "Equal": ALL, "NotEqual": ALL, "Less": NUMERIC,
                 "LessEqual": NUMERIC, "Greater": NUMERIC, "GreaterEqual": NUMERIC}


def broadcast_all(b, *xs):
    dims = _fold(broadcast_dims, [x.shape.dims for x in xs])
    return [b.broadcast_to(x, dims) for x in xs]


def _full_like(b, value, x):
    return b.broadcast_to(b.scalar(value, x.dtype), x.shape.dims)


@lowering(*UNARY)
def _lower_unary(ctx, op, x):
    return ctx.b.emit(UNARY[op.type][0], (x,))


@lowering(*BINARY)
def _lower_binary(ctx, op, x, y):
    return ctx.b.emit(BINARY[op.type][0], broadcast_all(ctx.b, x, y))


@lowering(*COMPARISONS)
def _lower_compare(ctx, op, x, y):
    return ctx.b.compare(*broadcast_all(ctx.b, x, y), COMPARISONS[op.type])


@lowering("BitwiseXor")
def _lower_xor(ctx, op, x, y):
    b = ctx.b
    x, y = broadcast_all(b, x, y)
    return b.emit("and", (b.emit("or", (x, y)), b.emit("not", (b.emit("and", (x, y)),))))


def _remainder_needs_fix(b, r, y):
    """Where a truncated remainder's sign differs from the divisor's: floor division rounds one lower."""
    zero = _full_like(b, 0, r)
    return b.emit("and", (b.compare(r, zero, "NE"),
                          b.compare(b.compare(r, zero, "LT"), b.compare(y, zero, "LT"), "NE")))


@lowering("FloorDiv")
def _lower_floordiv(ctx, op, x, y):
    b = ctx.b
    x, y = broadcast_all(b, x, y)
    q = b.emit("div", (x, y))
    if x.dtype.is_floating:
        return b.emit("floor", (q,))
    fix = _remainder_needs_fix(b, b.emit("rem", (x, y)), y)
    return b.emit("select", (fix, b.emit("sub", (q, _full_like(b, 1, q))), q))


@lowering("FloorMod")
def _lower_floormod(ctx, op, x, y):
    b = ctx.b
    x, y = broadcast_all(b, x, y)
    r = b.emit("rem", (x, y))
    return b.emit("select", (_remainder_needs_fix(b, r, y), b.emit("add", (r, y)), r))


@lowering("SquaredDifference")
def _lower_squared_difference(ctx, op, x, y):
    d = ctx.b.emit("sub", broadcast_all(ctx.b, x, y))
    return ctx.b.emit("mul", (d, d))


@lowering("Square")
def _lower_square(ctx, op, x):
    return ctx.b.emit("mul", (x, x))


@lowering("Reciprocal")
def _lower_reciprocal(ctx, op, x):
    return ctx.b.emit("div", (_full_like(ctx.b, 1, x), x))


@lowering("Identity", "StopGradient")
def _lower_identity(ctx, op, x):
    return x


@lowering("AddN")
def _lower_add_n(ctx, op, *xs):
    return _fold(lambda s, x: ctx.b.emit("add", (s, x)), broadcast_all(ctx.b, *xs))


@lowering("SelectV2")
def _lower_select(ctx, op, cond, x, y):
    return ctx.b.emit("select", broadcast_all(ctx.b, cond, x, y))


@lowering("Cast")
def _lower_cast(ctx, op, x):
    return ctx.b.convert(x, op.attrs["DstT"])


# elementwise API -----------------------------------------------------------------------
def _unary(op_type: str, x, name=None) -> Tensor:
    x = convert_to_tensor(x, name="x")
    check_dtype(x, UNARY[op_type][1] if op_type in UNARY else NUMERIC, op_type)
    return make_op(op_type, [x], name=name or op_type).outputs[0]


def _binary(op_type: str, x, y, name=None) -> Tensor:
    x, y = convert_pair(x, y, op_type)
    check_dtype(x, BINARY[op_type][1] if op_type in BINARY else _OTHER_BINARY[op_type], op_type)
    return make_op(op_type, [x, y], name=name or op_type).outputs[0]


def add(x, y, name=None) -> Tensor:
    return _binary("AddV2", x, y, name or "Add")


def subtract(x, y, name=None) -> Tensor:
    return _binary("Sub", x, y, name)


def multiply(x, y, name=None) -> Tensor:
    return _binary("Mul", x, y, name)


def truediv(x, y, name=None) -> Tensor:
    """Integers divide in floating point: float32 for 8/16-bit ints, float64 for wider ones, as TF does."""
    x, y = convert_pair(x, y, "RealDiv")
    check_dtype(x, NUMERIC, "truediv")
    if x.dtype.is_integer:
        target = dtypes.float32 if x.dtype.itemsize <= 2 else dtypes.float64
        x, y = cast(x, target), cast(y, target)
    return make_op("RealDiv", [x, y], name=name or "truediv").outputs[0]


def divide(x, y, name=None) -> Tensor:
    return truediv(x, y, name or "truediv")


def realdiv(x, y, name=None) -> Tensor:
    return _binary("RealDiv", x, y, name)


def floordiv(x, y, name=None) -> Tensor:
    return _binary("FloorDiv", x, y, name or "floordiv")


def div(x, y, name=None) -> Tensor:
    """TF1's Python-2 division: floor division for integers, true division for floats."""
    x, y = convert_pair(x, y, "Div")
    check_dtype(x, NUMERIC, "Div")
    return make_op("RealDiv" if x.dtype.is_floating else "FloorDiv", [x, y], name=name or "div").outputs[0]


def div_no_nan(x, y, name=None) -> Tensor:
    """x / y, and 0 wherever y is 0 (with a gradient that stays finite there too)."""
    x, y = convert_pair(x, y, "DivNoNan")
    check_dtype(x, FLOATS, "DivNoNan")
    zero = equal(y, 0)
    return where(zero, 0, realdiv(x, where(zero, 1, y)), name=name or "div_no_nan")


def mod(x, y, name=None) -> Tensor:
    return _binary("FloorMod", x, y, name or "mod")


floormod = mod
divide_no_nan = div_no_nan


def truncatediv(x, y, name=None) -> Tensor:
    """Integer division rounding toward zero (C's `/`)."""
    return _binary("TruncateDiv", x, y, name)


def truncatemod(x, y, name=None) -> Tensor:
    """The remainder of truncating division: its sign follows x (C's `fmod`)."""
    return _binary("TruncateMod", x, y, name)


def pow(x, y, name=None) -> Tensor:  # noqa: A001 - TF's name
    return _binary("Pow", x, y, name)


def maximum(x, y, name=None) -> Tensor:
    return _binary("Maximum", x, y, name)


def minimum(x, y, name=None) -> Tensor:
    return _binary("Minimum", x, y, name)


def squared_difference(x, y, name=None) -> Tensor:
    return _binary("SquaredDifference", x, y, name)


def equal(x, y, name=None) -> Tensor:
    return _binary("Equal", x, y, name)


def not_equal(x, y, name=None) -> Tensor:
    return _binary("NotEqual", x, y, name)


def less(x, y, name=None) -> Tensor:
    return _binary("Less", x, y, name)


def less_equal(x, y, name=None) -> Tensor:
    return _binary("LessEqual", x, y, name)


def greater(x, y, name=None) -> Tensor:
    return _binary("Greater", x, y, name)


def greater_equal(x, y, name=None) -> Tensor:
    return _binary("GreaterEqual", x, y, name)


def logical_and(x, y, name=None) -> Tensor:
    return _binary("LogicalAnd", x, y, name)


def logical_or(x, y, name=None) -> Tensor:
    return _binary("LogicalOr", x, y, name)


def logical_xor(x, y, name="LogicalXor") -> Tensor:
    return logical_and(logical_or(x, y), logical_not(logical_and(x, y)), name=name)


def logical_not(x, name=None) -> Tensor:
    return _unary("LogicalNot", x, name)


def bitwise_and(x, y, name=None) -> Tensor:
    return _binary("BitwiseAnd", x, y, name)


def bitwise_or(x, y, name=None) -> Tensor:
    return _binary("BitwiseOr", x, y, name)


def bitwise_xor(x, y, name=None) -> Tensor:
    return _binary("BitwiseXor", x, y, name)


def invert(x, name=None) -> Tensor:
    return _unary("Invert", x, name)


def negative(x, name=None) -> Tensor:
    return _unary("Neg", x, name)


def abs(x, name=None) -> Tensor:  # noqa: A001
    return _unary("Abs", x, name)


def sign(x, name=None) -> Tensor:
    return _unary("Sign", x, name)


def square(x, name=None) -> Tensor:
    return _unary("Square", x, name)


def reciprocal(x, name=None) -> Tensor:
    return _unary("Reciprocal", x, name)


def _float_unary(op_type: str, api_name: str):
    def fn(x, name=None) -> Tensor:
        return _unary(op_type, x, name)
    fn.__name__ = fn.__qualname__ = api_name
    fn.__doc__ = f"tf.math.{api_name}: elementwise, floating-point inputs only (op type {op_type})."
    return fn


exp = _float_unary("Exp", "exp")
log = _float_unary("Log", "log")
log1p = _float_unary("Log1p", "log1p")
tanh = _float_unary("Tanh", "tanh")
sigmoid = _float_unary("Sigmoid", "sigmoid")
sqrt = _float_unary("Sqrt", "sqrt")
rsqrt = _float_unary("Rsqrt", "rsqrt")
sin = _float_unary("Sin", "sin")
cos = _float_unary("Cos", "cos")
floor = _float_unary("Floor", "floor")
ceil = _float_unary("Ceil", "ceil")
is_finite = _float_unary("IsFinite", "is_finite")


def round(x, name=None) -> Tensor:  # noqa: A001
    """Rounds half to even, like TF; integers are returned unchanged."""
    x = convert_to_tensor(x, name="x")
    return x if x.dtype.is_integer else _unary("Round", x, name)


def tan(x, name=None) -> Tensor:
    x = convert_to_tensor(x, name="x")
    check_dtype(x, FLOATS, "Tan")
    return realdiv(sin(x), cos(x), name=name or "Tan")


def expm1(x, name=None) -> Tensor:
    """exp(x) - 1: a Taylor series where |x| < 0.1 (the subtraction would cancel there), exp elsewhere.

    The series sees only those small values, so no branch overflows and the gradient stays finite."""
    x = convert_to_tensor(x, name="x")
    check_dtype(x, FLOATS, "Expm1")
    near = less(abs(x), 0.1)
    t = where(near, x, 0)
    series = 1
    for k in range(12, 1, -1):     # 1 + t/2 (1 + t/3 (1 + ...)): truncation error below 1e-19 for |t| < 0.1
        series = 1 + t / k * series
    return where(near, t * series, exp(x) - 1, name=name or "Expm1")


def log_sigmoid(x, name=None) -> Tensor:
    """log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|)), finite for large |x|."""
    x = convert_to_tensor(x, name="x")
    check_dtype(x, FLOATS, "LogSigmoid")
    return subtract(minimum(x, 0), log1p(exp(negative(abs(x)))), name=name or "LogSigmoid")


def xlogy(x, y, name=None) -> Tensor:
    """x * log(y), and 0 wherever x is 0."""
    x, y = convert_pair(x, y, "Xlogy")
    check_dtype(x, FLOATS, "Xlogy")
    zero = equal(x, 0)
    return where(zero, 0, x * log(where(zero, 1, y)), name=name or "Xlogy")


def is_nan(x, name=None) -> Tensor:
    x = convert_to_tensor(x, name="x")
    check_dtype(x, FLOATS, "IsNan")
    return not_equal(x, x, name=name or "IsNan")


def is_inf(x, name=None) -> Tensor:
    x = convert_to_tensor(x, name="x")
    check_dtype(x, FLOATS, "IsInf")
    return equal(abs(x), np.inf, name=name or "IsInf")


def cast(x, dtype, name=None) -> Tensor:
    x = convert_to_tensor(x)
    dtype = dtypes.as_dtype(dtype)
    if x.dtype == dtype:
        return x
    return make_op("Cast", [x], {"DstT": dtype, "SrcT": x.dtype}, name=name or "Cast").outputs[0]


def to_float(x, name="ToFloat") -> Tensor:
    return cast(x, dtypes.float32, name)


def to_double(x, name="ToDouble") -> Tensor:
    return cast(x, dtypes.float64, name)


def to_int32(x, name="ToInt32") -> Tensor:
    return cast(x, dtypes.int32, name)


def to_int64(x, name="ToInt64") -> Tensor:
    return cast(x, dtypes.int64, name)


def where(condition, x=None, y=None, name=None) -> Tensor:
    """The three-argument form, broadcasting like tf.where_v2; the one-argument form: bounded_ops.where_indices."""
    if x is None and y is None:
        from xlite.frontend.bounded_ops import where_indices     # it builds on this module
        return where_indices(condition, name=name)
    if x is None or y is None:
        raise ValueError("x and y must both be non-None or both be None.")
    condition = convert_to_tensor(condition, name="condition")
    check_dtype(condition, BOOL, "SelectV2", "condition")
    x, y = convert_pair(x, y, "SelectV2")
    return make_op("SelectV2", [condition, x, y], name=name or "SelectV2").outputs[0]


select = where
where_v2 = where


def identity(x, name=None) -> Tensor:
    x = convert_to_tensor(x)
    return make_op("Identity", [x], name=name or "Identity").outputs[0]


def stop_gradient(x, name=None) -> Tensor:
    x = convert_to_tensor(x)
    return make_op("StopGradient", [x], name=name or "StopGradient").outputs[0]


def add_n(inputs, name=None) -> Tensor:
    """Sum of same-shaped tensors as one AddN op; a single input comes back as is (through a named Identity)."""
    if isinstance(inputs, Tensor) or not inputs:
        raise ValueError("inputs must be a non-empty list of tensors of the same shape and type")
    inputs = [convert_to_tensor(i) for i in inputs]
    if len({i.dtype.name for i in inputs}) != 1:
        raise ValueError("inputs must be a list of at least one Tensor with the same dtype and shape")
    shape = inputs[0].shape
    for t in inputs[1:]:
        if not shape.is_compatible_with(t.shape):
            raise ValueError(f"add_n: shapes {shape} and {t.shape} are incompatible")
    if len(inputs) == 1:
        return identity(inputs[0], name=name) if name else inputs[0]
    check_dtype(inputs[0], NUMERIC, "AddN", "inputs")
    return make_op("AddN", inputs, name=name or "AddN").outputs[0]


def scalar_mul(scalar, x, name=None) -> Tensor:
    return multiply(scalar, x, name or "Mul")


# gradients ------------------------------------------------------------------------------
def zeros_like_tensor(x: Tensor) -> Tensor:
    return broadcast_to_shape_of(constant(np.zeros((), x.dtype.np), name="zeros"), x)


no_gradient("Equal", "NotEqual", "Less", "LessEqual", "Greater", "GreaterEqual", "LogicalAnd",
            "LogicalOr", "LogicalNot", "BitwiseAnd", "BitwiseOr", "BitwiseXor", "Invert", "IsFinite",
            "Floor", "Ceil", "Round", "FloorDiv", "TruncateDiv", "TruncateMod", "StopGradient")


@grad_rule("Identity")
def _identity_grad(op, g):
    return [g]


@grad_rule("AddN")
def _add_n_grad(op, g):
    return [g] * len(op.inputs)


_UNARY_GRADS = {   # op type: d(loss)/dx from x, y = op(x) and g = d(loss)/dy, as TF's rules compute it
    "Neg": lambda x, y, g: -g,
    "Abs": lambda x, y, g: g * sign(x),
    "Sign": lambda x, y, g: zeros_like_tensor(x),
    "Exp": lambda x, y, g: g * y,
    "Log": lambda x, y, g: g * reciprocal(x),
    "Log1p": lambda x, y, g: g * reciprocal(1 + x),
    "Tanh": lambda x, y, g: g * (1 - y * y),
    "Sigmoid": lambda x, y, g: g * (y * (1 - y)),
    "Sqrt": lambda x, y, g: g * 0.5 / y,
    "Rsqrt": lambda x, y, g: -0.5 * g * (y * y * y),
    "Square": lambda x, y, g: g * (2 * x),
    "Reciprocal": lambda x, y, g: -g * (y * y),
    "Sin": lambda x, y, g: g * cos(x),
    "Cos": lambda x, y, g: -g * sin(x),
}


def _unary_grad_rule(formula):
    return lambda op, g: [formula(op.inputs[0], op.outputs[0], g)]


for _op_type, _formula in _UNARY_GRADS.items():
    grad_rule(_op_type)(_unary_grad_rule(_formula))


@grad_rule("Cast")
def _cast_grad(op, g):
    """Only float-to-float casts pass a gradient; one into or out of an integer passes none."""
    src, dst = op.attrs["SrcT"], op.attrs["DstT"]
    return [cast(g, src) if src.is_floating and dst.is_floating else None]


@grad_rule("AddV2")
def _add_grad(op, g):
    x, y = op.inputs
    return [sum_to_shape_of(g, x), sum_to_shape_of(g, y)]


@grad_rule("Sub")
def _sub_grad(op, g):
    x, y = op.inputs
    return [sum_to_shape_of(g, x), sum_to_shape_of(-g, y)]


@grad_rule("Mul")
def _mul_grad(op, g):
    x, y = op.inputs
    return [sum_to_shape_of(g * y, x), sum_to_shape_of(x * g, y)]


@grad_rule("RealDiv")
def _div_grad(op, g):
    x, y = op.inputs
    return [sum_to_shape_of(g / y, x), sum_to_shape_of(g * (-x / y / y), y)]


@grad_rule("Pow")
def _pow_grad(op, g):
    """As TF: d/dy uses log(x) only where x > 0 (0 elsewhere), so x <= 0 gives no NaN there."""
    x, y = op.inputs
    z = op.outputs[0]
    gx = g * y * pow(x, y - 1)
    positive = greater(x, 0)
    log_x = where(positive, log(where(positive, x, 1)), 0)
    return [sum_to_shape_of(gx, x), sum_to_shape_of(g * z * log_x, y)]


def _select_grads(mask, g, x, y):
    return [sum_to_shape_of(where(mask, g, 0), x), sum_to_shape_of(where(mask, 0, g), y)]


@grad_rule("Maximum")
def _maximum_grad(op, g):
    """Ties go to x, as TF's x >= y mask does."""
    x, y = op.inputs
    return _select_grads(greater_equal(x, y), g, x, y)


@grad_rule("Minimum")
def _minimum_grad(op, g):
    x, y = op.inputs
    return _select_grads(less_equal(x, y), g, x, y)


@grad_rule("SelectV2")
def _select_grad(op, g):
    cond, x, y = op.inputs
    return [None] + _select_grads(cond, g, x, y)


@grad_rule("FloorMod")
def _floormod_grad(op, g):
    """x - floor(x / y) * y: the floor is piecewise constant, so d/dy is -floor(x / y)."""
    x, y = op.inputs
    return [sum_to_shape_of(g, x), sum_to_shape_of(g * negative(floordiv(x, y)), y)]


@grad_rule("SquaredDifference")
def _squared_difference_grad(op, g):
    x, y = op.inputs
    d = g * (2 * (x - y))
    return [sum_to_shape_of(d, x), sum_to_shape_of(-d, y)]


__all__ = [   # what TF1 has at the top level too (`tf.math.xlogy` and the like stay in tf.math only;
    # matmul, the reductions and the clip ops are in matmul_ops, reduction_ops and clip_ops)
    "abs", "add", "add_n", "cast", "ceil", "cos", "div", "div_no_nan", "divide", "equal", "exp", "expm1",
    "floor", "floordiv", "floormod", "greater", "greater_equal", "identity", "is_finite", "is_inf", "is_nan",
    "less", "less_equal", "log", "log1p", "log_sigmoid", "logical_and", "logical_not", "logical_or",
    "logical_xor", "maximum", "minimum", "mod", "multiply", "negative", "not_equal", "pow", "realdiv",
    "reciprocal", "round", "rsqrt", "scalar_mul", "select", "sigmoid", "sign", "sin", "sqrt", "square",
    "squared_difference", "stop_gradient", "subtract", "tan", "tanh", "to_double", "to_float", "to_int32",
    "to_int64", "truediv", "truncatediv", "truncatemod", "where", "where_v2",
]
