"""Kernels: one `extern "C" __global__` function per scheduled instruction or fusion.

`build_kernel` picks the kernel's shape from the root of the (fused) computation:
- scatter_add and select_and_scatter: their own kernels (scatter.py);
- a dot or convolution at the root, or under an output fusion's epilogue (reached
  from the root only through same-index elementwise ops): a tiled shared-memory
  GEMM whose epilogue evaluates the root per output element (gemm.py);
- a reduce / argmax / argmin over the operand's minor dimension (or of few outputs): one block (or several) per
  output element, warp shuffles and shared memory (reductions.py);
- everything else: a grid-stride loop over the output's elements, each computed by
  the element generator.
It returns None when the computation holds an op that must be materialized
below the root (the program then runs the fused computation op by op).
"""
from __future__ import annotations

from dataclasses import dataclass
from math import prod
from typing import Callable

from xlite import errors
from xlite.codegen.cuda.c_types import check_dtype, memory_type
from xlite.codegen.cuda.element_generator import Buffer, ElementGenerator, Index, is_elemental, physical_order
from xlite.codegen.cuda.elemental import has_elemental_rule
from xlite.codegen.cuda.index_ops import splat_value
from xlite.codegen.cuda.symbolic_sizes import SIZES_LOC, SIZES_PARAM, active_slots, capped
from xlite.codegen.cuda.writer import Writer
from xlite.codegen.walk import operands_first
from xlite.ir.module import Instruction
from xlite.ir.opcodes import RuleTable
from xlite.ir.symbolic import ceildiv, is_runtime

BLOCK = 256
MAX_BLOCKS = 8192
# Beyond this many elements indices are 64-bit (with room for a grid-stride step past the end).
INT32_LIMIT = (1 << 31) - (1 << 24)
PLACEHOLDER = "XLITE_KERNEL_NAME"


@dataclass
class KernelSource:
    name: str
    text: str            # the kernel's CUDA C, named PLACEHOLDER until the program names it
    args: list           # the Locs of its pointer arguments, in order
    grid: tuple
    block: tuple


_ROOT_RULES = RuleTable()
# kernel_rule registers `fn(kb, leaf, out, target) -> KernelSource` for ops with a kernel of their
# own; `target` is the instruction of that opcode, `leaf` the root the kernel stores to `out`.
kernel_rule = _ROOT_RULES.register


def has_kernel_rule(opcode: str) -> bool:
    return opcode in _ROOT_RULES


CONTRACTIONS = ("dot", "convolution")
ROW_REDUCTIONS = ("reduce", "argmax", "argmin")


class KernelBuilder:
    """Arguments, buffers, index type and body writer of one kernel."""

    def __init__(self, root: Instruction, inputs: dict, outputs: list, constant_loc: Callable):
        self.leaves = list(root.operands) if root.opcode == "tuple" else [root]
        inputs = dict(inputs)
        for inst in operands_first(self.leaves, inputs):
            if inst.opcode == "constant" and splat_value(inst) is None and inst.shape.num_elements:
                inputs[inst] = constant_loc(inst)
        self.members = operands_first(self.leaves, inputs)
        locs, dtypes_of = [], {}
        for inst, loc in inputs.items():
            if loc not in dtypes_of:
                locs.append(loc)
                dtypes_of[loc] = inst.shape.dtype
        input_locs = set(locs)
        for loc, shape in outputs:
            if loc not in dtypes_of:
                locs.append(loc)
                dtypes_of[loc] = shape.dtype
        for inst in self.members:
            for shape in ([inst.shape] if not inst.shape.is_tuple else inst.shape.elements):
                if not shape.is_tuple:
                    check_dtype(shape.dtype, f"{inst.opcode} %{inst.name}")
        for inst, loc in inputs.items():
            check_dtype(inst.shape.dtype, f"{inst.opcode} %{inst.name}")
            if dtypes_of[loc].itemsize != inst.shape.dtype.itemsize or dtypes_of[loc].kind != inst.shape.dtype.kind:
                raise errors.unimplemented("one buffer read as two element types is not supported by the cuda backend")
        out_locs = {loc for loc, _ in outputs}
        self.in_place = bool(out_locs & input_locs)
        self.args = locs
        self.names = {loc: f"b{k}" for k, loc in enumerate(locs)}
        self.params = []
        for loc in locs:
            c_type = memory_type(dtypes_of[loc])
            const = "const " if loc not in out_locs else ""
            restrict = "" if self.in_place else " __restrict__"
            self.params.append(f"{const}{c_type}*{restrict} {self.names[loc]}")
        if active_slots() is not None:      # a symbolic program: sizes from the run's table, 64-bit indices
            self.args = locs + [SIZES_LOC]
            self.params.append(f"const long long* __restrict__ {SIZES_PARAM}")
            self.index_type = "long long"
        else:
            sizes = [s.num_elements for _, s in outputs]
            sizes += [i.shape.num_elements for i in list(inputs) + self.members if not i.shape.is_tuple]
            sizes += [prod(o.shape.dims) for i in self.members for o in i.operands if not o.shape.is_tuple]
            self.index_type = "long long" if max(sizes, default=0) >= INT32_LIMIT else "int"
        self.writer = Writer()
        self.gen = ElementGenerator(self.writer, self.index_type,
                                    {inst: Buffer(self.names[loc], inst.shape) for inst, loc in inputs.items()})
        self.outs = [Buffer(self.names[loc], shape) for loc, shape in outputs]

    @property
    def w(self) -> Writer:
        return self.writer

    def all_elemental(self) -> bool:
        return all(is_elemental(i.opcode) for i in self.members)

    def finish(self, grid: tuple, block: int, header: str = "", prologue: str = "") -> KernelSource:
        """`prologue`: file-scope declarations before the kernel (`__device__` globals named PLACEHOLDER_...)."""
        params = ", ".join(self.params)
        bounds = f"__launch_bounds__({block}) " if block else ""
        text = (prologue + f'extern "C" __global__ void {bounds}{PLACEHOLDER}({params}) {{\n'
                + header + self.writer.text() + "}\n")
        grid = tuple(g if is_runtime(g) else max(1, int(g)) for g in grid) + (1,) * (3 - len(grid))
        return KernelSource(PLACEHOLDER, text, list(self.args), grid, (block, 1, 1))

    def grid_stride(self, n: int, var: str) -> str:
        idx = self.index_type
        return (f"for ({idx} {var} = ({idx})blockIdx.x * ({idx})blockDim.x + ({idx})threadIdx.x; "
                f"{var} < {self.gen.lit(n)}; {var} += ({idx})gridDim.x * ({idx})blockDim.x)")


