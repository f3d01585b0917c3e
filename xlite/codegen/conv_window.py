"""A convolution's attributes as both backends' lowerings read them (cpu/reductions.py's direct loop,
cuda/gemm.py's implicit GEMM): dimension numbers, window steps and feature groups, decoded once."""
from __future__ import annotations

from typing import NamedTuple


class ConvWindow(NamedTuple):
    lhs_spec: tuple         # the input's (batch, feature, spatial...) dims
    rhs_spec: tuple         # the kernel's (output feature, input feature, spatial...) dims
    out_spec: tuple         # the result's (batch, feature, spatial...) dims
    spatial: int            # how many spatial dims
    strides: tuple
    padding: tuple          # (low, high) per spatial dim
    lhs_dilation: tuple
    rhs_dilation: tuple
    groups: int             # feature_group_count
    group_in: int           # input features per group
    group_out: int          # output features per group
    window: list            # the kernel's spatial sizes


def conv_window(inst) -> ConvWindow:
    lhs, rhs = inst.operands
    a = inst.attrs
    rspec = a["rhs_spec"]
    nsp = lhs.shape.rank - 2
    groups = a.get("feature_group_count", 1)
    return ConvWindow(a["lhs_spec"], rspec, a["out_spec"], nsp, a["window_strides"], a["padding"],
                      a.get("lhs_dilation", (1,) * nsp), a.get("rhs_dilation", (1,) * nsp), groups,
                      rhs.shape.dims[rspec[1]], rhs.shape.dims[rspec[0]] // groups,
                      [rhs.shape.dims[rspec[2 + i]] for i in range(nsp)])
