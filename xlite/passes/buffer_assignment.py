"""Where every array value of the entry computation lives: a slice of one arena, or a caller's buffer.

The data that codegen reads (the pass's `assignment`, which the compile driver hands codegen as
`CompiledModule.buffer_assignment`; its classes live in xlite/ir/buffers.py):
- parameters live in the caller's buffers (kind "parameter");
- constants live in the executable's read-only data (kind "constant");
- a value the root tuple returns that is aliased to a parameter (a Variable's
  update) lives in that parameter's buffer (kind "parameter", same number);
  where writing it there early would clobber a later read of the old value, where
  the update reads the old value other than at its own index, or where the value
  is a parameter or constant itself, `place_aliased_outputs` first inserts a `copy`
  scheduled after every reader, and the copy gets the buffer;
- any other value the root returns is computed straight into the caller's result
  array (kind "output", offset = its index in the root tuple, flattened; no arena
  space);
- everything else is a slice [offset, offset + size) of one arena (kind "arena"),
  64-byte aligned; tuple-shaped values (tuple, while state) have no buffer of
  their own: their elements do. The elements of a while's or conditional's tuple
  result live in the buffers of the get_tuple_elements that read them, which are
  live from the while/conditional on (it writes them).

`BufferAssignment` (liveness-based, `BufferAssignmentPass`):
- `slices[inst]`: the BufferSlice of every array-shaped entry instruction;
- two values share an arena slice only when their live ranges do not overlap, or
  by design: a `bitcast` shares its operand's slice (the same bytes; codegen need
  emit nothing for it), and an instruction computed in place writes over an
  operand whose buffer dies there (same size; the instruction reads that operand
  only at the index it writes: an elementwise op, an all-reduce (or its start or done), or a loop fusion whose fused
  computation reaches the operand only through same-index elementwise ops, same
  layout; an output fusion qualifies too, but only for a Variable's update, since
  in place its dot must be staged in a temporary; a dynamic_update_slice or scatter_add over its first
  operand, whose kernel then writes only the window or the updated rows). `shares[inst]` names the earlier instruction whose buffer inst reuses
  this way;
- values the root returns never share a buffer with each other and are never
  overwritten (each has its own result array, or its Variable's buffer); their
  live ranges run to the end of the schedule;
- `live_ranges[inst] = (first, last)`: schedule positions between which inst's
  buffer holds inst's value (last = len(schedule) for values the root returns);
- `peak_bytes`: the most arena bytes live at once; `arena_bytes`: the arena's size.
"""
from __future__ import annotations

from xlite.ir.buffers import ALIGNMENT, BufferAssignment, BufferSlice, aligned
from xlite.ir.module import Computation, Instruction, Module
from xlite.ir.symbolic import is_symbolic
from xlite.ir.opcodes import is_elementwise
from xlite.passes.pass_pipeline import Pass


# in-place legality ---------------------------------------------------------------------------
def _physical(shape) -> tuple:
    if shape.layout is None:
        return tuple(range(shape.rank - 1, -1, -1))
    return shape.layout.minor_to_major


def _same_elements(a, b) -> bool:
    """Same dims, layout and element size: element i of one sits at element i's bytes of the other."""
    return (a.dims == b.dims and a.dtype.itemsize == b.dtype.itemsize and _physical(a) == _physical(b))


def _same_index_user(user: Instruction, operand: Instruction) -> bool:
    return is_elementwise(user.opcode) and operand.shape.dims == user.shape.dims


def reads_at_own_index(inst: Instruction, operand: Instruction) -> bool:
    """Whether `inst` may write its result over `operand`'s buffer: it reads each element of
    operand only when computing the element at the same place (and nothing else of it)."""
    if inst.shape.is_tuple or operand.shape.is_tuple or not _same_elements(inst.shape, operand.shape):
        return False
    if is_elementwise(inst.opcode):
        return True
    if inst.opcode in ("dynamic_update_slice", "scatter_add"):   # operand's elements kept or added to
        return operand is inst.operands[0] and operand not in inst.operands[1:]
    if inst.opcode in ("all_reduce", "all_reduce_start", "all_reduce_done"):   # MPI reduces the buffer in place
        return True
    if inst.opcode != "fusion" or inst.attrs.get("kind") not in ("loop", "output"):
        return False
    fused = inst.called[0]
    params = {p.attrs["number"]: p for p in fused.parameters}
    aligned_set = _aligned_to_root(fused)
    return all(params[k] in aligned_set for k, o in enumerate(inst.operands) if o is operand)


