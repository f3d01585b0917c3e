"""The entry function `void xlite_entry(ptr params, ptr results, ptr arena)`: every instruction of the
entry computation in schedule order (module.entry.instructions), one kernel call each, with while and
conditional as control flow in place, so one Session.run is one native call.

Buffers come from the module's buffer assignment (NaiveBufferAssignment's or
the liveness-based one): parameters and aliased updates live in the caller's
arrays (`params[n]`), constants in read-only globals, every other value in the
arena; a value the root returns is computed straight into the caller's result
array (`results[i]`). A bitcast aliases its operand's bytes, a get_tuple_element
copies into its own slice when it has one. Sub-computations (while cond/body,
conditional branches) are emitted inline where they are called; their values get
arena space after the assigned slices, and the temp region that every kernel may
use while it runs (materialized dots, patches, ...) follows those
(`xlite_temp_base`). Kernels whose work is big enough run over threads
(function.parallel_for); XLITE_PROFILE=1 adds a cycle counter per kernel, and a traced executable
(`traced=True`, for RunOptions FULL_TRACE) timestamps every kernel call (trace_ir.py).
"""
from __future__ import annotations

from llvmlite import ir

from xlite.codegen.cpu.buffers import TEMP, Loc
from xlite.codegen.cpu.function import ALIGNMENT, CodegenModule, parallel_for
from xlite.codegen.cpu.ir_array import physical_order
from xlite.codegen.cpu.kernels import build_kernel
from xlite.codegen.cpu.llvm_types import I8, I64, PTR, from_memory, i64, memory_type
from xlite.codegen.cpu.plan import ENTRY_NAME, OBJECT_ENTRY_NAME, EntryPlan, OutputPlan, numpy_data_offset
from xlite.codegen.cpu.trace_ir import CAPACITY, REGION_BYTES, TraceEmitter
from xlite.ir.module import Computation, Instruction, Module
from xlite.ir.shape import leaf_shapes
from xlite.runtime.tracing import kernel_info

# Kernels estimated below this many operations run on one thread (starting one costs ~20-50 us).
PARALLEL_MIN_COST = 1 << 22


def _aligned(n: int) -> int:
    return (n + ALIGNMENT - 1) // ALIGNMENT * ALIGNMENT


def live_instructions(comp: Computation) -> set:
    live, stack = set(), [comp.root]
    while stack:
        inst = stack.pop()
        if inst in live:
            continue
        live.add(inst)
        stack.extend(inst.operands)
    return live


