"""xlite.aot.compile: a run signature to NAME.o, NAME.h, NAME_example.c and NAME.so (like tfcompile).

The run signature (fetches, feed placeholders with fully known shapes, update
ops) is lowered by the Session's own `lower_run`, optimized by the same compile
driver (xlite/runtime/driver.py, target "aot") and emitted by the same CPU
code generator as `Session.run`, with three differences, all outside the
backend's files:

- variables="freeze": each Variable parameter becomes a constant holding the
  Session's current value before the pipeline runs (so constant folding sees
  the weights); the object's read-only data holds them. variables="args": they
  stay parameters, become arguments, and assignments update them in place.
- the BLAS symbols the backend calls are defined in the module by an emitted
  GEMM (gemm.py), and generated code starts threads only when threads > 1, so
  the object needs libc and libm only (plus libpthread with threads > 1).
- the target machine is position-independent and for the named CPU; the
  exported functions (entry.py) are the only external symbols besides the
  embedded signature JSON.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass

import numpy as np

from xlite import errors
from xlite.aot.signature import MAX_TENSORS, Signature, TensorSpec, assign_c_names, check_name
from xlite.ir.compiled import CompiledModule, TextDump

VARIABLE_MODES = ("freeze", "args")
LIBC_LIBM = frozenset("""
memcpy memmove memset memcmp abort
acos acosf acosh acoshf asin asinf asinh asinhf atan atanf atan2 atan2f atanh atanhf cbrt cbrtf ceil ceilf
copysign copysignf cos cosf cosh coshf erf erff erfc erfcf exp expf exp2 exp2f expm1 expm1f fabs fabsf
floor floorf fma fmaf fmax fmaxf fmin fminf fmod fmodf hypot hypotf ldexp ldexpf lgamma lgammaf log logf
log10 log10f log1p log1pf log2 log2f nearbyint nearbyintf pow powf remainder remainderf rint rintf
round roundf roundeven roundevenf sin sinf sincos sincosf sinh sinhf sqrt sqrtf tan tanf tanh tanhf
trunc truncf lround lroundf llround llroundf lrint lrintf llrint llrintf
""".split())
PTHREAD = frozenset({"pthread_create", "pthread_join"})


@dataclass
class Artifacts:
    """What `compile` wrote, and the signature of the compiled function."""
    signature: Signature
    object_path: str
    header_path: str
    example_path: str
    shared_path: str | None            # None when no C compiler/linker was found
    undefined_symbols: list

    def table(self) -> str:
        return self.signature.table()


# the run signature ------------------------------------------------------------------------------
def _as_list(x) -> list:
    if x is None:
        return []
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _feed_shapes(feeds) -> dict:
    """{placeholder Tensor: dims}: from a dict (shape, or an array whose shape and dtype are the feed's) or
    a list of placeholders whose static shapes are fully known."""
    from xlite.frontend.graph import Tensor
    shapes = {}
    items = feeds.items() if isinstance(feeds, dict) else [(t, None) for t in _as_list(feeds)]
    for t, shape in items:
        if not isinstance(t, Tensor):
            raise TypeError(f"a feed must be a placeholder Tensor, got {t!r}")
        if shape is None:
            if not t.shape.is_fully_defined():
                raise ValueError(f"feed {t.name} has shape {t.shape}: give its full shape "
                                 "(feeds={placeholder: shape})")
            dims = tuple(t.shape.as_list())
        elif isinstance(shape, np.ndarray):
            if shape.dtype != t.dtype.np:
                raise TypeError(f"feed {t.name} is {t.dtype.name}, the example array is {shape.dtype}")
            dims = shape.shape
        else:
            dims = tuple(int(d) for d in shape)
        if not t.shape.is_compatible_with(dims) or any(d < 0 for d in dims):
            raise ValueError(f"shape {list(dims)} does not fit feed {t.name} of shape {t.shape}")
        shapes[t] = tuple(dims)
    return shapes


def _split_fetches(graph, fetches, updates):
    from xlite.frontend.graph import Operation, Tensor
    tensors, ops = [], []
    n_fetches = len(_as_list(fetches))
    for k, f in enumerate(_as_list(fetches) + _as_list(updates)):
        if isinstance(f, str):
            f = graph.as_graph_element(f, allow_tensor=True, allow_operation=True)
        if k >= n_fetches and isinstance(f, Tensor):       # an update given by its tensor (tf.assign's)
            f = f.op
        if isinstance(f, Tensor):
            tensors.append(f)                      # a repeated fetch is a result of its own
        elif isinstance(f, Operation):
            if f not in ops:
                ops.append(f)
        elif hasattr(f, "_as_graph_element"):          # a Variable
            tensors.append(f._as_graph_element())
        else:
            raise TypeError(f"cannot fetch {f!r}: a Tensor, an Operation or its name")
    return tensors, ops


def _variable_value(session, var_op) -> np.ndarray:
    value = getattr(session, "_variables", {}).get(var_op)
    if value is None:
        raise errors.FailedPreconditionError(
            var_op.node_def, var_op, f"Attempting to use uninitialized value {var_op.name} "
                                     "(variables='freeze' takes the Session's current values)")
    return np.asarray(value)


def _freeze(module, lowered, session) -> None:
    """Variable parameters become constants with the Session's values; the others are renumbered."""
    from xlite.ir.dtypes import as_dtype
    params = module.entry.parameters
    kept = []
    for (kind, item), param in zip(lowered.params, params):
        if kind != "variable":
            kept.append(((kind, item), param))
            continue
        value = np.array(_variable_value(session, item), dtype=as_dtype(param.shape.dtype).np, copy=True)
        if value.shape != tuple(param.shape.dims):
            raise errors.InvalidArgumentError(item.node_def, item, f"Variable {item.name} holds shape "
                                              f"{value.shape}, the run reads {list(param.shape.dims)}")
        value.flags.writeable = False
        param.opcode, param.attrs, param.literal = "constant", {}, value
    for n, (_, param) in enumerate(kept):
        param.attrs["number"] = n
    lowered.params = [entry for entry, _ in kept]


def _np_name(dtype) -> str:
    return np.dtype(dtype.np).name


def build_signature(graph, fetches, feeds, session=None, name="model", variables="freeze",
                    updates=(), target_cpu="host", threads=1):
    """(Module, Signature): the lowered run signature, Variables frozen or arguments."""
    from xlite.frontend.lower import lower_run
    if variables not in VARIABLE_MODES:
        raise ValueError(f"variables must be one of {VARIABLE_MODES}, got {variables!r}")
    fetch_tensors, target_ops = _split_fetches(graph, fetches, updates)
    feed_shapes = _feed_shapes(feeds)
    if not fetch_tensors and not target_ops:
        raise ValueError("nothing to compile: give at least one fetch or update op")
    variable_shapes = dict(getattr(session, "_dynamic_shapes", {}) or {})
    lowered = lower_run(graph, fetch_tensors, target_ops, feed_shapes, name=name,
                        variable_shapes=variable_shapes)
    module = lowered.module
    updated = [item for kind, item in lowered.results if kind == "update"]
    if variables == "freeze":
        if updated:
            raise ValueError(f"the run assigns {', '.join(op.name for op in updated)}: frozen Variables are "
                             "constants, so compile a training step with variables='args'")
        if any(kind == "variable" for kind, _ in lowered.params):
            if session is None:
                raise ValueError("variables='freeze' needs the Session whose Variable values to freeze")
            _freeze(module, lowered, session)
    sig = Signature(name, variables, target_cpu, threads)
    params = module.entry.parameters
    root = module.entry.root
    update_of = {item: i for i, (kind, item) in enumerate(lowered.results) if kind == "update"}
    feeds_, vars_, rng = [], [], []
    for (kind, item), param in zip(lowered.params, params):
        number = param.attrs["number"]
        dims = tuple(param.shape.dims)
        if kind == "feed":
            feeds_.append(TensorSpec(item.name, "feed", _np_name(param.shape.dtype), dims, param=number))
        elif kind == "variable":
            vars_.append(TensorSpec(item.name, "variable", _np_name(param.shape.dtype), dims, param=number,
                                    update=update_of.pop(item, None)))
        else:
            rng.append(TensorSpec("rng_counter", "rng_counter", "int64", (), param=number))
    for var_op, i in update_of.items():               # assigned, never read: an argument all the same
        shape = root.operands[i].shape
        vars_.append(TensorSpec(var_op.name, "variable", _np_name(shape.dtype), tuple(shape.dims), update=i))
    sig.args = feeds_ + vars_ + rng
    for j, t in enumerate(fetch_tensors):
        shape = root.operands[j].shape
        sig.results.append(TensorSpec(t.name, "fetch", _np_name(shape.dtype), tuple(shape.dims)))
    if len(sig.args) >= MAX_TENSORS or len(sig.results) >= MAX_TENSORS:
        raise ValueError(f"an AOT object takes fewer than {MAX_TENSORS} arguments and results")
    assign_c_names(sig.args)
    assign_c_names(sig.results)
    return module, sig


# code generation ---------------------------------------------------------------------------------
def target_machine(target_cpu: str = "host"):
    """A position-independent -O3 target machine for `target_cpu` ("host": this machine's CPU and
    features; otherwise an LLVM CPU name such as "x86-64-v3", "skylake-avx512", "znver4")."""
    import llvmlite.binding as llvm
    llvm.initialize_native_target()
    llvm.initialize_native_asmprinter()
    target = llvm.Target.from_default_triple()
    if target_cpu in ("host", "native", ""):
        cpu, features = llvm.get_host_cpu_name(), llvm.get_host_cpu_features().flatten()
    else:
        cpu, features = target_cpu, ""
    return target.create_target_machine(cpu=cpu, features=features, opt=3, reloc="pic", codemodel="default")


def emit_object(compiled: CompiledModule, sig: Signature, dump: TextDump | None = None) -> bytes:
    """The compiled module (a CompiledModule: optimized, buffer-assigned) as one position-independent
    object with NAME_run; `dump(stage, text, extension)` receives its LLVM IR and assembly."""
    import llvmlite.binding as llvm

    from xlite.aot.entry import emit_exports, emit_signature_symbol
    from xlite.aot.gemm import GEMM_STACK_BYTES, define_blas_symbols
    from xlite.codegen.cpu import EntryEmitter
    from xlite.codegen.cpu.plan import ENTRY_NAME, OBJECT_ENTRY_NAME
    from xlite.codegen.cpu.blas import blas_provider
    from xlite.codegen.cpu.compiler import compile_to_object
    from xlite.codegen.cpu.function import CodegenModule
    from xlite.codegen.cpu.ir_array import physical_order
    module = compiled.module
    for inst in list(module.entry.parameters) + list(module.entry.root.operands):
        if physical_order(inst.shape) != tuple(range(inst.shape.rank)):
            raise errors.unimplemented(f"{inst.name}: an AOT argument or result must be row-major")
    tm = target_machine(sig.target_cpu)
    sig.cpu = llvm.get_host_cpu_name() if sig.target_cpu in ("host", "native", "") else sig.target_cpu
    cg = CodegenModule(module.name, llvm.get_process_triple(), str(tm.target_data))
    plan = EntryEmitter(cg, module, compiled.buffer_assignment, profile=False,
                        threads=sig.threads).emit()
    if define_blas_symbols(cg, blas_provider().int_bits):
        sig.stack_bytes = GEMM_STACK_BYTES
    for symbol in (ENTRY_NAME, OBJECT_ENTRY_NAME):
        try:
            cg.module.get_global(symbol).linkage = "internal"
        except KeyError:
            pass
    emit_exports(cg, module, plan, sig, ENTRY_NAME)
    emit_signature_symbol(cg, sig)
    return compile_to_object(str(cg.module), dump=dump, tm=tm)


def check_undefined(obj: bytes, threads: int) -> list:
    """The object's undefined symbols; UnimplementedError if any is not from libc/libm (or pthreads)."""
    from xlite.codegen.cpu.compiler import undefined_symbols
    names = sorted(set(undefined_symbols(obj)))
    allowed = LIBC_LIBM | (PTHREAD if threads > 1 else frozenset())
    extra = [s for s in names if s not in allowed]
    if extra:
        raise errors.unimplemented(f"the AOT object would need {', '.join(extra)}, which libc and libm do not "
                                   "provide")
    return names


# files --------------------------------------------------------------------------------------------
def c_compiler() -> str | None:
    for candidate in (os.environ.get("CC"), "cc", "gcc", "clang"):
        if candidate and shutil.which(candidate.split()[0]):
            return candidate
    return None


def link_shared(object_path: str, shared_path: str, sig: Signature) -> str | None:
    """NAME.so from NAME.o with the system C compiler as linker; None (and a warning) without one."""
    cc = c_compiler()
    if cc is None:
        import warnings
        warnings.warn("xlite.aot: no C compiler found (set CC): NAME.so not written", stacklevel=3)
        return None
    libs = ["-lm"] + (["-lpthread"] if sig.threads > 1 else [])
    cmd = cc.split() + ["-shared", "-o", shared_path, object_path] + libs
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"linking {shared_path} failed: {' '.join(cmd)}\n{proc.stderr}")
    return shared_path


