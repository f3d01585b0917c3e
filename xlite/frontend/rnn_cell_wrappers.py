"""Cells that wrap a cell (tf.nn.rnn_cell.DropoutWrapper, ResidualWrapper, DeviceWrapper), as TF1's do:
they add no variable scope, so the wrapped cell's Variables keep their names (`rnn/basic_lstm_cell/kernel`).

DropoutWrapper drops the cell's inputs, outputs and state (not an LSTM's c, by TF's default filter) with
fresh noise each step; with variational_recurrent=True one noise per sequence, drawn when the wrapper is
made and shared by every batch row, as TF's is.
"""
from __future__ import annotations

import hashlib
import numbers

from xlite.frontend import math_ops, nest, random_ops
from xlite.frontend.convert import convert_to_tensor
from xlite.frontend.graph import get_default_graph
from xlite.frontend.rnn_cell_impl import LSTMStateTuple, RNNCell, flat_sizes
from xlite.frontend.scopes import device as device_scope
from xlite.frontend.tensor_shape import TensorShape
from xlite.ir import dtypes

__all__ = ["DropoutWrapper", "ResidualWrapper", "DeviceWrapper"]


class _CellWrapper(RNNCell):
    """Delegates sizes, zero state and Variables to the wrapped cell; subclasses change what a call does."""

    def __init__(self, cell, dtype=None, **kwargs):
        super().__init__(dtype=dtype, **kwargs)
        if not (hasattr(cell, "output_size") and hasattr(cell, "state_size") and callable(cell)):
            raise TypeError(f"The argument 'cell' ({cell}) is not an RNNCell: 'output_size' property is missing, "
                            "'state_size' property is missing, either 'zero_state' or 'get_initial_state' method "
                            "is required, is not callable.")
        self.cell = cell

    @property
    def wrapped_cell(self):
        return self.cell

    @property
    def state_size(self):
        return self.cell.state_size

    @property
    def output_size(self):
        return self.cell.output_size

    def zero_state(self, batch_size, dtype):
        with get_default_graph().name_scope(type(self).__name__ + "ZeroState"):
            return self.cell.zero_state(batch_size, dtype)

    @property
    def variables(self) -> list:
        return self.cell.variables

    weights = variables

    @property
    def trainable_variables(self) -> list:
        return self.cell.trainable_variables

    trainable_weights = trainable_variables

    def __call__(self, inputs, state, scope=None):
        return self._call_wrapped_cell(inputs, state, scope=scope)

    def _call_wrapped_cell(self, inputs, state, scope=None):
        return self.cell(inputs, state, scope=scope)


def _default_dropout_state_filter_visitor(substate):
    """TF's default: never drop an LSTM's memory c."""
    if isinstance(substate, LSTMStateTuple):
        return LSTMStateTuple(c=False, h=True)
    return True


def _dropout_flags(visitor, state) -> list:
    """One bool per leaf of `state`: whether the filter visitor lets dropout touch it."""
    verdict = visitor(state)
    if isinstance(verdict, bool):
        return [verdict] * len(nest.flatten(state))
    if not nest.is_sequence(state):
        raise TypeError(f"dropout_state_filter_visitor returned {verdict!r} for a leaf; it must return a bool")
    flags = []
    for sub, v in zip(state, verdict):
        flags += [v] * len(nest.flatten(sub)) if isinstance(v, bool) else _dropout_flags(visitor, sub)
    return flags


