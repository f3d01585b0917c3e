"""Module -> Program: the CUDA C of every kernel plus the host-side steps that run them in order.

Every instruction of the entry computation, in schedule order, becomes a kernel
launch (one per fusion or non-fused instruction, none for an empty result), a
device-to-device copy (tuple plumbing), or control flow: a `while` is a loop the
executable drives from the host, evaluating the condition computation's kernels
on the device and reading back only the one-byte predicate; a `conditional`
reads back its selector and runs one branch's steps; a collective is a host step (collectives.py).

Buffers come from the CompiledModule's buffer assignment: parameters and aliased updates
live in the parameters' device buffers, other values in one device arena;
values of sub-computations (loop bodies, branches, fusions run op by op) get
arena slices after the assigned ones (the walk that places them is xlite/codegen/walk.py's).
Constants that are not splats are uploaded once per executable.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from xlite import errors
from xlite.codegen.cuda.c_types import literal_bytes
from xlite.codegen.cuda.collectives import host_step, is_host_step
from xlite.codegen.cuda.host_calls import host_call_step, is_host_call
from xlite.codegen.cuda.element_generator import physical_order
from xlite.codegen.cuda.kernels import PLACEHOLDER, build_kernel
from xlite.codegen.cuda.prelude import PRELUDE
from xlite.codegen.cuda.rows import build_row_kernel
from xlite.codegen.cuda.symbolic_sizes import CudaSlotTable, active_slots
from xlite.codegen.walk import ComputationWalker
from xlite.ir.compiled import CompiledModule
from xlite.ir.module import Instruction, Module
from xlite.ir.symbolic import SymbolicUnsupported, align_up, module_symbols, slot_table

ALIGNMENT = 256


def _aligned(n):
    """n bytes rounded up to ALIGNMENT (a symbolic n for every value of its symbols)."""
    return align_up(n, ALIGNMENT)


@dataclass(frozen=True)
class Loc:
    """A device buffer: a parameter's, an arena slice (byte offset), a result's own buffer (its index in
    the root tuple), or an uploaded constant."""
    kind: str          # "param" | "arena" | "output" | "const"
    index: int = 0


@dataclass
class Launch:
    kernel: str
    grid: tuple
    block: tuple
    args: list         # Locs


@dataclass
class Copy:
    dst: Loc
    src: Loc
    nbytes: int


@dataclass
class While:
    cond: list         # steps
    pred: Loc          # pred[] the condition computed
    body: list         # steps, ending with the copies into the loop state


@dataclass
class Branch:
    selector: Loc
    dtype: str         # "pred" | "s32"
    branches: list     # steps per branch


@dataclass
class OutputPlan:
    """How root output i is produced: downloaded from a buffer, a parameter's value before or after the
    run, the updated Variable itself (kept on the device), a constant, or an earlier output."""
    kind: str          # "buffer" | "param" | "param_before" | "param_after" | "const" | "same_as"
    index: int = 0     # parameter number / earlier output
    loc: Loc | None = None
    dtype: str = ""
    dims: tuple = ()
    order: tuple = ()


@dataclass
class Program:
    source: str
    kernels: list = field(default_factory=list)       # kernel names
    steps: list = field(default_factory=list)
    param_specs: list = field(default_factory=list)   # (dtype ir name, dims, physical order)
    outputs: list = field(default_factory=list)
    arena_bytes: int = 0
    constants: list = field(default_factory=list)     # bytes of each uploaded constant, physical order
    output_bytes: dict = field(default_factory=dict)  # output index -> size of its device buffer
    launches: int = 0                                 # kernel launches outside control flow
    slots: list = field(default_factory=list)         # a symbolic program: the size polynomial of each xs[K]


class _ConstRef:
    """A constant whose buffer is made only if something needs it in memory."""

    kind = "const"

    def __init__(self, inst: Instruction):
        self.inst = inst


class ProgramEmitter(ComputationWalker):
    """Builds the Program of one Module: its kernels' CUDA C and the steps that run them."""

    backend = "cuda"
    location = Loc

    def __init__(self, module: Module, assignment, prefix: str = "xk"):
        super().__init__(module, assignment)
        self.prefix = prefix
        self._kernel_names: dict[str, str] = {}
        self._kernel_texts: list[str] = []
        self._constants: dict = {}
        self.constants: list[bytes] = []
        self._steps: list[list] = [[]]
        self.output_bytes: dict[int, int] = {}

    @property
    def steps(self) -> list:
        return self._steps[-1]

    # buffers ------------------------------------------------------------------------------------
    def scratch(self, shape) -> Loc:
        loc = Loc("arena", self.arena_end)
        self.arena_end += _aligned(max(shape.byte_size, 1))
        return loc

    def constant(self, inst: Instruction) -> _ConstRef:
        return _ConstRef(inst)

    def const_loc(self, inst: Instruction) -> Loc:
        """The uploaded buffer of a constant (one per distinct content)."""
        lit = inst.literal
        physical = np.transpose(lit, physical_order(inst.shape)) if lit.ndim else lit
        data = literal_bytes(physical)
        key = (lit.dtype.str, data)
        if key not in self._constants:
            self._constants[key] = len(self.constants)
            self.constants.append(data)
        return Loc("const", self._constants[key])

    def resolve(self, loc):
        if isinstance(loc, _ConstRef):
            return self.const_loc(loc.inst)
        if isinstance(loc, tuple):
            return tuple(self.resolve(e) for e in loc)
        return loc

    def output_loc(self, inst: Instruction, index: int) -> Loc:
        self.output_bytes[index] = max(inst.shape.byte_size, 1)
        return Loc("output", index)

    def emit_copy(self, src: Loc, dst: Loc, shape) -> None:
        if shape.byte_size:
            self.steps.append(Copy(dst, src, shape.byte_size))

    # the program ----------------------------------------------------------------------------------
    def emit(self) -> Program:
        """The Program; a module with symbolic sizes prints them as slots of the run's sizes table."""
        if not module_symbols(self.module):
            return self._emit()
        with slot_table(CudaSlotTable()) as table:
            program = self._emit()
        program.slots = list(table.polys)
        return program

    def _emit(self) -> Program:
        entry = self.module.entry
        params = entry.parameters
        for p in params:
            if p.shape.is_tuple:
                raise errors.unimplemented("tuple-shaped entry parameters are not supported by the cuda backend")
        locs = self.emit_computation(entry, {p: Loc("param", p.attrs["number"]) for p in params})
        program = Program(PRELUDE + "\n" + "\n".join(self._kernel_texts))
        program.kernels = list(self._kernel_names.values())
        program.steps = self._steps[0]
        program.launches = sum(1 for s in program.steps if isinstance(s, Launch))
        program.param_specs = [(p.shape.dtype.ir_name, p.shape.dims, physical_order(p.shape)) for p in params]
        program.outputs = self._plan_outputs(locs)
        program.arena_bytes = _aligned(self.arena_end)
        program.constants = self.constants
        program.output_bytes = dict(self.output_bytes)
        return program

    def _plan_outputs(self, locs: dict) -> list:
        outputs = []
        for kind, index, inst in self.output_sources():
            spec = dict(dtype=inst.shape.dtype.ir_name, dims=inst.shape.dims, order=physical_order(inst.shape))
            if kind == "computed":
                outputs.append(OutputPlan("buffer", loc=self.resolve(locs[inst]), **spec))
            else:
                outputs.append(OutputPlan(kind, index, **spec))
        return outputs

    # kernels ---------------------------------------------------------------------------------------
    def emit_kernel(self, inst: Instruction, locs: dict, out, outputs: list) -> None:
        if active_slots() is not None and (is_host_step(inst.opcode) or is_host_call(inst.opcode)):
            raise SymbolicUnsupported(f"{inst.opcode} (a host step) with symbolic sizes on the cuda target")
        if is_host_step(inst.opcode):
            (operand,) = inst.operands
            self.steps.append(host_step(inst, self.resolve(locs[operand]), outputs[0][0],
                                        physical_order(operand.shape), physical_order(inst.shape)))
            return
        if is_host_call(inst.opcode):
            args = inst.operands[:inst.attrs["args"]]
            self.steps.append(host_call_step(inst, [self.resolve(locs[o]) for o in args], outputs[0][0],
                                             [physical_order(o.shape) for o in args], physical_order(inst.shape)))
            return
        root, inputs = self.kernel_inputs(inst, locs)
        inputs = {o: self.resolve(loc) for o, loc in inputs.items() if o.opcode != "constant"}
        if inst.opcode == "fusion" and inst.attrs["kind"] == "row":
            source = build_row_kernel(root, inputs, outputs, self.const_loc)
        else:
            source = build_kernel(root, inputs, outputs, self.const_loc)
        if source is None:
            if inst.opcode != "fusion":
                raise errors.unimplemented(f"opcode {inst.opcode!r} cannot be compiled by the cuda backend")
            self._emit_fused_op_by_op(inst, locs, out)
            return
        suffix = inst.opcode + (f"_{inst.attrs.get('kind')}" if inst.opcode == "fusion" else "")
        name = self._name_kernel(source.text, suffix)
        self.steps.append(Launch(name, source.grid, source.block, source.args))

    def _emit_fused_op_by_op(self, inst: Instruction, locs: dict, out) -> None:
        """A fusion that one kernel cannot compute: its instructions as kernels of their own."""
        fused = inst.called[0]
        params = {p.attrs["number"]: locs[inst.operands[p.attrs["number"]]] for p in fused.parameters}
        overrides = {} if fused.root.shape.is_tuple else {fused.root: out}
        self.run_computation(fused, params, out, inst.shape, overrides)

    def _name_kernel(self, text: str, suffix: str) -> str:
        name = self._kernel_names.get(text)
        if name is None:
            name = f"{self.prefix}{len(self._kernel_names)}_{suffix}"
            self._kernel_names[text] = name
            self._kernel_texts.append(text.replace(PLACEHOLDER, name))
        return name

    # control flow ------------------------------------------------------------------------------------
    def _nested(self, fn):
        self._steps.append([])
        try:
            value = fn()
        finally:
            steps = self._steps.pop()
        return steps, value

    def emit_while(self, inst: Instruction, init, state) -> None:
        """state = init; while cond(state): state = body(state); the predicate computed on the device."""
        cond, body = inst.called
        self.assign_state(init, state, inst.shape)
        cond_steps, cond_locs = self._nested(lambda: self.emit_computation(cond, {0: state}))
        pred = self.resolve(cond_locs[cond.root])
        body_steps, _ = self._nested(lambda: self.run_computation(body, {0: state}, state, inst.shape))
        self.steps.append(While(cond_steps, pred, body_steps))

    def emit_conditional(self, inst: Instruction, operand_locs: list, out) -> None:
        """A pred picks branch 0 (true) or 1 (false); an s32 index picks that branch, and one out of range
        the last (XLA's default branch)."""
        branches = []
        for k, comp in enumerate(inst.called):
            steps, _ = self._nested(lambda: self.run_computation(comp, {0: operand_locs[1 + k]}, out, inst.shape))
            branches.append(steps)
        selector = inst.operands[0]
        self.steps.append(Branch(self.resolve(operand_locs[0]), selector.shape.dtype.ir_name, branches))


def emit_program(compiled: CompiledModule, prefix: str = "xk") -> Program:
    """The Program of a compiled module (its buffer assignment: see xlite/ir/buffers.py)."""
    return ProgramEmitter(compiled.module, compiled.buffer_assignment, prefix).emit()


__all__ = ["Program", "Loc", "Launch", "Copy", "While", "Branch", "OutputPlan", "emit_program", "ProgramEmitter"]
