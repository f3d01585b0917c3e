"""The gradient of RGBToHSV: TF's _RGBToHSVGrad (tensorflow/python/ops/image_grad.py) term for term, in
frontend ops, so xlite's derivative is TF's at ties and at black pixels too (its indicator masks break ties
R > G > B, and `div_no_nan` makes 0 of each undefined reciprocal)."""
from __future__ import annotations

from xlite.frontend.gradients import grad_rule
from xlite.frontend.join_ops import stack
from xlite.frontend.math_ops import (add, cast, div_no_nan, greater, greater_equal, less, less_equal, logical_and,
                                     square)


def _rcp(x):
    return div_no_nan(cast(1.0, x.dtype), x)


@grad_rule("RGBToHSV")
def _rgb_to_hsv_grad(op, grad):
    x, hsv = op.inputs[0], op.outputs[0]
    r, g, b = x[..., 0], x[..., 1], x[..., 2]
    s, v = hsv[..., 1], hsv[..., 2]
    dtype = x.dtype

    def mask(p, q):
        return cast(logical_and(p, q), dtype)

    def pos(t):
        return cast(greater(t, 0), dtype)
    r_max = mask(greater_equal(r, b), greater_equal(r, g))
    g_max = mask(greater(g, r), greater_equal(g, b))
    b_max = mask(greater(b, r), greater(b, g))
    r_min = mask(less(r, b), less(r, g))
    g_min = mask(less_equal(g, r), less(g, b))
    b_min = mask(less_equal(b, r), less_equal(b, g))

    ds_dr = pos(r) * add(r_max * add(g_min * g, b_min * b) * _rcp(square(r)), r_min * -1 * _rcp(g_max * g + b_max * b))
    ds_dg = pos(g) * add(g_max * add(r_min * r, b_min * b) * _rcp(square(g)), g_min * -1 * _rcp(r_max * r + b_max * b))
    ds_db = pos(b) * add(b_max * add(g_min * g, r_min * r) * _rcp(square(b)), b_min * -1 * _rcp(g_max * g + r_max * r))

    sv = _rcp(square(s)) * _rcp(square(v))
    dh_dr = (60 * (pos(r) * r_max * -1 * (g - b) * sv)
             + 60 * (pos(g) * g_max * r_min * (b - g) * _rcp(square(r - g)))
             + 60 * (pos(g) * g_max * b_min * -1 * _rcp(g - b))
             + 60 * (pos(b) * b_max * r_min * (b - g) * _rcp(square(b - r)))
             + 60 * (pos(b) * b_max * g_min * _rcp(b - g))) / 360
    dh_dg = (60 * (pos(g) * g_max * -1 * (b - r) * sv)
             + 60 * (pos(r) * r_max * g_min * (r - b) * _rcp(square(r - g)))
             + 60 * (pos(r) * r_max * b_min * _rcp(r - b))
             + 60 * (pos(b) * b_max * g_min * (r - b) * _rcp(square(b - g)))
             + 60 * (pos(b) * b_max * r_min * -1 * _rcp(b - r))) / 360
    dh_db = (60 * (pos(b) * b_max * -1 * (r - g) * sv)
             + 60 * (pos(r) * r_max * b_min * (g - r) * _rcp(square(r - b)))
             + 60 * (pos(r) * r_max * g_min * -1 * _rcp(r - g))
             + 60 * (pos(g) * g_max * b_min * (g - r) * _rcp(square(g - b)))
             + 60 * (pos(g) * g_max * r_min * _rcp(g - r))) / 360

    gv, gs, gh = grad[..., 2], grad[..., 1], grad[..., 0]
    dv = stack([gv * r_max, gv * g_max, gv * b_max], axis=-1)
    ds = stack([gs * ds_dr, gs * ds_dg, gs * ds_db], axis=-1)
    dh = stack([gh * dh_dr, gh * dh_dg, gh * dh_db], axis=-1)
    return [add(add(dv, ds), dh)]
