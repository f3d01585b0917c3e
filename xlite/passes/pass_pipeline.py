"""The pass interface and a pipeline that runs passes in order, some to a fixed point.

What passes leave for the backends is explicit data on the Module, or (buffers) a typed
result the compile driver hands codegen in an xlite.ir.compiled.CompiledModule:
- layouts: every array Shape carries a Layout after layout assignment, in every
  computation (module.layouts_assigned = True); entry parameters and
  results, sub-computation parameters and roots, tuple elements and dot/convolution
  operands are row-major; a `bitcast` reinterprets its operand's bytes (a transpose
  whose result took the permuted layout, or a reshape between row-major arrays);
- fusion: `fusion` instructions (attrs kind = "loop" | "input" | "output" | "row"),
  one kernel each, whose `called[0]` computation computes the fused value from its
  parameters; operand k of the fusion is parameter k. "input": the root is a
  reduce/argmax/argmin/reduce_window; "output": a dot or convolution (operands are
  parameters) followed only by same-index elementwise ops up to the root; "row":
  reductions over the minor dims and what reads them back along the rows, computed
  row by row (row_fusion.py states the shape rules). Fused
  computations are registered in module.computations; while bodies and branches
  are fused too; no fusion returns a tuple;
- schedule: the order of `module.entry.instructions` after scheduling;
- buffers: the BufferAssignment that the last buffer-assignment pass made (its
  `assignment`; `run_passes` in pipelines.py returns it), see buffer_assignment.py.
"""
from __future__ import annotations

from typing import Callable, Sequence

from xlite.ir.module import Module


class Pass:
    """A module-to-module transformation; `run` returns whether it changed anything."""

    name = "pass"

    def run(self, module: Module) -> bool:
        raise NotImplementedError


class FixedPoint(Pass):
    """Runs its passes in order, again and again, until none changes the module."""

    def __init__(self, name: str, passes: Sequence[Pass], max_iterations: int = 20):
        self.name = name
        self.passes = list(passes)
        self.max_iterations = max_iterations
        self.verify: Callable[[Module], None] | None = None
        self.dump: Callable[[str, Module], None] | None = None

    def run(self, module: Module) -> bool:
        changed_any = False
        for _ in range(self.max_iterations):
            changed = False
            for p in self.passes:
                if p.run(module):
                    changed = True
                    if self.verify:
                        self.verify(module)
                    if self.dump:
                        self.dump(p.name, module)
            changed_any |= changed
            if not changed:
                break
        return changed_any


class PassPipeline:
    """Passes in order; `verify` runs after every pass that changed the module, `dump` sees each result."""

    def __init__(self, passes: Sequence[Pass], verify: Callable[[Module], None] | None = None,
                 dump: Callable[[str, Module], None] | None = None):
        self.passes = list(passes)
        self.verify = verify
        self.dump = dump

    def run(self, module: Module) -> bool:
        changed_any = False
        for p in self.passes:
            if isinstance(p, FixedPoint):
                p.verify, p.dump = self.verify, self.dump
            changed = p.run(module)
            changed_any |= changed
            if changed and self.verify:
                self.verify(module)
            if self.dump:
                self.dump(p.name, module)
        return changed_any
