"""The entry function `void xlite_entry(ptr params, ptr results, ptr arena)`: every instruction of the
entry computation in schedule order (module.entry.instructions), one kernel call each, with while and
conditional as control flow in place, so one Session.run is one native call. An all_reduce_start /
all_reduce_done pair is emitted here itself (collectives.py): MPI_Iallreduce, MPI_Test before each kernel
call while it is in flight, MPI_Wait.

Buffers come from the CompiledModule's buffer assignment (the liveness-based one,
or the naive one for a Module compiled as written): parameters and aliased updates live in the caller's
arrays (`params[n]`), constants in read-only globals, every other value in the
arena; a value the root returns is computed straight into the caller's result
array (`results[i]`). Where each value lives is the shared walk's
(xlite/codegen/walk.py): a bitcast aliases its operand's bytes, a
get_tuple_element copies into its own slice when it has one. Sub-computations
(while cond/body, conditional branches) are emitted inline where they are called;
their values get arena space after the assigned slices, and the temp region that every kernel may
use while it runs (materialized dots, patches, ...) follows those
(`xlite_temp_base`). Kernels whose work is big enough run over threads
(function.parallel_for); XLITE_PROFILE=1 adds a cycle counter per kernel, and a traced executable
(`traced=True`, for RunOptions FULL_TRACE) timestamps every kernel call (trace_ir.py).

A `cancellable` entry (every executable a Session runs; not AOT objects) takes one more parameter
pointer after the parameters, the run's stop word (xlite/cancellation.py), and reads it and the
process's `xlite_interrupted` word (Ctrl-C; a symbol the loader resolves) before every kernel call, at
every while back-edge and between the pieces of a split kernel; it returns 1 as soon as either is
nonzero, 0 when the run completed. The object entry, which only untimed runs use, passes
`xlite_interrupted` as the run's word, so its callers pass nothing more.
"""
from __future__ import annotations

from llvmlite import ir

from xlite import errors
from xlite.codegen.cpu import collectives
from xlite.codegen.cpu.buffers import TEMP, Loc
from xlite.codegen.cpu.function import ALIGNMENT, CodegenModule, parallel_for, stop_requested
from xlite.codegen.cpu.ir_array import physical_order
from xlite.codegen.cpu.kernels import build_kernel
from xlite.codegen.cpu.llvm_types import I8, I32, I64, PTR, VOID, from_memory, i64, memory_type
from xlite.codegen.cpu.plan import (ENTRY_NAME, INTERRUPTED_SYMBOL, OBJECT_ENTRY_NAME, EntryPlan, OutputPlan,
                                    numpy_data_offset)
from xlite.codegen.cpu.trace_ir import CAPACITY, REGION_BYTES, TraceEmitter
from xlite.codegen.walk import ComputationWalker
from xlite.codegen.cpu.symbolic_sizes import sizes_global, temp_offset, use_slots
from xlite.ir.dtypes import uint8
from xlite.ir.module import Instruction, Module
from xlite.ir.shape import Shape
from xlite.ir.symbolic import SlotTable, align_up, is_symbolic, module_symbols, upper_max
from xlite.ir.trace_format import kernel_info

# Kernels estimated below this many operations run on one thread (starting one costs ~20-50 us).
PARALLEL_MIN_COST = 1 << 22


def _aligned(n):
    return align_up(n, ALIGNMENT)