def _aligned_to_root(comp: Computation) -> set:
    """Instructions of comp evaluated only at the root's index: every path to the root is
    through same-index elementwise ops."""
    users = comp.users()
    result = set()
    for inst in reversed(comp.instructions):
        if inst is comp.root:
            result.add(inst)
        elif users[inst] and all(u in result and _same_index_user(u, inst) for u in users[inst]):
            result.add(inst)
    return result


# Variable updates ------------------------------------------------------------------------------
def _alias_requests(module: Module) -> list:
    """(output index, returned value, parameter number) per output that asks to alias a parameter."""
    entry = module.entry
    aliases = module.output_aliases
    if not aliases or entry.root.opcode != "tuple":
        return []
    return [(out_index, entry.root.operands[out_index], number) for out_index, number in sorted(aliases.items())]


def place_aliased_outputs(module: Module) -> dict:
    """Instruction -> parameter number for each aliased output, inserting copies where in-place is unsafe."""
    requests = _alias_requests(module)
    if not requests:
        return {}
    entry = module.entry
    position = {inst: i for i, inst in enumerate(entry.instructions)}
    users = entry.users()
    params = {p.attrs["number"]: p for p in entry.parameters}
    placed: dict = {}
    for out_index, value, number in requests:
        param = params[number]
        last_read = max((position[u] for u in users[param] if u is not entry.root), default=-1)
        unsafe = (value.opcode in ("parameter", "constant") or value in placed
                  or position[value] < last_read
                  or (param in value.operands and not reads_at_own_index(value, param)))
        if unsafe:
            copy = Instruction("copy", [value], value.shape, metadata=value.metadata)
            entry.instructions.insert(len(entry.instructions) - 1, copy)
            entry.root.operands[out_index] = copy
            position = {inst: i for i, inst in enumerate(entry.instructions)}
            value = copy
        placed[value] = number
    return placed


def aliased_outputs(module: Module) -> dict:
    """What place_aliased_outputs would place without inserting any copy (for the scheduler's estimates)."""
    placed = {}
    for _, value, number in _alias_requests(module):
        if value.opcode not in ("parameter", "constant") and value not in placed:
            placed[value] = number
    return placed


# liveness-based assignment -----------------------------------------------------------------------
def returned_values(comp: Computation) -> dict:
    """The array values the computation's root returns -> their first index in the flattened result."""
    result: dict = {}
    count = 0

    def visit(inst: Instruction) -> None:
        nonlocal count
        if inst.opcode == "tuple":
            for o in inst.operands:
                visit(o)
        else:
            result.setdefault(inst, count)
            count += 1

    visit(comp.root)
    return result


class _Buffer:
    __slots__ = ("members", "size", "first", "last", "offset")

    def __init__(self, inst: Instruction, first: int, last: int):
        self.members = [inst]
        self.size = inst.shape.byte_size
        self.first, self.last = first, last
        self.offset = 0


