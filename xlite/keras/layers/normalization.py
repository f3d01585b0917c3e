"""BatchNormalization (training: batch statistics and moving-average updates; inference: the moving ones) and
LayerNormalization, as frontend ops.

BatchNormalization's moving statistics are updated by assign ops the layer adds
as updates: graph mode runs them in the train step (graph_steps.py collects the
updates made during the training call), eager mode runs them as they are made.
Like Keras' fused kernel (float32 rank-4 inputs normalized over channels) the
moving variance takes the unbiased batch variance there, the biased one otherwise.
"""
from __future__ import annotations

from xlite.frontend import array_ops, math_ops, nn_ops, reduction_ops, shape_ops
from xlite.frontend.graph import executing_eagerly
from xlite.frontend.layers import add_moving_statistics, batch_norm_channels
from xlite.keras.engine.base_layer import Layer


class BatchNormalization(Layer):
    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True, beta_initializer="zeros",
                 gamma_initializer="ones", moving_mean_initializer="zeros", moving_variance_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None, beta_constraint=None, gamma_constraint=None,
                 fused=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, (list, tuple)):
            if len(axis) != 1:
                from xlite import errors
                raise errors.unimplemented("BatchNormalization over several axes is not supported by xlite yet")
            axis = axis[0]
        self.axis, self.momentum, self.epsilon = int(axis), float(momentum), float(epsilon)
        self.center, self.scale, self.fused = center, scale, fused
        self.beta_initializer, self.gamma_initializer = beta_initializer, gamma_initializer
        self.moving_mean_initializer = moving_mean_initializer
        self.moving_variance_initializer = moving_variance_initializer
        self.beta_regularizer, self.gamma_regularizer = beta_regularizer, gamma_regularizer
        self.beta_constraint, self.gamma_constraint = beta_constraint, gamma_constraint

    def build(self, input_shape) -> None:
        channels = batch_norm_channels(
            self, input_shape, self.dtype == "float32",
            f"Input has undefined rank. Received: input_shape={input_shape}.",
            f"Input has undefined `axis` dimension. Received input with shape {input_shape}.")
        self.gamma = self.add_weight("gamma", [channels], initializer=self.gamma_initializer,
                                     regularizer=self.gamma_regularizer, constraint=self.gamma_constraint) \
            if self.scale else None
        self.beta = self.add_weight("beta", [channels], initializer=self.beta_initializer,
                                    regularizer=self.beta_regularizer, constraint=self.beta_constraint) \
            if self.center else None
        add_moving_statistics(self, channels)
        self.built = True

    def _broadcastable(self, t, rank: int):
        if t is None or self.axis == rank - 1:
            return t
        return array_ops.reshape(t, [-1 if i == self.axis else 1 for i in range(rank)])

    def _read(self, var):
        return var if executing_eagerly() else var.value()

    def call(self, inputs, training=None):
        rank = inputs.shape.ndims
        if not training:
            mean, variance = self._read(self.moving_mean), self._read(self.moving_variance)
        else:
            axes = [i for i in range(rank) if i != self.axis]
            mean, variance = nn_ops.moments(inputs, axes)
            moving_variance = variance
            if self.fused:
                count = math_ops.cast(reduction_ops.reduce_prod(array_ops.gather(shape_ops.shape(inputs), axes)),
                                      inputs.dtype)
                moving_variance = variance * (count / math_ops.maximum(count - 1.0, 1.0))
            decay = 1.0 - self.momentum
            for var, value in ((self.moving_mean, mean), (self.moving_variance, moving_variance)):
                update = var.assign_sub((self._read(var) - value) * decay)
                if not executing_eagerly():
                    self.add_update(update)
        return nn_ops.batch_normalization(inputs, self._broadcastable(mean, rank), self._broadcastable(variance, rank),
                                          self._broadcastable(self.beta, rank), self._broadcastable(self.gamma, rank),
                                          self.epsilon)

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis, "momentum": self.momentum, "epsilon": self.epsilon,
                "center": self.center, "scale": self.scale}


class LayerNormalization(Layer):
    """(x - mean) / sqrt(var + epsilon) * gamma + beta, the statistics over `axis` of each sample."""

    def __init__(self, axis=-1, epsilon=1e-3, center=True, scale=True, beta_initializer="zeros",
                 gamma_initializer="ones", beta_regularizer=None, gamma_regularizer=None, **kwargs):
        super().__init__(**kwargs)
        self.axis = list(axis) if isinstance(axis, (list, tuple)) else [axis]
        self.epsilon, self.center, self.scale = float(epsilon), center, scale
        self.beta_initializer, self.gamma_initializer = beta_initializer, gamma_initializer
        self.beta_regularizer, self.gamma_regularizer = beta_regularizer, gamma_regularizer

    def build(self, input_shape) -> None:
        rank = input_shape.ndims
        self.axis = sorted(a % rank for a in self.axis)
        shape = [input_shape.dims[a] for a in self.axis]
        self.gamma = self.add_weight("gamma", shape, initializer=self.gamma_initializer,
                                     regularizer=self.gamma_regularizer) if self.scale else None
        self.beta = self.add_weight("beta", shape, initializer=self.beta_initializer,
                                    regularizer=self.beta_regularizer) if self.center else None
        self.built = True

    def call(self, inputs):
        rank = inputs.shape.ndims
        mean, variance = nn_ops.moments(inputs, self.axis, keepdims=True)
        bshape = [inputs.shape.dims[i] if i in self.axis else 1 for i in range(rank)]

        def expand(w):
            return None if w is None else array_ops.reshape(w, bshape)
        return nn_ops.batch_normalization(inputs, mean, variance, expand(self.beta), expand(self.gamma), self.epsilon)

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon, "center": self.center,
                "scale": self.scale}