class EntryEmitter(ComputationWalker):
    """Builds the entry function and the run plan of one Module into a CodegenModule."""

    backend = "cpu"
    location = Loc

    def __init__(self, cg: CodegenModule, module: Module, assignment, profile: bool = False, threads: int = 1,
                 traced: bool = False, cancellable: bool = False):
        super().__init__(module, assignment)
        self.cg = cg
        self.temp_bytes = 0
        self.kernels = 0
        self.plan = EntryPlan()
        self._temp_base = ir.GlobalVariable(cg.module, I64, "xlite_temp_base")
        self._temp_base.global_constant = True
        self._temp_base.linkage = "internal"
        self.profile = profile              # count cycles per kernel into an arena table (XLITE_PROFILE)
        self.threads = threads              # big one-loop kernels are split over this many threads
        cg.threads = threads
        self._profile_offset = 0
        self.traced = traced                # timestamps around every kernel call (trace_ir.py)
        self.cancellable = cancellable      # checks the stop words (see the module docstring)
        self._stop_words: list = []
        self._request_slots: dict = {}      # all_reduce_start -> the arena Loc of its MPI requests
        self._in_flight: list = []          # starts emitted whose done is not yet: MPI_Test'ed between kernels
        self._stopped = None                # the block that returns 1
        # run-time sizes (symbolic_sizes.py): the slot table the executable fills, after the stop word
        self.symbolic = bool(module_symbols(module))
        self._prefix = 0                    # symbolic: the arena's profile and trace regions come first
        if self.symbolic:
            use_slots(cg.module, SlotTable())
            self.plan.slots = cg.module.slots.polys
            self._sizes = sizes_global(cg.module)

    # buffers --------------------------------------------------------------------------------
    def scratch(self, shape) -> Loc:
        loc = Loc("arena", self.arena_end)
        self.arena_end += _aligned(shape.byte_size)
        return loc

    def constant(self, inst: Instruction) -> Loc:
        """Constant data in a read-only global, made where the walk meets the constant."""
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
            base = i64(temp_offset()) if self.symbolic else b.load(self._temp_base, typ=I64)
            return b.gep(self._arena, [base], inbounds=True, source_etype=I8)
        return self.fc.byte_offset(self._arena, loc.index + self._prefix)

    def output_loc(self, inst: Instruction, index: int) -> Loc | None:
        return None                         # every computed root output has its result array (_plan_outputs)

    # the entry function ------------------------------------------------------------------------
    def emit(self) -> EntryPlan:
        module, entry = self.module, self.module.entry
        params = entry.parameters
        self.plan.num_params = len(params)
        self.plan.param_specs = [(p.shape.dtype.ir_name, p.shape.dims, physical_order(p.shape)) for p in params]
        self.fc = self.cg.new_function(ENTRY_NAME, 3, linkage="external", ret=I32 if self.cancellable else VOID)
        self.fc.fn.attributes.add("noinline")
        b = self.fc.builder
        p_params, p_results, self._arena = self.fc.args
        values_end = self.arena_end
        if self.symbolic:       # the fixed-size regions first (static offsets), the arena's values after them
            self.arena_end = 0
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
        if self.symbolic:
            self._prefix, self.arena_end = _aligned(self.arena_end), values_end
        if self.symbolic:       # first of all: the table every size is read from (symbolic_sizes.py)
            ab = self.fc._alloca_builder
            ab.store(ab.load(ab.gep(p_params, [i64(len(params) + 1)], source_etype=PTR), typ=PTR), self._sizes)
        self._params = [b.load(b.gep(p_params, [i64(n)], source_etype=PTR), typ=PTR)
                        for n in range(len(params))]
        if self.cancellable:
            self._interrupted = ir.GlobalVariable(self.cg.module, I32, INTERRUPTED_SYMBOL)   # defined elsewhere
            self._stop_words = [b.load(b.gep(p_params, [i64(len(params))], source_etype=PTR), typ=PTR),
                                self._interrupted]
            self.plan.cancellable = True
        self._plan_outputs()
        n_results = sum(1 for o in self.plan.outputs if o.kind == "result")
        self._results = [b.load(b.gep(p_results, [i64(i)], source_etype=PTR), typ=PTR)
                         for i in range(n_results)]
        self.emit_computation(entry, {p: Loc("param", p.attrs["number"]) for p in params})
        self.fc.finish(ir.Constant(I32, 0) if self.cancellable else None)
        self._emit_object_entry(len(params), n_results)
        temp_base = _aligned(self.arena_end) + self._prefix
        self.plan.temp_base = temp_base
        self._temp_base.initializer = ir.Constant(I64, 0 if self.symbolic else temp_base)
        self.plan.arena_bytes = temp_base + self.temp_bytes
        return self.plan

    def _emit_object_entry(self, n_params: int, n_results: int) -> None:
        """`xlite_entry_objects(objs, result_objs, arena)`: the same, given NumPy array objects, whose
        data pointers it reads itself (saves the caller a ctypes conversion per array)."""
        offset = numpy_data_offset()
        if offset is None:
            return
        fc = self.cg.new_function(OBJECT_ENTRY_NAME, 3, linkage="external", ret=self.fc.fn.function_type.return_type)
        b = fc.builder
        objs, result_objs, arena = fc.args
        arrays = []
        for source, count in ((objs, n_params), (result_objs, n_results)):
            table = fc.alloca(PTR, max(count + (source is objs and self.cancellable + self.symbolic), 1))
            for i in range(count):
                obj = b.load(b.gep(source, [i64(i)], source_etype=PTR), typ=PTR)
                data = b.load(b.gep(obj, [i64(offset)], source_etype=I8), typ=PTR)
                b.store(data, b.gep(table, [i64(i)], source_etype=PTR))
            arrays.append(table)
        if self.cancellable:                # the run's stop word: only Ctrl-C stops a run made this way
            b.store(self._interrupted, b.gep(arrays[0], [i64(n_params)], source_etype=PTR))
        if self.symbolic:                   # the slot table (symbolic_sizes.py), an array object after the stop word
            obj = b.load(b.gep(objs, [i64(n_params + 1)], source_etype=PTR), typ=PTR)
            data = b.load(b.gep(obj, [i64(offset)], source_etype=I8), typ=PTR)
            b.store(data, b.gep(arrays[0], [i64(n_params + 1)], source_etype=PTR))
        status = b.call(self.fc.fn, [arrays[0], arrays[1], arena])
        fc.finish(status if self.cancellable else None)
        self.plan.object_entry = True

    def _plan_outputs(self) -> None:
        """Root outputs computed straight into result arrays; the rest copied by run()."""
        if self.module.entry.root.opcode != "tuple":
            raise errors.unimplemented("the cpu backend needs the entry root to be a tuple")
        for kind, index, inst in self.output_sources():
            if kind == "computed":
                kind = "result"
                self.overrides[inst] = Loc("result", index)
            spec = (inst.shape.dtype.ir_name, inst.shape.dims, physical_order(inst.shape))
            self.plan.outputs.append(OutputPlan(kind, index, *spec))

    def emit_copy(self, src: Loc, dst: Loc, shape) -> None:
        self.fc.memmove(self.pointer(dst), self.pointer(src), shape.byte_size)

    # kernels -----------------------------------------------------------------------------------
    def emit_kernel(self, inst: Instruction, locs: dict, out, outputs: list) -> None:
        if inst.opcode in ("all_reduce_start", "all_reduce_done"):
            self._emit_async(inst, locs[inst.operands[0]], out)
            return
        for start in self._in_flight:
            collectives.emit_poke(self.fc, start, self.pointer(self._request_slots[start]))
        root, inputs = self.kernel_inputs(inst, locs)
        name = f"k{self.kernels}_{inst.opcode}" + (f"_{inst.attrs.get('kind')}" if inst.opcode == "fusion" else "")
        self.kernels += 1
        rows = inst.opcode == "fusion" and inst.attrs["kind"] == "row"
        kernel = build_kernel(self.cg, name, root, inputs, outputs, rows)
        self.temp_bytes = upper_max(self.temp_bytes, kernel.temp_bytes)
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
        self._check_stop()
        extent = kernel.split[0] if kernel.split else 0
        if kernel.split and self.threads > 1 and (is_symbolic(kernel.split[1]) or is_symbolic(extent)):
            # run-time sizes (xlite/ir/symbolic.py): split over threads or not at run time
            big = b.and_(b.icmp_signed(">=", i64(kernel.split[1]), i64(PARALLEL_MIN_COST)),
                         b.icmp_signed(">", i64(extent), i64(1)))
            with b.if_else(big) as (split, whole):
                with split:
                    parallel_for(self.fc, kernel.fn, args, extent, self.threads, stop=self._stop_words)
                with whole:
                    b.call(kernel.fn, args + [i64(0), i64(extent)])
        elif kernel.split and self.threads > 1 and kernel.split[1] >= PARALLEL_MIN_COST and extent > 1:
            parallel_for(self.fc, kernel.fn, args, extent, self.threads, stop=self._stop_words)
        else:
            b.call(kernel.fn, args + [i64(0), i64(extent)])
        if trace is not None:
            trace.record(b, kernel_id, began, trace.now(b), 0)
        if self.profile:
            slot = self.fc.byte_offset(self._arena, self._profile_offset + 8 * len(self.plan.kernel_names))
            b.store(b.add(b.load(slot, typ=I64), b.sub(b.call(clock, []), start)), slot)
            self.plan.kernel_names.append(f"{name} {inst.name} {inst.shape}")

    def _emit_async(self, inst: Instruction, src: Loc, out: Loc) -> None:
        """An all_reduce_start or _done in the entry function itself (collectives.py); a start's MPI requests
        live in an arena slot of its own until its done."""
        if physical_order(inst.operands[0].shape) != physical_order(inst.shape):
            raise errors.unimplemented(f"{inst.opcode} {inst.name}: operand and result in different layouts")
        src_ptr = None if self.resolve(src) == self.resolve(out) else self.pointer(src)
        if inst.opcode == "all_reduce_start":
            nbytes = collectives.async_slot_bytes(inst)
            self._request_slots[inst] = slot = self.scratch(Shape(uint8, (nbytes,))) if nbytes else None
            if slot is not None:
                self._in_flight.append(inst)
            collectives.emit_all_reduce_start(self.fc, inst, src_ptr, self.pointer(out),
                                              None if slot is None else self.pointer(slot))
            return
        start = inst.operands[0]
        slot = self._request_slots.get(start)
        if start in self._in_flight:
            self._in_flight.remove(start)
        collectives.emit_all_reduce_done(self.fc, inst, src_ptr, self.pointer(out),
                                         None if slot is None else self.pointer(slot))

    # stopping ------------------------------------------------------------------------------------
    def _check_stop(self) -> None:
        """Returns 1 from the entry if the run's stop word or INTERRUPTED is set (a cancellable entry); not while
        an all-reduce is in flight (a run stopped there would leave MPI writing into the arena)."""
        if not self.cancellable or self._in_flight:
            return
        fc, b = self.fc, self.fc.builder
        if self._stopped is None:
            self._stopped = fc.block("run.stopped")
            ir.IRBuilder(self._stopped).ret(ir.Constant(I32, 1))
        go = fc.block("run.go")
        b.cbranch(stop_requested(b, self._stop_words), self._stopped, go).set_weights([1, 1 << 20])
        b.position_at_end(go)

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
        self.assign_state(init, state, inst.shape)
        head, loop, done = fc.block("while.head"), fc.block("while.body"), fc.block("while.done")
        b.branch(head)
        b.position_at_end(head)
        cond_locs = self.emit_computation(cond, {0: state})
        pred = self._load_pred(cond_locs[cond.root], cond.root.shape)
        b.cbranch(pred, loop, done)
        b.position_at_end(loop)
        self.run_computation(body, {0: state}, state, inst.shape)
        self._check_stop()
        b.branch(head)
        b.position_at_end(done)

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
            self.run_computation(inst.called[k], {0: operand_locs[1 + k]}, out, inst.shape)
            b.branch(done)
        b.position_at_end(done)


__all__ = ["EntryEmitter", "ENTRY_NAME", "OBJECT_ENTRY_NAME"]
