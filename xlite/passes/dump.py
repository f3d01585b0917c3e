"""IR dumps at every stage of compilation, for `XLITE_DUMP=DIR` and `xlite dump-ir`.

Each compiled run signature gets numbered files in the dump directory:

    module_0003.run.00.frontend.txt          the Module as lowered
    module_0003.run.01.dce.txt ...           after each pass that changed it (and each top-level pass)
    module_0003.run.NN.fusion.txt            fused
    module_0003.run.NN.buffer-assignment.txt scheduled, each entry instruction with its buffer
    module_0003.run.summary.txt              signature, counts, kernels, peak bytes, what fused

`.dot` files (Graphviz, fusions drawn as clusters; `.svg` too when `dot` is installed)
are written instead of or beside the text with the "dot" format. The compile driver
(xlite/runtime/driver.py) opens the dump of each compilation (`compiling`), hands
`ModuleDump.stage` to the pass pipeline and `ModuleDump.text` to the code generator,
which writes its own stages (LLVM IR, assembly, CUDA C) through it.

Environment: XLITE_DUMP=DIR turns dumping on for any program; XLITE_DUMP_FORMAT=text,dot
and XLITE_DUMP_STAGE=fusion,buffer* (shell-style patterns) narrow it.
"""
from __future__ import annotations

import contextlib
import fnmatch
import itertools
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field

from xlite.ir.symbolic import is_symbolic
from xlite.ir.module import Computation, Instruction, Module
from xlite.ir.printer import print_computation, print_instruction, quote
from xlite.passes.fusion import kernel_count

ENV_DIR, ENV_FORMAT, ENV_STAGE = "XLITE_DUMP", "XLITE_DUMP_FORMAT", "XLITE_DUMP_STAGE"
FORMATS = ("text", "dot")


@dataclass
class DumpOptions:
    directory: str
    formats: tuple = ("text",)
    stages: tuple | None = None           # shell-style patterns of stage names; None: every stage
    quiet: bool = False                   # no line on stderr per compiled signature
    summaries: list = field(default_factory=list)

    def wants(self, stage: str) -> bool:
        return self.stages is None or any(fnmatch.fnmatchcase(stage, p) for p in self.stages)


_configured: DumpOptions | None = None
_env_options: dict = {}
_counter = itertools.count(1)


def configure(directory: str, formats=("text",), stages=None, quiet: bool = True) -> DumpOptions:
    """Turns dumping on for this process (what `xlite dump-ir` does); numbering starts again at 1."""
    global _configured, _counter
    _counter = itertools.count(1)
    formats = tuple(formats)
    for f in formats:
        if f not in FORMATS:
            raise ValueError(f"unknown dump format {f!r}; expected one of {', '.join(FORMATS)}")
    _configured = DumpOptions(str(directory), formats, tuple(stages) if stages else None, quiet)
    return _configured


def reset() -> None:
    global _configured
    _configured = None


def options() -> DumpOptions | None:
    """The active options: configured, or from XLITE_DUMP; None when dumping is off."""
    if _configured is not None:
        return _configured
    directory = os.environ.get(ENV_DIR)
    if not directory:
        return None
    key = (directory, os.environ.get(ENV_FORMAT, "text"), os.environ.get(ENV_STAGE, ""))
    if key not in _env_options:
        formats = tuple(f.strip() for f in key[1].split(",") if f.strip()) or ("text",)
        stages = tuple(s.strip() for s in key[2].split(",") if s.strip()) or None
        _env_options[key] = DumpOptions(directory, formats, stages, quiet=False)
    return _env_options[key]


@contextlib.contextmanager
def compiling(module: Module, target: str):
    """Dumps for the compilation of `module` (its frontend stage now, the summary at the end);
    yields the ModuleDump, or None when dumping is off."""
    opts = options()
    if opts is None:
        yield None
        return
    dump = ModuleDump(opts, module, target)
    try:
        yield dump
    finally:
        dump.finish()


