"""tf.nn activations: Relu, Relu6, LeakyRelu, Elu, Selu, Softplus, Softsign, each an op type.

Each lowers to a few IR primitives; each gradient rule builds ordinary graph ops
(select on the sign, TF's formulas on the op's output), so second derivatives
come from the primitives' own rules.
"""
from __future__ import annotations

from xlite.frontend import math_ops
from xlite.frontend.convert import convert_to_tensor
from xlite.frontend.gradients import grad_rule
from xlite.frontend.graph import Tensor
from xlite.frontend.op_registry import lowering, make_op

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def _activation(op_type: str, features, name, attrs=None, float_only: bool = True) -> Tensor:
    x = convert_to_tensor(features, name="features")
    if x.dtype.is_bool or (float_only and not x.dtype.is_floating):
        raise TypeError(f"Value passed to parameter 'features' has DataType {x.dtype.name} not in list of "
                        f"allowed values for {op_type}")
    return make_op(op_type, [x], attrs, name=name or op_type).outputs[0]


def _full(b, value, like):
    return b.broadcast_to(b.scalar(value, like.dtype), like.shape.dims)


def _positive(b, x):
    return b.compare(x, _full(b, 0, x), "GT")


def expm1(b, x):
    """exp(x) - 1 without cancellation near 0: tanh(x/2) * (exp(x) + 1)."""
    half = b.emit("mul", (x, _full(b, 0.5, x)))
    return b.emit("mul", (b.emit("tanh", (half,)), b.emit("add", (b.emit("exp", (x,)), _full(b, 1, x)))))


# lowerings ------------------------------------------------------------------------------
@lowering("Relu")
def _lower_relu(ctx, op, x):
    return ctx.b.emit("max", (x, _full(ctx.b, 0, x)))


@lowering("Relu6")
def _lower_relu6(ctx, op, x):
    b = ctx.b
    return b.emit("clamp", (b.scalar(0, x.dtype), x, b.scalar(6, x.dtype)))


@lowering("LeakyRelu")
def _lower_leaky_relu(ctx, op, x):
    b = ctx.b
    return b.emit("select", (_positive(b, x), x, b.emit("mul", (x, _full(b, op.attrs["alpha"], x)))))


@lowering("Elu")
def _lower_elu(ctx, op, x):
    b = ctx.b
    return b.emit("select", (_positive(b, x), x, expm1(b, x)))


@lowering("Selu")
def _lower_selu(ctx, op, x):
    b = ctx.b
    negative = b.emit("mul", (expm1(b, x), _full(b, SELU_ALPHA, x)))
    return b.emit("mul", (b.emit("select", (_positive(b, x), x, negative)), _full(b, SELU_SCALE, x)))


@lowering("Softplus")
def _lower_softplus(ctx, op, x):
    """max(x, 0) + log1p(exp(-|x|)): never overflows."""
    b = ctx.b
    tail = b.emit("log1p", (b.emit("exp", (b.emit("neg", (b.emit("abs", (x,)),)),)),))
    return b.emit("add", (b.emit("max", (x, _full(b, 0, x))), tail))


@lowering("Softsign")
def _lower_softsign(ctx, op, x):
    b = ctx.b
    return b.emit("div", (x, b.emit("add", (b.emit("abs", (x,)), _full(b, 1, x)))))


# gradients ---------------------------------------------------------------------------------
@grad_rule("Relu")
def _relu_grad(op, g):
    return [math_ops.where(math_ops.greater(op.outputs[0], 0), g, 0)]


@grad_rule("Relu6")
def _relu6_grad(op, g):
    x = op.inputs[0]
    inside = math_ops.logical_and(math_ops.greater(x, 0), math_ops.less(x, 6))
    return [math_ops.where(inside, g, 0)]


@grad_rule("LeakyRelu")
def _leaky_relu_grad(op, g):
    return [math_ops.where(math_ops.greater(op.inputs[0], 0), g, g * op.attrs["alpha"])]


@grad_rule("Elu")
def _elu_grad(op, g):
    y = op.outputs[0]
    return [math_ops.where(math_ops.greater(y, 0), g, g * (y + 1))]


@grad_rule("Selu")
def _selu_grad(op, g):
    y = op.outputs[0]
    return [math_ops.where(math_ops.greater(y, 0), g * SELU_SCALE, g * (y + SELU_SCALE * SELU_ALPHA))]


@grad_rule("Softplus")
def _softplus_grad(op, g):
    return [g * math_ops.sigmoid(op.inputs[0])]


@grad_rule("Softsign")
def _softsign_grad(op, g):
    return [g / math_ops.square(1 + math_ops.abs(op.inputs[0]))]


# the API ----------------------------------------------------------------------------------
def relu(features, name=None) -> Tensor:
    return _activation("Relu", features, name, float_only=False)


def relu6(features, name=None) -> Tensor:
    return _activation("Relu6", features, name, float_only=False)


def leaky_relu(features, alpha=0.2, name=None) -> Tensor:
    return _activation("LeakyRelu", features, name, {"alpha": float(alpha)})


def _float_activation(op_type: str):
    """tf.nn.<op type, lower case>(features, name=None): the op type on a floating-point tensor."""
    def fn(features, name=None) -> Tensor:
        return _activation(op_type, features, name)
    fn.__name__ = fn.__qualname__ = op_type.lower()
    fn.__doc__ = f"tf.nn.{fn.__name__}: elementwise, floating-point inputs only (op type {op_type})."
    return fn


elu = _float_activation("Elu")
selu = _float_activation("Selu")
softplus = _float_activation("Softplus")
softsign = _float_activation("Softsign")


def swish(features, beta=1.0, name=None) -> Tensor:
    """x * sigmoid(beta * x), built from primitives under the scope `swish`."""
    x = convert_to_tensor(features, name="features")
    with x.graph.name_scope(name or "swish") as scope:
        return math_ops.multiply(x, math_ops.sigmoid(x * beta if beta != 1.0 else x), name=scope)


silu = swish
