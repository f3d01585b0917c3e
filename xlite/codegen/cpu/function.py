"""The LLVM module being built and one function in it: intrinsics, constant globals, allocas, loops."""
from __future__ import annotations

import contextlib
import re

import numpy as np
from llvmlite import ir

from xlite.ir.symbolic import ceildiv, is_runtime
from xlite.codegen.cpu.llvm_types import I1, I8, I32, I64, PTR, VOID, i64, literal_bytes

ALIGNMENT = 64


class CodegenModule:
    """One ir.Module per executable, with caches for declarations and constant data."""

    def __init__(self, name: str, triple: str = "", data_layout: str = ""):
        self.module = ir.Module(name=name)
        self.module.triple = triple
        self.module.data_layout = data_layout
        self._names: dict[str, int] = {}
        self._constants: dict[tuple, ir.GlobalVariable] = {}
        self.threads = 1            # how many threads big kernels and gemms may be split over
        self.trace = None           # a trace_ir.TraceEmitter in a traced executable (FULL_TRACE runs)

    def unique_name(self, base: str) -> str:
        base = re.sub(r"[^A-Za-z0-9_.]", "_", base)
        n = self._names.get(base, 0)
        self._names[base] = n + 1
        return base if n == 0 else f"{base}.{n}"

    def declare(self, name: str, ret: ir.Type, args, attrs=()) -> ir.Function:
        """A function declaration (intrinsic, libm, BLAS symbol), created once."""
        try:
            return self.module.get_global(name)
        except KeyError:
            fn = ir.Function(self.module, ir.FunctionType(ret, list(args)), name=name)
            for a in attrs:
                fn.attributes.add(a)
            return fn

    def intrinsic(self, name: str, ret: ir.Type, args) -> ir.Function:
        return self.declare(name, ret, args)

    def constant_data(self, array: np.ndarray) -> ir.GlobalVariable:
        """Read-only global holding a literal's bytes, 64-byte aligned; equal literals share one global."""
        data = literal_bytes(array)
        key = (array.dtype.str, array.shape, bytes(data))
        gv = self._constants.get(key)
        if gv is None:
            ty = ir.ArrayType(I8, max(len(data), 1))
            gv = ir.GlobalVariable(self.module, ty, self.unique_name(f"const{len(self._constants)}"))
            gv.initializer = ir.Constant(ty, data if data else bytearray(1))
            gv.global_constant = True
            gv.linkage = "internal"
            gv.align = ALIGNMENT
            gv.unnamed_addr = True
            self._constants[key] = gv
        return gv

    def new_function(self, name: str, nargs: int, linkage: str = "internal",
                     arg_types=None, ret: ir.Type = VOID, inline: bool = True) -> "FunctionContext":
        """`inline=False` for kernels, their thread runners and split workers: a runner inlined into the
        entry (its call for thread 0) and kept for pthread_create made LLVM optimize each parallel kernel
        twice (#18: the symbolic W3 step's -O3 time 330-440 -> 170-220 ms), for a call per piece."""
        fnty = ir.FunctionType(ret, arg_types or [PTR] * nargs)
        fn = ir.Function(self.module, fnty, name=self.unique_name(name))
        fn.linkage = linkage
        fn.attributes.add("nounwind")
        if not inline:
            fn.attributes.add("noinline")
        return FunctionContext(self, fn)


