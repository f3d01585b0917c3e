"""Python lists appended in a loop over tensors become TensorArrays, as TF's AutoGraph makes them tensor lists.

The converter rewrites `x.append(v)` in a loop on a local list into
`x = ag__.list_append(x, v, ...)`, so `x` is loop state. Before a tf.while_loop
starts, each such list is replaced by a `TensorList`: a TensorArray (its buffer
sized for the loop: the list's items plus the appends of every iteration) and
the number of items so far, both loop variables. What one iteration appends is
found by a trial iteration whose ops are discarded. After the loop, `tf.stack(x)`
or `x.stack()` gives the items. xlite's arrays have a compile-time size, so the
loop needs a trip count known at graph construction (a `for` over a tensor of
static length or `tf.range` of constants, without `break`), and each iteration
must append the same number of items; anything else raises UnimplementedError.
"""
from __future__ import annotations

import collections

from xlite import errors
from xlite.frontend.convert import convert_to_tensor
from xlite.frontend.tensor_array_ops import TensorArray
from xlite.ir import dtypes


class TensorList(collections.namedtuple("TensorList", ["array", "length"])):
    """A list in a tensor loop: its items in `array`, how many there are in `length` (an int32 tensor)."""

    def append(self, value) -> "TensorList":
        return TensorList(self.array.write(self.length, value), self.length + 1)

    def stack(self, name=None):
        return self.array.stack(name=name)

    def __getitem__(self, index):
        """x[i] reads item i (counted from the end when negative), as on the list it stands for."""
        if isinstance(index, int) and index < 0:
            index = self.length + index
        return self.array.read(index)

    def _tensor_array_stack(self, name=None):   # tf.stack(x) (xlite/frontend/join_ops.py)
        return self.stack(name=name)


class Probe(list):
    """A list's stand-in in the trial iteration: it collects what the iteration appends."""


def appended_slots(state: tuple, names: tuple, opts: dict) -> list:
    """The state slots holding a Python list the statement appends to."""
    appended = set(opts.get("appended", ()))
    return [k for k, v in enumerate(state) if type(v) is list and names[k] in appended]


def probes(state: tuple, slots: list) -> tuple:
    state = list(state)
    for k in slots:
        state[k] = Probe(state[k])
    return tuple(state)


def tensor_lists(state: tuple, trial_out, slots: list, trip_count, names: tuple, where: str) -> tuple:
    """`state` with the lists at `slots` as TensorLists sized for `trip_count` iterations of the trial's appends."""
    state = list(state)
    for k in slots:
        items, name = state[k], names[k]
        probe = trial_out[k] if trial_out is not None and isinstance(trial_out[k], Probe) else None
        per_iteration = len(probe) - len(items) if probe is not None else 0
        static = None if trip_count is None else getattr(convert_to_tensor(trip_count), "_static_value", None)
        if static is None or per_iteration <= 0:
            why = ("the loop's trip count is not known at graph construction (a `while`, a `break`, or a length "
                   "fed at run time)" if static is None else "an iteration does not always append to it")
            raise errors.unimplemented(
                f"{where}: '{name}.append(...)' in a loop over tensors makes '{name}' a tf.TensorArray, which xlite "
                f"sizes at compile time, but {why}. Preallocate a tf.TensorArray of fixed size, or loop in Python.")
        values = [convert_to_tensor(v) for v in list(items) + list(probe[len(items):])]
        dtype, shape = values[0].dtype, values[0].shape
        if any(v.dtype != dtype or not v.shape.is_compatible_with(shape) for v in values) or \
                not shape.is_fully_defined():
            raise errors.unimplemented(
                f"{where}: the items appended to '{name}' in a loop over tensors must share one dtype and one fully "
                f"known shape to become a tf.TensorArray; got {[(v.dtype.name, str(v.shape)) for v in values]}")
        array = TensorArray(dtype, size=len(items) + per_iteration * int(static), element_shape=shape)
        for i, v in enumerate(values[:len(items)]):
            array = array.write(i, v)
        state[k] = TensorList(array, convert_to_tensor(len(items), dtype=dtypes.int32))
    return tuple(state)
