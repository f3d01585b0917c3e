"""tf.keras.activations: Keras' activation names resolved to frontend nn/math ops."""
from __future__ import annotations

from xlite.frontend import math_ops, nn_ops


def linear(x):
    return x


def relu(x, alpha: float = 0.0, max_value=None, threshold: float = 0.0):
    if alpha or threshold or max_value is not None:
        y = nn_ops.relu(x) if not threshold else math_ops.where(x > threshold, x, math_ops.zeros_like_tensor(x))
        if max_value is not None:
            y = math_ops.minimum(y, max_value)
        if alpha:
            y = y + alpha * math_ops.minimum(x - threshold, 0.0)
        return y
    return nn_ops.relu(x)


def softmax(x, axis: int = -1):
    return nn_ops.softmax(x, axis=axis)


def sigmoid(x):
    return math_ops.sigmoid(x) if hasattr(math_ops, "sigmoid") else nn_ops.sigmoid(x)


def tanh(x):
    return nn_ops.tanh(x)


def elu(x, alpha: float = 1.0):
    y = nn_ops.elu(x)
    return y if alpha == 1.0 else math_ops.where(x > 0, y, alpha * y)


def selu(x):
    return nn_ops.selu(x)


def softplus(x):
    return nn_ops.softplus(x)


def softsign(x):
    return nn_ops.softsign(x)


def swish(x):
    return nn_ops.swish(x)


def relu6(x):
    return nn_ops.relu6(x)


def exponential(x):
    return math_ops.exp(x) if hasattr(math_ops, "exp") else nn_ops.math_ops.exp(x)


def hard_sigmoid(x):
    """Keras 2's piecewise-linear sigmoid: clip(0.2 x + 0.5, 0, 1)."""
    return math_ops.minimum(math_ops.maximum(0.2 * x + 0.5, 0.0), 1.0)


_BY_NAME = {f.__name__: f for f in (linear, relu, softmax, sigmoid, tanh, elu, selu, softplus, softsign, swish,
                                     relu6, exponential, hard_sigmoid)}


def get(identifier):
    """The activation named `identifier` (None: linear), or `identifier` itself if callable."""
    if identifier is None:
        return linear
    if isinstance(identifier, str):
        if identifier not in _BY_NAME:
            raise ValueError(f"Unknown activation function: '{identifier}'. Please ensure you are using a "
                             f"`keras.utils.custom_object_scope` and that this object is included in the scope.")
        return _BY_NAME[identifier]
    if callable(identifier):
        return identifier
    raise TypeError(f"Could not interpret activation function identifier: {identifier}")


def serialize(activation) -> str:
    for name, fn in _BY_NAME.items():
        if fn is activation:
            return name
    return getattr(activation, "__name__", str(activation))
