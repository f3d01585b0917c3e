"""TF1's recurrent cells (tf.nn.rnn_cell): the RNNCell base, BasicRNNCell, BasicLSTMCell, LSTMCell, GRUCell
and MultiRNNCell, with TF's variable names and kernel layouts so TF checkpoints load unchanged.

A cell is a tf.layers Layer called as `cell(inputs, state)`: its Variables live in its own variable scope
(`rnn/basic_lstm_cell/kernel`), made on the first call. Kernels take the concatenation [inputs, h] as TF's
do: LSTMs' kernel is [input + h, 4 * units] with the gates in TF's order i, j, f, o; GRUCell keeps
`gates/kernel` ([input + units, 2 * units]: r, u) and `candidate/kernel`.
"""
from __future__ import annotations

import collections
import numbers

from xlite import errors
from xlite.frontend import array_ops, clip_ops, init_ops, math_ops, matmul_ops, nest, nn_activations
from xlite.frontend.convert import constant, convert_to_tensor
from xlite.frontend.fill_ops import zeros
from xlite.frontend.graph import Tensor, get_default_graph
from xlite.frontend.join_ops import concat, split, stack
from xlite.frontend.layer_base import Layer
from xlite.frontend.tensor_shape import TensorShape
from xlite.frontend.variable_scope import variable_scope
from xlite.ir import dtypes

__all__ = ["RNNCell", "LayerRNNCell", "BasicRNNCell", "BasicLSTMCell", "LSTMCell", "GRUCell", "MultiRNNCell",
           "LSTMStateTuple"]

_WEIGHTS_VARIABLE_NAME = "kernel"
_BIAS_VARIABLE_NAME = "bias"


class LSTMStateTuple(collections.namedtuple("LSTMStateTuple", ("c", "h"))):
    """An LSTM's state: the cell state c and the output h."""
    __slots__ = ()

    @property
    def dtype(self):
        c, h = self
        if c.dtype != h.dtype:
            raise TypeError(f"Inconsistent internal state: {c.dtype} vs {h.dtype}")
        return c.dtype


def state_shape(batch_size, size) -> tuple[list, list]:
    """The dims of a state of `size` for `batch_size` rows: (dims to build it from, static dims)."""
    inner = TensorShape(size).as_list() if not isinstance(size, numbers.Integral) else [int(size)]
    static_batch = batch_size if isinstance(batch_size, numbers.Integral) else None
    if static_batch is None and isinstance(batch_size, Tensor) and batch_size._static_value is not None:
        static_batch = int(batch_size._static_value)
    return [batch_size] + inner, [static_batch] + inner


def zero_state_tensors(state_size, batch_size, dtype):
    """Zeros of each leaf size of `state_size`, [batch_size, size] each, nested like state_size."""
    def zeros_of(size):
        dims, static = state_shape(batch_size, size)
        if all(isinstance(d, numbers.Integral) for d in dims):
            return zeros(dims, dtype=dtype)
        out = zeros(stack([convert_to_tensor(d, dtype=dtypes.int32) for d in dims]), dtype=dtype)
        out.set_shape(static)
        return out
    return nest.pack_sequence_as(state_size, [zeros_of(s) for s in flat_sizes(state_size)])


def flat_sizes(state_size) -> list:
    """The leaf sizes of a nested state size (an int or a TensorShape is one leaf)."""
    if isinstance(state_size, TensorShape):
        return [state_size]
    return nest.flatten(state_size)


def bias_add(x, bias) -> Tensor:
    """tf.nn.bias_add, imported when called: nn_ops imports this module for tf.nn.rnn_cell."""
    from xlite.frontend.nn_ops import bias_add as nn_bias_add
    return nn_bias_add(x, bias)


def _input_depth(inputs_shape) -> int:
    depth = inputs_shape.dims[-1] if inputs_shape.ndims else None
    if depth is None:
        raise ValueError(f"Expected inputs.shape[-1] to be known, saw shape: {inputs_shape}")
    return depth


