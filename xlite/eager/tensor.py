"""EagerTensor: a value an eager op computed (a NumPy array), with the frontend Tensor's interface.

It subclasses the frontend's Tensor, so every tf.* function and operator that takes a Tensor takes it
(the operators are the frontend's own overloads); `make_op` hands the ops made from it to the eager
executor (xlite/eager/dispatch.py). The array is never written after construction: the executor
makes a fresh array for every result, and `.numpy()` gives a copy, as TF's does.
"""
from __future__ import annotations

import numpy as np

from xlite import errors
from xlite.frontend import graph as graph_module
from xlite.frontend.graph import Tensor
from xlite.frontend.string_ops import bytes_array
from xlite.frontend.tensor_shape import TensorShape
from xlite.ir import dtypes

_DTYPE_OF = {np.dtype(d.np_name): d for d in dtypes.ALL_DTYPES if d.np_name is not None}
_MAX_STATIC_VALUE = 4096        # as make_op's: frontend code may read a small value as a constant


class _EagerOrigin:
    """What `t.op` shows for an eager value: no graph op made it (TF raises AttributeError there; the
    frontend's own helpers look at `op.type` and `op.name`, so they get these)."""

    type = "EagerConst"
    name = "EagerTensor"
    inputs: tuple = ()
    outputs: tuple = ()
    attrs: dict = {}
    control_inputs: tuple = ()
    _id = 0

    @property
    def graph(self):
        return graph_module._global_default_graph


_ORIGIN = _EagerOrigin()


class HeldValue:
    """Python's conversions of a value held as the NumPy array `_value` (eager tensors and Variables)."""

    def __float__(self) -> float:
        return float(self._value)

    def __int__(self) -> int:
        return int(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)

    def __len__(self) -> int:
        if self._value.ndim == 0:
            raise TypeError("Scalar tensor has no `len()`")
        return self._value.shape[0]


class EagerTensor(HeldValue, Tensor):
    """An immutable array with TF's eager Tensor interface (`numpy()`, `shape`, `dtype`, printing)."""

    _is_eager = True
    op = _ORIGIN
    value_index = 0

    def __init__(self, value, dtype: dtypes.DType | None = None):   # noqa: super().__init__ not wanted
        array = value if type(value) is np.ndarray else np.asarray(value)
        if dtype is None:
            dtype = _DTYPE_OF.get(array.dtype)
            if dtype is None and array.dtype.kind in "OSU":      # tf.string: an object array of bytes
                array, dtype = bytes_array(array), dtypes.string
            if dtype is None:
                raise TypeError(f"EagerTensor cannot hold NumPy dtype {array.dtype}")
        self._value = array
        self.dtype = dtype
        self._shape_cache = None

    # what a Tensor has ---------------------------------------------------------------------
    @property
    def _shape(self) -> TensorShape:
        shape = self._shape_cache
        if shape is None:
            shape = self._shape_cache = TensorShape(self._value.shape)
        return shape

    @_shape.setter
    def _shape(self, shape) -> None:        # make_op callers restate a shape the value already has
        if not TensorShape(shape).is_compatible_with(self._value.shape):
            raise ValueError(f"Tensor's shape {self._value.shape} is not compatible with supplied shape {shape}")

    @property
    def _static_value(self):
        value = self._value
        return value if value.size <= _MAX_STATIC_VALUE else None

    @_static_value.setter
    def _static_value(self, value) -> None:
        pass

    @property
    def graph(self):
        return graph_module._global_default_graph

    @property
    def name(self) -> str:
        """TF raises AttributeError here; the frontend names tensors in its error messages, so: a label."""
        return "EagerTensor"

    @property
    def device(self) -> str:
        return "/job:localhost/replica:0/task:0/device:CPU:0"

    @property
    def ndim(self) -> int:
        return self._value.ndim

    def set_shape(self, shape) -> None:
        if not TensorShape(shape).is_compatible_with(self._value.shape):
            raise ValueError(f"Tensor's shape {TensorShape(self._value.shape)} is not compatible with "
                             f"supplied shape {TensorShape(shape)}.")

    def consumers(self) -> list:
        return []

    def eval(self, feed_dict=None, session=None):
        raise errors.unimplemented("eval is not supported when eager execution is enabled, is .numpy() "
                                   "the method you want?")

    # values ------------------------------------------------------------------------------------
    def numpy(self):
        """A copy of the value (a NumPy scalar for a 0-d tensor), as TF's EagerTensor.numpy gives."""
        value = self._value
        return value[()] if value.ndim == 0 else value.copy()

    def __array__(self, dtype=None, copy=None):
        view = self._value.view()
        view.flags.writeable = False
        if dtype is not None and view.dtype != dtype:
            return view.astype(dtype)
        return view.copy() if copy else view

    def __index__(self) -> int:
        if not self.dtype.is_integer:
            raise TypeError(f"only integer scalar tensors can be converted to a scalar index, not {self.dtype.name}")
        return int(self._value)

    def __iter__(self):
        if self._value.ndim == 0:
            raise TypeError("Cannot iterate over a scalar tensor.")
        return super().__iter__()          # tf.unstack, one compiled op

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self

    def __reduce__(self):
        return (EagerTensor, (np.array(self._value),))

    # printing, as TF does it -------------------------------------------------------------------
    def __str__(self) -> str:
        return f"tf.Tensor({_numpy_text(self._value, False)}, shape={self._shape}, dtype={self.dtype.name})"

    def __repr__(self) -> str:
        return f"<tf.Tensor: shape={self._shape}, dtype={self.dtype.name}, numpy={_numpy_text(self._value, True)}>"

    def __format__(self, spec: str) -> str:
        return format(self._value[()] if self._value.ndim == 0 else self._value, spec) if spec else str(self)


def _numpy_text(value: np.ndarray, is_repr: bool) -> str:
    """TF's numpy_text: NumPy's str (repr for repr, a Python scalar's for 0-d), on its own line if long."""
    if value.ndim == 0:
        value = value[()]
        text = repr(value.item() if hasattr(value, "item") else value) if is_repr else str(value)
    else:
        text = repr(value) if is_repr else str(value)
    return "\n" + text if "\n" in text else text


__all__ = ["EagerTensor"]