class DropoutWrapper(_CellWrapper):
    """Dropout on a cell's inputs, outputs and state, each with its keep probability (floats or tensors)."""

    def __init__(self, cell, input_keep_prob=1.0, output_keep_prob=1.0, state_keep_prob=1.0,
                 variational_recurrent=False, input_size=None, dtype=None, seed=None,
                 dropout_state_filter_visitor=None, **kwargs):
        super().__init__(cell, dtype=dtype, **kwargs)
        if dropout_state_filter_visitor is not None and not callable(dropout_state_filter_visitor):
            raise TypeError("dropout_state_filter_visitor must be callable")
        self._dropout_state_filter = dropout_state_filter_visitor or _default_dropout_state_filter_visitor
        with get_default_graph().name_scope("DropoutWrapperInit"):
            for prob, attr in ((input_keep_prob, "input_keep_prob"), (state_keep_prob, "state_keep_prob"),
                               (output_keep_prob, "output_keep_prob")):
                setattr(self, f"_{attr}", self._keep_prob(prob, attr))
        self._variational_recurrent, self._input_size, self._seed = variational_recurrent, input_size, seed
        self._recurrent_input_noise = self._recurrent_state_noise = self._recurrent_output_noise = None
        if variational_recurrent:
            if dtype is None:
                raise ValueError("When variational_recurrent=True, dtype must be provided")
            dtype = dtypes.as_dtype(dtype)
            if not isinstance(self._input_keep_prob, numbers.Real) or self._input_keep_prob < 1.0:
                if input_size is None:
                    raise ValueError("When variational_recurrent=True and input_keep_prob < 1.0 or is unknown, "
                                     "input_size must be provided")
                self._recurrent_input_noise = self._batch_noise(input_size, "input", dtype)
            self._recurrent_state_noise = self._batch_noise(cell.state_size, "state", dtype)
            self._recurrent_output_noise = self._batch_noise(cell.output_size, "output", dtype)

    @staticmethod
    def _keep_prob(prob, attr):
        tensor = convert_to_tensor(prob)
        value = tensor._static_value
        if value is None:
            return tensor
        if value < 0 or value > 1:
            raise ValueError(f"Parameter {attr} must be between 0 and 1: {float(value)}")
        return float(value)

    def _gen_seed(self, salt_prefix: str, index: int):
        """TF's per-tensor seed: md5 of the seed and a salt, so each dropped tensor has its own stream."""
        if self._seed is None:
            return None
        digest = hashlib.md5(f"{self._seed}{salt_prefix}_{index}".encode("utf-8")).hexdigest()
        return int(digest[:8], 16) & 0x7FFFFFFF

    def _batch_noise(self, sizes, salt: str, dtype):
        """One [1, size] uniform noise per leaf of `sizes`: a mask shared by the batch and every step."""
        flat = [random_ops.random_uniform([1] + TensorShape(s).as_list() if not isinstance(s, int) else [1, s],
                                          seed=self._gen_seed(salt, k), dtype=dtype)
                for k, s in enumerate(flat_sizes(sizes))]
        return nest.pack_sequence_as(sizes, flat) if nest.is_sequence(sizes) else flat[0]

    def _dropout(self, values, salt: str, noise, keep_prob, flags=None):
        from xlite.frontend.nn_ops import dropout
        flat = nest.flatten(values)
        flags = flags or [True] * len(flat)
        noise_flat = nest.flatten(noise) if noise is not None else [None] * len(flat)
        out = []
        for k, (v, keep, n) in enumerate(zip(flat, flags, noise_flat)):
            if not keep:
                out.append(v)
            elif self._variational_recurrent:
                kept = math_ops.div(v, keep_prob) * math_ops.floor(keep_prob + n)
                kept.set_shape(v.shape)
                out.append(kept)
            else:
                out.append(dropout(v, rate=1.0 - keep_prob, seed=self._gen_seed(salt, k)))
        return nest.pack_sequence_as(values, out) if nest.is_sequence(values) else out[0]

    def _call_wrapped_cell(self, inputs, state, scope=None):
        def should_drop(p):
            return not isinstance(p, float) or p < 1
        if should_drop(self._input_keep_prob):
            inputs = self._dropout(inputs, "input", self._recurrent_input_noise, self._input_keep_prob)
        output, new_state = self.cell(inputs, state, scope=scope)
        if should_drop(self._state_keep_prob):
            flags = _dropout_flags(self._dropout_state_filter, new_state)
            new_state = self._dropout(new_state, "state", self._recurrent_state_noise, self._state_keep_prob, flags)
        if should_drop(self._output_keep_prob):
            output = self._dropout(output, "output", self._recurrent_output_noise, self._output_keep_prob)
        return output, new_state


class ResidualWrapper(_CellWrapper):
    """output = residual_fn(inputs, cell output), by default their sum."""

    def __init__(self, cell, residual_fn=None, **kwargs):
        super().__init__(cell, **kwargs)
        self._residual_fn = residual_fn

    def _call_wrapped_cell(self, inputs, state, scope=None):
        output, new_state = self.cell(inputs, state, scope=scope)
        if self._residual_fn is not None:
            return self._residual_fn(inputs, output), new_state
        if not nest.same_structure(inputs, output, check_types=False):
            raise ValueError(f"ResidualWrapper: inputs {inputs} and outputs {output} differ in structure")
        flat = [math_ops.add(convert_to_tensor(i), o) for i, o in zip(nest.flatten(inputs), nest.flatten(output))]
        return nest.pack_sequence_as(output, flat) if nest.is_sequence(output) else flat[0], new_state


class DeviceWrapper(_CellWrapper):
    """Runs the cell under tf.device(device)."""

    def __init__(self, cell, device, **kwargs):
        super().__init__(cell, **kwargs)
        self._device = device

    def zero_state(self, batch_size, dtype):
        with device_scope(self._device):
            return super().zero_state(batch_size, dtype)

    def _call_wrapped_cell(self, inputs, state, scope=None):
        with device_scope(self._device):
            return self.cell(inputs, state, scope=scope)