def compile(fetches, feeds=(), session=None, name: str = "model", out_dir: str = ".",
            variables: str = "freeze", target_cpu: str = "host", updates=(), threads: int = 1,
            shared: bool = True, graph=None) -> Artifacts:
    """Compiles one run signature ahead of time into `out_dir`: NAME.o, NAME.h, NAME_example.c, NAME.so.

    fetches: Tensors (results, in order), Operations or names (ops without outputs are update ops to run);
    feeds: placeholders with fully known static shapes, or {placeholder: shape or example array};
    session: whose Variable values variables="freeze" bakes in (default: the default Session);
    variables: "freeze" (constants in the object's read-only data) or "args" (arguments, updated in place);
    target_cpu: "host" or an LLVM CPU name ("x86-64", "x86-64-v3", "znver4", ...);
    updates: further ops to run (e.g. a train op); threads: 1 (libc + libm only) or N (also pthreads).
    """
    from xlite.aot.header import example_source, header_source
    from xlite.frontend.default_session import get_default_session
    from xlite.frontend.graph import get_default_graph
    from xlite.runtime import driver
    check_name(name)
    threads = max(1, int(threads))
    if session is None:
        session = get_default_session()
    if graph is None:
        first = next((f for f in _as_list(fetches) + _as_list(updates) if not isinstance(f, str)), None)
        graph = getattr(first, "graph", None) or (session.graph if session is not None else get_default_graph())
    module, sig = build_signature(graph, fetches, feeds, session, name, variables, updates, target_cpu, threads)
    options = driver.CompileOptions(emit_object=lambda compiled, dump: emit_object(compiled, sig, dump))
    obj = driver.compile(module, "aot", options).obj
    undefined = check_undefined(obj, threads)
    os.makedirs(out_dir, exist_ok=True)
    paths = {k: os.path.join(out_dir, name + suffix) for k, suffix in
             (("o", ".o"), ("h", ".h"), ("c", "_example.c"), ("so", ".so"))}
    with open(paths["o"], "wb") as f:
        f.write(obj)
    with open(paths["h"], "w") as f:
        f.write(header_source(sig))
    with open(paths["c"], "w") as f:
        f.write(example_source(sig))
    shared_path = link_shared(paths["o"], paths["so"], sig) if shared else None
    return Artifacts(sig, paths["o"], paths["h"], paths["c"], shared_path, undefined)


__all__ = ["compile", "build_signature", "emit_object", "target_machine", "Artifacts", "VARIABLE_MODES"]
