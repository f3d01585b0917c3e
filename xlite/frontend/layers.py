"""tf.layers: Dense, Conv1D/2D, Conv2DTranspose, pooling, Flatten and Dropout, as classes and TF1's functions.

A layer owns a variable scope, chosen on first use like TF1's: its name, or a
unique `default_name` ("dense", "dense_1", ...). Its Variables come from
tf.get_variable in that scope (`dense/kernel:0`) and its ops are named under the
scope's original name scope (`dense/MatMul`, `dense/BiasAdd`, `dense/Relu`).
"""
from __future__ import annotations

import re

import numpy as np

from xlite.frontend import array_ops, init_ops, math_ops, nn_ops
from xlite.frontend.convert import convert_to_tensor
from xlite.frontend.graph import GraphKeys, Tensor, get_default_graph
from xlite.frontend.variable_scope import VariableScope, get_variable, variable_scope
from xlite.frontend.variables import assign_sub as tf_assign_sub
from xlite.ir import dtypes

__all__: list[str] = []


def _snake_case(name: str) -> str:
    """TF's layer base names: Dense -> dense, Conv2D -> conv2d, MaxPooling2D -> max_pooling2d."""
    intermediate = re.sub("(.)([A-Z][a-z0-9]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", intermediate).lower()


def _tuple(value, n: int, what: str) -> tuple:
    if isinstance(value, int):
        return (value,) * n
    value = tuple(int(v) for v in value)
    if len(value) != n:
        raise ValueError(f"The `{what}` argument must be a tuple of {n} integers. Received: {value}")
    return value


def _padding(padding: str) -> str:
    p = padding.lower()
    if p not in ("valid", "same"):
        raise ValueError(f"The `padding` argument must be one of 'valid', 'same'. Received: {padding}")
    return p.upper()


def _data_format(data_format: str | None) -> str:
    fmt = (data_format or "channels_last").lower()
    if fmt not in ("channels_last", "channels_first"):
        raise ValueError(f"The `data_format` argument must be one of 'channels_first', 'channels_last'. "
                         f"Received: {data_format}")
    return fmt


def _no_constraints(**constraints) -> None:
    for key, value in constraints.items():
        if value is not None:
            raise NotImplementedError(f"tf.layers: {key} is not supported by xlite")


class Layer:
    """TF1's layer: builds its Variables on the first call, inside its own variable scope."""

    def __init__(self, trainable: bool = True, name: str | None = None, dtype=None, activity_regularizer=None,
                 _reuse=None, _scope=None, **kwargs):
        """`_scope` (TF1's functional layers pass their name) fixes the variable scope now, ununiquified."""
        if kwargs:
            raise TypeError(f"Keyword argument not understood: {sorted(kwargs)[0]!r}")
        self.trainable = trainable
        self.built = False
        self.activity_regularizer = activity_regularizer
        self._dtype = None if dtype is None else dtypes.as_dtype(dtype)
        self._reuse = _reuse
        self._base_name = _snake_case(type(self).__name__)
        if isinstance(name, VariableScope):
            _scope, name = name, None
        self._name = name
        self._scope: VariableScope | None = None
        if _scope:
            with variable_scope(_scope) as captured:
                self._scope = captured
            self._name = captured.name.split("/")[-1]
        self._weights: list = []

    @property
    def name(self) -> str:
        return self._name or self._base_name

    @property
    def dtype(self):
        return self._dtype

    @property
    def scope_name(self) -> str:
        if self._scope is None:
            raise ValueError("No name available for layer scope because the layer has not been used yet.")
        return self._scope.name

    @property
    def variables(self) -> list:
        return list(self._weights)

    weights = variables

    @property
    def trainable_variables(self) -> list:
        return [v for v in self._weights if v.trainable] if self.trainable else []

    trainable_weights = trainable_variables

    @property
    def non_trainable_variables(self) -> list:
        return [v for v in self._weights if not (self.trainable and v.trainable)]

    non_trainable_weights = non_trainable_variables

    def add_weight(self, name: str, shape, dtype=None, initializer=None, regularizer=None, trainable=True):
        var = get_variable(name, shape=shape, dtype=dtype or self._dtype or dtypes.float32,
                           initializer=initializer, regularizer=regularizer,
                           trainable=bool(trainable and self.trainable))
        if var not in self._weights:
            self._weights.append(var)
        return var

    add_variable = add_weight

    def build(self, input_shape) -> None:
        self.built = True

    def call(self, inputs, **kwargs):
        return inputs

    def _set_scope(self, scope=None) -> None:
        if self._scope is not None:
            return
        if self._reuse:
            with variable_scope(scope if scope is not None else self.name) as captured:
                self._scope = captured
        else:
            with variable_scope(scope, default_name=self.name) as captured:
                self._scope = captured
        self._name = self._scope.name.split("/")[-1]

    def _cast_input(self, inputs) -> Tensor:
        x = convert_to_tensor(inputs)
        if self._dtype is None:
            self._dtype = x.dtype if x.dtype.is_floating else dtypes.float32
        if x.dtype != self._dtype and (x.dtype.is_floating or x.dtype.is_integer):
            x = math_ops.cast(x, self._dtype)
        return x

    def __call__(self, inputs, *args, **kwargs):
        self._set_scope(kwargs.pop("scope", None))
        graph = get_default_graph()
        with variable_scope(self._scope, reuse=True if self.built else self._reuse,
                            auxiliary_name_scope=False) as scope:
            with graph.name_scope(scope.original_name_scope):
                x = self._cast_input(inputs)
                if not self.built:
                    self.build(x.shape)
                    self.built = True
                outputs = self.call(x, *args, **kwargs)
                if self.activity_regularizer is not None:
                    with graph.name_scope("ActivityRegularizer"):
                        loss = self.activity_regularizer(outputs)
                    if loss is not None:
                        graph.add_to_collection(GraphKeys.REGULARIZATION_LOSSES, loss)
        return outputs

    apply = __call__


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
            outputs = math_ops.matmul(flat, self.kernel)
            if lead.count(None) <= 1:
                target = [-1 if d is None else d for d in lead] + [self.units]
            else:
                target = array_ops.concat([array_ops.shape(inputs)[:-1], [self.units]], 0)
            outputs = array_ops.reshape(outputs, target)
        else:
            outputs = math_ops.matmul(inputs, self.kernel)
        if self.use_bias:
            outputs = nn_ops.bias_add(outputs, self.bias)
        if self.activation is not None:
            outputs = self.activation(outputs)
        return outputs


