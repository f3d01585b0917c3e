"""Python values to Tensors with TF's dtype rules: no silent int/float promotion."""
from __future__ import annotations

import numbers

import numpy as np

from xlite import errors
from xlite.frontend.graph import Operation, Tensor, executing_eagerly, get_default_graph
from xlite.frontend.op_registry import lowering, make_op
from xlite.frontend.string_ops import is_string_value, string_constant
from xlite.frontend.tensor_shape import TensorShape
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


def _leaves(value):
    if isinstance(value, (list, tuple)):
        for v in value:
            yield from _leaves(v)
    else:
        yield value


def _mismatches(value, dtype: dtypes.DType):
    """The Python leaves that TF refuses to put in a `dtype` tensor (a float for an int, None, ...)."""
    for leaf in _leaves(value):
        if isinstance(leaf, (bool, np.bool_, np.ndarray)):
            continue
        if isinstance(leaf, numbers.Integral):
            if dtype.is_bool:
                yield leaf
        elif isinstance(leaf, numbers.Real):
            if not dtype.is_floating:
                yield leaf
        else:
            yield leaf


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
        for bad in _mismatches(value, dtype):
            raise TypeError(f"Expected {dtype.name}, but got {bad} of type '{type(bad).__name__}'.")
        if dtype.is_integer:
            array = np.asarray(value)
            if array.dtype == object or array.size and array.dtype.kind in "iu" and \
                    (array.max() > dtype.max or array.min() < dtype.min):
                raise TypeError(f"Value {value!r} out of range for {dtype.name}")
    try:
        with np.errstate(all="ignore"):
            return np.asarray(value).astype(dtype.np)
    except (TypeError, ValueError) as e:
        raise TypeError(f"Failed to convert {value!r} to a {dtype.name} tensor: {e}") from None


def constant(value, dtype=None, shape=None, name: str = "Const", verify_shape: bool = False) -> Tensor:
    """TF1's graph-mode constant: with `shape`, a short value is padded with its last element."""
    dtype = None if dtype is None else dtypes.as_dtype(dtype)
    if dtype is dtypes.string or (dtype is None and is_string_value(value)):
        if shape is not None and tuple(TensorShape(shape).as_list()) != np.shape(value):
            raise errors.unimplemented("tf.constant of strings with a shape other than the value's")
        return string_constant(value, name)
    array = to_array(value, dtype)
    if shape is not None:
        array = _fit_to_shape(array, TensorShape(shape), verify_shape)
    array = np.array(array, order="C")
    array.flags.writeable = False
    return make_op("Const", [], {"value": array, "dtype": dtypes.as_dtype(array.dtype)}, name).outputs[0]


def _fit_to_shape(array: np.ndarray, shape: TensorShape, verify_shape: bool) -> np.ndarray:
    if not shape.is_fully_defined():
        raise ValueError(f"tf.constant needs a fully defined shape, got {shape}")
    dims = tuple(shape.as_list())
    if verify_shape and array.shape != dims:
        raise TypeError(f"Expected Tensor's shape: {dims}, but got {array.shape}.")
    size = int(np.prod(dims, dtype=np.int64))
    if size == 0:
        return np.zeros(dims, array.dtype)
    if array.size > size:
        raise ValueError(f"Too many elements provided. Takes at most {size}, but got {array.size}.")
    flat = array.reshape(-1)
    if array.size < size:
        fill = flat[-1] if flat.size else np.zeros((), array.dtype)
        flat = np.concatenate([flat, np.full(size - flat.size, fill, dtype=array.dtype)])
    return flat.reshape(dims)


@lowering("Const")
def _lower_const(ctx, op):
    return ctx.b.constant(op.attrs["value"])


def convert_to_tensor(value, dtype=None, name: str | None = None, preferred_dtype=None,
                      dtype_hint=None) -> Tensor:
    dtype = None if dtype is None else dtypes.as_dtype(dtype)
    if hasattr(value, "_as_tensor"):
        value = value._as_tensor()
    if isinstance(value, Tensor):
        if value._is_eager and not hasattr(get_default_graph(), "capture") and not executing_eagerly():
            raise RuntimeError("Attempting to capture an EagerTensor without building a function.")
        if dtype is not None and value.dtype != dtype:
            raise ValueError(f"Tensor conversion requested dtype {dtype.name} for Tensor with dtype "
                             f"{value.dtype.name}: {value!r}")
        return value
    if isinstance(value, Operation):
        raise TypeError(f"Can't convert Operation '{value.name}' to Tensor (target dtype={dtype})")
    if isinstance(value, (list, tuple)) and _holds_tensor(value):
        return _pack(value, dtype, name or "packed")
    hint = preferred_dtype or dtype_hint
    if dtype is None and hint is not None:
        try:
            return constant(value, dtypes.as_dtype(hint), name=name or "Const")
        except (TypeError, ValueError):
            pass
    return constant(value, dtype, name=name or "Const")


def _holds_tensor(value) -> bool:
    return any(_is_tensor(v) or isinstance(v, (list, tuple)) and _holds_tensor(v) for v in value)


def _first_tensor_dtype(value):
    for v in value:
        if _is_tensor(v):
            return convert_to_tensor(v).dtype
        if isinstance(v, (list, tuple)):
            found = _first_tensor_dtype(v)
            if found is not None:
                return found
    return None


def _pack(value, dtype, name: str) -> Tensor:
    """A list mixing Tensors and Python values becomes one Tensor, as TF's auto-packing does."""
    from xlite.frontend import array_ops
    stack = getattr(array_ops, "stack", None)
    if stack is None:
        raise TypeError("Converting a list that holds Tensors to a Tensor needs tf.stack, "
                        "which this build of xlite lacks.")
    dtype = dtype or _first_tensor_dtype(value)
    items = [_pack(v, dtype, "packed") if isinstance(v, (list, tuple)) and _holds_tensor(v)
             else convert_to_tensor(v, dtype=dtype) for v in value]
    return stack(items, name=name)


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
    if x.graph is not y.graph and not hasattr(get_default_graph(), "capture"):   # (a trace captures)
        raise ValueError(f"Tensors {x.name} and {y.name} are from different graphs.")
    return x, y


def _is_tensor(v) -> bool:
    return isinstance(v, Tensor) or hasattr(v, "_as_tensor")


def default_graph_of(*values):
    for v in values:
        if isinstance(v, Tensor):
            return v.graph
    return get_default_graph()
