"""tf.layers: Dense, Conv1D/2D, Conv2DTranspose, pooling, Flatten and Dropout, as classes and TF1's functions.

`tf.layers` is this module. The base class `Layer` (how a layer picks its
variable scope) is in layer_base.py; the convolutions are in conv_layers.py and
are names of this module too.
"""
from __future__ import annotations

import numpy as np

from xlite import errors
from xlite.frontend import array_ops, init_ops, math_ops, matmul_ops, nn_ops, reduction_ops
from xlite.frontend.conv_layers import (Conv1D, Conv2D, Conv2DTranspose, conv1d, conv2d,  # noqa: F401
                                        conv2d_transpose)  # (tf.layers' names, as TF's)
from xlite.frontend.convert import convert_to_tensor
from xlite.frontend.graph import GraphKeys, Tensor, get_default_graph
from xlite.frontend.layer_base import Layer, _data_format, _no_constraints, _padding, _tuple, apply_layer
from xlite.frontend.variables import assign_sub as tf_assign_sub
from xlite.ir import dtypes

__all__: list[str] = []


class Dense(Layer):
    """outputs = activation(inputs · kernel + bias), over the last dimension of inputs of any rank."""

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer=None,
                 bias_initializer=None, kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None, trainable=True,
                 name=None, **kwargs):
        _no_constraints(kernel_constraint=kernel_constraint, bias_constraint=bias_constraint)
        super().__init__(trainable=trainable, name=name, activity_regularizer=activity_regularizer, **kwargs)
        self.units = int(units)
        if self.units <= 0:
            raise ValueError(f"Received an invalid value for `units`, expected a positive integer. Received: "
                             f"units={units}")
        self.activation = activation
        self.use_bias = use_bias
        self.kernel_initializer = kernel_initializer
        self.bias_initializer = bias_initializer if bias_initializer is not None else init_ops.zeros_initializer()
        self.kernel_regularizer, self.bias_regularizer = kernel_regularizer, bias_regularizer
        self.kernel = self.bias = None

    def build(self, input_shape) -> None:
        if input_shape.ndims is None or input_shape.ndims < 2:
            raise ValueError(f"Input 0 of layer {self.name} is incompatible with the layer: expected min_ndim=2, "
                             f"found ndim={input_shape.ndims}. Full shape received: {input_shape}")
        last = input_shape.dims[-1]
        if last is None:
            raise ValueError("The last dimension of the inputs to `Dense` should be defined. Found `None`.")
        self.kernel = self.add_weight("kernel", [last, self.units], initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer)
        if self.use_bias:
            self.bias = self.add_weight("bias", [self.units], initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer)

    def call(self, inputs):
        rank = inputs.shape.ndims
        if rank > 2:
            lead = inputs.shape.dims[:-1]
            flat = array_ops.reshape(inputs, [-1, inputs.shape.dims[-1]])
            outputs = matmul_ops.matmul(flat, self.kernel)
            if lead.count(None) <= 1:
                target = [-1 if d is None else d for d in lead] + [self.units]
            else:
                target = array_ops.concat([array_ops.shape(inputs)[:-1], [self.units]], 0)
            outputs = array_ops.reshape(outputs, target)
        else:
            outputs = matmul_ops.matmul(inputs, self.kernel)
        if self.use_bias:
            outputs = nn_ops.bias_add(outputs, self.bias)
        if self.activation is not None:
            outputs = self.activation(outputs)
        return outputs


def pool2d(pool, inputs, pool_size, strides, padding: str, data_format: str) -> Tensor:
    """pool (nn_ops.max_pool or avg_pool) of a pool_size window at strides over the two spatial dims of a
    channels_last or channels_first batch: tf.layers' and Keras' pooling layers."""
    if data_format == "channels_last":
        ksize, strides, fmt = [1, *pool_size, 1], [1, *strides, 1], "NHWC"
    else:
        ksize, strides, fmt = [1, 1, *pool_size], [1, 1, *strides], "NCHW"
    return pool(inputs, ksize, strides, padding, data_format=fmt)


def batch_norm_channels(layer, input_shape, is_float32: bool, rank_message: str, axis_message: str) -> int:
    """The channel count along a batch norm layer's axis, which becomes non-negative; a `fused` of None
    becomes TF's choice (4-D float32 inputs normalized over channels). tf.layers' and Keras' layers."""
    rank = input_shape.ndims
    if rank is None:
        raise ValueError(rank_message)
    if not -rank <= layer.axis < rank:
        raise ValueError(f"Invalid axis: {layer.axis}")
    layer.axis %= rank
    channels = input_shape.dims[layer.axis]
    if channels is None:
        raise ValueError(axis_message)
    if layer.fused is None:
        layer.fused = rank == 4 and layer.axis in (1, 3) and is_float32
    return channels