class _Conv(Layer):
    """Keras' Conv over `rank` spatial dims: a [*kernel_size, in, filters] kernel, then bias and activation."""

    rank = 2

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format="channels_last",
                 dilation_rate=1, activation=None, use_bias=True, kernel_initializer=None,
                 bias_initializer=None, kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None, trainable=True,
                 name=None, **kwargs):
        _no_constraints(kernel_constraint=kernel_constraint, bias_constraint=bias_constraint)
        super().__init__(trainable=trainable, name=name, activity_regularizer=activity_regularizer, **kwargs)
        self.filters = int(filters)
        if self.filters <= 0:
            raise ValueError(f"Invalid value for argument `filters`. Expected a strictly positive value. "
                             f"Received filters={filters}.")
        self.kernel_size = _tuple(kernel_size, self.rank, "kernel_size")
        self.strides = _tuple(strides, self.rank, "strides")
        self.dilation_rate = _tuple(dilation_rate, self.rank, "dilation_rate")
        self.padding = self._padding(padding)
        self.data_format = _data_format(data_format)
        self.activation, self.use_bias = activation, use_bias
        self.kernel_initializer = kernel_initializer
        self.bias_initializer = bias_initializer if bias_initializer is not None else init_ops.zeros_initializer()
        self.kernel_regularizer, self.bias_regularizer = kernel_regularizer, bias_regularizer
        self.kernel = self.bias = None

    @staticmethod
    def _padding(padding: str) -> str:
        return _padding(padding)

    @property
    def _nn_format(self) -> str:
        spatial = "HW"[2 - self.rank:] if self.rank <= 2 else "DHW"
        return f"N{spatial}C" if self.data_format == "channels_last" else f"NC{spatial}"

    def _kernel_shape(self, channels: int) -> list:
        return list(self.kernel_size) + [channels, self.filters]

    def build(self, input_shape) -> None:
        if input_shape.ndims != self.rank + 2:
            raise ValueError(f"Input 0 of layer {self.name} is incompatible with the layer: expected "
                             f"ndim={self.rank + 2}, found ndim={input_shape.ndims}. Full shape received: "
                             f"{input_shape}")
        channels = input_shape.dims[-1 if self.data_format == "channels_last" else 1]
        if channels is None:
            raise ValueError("The channel dimension of the inputs should be defined. Found `None`.")
        self.kernel = self.add_weight("kernel", self._kernel_shape(channels), initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer)
        if self.use_bias:
            self.bias = self.add_weight("bias", [self.filters], initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer)

    def call(self, inputs):
        outputs = self._convolve(inputs)   # each subclass's nn op
        if self.use_bias:
            outputs = nn_ops.bias_add(outputs, self.bias, data_format=self._nn_format)
        if self.activation is not None:
            outputs = self.activation(outputs)
        return outputs


