"""Keras core layers: Dense, Activation, Dropout, Flatten, Reshape, Lambda, as frontend ops (tf-keras' calls)."""
from __future__ import annotations

import numpy as np

from xlite.frontend import array_ops, math_ops, matmul_ops, nn_ops, shape_ops
from xlite.frontend.join_ops import concat, stack
from xlite.keras import activations, initializers, regularizers
from xlite.keras.engine.base_layer import Layer


def _initializer_config(init) -> object:
    if isinstance(init, str) or init is None:
        return init
    return initializers.serialize(init)


class Dense(Layer):
    """activation(inputs · kernel + bias) over the last dim (a matmul on the flattened leading dims for rank > 2)."""

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(**kwargs)
        self.units = int(units)
        if self.units <= 0:
            raise ValueError(f"Received an invalid value for `units`, expected a positive integer. Received: "
                             f"units={units}")
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer, self.bias_initializer = kernel_initializer, bias_initializer
        self.kernel_regularizer, self.bias_regularizer = kernel_regularizer, bias_regularizer
        self.kernel_constraint, self.bias_constraint = kernel_constraint, bias_constraint
        self.activity_regularizer = regularizers.get(activity_regularizer)

    def build(self, input_shape) -> None:
        last = input_shape.dims[-1] if input_shape.ndims else None
        if last is None:
            raise ValueError("The last dimension of the inputs to a Dense layer should be defined. Found None. "
                             f"Full input shape received: {input_shape}")
        self.kernel = self.add_weight("kernel", [last, self.units], initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        self.bias = self.add_weight("bias", [self.units], initializer=self.bias_initializer,
                                    regularizer=self.bias_regularizer, constraint=self.bias_constraint) \
            if self.use_bias else None
        self.built = True

    def call(self, inputs):
        rank = inputs.shape.ndims
        if rank is not None and rank > 2:
            flat = array_ops.reshape(inputs, [-1, inputs.shape.dims[-1]])
            outputs = matmul_ops.matmul(flat, self.kernel)
            lead = shape_ops.shape(inputs)[:-1]
            outputs = array_ops.reshape(outputs, concat([lead, [self.units]], 0))
            outputs.set_shape(inputs.shape.dims[:-1] + [self.units])
        else:
            outputs = matmul_ops.matmul(inputs, self.kernel)
        if self.use_bias:
            outputs = nn_ops.bias_add(outputs, self.bias)
        outputs = self.activation(outputs)
        if self.activity_regularizer is not None:        # Keras: the penalty per sample of the batch
            batch = math_ops.cast(shape_ops.shape(outputs)[0], outputs.dtype)
            self.add_loss(self.activity_regularizer(outputs) / batch)
        return outputs

    def get_config(self) -> dict:
        return {**super().get_config(), "units": self.units, "activation": activations.serialize(self.activation),
                "use_bias": self.use_bias, "kernel_initializer": _initializer_config(self.kernel_initializer),
                "bias_initializer": _initializer_config(self.bias_initializer)}


class Activation(Layer):
    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)

    def call(self, inputs):
        return self.activation(inputs)

    def get_config(self) -> dict:
        return {**super().get_config(), "activation": activations.serialize(self.activation)}


class Dropout(Layer):
    """tf.nn.dropout while training (rate of units zeroed, the rest scaled by 1/(1-rate)); identity otherwise."""

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not 0 <= rate <= 1:
            raise ValueError(f"Invalid value {rate} received for `rate`, expected a value between 0 and 1.")
        self.rate, self.noise_shape, self.seed = float(rate), noise_shape, seed

    def call(self, inputs, training=None):
        if not training or self.rate == 0:
            return math_ops.identity(inputs)
        noise_shape = self.noise_shape
        if noise_shape is not None:
            dynamic = shape_ops.shape(inputs)
            noise_shape = stack([dynamic[i] if d is None else d for i, d in enumerate(noise_shape)])
        return nn_ops.dropout(inputs, rate=self.rate, noise_shape=noise_shape, seed=self.seed)

    def get_config(self) -> dict:
        return {**super().get_config(), "rate": self.rate, "noise_shape": self.noise_shape, "seed": self.seed}


class Flatten(Layer):
    """[batch, ...] to [batch, product of the rest] (channels_first inputs are made channels_last first)."""

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = data_format or "channels_last"

    def call(self, inputs):
        rank = inputs.shape.ndims
        if self.data_format == "channels_first" and rank and rank > 2:
            inputs = array_ops.transpose(inputs, [0] + list(range(2, rank)) + [1])
        rest = inputs.shape.dims[1:]
        if rank == 1:
            return array_ops.expand_dims(inputs, 1)
        if None not in rest:
            return array_ops.reshape(inputs, [-1, int(np.prod(rest, dtype=np.int64))])
        return array_ops.reshape(inputs, stack([shape_ops.shape(inputs)[0], -1]))

    def get_config(self) -> dict:
        return {**super().get_config(), "data_format": self.data_format}


class Reshape(Layer):
    """Reshapes each sample to `target_shape` (one entry may be -1); the batch dim stays."""

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        self.target_shape = tuple(int(d) for d in target_shape)

    def _fixed_target(self, input_shape) -> list:
        target = list(self.target_shape)
        if -1 in target:
            known = input_shape.dims[1:]
            if None not in known:
                total = int(np.prod(known, dtype=np.int64))
                rest = int(np.prod([d for d in target if d != -1], dtype=np.int64))
                if rest == 0 or total % rest:
                    raise ValueError(f"total size of new array must be unchanged, input_shape = {list(known)}, "
                                     f"output_shape = {target}")
                target[target.index(-1)] = total // rest
        return target

    def call(self, inputs):
        target = self._fixed_target(inputs.shape)
        if -1 in target:
            return array_ops.reshape(inputs, stack([shape_ops.shape(inputs)[0], *target]))
        return array_ops.reshape(inputs, [-1, *target])

    def get_config(self) -> dict:
        return {**super().get_config(), "target_shape": self.target_shape}


class Lambda(Layer):
    """Wraps `function(inputs, **arguments)` as a layer (it must build only frontend ops)."""

    def __init__(self, function, output_shape=None, mask=None, arguments=None, **kwargs):
        super().__init__(**kwargs)
        self.function, self.arguments = function, dict(arguments or {})
        self._output_shape = output_shape

    def call(self, inputs, training=None):
        import inspect
        kwargs = dict(self.arguments)
        if "training" in inspect.signature(self.function).parameters:
            kwargs["training"] = training
        return self.function(inputs, **kwargs)

    def _cast_inputs(self, inputs):
        return inputs

    def get_config(self) -> dict:
        return {**super().get_config(), "function": getattr(self.function, "__name__", "lambda"),
                "arguments": self.arguments}


class ActivityRegularization(Layer):
    def __init__(self, l1=0.0, l2=0.0, **kwargs):
        super().__init__(**kwargs)
        self.l1, self.l2 = l1, l2
        self._penalty = regularizers.L1L2(l1, l2)

    def call(self, inputs):
        self.add_loss(self._penalty(inputs))
        return inputs