class EntryEmitter:
    """Builds the entry function and the run plan of one Module into a CodegenModule."""

    def __init__(self, cg: CodegenModule, module: Module, assignment, profile: bool = False, threads: int = 1,
                 traced: bool = False):
        self.cg = cg
        self.module = module
        self.assignment = assignment
        self.arena_end = assignment.arena_bytes        # sub-computation buffers go after this
        self.temp_bytes = 0
        self.kernels = 0
        self.plan = EntryPlan()
        self._temp_base = ir.GlobalVariable(cg.module, I64, "xlite_temp_base")
        self._temp_base.global_constant = True
        self._temp_base.linkage = "internal"
        self._overrides: dict = {}
        self.profile = profile              # count cycles per kernel into an arena table (XLITE_PROFILE)
        self.threads = threads              # big one-loop kernels are split over this many threads
        cg.threads = threads
        self._profile_offset = 0
        self.traced = traced                # timestamps around every kernel call (trace_ir.py)

    # buffers --------------------------------------------------------------------------------
    def scratch(self, shape) -> Loc:
        loc = Loc("arena", self.arena_end)
        self.arena_end += _aligned(shape.byte_size)
        return loc

    def const_loc(self, inst: Instruction) -> Loc:
        import numpy as np
        lit = inst.literal
        physical = np.transpose(lit, physical_order(inst.shape)) if lit.ndim else lit
        gv = self.cg.constant_data(physical)
        return Loc("const", 0, gv.name)

    def pointer(self, loc: Loc):
        b = self.fc.builder
        if loc.kind == "param":
            return self._params[loc.index]
        if loc.kind == "result":
            return self._results[loc.index]
        if loc.kind == "const":
            return self.cg.module.get_global(loc.name)
        if loc is TEMP:
            base = b.load(self._temp_base, typ=I64)
            return b.gep(self._arena, [base], inbounds=True, source_etype=I8)
        return self.fc.byte_offset(self._arena, loc.index)

    # the entry function ------------------------------------------------------------------------
    def emit(self) -> EntryPlan:
        module, entry = self.module, self.module.entry
        params = entry.parameters
        self.plan.num_params = len(params)
        self.plan.param_specs = [(p.shape.dtype.ir_name, p.shape.dims, physical_order(p.shape)) for p in params]
        self.fc = self.cg.new_function(ENTRY_NAME, 3, linkage="external")
        self.fc.fn.attributes.add("noinline")
        b = self.fc.builder
        p_params, p_results, self._arena = self.fc.args
        if self.profile:
            self._profile_offset = self.arena_end
            self.arena_end += 8 * 4096
            self.plan.profile_offset = self._profile_offset
        if self.traced:
            self.cg.trace = TraceEmitter(self.cg)
            self.plan.trace_offset = _aligned(self.arena_end)
            self.plan.trace_capacity = CAPACITY
            self.arena_end = self.plan.trace_offset + REGION_BYTES
            self.cg.trace.start_run(b, self.fc.byte_offset(self._arena, self.plan.trace_offset))
        self._params = [b.load(b.gep(p_params, [i64(n)], source_etype=PTR), typ=PTR)
                        for n in range(len(params))]
        outputs = self._plan_outputs()
        n_results = sum(1 for o in self.plan.outputs if o.kind == "result")
        self._results = [b.load(b.gep(p_results, [i64(i)], source_etype=PTR), typ=PTR)
                         for i in range(n_results)]
        locs = {p: Loc("param", p.attrs["number"]) for p in params}
        self._overrides = outputs
        self.emit_computation(entry, locs, overrides=outputs)
        self.fc.finish()
        self._emit_object_entry(len(params), n_results)
        temp_base = _aligned(self.arena_end)
        self._temp_base.initializer = ir.Constant(I64, temp_base)
        self.plan.arena_bytes = temp_base + self.temp_bytes
        return self.plan

    def _emit_object_entry(self, n_params: int, n_results: int) -> None:
        """`xlite_entry_objects(objs, result_objs, arena)`: the same, given NumPy array objects, whose
        data pointers it reads itself (saves the caller a ctypes conversion per array)."""
        offset = numpy_data_offset()
        if offset is None:
            return
        fc = self.cg.new_function(OBJECT_ENTRY_NAME, 3, linkage="external")
        b = fc.builder
        objs, result_objs, arena = fc.args
        arrays = []
        for source, count in ((objs, n_params), (result_objs, n_results)):
            table = fc.alloca(PTR, max(count, 1))
            for i in range(count):
                obj = b.load(b.gep(source, [i64(i)], source_etype=PTR), typ=PTR)
                data = b.load(b.gep(obj, [i64(offset)], source_etype=I8), typ=PTR)
                b.store(data, b.gep(table, [i64(i)], source_etype=PTR))
            arrays.append(table)
        b.call(self.fc.fn, [arrays[0], arrays[1], arena])
        fc.finish()
        self.plan.object_entry = True

    def _plan_outputs(self) -> dict:
        """Root outputs computed straight into result arrays; the rest copied by run()."""
        entry = self.module.entry
        root = entry.root
        aliases = self.module.properties.get("output_aliases", {})
        overrides: dict = {}
        elements = root.operands if root.opcode == "tuple" else [root]
        if root.opcode != "tuple":
            raise NotImplementedError("the cpu backend needs the entry root to be a tuple")
        first: dict = {}
        n_results = 0
        for i, inst in enumerate(elements):
            if inst.shape.is_tuple:
                raise NotImplementedError("nested tuple outputs are not supported by the cpu backend")
            spec = (inst.shape.dtype.ir_name, inst.shape.dims, physical_order(inst.shape))
            if inst in first:
                self.plan.outputs.append(OutputPlan("same_as", first[inst], *spec))
                continue
            first[inst] = i
            slice_ = self.assignment.slices.get(inst)
            if inst.opcode == "constant":
                plan = OutputPlan("const", 0, *spec)
            elif inst.opcode == "parameter":
                plan = OutputPlan("param_before", inst.attrs["number"], *spec)
            elif slice_ is not None and slice_.kind == "parameter":
                in_place = aliases.get(i) == slice_.offset
                plan = OutputPlan("param" if in_place else "param_after", slice_.offset, *spec)
            else:
                plan = OutputPlan("result", n_results, *spec)
                overrides[inst] = Loc("result", n_results)
                n_results += 1
            self.plan.outputs.append(plan)
        return overrides

    def entry_loc(self, inst: Instruction) -> Loc | None:
        s = self.assignment.slices.get(inst)
        if s is None:
            return None
        if s.kind == "parameter":
            return Loc("param", s.offset)
        if s.kind == "constant":
            return self.const_loc(inst)
        if s.kind == "output":              # a root output: _plan_outputs gave it its result array
            return self._overrides.get(inst)
        return Loc("arena", s.offset)

    # computations ------------------------------------------------------------------------------
    def emit_computation(self, comp: Computation, param_locs: dict, overrides: dict | None = None) -> dict:
        """Emits comp's instructions inline; returns inst -> Loc (arrays) or tuple of locs (tuples)."""
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
                locs[inst] = self.const_loc(inst)
                continue
            if op == "tuple":
                locs[inst] = tuple(locs[o] for o in inst.operands)
                continue
            own = overrides.get(inst) or (self.entry_loc(inst) if is_entry else None)
            if op == "bitcast" and not isinstance(locs[inst.operands[0]], tuple) and (
                    own is None or own == locs[inst.operands[0]]):
                locs[inst] = locs[inst.operands[0]]       # the same bytes: nothing to do
                continue
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
        """Buffers for a value with no assigned slice; a tuple-shaped kernel's leaves reuse the slices
        of the get_tuple_elements that read them."""
        if not inst.shape.is_tuple:
            return self.scratch(inst.shape)
        by_index = {}
        if comp is self.module.entry:
            for user in comp.instructions:
                if user.opcode == "get_tuple_element" and user.operands[0] is inst:
                    loc = self._overrides.get(user) or self.entry_loc(user)
                    if loc is not None and loc.kind in ("arena", "result"):
                        by_index.setdefault(user.attrs["index"], loc)
        return self._fresh_tuple(inst.shape, by_index)

    def _fresh_tuple(self, shape, by_index=None):
        if not shape.is_tuple:
            return self.scratch(shape)
        by_index = by_index or {}
        return tuple(by_index.get(i) or self._fresh_tuple(s) for i, s in enumerate(shape.elements))

    def copy(self, src, dst, shape) -> None:
        if src == dst:
            return
        if shape.is_tuple:
            for s, d, e in zip(src, dst, shape.elements):
                self.copy(s, d, e)
            return
        self.fc.memmove(self.pointer(dst), self.pointer(src), shape.byte_size)

    # kernels -----------------------------------------------------------------------------------
    def emit_kernel(self, inst: Instruction, locs: dict, out) -> None:
        shapes = leaf_shapes(inst.shape)
        out_locs = list(out) if inst.shape.is_tuple else [out]
        if any(isinstance(o, tuple) for o in out_locs):
            raise NotImplementedError(f"{inst.opcode}: nested tuple results are not supported by the cpu backend")
        if sum(s.num_elements for s in shapes) == 0:
            return
        if inst.opcode == "fusion":
            fused = inst.called[0]
            inputs = {}
            for p in fused.parameters:
                loc = locs[inst.operands[p.attrs["number"]]]
                if isinstance(loc, tuple):
                    raise NotImplementedError("fusion: tuple-shaped operands are not supported by the cpu backend")
                inputs[p] = loc
            root = fused.root
        else:
            inputs = {}
            for o in inst.operands:
                if isinstance(locs[o], tuple):
                    raise NotImplementedError(f"{inst.opcode}: tuple-shaped operands are not supported by the cpu backend")
                inputs[o] = locs[o]
            root = inst
        name = f"k{self.kernels}_{inst.opcode}" + (f"_{inst.attrs.get('kind')}" if inst.opcode == "fusion" else "")
        self.kernels += 1
        rows = inst.opcode == "fusion" and inst.attrs["kind"] == "row"
        kernel = build_kernel(self.cg, name, root, inputs, list(zip(out_locs, shapes)), rows)
        self.temp_bytes = max(self.temp_bytes, kernel.temp_bytes)
        args = [self.pointer(loc) for loc in kernel.locs]
        b = self.fc.builder
        if self.profile:
            clock = self.cg.intrinsic("llvm.readcyclecounter", I64, [])
            start = b.call(clock, [])
        trace = self.cg.trace
        if trace is not None:
            kernel_id = len(self.plan.trace_kernels)
            self.plan.trace_kernels.append(dict(kernel_info(inst), function=name))
            trace.set_kernel(b, kernel_id)
            began = trace.now(b)
        extent = kernel.split[0] if kernel.split else 0
        if kernel.split and self.threads > 1 and kernel.split[1] >= PARALLEL_MIN_COST and extent > 1:
            parallel_for(self.fc, kernel.fn, args, extent, self.threads)
        else:
            b.call(kernel.fn, args + [i64(0), i64(extent)])
        if trace is not None:
            trace.record(b, kernel_id, began, trace.now(b), 0)
        if self.profile:
            slot = self.fc.byte_offset(self._arena, self._profile_offset + 8 * len(self.plan.kernel_names))
            b.store(b.add(b.load(slot, typ=I64), b.sub(b.call(clock, []), start)), slot)
            self.plan.kernel_names.append(f"{name} {inst.name} {inst.shape}")

    # control flow --------------------------------------------------------------------------------
    def _load_pred(self, loc: Loc, shape):
        b = self.fc.builder
        value = b.load(self.pointer(loc), typ=memory_type(shape.dtype))
        if shape.dtype.is_bool:
            return from_memory(b, value, shape.dtype)
        return value

    def emit_while(self, inst: Instruction, init, state) -> None:
        """state = init; while cond(state): state = body(state); all in generated code."""
        cond, body = inst.called
        fc, b = self.fc, self.fc.builder
        self._assign_state(init, state, inst.shape)
        head, loop, done = fc.block("while.head"), fc.block("while.body"), fc.block("while.done")
        b.branch(head)
        b.position_at_end(head)
        cond_locs = self.emit_computation(cond, {0: state})
        pred = self._load_pred(cond_locs[cond.root], cond.root.shape)
        b.cbranch(pred, loop, done)
        b.position_at_end(loop)
        body_locs = self.emit_computation(body, {0: state})
        self._assign_state(body_locs[body.root], state, inst.shape)
        b.branch(head)
        b.position_at_end(done)

    def _assign_state(self, new, state, shape) -> None:
        """state <- new, staging through fresh buffers any new leaf that lives in another state leaf."""
        new_leaves, state_leaves = _leaves(new), _leaves(state)
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

    def emit_conditional(self, inst: Instruction, operand_locs: list, out) -> None:
        """A pred picks branch 0 (true) or 1 (false); an s32 index picks that branch, and one out of
        range the last (XLA's default branch)."""
        fc, b = self.fc, self.fc.builder
        selector = inst.operands[0]
        value = self._load_pred(operand_locs[0], selector.shape)
        n = len(inst.called)
        if selector.shape.dtype.is_bool:
            value = b.zext(b.not_(value), ir.IntType(32))       # true -> 0, false -> 1
        done = fc.block("cond.done")
        blocks = [fc.block(f"cond.branch{k}.") for k in range(n)]
        switch = b.switch(value, blocks[-1])
        for k, block in enumerate(blocks[:-1]):
            switch.add_case(ir.Constant(value.type, k), block)
        for k, block in enumerate(blocks):
            b.position_at_end(block)
            comp = inst.called[k]
            branch_locs = self.emit_computation(comp, {0: operand_locs[1 + k]})
            self._assign_state(branch_locs[comp.root], out, inst.shape)
            b.branch(done)
        b.position_at_end(done)


def _leaves(loc) -> list:
    if isinstance(loc, tuple):
        return [leaf for e in loc for leaf in _leaves(e)]
    return [loc]


__all__ = ["EntryEmitter", "ENTRY_NAME", "OBJECT_ENTRY_NAME"]