class Conv1D(_Conv):
    """1-D convolution with a [k, in, filters] kernel; 'causal' padding pads (k - 1) * dilation on the left."""

    rank = 1

    @staticmethod
    def _padding(padding: str) -> str:
        return "CAUSAL" if padding.lower() == "causal" else _padding(padding)

    def _convolve(self, inputs) -> Tensor:
        padding = self.padding
        if padding == "CAUSAL":
            pads = [[0, 0], [0, 0], [0, 0]]
            pads[1 if self.data_format == "channels_last" else 2][0] = self.dilation_rate[0] * (self.kernel_size[0] - 1)
            inputs, padding = array_ops.pad(inputs, pads), "VALID"
        return nn_ops.conv1d(inputs, self.kernel, stride=self.strides[0], padding=padding,
                             data_format=self._nn_format, dilations=self.dilation_rate[0], name="conv1d")


class Conv2D(_Conv):
    """2-D convolution with a [kh, kw, in, filters] kernel, 'valid' or 'same' padding (any case)."""

    def _convolve(self, inputs) -> Tensor:
        return nn_ops.conv2d(inputs, self.kernel, strides=list(self.strides), padding=self.padding,
                             data_format=self._nn_format, dilations=list(self.dilation_rate))


def _deconv_length(size, kernel: int, stride: int, dilation: int, padding: str):
    """Keras' transposed-conv output length (an int, or a tensor when the input's size is one)."""
    kernel = (kernel - 1) * dilation + 1
    if padding == "VALID":
        return size * stride + max(kernel - stride, 0)
    return size * stride


class Conv2DTranspose(Conv2D):
    """The transpose of Conv2D (tf.nn.conv2d_transpose) with a [kh, kw, filters, in] kernel."""

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format="channels_last",
                 activation=None, use_bias=True, kernel_initializer=None, bias_initializer=None,
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, trainable=True, name=None, **kwargs):
        """TF1's argument order (no dilation_rate before activation); dilation_rate may come as a keyword."""
        super().__init__(filters, kernel_size, strides=strides, padding=padding, data_format=data_format,
                         activation=activation, use_bias=use_bias, kernel_initializer=kernel_initializer,
                         bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
                         bias_regularizer=bias_regularizer, activity_regularizer=activity_regularizer,
                         kernel_constraint=kernel_constraint, bias_constraint=bias_constraint, trainable=trainable,
                         name=name, **kwargs)

    def _kernel_shape(self, channels: int) -> list:
        return list(self.kernel_size) + [self.filters, channels]

    def _convolve(self, inputs) -> Tensor:
        axes = (1, 2) if self.data_format == "channels_last" else (2, 3)
        shape = array_ops.shape(inputs)
        out = [_deconv_length(inputs.shape.dims[a] if inputs.shape.dims[a] is not None else shape[a], k, s, d,
                              self.padding)
               for a, k, s, d in zip(axes, self.kernel_size, self.strides, self.dilation_rate)]
        dims = [shape[0], *out, self.filters] if self.data_format == "channels_last" else [shape[0], self.filters,
                                                                                           *out]
        strides = [1, *self.strides, 1] if self.data_format == "channels_last" else [1, 1, *self.strides]
        return nn_ops.conv2d_transpose(inputs, self.kernel, array_ops.stack(dims), strides, self.padding,
                                       data_format=self._nn_format, dilations=list(self.dilation_rate))


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
        if self.data_format == "channels_last":
            ksize, strides, fmt = [1, *self.pool_size, 1], [1, *self.strides, 1], "NHWC"
        else:
            ksize, strides, fmt = [1, 1, *self.pool_size], [1, 1, *self.strides], "NCHW"
        return type(self)._pool(inputs, ksize, strides, self.padding, data_format=fmt)


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
            raise NotImplementedError("tf.layers.batch_normalization: only a single int axis is supported")
        self.axis, self.momentum, self.epsilon = axis, momentum, epsilon
        self.center, self.scale, self.fused = center, scale, fused
        self.beta_initializer = beta_initializer or init_ops.zeros_initializer()
        self.gamma_initializer = gamma_initializer or init_ops.ones_initializer()
        self.moving_mean_initializer = moving_mean_initializer or init_ops.zeros_initializer()
        self.moving_variance_initializer = moving_variance_initializer or init_ops.ones_initializer()
        self.beta_regularizer, self.gamma_regularizer = beta_regularizer, gamma_regularizer
        self.gamma = self.beta = None

    def build(self, input_shape) -> None:
        rank = input_shape.ndims
        if rank is None:
            raise ValueError("Input has undefined rank.")
        if not -rank <= self.axis < rank:
            raise ValueError(f"Invalid axis: {self.axis}")
        self.axis %= rank
        channels = input_shape.dims[self.axis]
        if channels is None:
            raise ValueError(f"Input has undefined `axis` dimension. Input shape: {input_shape}")
        if self.fused is None:
            self.fused = rank == 4 and self.axis in (1, 3) and self._dtype == dtypes.float32
        if self.scale:
            self.gamma = self.add_weight("gamma", [channels], initializer=self.gamma_initializer,
                                         regularizer=self.gamma_regularizer)
        if self.center:
            self.beta = self.add_weight("beta", [channels], initializer=self.beta_initializer,
                                        regularizer=self.beta_regularizer)
        self.moving_mean = self.add_weight("moving_mean", [channels], initializer=self.moving_mean_initializer,
                                           trainable=False)
        self.moving_variance = self.add_weight("moving_variance", [channels],
                                               initializer=self.moving_variance_initializer, trainable=False)

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
            count = math_ops.cast(math_ops.reduce_prod(array_ops.gather(array_ops.shape(inputs), axes)), self._dtype)
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
    layer = Dense(units, activation=activation, use_bias=use_bias, kernel_initializer=kernel_initializer,
                  bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
                  bias_regularizer=bias_regularizer, activity_regularizer=activity_regularizer,
                  kernel_constraint=kernel_constraint, bias_constraint=bias_constraint, trainable=trainable,
                  name=name, _reuse=reuse, _scope=name)
    return layer.apply(inputs)