def plan_buffers(comp: Computation, order: list | None = None, aliased: dict | None = None) -> BufferAssignment:
    """The liveness-based assignment of `comp`'s values for the schedule `order` (default: comp's own).

    `aliased` maps values to the parameter whose buffer they are written to."""
    order = list(comp.instructions if order is None else order)
    aliased = aliased or {}
    end = len(order)
    pos = {inst: i for i, inst in enumerate(order)}
    gtes: dict = {}
    for inst in order:
        if inst.opcode == "get_tuple_element":
            gtes.setdefault(inst.operands[0], []).append(inst)
    first = {inst: pos[inst] for inst in order}
    last = dict(first)

    def use(value: Instruction, at: int) -> None:
        if value.opcode == "tuple":
            for o in value.operands:
                use(o, at)
        elif value.shape.is_tuple:             # a while/conditional result: its elements' buffers
            for g in gtes.get(value, ()):
                use(g, at)
        else:
            last[value] = max(last[value], at)

    for i, inst in enumerate(order):
        for o in set(inst.operands):
            use(o, i)
        if inst.opcode == "get_tuple_element" and inst.operands[0].opcode != "tuple":
            first[inst] = pos[inst.operands[0]]   # written by the tuple-shaped producer
    returned = returned_values(comp)
    for value in returned:
        use(value, end)

    result = BufferAssignment()
    buffer_of: dict[Instruction, _Buffer] = {}
    buffers: list[_Buffer] = []
    for i, inst in enumerate(order):
        if inst.shape.is_tuple:
            continue
        size = inst.shape.byte_size
        if inst.opcode == "parameter":
            result.slices[inst] = BufferSlice("parameter", inst.attrs["number"], size)
            continue
        if inst.opcode == "constant":
            result.slices[inst] = BufferSlice("constant", 0, size)
            continue
        if inst in aliased:
            result.slices[inst] = BufferSlice("parameter", aliased[inst], size)
            continue
        if inst in returned:
            result.slices[inst] = BufferSlice("output", returned[inst], size)
            continue
        shared = _reusable(inst, i, buffer_of, last)
        if shared is not None:
            buf, whose = shared
            buf.members.append(inst)
            buf.last = max(buf.last, last[inst])
            result.shares[inst] = whose
        else:
            buf = _Buffer(inst, first[inst], last[inst])
            buffers.append(buf)
        buffer_of[inst] = buf
    result.arena_bytes, result.peak_bytes = _allocate(buffers, end)
    for buf in buffers:
        for inst in buf.members:
            result.slices[inst] = BufferSlice("arena", buf.offset, inst.shape.byte_size)
    for inst in order:
        if inst in result.slices:
            result.live_ranges[inst] = (first[inst], last[inst])
    return result


def _reusable(inst: Instruction, at: int, buffer_of: dict, last: dict):
    """(buffer, its instruction) that inst can take over at position `at`, or None."""
    if inst.opcode == "bitcast":
        x = inst.operands[0]
        if x in buffer_of and inst.shape.byte_size == x.shape.byte_size:
            return buffer_of[x], x
        return None
    if inst.opcode == "fusion" and inst.attrs["kind"] == "output":
        return None       # in place, the kernel would stage the dot in a temporary of the same size
    for o in inst.operands:
        buf = buffer_of.get(o)
        if buf is None or buf.last != at or buf.size != inst.shape.byte_size:
            continue
        readers = [x for x in inst.operands if buffer_of.get(x) is buf]
        if all(x is o for x in readers) and reads_at_own_index(inst, o):
            return buf, o
    return None


def _allocate(buffers: list, end: int) -> tuple:
    """Best-fit offsets for buffers live over [first, last]; returns (arena bytes, peak live bytes).
    Buffers of a symbolic size (xlite/ir/symbolic.py) go after all the others (`_allocate_symbolic`)."""
    fixed = [buf for buf in buffers if not is_symbolic(buf.size)]
    if len(fixed) == len(buffers):
        return _allocate_fixed(buffers, end)
    top, peak = _allocate_fixed(fixed, end)
    return _allocate_symbolic([buf for buf in buffers if is_symbolic(buf.size)], end, top, peak)


def _allocate_symbolic(buffers: list, end: int, base: int, peak: int) -> tuple:
    """Offsets (polynomials of the run's sizes) for buffers of symbolic sizes, from `base` on: a dead
    buffer's slice is reused only by one of exactly its size, so every offset holds for every run."""
    free: dict = {}                 # aligned size -> offsets of dead buffers' slices
    live: list = []
    top = base
    for buf in sorted(buffers, key=lambda b: b.first):
        for other in [o for o in live if o.last < buf.first]:      # dead before buf is written
            live.remove(other)
            free.setdefault(aligned(other.size), []).append(other.offset)
        need = aligned(buf.size)
        if free.get(need):
            buf.offset = free[need].pop()
        else:
            buf.offset, top = top, top + need
        if buf.last < end:
            live.append(buf)
    return top, peak + top - base


