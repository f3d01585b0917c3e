"""tf.nn: activations, softmax and cross-entropies, convolution, pooling, dropout, normalization.

This module is the namespace; the op families live in nn_activations, nn_softmax,
nn_conv and nn_pool. The small ops defined here are BiasAdd, L2Loss and InTopKV2
(primitive op types) and composites (dropout, moments, batch_normalization, ...).
"""
from __future__ import annotations

import numbers

import numpy as np

from xlite import errors
from xlite.frontend import array_ops, math_ops, matmul_ops, random_ops, reduction_ops
from xlite.frontend.convert import convert_to_tensor
from xlite.frontend.gradients import grad_rule, no_gradient
from xlite.frontend.graph import Tensor
from xlite.frontend.math_ops import sigmoid, tanh  # noqa: F401 - tf.nn.sigmoid, tf.nn.tanh
from xlite.frontend.missing_api import namespace_getattr
from xlite.frontend.nn_activations import (elu, leaky_relu, relu, relu6, selu, silu, softplus,  # noqa: F401
                                           softsign, swish)
from xlite.frontend.nn_conv import (atrous_conv2d, conv1d, conv2d, conv2d_backprop_filter,  # noqa: F401
                                    conv2d_backprop_input, conv2d_transpose)
from xlite.frontend.nn_depthwise import (depthwise_conv2d, depthwise_conv2d_native,  # noqa: F401
                                         depthwise_conv2d_native_backprop_filter,
                                         depthwise_conv2d_native_backprop_input, separable_conv2d)
from xlite.frontend.nn_pool import avg_pool, avg_pool2d, max_pool, max_pool2d  # noqa: F401
from xlite.frontend.nn_softmax import (log_softmax, sigmoid_cross_entropy_with_logits, softmax,  # noqa: F401
                                       softmax_cross_entropy_with_logits,
                                       softmax_cross_entropy_with_logits_v2,
                                       sparse_softmax_cross_entropy_with_logits,
                                       weighted_cross_entropy_with_logits)
from xlite.frontend.op_registry import lowering, make_op
from xlite.frontend.scopes import name_scope
from xlite.frontend.sort_ops import top_k  # noqa: F401 - tf.nn.top_k
from xlite.ir import dtypes

__all__: list[str] = []


# BiasAdd ----------------------------------------------------------------------------
def _feature_axis(data_format: str | None, rank: int) -> int:
    return 1 if data_format is not None and data_format.startswith("NC") else rank - 1


@lowering("BiasAdd")
def _lower_bias_add(ctx, op, x, bias):
    b = ctx.b
    rank = x.shape.rank
    if rank < 2:
        raise ValueError(f"Shape must be at least rank 2 but is rank {rank} for BiasAdd")
    if bias.shape.rank != 1:
        raise ValueError(f"Shape must be rank 1 but is rank {bias.shape.rank} for the bias of BiasAdd")
    axis = _feature_axis(op.attrs["data_format"], rank)
    d, n = x.shape.dims[axis], bias.shape.dims[0]
    if d is not None and n is not None and d != n:
        raise ValueError(f"Dimensions must be equal, but are {d} and {n} for BiasAdd "
                         f"with input shapes: {list(x.shape.dims)}, [{n}]")
    return b.emit("add", (x, b.broadcast_in_dim(bias, x.shape.dims, (axis,))))


@grad_rule("BiasAdd")
def _bias_add_grad(op, g):
    rank = op.inputs[0].shape.ndims
    axis = _feature_axis(op.attrs["data_format"], rank)
    return [g, reduction_ops.reduce_sum(g, [i for i in range(rank) if i != axis], name="BiasAddGrad")]


def bias_add(value, bias, data_format=None, name=None) -> Tensor:
    """Adds a 1-D bias to the channel dimension: the last for NHWC, dimension 1 for NC..."""
    x = convert_to_tensor(value, name="input")
    bias = convert_to_tensor(bias, dtype=x.dtype, name="bias")
    if x.shape.ndims is None:
        raise ValueError("bias_add needs an input of known rank")
    return make_op("BiasAdd", [x, bias], {"data_format": data_format or "NHWC"}, name=name or "BiasAdd").outputs[0]


def xw_plus_b(x, weights, biases, name=None) -> Tensor:
    x = convert_to_tensor(x)
    with x.graph.name_scope(name or "xw_plus_b") as scope:
        return bias_add(matmul_ops.matmul(x, weights), biases, name=scope)


