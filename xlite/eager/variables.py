"""EagerVariable: what `tf.Variable(...)` makes while executing eagerly, holding its current array.

It is a frontend Variable (so `tf.assign`, the operators, slicing and the optimizers take it), whose
`_variable` is a handle while executing eagerly: assignments are ops on that handle, which the
executor compiles like any other (the tiny graph has a VariableV2 there, so an update is the
assignment's own lowering, written in place where the executable donates the buffer). Reading gives
an EagerTensor sharing the array, which a later in-place update must not change: the Variable copies
its array before handing it to an executable that may write it (`_array`) whenever a read shares it.

Inside a tf.function trace (a graph with `capture`) the same Variable stands for the trace's
VariableV2 that `FuncGraph.capture` binds to it; a plain TF1 graph refuses it, as TF does.
"""
from __future__ import annotations

import numpy as np

from xlite import errors
from xlite.eager import recording
from xlite.eager.tensor import EagerTensor, HeldValue
from xlite.frontend import graph as graph_module
from xlite.frontend.convert import convert_to_tensor
from xlite.frontend.graph import Tensor, executing_eagerly, get_default_graph
from xlite.frontend.op_registry import make_op
from xlite.frontend.tensor_shape import TensorShape
from xlite.frontend.variables import Variable, assign

_new_tensor = EagerTensor.__new__


class _HandleOp:
    """The handle's `op`: a VariableV2 in name and attributes, pointing back at its Variable."""

    type = "VariableV2"
    inputs: tuple = ()
    control_inputs: tuple = ()
    _id = 0

    def __init__(self, variable: "EagerVariable", name: str):
        self._py_variable = variable
        self.name = name
        self.attrs = {"shape": variable._static_shape, "dtype": variable._dtype}
        self.outputs = []

    @property
    def graph(self):
        return graph_module._global_default_graph

    def get_attr(self, name: str):
        return self.attrs[name]


class VariableHandle(Tensor):
    """What an eager assignment names (its ref input); any other op given it reads the Variable."""

    _is_eager = True

    def __init__(self, variable: "EagerVariable", name: str):   # noqa: no graph op behind it
        self.op = _HandleOp(variable, name)
        self.op.outputs.append(self)
        self.value_index = 0
        self.dtype = variable._dtype
        self._shape = variable._static_shape
        self._static_value = None

    @property
    def graph(self):
        return graph_module._global_default_graph

    def __repr__(self) -> str:
        return f"<VariableHandle of {self.op._py_variable.name}>"


class EagerVariable(HeldValue, Variable):
    """A Variable of eager execution: its value is an array it holds, not a Session's."""

    _is_eager_variable = True

    def __init__(self, initial_value=None, trainable=None, collections=None, validate_shape=True,
                 caching_device=None, name=None, variable_def=None, dtype=None, expected_shape=None,
                 import_scope=None, constraint=None, use_resource=None, synchronization=None,
                 aggregation=None, shape=None):     # noqa: Variable.__init__ builds graph ops, not wanted
        if initial_value is None:
            raise ValueError("initial_value must be specified.")
        if callable(initial_value):
            initial_value = initial_value()
        value = convert_to_tensor(initial_value, dtype=dtype)
        if not isinstance(value, EagerTensor):
            raise TypeError(f"The initial value of an eager Variable must be an eager value, got {value!r}")
        self._dtype = value.dtype
        self._value = np.array(value._value, order="C")     # its own array: updates may write it
        self._shared = False
        self._static_shape = TensorShape(value._value.shape) if shape is None else TensorShape(shape)
        if validate_shape and not self._static_shape.is_compatible_with(value._value.shape):
            raise ValueError(f"The initial value's shape ({TensorShape(value._value.shape)}) is not compatible "
                             f"with the explicitly supplied `shape` argument ({self._static_shape}).")
        if not validate_shape and shape is None:
            self._static_shape = TensorShape(None)
        scope = get_default_graph().get_name_scope()
        base = name or "Variable"
        self._op_name = f"{scope}/{base}" if scope else base
        self._trainable = True if trainable is None else bool(trainable)
        self._constraint = constraint
        self._initial_value = value
        self._handle = VariableHandle(self, self._op_name)

    # identity ---------------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self._op_name + ":0"

    @property
    def op(self):
        return self._handle.op

    @property
    def graph(self):
        return graph_module._global_default_graph

    @property
    def dtype(self):
        return self._dtype

    @property
    def shape(self) -> TensorShape:
        return self._static_shape if self._static_shape.ndims is not None else TensorShape(self._value.shape)

    @property
    def initializer(self):
        return None

    @property
    def constraint(self):
        return self._constraint

    @property
    def _variable(self) -> Tensor:
        """The handle while executing eagerly; in a trace graph, the VariableV2 it captured for this."""
        if executing_eagerly():
            return self._handle
        return _captured(self)

    def _as_tensor(self) -> Tensor:
        return self._read() if executing_eagerly() else _captured(self)

    def _as_graph_element(self):
        return self._variable

    # values ------------------------------------------------------------------------------------
    def _read(self) -> EagerTensor:
        """The value now, as an EagerTensor (a ReadVariableOp to any recording tape)."""
        t = _new_tensor(EagerTensor)
        t._value, t.dtype, t._shape_cache = self._value, self._dtype, None
        self._shared = True
        if recording.active:
            recording.record(recording.EagerOp("ReadVariableOp", self._op_name + "/Read", [self._handle], [t], {}))
        return t

    def _array(self) -> np.ndarray:
        """The array an executable may update in place (a tf.function call, an eager assignment)."""
        if self._shared:
            self._value = self._value.copy()
            self._shared = False
        return self._value

    def _store(self, value) -> None:
        """The Variable's new value, from an executable (its own array, updated in place, or a new one)."""
        if value is self._value:
            return
        value = np.asarray(value)
        if value.dtype != self._dtype.np or not value.flags.c_contiguous:
            value = np.array(value, dtype=self._dtype.np, order="C")
        self._value = value
        self._shared = True         # a new array may be another value's as well (the interpreter's results)

    def value(self) -> Tensor:
        return self._read() if executing_eagerly() else make_op("Identity", [_captured(self)], name="read").outputs[0]

    def read_value(self) -> Tensor:
        return self.value()

    def numpy(self):
        value = self._value
        return value[()] if value.ndim == 0 else value.copy()

    def initialized_value(self) -> Tensor:
        return self._read()

    def eval(self, session=None):
        raise errors.unimplemented("eval is not supported when eager execution is enabled, is .numpy() the "
                                   "method you want?")

    def load(self, value, session=None) -> None:
        assign(self, np.asarray(value, dtype=self._dtype.np))

    def __array__(self, dtype=None, copy=None):
        return self._read().__array__(dtype, copy)

    def __repr__(self) -> str:
        from xlite.eager.tensor import _numpy_text
        return (f"<tf.Variable '{self.name}' shape={self.shape} dtype={self._dtype.name}, "
                f"numpy={_numpy_text(self._value, True)}>")


def _captured(variable: EagerVariable) -> Tensor:
    graph = get_default_graph()
    capture = getattr(graph, "capture", None)
    if capture is None:
        raise RuntimeError("Attempting to capture an EagerTensor without building a function.")
    return capture(variable)


__all__ = ["EagerVariable", "VariableHandle"]