class ModuleDump:
    """The numbered dump files of one compiled run signature."""

    def __init__(self, opts: DumpOptions, module: Module, target: str):
        self.opts = opts
        self.target = target
        self.index = next(_counter)
        self.prefix = f"module_{self.index:04d}.{_file_name(module.name)}"
        self.step = 0
        self.signature = signature(module)
        self.before = _counts(module)
        self.final: Module | None = None
        self.final_assignment = None
        self.files: list[str] = []
        os.makedirs(opts.directory, exist_ok=True)
        self.stage("frontend", module)

    def stage(self, name: str, module: Module, assignment=None) -> None:
        """Writes `module` as stage `name` (text and/or DOT, as the options ask); with a buffer
        assignment, each entry instruction is annotated with its buffer."""
        self.final, self.final_assignment = module, assignment
        step = self.step
        self.step += 1
        if not self.opts.wants(name):
            return
        base = f"{self.prefix}.{step:02d}.{_file_name(name)}"
        if "text" in self.opts.formats:
            self._write(base + ".txt", module_text(module, assignment))
        if "dot" in self.opts.formats:
            path = self._write(base + ".dot", module_dot(module, f"{self.prefix} {name}", assignment))
            _svg(path)

    def text(self, name: str, text: str, extension: str = "txt") -> None:
        """A backend's own stage (LLVM IR, assembly, CUDA C) of this compilation."""
        step = self.step
        self.step += 1
        if self.opts.wants(name):
            self._write(f"{self.prefix}.{step:02d}.{_file_name(name)}.{extension}", text)

    def _write(self, name: str, text: str) -> str:
        path = os.path.join(self.opts.directory, name)
        with open(path, "w") as f:
            f.write(text)
        self.files.append(path)
        return path

    def finish(self) -> None:
        text = self.summary()
        self._write(f"{self.prefix}.summary.txt", text + "\n")
        self.opts.summaries.append(text)
        if not self.opts.quiet:
            first = text.splitlines()[1].strip()
            print(f"xlite: dumped {self.prefix} to {self.opts.directory}: {first}", file=sys.stderr)

    def summary(self) -> str:
        """Signature, instruction counts before/after, kernels, peak bytes, and what fused together."""
        lines = [f"{self.prefix}  {self.signature}  [target {self.target}]"]
        m = self.final
        after = _counts(m) if m is not None else self.before
        line = f"instructions: {self.before[0]} lowered"
        if m is not None and after != self.before:
            line += f", {after[0]} after the pipeline"
            if after[1]:
                line += f" ({after[1]} inside {after[2]} fusions)"
        if m is not None:
            line += f"; kernels: {kernel_count(m.entry)}"
            ba = self.final_assignment
            if ba is not None:
                line += f"; peak {_bytes(ba.peak_bytes)} live, arena {_bytes(ba.arena_bytes)}"
        lines.append("  " + line)
        if m is not None:
            for inst in m.entry.instructions:
                if inst.opcode == "fusion":
                    members = " ".join(f"%{i.name}" for i in inst.called[0].instructions
                                       if i.opcode != "parameter")
                    lines.append(f"  %{inst.name} ({inst.attrs.get('kind')}): {members}")
        return "\n".join(lines)


def _counts(module: Module) -> tuple[int, int, int]:
    """(entry instructions, instructions inside fusions, fusions)."""
    fusions = [i for i in module.entry.instructions if i.opcode == "fusion"]
    inside = sum(len([j for j in f.called[0].instructions if j.opcode != "parameter"]) for f in fusions)
    return len(module.entry.instructions), inside, len(fusions)


def signature(module: Module) -> str:
    params = ", ".join(f"%{p.name}: {p.shape}" for p in module.entry.parameters)
    root = module.entry.root
    results = root.shape if root is not None else "()"
    return f"{module.name}({params}) -> {_strip_layouts(str(results))}"


def _strip_layouts(text: str) -> str:
    return re.sub(r"\{[\d,]*\}", "", text)


def _bytes(n) -> str:
    if is_symbolic(n):                  # a size of the run (xlite/ir/symbolic.py)
        return f"{n.text()} B"
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def _file_name(name: str) -> str:
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in name) or "module"


# text -------------------------------------------------------------------------------------------
def buffer_note(inst: Instruction, assignment, position: int) -> str:
    s = assignment.slices.get(inst)
    if s is None:
        return f"// #{position}"
    if s.kind == "arena":
        where = f"arena[{s.offset}:+{s.size}]"
    elif s.kind == "parameter":
        where = f"param{s.offset}[+{s.size}]"
    elif s.kind == "output":
        where = f"result{s.offset}[+{s.size}]"
    else:
        where = f"{s.kind}[+{s.size}]"
    note = f"// #{position} {where}"
    live = assignment.live_ranges.get(inst)
    if live is not None and s.kind in ("arena", "output", "parameter") and inst.opcode != "parameter":
        note += f" live {live[0]}..{live[1]}"
    shared = assignment.shares.get(inst)
    if shared is not None:
        note += f" reuses %{shared.name}" if inst.opcode != "bitcast" else f" = %{shared.name}'s bytes"
    return note


