"""Multi-dimensional indices and arrays in memory: addresses follow each shape's layout (minor_to_major).

An `Index` names one element of a logical shape. It carries the per-dimension
values, or a linear position in some physical order from which they are
derived on demand; a load from an array with that same dims and layout uses
the linear position directly, so flat loops over same-shaped operands never
divide.
"""
from __future__ import annotations

from math import prod

from llvmlite import ir

from xlite.codegen.cpu.llvm_types import from_memory, i64, memory_type, to_memory
from xlite.ir.shape import Shape, physical_order, strides


def row_major_strides(dims) -> list[int]:
    result, step = [0] * len(dims), 1
    for d in range(len(dims) - 1, -1, -1):
        result[d] = step
        step *= dims[d]
    return result


class Index:
    """A point of logical `dims`; `linear` (if given) is its position in physical `order`."""

    __slots__ = ("dims", "_values", "linear", "order")

    def __init__(self, dims, values=None, linear=None, order=None):
        self.dims = tuple(dims)
        self._values = list(values) if values is not None else None
        self.linear = linear
        self.order = tuple(order) if order is not None else tuple(range(len(self.dims)))
        assert values is not None or linear is not None or not self.dims

    def values(self, b: ir.IRBuilder) -> list:
        if self._values is None:
            vals = [None] * len(self.dims)
            rest = self.linear
            order = self.order
            for k in range(len(order) - 1, -1, -1):
                d = order[k]
                size = self.dims[d]
                if size == 1:
                    vals[d] = i64(0)
                elif k == 0:
                    vals[d] = rest
                else:
                    vals[d] = b.urem(rest, i64(size))
                    rest = b.udiv(rest, i64(size))
            self._values = vals
        return self._values

    def linear_in(self, b: ir.IRBuilder, shape: Shape):
        """The element's position in `shape`'s physical layout (shape has this index's dims)."""
        if self.linear is not None and tuple(shape.dims) == self.dims and physical_order(shape) == self.order:
            return self.linear
        if not self.dims:
            return i64(0)
        vals = self.values(b)
        total = None
        for d, s in zip(range(len(vals)), strides(shape)):
            if shape.dims[d] == 1:
                continue
            term = vals[d] if s == 1 else b.mul(vals[d], i64(s), flags=["nuw", "nsw"])
            total = term if total is None else b.add(total, term, flags=["nuw", "nsw"])
        return total if total is not None else i64(0)

    def row_major_linear(self, b: ir.IRBuilder):
        return self.linear_in(b, Shape(_ANY, self.dims))


class _AnyDType:
    ir_name = "any"


_ANY = _AnyDType()


def scalar_index() -> Index:
    return Index((), values=[])


class IrArray:
    """An array of `shape` at `ptr` (an LLVM pointer)."""

    def __init__(self, ptr, shape: Shape):
        self.ptr = ptr
        self.shape = shape
        self.elem = memory_type(shape.dtype)

    @property
    def num_elements(self) -> int:
        return prod(self.shape.dims)

    def address(self, b: ir.IRBuilder, index: Index):
        linear = index.linear_in(b, self.shape)
        if isinstance(linear, ir.Constant) and linear.constant == 0:
            return self.ptr
        return b.gep(self.ptr, [linear], inbounds=True, source_etype=self.elem)

    def address_linear(self, b: ir.IRBuilder, linear):
        return b.gep(self.ptr, [linear], inbounds=True, source_etype=self.elem)

    def load(self, b: ir.IRBuilder, index: Index):
        value = b.load(self.address(b, index), typ=self.elem)
        return from_memory(b, value, self.shape.dtype)

    def store(self, b: ir.IRBuilder, value, index: Index) -> None:
        b.store(to_memory(b, value, self.shape.dtype), self.address(b, index))

    def __repr__(self) -> str:
        return f"<IrArray {self.shape}>"


__all__ = ["Index", "IrArray", "physical_order", "strides", "row_major_strides", "scalar_index"]
