"""tf.math.cumprod: a running product along one axis, lowered as a log-step (Hillis-Steele) scan of multiplies.

Step k multiplies each element by the one 2**k places before it (1 before the
start), so ceil(log2 n) elementwise steps give every prefix product; IR
reduce_window has no product, which is how tf.cumsum is done.
"""
from __future__ import annotations

from xlite.frontend.gradients import grad_rule
from xlite.frontend.graph import Tensor
from xlite.frontend.math_ops import div_no_nan
from xlite.frontend.reduction_ops import cumsum, scan, scan_lowering

__all__ = ["cumprod"]


def _shift(b, x, axis: int, k: int):
    """x moved k places forward along axis, with ones coming in at the start."""
    rank, n = x.shape.rank, x.shape.dims[axis]
    kept = b.emit("slice", (x,), start_indices=(0,) * rank,
                  limit_indices=tuple(n - k if d == axis else s for d, s in enumerate(x.shape.dims)),
                  strides=(1,) * rank)
    return b.emit("pad", (kept, b.scalar(1, x.dtype)), low=tuple(k if d == axis else 0 for d in range(rank)),
                  high=(0,) * rank, interior=(0,) * rank)


@scan_lowering("Cumprod")
def _lower_cumprod(b, x, axis: int, n: int, exclusive: bool):
    r = _shift(b, x, axis, 1) if exclusive else x
    k = 1
    while k < n:
        r = b.emit("mul", (r, _shift(b, r, axis, k)))
        k *= 2
    return r


def cumprod(x, axis=0, exclusive=False, reverse=False, name=None) -> Tensor:
    """The running product along axis; `exclusive` starts from 1, `reverse` runs from the end."""
    return scan("Cumprod", x, axis, exclusive, reverse, name)


@grad_rule("Cumprod")
def _cumprod_grad(op, g):
    """TF's rule: a reversed cumsum of products over x, divided by x (so 0 where x is 0, as in TF)."""
    x, axis = op.inputs
    exclusive, reverse = op.attrs["exclusive"], op.attrs["reverse"]
    prod = cumprod(x, axis, exclusive=exclusive, reverse=reverse)
    out = cumsum(prod * g, axis, exclusive=exclusive, reverse=not reverse)
    return [div_no_nan(out, x), None]
