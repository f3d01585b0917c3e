"""tf.GradientTape: records eager ops and replays tf.gradients' own rules backwards over them.

While executing eagerly, a tape on `recording.active` is offered every executed op (dispatch.py) and
every Variable read (variables.py). It keeps an op when one of the op's inputs is a value it watches
(`watch`, or a read of a trainable Variable), and then watches the op's outputs, as TF's tape does.
`gradient` walks the kept ops that lie between the sources and the targets in reverse and applies
each op type's rule from xlite/frontend/gradients.py to the recorded op (an EagerOp, which has the
interface rules use of an Operation). The rules build ordinary ops, which run eagerly, so an outer
tape records them and differentiates them again (second derivatives).

Inside a tf.function trace (graph mode) `gradient` is `tf.gradients` on the trace graph; an eager
Variable source stands for the VariableV2 the trace captured for it.
"""
from __future__ import annotations

import contextlib

from xlite.eager import recording
from xlite.eager.tensor import EagerTensor
from xlite.frontend import nest
from xlite.frontend.convert import convert_to_tensor
from xlite.frontend.fill_ops import ones_like, zeros_like
from xlite.frontend.gradients import UnconnectedGradients, sum_gradients, backpropagate, gradients
from xlite.frontend.graph import Tensor, executing_eagerly, get_default_graph
from xlite.frontend.variables import Variable


