"""Emits instructions into a computation, inferring each result shape from the op's shape rule."""
from __future__ import annotations

import numpy as np

from xlite.ir import dtypes
from xlite.ir.module import Computation, Instruction, Metadata
from xlite.ir.symbolic import SymbolicUnsupported, is_symbolic
from xlite.ir.shape import Shape
from xlite.ir.shape_inference import infer_shape


class Builder:
    """Instructions appended in order; `metadata` is stamped on everything emitted while set."""

    def __init__(self, computation: Computation | None = None):
        self.computation = computation if computation is not None else Computation("entry")
        self.metadata = Metadata()
        self._params = 0

    def emit(self, opcode: str, operands=(), result=None, literal=None, called=(), **attrs) -> Instruction:
        shape = infer_shape(opcode, [o.shape for o in operands], attrs, result)
        inst = Instruction(opcode, operands, shape, attrs, metadata=self.metadata,
                           literal=literal, called=called)
        return self.computation.add(inst)

    # leaves -----------------------------------------------------------------
    def parameter(self, shape: Shape, name: str | None = None) -> Instruction:
        inst = self.emit("parameter", (), shape, number=self._params)
        self._params += 1
        if name:
            inst.name = name
        return inst

    def constant(self, value, dtype=None) -> Instruction:
        array = np.asarray(value, dtype=None if dtype is None else dtypes.as_dtype(dtype).np)
        dt = dtypes.as_dtype(array.dtype)
        return self.emit("constant", (), Shape(dt, array.shape), literal=array)

    def scalar(self, value, dtype) -> Instruction:
        if is_symbolic(value):
            return self.size_scalar(value, dtypes.as_dtype(dtype))
        return self.constant(np.array(value, dtype=dtypes.as_dtype(dtype).np))

    def size_scalar(self, value, dtype) -> Instruction:
        """A symbolic size (xlite/ir/symbolic.py) as a scalar of `dtype`: a parameter the run fills in,
        where the caller made one (xlite/frontend/lower.py); elsewhere the size must be a number."""
        raise SymbolicUnsupported(f"the symbolic size {value} as a value of the computation")

    def iota(self, dtype, dims, dimension: int) -> Instruction:
        return self.emit("iota", (), Shape(dtypes.as_dtype(dtype), tuple(dims)), dimension=dimension)

    # elementwise and shape helpers -----------------------------------------
    def convert(self, x: Instruction, dtype) -> Instruction:
        dtype = dtypes.as_dtype(dtype)
        return x if x.dtype == dtype else self.emit("convert", (x,), dtype=dtype)

    def broadcast_in_dim(self, x: Instruction, dims, dimensions) -> Instruction:
        dims = tuple(dims)
        if tuple(x.shape.dims) == dims and tuple(dimensions) == tuple(range(len(dims))):
            return x
        return self.emit("broadcast_in_dim", (x,), Shape(x.dtype, dims), dimensions=tuple(dimensions))

    def broadcast_to(self, x: Instruction, dims) -> Instruction:
        """NumPy-style broadcast: trailing dims align, size-1 dims stretch."""
        dims = tuple(dims)
        if x.shape.dims == dims:
            return x
        offset = len(dims) - x.shape.rank
        if offset < 0:
            raise ValueError(f"cannot broadcast {x.shape} to {dims}")
        squeezed = [i for i, d in enumerate(x.shape.dims) if not _same_size(d, dims[i + offset])
                    and d == 1 and dims[i + offset] != 1]
        if squeezed:
            kept = tuple(d for i, d in enumerate(x.shape.dims) if i not in squeezed)
            x = self.reshape(x, kept)
            mapping = tuple(i + offset for i in range(len(dims) - offset) if i not in squeezed)
        else:
            mapping = tuple(range(offset, len(dims)))
        return self.broadcast_in_dim(x, dims, mapping)

    def reshape(self, x: Instruction, dims) -> Instruction:
        dims = tuple(dims)
        if x.shape.dims == dims and None not in dims:
            return x
        return self.emit("reshape", (x,), Shape(x.dtype, dims))

    def transpose(self, x: Instruction, perm) -> Instruction:
        perm = tuple(perm)
        if perm == tuple(range(len(perm))):
            return x
        return self.emit("transpose", (x,), dimensions=perm)

    def reduce(self, x: Instruction, kind: str, dims) -> Instruction:
        dims = tuple(sorted(dims))
        if not dims:
            return x
        return self.emit("reduce", (x,), kind=kind, dimensions=dims)

    def compare(self, x: Instruction, y: Instruction, direction: str) -> Instruction:
        return self.emit("compare", (x, y), direction=direction)

    def tuple(self, elements) -> Instruction:
        return self.emit("tuple", tuple(elements))

    def get_tuple_element(self, t: Instruction, index: int) -> Instruction:
        return self.emit("get_tuple_element", (t,), index=index)


def _same_size(a, b) -> bool:
    """Whether two sizes are the same for every run (a symbolic size only equals itself)."""
    if is_symbolic(a) or is_symbolic(b):
        return is_symbolic(a) and is_symbolic(b) and a == b
    return a == b


def broadcast_dims(a: tuple, b: tuple) -> tuple:
    """NumPy's broadcast of two static shapes; None is an unknown dim."""
    rank = max(len(a), len(b))
    a = (1,) * (rank - len(a)) + tuple(a)
    b = (1,) * (rank - len(b)) + tuple(b)
    out = []
    for x, y in zip(a, b):
        if is_symbolic(x) or is_symbolic(y):    # a symbolic size stretches only a static 1 (b is 1 or 5: unknown)
            if x is None or (type(x) is int and x == 1):
                out.append(y)
            elif y is None or (type(y) is int and y == 1) or x == y:
                out.append(x)
            else:
                raise ValueError(f"shapes {a} and {b} are incompatible for broadcasting")
        elif x == 1:
            out.append(y)
        elif y == 1 or y is None:
            out.append(x)
        elif x is None or x == y:
            out.append(y)
        else:
            raise ValueError(f"shapes {a} and {b} are incompatible for broadcasting")
    return tuple(out)
