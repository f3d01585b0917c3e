"""The walk both backends make over a computation, giving every instruction the location of its value.

Parameters take the locations their caller passes; constants whatever the
backend makes of them (a global, or a buffer made only when something needs
it); a tuple is the tuple of its elements' locations; a get_tuple_element is
its element, or a copy of it in the instruction's own slice; a bitcast is its
operand's bytes. Everything else (a kernel, a while, a conditional) is computed
into its own location: in the entry, the buffer assignment's slice (or the
backend's own place for a root output); elsewhere fresh scratch, where a
tuple's leaves reuse the slices of the get_tuple_elements that read them. The
backends implement the hooks: what a location is, and how a kernel, a copy, a
while and a conditional are emitted.
"""
from __future__ import annotations

from xlite import errors
from xlite.ir.module import Computation, Instruction, Module
from xlite.ir.shape import Shape, leaf_shapes


def live_instructions(comp: Computation) -> set:
    """The instructions the root depends on: only these are emitted."""
    live, stack = set(), [comp.root]
    while stack:
        inst = stack.pop()
        if inst in live:
            continue
        live.add(inst)
        stack.extend(inst.operands)
    return live


def operands_first(roots: list, stops) -> list[Instruction]:
    """The instructions `roots` compute from, operands first, down to (not into) those in `stops`: what one
    kernel evaluates when `stops` are its inputs."""
    order: list[Instruction] = []
    seen: set = set()

    def visit(inst: Instruction) -> None:
        if inst in seen or inst in stops:
            return
        seen.add(inst)
        for operand in inst.operands:
            visit(operand)
        order.append(inst)

    for root in roots:
        visit(root)
    return order


def leaves(loc) -> list:
    """The array locations of a (possibly nested) tuple of locations, in order."""
    if isinstance(loc, tuple):
        return [leaf for e in loc for leaf in leaves(e)]
    return [loc]


