"""Python operators on Tensors and Variables, mapped to the tf.math functions TF maps them to."""
from __future__ import annotations

from xlite.frontend import math_ops
from xlite.frontend.graph import Tensor
from xlite.frontend.variables import Variable


def _matmul(a, b):
    return math_ops.matmul(a, b)


def _invert(x):
    return math_ops.logical_not(x)


def _xor(x, y):
    return math_ops.logical_xor(x, y)


_BINARY = {
    "add": (math_ops.add, "add"), "sub": (math_ops.subtract, "sub"), "mul": (math_ops.multiply, "mul"),
    "truediv": (math_ops.truediv, "truediv"), "floordiv": (math_ops.floordiv, "floordiv"),
    "mod": (math_ops.mod, "mod"), "pow": (math_ops.pow, "pow"), "matmul": (_matmul, None),
    "and": (math_ops.logical_and, "and"), "or": (math_ops.logical_or, "or"), "xor": (_xor, None),
}
_COMPARE = {"lt": math_ops.less, "le": math_ops.less_equal, "gt": math_ops.greater, "ge": math_ops.greater_equal}


def _forward(fn, name):
    def op(self, other):
        return fn(self, other, name=name) if name else fn(self, other)
    return op


def _reverse(fn, name):
    def op(self, other):
        return fn(other, self, name=name) if name else fn(other, self)
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
