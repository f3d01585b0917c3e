"""SimpleRNN, LSTM and GRU (Keras 2's cells and weight layouts), unrolled over a static number of timesteps.

Each step is frontend ops (matmuls and activations), so the whole sequence is one
graph the compiler fuses and differentiates; unrolling needs the time dim known
when the layer is called. Keras' layouts: LSTM's kernel is [input, 4 * units]
with gates i, f, c, o and a forget-gate bias of ones (unit_forget_bias); GRU's
(reset_after=True, TF2's default) has gates z, r, h and a [2, 3 * units] bias.
Bidirectional and TimeDistributed wrap them; RNN(cell), masking and stateful are
not done yet and raise UnimplementedError.
"""
from __future__ import annotations

from xlite import errors
from xlite.frontend import math_ops, matmul_ops, shape_ops
from xlite.frontend.fill_ops import fill
from xlite.frontend.join_ops import split, stack, unstack
from xlite.keras import activations, initializers
from xlite.keras.engine.base_layer import Layer


class _Recurrent(Layer):
    gates = 1

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 return_sequences=False, return_state=False, go_backwards=False, stateful=False, unroll=False,
                 dropout=0.0, recurrent_dropout=0.0, time_major=False, **kwargs):
        for name, value in (("stateful", stateful), ("time_major", time_major),
                            ("dropout", dropout), ("recurrent_dropout", recurrent_dropout)):
            if value:
                raise errors.unimplemented(f"tf.keras.layers.{type(self).__name__}({name}=...) is not supported by "
                                           f"xlite yet")
        super().__init__(**kwargs)
        self.units = int(units)
        self.activation = activations.get(activation)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.use_bias = use_bias
        self.kernel_initializer, self.recurrent_initializer = kernel_initializer, recurrent_initializer
        self.bias_initializer = bias_initializer
        self.return_sequences, self.return_state = return_sequences, return_state
        self.go_backwards = go_backwards

    def build(self, input_shape) -> None:
        if isinstance(input_shape, (list, tuple)):
            input_shape = input_shape[0]
        if input_shape.ndims != 3:
            raise ValueError(f"Input 0 of layer \"{self.name}\" is incompatible with the layer: expected ndim=3, "
                             f"found ndim={input_shape.ndims}. Full shape received: {input_shape}")
        width = self.gates * self.units
        self.kernel = self.add_weight("kernel", [input_shape.dims[-1], width], initializer=self.kernel_initializer)
        self.recurrent_kernel = self.add_weight("recurrent_kernel", [self.units, width],
                                                initializer=self.recurrent_initializer)
        self.bias = self.add_weight("bias", self._bias_shape(), initializer=self._bias_initializer()) \
            if self.use_bias else None
        self.built = True

    def _bias_shape(self) -> list:
        return [self.gates * self.units]

    def _bias_initializer(self):
        return self.bias_initializer

    def _zeros_state(self, inputs):
        return fill(stack([shape_ops.shape(inputs)[0], self.units]), math_ops.cast(0.0, inputs.dtype))

    def call(self, inputs, initial_state=None, training=None):
        if isinstance(inputs, (list, tuple)):
            inputs, initial_state = inputs[0], list(inputs[1:]) or initial_state
        steps = inputs.shape.dims[1]
        if steps is None:
            raise errors.unimplemented(f"tf.keras.layers.{type(self).__name__} on a sequence of unknown length: xlite "
                                       f"unrolls recurrent layers over a static number of timesteps")
        zero = self._zeros_state(inputs)
        states = list(initial_state) if initial_state is not None else [zero] * self._state_count
        outputs = []
        steps_in = unstack(inputs, axis=1)
        for x_t in (reversed(steps_in) if self.go_backwards else steps_in):     # Keras: outputs in that order
            h, states = self._step(x_t, states)
            outputs.append(h)
        output = stack(outputs, axis=1) if self.return_sequences else outputs[-1]
        return [output, *states] if self.return_state else output

    _state_count = 1

    def get_config(self) -> dict:
        return {**super().get_config(), "units": self.units, "activation": activations.serialize(self.activation),
                "recurrent_activation": activations.serialize(self.recurrent_activation),
                "use_bias": self.use_bias, "return_sequences": self.return_sequences,
                "return_state": self.return_state, "go_backwards": self.go_backwards}


class SimpleRNN(_Recurrent):
    """h = activation(x W + h U + b)."""

    def __init__(self, units, activation="tanh", **kwargs):
        super().__init__(units, activation=activation, **kwargs)

    def _step(self, x, states):
        h = matmul_ops.matmul(x, self.kernel) + matmul_ops.matmul(states[0], self.recurrent_kernel)
        if self.use_bias:
            h = h + self.bias
        h = self.activation(h)
        return h, [h]

    def get_config(self) -> dict:
        config = super().get_config()
        config.pop("recurrent_activation")
        return config


class LSTM(_Recurrent):
    """i, f, c, o gates; c = f * c + i * tanh(...); h = o * tanh(c). States: [h, c]."""

    gates = 4
    _state_count = 2

    def __init__(self, units, unit_forget_bias=True, **kwargs):
        super().__init__(units, **kwargs)
        self.unit_forget_bias = unit_forget_bias

    def _bias_initializer(self):
        if not self.unit_forget_bias:
            return self.bias_initializer
        base = initializers.get(self.bias_initializer)
        units = self.units

        def init(shape, dtype=None):
            from xlite.frontend.join_ops import concat
            return concat([base([units], dtype=dtype), initializers.Ones()([units], dtype=dtype),
                           base([2 * units], dtype=dtype)], 0)
        return init

    def _step(self, x, states):
        h_prev, c_prev = states
        z = matmul_ops.matmul(x, self.kernel) + matmul_ops.matmul(h_prev, self.recurrent_kernel)
        if self.use_bias:
            z = z + self.bias
        i, f, c, o = split(z, 4, axis=1)
        i, f, o = self.recurrent_activation(i), self.recurrent_activation(f), self.recurrent_activation(o)
        c = f * c_prev + i * self.activation(c)
        h = o * self.activation(c)
        return h, [h, c]