def conv2d(inputs, filters, kernel_size, strides=(1, 1), padding="valid", data_format="channels_last",
           dilation_rate=(1, 1), activation=None, use_bias=True, kernel_initializer=None, bias_initializer=None,
           kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
           bias_constraint=None, trainable=True, name=None, reuse=None) -> Tensor:
    layer = Conv2D(filters, kernel_size, strides=strides, padding=padding, data_format=data_format,
                   dilation_rate=dilation_rate, activation=activation, use_bias=use_bias,
                   kernel_initializer=kernel_initializer, bias_initializer=bias_initializer,
                   kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
                   activity_regularizer=activity_regularizer, kernel_constraint=kernel_constraint,
                   bias_constraint=bias_constraint, trainable=trainable, name=name, _reuse=reuse, _scope=name)
    return layer.apply(inputs)


def conv1d(inputs, filters, kernel_size, strides=1, padding="valid", data_format="channels_last",
           dilation_rate=1, activation=None, use_bias=True, kernel_initializer=None, bias_initializer=None,
           kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
           bias_constraint=None, trainable=True, name=None, reuse=None) -> Tensor:
    layer = Conv1D(filters, kernel_size, strides=strides, padding=padding, data_format=data_format,
                   dilation_rate=dilation_rate, activation=activation, use_bias=use_bias,
                   kernel_initializer=kernel_initializer, bias_initializer=bias_initializer,
                   kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
                   activity_regularizer=activity_regularizer, kernel_constraint=kernel_constraint,
                   bias_constraint=bias_constraint, trainable=trainable, name=name, _reuse=reuse, _scope=name)
    return layer.apply(inputs)


def conv2d_transpose(inputs, filters, kernel_size, strides=(1, 1), padding="valid", data_format="channels_last",
                     activation=None, use_bias=True, kernel_initializer=None, bias_initializer=None,
                     kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                     kernel_constraint=None, bias_constraint=None, trainable=True, name=None, reuse=None) -> Tensor:
    layer = Conv2DTranspose(filters, kernel_size, strides=strides, padding=padding, data_format=data_format,
                            activation=activation, use_bias=use_bias, kernel_initializer=kernel_initializer,
                            bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
                            bias_regularizer=bias_regularizer, activity_regularizer=activity_regularizer,
                            kernel_constraint=kernel_constraint, bias_constraint=bias_constraint,
                            trainable=trainable, name=name, _reuse=reuse, _scope=name)
    return layer.apply(inputs)


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
