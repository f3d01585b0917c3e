"""The tf.debugging.assert_* family: a tf.Assert (host_ops) of TF's condition and data, checked in the run;
values known when the graph is built are checked then, as TF does."""
from __future__ import annotations

import numpy as np

from xlite import errors
from xlite.frontend.convert import convert_pair, convert_to_tensor
from xlite.frontend.graph import Operation
from xlite.frontend.host_ops import Assert
from xlite.frontend.scopes import name_scope
from xlite.ir import dtypes

__all__ = ["assert_none_equal", "assert_less", "assert_less_equal", "assert_greater", "assert_greater_equal",
           "assert_positive", "assert_negative", "assert_non_negative", "assert_non_positive", "assert_rank",
           "assert_type", "assert_scalar", "assert_all_finite"]

_TESTS = {"==": "equal", "!=": "not_equal", "<": "less", "<=": "less_equal", ">": "greater", ">=": "greater_equal"}


def binary_assert(x, y, symbol: str, default_name: str, data=None, summarize=None, message=None,
                  name=None) -> Operation:
    """TF's _binary_assert: Assert(reduce_all(x OP y), [message, 'Condition x OP y did not hold
    element-wise:', 'x (name) = ', x, 'y (name) = ', y])."""
    from xlite.frontend import math_ops, reduction_ops
    with name_scope(name, default_name, [x, y]):
        x, y = convert_pair(x, y, "Equal")
        test = getattr(math_ops, _TESTS[symbol])(x, y)
        if data is None:
            data = ([f"{message}.  "] if message else []) + [f"Condition x {symbol} y did not hold element-wise:",
                                                     f"x ({x.name}) = ", x, f"y ({y.name}) = ", y]
        xv, yv = x._static_value, y._static_value
        if xv is not None and yv is not None and not np.all(getattr(np, _TESTS[symbol])(xv, yv)):
            from xlite.frontend.case_ops import summarize_value
            limit = 3 if summarize is None else summarize
            raise errors.InvalidArgumentError(None, None, "\n".join(
                d if isinstance(d, str) else d.name if d._static_value is None else
                summarize_value(np.asarray(d._static_value), limit) for d in map(_tensor_or_text, data)))
        return Assert(reduction_ops.reduce_all(test), data, summarize=summarize)


def _tensor_or_text(d):
    return d if isinstance(d, str) else convert_to_tensor(d)


def assert_none_equal(x, y, data=None, summarize=None, message=None, name=None) -> Operation:
    return binary_assert(x, y, "!=", "assert_none_equal", data, summarize, message, name)


def assert_less(x, y, data=None, summarize=None, message=None, name=None) -> Operation:
    return binary_assert(x, y, "<", "assert_less", data, summarize, message, name)


def assert_less_equal(x, y, data=None, summarize=None, message=None, name=None) -> Operation:
    return binary_assert(x, y, "<=", "assert_less_equal", data, summarize, message, name)


def assert_greater(x, y, data=None, summarize=None, message=None, name=None) -> Operation:
    return binary_assert(x, y, ">", "assert_greater", data, summarize, message, name)


def assert_greater_equal(x, y, data=None, summarize=None, message=None, name=None) -> Operation:
    return binary_assert(x, y, ">=", "assert_greater_equal", data, summarize, message, name)


def _sign_assert(x, symbol: str, default_name: str, data, summarize, message, name) -> Operation:
    """x compared with 0 (TF: 'Condition x > 0 did not hold element-wise:')."""
    with name_scope(name, default_name, [x]):
        x = convert_to_tensor(x)
        if data is None:
            data = ([f"{message}.  "] if message else []) + [f"Condition x {symbol} 0 did not hold element-wise:",
                                                     f"x ({x.name}) = ", x]
        zero = np.zeros((), x.dtype.np)
        return binary_assert(x, zero, symbol, default_name, data, summarize, message)


def assert_positive(x, data=None, summarize=None, message=None, name=None) -> Operation:
    return _sign_assert(x, ">", "assert_positive", data, summarize, message, name)


def assert_negative(x, data=None, summarize=None, message=None, name=None) -> Operation:
    return _sign_assert(x, "<", "assert_negative", data, summarize, message, name)


def assert_non_negative(x, data=None, summarize=None, message=None, name=None) -> Operation:
    return _sign_assert(x, ">=", "assert_non_negative", data, summarize, message, name)


def assert_non_positive(x, data=None, summarize=None, message=None, name=None) -> Operation:
    return _sign_assert(x, "<=", "assert_non_positive", data, summarize, message, name)


def assert_rank(x, rank, data=None, summarize=None, message=None, name=None) -> Operation:
    """Checked on the static rank (a tensor of unknown rank: UnimplementedError naming the gap)."""
    from xlite.frontend.variables import no_op
    x = convert_to_tensor(x)
    if x.shape.ndims is None:
        raise errors.unimplemented("tf.debugging.assert_rank of a tensor whose rank is known only at run time")
    if x.shape.ndims != int(rank):
        raise ValueError(f"{message or ''}Tensor {x.name} must have rank {int(rank)}. Received rank "
                         f"{x.shape.ndims}, shape {x.shape}")
    return no_op(name=name or "assert_rank")


def assert_scalar(tensor, name=None, message=None):
    tensor = convert_to_tensor(tensor)
    if tensor.shape.ndims != 0:
        raise ValueError(f"{message or ''}Expected scalar shape for {tensor.name}, saw shape: {tensor.shape}.")
    return tensor


def assert_type(tensor, tf_type, message=None, name=None):
    tensor = convert_to_tensor(tensor)
    if tensor.dtype != dtypes.as_dtype(tf_type):
        raise TypeError(f"{message or ''}{tensor.name} must be of type {dtypes.as_dtype(tf_type).name}; got "
                        f"{tensor.dtype.name}")
    from xlite.frontend.variables import no_op
    return no_op(name=name or "assert_type")


def assert_all_finite(t, msg, name=None):
    """TF's name for check_numerics (x, message) in tf.debugging."""
    from xlite.frontend.host_ops import check_numerics
    return check_numerics(t, msg, name=name)
