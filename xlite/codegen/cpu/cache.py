"""The on-disk cache of compiled executables: object code plus the plan run() needs.

Two kinds of key, both sha256 over a canonical form of a Module (opcodes,
shapes and layouts, attributes, operand positions, literal bytes, called
computations, output aliases):

- `module_key`: the Module as codegen sees it (optimized, with its buffer
  assignment), the source of xlite/codegen/cpu, xlite/codegen and
  xlite/semantics (so any change to code generation, the math hook and the
  Philox definition included, misses), the xlite version, and the host
  as LLVM describes it (triple, CPU name and features, data layout,
  llvmlite/LLVM versions). compile_cpu uses it.
- `lowered_key`: the Module as the frontend lowered it, before any pass; the
  source files of everything that turns it into code (xlite/ir, xlite/semantics, xlite/passes,
  xlite/codegen, xlite/codegen/cpu, xlite/runtime: size and modification time); and the host as read
  without LLVM (`host_fingerprint`: /proc/cpuinfo's CPU and flags, the llvmlite library
  file, Python, NumPy's array layout, the BLAS). The compile driver looks a
  Module up by it before any pass runs (lowered.py), so a hit needs no pass
  pipeline, no IR generation and no LLVM at all: a warm compile is lowering,
  a hash, a file read and linking the object (elf_loader.py).

File `<key>.xo`: MAGIC (8 bytes), payload length (8 bytes, little-endian),
sha256 of the payload (32 bytes), payload = header length (4 bytes) + header
as JSON (the plan, plus "constants" and "stats") + object length (8 bytes) +
object code + the bytes of the root's constant outputs. A file whose magic,
length or hash is wrong is treated as a miss and replaced. Object code never
holds the address of BLAS or any other process symbol: the linker resolves
them again at load time.

XLITE_CACHE_DIR picks the directory (default ~/.cache/xlite); XLITE_CACHE=0
turns the cache off.
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
import struct
import sys
from pathlib import Path

import numpy as np

from xlite.codegen.checked_file import discard, read_checked, write_checked
from xlite.ir.buffers import BufferAssignment
from xlite.ir.compiled import CompiledModule
from xlite.ir.module import Computation, Module
from xlite.version import __version__

MAGIC = b"XLITEO\x00\x02"
STATS = {"hits": 0, "misses": 0, "damaged": 0}     # this process's lookups


def cache_dir() -> Path | None:
    if os.environ.get("XLITE_CACHE", "1") == "0":
        return None
    root = os.environ.get("XLITE_CACHE_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "xlite")
    return Path(root) / "cpu"


def _hash_sources(h, directories, by_stat: bool = False) -> None:
    """Every .py file of the directories: its bytes, or with `by_stat` its size and modification time
    (what Python's own bytecode cache checks), which needs no reading."""
    for directory in directories:
        with os.scandir(directory) as it:
            files = sorted((e.name, e) for e in it if e.name.endswith(".py"))
        for name, entry in files:
            h.update(f"{directory.name}/{name}".encode())
            if by_stat:
                st = entry.stat()
                h.update(f" {st.st_size} {st.st_mtime_ns}\n".encode())
            else:
                h.update(Path(entry.path).read_bytes())
    h.update(__version__.encode())


@functools.lru_cache(maxsize=None)
def codegen_source_hash() -> str:
    h = hashlib.sha256()
    here = Path(__file__).parent
    _hash_sources(h, [here, here.parent, here.parent.parent / "semantics"])
    return h.hexdigest()


@functools.lru_cache(maxsize=None)
def pipeline_source_hash() -> str:
    """The source of everything between a lowered Module and its object code: the IR, the reference
    semantics and the runtime's interpreter (constant folding evaluates with them), the passes, the CPU
    code generator; by size and modification time, so a warm compile reads none of it."""
    here = Path(__file__).parent
    root = here.parent.parent
    h = hashlib.sha256()
    _hash_sources(h, [root / "ir", root / "semantics", root / "passes", here.parent, here, root / "runtime"],
                  by_stat=True)
    return h.hexdigest()


def _cpuinfo() -> str:
    """The first processor's identity and flags from /proc/cpuinfo."""
    keep = ("vendor_id", "cpu family", "model", "model name", "stepping", "flags")
    lines = []
    with open("/proc/cpuinfo") as f:
        for line in f:
            if not line.strip():
                break
            name = line.split(":", 1)[0].strip()
            if name in keep:
                lines.append(line.strip())
    if not any(line.startswith("flags") for line in lines):
        raise OSError("no CPU flags in /proc/cpuinfo")
    return "\n".join(lines)


@functools.lru_cache(maxsize=None)
def host_fingerprint() -> str | None:
    """What decides the host part of the code, read without LLVM: the CPU (model and flags, which
    are what LLVM's host CPU name and features come from), the LLVM inside llvmlite (its library
    file), Python and NumPy's array layout (the object entry reads array structs) and the BLAS.
    None where it cannot be read (not Linux, no llvmlite): then no lookup by lowered Module."""
    import importlib.util
    import platform
    try:
        spec = importlib.util.find_spec("llvmlite")
        if spec is None or not spec.origin:
            return None
        binding = Path(spec.origin).parent / "binding"
        libs = [(p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(binding.glob("libllvmlite*"))]
        if not libs:
            return None
        version = (Path(spec.origin).parent / "_version.py")
        cpu = _cpuinfo()
    except OSError:
        return None
    from xlite.codegen.cpu.blas_provider import blas_provider
    from xlite.codegen.cpu.plan import numpy_data_offset
    blas = blas_provider()
    return "\n".join([sys.platform, platform.machine(), sys.version, f"numpy data at {numpy_data_offset()}",
                      f"blas {blas.name} int{blas.int_bits}", cpu, repr(libs),
                      version.read_text() if version.exists() else ""])


def _computations(module: Module) -> list[Computation]:
    order, seen, stack = [], set(), [module.entry]
    while stack:
        comp = stack.pop(0)
        if id(comp) in seen:
            continue
        seen.add(id(comp))
        order.append(comp)
        for inst in comp.instructions:
            stack.extend(inst.called)
    return order


def _attr_text(value) -> str:
    if isinstance(value, np.ndarray):         # repr elides the middle of big arrays
        return f"ndarray {value.dtype.str}{value.shape} {hashlib.sha256(np.ascontiguousarray(value)).hexdigest()}"
    if isinstance(value, (tuple, list)):
        return f"{type(value).__name__}({', '.join(_attr_text(v) for v in value)})"
    return repr(value)


def _hash_module(h, module: Module, assignment: BufferAssignment | None) -> None:
    comps = _computations(module)
    comp_index = {id(c): i for i, c in enumerate(comps)}
    for comp in comps:
        pos = {inst: i for i, inst in enumerate(comp.instructions)}
        h.update(f"computation {comp_index[id(comp)]} root {pos.get(comp.root)}\n".encode())
        for inst in comp.instructions:
            attrs = sorted((k, _attr_text(v)) for k, v in inst.attrs.items())
            line = (f"{inst.opcode} {inst.shape} {attrs} {[pos[o] for o in inst.operands]} "
                    f"{[comp_index[id(c)] for c in inst.called]}")
            if comp is module.entry and assignment is not None:
                line += f" {assignment.slices.get(inst)}"
            h.update(line.encode() + b"\n")
            if inst.literal is not None:
                lit = np.ascontiguousarray(inst.literal)
                h.update(f"{lit.dtype.str}{lit.shape}".encode())
                h.update(lit.tobytes())
    h.update(repr(sorted(module.output_aliases.items())).encode())


def module_key(compiled: CompiledModule, host: str) -> str:
    h = hashlib.sha256()
    h.update(codegen_source_hash().encode())
    h.update(host.encode())
    _hash_module(h, compiled.module, compiled.buffer_assignment)
    return h.hexdigest()


def lowered_key(module: Module, options: str) -> str | None:
    """The key of a Module as lowered (no pass has run), or None when it cannot have one: a Module
    whose layouts are assigned already, a host without a fingerprint."""
    if module.layouts_assigned:
        return None
    host = host_fingerprint()
    if host is None:
        return None
    h = hashlib.sha256(b"lowered\n")
    h.update(pipeline_source_hash().encode())
    h.update(host.encode())
    h.update(options.encode())
    h.update(f"fetch_count={module.fetch_count}\n".encode())
    _hash_module(h, module, None)
    return h.hexdigest()


class Entry:
    """A cache entry: the plan (dict), the object code, constant root outputs by output index, and
    figures about the optimized Module it came from (kernels, peak bytes) for reports."""

    def __init__(self, plan: dict, obj: bytes, constants: dict, stats: dict):
        self.plan, self.obj, self.constants, self.stats = plan, obj, constants, stats


def lookup_entry(key: str, count_miss: bool = True) -> Entry | None:
    """The entry under `key`, or None on a miss or a damaged entry (which is removed). With
    `count_miss=False` a plain miss is not counted (a first probe that a counted one follows)."""
    directory = cache_dir()
    if directory is None:
        STATS["misses"] += count_miss
        return None
    path = directory / f"{key}.xo"
    try:
        payload = read_checked(path, MAGIC)
        if payload is None:
            STATS["misses"] += count_miss
            return None
        (head_len,) = struct.unpack_from("<I", payload)
        head = json.loads(bytes(payload[4:4 + head_len]).decode())
        (obj_len,) = struct.unpack_from("<Q", payload, 4 + head_len)
        start = 12 + head_len
        obj = bytes(payload[start:start + obj_len])
        blobs = payload[start + obj_len:]
        constants = {}
        for index, dtype, dims, offset, nbytes in head.pop("constants"):
            array = np.frombuffer(blobs[offset:offset + nbytes], dtype=np.dtype(dtype)).reshape(dims).copy()
            array.flags.writeable = False
            constants[index] = array
        stats = head.pop("stats")
        STATS["hits"] += 1
        return Entry(head, obj, constants, stats)
    except (ValueError, KeyError, TypeError, struct.error, UnicodeDecodeError):     # DamagedFile is a ValueError
        STATS["damaged"] += 1
        STATS["misses"] += 1
        discard(path)
        return None


def drop(key: str) -> None:
    """Removes the entry under `key`, found damaged after its checksum passed (an object not well formed)."""
    directory = cache_dir()
    if directory is not None:
        STATS["damaged"] += 1
        discard(directory / f"{key}.xo")


def lookup(key: str):
    """(plan dict, object bytes), or None on a miss or a damaged entry (which is removed): one whose
    object is not a well-formed object defining the plan's entry points counts as damaged."""
    from xlite.codegen.cpu.elf_loader import MalformedObject, check_object, supported_host
    from xlite.codegen.cpu.plan import entry_symbols
    entry = lookup_entry(key)
    if entry is None:
        return None
    if supported_host():
        try:
            check_object(entry.obj, entry_symbols(bool(entry.plan.get("object_entry"))))
        except MalformedObject:
            drop(key)
            return None
    return entry.plan, entry.obj


def store(key: str, plan: dict, obj: bytes, constants: dict | None = None, stats: dict | None = None) -> None:
    """Writes an entry (atomically: a temporary file renamed); `constants` maps output index -> array."""
    directory = cache_dir()
    if directory is None:
        return
    blobs, table = [], []
    offset = 0
    for index, value in sorted((constants or {}).items()):
        array = np.asarray(value)
        data = array.tobytes()                 # C order (ascontiguousarray would make a 0-d array 1-d)
        table.append([index, array.dtype.str, list(array.shape), offset, len(data)])
        blobs.append(data)
        offset += len(data)
    head = json.dumps(dict(plan, constants=table, stats=stats or {})).encode()
    payload = b"".join([struct.pack("<I", len(head)), head, struct.pack("<Q", len(obj)), obj] + blobs)
    write_checked(directory / f"{key}.xo", MAGIC, payload)


__all__ = ["cache_dir", "module_key", "lowered_key", "host_fingerprint", "lookup", "lookup_entry", "store", "drop",
           "Entry", "MAGIC", "STATS"]