def _allocate_fixed(buffers: list, end: int) -> tuple[int, int]:
    starting: dict[int, list] = {}
    ending: dict[int, list] = {}
    for buf in buffers:
        starting.setdefault(buf.first, []).append(buf)
        if buf.last < end:
            ending.setdefault(buf.last, []).append(buf)
    free: list[list[int]] = []      # [offset, size], sorted by offset, coalesced
    top = live = peak = 0
    for p in sorted(set(starting) | set(ending)):
        for buf in starting.get(p, ()):
            need = aligned(buf.size)
            if need == 0:
                continue
            buf.offset, top = _take(free, need, top)
            live += need
            peak = max(peak, live)
        for buf in ending.get(p, ()):
            need = aligned(buf.size)
            if need:
                _give(free, buf.offset, need)
                live -= need
    return top, peak


def _take(free: list, need: int, top: int) -> tuple[int, int]:
    best = None
    for i, (offset, size) in enumerate(free):
        if size >= need and (best is None or size < free[best][1]):
            best = i
    if best is not None:
        offset, size = free[best]
        if size == need:
            free.pop(best)
        else:
            free[best] = [offset + need, size - need]
        return offset, top
    if free and free[-1][0] + free[-1][1] == top:      # grow the arena from its last free block
        offset = free.pop()[0]
        return offset, offset + need
    return top, top + need


def _give(free: list, offset: int, size: int) -> None:
    i = 0
    while i < len(free) and free[i][0] < offset:
        i += 1
    free.insert(i, [offset, size])
    if i + 1 < len(free) and free[i][0] + free[i][1] == free[i + 1][0]:
        free[i][1] += free.pop(i + 1)[1]
    if i > 0 and free[i - 1][0] + free[i - 1][1] == free[i][0]:
        free[i - 1][1] += free.pop(i)[1]


class BufferPlanner(Pass):
    """A pass whose result is a BufferAssignment rather than a changed Module: it keeps the one it
    made last in `assignment` (the pipeline runner collects it; the Module holds no pass results)."""

    assignment: BufferAssignment | None = None


class BufferAssignmentPass(BufferPlanner):
    """Liveness-based assignment over the entry's schedule: dead buffers are reused, elementwise
    results go in place where legal, Variable updates into their parameter's buffer."""

    name = "buffer-assignment"

    def run(self, module: Module) -> bool:
        aliased = place_aliased_outputs(module)
        self.assignment = plan_buffers(module.entry, aliased=aliased)
        return True


class NaiveBufferAssignment(BufferPlanner):
    """Gives every array value its own arena slice, with no reuse; the baseline the liveness-based pass beats."""

    name = "naive-buffer-assignment"

    def run(self, module: Module) -> bool:
        entry = module.entry
        assignment = BufferAssignment()
        aliased = place_aliased_outputs(module)
        offset = 0
        for inst in entry.instructions:
            if inst.shape.is_tuple:
                continue
            if inst.opcode == "parameter":
                assignment.slices[inst] = BufferSlice("parameter", inst.attrs["number"], inst.shape.byte_size)
            elif inst.opcode == "constant":
                assignment.slices[inst] = BufferSlice("constant", 0, inst.shape.byte_size)
            elif inst in aliased:
                assignment.slices[inst] = BufferSlice("parameter", aliased[inst], inst.shape.byte_size)
            else:
                assignment.slices[inst] = BufferSlice("arena", offset, inst.shape.byte_size)
                offset += aligned(inst.shape.byte_size)
        assignment.arena_bytes = offset
        assignment.peak_bytes = offset
        self.assignment = assignment
        return True