class FunctionContext:
    """A function under construction: allocas gather in the entry block, code starts in `body`."""

    def __init__(self, cg: CodegenModule, fn: ir.Function):
        self.cg = cg
        self.fn = fn
        self._alloca_block = fn.append_basic_block("allocas")
        self._alloca_builder = ir.IRBuilder(self._alloca_block)
        body = fn.append_basic_block("body")
        self.builder = ir.IRBuilder(body)
        self._body = body
        self._blocks = 0

    @property
    def args(self):
        return self.fn.args

    def alloca(self, ty: ir.Type, count: int | None = None, name: str = "") -> ir.Value:
        return self._alloca_builder.alloca(ty, size=None if count is None else i64(count), name=name)

    def block(self, name: str) -> ir.Block:
        self._blocks += 1
        return self.fn.append_basic_block(f"{name}{self._blocks}")

    def finish(self, value=None) -> None:
        self._alloca_builder.branch(self._body)
        if value is None:
            self.builder.ret_void()
        else:
            self.builder.ret(value)

    # control flow ------------------------------------------------------------------------
    @contextlib.contextmanager
    def for_range(self, n, name: str = "i", start=0):
        """A counted loop [start, n) with the test at the top, so a zero trip count runs nothing."""
        b = self.builder
        n = i64(n) if isinstance(n, int) or is_runtime(n) else n
        start = i64(start) if isinstance(start, int) or is_runtime(start) else start
        pre = b.block
        header, body, done = self.block(name + ".head"), self.block(name + ".body"), self.block(name + ".done")
        b.branch(header)
        b.position_at_end(header)
        iv = b.phi(I64, name=name)
        iv.add_incoming(start, pre)
        b.cbranch(b.icmp_signed("<", iv, n), body, done)
        b.position_at_end(body)
        yield iv
        nxt = b.add(iv, i64(1), flags=["nuw", "nsw"])
        iv.add_incoming(nxt, b.block)
        b.branch(header)
        b.position_at_end(done)

    @contextlib.contextmanager
    def loop_nest(self, dims, name: str = "i"):
        """Nested counted loops over `dims`, outermost first; yields the list of induction variables."""
        with contextlib.ExitStack() as stack:
            ivs = [stack.enter_context(self.for_range(d, f"{name}{k}")) for k, d in enumerate(dims)]
            yield ivs

    @contextlib.contextmanager
    def if_then(self, cond):
        with self.builder.if_then(cond):
            yield

    def memmove(self, dst, src, nbytes: int) -> None:
        if nbytes <= 0:
            return
        fn = self.cg.intrinsic("llvm.memmove.p0.p0.i64", VOID, [PTR, PTR, I64, I1])
        self.builder.call(fn, [dst, src, i64(nbytes), ir.Constant(I1, 0)])

    def memset(self, dst, byte: int, nbytes: int) -> None:
        if nbytes <= 0:
            return
        fn = self.cg.intrinsic("llvm.memset.p0.i64", VOID, [PTR, I8, I64, I1])
        self.builder.call(fn, [dst, ir.Constant(I8, byte), i64(nbytes), ir.Constant(I1, 0)])

    def byte_offset(self, ptr, offset: int):
        if offset == 0:
            return ptr
        return self.builder.gep(ptr, [i64(offset)], inbounds=True, source_etype=I8)


def stop_requested(b: ir.IRBuilder, words: list) -> ir.Value:
    """i1: whether any of the int32 stop `words` (pointers) is nonzero; atomic loads, so no loop
    hoists them (see xlite/cancellation.py)."""
    value = None
    for word in words:
        loaded = b.load_atomic(word, "monotonic", 4, typ=I32)
        value = loaded if value is None else b.or_(value, loaded)
    return b.icmp_unsigned("!=", value, ir.Constant(I32, 0))


# A parallel loop is cut into this many pieces per thread, handed out one at a time: a thread that the
# OS does not schedule (a busy machine) just takes fewer pieces instead of holding everyone up.
PIECES_PER_THREAD = 4


def parallel_for(fc: FunctionContext, worker: ir.Function, args: list, extent: int, threads: int,
                 pieces_per_thread: int = PIECES_PER_THREAD, stop: list = ()) -> None:
    """worker(*args, begin, end[, slot]) over pieces of [0, extent), on this thread and `threads - 1`
    threads started here (pthreads) and joined before returning. Each thread takes the next piece from
    a shared atomic counter until none is left, so the call is never much slower than a serial loop;
    `slot` (when the worker takes it) is the thread's number, for per-thread scratch. `args` are
    pointers, passed to every piece alike. With `stop` (int32 word pointers), no thread takes another
    piece once one of them is set (the caller checks them after the call)."""
    b = fc.builder
    # a run-time extent (xlite/ir/symbolic.py, >= 1): its pieces are sized at run time; a thread may get none
    threads = max(1, threads if is_runtime(extent) else min(threads, extent))
    with_slot = len(worker.args) == len(args) + 3
    if threads == 1:
        b.call(worker, list(args) + [i64(0), i64(extent)] + ([i64(0)] if with_slot else []))
        return
    size = ceildiv(extent, threads * pieces_per_thread)
    runner = _runner(fc.cg, len(args), with_slot, len(stop))
    shared = fc.alloca(I64, _SHARED_HEAD + len(args) + len(stop))
    head = [i64(0), b.ptrtoint(worker, I64), i64(size), i64(ceildiv(extent, size)), i64(extent)]
    for k, value in enumerate(head + [b.ptrtoint(a, I64) for a in list(args) + list(stop)]):
        b.store(value, b.gep(shared, [i64(k)], source_etype=I64) if k else shared)
    create = fc.cg.declare("pthread_create", ir.IntType(32), [PTR, PTR, PTR, PTR])
    join = fc.cg.declare("pthread_join", ir.IntType(32), [I64, PTR])

    def thread_context(slot: int):
        ctx = fc.alloca(I64, 2)
        b.store(b.ptrtoint(shared, I64), ctx)
        b.store(i64(slot), b.gep(ctx, [i64(1)], source_etype=I64))
        return ctx

    started = []
    for slot in range(1, threads):
        tid = fc.alloca(I64)
        started.append((b.call(create, [tid, ir.Constant(PTR, None), runner, thread_context(slot)]), tid))
    b.call(runner, [thread_context(0)])
    for rc, tid in started:
        with b.if_then(b.icmp_signed("==", rc, ir.Constant(ir.IntType(32), 0))):
            b.call(join, [b.load(tid, typ=I64), ir.Constant(PTR, None)])