def loop_grid(n, block: int = BLOCK) -> tuple:
    """Blocks of a grid-stride loop over n elements (n a run-time size: evaluated at launch)."""
    return (capped(ceildiv(n, block), MAX_BLOCKS),)


def build_kernel(root: Instruction, inputs: dict, outputs: list, constant_loc: Callable) -> KernelSource | None:
    """The kernel computing `root` (the leaves of a tuple root in order) into `outputs` [(Loc, Shape)];
    `inputs` maps the instructions whose values are already in buffers to their Locs."""
    kb = KernelBuilder(root, inputs, outputs, constant_loc)
    if len(kb.leaves) == 1:
        leaf = kb.leaves[0]
        if leaf in kb.gen.buffers:
            return emit_loop_kernel(kb)
        if leaf.opcode == "dynamic_update_slice" and inputs.get(leaf.operands[0]) == outputs[0][0]:
            return _ROOT_RULES[leaf.opcode](kb, leaf, kb.outs[0], leaf)     # in place: the window only
        if leaf.opcode in ("scatter_add", "select_and_scatter"):
            if any(not is_elemental(i.opcode) for i in kb.members if i is not leaf):
                return None
            return _ROOT_RULES[leaf.opcode](kb, leaf, kb.outs[0], leaf)
        contraction = epilogue_contraction(leaf, kb.gen.buffers)
        if contraction is not None:
            operand_locs = {inputs.get(o) for o in contraction.operands}
            if any(loc in operand_locs for loc, _ in outputs):
                return None             # written in place over its own operand: stage the dot first
            if all(is_elemental(i.opcode) for i in kb.members if i is not contraction):
                return _ROOT_RULES[contraction.opcode](kb, leaf, kb.outs[0], contraction)
            return None
        if leaf.opcode in ROW_REDUCTIONS and kb.all_elemental():
            rule = _ROOT_RULES.get(leaf.opcode)
            source = rule(kb, leaf, kb.outs[0], leaf) if rule else None
            if source is not None:
                return source
    if not kb.all_elemental():
        return None
    return emit_loop_kernel(kb)


def epilogue_contraction(leaf: Instruction, buffers: dict) -> Instruction | None:
    """The dot/convolution that `leaf` reads only at its own index through elementwise ops, if any."""
    if leaf.opcode in CONTRACTIONS:
        return leaf
    found = []

    def visit(inst, aligned):
        if inst in buffers:
            return
        if inst.opcode in CONTRACTIONS:
            found.append((inst, aligned))
            return
        same = has_elemental_rule(inst.opcode)
        for o in inst.operands:
            visit(o, aligned and same and o.shape.dims == inst.shape.dims)

    visit(leaf, True)
    targets = {id(i): (i, a) for i, a in found}
    if len(targets) != 1:
        return None
    inst, _ = next(iter(targets.values()))
    return inst if all(a for i, a in found) else None


def emit_loop_kernel(kb: KernelBuilder) -> KernelSource:
    """out[i] = element(leaf, i) over each output in its physical order, as grid-stride loops."""
    gen = kb.gen
    groups: dict = {}
    for leaf, out in zip(kb.leaves, kb.outs):
        groups.setdefault((out.shape.dims, physical_order(out.shape)), []).append((leaf, out))
    largest = 0
    for (dims, order), group in groups.items():
        n = prod(dims)
        largest = max(largest, n)
        if n == 0:
            continue
        var = gen.fresh("e")
        with gen.scope(kb.grid_stride(n, var)):
            index = Index(dims, linear=var, order=order, home=kb.w.placeholder())
            for leaf, out in group:
                out.store(gen, index, gen.element(leaf, index))
    return kb.finish(loop_grid(largest), BLOCK)


__all__ = ["build_kernel", "kernel_rule", "has_kernel_rule", "KernelBuilder", "KernelSource", "loop_grid",
           "PLACEHOLDER", "BLOCK", "MAX_BLOCKS"]
