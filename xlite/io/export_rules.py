"""xlite's own op types written as TF ops when a graph is exported, so TensorFlow can import it.

xlite's gradients use a few op types TF lacks (SumToShapeOf, BroadcastToShapeOf, BroadcastReduced:
"shape of another tensor" ops whose shapes are only concrete at run time). Exported, each becomes
the TF ops that compute the same (Sum + Reshape to Shape(like), BroadcastTo, Reshape + BroadcastTo
+ a division by the element count), the last of them under the op's own name. That node also
carries `_xlite_op`, `_xlite_input` and `_xlite_attr_*` (TF ignores attrs starting with "_"), and
the helper nodes `_xlite_helper`, so xlite's import rebuilds the original op and skips the helpers:
a round trip through a file gives back the graph xlite built. A rule returns False when the static
shapes do not settle the TF form (then the xlite op is written as it is).
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from xlite.frontend.graph import Operation

EXPORT_RULES: dict[str, Callable] = {}


def rule(op_type: str):
    def register(fn):
        EXPORT_RULES[op_type] = fn
        return fn
    return register


class Emitter:
    """Adds TF nodes for one xlite op: helpers under `op/`, the last one under the op's name."""

    def __init__(self, builder, op: Operation, input_names: list[str]):
        self.builder, self.op, self.inputs = builder, op, input_names

    def helper(self, suffix: str, op_type: str, inputs, **attrs) -> str:
        return self.builder(f"{self.op.name}/{suffix}", op_type, list(inputs), attrs, helper=True)

    def const(self, suffix: str, value) -> str:
        return self.helper(suffix, "Const", [], dtype=_int32(), value=np.asarray(value, dtype=np.int32))

    def shape_of(self, suffix: str, index: int) -> str:
        t = self.op.inputs[index]
        return self.helper(suffix, "Shape", [self.inputs[index]], T=t.dtype, out_type=_int32())

    def final(self, op_type: str, inputs, **attrs) -> str:
        return self.builder(self.op.name, op_type, list(inputs), attrs, helper=False)


def _int32():
    from xlite.ir import dtypes
    return dtypes.int32


@rule("BroadcastToShapeOf")
def _broadcast_to_shape_of(e: Emitter) -> bool:
    x = e.op.inputs[0]
    e.final("BroadcastTo", [e.inputs[0], e.shape_of("Shape", 1)], T=x.dtype, Tidx=_int32())
    return True


@rule("SumToShapeOf")
def _sum_to_shape_of(e: Emitter) -> bool:
    g, like = e.op.inputs
    if g.shape.ndims is None or like.shape.ndims is None or g.shape.ndims < like.shape.ndims:
        return False
    offset = g.shape.ndims - like.shape.ndims
    axes = list(range(offset))
    for i, d in enumerate(like.shape.dims):
        gd = g.shape.dims[i + offset]
        if d == 1 and gd != 1:
            if gd is None:
                return False           # broadcast or not is a run-time fact: TF needs BroadcastGradientArgs
            axes.append(i + offset)
        elif d is None and gd is not None and gd != 1 or d is None and gd is None:
            pass
    summed = e.helper("Sum", "Sum", [e.inputs[0], e.const("axes", axes)], T=g.dtype, Tidx=_int32(),
                      keep_dims=False)
    e.final("Reshape", [summed, e.shape_of("Shape", 1)], T=g.dtype, Tshape=_int32())
    return True


@rule("BroadcastReduced")
def _broadcast_reduced(e: Emitter) -> bool:
    g, x = e.op.inputs[:2]
    rank = x.shape.ndims
    if rank is None:
        return False
    if len(e.op.inputs) > 2:
        axes_value = e.op.inputs[2]._static_value
        if axes_value is None:
            return False
        axes = {int(a) % rank for a in np.ravel(axes_value)} if rank else set()
    else:
        axes = set(range(rank))
    keep = np.array([0 if i in axes else 1 for i in range(rank)], np.int32)
    shape = e.shape_of("Shape", 1)
    kept = e.helper("kept_shape", "AddV2", [e.helper("kept_dims", "Mul", [shape, e.const("keep", keep)], T=_int32()),
                                            e.const("ones", 1 - keep)], T=_int32())
    reshaped = e.helper("Reshape", "Reshape", [e.inputs[0], kept], T=g.dtype, Tshape=_int32())
    if not e.op.attrs["mean"]:
        e.final("BroadcastTo", [reshaped, shape], T=g.dtype, Tidx=_int32())
        return True
    spread = e.helper("BroadcastTo", "BroadcastTo", [reshaped, shape], T=g.dtype, Tidx=_int32())
    sizes = [e.helper(f"Size_{i}", "Size", [e.inputs[i]], T=e.op.inputs[i].dtype, out_type=_int32())
             for i in (1, 0)]
    counts = [e.helper(f"Cast_{i}", "Cast", [s], SrcT=_int32(), DstT=g.dtype, Truncate=False)
              for i, s in enumerate(sizes)]
    count = e.helper("count", "RealDiv", counts, T=g.dtype)
    e.final("RealDiv", [spread, count], T=g.dtype)
    return True


@rule("SparseSoftmaxLabelsInRange")
def _labels_in_range(e: Emitter) -> bool:
    """TF's Identity of the labels (TF's own SparseSoftmaxCrossEntropyWithLogits would check them; the graph
    TF reads computes NaN for a label out of range, as on TF's GPU)."""
    e.final("Identity", [e.inputs[0]], T=e.op.inputs[0].dtype)
    return True
