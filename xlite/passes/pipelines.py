"""The pass pipelines xlite compiles with, in order; later stages append their passes here.

`run_passes` runs one and returns the buffer assignment it made: the Module changes in place, the
assignment is a result beside it (the compile driver, xlite/runtime/driver.py, pairs the two in a
CompiledModule for the code generators). Outside xlite/passes only the driver runs a pipeline."""
from __future__ import annotations

import os
from typing import Callable

from xlite.ir.buffers import BufferAssignment
from xlite.ir.module import Module
from xlite.passes.algebraic_simplifier import AlgebraicSimplifier
from xlite.passes.all_reduce_combiner import AllReduceCombiner
from xlite.passes.all_reduce_mean import AllReduceMeanToSum
from xlite.passes.async_collectives import AsyncCollectives
from xlite.passes.buffer_assignment import BufferAssignmentPass, BufferPlanner, NaiveBufferAssignment
from xlite.passes.constant_folding import ConstantFolding
from xlite.passes.cse import CommonSubexpressionElimination
from xlite.passes.dce import DeadCodeElimination
from xlite.passes.fusion import Fusion
from xlite.passes.layout_assignment import LayoutAssignment
from xlite.passes.pass_pipeline import FixedPoint, Pass, PassPipeline
from xlite.passes.row_fusion import RowFusion
from xlite.passes.scheduling import Scheduling


def simplification_pipeline() -> FixedPoint:
    """DCE, CSE, constant folding and algebraic simplification, repeated until nothing changes."""
    return FixedPoint("simplify", [DeadCodeElimination(), CommonSubexpressionElimination(),
                                   ConstantFolding(), AlgebraicSimplifier()])


def cpu_passes() -> list[Pass]:
    """Simplification, all-reduce means as sums and divides, tensor fusion of all-reduces and their split into
    start/done pairs, then layout assignment, fusion, row fusion, scheduling and buffer assignment."""
    return [simplification_pipeline(), AllReduceMeanToSum(), AllReduceCombiner(), AsyncCollectives(),
            LayoutAssignment(), Fusion(), RowFusion(), Scheduling(), BufferAssignmentPass()]


def cpu_pipeline() -> PassPipeline:
    """The cpu passes as a pipeline. With XLITE_VERIFY=1 (debug mode; the test suite turns it on)
    the verifier runs after every pass that changed the module."""
    verify = None
    if os.environ.get("XLITE_VERIFY", "") not in ("", "0"):
        from xlite.ir.verifier import verify_module
        verify = verify_module
    return PassPipeline(cpu_passes(), verify=verify)


def naive_pipeline() -> PassPipeline:
    """Only the naive buffer assignment: code for a Module exactly as it is (each value its own buffer)."""
    return PassPipeline([NaiveBufferAssignment()])


# (stage name, the Module after that pass, the buffer assignment made so far or None)
StageHook = Callable[[str, Module, "BufferAssignment | None"], None]


def run_passes(pipeline: PassPipeline, module: Module, stage: StageHook | None = None) -> BufferAssignment | None:
    """Runs `pipeline` on `module` (in place); the buffer assignment its last buffer planner made, or
    None when it has none. `stage`, when given, sees the Module after each pass (dumps)."""
    planners = [p for p in pipeline.passes if isinstance(p, BufferPlanner)]
    for planner in planners:
        planner.assignment = None

    def made() -> BufferAssignment | None:
        return next((p.assignment for p in reversed(planners) if p.assignment is not None), None)

    if stage is not None:
        pipeline.dump = lambda name, m: stage(name, m, made())
    pipeline.run(module)
    return made()
