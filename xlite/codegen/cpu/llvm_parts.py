"""An executable's LLVM IR made cheaper to optimize: identical functions merged, the rest cut into parts
that LLVM's optimizer runs on at once, one thread each, before they are linked back for code generation.

Most of a cold compile is LLVM optimizing the kernels (W6: ~60% of the first step), and kernels are
independent functions that the entry calls. `merge_identical` keeps one of each set of functions whose
text is the same but for their names (a bias gradient's column sum or an optimizer's update for two
layers of one width). `split` groups the functions that call one another and deals the groups out to
parts, each a complete module (other parts' functions declared, shared constants copied);
`optimize_in_parts` optimizes the parts concurrently, each in its own LLVM context with its own target
machine, and links them into one module. llvmlite serializes every call into LLVM behind one lock, so
the long-running pass pipeline is called without it (the rest keeps the lock); where that call is not
found (another llvmlite) the parts run one after another, which is correct, only slower.

Parts run with the kernels they call declared, not defined, so LLVM cannot inline a kernel into the
entry across parts: a call per kernel, as a kernel split over threads has anyway.
"""
from __future__ import annotations

import re
import threading

import llvmlite.binding as llvm

_DEFINE = re.compile(r'^define (internal |external )?([^@]*)@"([^"]+)"\((.*)\)(.*)$')
_REFERENCE = re.compile(r'@"([^"]+)"')
_MUTABLE = re.compile(r'^@"([^"]+)" = internal global (ptr|i\d+|float|double) ')
ENTRY_PREFIX = "xlite_entry"
MIN_PART_LINES = 400         # a part smaller than this does not pay for its thread and its own parse


class _Function:
    __slots__ = ("name", "linkage", "define", "body")

    def __init__(self, name: str, linkage: str, define: str, body: list[str]):
        self.name, self.linkage, self.define, self.body = name, linkage, define, body

    def declaration(self) -> str:
        """`declare` of this function: its return type and argument types, without attributes."""
        m = _DEFINE.match(self.define)
        types = [a.strip().split(" ")[0] for a in m.group(4).split(",")] if m.group(4).strip() else []
        return f'declare {m.group(2)}@"{self.name}"({", ".join(types)})'


class _Text:
    """llvmlite's printed module: header lines, top-level lines (globals, declarations), functions, metadata."""

    def __init__(self, text: str):
        self.head, self.tops, self.meta, self.functions = [], [], [], {}
        lines = text.split("\n")
        i = 0
        while i < len(lines):
            line = lines[i]
            m = _DEFINE.match(line)
            if m:
                end = lines.index("}", i)
                fn = _Function(m.group(3), (m.group(1) or "").strip(), line, lines[i + 1:end + 1])
                self.functions[fn.name] = fn
                i = end + 1
                continue
            if line.startswith(("; ModuleID", "target ")):
                self.head.append(line)
            elif line.startswith("!"):
                self.meta.append(line)
            elif line.strip():
                self.tops.append(line)
            i += 1

    def splittable(self) -> bool:
        """Whether every top-level line is a declaration, a constant or external global (copies of it in
        several parts mean the same) or a mutable internal global of a type this module can declare."""
        return all(t.startswith("declare ") or (t.startswith("@") and (" constant " in t or " external global " in t))
                   or _MUTABLE.match(t) for t in self.tops)

    def text(self, defined, exported=(), owner: bool = True) -> str:
        """A module defining the functions named in `defined` (`exported` ones visible to other modules)
        and declaring the rest; mutable globals are defined (visible to the others) in the `owner` part
        only, and declared external in every other."""
        out = list(self.head)
        for top in self.tops:
            m = _MUTABLE.match(top)
            if m is None:
                out.append(top)
            elif owner:
                out.append(top.replace(" = internal global ", " = global ", 1))
            else:
                out.append(f'@"{m.group(1)}" = external global {m.group(2)}')
        for fn in self.functions.values():
            if fn.name in defined:
                define = fn.define
                if fn.name in exported:
                    define = define.replace("define internal ", "define ", 1)
                out.append(define)
                out.extend(fn.body)
            else:
                out.append(fn.declaration())
        return "\n".join(out + self.meta) + "\n"


def _references(fn: _Function) -> set[str]:
    return set(_REFERENCE.findall("\n".join(fn.body)))


def merge_identical(text: str) -> str:
    """`text` with each internal function whose body equals an earlier one's (names aside) removed and every
    reference to it pointing at the earlier one; repeated until no two are alike."""
    while True:
        parsed = _Text(text)
        seen: dict[tuple, str] = {}
        renames: dict[str, str] = {}
        for fn in parsed.functions.values():
            if fn.linkage != "internal":
                continue
            quoted = f'@"{fn.name}"'
            key = (fn.define.replace(quoted, "@F", 1), "\n".join(fn.body).replace(quoted, "@F"))
            if key in seen:
                renames[fn.name] = seen[key]
            else:
                seen[key] = fn.name
        if not renames:
            return text
        kept = [n for n in parsed.functions if n not in renames]
        lines = parsed.head + parsed.tops
        for name in kept:
            fn = parsed.functions[name]
            lines.append(fn.define)
            lines.extend(fn.body)
        merged = "\n".join(lines + parsed.meta) + "\n"
        text = _REFERENCE.sub(lambda m: f'@"{renames.get(m.group(1), m.group(1))}"', merged)


