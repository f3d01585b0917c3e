"""CudaExecutable: a compiled run signature on the GPU, through pycuda (imported only here).

One device arena per executable (sized by the buffer assignment plus the
scratch of loop bodies and branches), a device buffer per returned value
(computed straight into it, then downloaded), constants uploaded once, one cubin
loaded from the cache or compiled by nvcc for this GPU's compute capability.

Variables stay on the device. An output aliased to a parameter (a Variable's
update) is computed in place into that parameter's device buffer, and run()
returns it as a `DeviceArray`, which the Session keeps as the Variable's value
and passes back as the argument of the next run, of this or any other
executable: no copy crosses PCIe for it until someone asks for its host value
(`np.asarray(device_array)`). A NumPy argument for an updated parameter is
uploaded into a fresh DeviceArray, which becomes the Variable's home. Read-only
parameters (feeds, Variables this run does not assign) go into buffers the
executable owns, and are uploaded again only when the argument is a different
object or a writeable one (the Session's values are read-only private copies).
Fetches are downloaded at the end; nothing else comes back. `run_on_device` is
a run without those downloads (the device work alone, as a benchmark times CuPy).

Steps run on the default stream: kernels launch without a host sync, a while
loop reads its one-byte predicate back each iteration, a conditional its selector. Before every launch
and every loop iteration the host checks the run's stop words (xlite/cancellation.py: a timeout's
RunFlag, Ctrl-C's INTERRUPTED) and ends the run early with its error.
"""
from __future__ import annotations

import threading
from math import prod

import numpy as np

from xlite.cancellation import INTERRUPTED, NEVER, RunFlag, raise_stopped
from xlite.codegen.cuda.collectives import HostCollective, run_host_step
from xlite.codegen.cuda.host_calls import HostCall, run_host_call
from xlite.codegen.cuda.program import Branch, Copy, Launch, Program, While
from xlite.codegen.cuda.symbolic_sizes import at_least_one
from xlite.ir import dtypes
from xlite.ir.module import Module
from xlite.ir.symbolic import check_consistent, evaluate, has_symbolic

LAYOUTS_KEPT = 4        # a symbolic executable keeps the device memory of this many recent sets of sizes

def _permutation(order) -> tuple | None:
    order = tuple(order)
    return None if order == tuple(range(len(order))) else order


class DeviceArray:
    """An array in device memory (a Variable's value between runs); `np.asarray` downloads it."""

    is_device_value = True

    def __init__(self, driver, shape, dtype, order=None):
        self.driver = driver
        self.shape = tuple(shape)
        self.dtype = np.dtype(dtype)
        self.nbytes = int(prod(self.shape)) * self.dtype.itemsize
        self._perm = _permutation(order) if order is not None else None
        self.allocation = driver.mem_alloc(self.nbytes)
        self.ptr = int(self.allocation)
        self._host = None

    @classmethod
    def from_host(cls, driver, array: np.ndarray, order=None) -> "DeviceArray":
        dev = cls(driver, array.shape, array.dtype, order)
        dev.set(array)
        return dev

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return int(prod(self.shape))

    def set(self, array: np.ndarray) -> None:
        physical = array if self._perm is None else array.transpose(self._perm)
        physical = np.ascontiguousarray(physical, dtype=self.dtype)
        if self.nbytes:
            self.driver.memcpy_htod(self.ptr, physical)
        self._host = None

    def invalidate(self) -> None:
        """The device copy is about to change: forget the downloaded one."""
        self._host = None

    def get(self) -> np.ndarray:
        if self._host is None:
            dims = self.shape if self._perm is None else tuple(self.shape[d] for d in self._perm)
            host = np.empty(dims, self.dtype)
            if self.nbytes:
                with self.driver.active():
                    self.driver.memcpy_dtoh(host, self.ptr)
            if self._perm is not None:
                host = np.ascontiguousarray(host.transpose(np.argsort(self._perm)))
            host.flags.writeable = False
            self._host = host
        return self._host

    def __array__(self, dtype=None, copy=None):
        host = self.get()
        if dtype is not None and np.dtype(dtype) != host.dtype:
            return host.astype(dtype)
        return host.copy() if copy else host

    def __repr__(self) -> str:
        return f"DeviceArray({self.get()!r})"


