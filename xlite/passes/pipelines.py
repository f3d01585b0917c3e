"""The pass pipelines xlite compiles with, in order; later stages append their passes here."""
from __future__ import annotations

import os

from xlite.passes.algebraic_simplifier import AlgebraicSimplifier
from xlite.passes.buffer_assignment import BufferAssignmentPass
from xlite.passes.constant_folding import ConstantFolding
from xlite.passes.cse import CommonSubexpressionElimination
from xlite.passes.dce import DeadCodeElimination
from xlite.passes.fusion import Fusion
from xlite.passes.layout_assignment import LayoutAssignment
from xlite.passes.pass_pipeline import FixedPoint, PassPipeline
from xlite.passes.row_fusion import RowFusion
from xlite.passes.scheduling import Scheduling


def simplification_pipeline() -> FixedPoint:
    """DCE, CSE, constant folding and algebraic simplification, repeated until nothing changes."""
    return FixedPoint("simplify", [DeadCodeElimination(), CommonSubexpressionElimination(),
                                   ConstantFolding(), AlgebraicSimplifier()])


def cpu_pipeline() -> PassPipeline:
    """Simplification, then layout assignment, fusion, row fusion, scheduling and buffer assignment.

    With XLITE_VERIFY=1 (debug mode; the test suite turns it on) the verifier runs after
    every pass that changed the module."""
    verify = None
    if os.environ.get("XLITE_VERIFY", "") not in ("", "0"):
        from xlite.ir.verifier import verify_module
        verify = verify_module
    return PassPipeline([simplification_pipeline(), LayoutAssignment(), Fusion(), RowFusion(), Scheduling(),
                         BufferAssignmentPass()], verify=verify)