class GRU(_Recurrent):
    """Keras 2's GRU with reset_after=True: z, r, h gates, the reset gate applied after the recurrent matmul."""

    gates = 3

    def __init__(self, units, reset_after=True, **kwargs):
        if not reset_after:
            raise errors.unimplemented("tf.keras.layers.GRU(reset_after=False) is not supported by xlite yet")
        super().__init__(units, **kwargs)
        self.reset_after = reset_after

    def _bias_shape(self) -> list:
        return [2, 3 * self.units]

    def _step(self, x, states):
        h_prev = states[0]
        xs = matmul_ops.matmul(x, self.kernel)
        rs = matmul_ops.matmul(h_prev, self.recurrent_kernel)
        if self.use_bias:
            xs, rs = xs + self.bias[0], rs + self.bias[1]
        x_z, x_r, x_h = split(xs, 3, axis=1)
        r_z, r_r, r_h = split(rs, 3, axis=1)
        z = self.recurrent_activation(x_z + r_z)
        r = self.recurrent_activation(x_r + r_r)
        hh = self.activation(x_h + r * r_h)
        h = z * h_prev + (1.0 - z) * hh
        return h, [h]


class Bidirectional(Layer):
    """A recurrent layer run forwards and (a copy with go_backwards) backwards; the outputs merged ('concat',
    'sum', 'mul', 'ave'), the backward sequence reversed back into time order first."""

    def __init__(self, layer, merge_mode="concat", weights=None, backward_layer=None, **kwargs):
        if not isinstance(layer, _Recurrent):
            raise errors.unimplemented("tf.keras.layers.Bidirectional of a layer other than SimpleRNN/LSTM/GRU is "
                                       "not supported by xlite yet")
        if merge_mode not in ("concat", "sum", "mul", "ave"):
            raise errors.unimplemented(f"Bidirectional(merge_mode={merge_mode!r}) is not supported by xlite yet")
        super().__init__(**kwargs)
        if backward_layer is None:
            config = {**layer.get_config(), "go_backwards": not layer.go_backwards}
            config["name"] = "backward_" + layer.name
            backward_layer = type(layer).from_config(config)
        layer._name = "forward_" + layer.name
        self.forward_layer, self.backward_layer = layer, backward_layer
        self.merge_mode = merge_mode
        self.return_sequences, self.return_state = layer.return_sequences, layer.return_state

    def call(self, inputs, training=None):
        from xlite.frontend.array_ops import reverse
        from xlite.frontend.join_ops import concat
        forward, backward = self.forward_layer(inputs), self.backward_layer(inputs)
        f_states = b_states = []
        if self.return_state:
            forward, *f_states = forward
            backward, *b_states = backward
        if self.return_sequences:
            backward = reverse(backward, [1])
        merged = {"concat": lambda: concat([forward, backward], -1), "sum": lambda: forward + backward,
                  "mul": lambda: forward * backward, "ave": lambda: (forward + backward) / 2.0}[self.merge_mode]()
        return [merged, *f_states, *b_states] if self.return_state else merged

    def get_config(self) -> dict:
        from xlite.keras.engine.model_config import layer_to_dict
        return {**super().get_config(), "layer": layer_to_dict(self.forward_layer), "merge_mode": self.merge_mode}

    @classmethod
    def from_config(cls, config: dict):
        from xlite.keras.engine.model_config import layer_from_dict
        config = dict(config)
        return cls(layer_from_dict(config.pop("layer")), **config)


class TimeDistributed(Layer):
    """Applies `layer` to every timestep: [batch, time, ...] folded to [batch * time, ...] and back."""

    def __init__(self, layer, **kwargs):
        super().__init__(**kwargs)
        self.layer = layer

    def call(self, inputs, training=None):
        from xlite.frontend import array_ops
        from xlite.frontend.join_ops import concat
        dims = inputs.shape.dims
        if None in dims[2:]:
            raise errors.unimplemented("TimeDistributed needs each timestep's shape known")
        folded = array_ops.reshape(inputs, [-1, *dims[2:]])
        kwargs = {"training": training} if self.layer._call_takes_training else {}
        outputs = self.layer(folded, **kwargs)
        shape = shape_ops.shape(inputs)
        result = array_ops.reshape(outputs, concat([shape[:2], shape_ops.shape(outputs)[1:]], 0))
        result.set_shape([dims[0], dims[1], *outputs.shape.dims[1:]])
        return result

    def get_config(self) -> dict:
        from xlite.keras.engine.model_config import layer_to_dict
        return {**super().get_config(), "layer": layer_to_dict(self.layer)}

    @classmethod
    def from_config(cls, config: dict):
        from xlite.keras.engine.model_config import layer_from_dict
        config = dict(config)
        return cls(layer_from_dict(config.pop("layer")), **config)


def RNN(cell, *args, **kwargs):  # noqa: N802  (Keras' class name)
    raise errors.unimplemented("tf.keras.layers.RNN(cell) (custom cells) is not supported by xlite yet; use "
                               "SimpleRNN, LSTM or GRU")
