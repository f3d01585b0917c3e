"""Traced executables (RunOptions trace_level FULL_TRACE): a timestamp before and after every kernel.

Only `compile_cpu(compiled, traced=True)` emits any of this; the executable that untraced runs use has
none of it. The traced entry function reads CLOCK_MONOTONIC (libc `clock_gettime`, a vDSO call of
about 20 ns) around each kernel call in schedule order, while and conditional bodies included, and
appends one record per call to a trace region in the arena:

    offset 0      i64 count        records appended this run (may exceed CAPACITY: the rest dropped)
    offset 64     records          CAPACITY x {i64 kernel, i64 start_ns, i64 end_ns, i64 thread}

`kernel` numbers the kernels in emission order (EntryPlan.trace_kernels describes each), and
`thread` is 0 for the calling thread. A kernel split over threads (function.parallel_for: big loop
kernels, GEMMs, convolutions) also gets one record per worker thread that ran a piece of it, thread
k >= 1 for the k-th worker of that call, spanning that worker's first piece to its last; workers
append concurrently, so the count is bumped atomically. The entry keeps the region's address and the
kernel that is running in two module globals, which the workers read (runs of one executable are
serialized, so one module's globals serve every run).
"""
from __future__ import annotations

import sys

from llvmlite import ir

from xlite.codegen.cpu.llvm_types import I32, I64, PTR, i64

CAPACITY = 1 << 16              # records per run; a long while loop may fill it (the rest are counted)
RECORD_WORDS = 4
HEADER_BYTES = 64
REGION_BYTES = HEADER_BYTES + 8 * RECORD_WORDS * CAPACITY
CLOCK_MONOTONIC = 6 if sys.platform == "darwin" else 1


class TraceEmitter:
    """The LLVM helpers of one traced module: `now()` in ns, and `record(kernel, start, end, thread)`."""

    def __init__(self, cg):
        self.cg = cg
        module = cg.module
        self.region = ir.GlobalVariable(module, PTR, "xlite_trace_region")
        self.region.initializer = ir.Constant(PTR, None)
        self.region.linkage = "internal"
        self.kernel = ir.GlobalVariable(module, I64, "xlite_trace_kernel")
        self.kernel.initializer = i64(0)
        self.kernel.linkage = "internal"
        self.now_fn = self._emit_now()
        self.record_fn = self._emit_record()

    def _emit_now(self) -> ir.Function:
        clock_gettime = self.cg.declare("clock_gettime", I32, [I32, PTR])
        fc = self.cg.new_function("xlite_trace_now", 0, arg_types=[], ret=I64)
        b = fc.builder
        ts = fc.alloca(I64, 2)                    # struct timespec {time_t tv_sec; long tv_nsec}
        b.call(clock_gettime, [ir.Constant(I32, CLOCK_MONOTONIC), ts])
        sec = b.load(ts, typ=I64)
        nsec = b.load(b.gep(ts, [i64(1)], source_etype=I64), typ=I64)
        fc.finish(b.add(b.mul(sec, i64(1_000_000_000)), nsec))
        return fc.fn

    def _emit_record(self) -> ir.Function:
        fc = self.cg.new_function("xlite_trace_record", 0, arg_types=[I64] * 4)
        b = fc.builder
        region = b.load(self.region, typ=PTR)
        n = b.atomic_rmw("add", region, i64(1), "monotonic")
        with b.if_then(b.icmp_signed("<", n, i64(CAPACITY))):
            base = b.gep(region, [b.add(i64(HEADER_BYTES // 8), b.mul(n, i64(RECORD_WORDS)))], source_etype=I64)
            for k, value in enumerate(fc.args):
                b.store(value, b.gep(base, [i64(k)], source_etype=I64))
        fc.finish()
        return fc.fn

    # what the entry function and the thread runners call -----------------------------------------
    def now(self, b: ir.IRBuilder):
        return b.call(self.now_fn, [])

    def start_run(self, b: ir.IRBuilder, region_ptr) -> None:
        """At the top of the entry: where this run's records go, and none yet."""
        b.store(region_ptr, self.region)
        b.store(i64(0), region_ptr)

    def set_kernel(self, b: ir.IRBuilder, kernel: int) -> None:
        b.store(i64(kernel), self.kernel)

    def current_kernel(self, b: ir.IRBuilder):
        return b.load(self.kernel, typ=I64)

    def record(self, b: ir.IRBuilder, kernel, start, end, thread) -> None:
        kernel = i64(kernel) if isinstance(kernel, int) else kernel
        thread = i64(thread) if isinstance(thread, int) else thread
        b.call(self.record_fn, [kernel, start, end, thread])


__all__ = ["TraceEmitter", "CAPACITY", "RECORD_WORDS", "HEADER_BYTES", "REGION_BYTES"]
