"""tf.roll: elements shifted along axes with wrap-around, as slices of the input concatenated (so it compiles
and differentiates like them); shifts and axes must be known when the graph is built."""
from __future__ import annotations

import numpy as np

from xlite import errors
from xlite.frontend.convert import convert_to_tensor
from xlite.frontend.graph import Tensor
from xlite.frontend.join_ops import concat
from xlite.frontend.math_ops import identity
from xlite.frontend.scopes import name_scope
from xlite.frontend.slicing_ops import slice

__all__ = ["roll"]


def _static_ints(value, what: str) -> np.ndarray:
    t = convert_to_tensor(value)
    known = t._static_value
    if known is None:
        raise errors.unimplemented(f"tf.roll with a {what} known only at run time: xlite builds it from slices")
    return np.atleast_1d(np.asarray(known)).astype(np.int64)


def roll(input, shift, axis, name=None) -> Tensor:  # noqa: A002 - TF's argument name
    """Each element moved `shift` places along `axis` (negative: backwards), those past the end wrapping round."""
    with name_scope(name, "Roll", [input, shift, axis]) as scope:
        x = convert_to_tensor(input, name="input")
        shifts, axes = _static_ints(shift, "shift"), _static_ints(axis, "axis")
        if shifts.shape != axes.shape:
            raise ValueError(f"shift and axis must have the same size, got {shifts.size} and {axes.size}")
        rank = x.shape.ndims
        if rank is None:
            raise errors.unimplemented("tf.roll of a tensor of unknown rank")
        total: dict[int, int] = {}
        for s, a in zip(shifts, axes):
            if not -rank <= a < rank:
                raise ValueError(f"axis {a} is out of range for a tensor of rank {rank}")
            total[int(a) % rank] = total.get(int(a) % rank, 0) + int(s)
        for a, s in total.items():
            n = x.shape.as_list()[a]
            if n is None:
                raise errors.unimplemented(f"tf.roll along dimension {a}, whose size is unknown at graph construction")
            s %= max(n, 1)
            if s:
                begin, tail = [0] * rank, [-1] * rank
                begin[a], tail[a] = n - s, s
                head_begin, head_size = [0] * rank, [-1] * rank
                head_size[a] = n - s
                x = concat([slice(x, begin, tail), slice(x, head_begin, head_size)], a)
        return identity(x, name=scope)