def add_moving_statistics(layer, channels: int) -> None:
    """A batch norm layer's moving_mean and moving_variance: non-trainable weights of [channels]."""
    layer.moving_mean = layer.add_weight("moving_mean", [channels], initializer=layer.moving_mean_initializer,
                                         trainable=False)
    layer.moving_variance = layer.add_weight("moving_variance", [channels],
                                             initializer=layer.moving_variance_initializer, trainable=False)


class _Pooling2D(Layer):
    _pool = None

    def __init__(self, pool_size, strides=None, padding="valid", data_format="channels_last", name=None,
                 **kwargs):
        super().__init__(name=name, **kwargs)
        self.pool_size = _tuple(pool_size, 2, "pool_size")
        self.strides = self.pool_size if strides is None else _tuple(strides, 2, "strides")
        self.padding = _padding(padding)
        self.data_format = _data_format(data_format)

    def call(self, inputs):
        return pool2d(type(self)._pool, inputs, self.pool_size, self.strides, self.padding, self.data_format)


class MaxPooling2D(_Pooling2D):
    _pool = staticmethod(nn_ops.max_pool)


class AveragePooling2D(_Pooling2D):
    _pool = staticmethod(nn_ops.avg_pool)


MaxPool2D, AveragePool2D = MaxPooling2D, AveragePooling2D