def split(text: str, parts: int) -> tuple[list[str], set[str]] | None:
    """`text` as up to `parts` modules that together define every function once (the entry functions in the
    first), with the internal functions that had to be made visible across them; or None when it should
    stay whole (too small, or a global that copies would not share)."""
    parsed = _Text(text)
    total = sum(len(fn.body) for fn in parsed.functions.values())
    parts = min(parts, total // MIN_PART_LINES)
    if parts < 2 or not parsed.splittable():
        return None
    group = {name: name for name in parsed.functions}

    def find(name: str) -> str:
        while group[name] != name:
            group[name] = group[group[name]]
            name = group[name]
        return name

    for fn in parsed.functions.values():           # a function stays with the non-entry functions it calls
        if fn.name.startswith(ENTRY_PREFIX):
            continue
        for ref in _references(fn):
            if ref in parsed.functions and not ref.startswith(ENTRY_PREFIX):
                group[find(ref)] = find(fn.name)
    sizes: dict[str, int] = {}
    for name, fn in parsed.functions.items():
        root = ENTRY_PREFIX if name.startswith(ENTRY_PREFIX) else find(name)
        sizes[root] = sizes.get(root, 0) + len(fn.body)
    loads, members = [0] * parts, [set() for _ in range(parts)]
    loads[0] = sizes.pop(ENTRY_PREFIX, 0)
    where = {ENTRY_PREFIX: 0}
    for root, size in sorted(sizes.items(), key=lambda kv: -kv[1]):
        k = loads.index(min(loads))
        loads[k] += size
        where[root] = k
    for name in parsed.functions:
        members[where[ENTRY_PREFIX if name.startswith(ENTRY_PREFIX) else find(name)]].add(name)
    members = [m for m in members if m]
    if len(members) < 2:
        return None
    shared = set()
    for k, m in enumerate(members):
        elsewhere = set().union(*(_references(parsed.functions[n]) for j, o in enumerate(members) if j != k for n in o))
        shared |= {n for n in m & elsewhere if parsed.functions[n].linkage == "internal"}
    shared |= {m.group(1) for m in map(_MUTABLE.match, parsed.tops) if m}
    return [parsed.text(m, exported=shared & m, owner=k == 0) for k, m in enumerate(members)], shared


_local = threading.local()


def _own_target_machine(opt: int):
    """A target machine for this thread alone (one caches per-function subtargets, unsynchronized)."""
    machines = getattr(_local, "machines", None)
    if machines is None:
        machines = _local.machines = {}
    if opt not in machines:
        from xlite.codegen.cpu.compiler import new_target_machine
        machines[opt] = new_target_machine(opt)
    return machines[opt]


def _unlocked_pass_run():
    """llvmlite's module pass manager run without llvmlite's global lock, or None where it is not found."""
    wrapper = getattr(llvm.ffi.lib, "LLVMPY_RunNewModulePassManager", None)
    return getattr(wrapper, "_cfn", None)


def _optimize(text: str, speed_level: int, unlocked: bool) -> bytes:
    """Parses and optimizes one part in a context of its own; its bitcode."""
    context = llvm.create_context()
    mod = llvm.parse_assembly(text, context=context)
    mod.verify()
    tm = _own_target_machine(0 if speed_level == 0 else 3)
    pb = llvm.create_pass_builder(tm, pipeline_options(speed_level))
    mpm = pb.getModulePassManager()
    run = _unlocked_pass_run() if unlocked else None
    if run is not None:
        run(mpm, mod, pb)
    else:
        mpm.run(mod, pb)
    bitcode = mod.as_bitcode()
    mod.close()
    return bitcode


def pipeline_options(speed_level: int):
    """The pipeline tuning of xlite's -O levels: vectorizers at -O2 and up, no full unrolling.

    Full unrolling of constant-trip loops made basic blocks huge and cold compiles 7x slower
    (W5: 3.4 s -> 0.46 s without) for no measurable run-time gain; the vectorizer still interleaves."""
    pto = llvm.create_pipeline_tuning_options(speed_level=speed_level)
    pto.loop_vectorization = speed_level >= 2
    pto.slp_vectorization = speed_level >= 2
    pto.loop_unrolling = False
    return pto


def optimize_in_parts(texts: list[str], shared: set[str], speed_level: int, context):
    """The parts optimized concurrently (the first on this thread) and linked into one module in `context`,
    the functions in `shared` made internal again."""
    results: list = [None] * len(texts)
    failures: list = []

    def work(k: int) -> None:
        try:
            results[k] = _optimize(texts[k], speed_level, unlocked=True)
        except BaseException as e:          # raised on the calling thread below
            failures.append(e)

    threads = [threading.Thread(target=work, args=(k,), daemon=True) for k in range(1, len(texts))]
    for t in threads:
        t.start()
    work(0)
    for t in threads:
        t.join()
    if failures:
        raise failures[0]
    linked = llvm.parse_bitcode(results[0], context=context)
    for bitcode in results[1:]:
        linked.link_in(llvm.parse_bitcode(bitcode, context=context))
    functions = {fn.name for fn in linked.functions}
    for name in shared:
        value = linked.get_function(name) if name in functions else linked.get_global_variable(name)
        value.linkage = "internal"
    return linked


__all__ = ["merge_identical", "split", "optimize_in_parts", "pipeline_options", "MIN_PART_LINES"]
