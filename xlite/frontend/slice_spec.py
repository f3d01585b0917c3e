"""TF's strided-slice semantics in plain Python: indices and masks to one (start, step, size) per input dim.

Shared by the StridedSlice lowering, its gradient and the build-time evaluation
of sliced shape vectors, so all three agree with TF's ValidateStridedSliceOp.
"""
from __future__ import annotations

from dataclasses import dataclass

NEW_AXIS = -1   # an entry of SliceSpec.layout that is a new size-1 axis, not an input dim


@dataclass(frozen=True)
class DimSlice:
    """What one input dim contributes: elements start, start+step, ... (size of them), or one index if shrunk."""
    start: int | None      # None when unknown at build time: a begin fed at run time (x[i], x[k:k + 3])
    step: int | None
    size: int | None
    shrink: bool
    sparse_index: int      # position in begin/end/strides this dim was read from


@dataclass(frozen=True)
class SliceSpec:
    dims: tuple[DimSlice, ...]   # one per input dim
    layout: tuple[int, ...]      # per output dim: the input dim it comes from, or NEW_AXIS

    @property
    def result_dims(self) -> tuple:
        return tuple(1 if d == NEW_AXIS else self.dims[d].size for d in self.layout)


def _bit(mask: int, i: int) -> bool:
    return bool((mask >> i) & 1)


def strided_slice_spec(shape, begin, end, strides, begin_mask: int = 0, end_mask: int = 0,
                       ellipsis_mask: int = 0, new_axis_mask: int = 0,
                       shrink_axis_mask: int = 0) -> SliceSpec:
    """`shape` holds the input dims and begin/end/strides equal-length lists; None anywhere is unknown."""
    n = len(begin)
    if not len(end) == len(strides) == n:
        raise ValueError(f"Expected begin, end, and strides to be 1D equal size tensors, but got shapes "
                         f"[{len(begin)}], [{len(end)}], and [{len(strides)}] instead.")
    if ellipsis_mask & (ellipsis_mask - 1):
        raise ValueError("Multiple ellipses in slice spec not allowed")
    begin, end, strides = list(begin), list(end), list(strides)
    new_after_ellipsis, seen = 0, False
    for i in range(n):
        if seen and _bit(new_axis_mask, i):
            new_after_ellipsis += 1
        seen = seen or _bit(ellipsis_mask, i)
    if not seen:   # an implicit ellipsis at the end keeps the remaining dims whole
        ellipsis_mask |= 1 << n
        begin, end, strides = begin + [0], end + [0], strides + [1]
        n += 1
    rank = len(shape)
    dense: list[tuple] = []
    layout: list[int] = []
    for i in range(n):
        if _bit(ellipsis_mask, i):
            stop = min(rank - (n - i) + 1 + new_after_ellipsis, rank)
            while len(dense) < stop:
                layout.append(len(dense))
                dense.append((0, 0, 1, True, True, False, i))
        elif _bit(new_axis_mask, i):
            layout.append(NEW_AXIS)
        else:
            if len(dense) == rank:
                raise ValueError(f"Index out of range using input dim {len(dense)}; input has only {rank} dims")
            shrink = _bit(shrink_axis_mask, i)
            if not shrink:
                layout.append(len(dense))
            dense.append((begin[i], end[i], strides[i], _bit(begin_mask, i), _bit(end_mask, i), shrink, i))
    dims = tuple(_canonical(shape[d], d, *dense[d]) for d in range(rank))
    return SliceSpec(dims, tuple(layout))


def _canonical(dim, index, b, e, s, b_masked, e_masked, shrink, sparse_index) -> DimSlice:
    if s is None:
        return DimSlice(None, None, 1 if shrink else None, shrink, sparse_index)
    if s == 0:
        raise ValueError(f"strides[{index}] must be non-zero")
    if shrink:
        if s <= 0:
            raise ValueError("only stride 1 allowed on non-range indexing.")
        if b is None or dim is None:
            return DimSlice(None, 1, 1, True, sparse_index)
        forward = b + dim if b < 0 else b
        if not 0 <= forward < dim:
            raise ValueError(f"slice index {b} of dimension {index} out of bounds.")
        return DimSlice(forward, 1, 1, True, sparse_index)
    if dim is None:
        return DimSlice(None, s, None, False, sparse_index)
    lo, hi = (0, dim) if s > 0 else (-1, dim - 1)

    def canonical(x, masked, which):
        if masked:
            return (lo, hi)[which] if s > 0 else (hi, lo)[which]
        if x is None:
            return None
        x = x + dim if x < 0 else x
        return min(max(x, lo), hi)

    start, stop = canonical(b, b_masked, 0), canonical(e, e_masked, 1)
    if start is None or stop is None:
        return DimSlice(start, s, None, False, sparse_index)
    interval = stop - start
    size = 0 if interval == 0 or (interval < 0) != (s < 0) else -(-interval // s)
    return DimSlice(start, s, size, False, sparse_index)


def slice_python_list(values: list, begin, end, strides, **masks) -> list | None:
    """A 1-D strided slice of a Python list (None elements allowed), or None if not a plain 1-D result."""
    spec = strided_slice_spec([len(values)], begin, end, strides, **masks)
    d = spec.dims[0]
    if d.start is None or d.size is None or len(spec.layout) > 1:
        return None
    picked = [values[d.start + k * d.step] for k in range(d.size)]
    return picked if spec.layout else picked[:1]