class ComputationWalker:
    """Walks computations in schedule order, placing values and asking the backend to emit what computes them.

    A location is the backend's own value (with a `kind`: "param" and "const" are read-only to the
    walk), or a tuple of locations for a tuple-shaped value."""

    backend = ""                    # the backend's name, for error messages
    location: type                  # the backend's Loc(kind, index): "param" + number, "arena" + offset

    def __init__(self, module: Module, assignment):
        self.module = module
        self.assignment = assignment
        self.arena_end = assignment.arena_bytes      # sub-computation buffers go after the assigned slices
        self.overrides: dict = {}                    # entry value -> location the backend chose (root outputs)
        self._while_bodies = None                    # the computations that are while bodies (found when needed)

    # hooks --------------------------------------------------------------------------------------------
    def scratch(self, shape: Shape):
        """A fresh buffer for one array after everything placed so far."""
        raise NotImplementedError

    def constant(self, inst: Instruction):
        """The location of a constant where the walk meets it."""
        raise NotImplementedError

    def output_loc(self, inst: Instruction, index: int):
        """The location of a root output whose slice is the caller's result `index`."""
        raise NotImplementedError

    def resolve(self, loc):
        """A location as the emitted code uses it (a backend with lazy constants makes them here)."""
        return loc

    def emit_copy(self, src, dst, shape: Shape) -> None:
        """Copies one array between two different locations."""
        raise NotImplementedError

    def emit_kernel(self, inst: Instruction, locs: dict, out, outputs: list) -> None:
        """Computes inst (non-empty) into `outputs`, its (location, shape) per leaf; `out` is its location."""
        raise NotImplementedError

    def emit_while(self, inst: Instruction, init, state) -> None:
        """state = init; while cond(state): state = body(state) (see run_computation, assign_state)."""
        raise NotImplementedError

    def emit_conditional(self, inst: Instruction, operand_locs: list, out) -> None:
        """out = the branch the selector picks, applied to its operand."""
        raise NotImplementedError

    # the walk -----------------------------------------------------------------------------------------
    def entry_loc(self, inst: Instruction):
        """Where an entry value lives: the backend's place for a root output, else its assigned slice; None
        for a value with no slice (a tuple)."""
        own = self.overrides.get(inst)
        if own is not None:
            return own
        s = self.assignment.slices.get(inst)
        if s is None:
            return None
        if s.kind == "parameter":
            return self.location("param", s.offset)
        if s.kind == "constant":
            return self.constant(inst)
        if s.kind == "output":
            return self.output_loc(inst, s.offset)
        return self.location("arena", s.offset)

    def emit_computation(self, comp: Computation, param_locs: dict, overrides: dict | None = None) -> dict:
        """Emits comp's instructions; returns inst -> location (a tuple of them for a tuple). `param_locs` maps
        parameters (or their numbers) to locations; `overrides` places values of a sub-computation."""
        is_entry = comp is self.module.entry
        overrides = overrides or {}
        live = live_instructions(comp)
        locs: dict = {}
        for inst in comp.instructions:
            if inst not in live:
                continue
            op = inst.opcode
            if op == "parameter":
                locs[inst] = param_locs[inst] if inst in param_locs else param_locs[inst.attrs["number"]]
                continue
            if op == "constant":
                locs[inst] = self.constant(inst)
                continue
            if op == "tuple":
                locs[inst] = tuple(locs[o] for o in inst.operands)
                continue
            own = self.entry_loc(inst) if is_entry else overrides.get(inst)
            if op == "bitcast" and not isinstance(locs[inst.operands[0]], tuple) and (
                    own is None or own == locs[inst.operands[0]]):
                locs[inst] = locs[inst.operands[0]]       # the same bytes: nothing to do
                continue
            if op == "get_tuple_element":
                element = locs[inst.operands[0]][inst.attrs["index"]]
                if own is None or inst.shape.is_tuple:
                    locs[inst] = element
                else:
                    self.copy(element, own, inst.shape)
                    locs[inst] = own
                continue
            if own is None and op in ("dynamic_update_slice", "scatter_add") and not is_entry:
                own = self._in_place_target(inst, comp, locs)
            out = own if own is not None else self._fresh(inst, comp)
            locs[inst] = out
            if op == "while":
                self.emit_while(inst, locs[inst.operands[0]], out)
            elif op == "conditional":
                self.emit_conditional(inst, [locs[o] for o in inst.operands], out)
            else:
                self._kernel(inst, locs, out)
        return locs

    def run_computation(self, comp: Computation, param_locs: dict, out, shape: Shape,
                        overrides: dict | None = None) -> None:
        """out <- comp(params): a loop body, a branch, or a fusion run op by op."""
        result = self.emit_computation(comp, param_locs, overrides)
        self.assign_state(result[comp.root], out, shape)

    def _kernel(self, inst: Instruction, locs: dict, out) -> None:
        shapes = leaf_shapes(inst.shape)
        out_locs = list(out) if inst.shape.is_tuple else [out]
        if any(isinstance(o, tuple) for o in out_locs):
            raise errors.unimplemented(f"{inst.opcode}: nested tuple results are not supported by the "
                                       f"{self.backend} backend")
        if sum(s.num_elements for s in shapes) == 0 and inst.opcode != "host_call":    # (a call of no data runs)
            return
        self.emit_kernel(inst, locs, out, list(zip(out_locs, shapes)))

    def kernel_inputs(self, inst: Instruction, locs: dict) -> tuple[Instruction, dict]:
        """What a kernel computes (a fusion's root, else inst) and the location of each of its inputs (the
        fused computation's parameters, else inst's operands)."""
        if inst.opcode == "fusion":
            fused = inst.called[0]
            pairs = [(p, locs[inst.operands[p.attrs["number"]]]) for p in fused.parameters]
            root = fused.root
        else:
            pairs = [(o, locs[o]) for o in inst.operands]
            root = inst
        for _, loc in pairs:
            if isinstance(loc, tuple):
                raise errors.unimplemented(f"{inst.opcode}: tuple-shaped operands are not supported by the "
                                           f"{self.backend} backend")
        return root, dict(pairs)

    # buffers ------------------------------------------------------------------------------------------
    def _in_place_target(self, inst: Instruction, comp: Computation, locs: dict):
        """The operand's buffer, when a sub-computation's dynamic_update_slice (or scatter_add) may write its
        window (its rows) there in place, as XLA's do: the buffer is this computation's own (fresh scratch,
        or the loop state of a while body) and nothing emitted after inst reads its old value."""
        target = locs[inst.operands[0]]
        if isinstance(target, tuple) or getattr(target, "kind", "const") in ("param", "const"):
            return None
        if any(target in leaves(locs[o]) for o in inst.operands[1:]):
            return None
        if self._while_bodies is None:
            self._while_bodies = {w.called[1] for c in self.module.all_computations() for w in c.instructions
                                  if w.opcode == "while"}
        aliases = [a for a in locs if target in leaves(locs[a])]
        if any(a.opcode == "parameter" for a in aliases) and comp not in self._while_bodies:
            return None         # a branch's or fusion's parameter: the caller's buffer
        after = comp.instructions[comp.instructions.index(inst) + 1:]
        live = live_instructions(comp)
        for user in after:
            for o in user.operands:
                if o not in aliases or user not in live:
                    continue
                if user.opcode == "get_tuple_element" and isinstance(locs[o], tuple) and (
                        target not in leaves(locs[o][user.attrs["index"]])):
                    continue    # another element of the loop state
                return None
        return target

    def _fresh(self, inst: Instruction, comp: Computation):
        """Buffers for a value with no assigned slice; a tuple-shaped value's leaves reuse the slices of
        the get_tuple_elements that read them (writable ones: not a parameter's, not constant data)."""
        if not inst.shape.is_tuple:
            return self.scratch(inst.shape)
        by_index = {}
        if comp is self.module.entry:
            for user in comp.instructions:
                if user.opcode == "get_tuple_element" and user.operands[0] is inst:
                    loc = self.entry_loc(user)
                    if loc is not None and loc.kind not in ("param", "const"):
                        by_index.setdefault(user.attrs["index"], loc)
        return self._fresh_tuple(inst.shape, by_index)

    def _fresh_tuple(self, shape: Shape, by_index: dict | None = None):
        if not shape.is_tuple:
            return self.scratch(shape)
        by_index = by_index or {}
        return tuple(by_index.get(i) or self._fresh_tuple(s) for i, s in enumerate(shape.elements))

    def copy(self, src, dst, shape: Shape) -> None:
        """dst <- src, leaf by leaf; nothing where they are the same buffer."""
        src, dst = self.resolve(src), self.resolve(dst)
        if src == dst:
            return
        if shape.is_tuple:
            for s, d, e in zip(src, dst, shape.elements):
                self.copy(s, d, e)
            return
        self.emit_copy(src, dst, shape)

    def assign_state(self, new, state, shape: Shape) -> None:
        """state <- new, staging through fresh buffers any new leaf that lives in another state leaf."""
        new_leaves, state_leaves = leaves(self.resolve(new)), leaves(self.resolve(state))
        shapes = leaf_shapes(shape)
        staged = []
        for loc, target, s in zip(new_leaves, state_leaves, shapes):
            if loc != target and loc in state_leaves:
                tmp = self.scratch(s)
                self.copy(loc, tmp, s)
                loc = tmp
            staged.append(loc)
        for loc, target, s in zip(staged, state_leaves, shapes):
            self.copy(loc, target, s)

    # root outputs -------------------------------------------------------------------------------------
    def output_sources(self) -> list[tuple[str, int, Instruction]]:
        """How each root output is produced, as (kind, index, value): "param" (a Variable updated in place,
        index its parameter number, even when the value is also fetched), "same_as" (an earlier output),
        "const", "param_before"/"param_after" (a parameter's buffer before/after the run), or "computed"
        (into the backend's place for it; index counts the computed outputs before it)."""
        root = self.module.entry.root
        aliases = self.module.output_aliases
        elements = root.operands if root.opcode == "tuple" else [root]
        sources, first, computed = [], {}, 0
        for i, inst in enumerate(elements):
            if inst.shape.is_tuple:
                raise errors.unimplemented(f"nested tuple outputs are not supported by the {self.backend} backend")
            slice_ = self.assignment.slices.get(inst)
            param_slice = slice_ is not None and slice_.kind == "parameter"
            if param_slice and aliases.get(i) == slice_.offset:
                sources.append(("param", slice_.offset, inst))
                continue
            if inst in first:
                sources.append(("same_as", first[inst], inst))
                continue
            first[inst] = i
            if inst.opcode == "constant":
                sources.append(("const", 0, inst))
            elif inst.opcode == "parameter":
                sources.append(("param_before", inst.attrs["number"], inst))
            elif param_slice:
                sources.append(("param_after", slice_.offset, inst))
            else:
                sources.append(("computed", computed, inst))
                computed += 1
        return sources


__all__ = ["ComputationWalker", "live_instructions", "leaves"]