_SHARED_HEAD = 5     # a parallel_for's shared words before its pointers: see _runner


def _runner(cg: CodegenModule, n_pointers: int, with_slot: bool, n_stop: int = 0) -> ir.Function:
    """`ptr runner(ptr ctx)`, ctx = {shared, slot}, shared = {next piece (atomic), worker, size, pieces,
    extent, pointers..., stop words...}: runs worker's pieces of `size` until all `pieces` are taken or a
    stop word is set. One per worker signature in a module (the worker is called through its pointer):
    each runner costs the cold compile ~5 ms of LLVM time (#18)."""
    runners = cg.__dict__.setdefault("_parallel_runners", {})
    key = (n_pointers, with_slot, n_stop)
    if key in runners:
        return runners[key]
    fc = cg.new_function("parallel_runner", 0, arg_types=[PTR], ret=PTR, inline=False)
    runners[key] = fc.fn
    b = fc.builder
    shared = b.inttoptr(b.load(fc.args[0], typ=I64), PTR)
    slot = b.load(b.gep(fc.args[0], [i64(1)], source_etype=I64), typ=I64)
    words = [b.load(b.gep(shared, [i64(k + 1)], source_etype=I64), typ=I64) for k in range(_SHARED_HEAD - 1)]
    worker_type = ir.FunctionType(VOID, [PTR] * n_pointers + [I64] * (3 if with_slot else 2))
    worker = b.inttoptr(words[0], worker_type.as_pointer())
    size, pieces, extent = words[1:]
    pointers = [b.inttoptr(b.load(b.gep(shared, [i64(k + _SHARED_HEAD)], source_etype=I64), typ=I64), PTR)
                for k in range(n_pointers + n_stop)]
    pointers, stop = pointers[:n_pointers], pointers[n_pointers:]
    head, body, done = fc.block("piece.head"), fc.block("piece.body"), fc.block("piece.done")
    trace = cg.trace
    if trace is not None:           # a traced executable: this thread's span, when it ran any piece
        started, ran = trace.now(b), fc.alloca(I64)
        b.store(i64(0), ran)
    b.branch(head)
    b.position_at_end(head)
    if stop:
        take = fc.block("piece.take")
        b.cbranch(stop_requested(b, stop), done, take)
        b.position_at_end(take)
    piece = b.atomic_rmw("add", shared, i64(1), "seq_cst")
    b.cbranch(b.icmp_signed("<", piece, pieces), body, done)
    b.position_at_end(body)
    begin = b.mul(piece, size)
    end = b.add(begin, size)
    end = b.select(b.icmp_signed(">", end, extent), extent, end)
    b.call(worker, pointers + [begin, end] + ([slot] if with_slot else []))
    if trace is not None:
        b.store(i64(1), ran)
    b.branch(head)
    b.position_at_end(done)
    if trace is not None:           # the calling thread (slot 0) is timed by the kernel's own record
        worked = b.and_(b.icmp_signed("!=", slot, i64(0)), b.icmp_signed("!=", b.load(ran, typ=I64), i64(0)))
        with b.if_then(worked):
            trace.record(b, trace.current_kernel(b), started, trace.now(b), slot)
    fc.finish(ir.Constant(PTR, None))
    return fc.fn
