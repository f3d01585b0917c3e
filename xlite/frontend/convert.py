"""Python values to Tensors with TF's dtype rules: no silent int/float promotion."""
from __future__ import annotations

import numbers

import numpy as np

from xlite.frontend.graph import Operation, Tensor, get_default_graph
from xlite.frontend.op_registry import lowering, make_op
from xlite.ir import dtypes


def _infer_python_dtype(array: np.ndarray, value) -> dtypes.DType:
    if isinstance(value, np.ndarray) or isinstance(value, np.generic):
        return dtypes.as_dtype(array.dtype)
    if array.dtype.kind == "f":
        return dtypes.float32
    if array.dtype.kind in "iu":
        if array.size and (array.max() > np.iinfo(np.int32).max or array.min() < np.iinfo(np.int32).min):
            return dtypes.int64
        return dtypes.int32
    if array.dtype.kind == "b":
        return dtypes.bool_
    if array.dtype.kind == "c":
        raise TypeError("complex tensors are not supported")
    raise TypeError(f"Failed to convert object of type {type(value).__name__} to Tensor.")


def _python_kind(value):
    if isinstance(value, (bool, np.bool_)):
        return "bool"
    if isinstance(value, numbers.Integral):
        return "int"
    if isinstance(value, numbers.Real):
        return "float"
    if isinstance(value, (list, tuple)):
        kinds = {_python_kind(v) for v in value}
        kinds.discard(None)
        if "float" in kinds:
            return "float"
        return "int" if "int" in kinds else ("bool" if "bool" in kinds else None)
    return None


def to_array(value, dtype: dtypes.DType | None = None) -> np.ndarray:
    """A NumPy array for a constant, checking that Python values fit the requested dtype like TF does."""
    if isinstance(value, Tensor):
        raise TypeError(f"expected a Python or NumPy value, got tensor {value.name}")
    if dtype is None:
        try:
            array = np.asarray(value)
        except ValueError as e:
            raise ValueError(f"Can't convert non-rectangular Python sequence to Tensor: {e}") from None
        if array.dtype == object:
            raise TypeError(f"Failed to convert object of type {type(value).__name__} to Tensor.")
        dtype = _infer_python_dtype(array, value)
        return array.astype(dtype.np)
    if not isinstance(value, (np.ndarray, np.generic)):
        kind = _python_kind(value)
        if kind == "float" and not dtype.is_floating:
            raise TypeError(f"Expected {dtype.name}, but got {value!r} of type 'float'.")
        if kind in ("int", "float") and dtype.is_bool:
            raise TypeError(f"Expected bool, but got {value!r} of type '{type(value).__name__}'.")
        if kind == "int" and dtype.is_integer:
            array = np.asarray(value)
            if array.size and (array.max() > dtype.max or array.min() < dtype.min):
                raise TypeError(f"Value {value!r} out of range for {dtype.name}")
    try:
        with np.errstate(all="ignore"):
            return np.asarray(value).astype(dtype.np)
    except (TypeError, ValueError) as e:
        raise TypeError(f"Failed to convert {value!r} to a {dtype.name} tensor: {e}") from None


def constant(value, dtype=None, shape=None, name: str = "Const", verify_shape: bool = False) -> Tensor:
    dtype = None if dtype is None else dtypes.as_dtype(dtype)
    array = to_array(value, dtype)
    if shape is not None:
        shape = [int(shape)] if isinstance(shape, int) else [int(d) for d in shape]
        if array.size == 1 and int(np.prod(shape)) != 1:
            array = np.full(shape, array.reshape(()), dtype=array.dtype)
        elif array.size == int(np.prod(shape)):
            array = array.reshape(shape)
        else:
            raise TypeError(f"Eager execution of tf.constant with unsupported shape. Tensor {value!r} "
                            f"(converted from {value!r}) has {array.size} elements, but got `shape` {shape} "
                            f"with {int(np.prod(shape))} elements).")
    array = np.array(array, order="C")
    array.flags.writeable = False
    return make_op("Const", [], {"value": array, "dtype": dtypes.as_dtype(array.dtype)}, name).outputs[0]


@lowering("Const")
def _lower_const(ctx, op):
    return ctx.b.constant(op.attrs["value"])


def convert_to_tensor(value, dtype=None, name: str | None = None, preferred_dtype=None,
                      dtype_hint=None) -> Tensor:
    dtype = None if dtype is None else dtypes.as_dtype(dtype)
    if hasattr(value, "_as_tensor"):
        value = value._as_tensor()
    if isinstance(value, Tensor):
        if dtype is not None and value.dtype != dtype:
            raise ValueError(f"Tensor conversion requested dtype {dtype.name} for Tensor with dtype "
                             f"{value.dtype.name}: {value!r}")
        return value
    if isinstance(value, Operation):
        raise TypeError(f"Can't convert Operation '{value.name}' to Tensor (target dtype={dtype})")
    hint = preferred_dtype or dtype_hint
    if dtype is None and hint is not None:
        try:
            return constant(value, dtypes.as_dtype(hint), name=name or "Const")
        except (TypeError, ValueError):
            pass
    return constant(value, dtype, name=name or "Const")


def convert_pair(x, y, op_type: str) -> tuple[Tensor, Tensor]:
    """Operands of a binary op: a non-tensor adopts the tensor's dtype; two tensors must agree."""
    x_is, y_is = _is_tensor(x), _is_tensor(y)
    if x_is:
        x = convert_to_tensor(x)
        y = convert_to_tensor(y, dtype=None if y_is else x.dtype, name="y")
    elif y_is:
        y = convert_to_tensor(y)
        x = convert_to_tensor(x, dtype=y.dtype, name="x")
    else:
        x = convert_to_tensor(x, name="x")
        y = convert_to_tensor(y, dtype=x.dtype, name="y")
    if x.dtype != y.dtype:
        raise TypeError(f"Input 'y' of '{op_type}' Op has type {y.dtype.name} that does not match type "
                        f"{x.dtype.name} of argument 'x'.")
    if x.graph is not y.graph:
        raise ValueError(f"Tensors {x.name} and {y.name} are from different graphs.")
    return x, y


def _is_tensor(v) -> bool:
    return isinstance(v, Tensor) or hasattr(v, "_as_tensor")


def default_graph_of(*values):
    for v in values:
        if isinstance(v, Tensor):
            return v.graph
    return get_default_graph()
