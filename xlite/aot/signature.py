"""What an AOT artifact takes and returns: its arguments, results and scratch, as data and as JSON.

The JSON form is embedded in the object as the constant string symbol
`NAME_signature_json` (so NAME.o and NAME.so carry it; no sidecar file) and
is what `xlite.aot.load` reads back with ctypes. Its fields:

    {"format": "xlite-aot 1", "name": "model", "variables": "freeze" | "args",
     "target_cpu": "...", "threads": 1, "libraries": ["c", "m"],
     "scratch_bytes": N, "scratch_alignment": 64,
     "args":    [{"name", "c_name", "kind", "dtype", "shape", "byte_size", "alignment"}, ...],
     "results": [{...the same, kind "fetch"}],
     "errors":  {"<code>": "<message>", ...}}

`kind` of an argument: "feed" (read only), "variable" (read, and updated in
place when the run assigns it), "rng_counter" (int64 run counter of the
graph's random ops).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from math import prod

import numpy as np

FORMAT = "xlite-aot 1"
SCRATCH_ALIGNMENT = 64

# Error codes of NAME_run (the header repeats them as macros).
OK = 0
ERROR_NULL_ARGS = 1                 # args is NULL (and the model takes arguments)
ERROR_NULL_RESULTS = 2              # results is NULL (and the model returns results)
ERROR_NULL_SCRATCH = 3              # scratch is NULL (and the model needs scratch)
ERROR_SCRATCH_ALIGNMENT = 4         # scratch is not SCRATCH_ALIGNMENT-byte aligned
ERROR_NULL_ARG_BASE = 1000          # + i: args[i] is NULL
ERROR_NULL_RESULT_BASE = 2000       # + j: results[j] is NULL
ERROR_ARG_ALIGNMENT_BASE = 3000     # + i: args[i] is not aligned to its element size
ERROR_RESULT_ALIGNMENT_BASE = 4000  # + j: results[j] is not aligned to its element size
MAX_TENSORS = 1000


@dataclass
class TensorSpec:
    name: str                 # the TF name: "images:0", a Variable's op name, "rng_counter"
    kind: str                 # "feed" | "variable" | "rng_counter" | "fetch"
    dtype: str                # NumPy dtype name ("float32", "bool", ...)
    shape: tuple
    c_name: str = ""          # a C identifier for the macros of the header
    param: int | None = None  # the module parameter it is (arguments only)
    update: int | None = None # the root output that assigns it (variables only)

    @property
    def byte_size(self) -> int:
        return int(prod(self.shape)) * self.alignment

    @property
    def alignment(self) -> int:
        return np.dtype(self.dtype).itemsize

    def to_dict(self) -> dict:
        return {"name": self.name, "c_name": self.c_name, "kind": self.kind, "dtype": self.dtype,
                "shape": list(self.shape), "byte_size": self.byte_size, "alignment": self.alignment,
                "updated": self.update is not None}


@dataclass
class Signature:
    name: str
    variables: str
    target_cpu: str
    threads: int
    args: list = field(default_factory=list)       # TensorSpec per argument, in args[] order
    results: list = field(default_factory=list)    # TensorSpec per result, in results[] order
    scratch_bytes: int = 0
    cpu: str = ""                 # the LLVM CPU the code was generated for (target_cpu "host" resolved)
    stack_bytes: int = 0          # the most stack one call needs beyond ordinary frames (the GEMM's packing)

    @property
    def libraries(self) -> list:
        return ["c", "m"] + (["pthread"] if self.threads > 1 else [])

    def error_messages(self) -> dict[int, str]:
        messages = {OK: "ok",
                    ERROR_NULL_ARGS: "args is NULL",
                    ERROR_NULL_RESULTS: "results is NULL",
                    ERROR_NULL_SCRATCH: f"scratch is NULL ({self.scratch_bytes} bytes needed)",
                    ERROR_SCRATCH_ALIGNMENT: f"scratch is not {SCRATCH_ALIGNMENT}-byte aligned"}
        for i, a in enumerate(self.args):
            messages[ERROR_NULL_ARG_BASE + i] = f"args[{i}] ({a.name}) is NULL"
            messages[ERROR_ARG_ALIGNMENT_BASE + i] = f"args[{i}] ({a.name}) is not {a.alignment}-byte aligned"
        for j, r in enumerate(self.results):
            messages[ERROR_NULL_RESULT_BASE + j] = f"results[{j}] ({r.name}) is NULL"
            messages[ERROR_RESULT_ALIGNMENT_BASE + j] = (f"results[{j}] ({r.name}) is not "
                                                         f"{r.alignment}-byte aligned")
        return messages

    def to_dict(self) -> dict:
        return {"format": FORMAT, "name": self.name, "variables": self.variables,
                "target_cpu": self.target_cpu, "cpu": self.cpu, "threads": self.threads,
                "libraries": self.libraries, "scratch_bytes": self.scratch_bytes,
                "scratch_alignment": SCRATCH_ALIGNMENT, "stack_bytes": self.stack_bytes,
                "args": [a.to_dict() for a in self.args], "results": [r.to_dict() for r in self.results],
                "errors": {str(k): v for k, v in self.error_messages().items()}}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), separators=(",", ":"))

    def table(self) -> str:
        """The argument/result table and the scratch size, as `xlite compile` prints them."""
        rows = [("", "name", "kind", "dtype", "shape", "bytes")]
        for prefix, specs in (("args", self.args), ("results", self.results)):
            for i, s in enumerate(specs):
                rows.append((f"{prefix}[{i}]", s.name, s.kind + (" (updated)" if s.update is not None else ""),
                             s.dtype, "[" + ",".join(map(str, s.shape)) + "]", str(s.byte_size)))
        widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
        lines = ["  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip() for r in rows]
        lines.append(f"scratch: {self.scratch_bytes} bytes, {SCRATCH_ALIGNMENT}-byte aligned; "
                     f"threads: {self.threads}; links against: "
                     + ", ".join("lib" + lib for lib in self.libraries))
        return "\n".join(lines)


def c_identifier(name: str) -> str:
    """A C identifier for a TF name: ':0' dropped, anything else not alphanumeric becomes '_'."""
    if name.endswith(":0"):
        name = name[:-2]
    ident = re.sub(r"[^A-Za-z0-9_]", "_", name)
    return ident if ident and not ident[0].isdigit() else "_" + ident


def assign_c_names(specs: list) -> None:
    """Unique (case-insensitively, since the header upper-cases them) C names for a list of specs."""
    seen: set = set()
    for s in specs:
        base = c_identifier(s.name)
        candidate, n = base, 1
        while candidate.upper() in seen:
            n += 1
            candidate = f"{base}_{n}"
        seen.add(candidate.upper())
        s.c_name = candidate


def check_name(name: str) -> str:
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name or ""):
        raise ValueError(f"the artifact name {name!r} must be a C identifier (letters, digits, '_')")
    return name


__all__ = ["TensorSpec", "Signature", "c_identifier", "assign_c_names", "check_name", "FORMAT",
           "SCRATCH_ALIGNMENT"]