# L2Loss ----------------------------------------------------------------------------
@lowering("L2Loss")
def _lower_l2_loss(ctx, op, x):
    b = ctx.b
    total = b.reduce(b.emit("mul", (x, x)), "sum", range(x.shape.rank))
    return b.emit("div", (total, b.scalar(2, x.dtype)))


@grad_rule("L2Loss")
def _l2_loss_grad(op, g):
    return [op.inputs[0] * g]


def l2_loss(t, name=None) -> Tensor:
    """sum(t ** 2) / 2."""
    t = convert_to_tensor(t, name="t")
    if not t.dtype.is_floating:
        raise TypeError(f"l2_loss needs a floating point tensor, got {t.dtype.name}")
    return make_op("L2Loss", [t], name=name or "L2Loss").outputs[0]


# InTopKV2 --------------------------------------------------------------------------
@lowering("InTopKV2")
def _lower_in_top_k(ctx, op, predictions, targets, k):
    """True where fewer than k classes score strictly higher than the target (ties count as in)."""
    b = ctx.b
    if predictions.shape.rank != 2 or targets.shape.rank != 1:
        raise ValueError(f"in_top_k needs [batch, classes] predictions and [batch] targets, got "
                         f"{predictions.shape} and {targets.shape}")
    dims = predictions.shape.dims
    batch, classes = dims
    classes_known = classes if classes is not None else 0
    iota = b.iota(targets.dtype, dims, 1)
    is_target = b.compare(iota, b.broadcast_in_dim(targets, dims, (0,)), "EQ")
    lowest = b.broadcast_to(b.scalar(-np.inf, predictions.dtype), dims)
    target_score = b.reduce(b.emit("select", (is_target, predictions, lowest)), "max", [1])
    higher = b.compare(predictions, b.broadcast_in_dim(target_score, dims, (0,)), "GT")
    count = b.reduce(b.convert(higher, targets.dtype), "sum", [1])
    in_top = b.compare(count, b.broadcast_to(b.convert(k, targets.dtype), (batch,)), "LT")
    finite = b.reduce(b.emit("is_finite", (predictions,)), "and", [1])
    zero = b.broadcast_to(b.scalar(0, targets.dtype), (batch,))
    top = b.broadcast_to(b.scalar(classes_known, targets.dtype), (batch,))
    in_range = b.emit("and", (b.compare(targets, zero, "GE"), b.compare(targets, top, "LT")))
    return b.emit("and", (in_top, b.emit("and", (finite, in_range))))


no_gradient("InTopKV2")


def in_top_k(predictions, targets, k, name=None) -> Tensor:
    """Whether each target is among the top k predictions; False for out-of-range targets or non-finite rows."""
    predictions = convert_to_tensor(predictions, name="predictions")
    targets = convert_to_tensor(targets, name="targets")
    if not targets.dtype.is_integer:
        raise TypeError(f"in_top_k targets must be int32 or int64, got {targets.dtype.name}")
    if not predictions.dtype.is_floating:
        raise TypeError(f"in_top_k predictions must be floating point, got {predictions.dtype.name}")
    with predictions.graph.name_scope(name or "in_top_k") as scope:
        k = convert_to_tensor(k, dtype=targets.dtype, name="k")
        return make_op("InTopKV2", [predictions, targets, k], name=scope).outputs[0]


# composites ----------------------------------------------------------------------------
def _noise_shape(x: Tensor, noise_shape):
    if noise_shape is not None:
        return noise_shape
    return x.shape.as_list() if x.shape.is_fully_defined() else array_ops.shape(x)


def dropout(x, keep_prob=None, noise_shape=None, seed=None, name=None, rate=None) -> Tensor:
    """Zeroes each element with probability `rate` (= 1 - keep_prob) and scales the rest by 1 / (1 - rate)."""
    if keep_prob is not None and rate is not None:
        raise ValueError("Cannot specify both 'keep_prob' and 'rate'")
    if keep_prob is not None:
        rate = 1 - keep_prob
    if rate is None:
        raise ValueError(f"You must provide a `rate` to `dropout`. Received `rate`={rate}")
    x = convert_to_tensor(x, name="x")
    with x.graph.name_scope(name or "dropout") as scope:
        if not x.dtype.is_floating:
            raise ValueError(f"`x.dtype` must be a floating point tensor as `x` will be scaled. "
                             f"Received: x_dtype={x.dtype.name}")
        if isinstance(rate, numbers.Real):
            if not 0 <= rate < 1:
                raise ValueError(f"`rate` must be a scalar tensor or a float in the range [0, 1). Received: rate={rate}")
            if rate == 0:
                return x
            kept = x * (1 / (1 - rate))
        else:
            rate = convert_to_tensor(rate, dtype=x.dtype, name="rate")
            if rate.shape.ndims not in (None, 0):
                raise ValueError(f"`rate` must be a scalar, got shape {rate.shape}")
            kept = math_ops.realdiv(x, 1 - rate)
        noise = random_ops.random_uniform(_noise_shape(x, noise_shape), dtype=x.dtype, seed=seed)
        result = math_ops.where(math_ops.greater_equal(noise, rate), kept, 0, name=scope)
        result.set_shape(x.shape)
        return result