class CudaExecutable:
    """A compiled run signature; `call(args)` takes the parameters in order and returns the root outputs.

    Binding a parameter converts whatever it is given (a DeviceArray, or any value NumPy makes an
    array of), so `run`, for unchecked callers, is `call` itself."""

    target = "cuda"
    compiled = None             # the CompiledModule it came from (compile_cuda sets it)

    def __init__(self, module: Module, program: Program, driver=None):
        from xlite.codegen.cuda.driver import default_driver
        self.driver = drv = driver if driver is not None else default_driver()
        self.module = module
        self.program = program
        self._lock = threading.Lock()
        # sizes from the run's arguments (symbolic_sizes.py); a program without kernels may still have some
        self._symbolic = bool(program.slots) or any(has_symbolic(dims) for _, dims, _ in program.param_specs)
        self._layouts: dict = {}                # symbol values -> (arena, results, sizes table, steps)
        self._env: dict = {}
        with drv.active():
            self._cubin = drv.load_module(program.source)
            self._constants = []
            for data in program.constants:
                self._constants.append(drv.mem_alloc(len(data)))
                if data:
                    drv.memcpy_htod(int(self._constants[-1]), np.frombuffer(data, np.uint8))
        self._const_ptrs = [int(c) for c in self._constants]
        self._functions: dict = {}
        self._specs = [(dtypes.as_dtype(d).np, tuple(dims), _permutation(order))
                       for d, dims, order in program.param_specs]
        self._in_place = {o.index for o in program.outputs if o.kind == "param"}
        self._param_buffers: dict[int, DeviceArray] = {}
        self._uploaded: dict[int, object] = {}
        if not self._symbolic:
            with drv.active():
                self._use_layout(self._layout({}))
        self._pred = np.zeros(1, np.uint8)
        self._selector = np.zeros(1, np.int32)
        root = module.entry.root
        elements = root.operands if root.opcode == "tuple" else [root]
        self._literals = {i: np.asarray(e.literal) for i, e in enumerate(elements) if e.opcode == "constant"}

    # device memory per set of sizes ---------------------------------------------------------------------
    def _layout(self, env: dict) -> tuple:
        """Arena, result buffers, device sizes table and compiled steps for symbol values `env` (the
        program's one layout when it is static)."""
        drv, program = self.driver, self.program
        self._env = env
        self._arena = drv.mem_alloc(evaluate(program.arena_bytes, env))
        self._arena_ptr = int(self._arena)
        self._results = {i: drv.mem_alloc(evaluate(n, env)) for i, n in program.output_bytes.items()}
        self._sizes = None
        if program.slots or env:    # (a symbolic copy step may read the table though no kernel has a slot)
            table = np.array([evaluate(p, env) for p in program.slots] or [0], np.int64)
            self._sizes = drv.mem_alloc(table.nbytes)
            drv.memcpy_htod(int(self._sizes), table)
        return env, self._arena, self._results, self._sizes, self._compile(program.steps)

    def _use_layout(self, layout: tuple) -> None:
        self._env, self._arena, self._results, self._sizes, self._steps = layout
        self._arena_ptr = int(self._arena)

    def _use_sizes(self, args: list) -> None:
        """A symbolic executable: the run's symbol values from its arguments (InvalidArgumentError before
        any kernel runs when they disagree), and the device memory laid out for them."""
        env = check_consistent([dims for _, dims, _ in self._specs], args, lambda n: f"argument {n}")
        key = tuple(sorted(env.items()))
        layout = self._layouts.pop(key, None)
        if layout is None:
            layout = self._layout(env)
            while len(self._layouts) >= LAYOUTS_KEPT:
                self._layouts.pop(next(iter(self._layouts)))
        self._layouts[key] = layout             # most recently used last
        self._use_layout(layout)

    # steps -------------------------------------------------------------------------------------------
    def _where(self, loc):
        """(is a parameter, parameter number or fixed device address)."""
        if loc.kind == "param":
            return True, loc.index
        if loc.kind == "const":
            return False, self._const_ptrs[loc.index]
        if loc.kind == "output":
            return False, int(self._results[loc.index])
        if loc.kind == "sizes":
            return False, int(self._sizes)
        return False, self._arena_ptr + evaluate(loc.index, self._env)

    def _function(self, name: str, nargs: int):
        fn = self._functions.get(name)
        if fn is None:
            fn = self._cubin.get_function(name)
            fn.prepare("P" * nargs)
            self._functions[name] = fn
        return fn

    def _compile(self, steps: list) -> list:
        compiled = []
        for step in steps:
            if isinstance(step, Launch):
                spec = [self._where(loc) for loc in step.args]
                fixed = None if any(p for p, _ in spec) else [v for _, v in spec]
                grid = tuple(at_least_one(g, self._env) for g in step.grid)
                compiled.append((0, self._function(step.kernel, len(spec)), grid, step.block, fixed, spec))
            elif isinstance(step, Copy):
                compiled.append((1, self._where(step.dst), self._where(step.src), evaluate(step.nbytes, self._env)))
            elif isinstance(step, While):
                compiled.append((2, self._compile(step.cond), self._where(step.pred), self._compile(step.body)))
            elif isinstance(step, Branch):
                compiled.append((3, self._where(step.selector), step.dtype,
                                 [self._compile(b) for b in step.branches]))
            elif isinstance(step, HostCollective):
                compiled.append((4, step, self._where(step.src), self._where(step.dst)))
            elif isinstance(step, HostCall):
                compiled.append((5, step, [self._where(s) for s in step.srcs], self._where(step.dst)))
            else:
                raise TypeError(f"unknown step {step!r}")
        return compiled

    def _execute(self, steps: list, ptrs: list, stop: RunFlag = NEVER) -> None:
        drv = self.driver
        for step in steps:
            kind = step[0]
            if stop.word[0] or INTERRUPTED[0]:
                raise_stopped(stop)
            if kind == 0:
                _, fn, grid, block, fixed, spec = step
                args = fixed if fixed is not None else [ptrs[v] if p else v for p, v in spec]
                fn.prepared_call(grid, block, *args)
            elif kind == 1:
                _, (dp, dv), (sp, sv), nbytes = step
                drv.memcpy_dtod(ptrs[dv] if dp else dv, ptrs[sv] if sp else sv, nbytes)
            elif kind == 2:
                _, cond, (pp, pv), body = step
                while True:
                    self._execute(cond, ptrs, stop)
                    drv.memcpy_dtoh(self._pred, ptrs[pv] if pp else pv)
                    if not self._pred[0]:
                        break
                    self._execute(body, ptrs, stop)
            elif kind == 4:
                _, host, (sp, sv), (dp, dv) = step
                run_host_step(host, drv, ptrs[sv] if sp else sv, ptrs[dv] if dp else dv)
            elif kind == 5:
                _, host, srcs, (dp, dv) = step
                run_host_call(host, drv, [ptrs[v] if p else v for p, v in srcs], ptrs[dv] if dp else dv)
            else:
                _, (sp, sv), dtype, branches = step
                buf = self._pred if dtype == "pred" else self._selector
                drv.memcpy_dtoh(buf, ptrs[sv] if sp else sv)
                index = (0 if buf[0] else 1) if dtype == "pred" else int(buf[0])
                self._execute(branches[index if 0 <= index < len(branches) else len(branches) - 1], ptrs, stop)

    # parameters ----------------------------------------------------------------------------------------
    def _bind(self, n: int, arg):
        """The device address of parameter n for this run, and the DeviceArray that holds it."""
        dt, dims, perm = self._specs[n]
        if self._symbolic:
            dims = tuple(evaluate(d, self._env) for d in dims)
        if isinstance(arg, DeviceArray):
            if arg.shape != dims or arg.dtype != dt:
                raise ValueError(f"argument {n} is a device {arg.dtype}{list(arg.shape)}, "
                                 f"the executable expects {dt}{list(dims)}")
            if n in self._in_place:
                arg.invalidate()
            return arg
        host = np.asarray(arg, dtype=dt)
        if host.shape != dims:
            raise ValueError(f"argument {n} has shape {host.shape}, the executable expects {dims}")
        if n in self._in_place:
            return DeviceArray.from_host(self.driver, host, perm)
        buf = self._param_buffers.get(n)
        if buf is None or buf.shape != dims:
            self._uploaded.pop(n, None)
            buf = self._param_buffers[n] = DeviceArray(self.driver, dims, dt, perm)
        same = type(arg) is np.ndarray and not arg.flags.writeable and self._uploaded.get(n) is arg
        if not same:
            buf.set(host)
            self._uploaded[n] = arg if type(arg) is np.ndarray and not arg.flags.writeable else None
        return buf

    def _bind_all(self, args: list) -> list:
        """Every parameter bound for one run (the caller holds the lock and the driver's context)."""
        if len(args) != len(self._specs):
            raise ValueError(f"expected {len(self._specs)} arguments, got {len(args)}")
        if self._symbolic:
            self._use_sizes(args)
        return [self._bind(n, arg) for n, arg in enumerate(args)]

    def run(self, args: list, stop: RunFlag | None = None) -> list:
        """The root outputs for any arguments: `call`, whose binding converts them."""
        return self.call(args, stop)

    def call(self, args: list, stop: RunFlag | None = None) -> list:
        """The root outputs: updated parameters as DeviceArrays, everything else downloaded."""
        drv = self.driver
        with self._lock, drv.active():
            bound = self._bind_all(args)
            ptrs = [b.ptr for b in bound]
            outputs: list = [None] * len(self.program.outputs)
            for i, o in enumerate(self.program.outputs):
                if o.kind == "param_before":
                    arg = args[o.index]
                    outputs[i] = np.array(arg.get() if isinstance(arg, DeviceArray) else arg, copy=True)
            self._execute(self._steps, ptrs, stop or NEVER)
            for i, o in enumerate(self.program.outputs):
                if o.kind == "buffer":
                    outputs[i] = self._download(o, *self._where(o.loc), ptrs)
                elif o.kind == "param":
                    outputs[i] = bound[o.index]
                elif o.kind == "param_after":
                    outputs[i] = self._download(o, True, o.index, ptrs)
                elif o.kind == "const":
                    outputs[i] = self._literals[i].copy()
            for i, o in enumerate(self.program.outputs):
                if o.kind == "same_as":
                    first = outputs[o.index]
                    outputs[i] = np.array(first.get() if isinstance(first, DeviceArray) else first, copy=True)
            drv.synchronize()
        return outputs

    def run_on_device(self, args: list) -> None:
        """`call` without its downloads: the device work of a run, timed as CuPy and JAX are (data on the GPU).

        Arguments bind as in `call`; updated parameters must be DeviceArrays, updated in place."""
        fresh = [n for n in self._in_place if n < len(args) and not isinstance(args[n], DeviceArray)]
        if fresh:
            raise ValueError(f"run_on_device returns nothing: updated parameter(s) {sorted(fresh)} must be "
                             "DeviceArrays (a NumPy value would be uploaded into a copy no one keeps)")
        drv = self.driver
        with self._lock, drv.active():
            bound = self._bind_all(args)
            self._execute(self._steps, [b.ptr for b in bound])
            drv.synchronize()

    def _download(self, o, is_param: bool, where: int, ptrs: list) -> np.ndarray:
        dt = dtypes.as_dtype(o.dtype).np
        perm = _permutation(o.order)
        dims = tuple(evaluate(d, self._env) for d in o.dims)
        dims = dims if perm is None else tuple(dims[d] for d in perm)
        host = np.empty(dims, dt)
        if host.nbytes:
            self.driver.memcpy_dtoh(host, ptrs[where] if is_param else where)
        return host if perm is None else host.transpose(np.argsort(perm))


__all__ = ["CudaExecutable", "DeviceArray"]
