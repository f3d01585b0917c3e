"""The exported functions of an AOT object, emitted in the LLVM module beside the backend's entry.

    int NAME_run(void **args, void **results, void *scratch)
    const char *NAME_error_message(int code)
    const char NAME_signature_json[]

`NAME_run` checks every pointer it needs (and its alignment) before anything
runs, then calls the backend's `xlite_entry(params, results, arena)` (made
internal here) with the scratch as the arena. It maps the caller's arguments
to the module's parameters and routes each root output: a fetch computed into
the caller's result buffer, a Variable update into the Variable's own argument
(in place when the buffer assignment aliased it; an unread Variable gets the
value computed straight into it); what the CPU executable would copy in Python
(a fetched parameter, a constant, a repeated output) is copied here, staged
through scratch after the arena when a copy before the run would clobber a
value the run still reads. No global is written: everything a call needs
lives in its arguments, its scratch and its stack.
"""
from __future__ import annotations

from llvmlite import ir

from xlite import errors
from xlite.aot import signature as sig_mod
from xlite.aot.signature import Signature
from xlite.codegen.cpu.function import ALIGNMENT, CodegenModule
from xlite.codegen.cpu.llvm_types import I8, I32, I64, PTR, i64
from xlite.ir.module import Module


def _aligned(n: int) -> int:
    return (n + ALIGNMENT - 1) // ALIGNMENT * ALIGNMENT


def _string(cg: CodegenModule, text: str, name: str, linkage: str = "internal") -> ir.GlobalVariable:
    data = bytearray(text.encode()) + b"\0"
    ty = ir.ArrayType(I8, len(data))
    gv = ir.GlobalVariable(cg.module, ty, cg.unique_name(name))
    gv.initializer = ir.Constant(ty, data)
    gv.global_constant = True
    if linkage == "internal":
        gv.linkage = "internal"
        gv.unnamed_addr = True
    return gv


class _Routing:
    """Where each root output's value is after the run, and the copies before and after it."""

    def __init__(self, module: Module, plan, sig: Signature, arena_bytes: int):
        self.param_arg = {a.param: i for i, a in enumerate(sig.args) if a.param is not None}
        dests = {j: ("result", j) for j in range(len(sig.results))}
        for i, a in enumerate(sig.args):
            if a.update is not None:
                dests[a.update] = ("arg", i)
        self.read = {i for i, a in enumerate(sig.args) if a.param is not None}
        self.stage_end = _aligned(arena_bytes)
        self.internal: dict[int, tuple] = {}       # internal result index -> location
        self.pre: list = []                        # (dst, src, bytes) before the run
        self.post: list = []                       # (dst, src, bytes) after the run
        post_args: list = []
        where: dict[int, tuple] = {}
        root = module.entry.root
        for i, out in enumerate(plan.outputs):
            dest = dests.get(i)
            nbytes = root.operands[i].shape.byte_size
            if dest is None:                  # an output nobody asked for (cannot happen: kept for safety)
                dest = self._stage(nbytes)
            writable_early = dest[0] == "result" or (dest[0] == "arg" and dest[1] not in self.read)
            if out.kind == "result":
                loc = dest if writable_early else self._stage(nbytes)
                self.internal[out.index] = loc
            elif out.kind in ("param", "param_after"):
                loc = ("arg", self.param_arg[out.index])
            elif out.kind == "param_before":
                src = ("arg", self.param_arg[out.index])
                loc = src if src == dest else (dest if writable_early else self._stage(nbytes))
                if loc != src:
                    self.pre.append((loc, src, nbytes))
            elif out.kind == "const":
                loc = ("const", i)
            elif out.kind == "same_as":
                loc = where[out.index]
            else:
                raise errors.unimplemented(f"output kind {out.kind!r} in an AOT object")
            where[i] = loc
            if loc != dest:
                (self.post if dest[0] != "arg" else post_args).append((dest, loc, nbytes))
        self.post += post_args                     # fetches first: they may read a Variable's old buffer
        self.scratch_bytes = self.stage_end if self.stage_end > _aligned(arena_bytes) else arena_bytes

    def _stage(self, nbytes: int) -> tuple:
        loc = ("stage", self.stage_end)
        self.stage_end += _aligned(max(nbytes, 1))
        return loc


