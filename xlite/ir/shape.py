"""Array and tuple shapes with optional layouts; a dim of None is unknown until a run fixes it."""
from __future__ import annotations

from dataclasses import dataclass
from math import prod

from xlite.ir.dtypes import DType
from xlite.ir.symbolic import SymInt, dim_text


@dataclass(frozen=True)
class Layout:
    """XLA's minor_to_major: the first entry is the fastest-varying dimension."""
    minor_to_major: tuple[int, ...]

    @staticmethod
    def row_major(rank: int) -> "Layout":
        return Layout(tuple(range(rank - 1, -1, -1)))

    def __str__(self) -> str:
        return "{" + ",".join(map(str, self.minor_to_major)) + "}"


_PLAIN = frozenset((int, type(None), SymInt))       # dims already as Shape keeps them (SymInt: symbolic.py)


@dataclass(frozen=True)
class Shape:
    dtype: DType
    dims: tuple
    layout: Layout | None = None

    def __post_init__(self):
        dims = self.dims
        if type(dims) is not tuple or not _PLAIN.issuperset(map(type, dims)):
            object.__setattr__(self, "dims", tuple(None if d is None else d if type(d) is SymInt else int(d) for d in dims))

    is_tuple = False

    @property
    def rank(self) -> int:
        return len(self.dims)

    @property
    def is_static(self) -> bool:
        return all(d is not None for d in self.dims)

    @property
    def num_elements(self) -> int:
        if not self.is_static:
            raise ValueError(f"shape {self} is not fully known")
        return prod(self.dims)

    @property
    def byte_size(self) -> int:
        return self.num_elements * self.dtype.itemsize

    def with_dims(self, dims) -> "Shape":
        return Shape(self.dtype, tuple(dims))

    def with_dtype(self, dtype: DType) -> "Shape":
        return Shape(dtype, self.dims, self.layout)

    def with_layout(self, layout: Layout | None) -> "Shape":
        return Shape(self.dtype, self.dims, layout)

    def __str__(self) -> str:
        dims = ",".join(map(dim_text, self.dims))
        text = f"{self.dtype.ir_name}[{dims}]"
        return text + str(self.layout) if self.layout is not None else text


@dataclass(frozen=True)
class TupleShape:
    elements: tuple

    is_tuple = True

    def __str__(self) -> str:
        return "(" + ", ".join(str(e) for e in self.elements) + ")"


def physical_order(shape: Shape) -> tuple:
    """Dimensions from major to minor: row-major when no layout is assigned."""
    if shape.layout is None:
        return tuple(range(shape.rank))
    return tuple(reversed(shape.layout.minor_to_major))


def strides(shape: Shape) -> list[int]:
    """Element strides of every logical dimension in the shape's physical layout."""
    result = [0] * shape.rank
    step = 1
    for d in reversed(physical_order(shape)):
        result[d] = step
        step *= shape.dims[d]
    return result


def leaf_shapes(shape) -> list[Shape]:
    """The array shapes of a possibly nested tuple shape, in order."""
    if shape.is_tuple:
        return [leaf for e in shape.elements for leaf in leaf_shapes(e)]
    return [shape]
