"""Python operators on Tensors and Variables, mapped to the tf.math functions TF maps them to."""
from __future__ import annotations

from xlite.frontend import math_ops, matmul_ops
from xlite.frontend.convert import convert_pair, convert_to_tensor
from xlite.frontend.graph import Tensor
from xlite.frontend.variables import Variable


def _logical_or_bitwise(logical, bitwise):
    """`&`, `|`, `^` are logical on bool tensors and bitwise on integer ones, as in TF."""
    def fn(x, y, name=None):
        x, y = convert_pair(x, y, logical.__name__)
        return (bitwise if x.dtype.is_integer else logical)(x, y, name=name)
    return fn


def _invert(x):
    x = convert_to_tensor(x)
    return math_ops.invert(x) if x.dtype.is_integer else math_ops.logical_not(x)


_BINARY = {
    "add": (math_ops.add, "add"), "sub": (math_ops.subtract, "sub"), "mul": (math_ops.multiply, "mul"),
    "truediv": (math_ops.truediv, "truediv"), "floordiv": (math_ops.floordiv, "floordiv"),
    "mod": (math_ops.mod, "mod"), "pow": (math_ops.pow, "pow"), "matmul": (matmul_ops.matmul, "matmul"),
    "and": (_logical_or_bitwise(math_ops.logical_and, math_ops.bitwise_and), "and"),
    "or": (_logical_or_bitwise(math_ops.logical_or, math_ops.bitwise_or), "or"),
    "xor": (_logical_or_bitwise(math_ops.logical_xor, math_ops.bitwise_xor), "xor"),
}
_COMPARE = {"lt": math_ops.less, "le": math_ops.less_equal, "gt": math_ops.greater, "ge": math_ops.greater_equal}


def _forward(fn, name):
    def op(self, other):
        return fn(self, other, name=name)
    return op


def _reverse(fn, name):
    def op(self, other):
        return fn(other, self, name=name)
    return op


def _install(cls) -> None:
    for key, (fn, name) in _BINARY.items():
        setattr(cls, f"__{key}__", _forward(fn, name))
        setattr(cls, f"__r{key}__", _reverse(fn, name))
    for key, fn in _COMPARE.items():
        setattr(cls, f"__{key}__", _forward(fn, None))
    cls.__neg__ = lambda self: math_ops.negative(self)
    cls.__abs__ = lambda self: math_ops.abs(self)
    cls.__invert__ = _invert
    cls.__div__ = cls.__truediv__


_install(Tensor)
_install(Variable)