class GradientTape:
    """TF's GradientTape: `with tf.GradientTape() as tape: ...; tape.gradient(loss, vars)`."""

    def __init__(self, persistent: bool = False, watch_accessed_variables: bool = True):
        self._persistent = bool(persistent)
        self._watch_accessed_variables = bool(watch_accessed_variables)
        self._ops: list = []
        self._producer: dict = {}               # id of a recorded op's output -> that op
        self._watched: set[int] = set()         # ids of watched values (kept alive by _keep and _ops)
        self._keep: list = []
        self._variables: list = []              # the Variables read or watched, in order
        self._graph_watched: set[int] = set()   # graph mode: watched tensors
        self._graph_stops: list[tuple] = []     # graph mode: (graph, first op id, last op id) unrecorded
        self._graph_windows: list[list] = []    # graph mode: [graph, first op id, last op id or None] recorded
        self._recording = False
        self._used = False

    # recording ----------------------------------------------------------------------------------
    def __enter__(self) -> "GradientTape":
        self._push()
        return self

    def __exit__(self, *exc) -> None:
        self._pop()

    def _push(self) -> None:
        if self._recording:
            raise ValueError("Tape is still recording, This can happen if you try to re-enter an already-active tape.")
        recording.active.append(self)
        self._recording = True
        if not executing_eagerly():
            graph = get_default_graph()
            self._graph_windows.append([graph, graph._op_counter, None])

    def _pop(self) -> None:
        if self in recording.active:
            recording.active.remove(self)
        self._recording = False
        if self._graph_windows and self._graph_windows[-1][2] is None:
            self._graph_windows[-1][2] = self._graph_windows[-1][0]._op_counter

    def watch(self, tensor) -> None:
        """Records the ops computed from `tensor` (tensors, Variables, or nested structures of them)."""
        for t in nest.flatten(tensor):
            if getattr(t, "_is_eager_variable", False):
                if executing_eagerly():
                    self._watch_value(t._handle)
                    self._note_variable(t)
                else:
                    self._graph_watched.add(id(t._variable))
            elif isinstance(t, EagerTensor):
                self._watch_value(t)
            elif isinstance(t, (Tensor, Variable)):
                self._graph_watched.add(id(convert_to_tensor(t)))
            else:
                raise ValueError(f"Passed in object {t!r} of type {type(t).__name__!r}, not tf.Tensor or "
                                 "tf.Variable.")

    def _watch_value(self, t) -> None:
        if id(t) not in self._watched:
            self._watched.add(id(t))
            self._keep.append(t)

    def _note_variable(self, variable) -> None:
        if not any(v is variable for v in self._variables):
            self._variables.append(variable)

    def _record(self, op: recording.EagerOp) -> None:
        """Keeps `op` when it reads a watched value (or a trainable Variable)."""
        watched = self._watched
        if op.type == "ReadVariableOp":
            handle = op.inputs[0]
            variable = handle.op._py_variable
            if id(handle) not in watched:
                if not (self._watch_accessed_variables and variable.trainable):
                    return
                self._watch_value(handle)
            self._note_variable(variable)
        elif not any(id(t) in watched for t in op.inputs):
            return
        self._ops.append(op)
        producer = self._producer
        for t in op.outputs:
            watched.add(id(t))
            producer[id(t)] = op

    @contextlib.contextmanager
    def stop_recording(self):
        """Ops inside the block are not recorded (their results are constants to this tape)."""
        if not self._recording:
            raise ValueError("Tape.stop_recording() can only be called while the tape is recording.")
        graph = None if executing_eagerly() else get_default_graph()
        first = graph._op_counter if graph is not None else 0
        self._pop()
        try:
            yield
        finally:
            self._push()
            if graph is not None:
                self._graph_stops.append((graph, first, graph._op_counter))

    def reset(self) -> None:
        """Forgets everything recorded so far (the tape keeps recording if it was)."""
        self._ops, self._producer, self._watched, self._keep, self._variables = [], {}, set(), [], []
        self._graph_watched, self._graph_stops = set(), []
        self._graph_windows = [[g, g._op_counter, None] for g, _, last in self._graph_windows[-1:] if last is None]

    def watched_variables(self) -> tuple:
        return tuple(self._variables)

    # differentiating ---------------------------------------------------------------------------
    def gradient(self, target, sources, output_gradients=None,
                 unconnected_gradients=UnconnectedGradients.NONE):
        """d(target)/d(sources), shaped like `sources`; None (or zeros) where no recorded path joins them."""
        if self._used and not self._persistent:
            raise RuntimeError("A non-persistent GradientTape can only be used to compute one set of "
                               "gradients (or jacobians)")
        self._used = True
        unconnected = getattr(unconnected_gradients, "value", unconnected_gradients)
        if unconnected not in ("none", "zero"):
            raise ValueError(f"Unknown value for unconnected_gradients: {unconnected_gradients!r}")
        flat_sources = nest.flatten(sources)
        flat_targets = nest.flatten(target)
        grads_in = None if output_gradients is None else nest.flatten(output_gradients)
        if grads_in is not None and len(grads_in) != len(flat_targets):
            raise ValueError(f"Length mismatch: {len(grads_in)} output_gradients for {len(flat_targets)} targets")
        was_recording = self._recording
        if was_recording:
            self._pop()                 # the gradient's own ops are not this tape's (outer tapes record them)
        try:
            if executing_eagerly():
                grads = self._eager_gradient(flat_targets, flat_sources, grads_in, unconnected)
            else:
                grads = self._graph_gradient(flat_targets, flat_sources, grads_in, unconnected)
        finally:
            if was_recording:
                self._push()
        return nest.pack_sequence_as(sources, grads)

    def _eager_gradient(self, targets, sources, grads_in, unconnected) -> list:
        source_keys = []
        for s in sources:
            if getattr(s, "_is_eager_variable", False):
                source_keys.append(id(s._handle))
            elif isinstance(s, EagerTensor):
                source_keys.append(id(s))
            else:
                raise ValueError(f"GradientTape.gradient: a source must be an eager tensor or Variable while "
                                 f"executing eagerly, got {s!r}")
        targets = [t._read() if getattr(t, "_is_eager_variable", False) else convert_to_tensor(t) for t in targets]
        seeds = [(t, ones_like(t) if grads_in is None or grads_in[k] is None
                  else convert_to_tensor(grads_in[k], dtype=t.dtype))
                 for k, t in enumerate(targets) if t.dtype.is_floating]
        watched = {k for k in source_keys if k in self._watched}       # an unwatched source is unconnected
        pending = backpropagate(seeds, reversed(self._between(targets, watched)), id, _sum, zeros_like)
        result = []
        for s, key in zip(sources, source_keys):
            g = _sum(pending.get(key)) if key in watched else None
            if g is None and unconnected == "zero":
                g = zeros_like(s._read() if getattr(s, "_is_eager_variable", False) else s)
            result.append(g)
        return result

    def _between(self, targets: list, sources: set) -> list:
        """The recorded ops on some path from a source to a target, in execution order."""
        producer = self._producer
        backward, stack = set(), [id(t) for t in targets]
        while stack:
            op = producer.get(stack.pop())
            if op is not None and id(op) not in backward:
                backward.add(id(op))
                stack.extend(id(t) for t in op.inputs)
        reached, between = set(sources), []
        for op in self._ops:
            if id(op) in backward and any(id(t) in reached for t in op.inputs):
                between.append(op)
                reached.update(id(t) for t in op.outputs)
        return between

    def _graph_gradient(self, targets, sources, grads_in, unconnected) -> list:
        """Inside a tf.function trace: tf.gradients on the trace graph."""
        xs = [s._variable if getattr(s, "_is_eager_variable", False) else convert_to_tensor(s) for s in sources]
        ys = [convert_to_tensor(t) for t in targets]
        stops = [t for graph, first, last in self._graph_stops for op in graph.get_operations()
                 if first < op._id <= last for t in op.outputs]
        grads = gradients(ys, xs, grad_ys=grads_in, stop_gradients=stops or None,
                          unconnected_gradients=unconnected)
        return [g if self._graph_watches(x) else zeros_like(x) if unconnected == "zero" else None
                for g, x in zip(grads, xs)]

    def _graph_watches(self, x) -> bool:
        """As TF's tape in a trace: a source is watched, a trainable Variable (with watch_accessed_variables),
        or computed while recording from one of those; anything else is unconnected."""
        if id(x) in self._graph_watched or self._watched_variable(x):
            return True
        seen, todo = set(), [x.op]
        while todo:
            op = todo.pop()
            if id(op) in seen or not self._graph_recorded(op):
                continue
            seen.add(id(op))
            for t in op.inputs:
                if id(t) in self._graph_watched or self._watched_variable(t):
                    return True
                todo.append(t.op)
        return False

    def _watched_variable(self, t) -> bool:
        op = getattr(t, "op", None)
        if isinstance(t, Variable):
            op = t.op
        if op is None or op.type != "VariableV2":
            return False
        variable = getattr(op, "_py_variable", None)
        if variable is None:   # a trace's stand-in for an eager Variable it captured
            variable = next((v for v, inner in getattr(op.graph, "captures", ()) if inner is t), None)
        return self._watch_accessed_variables and getattr(variable, "trainable", True)

    def _graph_recorded(self, op) -> bool:
        """Whether `op` was created while this tape recorded (outside its stop_recording blocks)."""
        def within(windows):
            return any(graph is op.graph and first < op._id <= (last if last is not None else graph._op_counter)
                       for graph, first, last in windows)
        return within(self._graph_windows) and not within(self._graph_stops)


def _sum(grads: list | None):
    """The sum of the gradients one value received, each made an eager tensor (None: it received none)."""
    return sum_gradients([convert_to_tensor(g) for g in grads or ()])


__all__ = ["GradientTape", "UnconnectedGradients"]
