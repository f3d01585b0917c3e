"""Module -> Program: the CUDA C of every kernel plus the host-side steps that run them in order.

Every instruction of the entry computation, in schedule order, becomes a kernel
launch (one per fusion or non-fused instruction, none for an empty result), a
device-to-device copy (tuple plumbing), or control flow: a `while` is a loop the
executable drives from the host, evaluating the condition computation's kernels
on the device and reading back only the one-byte predicate; a `conditional`
reads back its selector and runs one branch's steps.

Buffers come from the module's buffer assignment: parameters and aliased updates
live in the parameters' device buffers, other values in one device arena;
values of sub-computations (loop bodies, branches, fusions run op by op) get
arena slices after the assigned ones. Constants that are not splats are
uploaded once per executable.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from xlite.codegen.cuda.c_types import literal_bytes
from xlite.codegen.cuda.element_generator import physical_order
from xlite.codegen.cuda.kernels import PLACEHOLDER, build_kernel
from xlite.codegen.cuda.prelude import PRELUDE
from xlite.codegen.cuda.rows import build_row_kernel
from xlite.ir.module import Computation, Instruction, Module
from xlite.ir.shape import leaf_shapes

ALIGNMENT = 256


def _aligned(n: int) -> int:
    return (n + ALIGNMENT - 1) // ALIGNMENT * ALIGNMENT


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


class _ConstRef:
    """A constant whose buffer is made only if something needs it in memory."""

    def __init__(self, inst: Instruction):
        self.inst = inst


def live_instructions(comp: Computation) -> set:
    live, stack = set(), [comp.root]
    while stack:
        inst = stack.pop()
        if inst in live:
            continue
        live.add(inst)
        stack.extend(inst.operands)
    return live


class ProgramEmitter:
    def __init__(self, module: Module, assignment, prefix: str = "xk"):
        self.module = module
        self.assignment = assignment
        self.prefix = prefix
        self.arena_end = assignment.arena_bytes
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

    def const_loc(self, inst: Instruction) -> Loc:
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

    def entry_loc(self, inst: Instruction):
        s = self.assignment.slices.get(inst)
        if s is None:
            return None
        if s.kind == "parameter":
            return Loc("param", s.offset)
        if s.kind == "constant":
            return _ConstRef(inst)
        if s.kind == "output":
            self.output_bytes[s.offset] = max(inst.shape.byte_size, 1)
            return Loc("output", s.offset)
        return Loc("arena", s.offset)

    # the program ----------------------------------------------------------------------------------
    def emit(self) -> Program:
        entry = self.module.entry
        params = entry.parameters
        for p in params:
            if p.shape.is_tuple:
                raise NotImplementedError("tuple-shaped entry parameters are not supported by the cuda backend")
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
        root = self.module.entry.root
        aliases = self.module.properties.get("output_aliases", {})
        elements = root.operands if root.opcode == "tuple" else [root]
        outputs, first = [], {}
        for i, inst in enumerate(elements):
            if inst.shape.is_tuple:
                raise NotImplementedError("nested tuple outputs are not supported by the cuda backend")
            spec = dict(dtype=inst.shape.dtype.ir_name, dims=inst.shape.dims, order=physical_order(inst.shape))
            slice_ = self.assignment.slices.get(inst)
            in_place = slice_ is not None and slice_.kind == "parameter" and aliases.get(i) == slice_.offset
            if in_place:                    # the Variable's own buffer, even if the value is also fetched
                outputs.append(OutputPlan("param", slice_.offset, **spec))
                continue
            if inst in first:
                outputs.append(OutputPlan("same_as", first[inst], **spec))
                continue
            first[inst] = i
            if inst.opcode == "constant":
                outputs.append(OutputPlan("const", **spec))
            elif inst.opcode == "parameter":
                outputs.append(OutputPlan("param_before", inst.attrs["number"], **spec))
            elif slice_ is not None and slice_.kind == "parameter":
                outputs.append(OutputPlan("param_after", slice_.offset, **spec))
            else:
                outputs.append(OutputPlan("buffer", loc=self.resolve(locs[inst]), **spec))
        return outputs

    def emit_computation(self, comp: Computation, param_locs: dict, overrides: dict | None = None) -> dict:
        """Appends comp's steps; returns inst -> location (a Loc, a tuple of them, or a constant)."""
        is_entry = comp is self.module.entry
        overrides = overrides or {}
        live = live_instructions(comp)
        locs: dict = {}
        for inst in comp.instructions:
            if inst not in live:
                continue
            op = inst.opcode
            if op == "parameter":
                locs[inst] = param_locs[inst] if inst in param_locs else param_locs[inst.attrs["number"]]
                continue
            if op == "constant":
                locs[inst] = _ConstRef(inst)
                continue
            if op == "tuple":
                locs[inst] = tuple(locs[o] for o in inst.operands)
                continue
            own = overrides.get(inst) or (self.entry_loc(inst) if is_entry else None)
            if isinstance(own, _ConstRef):
                own = None
            if op == "get_tuple_element":
                element = locs[inst.operands[0]][inst.attrs["index"]]
                if own is None or inst.shape.is_tuple:
                    locs[inst] = element
                else:
                    self.copy(element, own, inst.shape)
                    locs[inst] = own
                continue
            out = own if own is not None else self._fresh(inst, comp)
            locs[inst] = out
            if op == "while":
                self.emit_while(inst, locs[inst.operands[0]], out)
            elif op == "conditional":
                self.emit_conditional(inst, [locs[o] for o in inst.operands], out)
            else:
                self.emit_kernel(inst, locs, out)
        return locs

    def _fresh(self, inst: Instruction, comp: Computation):
        """Buffers for a value with no assigned slice; a tuple-shaped value's leaves reuse the slices of
        the get_tuple_elements that read them."""
        if not inst.shape.is_tuple:
            return self.scratch(inst.shape)
        by_index = {}
        if comp is self.module.entry:
            for user in comp.instructions:
                if user.opcode == "get_tuple_element" and user.operands[0] is inst:
                    loc = self.entry_loc(user)
                    if isinstance(loc, Loc) and loc.kind in ("arena", "output"):
                        by_index.setdefault(user.attrs["index"], loc)
        return self._fresh_tuple(inst.shape, by_index)

    def _fresh_tuple(self, shape, by_index=None):
        if not shape.is_tuple:
            return self.scratch(shape)
        by_index = by_index or {}
        return tuple(by_index.get(i) or self._fresh_tuple(s) for i, s in enumerate(shape.elements))

    def copy(self, src, dst, shape) -> None:
        src, dst = self.resolve(src), self.resolve(dst)
        if src == dst:
            return
        if shape.is_tuple:
            for s, d, e in zip(src, dst, shape.elements):
                self.copy(s, d, e)
            return
        if shape.byte_size:
            self.steps.append(Copy(dst, src, shape.byte_size))

    # kernels ---------------------------------------------------------------------------------------
    def emit_kernel(self, inst: Instruction, locs: dict, out) -> None:
        shapes = leaf_shapes(inst.shape)
        out_locs = list(out) if inst.shape.is_tuple else [out]
        if any(isinstance(o, tuple) for o in out_locs):
            raise NotImplementedError(f"{inst.opcode}: nested tuple results are not supported by the cuda backend")
        if sum(s.num_elements for s in shapes) == 0:
            return
        if inst.opcode == "bitcast" and self.resolve(locs[inst.operands[0]]) == out:
            return                      # shares its operand's bytes: nothing to do
        if inst.opcode == "fusion":
            fused = inst.called[0]
            inputs = {p: locs[inst.operands[p.attrs["number"]]] for p in fused.parameters}
            root = fused.root
        else:
            inputs = {o: locs[o] for o in inst.operands if o.opcode != "constant"}
            root = inst
        for operand, loc in list(inputs.items()):
            if isinstance(loc, tuple):
                raise NotImplementedError(f"{inst.opcode}: tuple-shaped operands are not supported by the cuda backend")
            inputs[operand] = self.resolve(loc)
        if inst.opcode == "fusion" and inst.attrs["kind"] == "row":
            source = build_row_kernel(root, inputs, list(zip(out_locs, shapes)), self.const_loc)
        else:
            source = build_kernel(root, inputs, list(zip(out_locs, shapes)), self.const_loc)
        if source is None:
            if inst.opcode != "fusion":
                raise NotImplementedError(f"opcode {inst.opcode!r} cannot be compiled by the cuda backend")
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
        result = self.emit_computation(fused, params, overrides)
        self._assign_state(result[fused.root], out, inst.shape)

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
        self._assign_state(init, state, inst.shape)
        cond_steps, cond_locs = self._nested(lambda: self.emit_computation(cond, {0: state}))
        pred = self.resolve(cond_locs[cond.root])

        def run_body():
            body_locs = self.emit_computation(body, {0: state})
            self._assign_state(body_locs[body.root], state, inst.shape)
        body_steps, _ = self._nested(run_body)
        self.steps.append(While(cond_steps, pred, body_steps))

    def emit_conditional(self, inst: Instruction, operand_locs: list, out) -> None:
        """A pred picks branch 0 (true) or 1 (false); an s32 index picks that branch, and one out of range
        the last (XLA's default branch)."""
        branches = []
        for k, comp in enumerate(inst.called):
            def run_branch(comp=comp, k=k):
                branch_locs = self.emit_computation(comp, {0: operand_locs[1 + k]})
                self._assign_state(branch_locs[comp.root], out, inst.shape)
            steps, _ = self._nested(run_branch)
            branches.append(steps)
        selector = inst.operands[0]
        self.steps.append(Branch(self.resolve(operand_locs[0]), selector.shape.dtype.ir_name, branches))

    def _assign_state(self, new, state, shape) -> None:
        """state <- new, staging through fresh buffers any new leaf that lives in another state leaf."""
        new_leaves, state_leaves = _leaves(self.resolve(new)), _leaves(self.resolve(state))
        shapes = leaf_shapes(shape)
        staged = []
        for loc, target, s in zip(new_leaves, state_leaves, shapes):
            if loc != target and loc in state_leaves:
                tmp = self.scratch(s)
                self.copy(loc, tmp, s)
                loc = tmp
            staged.append(loc)
        for loc, target, s in zip(staged, state_leaves, shapes):
            self.copy(loc, target, s)


def _leaves(loc) -> list:
    if isinstance(loc, tuple):
        return [leaf for e in loc for leaf in _leaves(e)]
    return [loc]


def emit_program(module: Module, prefix: str = "xk") -> Program:
    """The Program of a module that has a buffer assignment (see xlite/passes/buffer_assignment.py)."""
    return ProgramEmitter(module, module.properties["buffer_assignment"], prefix).emit()


__all__ = ["Program", "Loc", "Launch", "Copy", "While", "Branch", "OutputPlan", "emit_program", "ProgramEmitter"]