class RNNCell(Layer):
    """The abstract cell: `call(inputs, state) -> (output, new_state)`, with state_size and output_size."""

    def __init__(self, trainable=True, name=None, dtype=None, **kwargs):
        super().__init__(trainable=trainable, name=name, dtype=dtype, **kwargs)
        self._is_tf_rnn_cell = True

    def __call__(self, inputs, state, scope=None):
        """Runs the cell; with `scope`, its Variables live in that variable scope rather than the cell's own."""
        if scope is not None:
            with variable_scope(scope) as entered:
                return Layer.__call__(self, inputs, state, scope=entered)
        return Layer.__call__(self, inputs, state)

    @property
    def state_size(self):
        """The size(s) of the state: an int, a TensorShape, or a nested tuple of them."""
        raise NotImplementedError("Abstract method")

    @property
    def output_size(self):
        """The size(s) of the output."""
        raise NotImplementedError("Abstract method")

    def build(self, inputs_shape) -> None:
        self.built = True

    def get_initial_state(self, inputs=None, batch_size=None, dtype=None):
        """zero_state of the batch size and dtype of `inputs` (or those given)."""
        if inputs is not None:
            inputs = convert_to_tensor(inputs)
            if batch_size is None:
                batch_size = inputs.shape.dims[0]
                if batch_size is None:
                    batch_size = array_ops.shape(inputs)[0]
            dtype = inputs.dtype if dtype is None else dtype
        if batch_size is None or dtype is None:
            raise ValueError(f"batch_size and dtype cannot be None while constructing initial state: "
                             f"batch_size={batch_size}, dtype={dtype}")
        return self.zero_state(batch_size, dtype)

    def zero_state(self, batch_size, dtype):
        """Zero-filled state tensor(s) of shape [batch_size, state_size] each."""
        with get_default_graph().name_scope(type(self).__name__ + "ZeroState"):
            return zero_state_tensors(self.state_size, batch_size, dtypes.as_dtype(dtype))

    def _cast_input(self, inputs):
        if isinstance(inputs, (list, tuple, dict)):     # nested inputs: the cell's call deals with them
            return inputs
        return super()._cast_input(inputs)


class LayerRNNCell(RNNCell):
    """A cell whose Variables are made in `build`, like a Layer's (TF's base of the built-in cells)."""


class _SingleStateCell(LayerRNNCell):
    """A cell whose state is its output: num_units wide, tanh unless told otherwise."""

    def __init__(self, num_units, activation=None, reuse=None, name=None, dtype=None, **kwargs):
        super().__init__(_reuse=reuse, name=name, dtype=dtype, **kwargs)
        self._num_units = int(num_units)
        self._activation = activation_of(activation) or math_ops.tanh

    @property
    def state_size(self):
        return self._num_units

    @property
    def output_size(self):
        return self._num_units


class BasicRNNCell(_SingleStateCell):
    """output = new_state = activation(W [inputs, state] + b)."""

    def build(self, inputs_shape) -> None:
        depth = _input_depth(inputs_shape)
        self._kernel = self.add_variable(_WEIGHTS_VARIABLE_NAME, shape=[depth + self._num_units, self._num_units])
        self._bias = self.add_variable(_BIAS_VARIABLE_NAME, shape=[self._num_units],
                                       initializer=init_ops.zeros_initializer())
        self.built = True

    def call(self, inputs, state):
        gate_inputs = matmul_ops.matmul(concat([inputs, state], 1), self._kernel)
        output = self._activation(bias_add(gate_inputs, self._bias))
        return output, output


class GRUCell(_SingleStateCell):
    """Cho et al.'s GRU as TF1 has it: r, u = sigmoid(W_g [x, h] + b_g); c = act(W_c [x, r * h] + b_c);
    h' = u * h + (1 - u) * c. The gate bias starts at ones."""

    def __init__(self, num_units, activation=None, reuse=None, kernel_initializer=None, bias_initializer=None,
                 name=None, dtype=None, **kwargs):
        super().__init__(num_units, activation, reuse=reuse, name=name, dtype=dtype, **kwargs)
        self._kernel_initializer, self._bias_initializer = kernel_initializer, bias_initializer

    def build(self, inputs_shape) -> None:
        depth = _input_depth(inputs_shape)
        n = self._num_units
        bias_init = self._bias_initializer
        self._gate_kernel = self.add_variable(f"gates/{_WEIGHTS_VARIABLE_NAME}", shape=[depth + n, 2 * n],
                                              initializer=self._kernel_initializer)
        self._gate_bias = self.add_variable(f"gates/{_BIAS_VARIABLE_NAME}", shape=[2 * n],
                                            initializer=bias_init or init_ops.constant_initializer(1.0))
        self._candidate_kernel = self.add_variable(f"candidate/{_WEIGHTS_VARIABLE_NAME}", shape=[depth + n, n],
                                                   initializer=self._kernel_initializer)
        self._candidate_bias = self.add_variable(f"candidate/{_BIAS_VARIABLE_NAME}", shape=[n],
                                                 initializer=bias_init or init_ops.zeros_initializer())
        self.built = True

    def call(self, inputs, state):
        gate_inputs = bias_add(matmul_ops.matmul(concat([inputs, state], 1), self._gate_kernel), self._gate_bias)
        r, u = split(math_ops.sigmoid(gate_inputs), 2, axis=1)
        candidate = matmul_ops.matmul(concat([inputs, r * state], 1), self._candidate_kernel)
        c = self._activation(bias_add(candidate, self._candidate_bias))
        new_h = u * state + (1 - u) * c
        return new_h, new_h