class Flatten(Layer):
    """[batch, ...] to [batch, everything else]; channels_first inputs are made channels_last first."""

    def __init__(self, data_format="channels_last", name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        self.data_format = _data_format(data_format)

    def call(self, inputs):
        rank = inputs.shape.ndims
        if rank is None:
            raise ValueError("Flatten needs an input of known rank")
        if self.data_format == "channels_first" and rank > 2:
            inputs = array_ops.transpose(inputs, [0] + list(range(2, rank)) + [1])
        rest = inputs.shape.dims[1:]
        if None not in rest:
            return array_ops.reshape(inputs, [-1, int(np.prod(rest, dtype=np.int64))])
        batch = inputs.shape.dims[0]
        if batch is not None:
            return array_ops.reshape(inputs, [batch, -1])
        return array_ops.reshape(inputs, array_ops.stack([array_ops.shape(inputs)[0], -1]))


class Dropout(Layer):
    """Applies tf.nn.dropout when training (a Python bool, or a bool tensor chosen at run time)."""

    def __init__(self, rate=0.5, noise_shape=None, seed=None, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        self.rate, self.noise_shape, self.seed = rate, noise_shape, seed

    def call(self, inputs, training=False):
        if isinstance(training, (bool, np.bool_)):
            if not training:
                return math_ops.identity(inputs)
            return nn_ops.dropout(inputs, rate=self.rate, noise_shape=self.noise_shape, seed=self.seed)
        training = convert_to_tensor(training, dtype=dtypes.bool_, name="training")
        dropped = nn_ops.dropout(inputs, rate=self.rate, noise_shape=self.noise_shape, seed=self.seed)
        return math_ops.where(training, dropped, inputs)


class BatchNormalization(Layer):
    """Normalizes over all axes but `axis`: batch statistics when training, moving averages otherwise.

    Training adds the moving-average updates to GraphKeys.UPDATE_OPS. Like TF's fused kernel
    (used for float32 rank-4 inputs normalized over channels), the moving variance then takes the
    unbiased batch variance; otherwise the biased one, as TF's unfused path does.
    """

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True, beta_initializer=None,
                 gamma_initializer=None, moving_mean_initializer=None, moving_variance_initializer=None,
                 beta_regularizer=None, gamma_regularizer=None, beta_constraint=None, gamma_constraint=None,
                 renorm=False, fused=None, trainable=True, virtual_batch_size=None, adjustment=None, name=None,
                 **kwargs):
        _no_constraints(beta_constraint=beta_constraint, gamma_constraint=gamma_constraint,
                        renorm=renorm or None, virtual_batch_size=virtual_batch_size, adjustment=adjustment)
        super().__init__(trainable=trainable, name=name, **kwargs)
        if not isinstance(axis, int):
            raise errors.unimplemented("tf.layers.batch_normalization: only a single int axis is supported")
        self.axis, self.momentum, self.epsilon = axis, momentum, epsilon
        self.center, self.scale, self.fused = center, scale, fused
        self.beta_initializer = beta_initializer or init_ops.zeros_initializer()
        self.gamma_initializer = gamma_initializer or init_ops.ones_initializer()
        self.moving_mean_initializer = moving_mean_initializer or init_ops.zeros_initializer()
        self.moving_variance_initializer = moving_variance_initializer or init_ops.ones_initializer()
        self.beta_regularizer, self.gamma_regularizer = beta_regularizer, gamma_regularizer
        self.gamma = self.beta = None

    def build(self, input_shape) -> None:
        channels = batch_norm_channels(self, input_shape, self._dtype == dtypes.float32, "Input has undefined rank.",
                                       f"Input has undefined `axis` dimension. Input shape: {input_shape}")
        if self.scale:
            self.gamma = self.add_weight("gamma", [channels], initializer=self.gamma_initializer,
                                         regularizer=self.gamma_regularizer)
        if self.center:
            self.beta = self.add_weight("beta", [channels], initializer=self.beta_initializer,
                                        regularizer=self.beta_regularizer)
        add_moving_statistics(self, channels)

    def _broadcastable(self, t, rank: int):
        if t is None or self.axis == rank - 1:
            return t
        return array_ops.reshape(t, [-1 if i == self.axis else 1 for i in range(rank)])

    def _moving_average_updates(self, mean, variance, count, decay) -> None:
        if self.fused:
            variance = variance * (count / math_ops.maximum(count - 1.0, 1.0))
        graph = get_default_graph()
        for i, (var, value) in enumerate(((self.moving_mean, mean), (self.moving_variance, variance))):
            with graph.name_scope("AssignMovingAvg" + ("_1" if i else "")):
                update = tf_assign_sub(var, (var.value() - value) * decay)
            graph.add_to_collection(GraphKeys.UPDATE_OPS, update)

    def call(self, inputs, training=False):
        rank = inputs.shape.ndims
        axes = [i for i in range(rank) if i != self.axis]
        if isinstance(training, (bool, np.bool_)) and not training:
            mean, variance = self.moving_mean.value(), self.moving_variance.value()
        else:
            batch_mean, batch_variance = nn_ops.moments(inputs, axes)
            batch_size = reduction_ops.reduce_prod(array_ops.gather(array_ops.shape(inputs), axes))
            count = math_ops.cast(batch_size, self._dtype)
            if isinstance(training, (bool, np.bool_)):
                mean, variance, decay = batch_mean, batch_variance, 1.0 - self.momentum
            else:
                training = convert_to_tensor(training, dtype=dtypes.bool_, name="training")
                mean = math_ops.where(training, batch_mean, self.moving_mean.value())
                variance = math_ops.where(training, batch_variance, self.moving_variance.value())
                decay = math_ops.where(training, convert_to_tensor(1.0 - self.momentum, dtype=self._dtype), 0.0)
            self._moving_average_updates(batch_mean, batch_variance, count, decay)
        return nn_ops.batch_normalization(inputs, self._broadcastable(mean, rank), self._broadcastable(variance, rank),
                                          self._broadcastable(self.beta, rank), self._broadcastable(self.gamma, rank),
                                          self.epsilon)


# TF1's functional forms --------------------------------------------------------------------
def dense(inputs, units, activation=None, use_bias=True, kernel_initializer=None, bias_initializer=None,
          kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
          bias_constraint=None, trainable=True, name=None, reuse=None) -> Tensor:
    return apply_layer(Dense, locals())


def max_pooling2d(inputs, pool_size, strides, padding="valid", data_format="channels_last", name=None) -> Tensor:
    return MaxPooling2D(pool_size, strides, padding=padding, data_format=data_format, name=name).apply(inputs)


def average_pooling2d(inputs, pool_size, strides, padding="valid", data_format="channels_last",
                      name=None) -> Tensor:
    return AveragePooling2D(pool_size, strides, padding=padding, data_format=data_format, name=name).apply(inputs)


def flatten(inputs, name=None, data_format="channels_last") -> Tensor:
    return Flatten(data_format=data_format, name=name).apply(inputs)


def dropout(inputs, rate=0.5, noise_shape=None, seed=None, training=False, name=None) -> Tensor:
    return Dropout(rate, noise_shape=noise_shape, seed=seed, name=name).apply(inputs, training=training)


def batch_normalization(inputs, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
                        beta_initializer=None, gamma_initializer=None, moving_mean_initializer=None,
                        moving_variance_initializer=None, beta_regularizer=None, gamma_regularizer=None,
                        beta_constraint=None, gamma_constraint=None, training=False, trainable=True, name=None,
                        reuse=None, renorm=False, renorm_clipping=None, renorm_momentum=0.99, fused=None,
                        virtual_batch_size=None, adjustment=None) -> Tensor:
    layer = BatchNormalization(axis=axis, momentum=momentum, epsilon=epsilon, center=center, scale=scale,
                               beta_initializer=beta_initializer, gamma_initializer=gamma_initializer,
                               moving_mean_initializer=moving_mean_initializer,
                               moving_variance_initializer=moving_variance_initializer,
                               beta_regularizer=beta_regularizer, gamma_regularizer=gamma_regularizer,
                               beta_constraint=beta_constraint, gamma_constraint=gamma_constraint, renorm=renorm,
                               fused=fused, trainable=trainable, virtual_batch_size=virtual_batch_size,
                               adjustment=adjustment, name=name, _reuse=reuse, _scope=name)
    return layer.apply(inputs, training=training)