def module_text(module: Module, assignment=None) -> str:
    """The printer's text; with a buffer assignment, each entry instruction ends with a `//` note
    giving its schedule position, buffer, live range and the buffer it reuses (the parser skips it)."""
    parts = [f"HloModule {module.name}"]
    for comp in module.all_computations():
        if comp is not module.entry or assignment is None:
            parts.append(print_computation(comp, entry=comp is module.entry))
            continue
        lines = [f"// arena {assignment.arena_bytes} bytes, at most {assignment.peak_bytes} live at once",
                 f"ENTRY %{comp.name} {{"]
        for k, inst in enumerate(comp.instructions):
            lines.append("  " + print_instruction(inst, inst is comp.root) + "  " + buffer_note(inst, assignment, k))
        lines.append("}")
        parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"


# Graphviz ---------------------------------------------------------------------------------------
_COLORS = {"loop": "#dbe9f6", "input": "#fde2c8", "output": "#dcefd5", "row": "#efdcf5"}


def module_dot(module: Module, title: str = "", assignment=None) -> str:
    """The entry computation as a Graphviz digraph: one node per instruction, each fusion a cluster
    of its fused instructions (inputs drawn as edges into the instructions that read them)."""
    entry = module.entry
    out = [f"digraph {quote(title or module.name)} {{",
           '  rankdir=TB; node [shape=box, style="rounded,filled", fillcolor=white, fontname="monospace", '
           'fontsize=10]; edge [color="#555555"];',
           f"  label={quote(title or module.name)}; labelloc=t;"]
    sources: dict = {}   # entry instruction -> node id holding its value

    def label(inst: Instruction, extra: str = "") -> str:
        return quote(f"%{inst.name}\n{inst.opcode} {_strip_layouts(str(inst.shape))}" + extra)

    for k, inst in enumerate(entry.instructions):
        note = ""
        if assignment is not None and inst in assignment.slices:
            note = "\n" + buffer_note(inst, assignment, k)[3:]
        if inst.opcode == "fusion":
            fused = inst.called[0]
            cid = inst.name
            kind = inst.attrs.get("kind", "loop")
            out.append(f"  subgraph {quote('cluster_' + cid)} {{")
            out.append(f"    label={quote(f'%{inst.name} ({kind})' + note)}; "
                       f"style=filled; fillcolor={quote(_COLORS.get(kind, '#eeeeee'))}; color=\"#888888\";")
            params = {p: inst.operands[p.attrs["number"]] for p in fused.parameters}
            for f in fused.instructions:
                if f.opcode != "parameter":
                    out.append(f"    {quote(cid + '/' + f.name)} [label={label(f)}];")
            out.append("  }")
            for f in fused.instructions:
                for o in f.operands:
                    src = sources[params[o]] if o in params else cid + "/" + o.name
                    out.append(f"  {quote(src)} -> {quote(cid + '/' + f.name)};")
            sources[inst] = cid + "/" + fused.root.name
            continue
        shape = "ellipse" if inst.opcode in ("parameter", "constant") else "box"
        out.append(f"  {quote(inst.name)} [label={label(inst, note)}, shape={shape}];")
        for o in inst.operands:
            out.append(f"  {quote(sources[o])} -> {quote(inst.name)};")
        sources[inst] = inst.name
    out.append("}")
    return "\n".join(out) + "\n"


def _svg(path: str) -> None:
    dot = shutil.which("dot")
    if dot is None:
        return
    try:
        subprocess.run([dot, "-Tsvg", path, "-o", path[:-4] + ".svg"], check=False, timeout=60,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError):
        pass


# cloning ----------------------------------------------------------------------------------------
def clone_module(module: Module) -> Module:
    """A deep copy of the module's computations (fresh instructions, same names and attributes) and
    of the frontend's facts about it (output aliases, fetch count) and its layouts flag."""
    new = Module(module.name)
    mapping: dict = {}
    for comp in module.all_computations():
        insts: dict = {}
        c = Computation(comp.name)
        for inst in comp.instructions:
            insts[inst] = Instruction(inst.opcode, [insts[o] for o in inst.operands], inst.shape, inst.attrs,
                                      name=inst.name, metadata=inst.metadata, literal=inst.literal,
                                      called=tuple(mapping[id(x)] for x in inst.called))
            c.instructions.append(insts[inst])
        c.root = insts.get(comp.root)
        mapping[id(comp)] = c
    new.computations = [mapping[id(c)] for c in module.computations if id(c) in mapping]
    new.entry = mapping[id(module.entry)]
    new.output_aliases = dict(module.output_aliases)
    new.fetch_count = module.fetch_count
    new.layouts_assigned = module.layouts_assigned
    return new