class BasicLSTMCell(LayerRNNCell):
    """Hochreiter's LSTM without peepholes or projection: gates i, j, f, o from one kernel, forget_bias added
    to f; state LSTMStateTuple(c, h) (or, with state_is_tuple=False, their concatenation)."""

    def __init__(self, num_units, forget_bias=1.0, state_is_tuple=True, activation=None, reuse=None, name=None,
                 dtype=None, **kwargs):
        super().__init__(_reuse=reuse, name=name, dtype=dtype, **kwargs)
        self._num_units = int(num_units)
        self._forget_bias = forget_bias
        self._state_is_tuple = state_is_tuple
        self._activation = activation_of(activation) or math_ops.tanh

    @property
    def state_size(self):
        n = self._num_units
        return LSTMStateTuple(n, n) if self._state_is_tuple else 2 * n

    @property
    def output_size(self):
        return self._num_units

    def build(self, inputs_shape) -> None:
        depth = _input_depth(inputs_shape)
        n = self._num_units
        self._kernel = self.add_variable(_WEIGHTS_VARIABLE_NAME, shape=[depth + n, 4 * n])
        self._bias = self.add_variable(_BIAS_VARIABLE_NAME, shape=[4 * n], initializer=init_ops.zeros_initializer())
        self.built = True

    def call(self, inputs, state):
        c, h = state if self._state_is_tuple else split(state, 2, axis=1)
        gate_inputs = bias_add(matmul_ops.matmul(concat([inputs, h], 1), self._kernel), self._bias)
        i, j, f, o = split(gate_inputs, 4, axis=1)
        forget_bias = constant(self._forget_bias, dtype=f.dtype)
        sigmoid = math_ops.sigmoid
        new_c = c * sigmoid(f + forget_bias) + sigmoid(i) * self._activation(j)
        new_h = self._activation(new_c) * sigmoid(o)
        new_state = LSTMStateTuple(new_c, new_h) if self._state_is_tuple else concat([new_c, new_h], 1)
        return new_h, new_state


class LSTMCell(LayerRNNCell):
    """The LSTM of Hochreiter & Schmidhuber with TF's options: peepholes (w_f_diag, w_i_diag, w_o_diag),
    cell_clip, a projection of the output to num_proj (projection/kernel) and proj_clip."""

    def __init__(self, num_units, use_peepholes=False, cell_clip=None, initializer=None, num_proj=None,
                 proj_clip=None, num_unit_shards=None, num_proj_shards=None, forget_bias=1.0, state_is_tuple=True,
                 activation=None, reuse=None, name=None, dtype=None, **kwargs):
        if num_unit_shards is not None or num_proj_shards is not None:
            raise errors.unimplemented("LSTMCell: num_unit_shards/num_proj_shards (partitioned variables) are not "
                                       "supported by xlite")
        super().__init__(_reuse=reuse, name=name, dtype=dtype, **kwargs)
        self._num_units = int(num_units)
        self._use_peepholes, self._cell_clip, self._proj_clip = use_peepholes, cell_clip, proj_clip
        self._initializer = initializer
        self._num_proj = None if num_proj is None else int(num_proj)
        self._forget_bias = forget_bias
        self._state_is_tuple = state_is_tuple
        self._activation = activation_of(activation) or math_ops.tanh

    @property
    def state_size(self):
        n, m = self._num_units, self._num_proj or self._num_units
        return LSTMStateTuple(n, m) if self._state_is_tuple else n + m

    @property
    def output_size(self):
        return self._num_proj or self._num_units

    def build(self, inputs_shape) -> None:
        depth = _input_depth(inputs_shape)
        n = self._num_units
        h_depth = self._num_proj or n
        init = self._initializer
        self._kernel = self.add_variable(_WEIGHTS_VARIABLE_NAME, shape=[depth + h_depth, 4 * n], initializer=init)
        self._bias = self.add_variable(_BIAS_VARIABLE_NAME, shape=[4 * n], initializer=init_ops.zeros_initializer())
        if self._use_peepholes:
            self._w_f_diag = self.add_variable("w_f_diag", shape=[n], initializer=init)
            self._w_i_diag = self.add_variable("w_i_diag", shape=[n], initializer=init)
            self._w_o_diag = self.add_variable("w_o_diag", shape=[n], initializer=init)
        if self._num_proj is not None:
            self._proj_kernel = self.add_variable(f"projection/{_WEIGHTS_VARIABLE_NAME}", shape=[n, self._num_proj],
                                                  initializer=init)
        self.built = True

    def call(self, inputs, state):
        n, m_depth = self._num_units, self._num_proj or self._num_units
        if self._state_is_tuple:
            c_prev, m_prev = state
        else:
            c_prev = array_ops.slice(state, [0, 0], [-1, n])
            m_prev = array_ops.slice(state, [0, n], [-1, m_depth])
        if inputs.shape.ndims != 2 or inputs.shape.dims[1] is None:
            raise ValueError("Could not infer input size from inputs.get_shape()[-1]")
        lstm_matrix = bias_add(matmul_ops.matmul(concat([inputs, m_prev], 1), self._kernel), self._bias)
        i, j, f, o = split(lstm_matrix, 4, axis=1)
        sigmoid = math_ops.sigmoid
        if self._use_peepholes:
            c = (sigmoid(f + self._forget_bias + self._w_f_diag * c_prev) * c_prev
                 + sigmoid(i + self._w_i_diag * c_prev) * self._activation(j))
        else:
            c = sigmoid(f + self._forget_bias) * c_prev + sigmoid(i) * self._activation(j)
        if self._cell_clip is not None:
            c = clip_ops.clip_by_value(c, -self._cell_clip, self._cell_clip)
        if self._use_peepholes:
            m = sigmoid(o + self._w_o_diag * c) * self._activation(c)
        else:
            m = sigmoid(o) * self._activation(c)
        if self._num_proj is not None:
            m = matmul_ops.matmul(m, self._proj_kernel)
            if self._proj_clip is not None:
                m = clip_ops.clip_by_value(m, -self._proj_clip, self._proj_clip)
        new_state = LSTMStateTuple(c, m) if self._state_is_tuple else concat([c, m], 1)
        return m, new_state


