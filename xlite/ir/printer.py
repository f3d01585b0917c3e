"""HLO-style text for modules: one instruction per line, names, shapes, attributes and metadata."""
from __future__ import annotations

import re

import numpy as np

from xlite.ir.dtypes import DType
from xlite.ir.module import Computation, Instruction, Module


_BARE_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_RESERVED_WORDS = frozenset({"true", "false", "nan", "inf"})


def quote(text: str) -> str:
    """A double-quoted string the parser reads back exactly."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def format_attr(value) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, DType):
        return value.ir_name
    if isinstance(value, (tuple, list)):
        return "{" + ",".join(format_attr(v) for v in value) + "}"
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    if isinstance(value, str):
        bare = _BARE_WORD.fullmatch(value) and value not in _RESERVED_WORDS
        return value if bare else quote(value)
    return str(value)


def format_scalar(value, dtype: np.dtype) -> str:
    """Floats print as the shortest text that reads back to the same value in their own dtype."""
    if dtype == np.bool_:
        return "true" if value else "false"
    if dtype.kind == "f":
        v = np.dtype(dtype).type(value)
        if np.isnan(v):
            return "nan"
        if np.isinf(v):
            return "inf" if v > 0 else "-inf"
        return str(v)
    return str(int(value))


def format_literal(array: np.ndarray) -> str:
    if array.ndim == 0:
        return format_scalar(array.item(), array.dtype)
    return "{" + ", ".join(format_literal(sub) for sub in array) + "}"


def _format_metadata(md) -> str:
    parts = []
    if md.op_name:
        parts.append(f"op_name={quote(md.op_name)}")
    if md.op_type:
        parts.append(f"op_type={quote(md.op_type)}")
    if md.source_file:
        parts.append(f"source_file={quote(md.source_file)}")
        parts.append(f"source_line={md.source_line}")
    return "metadata={" + " ".join(parts) + "}" if parts else ""


def print_instruction(inst: Instruction, is_root: bool = False) -> str:
    args = ", ".join(f"%{o.name}" for o in inst.operands)
    if inst.opcode == "parameter":
        args = str(inst.attrs["number"])
    elif inst.opcode == "constant":
        args = format_literal(inst.literal)
    text = f"{'ROOT ' if is_root else ''}%{inst.name} = {inst.shape} {inst.opcode}({args})"
    extras = [f"{k}={format_attr(v)}" for k, v in sorted(inst.attrs.items())
              if not (inst.opcode == "parameter" and k == "number")]
    if inst.called:
        extras.append("calls={" + ",".join(f"%{c.name}" for c in inst.called) + "}")
    md = _format_metadata(inst.metadata)
    if md:
        extras.append(md)
    return text + "".join(", " + e for e in extras)


def print_computation(comp: Computation, entry: bool = False) -> str:
    head = f"ENTRY %{comp.name}" if entry else f"%{comp.name}"
    lines = [head + " {"]
    for inst in comp.instructions:
        lines.append("  " + print_instruction(inst, inst is comp.root))
    lines.append("}")
    return "\n".join(lines)


def print_module(module: Module) -> str:
    parts = [f"HloModule {module.name}"]
    for comp in module.all_computations():
        parts.append(print_computation(comp, entry=comp is module.entry))
    return "\n\n".join(parts) + "\n"
