"""The on-disk cache of compiled executables: object code plus the plan run() needs.

Key: sha256 over a canonical form of the Module as codegen sees it (opcodes,
shapes and layouts, attributes, operand positions, literal bytes, called
computations, the buffer assignment and output aliases), the source of
xlite/codegen/cpu (so any change to code generation, the math hook included,
misses), the xlite version, and the host (triple, CPU name and features,
data layout, llvmlite/LLVM versions). A hit needs neither IR generation nor
LLVM, so a warm compile is a file read plus loading the object.

File `<key>.xo`: MAGIC (8 bytes), payload length (8 bytes, little-endian),
sha256 of the payload (32 bytes), payload = plan length (4 bytes) + plan as
JSON + object code. A file whose magic, length or hash is wrong is treated
as a miss and replaced. Object code never holds the address of BLAS or any
other process symbol: the JIT linker resolves them again at load time.

XLITE_CACHE_DIR picks the directory (default ~/.cache/xlite); XLITE_CACHE=0
turns the cache off.
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
import struct
import tempfile
from pathlib import Path

import numpy as np

from xlite.ir.module import Computation, Module

MAGIC = b"XLITEO\x00\x01"
_HEADER = struct.Struct("<8sQ32s")
STATS = {"hits": 0, "misses": 0, "damaged": 0}     # this process's lookups


def cache_dir() -> Path | None:
    if os.environ.get("XLITE_CACHE", "1") == "0":
        return None
    root = os.environ.get("XLITE_CACHE_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "xlite")
    return Path(root) / "cpu"


@functools.lru_cache(maxsize=None)
def codegen_source_hash() -> str:
    h = hashlib.sha256()
    here = Path(__file__).parent
    for path in sorted(here.glob("*.py")):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    import xlite
    h.update(str(getattr(xlite, "__version__", "")).encode())
    return h.hexdigest()


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


def module_key(module: Module, host: str) -> str:
    h = hashlib.sha256()
    h.update(codegen_source_hash().encode())
    h.update(host.encode())
    comps = _computations(module)
    comp_index = {id(c): i for i, c in enumerate(comps)}
    assignment = module.properties.get("buffer_assignment")
    for comp in comps:
        pos = {inst: i for i, inst in enumerate(comp.instructions)}
        h.update(f"computation {comp_index[id(comp)]} root {pos.get(comp.root)}\n".encode())
        for inst in comp.instructions:
            attrs = sorted((k, repr(v)) for k, v in inst.attrs.items())
            line = (f"{inst.opcode} {inst.shape} {attrs} {[pos[o] for o in inst.operands]} "
                    f"{[comp_index[id(c)] for c in inst.called]}")
            if comp is module.entry and assignment is not None:
                line += f" {assignment.slices.get(inst)}"
            h.update(line.encode() + b"\n")
            if inst.literal is not None:
                lit = np.ascontiguousarray(inst.literal)
                h.update(f"{lit.dtype.str}{lit.shape}".encode())
                h.update(lit.tobytes())
    h.update(repr(sorted(module.properties.get("output_aliases", {}).items())).encode())
    return h.hexdigest()


def lookup(key: str):
    """(plan dict, object bytes), or None on a miss or a damaged entry (which is removed)."""
    directory = cache_dir()
    if directory is None:
        STATS["misses"] += 1
        return None
    path = directory / f"{key}.xo"
    try:
        data = path.read_bytes()
    except OSError:
        STATS["misses"] += 1
        return None
    try:
        magic, length, digest = _HEADER.unpack_from(data)
        payload = data[_HEADER.size:]
        if magic != MAGIC or length != len(payload) or hashlib.sha256(payload).digest() != digest:
            raise ValueError("damaged cache entry")
        (plan_len,) = struct.unpack_from("<I", payload)
        plan = json.loads(payload[4:4 + plan_len].decode())
        STATS["hits"] += 1
        return plan, bytes(payload[4 + plan_len:])
    except (ValueError, struct.error, UnicodeDecodeError):
        STATS["damaged"] += 1
        STATS["misses"] += 1
        try:
            path.unlink()
        except OSError:
            pass
        return None


def store(key: str, plan: dict, obj: bytes) -> None:
    directory = cache_dir()
    if directory is None:
        return
    plan_bytes = json.dumps(plan).encode()
    payload = struct.pack("<I", len(plan_bytes)) + plan_bytes + obj
    data = _HEADER.pack(MAGIC, len(payload), hashlib.sha256(payload).digest()) + payload
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=directory, suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, directory / f"{key}.xo")
    except OSError:
        pass


__all__ = ["cache_dir", "module_key", "lookup", "store", "MAGIC", "STATS"]