class MultiRNNCell(RNNCell):
    """Cells stacked: cell k's output is cell k+1's input; the state is the tuple of the cells' states,
    each cell's Variables under `cell_<k>/`."""

    def __init__(self, cells, state_is_tuple=True):
        super().__init__()
        if not cells:
            raise ValueError("Must specify at least one cell for MultiRNNCell.")
        if not nest.is_sequence(cells):
            raise TypeError(f"cells must be a list or tuple, but saw: {cells}.")
        self._cells = list(cells)
        self._state_is_tuple = state_is_tuple
        if not state_is_tuple and any(nest.is_sequence(c.state_size) for c in self._cells):
            raise ValueError("Some cells return tuples of states, but the flag state_is_tuple is not set.  "
                             f"State sizes are: {[c.state_size for c in self._cells]}")

    @property
    def state_size(self):
        if self._state_is_tuple:
            return tuple(cell.state_size for cell in self._cells)
        return sum(cell.state_size for cell in self._cells)

    @property
    def output_size(self):
        return self._cells[-1].output_size

    def zero_state(self, batch_size, dtype):
        if not self._state_is_tuple:
            return super().zero_state(batch_size, dtype)
        with get_default_graph().name_scope(type(self).__name__ + "ZeroState"):
            return tuple(cell.zero_state(batch_size, dtype) for cell in self._cells)

    @property
    def variables(self) -> list:
        return [v for cell in self._cells for v in cell.variables]

    weights = variables

    @property
    def trainable_variables(self) -> list:
        return [v for cell in self._cells for v in cell.trainable_variables] if self.trainable else []

    trainable_weights = trainable_variables

    def call(self, inputs, state):
        position, current, new_states = 0, inputs, []
        for k, cell in enumerate(self._cells):
            with variable_scope(f"cell_{k}"):
                if self._state_is_tuple:
                    if not nest.is_sequence(state):
                        raise ValueError(f"Expected state to be a tuple of length {len(self.state_size)}, but "
                                         f"received: {state}")
                    cell_state = state[k]
                else:
                    cell_state = array_ops.slice(state, [0, position], [-1, cell.state_size])
                    position += cell.state_size
                current, new_state = cell(current, cell_state)
                new_states.append(new_state)
        return current, tuple(new_states) if self._state_is_tuple else concat(new_states, 1)


def activation_of(name_or_fn):
    """A cell's activation given as a function or as TF's name for one ("tanh", "relu", ...)."""
    if name_or_fn is None or callable(name_or_fn):
        return name_or_fn
    table = {"tanh": math_ops.tanh, "sigmoid": math_ops.sigmoid, "relu": nn_activations.relu}
    if name_or_fn not in table:
        raise ValueError(f"Unknown activation function: {name_or_fn}")
    return table[name_or_fn]