def moments(x, axes, shift=None, name=None, keep_dims=None, keepdims=None) -> tuple[Tensor, Tensor]:
    """Mean and variance over axes; the variance centres on a stop_gradient mean, as TF's does."""
    keep = bool(keepdims if keepdims is not None else keep_dims)
    x = convert_to_tensor(x, name="x")
    with x.graph.name_scope(name or "moments"):
        mean = reduction_ops.reduce_mean(x, axes, keepdims=True, name="mean")
        variance = reduction_ops.reduce_mean(math_ops.squared_difference(x, math_ops.stop_gradient(mean)), axes,
                                        keepdims=True, name="variance")
        if not keep:
            axes = [axes] if isinstance(axes, int) else list(axes)
            mean = array_ops.squeeze(mean, axes)
            variance = array_ops.squeeze(variance, axes)
        return mean, variance


def batch_normalization(x, mean, variance, offset, scale, variance_epsilon, name=None) -> Tensor:
    """(x - mean) * scale / sqrt(variance + eps) + offset, in TF's order of operations."""
    x = convert_to_tensor(x, name="x")
    with x.graph.name_scope(name or "batchnorm"):
        inv = math_ops.rsqrt(variance + variance_epsilon)
        if scale is not None:
            inv = inv * scale
        shift = offset - mean * inv if offset is not None else -mean * inv
        return x * inv + shift


def zero_fraction(value, name=None) -> Tensor:
    """The fraction of `value`'s elements that are zero, as a float32 scalar."""
    with name_scope(name, "zero_fraction", [value]) as scope:
        value = convert_to_tensor(value, name="value")
        zero = math_ops.equal(value, array_ops.zeros_like(value))
        return reduction_ops.reduce_mean(math_ops.cast(zero, dtypes.float32), name=scope)


def crelu(features, name=None, axis=-1) -> Tensor:
    """relu(x) and relu(-x) concatenated along `axis`: the positive and negative parts as separate features."""
    with name_scope(name, "CRelu", [features]) as scope:
        x = convert_to_tensor(features, name="features")
        return array_ops.concat([relu(x), relu(math_ops.negative(x))], axis, name=scope)


def relu_layer(x, weights, biases, name=None) -> Tensor:
    """relu(x @ weights + biases)."""
    with name_scope(name, "relu_layer", [x, weights, biases]) as scope:
        return relu(bias_add(matmul_ops.matmul(x, weights), biases), name=scope)


def l2_normalize(x, axis=None, epsilon=1e-12, name=None, dim=None) -> Tensor:
    """x / sqrt(max(sum(x ** 2, axis), epsilon))."""
    axis = dim if axis is None else axis
    x = convert_to_tensor(x, name="x")
    with x.graph.name_scope(name or "l2_normalize") as scope:
        square_sum = reduction_ops.reduce_sum(math_ops.square(x), axis, keepdims=True)
        inv_norm = math_ops.rsqrt(math_ops.maximum(square_sum, epsilon))
        return math_ops.multiply(x, inv_norm, name=scope)


from xlite.frontend.embedding_ops import embedding_lookup, embedding_lookup_sparse  # noqa: E402,F401


# recurrent networks (their modules use this one's bias_add and dropout, so they come last) -------------
from xlite.frontend import rnn_cell  # noqa: E402,F401 - tf.nn.rnn_cell
from xlite.frontend.rnn import (bidirectional_dynamic_rnn, dynamic_rnn, static_bidirectional_rnn,  # noqa: E402,F401
                                static_rnn)

__getattr__ = namespace_getattr("nn", __name__)      # a TF name it lacks: UnimplementedError naming it