def emit_exports(cg: CodegenModule, module: Module, plan, sig: Signature, entry_name: str) -> int:
    """Emits NAME_run and NAME_error_message for `plan` (the backend's EntryPlan); returns the scratch
    bytes a call needs (the arena plus any staging). sig.scratch_bytes is set from it."""
    routing = _Routing(module, plan, sig, plan.arena_bytes)
    sig.scratch_bytes = routing.scratch_bytes
    entry = cg.module.get_global(entry_name)
    fc = cg.new_function(f"{sig.name}_run", 3, linkage="external", ret=I32)
    fc.fn.attributes.add("nounwind")
    b = fc.builder
    p_args, p_results, scratch = fc.args

    def fail_if(cond, code: int) -> None:
        bad, ok = fc.block("error"), fc.block("ok")
        b.cbranch(cond, bad, ok)
        b.position_at_end(bad)
        b.ret(ir.Constant(I32, code))
        b.position_at_end(ok)

    def is_null(p):
        return b.icmp_unsigned("==", b.ptrtoint(p, I64), i64(0))

    def misaligned(p, alignment: int):
        return b.icmp_unsigned("!=", b.and_(b.ptrtoint(p, I64), i64(alignment - 1)), i64(0))

    if sig.args:
        fail_if(is_null(p_args), sig_mod.ERROR_NULL_ARGS)
    if sig.results:
        fail_if(is_null(p_results), sig_mod.ERROR_NULL_RESULTS)
    if sig.scratch_bytes > 0:
        fail_if(is_null(scratch), sig_mod.ERROR_NULL_SCRATCH)
        fail_if(misaligned(scratch, sig_mod.SCRATCH_ALIGNMENT), sig_mod.ERROR_SCRATCH_ALIGNMENT)
    args, results = [], []
    for pointers, specs, items, null_base, align_base in (
            (p_args, sig.args, args, sig_mod.ERROR_NULL_ARG_BASE, sig_mod.ERROR_ARG_ALIGNMENT_BASE),
            (p_results, sig.results, results, sig_mod.ERROR_NULL_RESULT_BASE, sig_mod.ERROR_RESULT_ALIGNMENT_BASE)):
        for i, spec in enumerate(specs):
            p = b.load(b.gep(pointers, [i64(i)], source_etype=PTR), typ=PTR)
            if spec.byte_size > 0:
                fail_if(is_null(p), null_base + i)
                if spec.alignment > 1:
                    fail_if(misaligned(p, spec.alignment), align_base + i)
            items.append(p)

    root = module.entry.root

    def pointer(loc):
        kind, index = loc
        if kind == "arg":
            return args[index]
        if kind == "result":
            return results[index]
        if kind == "stage":
            return b.gep(scratch, [i64(index)], source_etype=I8)
        literal = root.operands[index].literal
        return cg.constant_data(literal)

    def copy(dst, src, nbytes: int) -> None:
        if nbytes > 0 and dst != src:
            fc.memmove(pointer(dst), pointer(src), nbytes)

    params = fc.alloca(PTR, max(plan.num_params, 1))
    for n in range(plan.num_params):
        b.store(args[routing.param_arg[n]], b.gep(params, [i64(n)], source_etype=PTR))
    n_internal = sum(1 for o in plan.outputs if o.kind == "result")
    internal = fc.alloca(PTR, max(n_internal, 1))
    for r in range(n_internal):
        b.store(pointer(routing.internal[r]), b.gep(internal, [i64(r)], source_etype=PTR))
    for dst, src, nbytes in routing.pre:
        copy(dst, src, nbytes)
    b.call(entry, [params, internal, scratch])
    for dst, src, nbytes in routing.post:
        copy(dst, src, nbytes)
    fc.finish(ir.Constant(I32, sig_mod.OK))
    _emit_error_message(cg, sig)
    return sig.scratch_bytes


def _emit_error_message(cg: CodegenModule, sig: Signature) -> None:
    """`const char *NAME_error_message(int code)`: a static string for every code NAME_run returns."""
    fc = cg.new_function(f"{sig.name}_error_message", 0, linkage="external", arg_types=[I32], ret=PTR)
    fc.fn.attributes.add("nounwind")
    b = fc.builder
    unknown = fc.block("unknown")
    switch = b.switch(fc.args[0], unknown)
    for code, text in sig.error_messages().items():
        block = fc.block(f"code{code}.")
        switch.add_case(ir.Constant(I32, code), block)
        b.position_at_end(block)
        b.ret(_string(cg, text, f"message{code}"))
    b.position_at_end(unknown)
    fc.finish(_string(cg, "unknown error code", "message_unknown"))


def emit_signature_symbol(cg: CodegenModule, sig: Signature) -> None:
    """`const char NAME_signature_json[]`: the signature for loaders (see signature.py)."""
    _string(cg, sig.to_json(), f"{sig.name}_signature_json", linkage="external")


__all__ = ["emit_exports", "emit_signature_symbol"]
