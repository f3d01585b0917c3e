"""The functions `map`, `filter`, `flat_map` and `interleave` take: traced once, run compiled per element.

Like TF (and like `tf.function`), the user's function is called once, on placeholders of the input
dataset's element spec, in a graph of its own; what it returns is the trace's output. Each element
then runs through a Session on that graph: the compiled executable of the trace (one per element
shape, through the one compile driver), so the arithmetic of a map is compiled code, never NumPy.
A function that returns a Dataset (`flat_map`, `interleave`) returns one whose sources hold tensors of
the trace: `evaluate` gives their values for one element.

Threads (a parallel map) each get a Session of their own on the trace's graph, since one executable
runs one call at a time.
"""
from __future__ import annotations

import threading

import numpy as np

from xlite import errors
from xlite.data import structure
from xlite.data.text import HostProgram, HostString
from xlite.frontend import nest
from xlite.frontend.variables import placeholder
from xlite.frontend.convert import constant, convert_to_tensor
from xlite.frontend.graph import Graph, Tensor
from xlite.runtime.session import Session


def call_with_element(fn, element):
    """TF's calling convention: a tuple element is spread over the arguments, anything else is one."""
    if isinstance(element, tuple) and not hasattr(element, "_fields"):
        return fn(*element)
    return fn(element)


class _TraceGraph(Graph):
    """The graph a dataset function is traced into. A tensor of another graph the function reads is
    captured as TF does: a constant by value, any other tensor as a placeholder fed with the value it
    has when a pass over the dataset starts (the dataset lists it among its graph tensors)."""

    def __init__(self):
        super().__init__()
        self.captures: list[tuple[Tensor, Tensor]] = []     # (outer tensor, its placeholder here)
        self._memo: dict[int, Tensor] = {}

    def capture(self, t: Tensor) -> Tensor:
        found = self._memo.get(id(t))
        if found is not None:
            return found
        if t._static_value is not None:
            inner = constant(np.asarray(t._static_value), dtype=t.dtype)
        elif t.op.type == "VariableV2" or getattr(t.op, "type", None) == "VarHandleOp":
            raise errors.unimplemented("a dataset function that reads a tf.Variable of the enclosing graph")
        else:
            inner = placeholder(t.dtype, t.shape, name="captured")
            self.captures.append((t, inner))
        self._memo[id(t)] = inner
        return inner


class TracedFunction:
    """A dataset function traced into its own graph; `__call__` runs it on one element's arrays."""

    def __init__(self, fn, input_spec, what: str):
        self.what = what
        self.graph = _TraceGraph()
        self.input_spec = input_spec
        self.program = HostProgram()           # string components: host steps (xlite/data/text.py)
        with self.graph.as_default():
            self.inputs = [HostString(self.program, s.shape, f"args_{i}") if s.dtype is structure.string
                           else placeholder(s.dtype, s.shape, name=f"args_{i}")
                           for i, s in enumerate(structure.flat_specs(input_spec))]
            args = nest.pack_sequence_as(input_spec, self.inputs)
            result = call_with_element(_autograph(fn), args)
            self.returned = result
            if _is_dataset(result):
                self.flat_results, self.output_spec, self.structure = [], None, None
            else:
                result = structure.normalize(result, lists_are_tensors=False)
                flat = [v if isinstance(v, HostString) else _as_tensor(v, what) for v in nest.flatten(result)]
                self.flat_results = flat
                self.structure = result
                self.output_spec = nest.pack_sequence_as(result, [
                    structure.TensorSpec(t.shape, structure.string) if isinstance(t, HostString)
                    else structure.spec_of_tensor(t) for t in flat])
        self.outputs = [t for t in self.flat_results if isinstance(t, Tensor)]
        self.on_host = any(isinstance(t, HostString) for t in self.inputs)
        self._local = threading.local()
        self._sessions: list[Session] = []
        self._lock = threading.Lock()

    def session(self) -> Session:
        """This thread's Session on the trace's graph."""
        sess = getattr(self._local, "session", None)
        if sess is None:
            sess = self._local.session = Session(graph=self.graph)
            with self._lock:
                self._sessions.append(sess)
        return sess

    @property
    def captures(self) -> list[tuple[Tensor, Tensor]]:
        return self.graph.captures

    def bind(self, env: dict):
        """The function for one pass: captured tensors fed with their values in the pass's environment."""
        if not self.graph.captures:
            return self
        return _Bound(self, {inner: np.asarray(env[outer]) for outer, inner in self.graph.captures})

    def feeds(self, element, extra: dict | None = None) -> dict:
        """The placeholders' values: arrays (a NumPy scalar slice becomes a 0-d array, so the run takes
        the Session's steady state rather than its converting path)."""
        if self.on_host:
            return self._host_values(element, extra)[1]
        feeds = {p: v if type(v) is np.ndarray else np.asarray(v) for p, v in zip(self.inputs, nest.flatten(element))}
        if extra:
            feeds.update(extra)
        return feeds

    def _host_values(self, element, extra: dict | None = None) -> tuple[dict, dict]:
        """(values of the HostStrings, feeds) for one element whose string components run host steps."""
        strings, feeds = {}, dict(extra or {})
        for p, v in zip(self.inputs, nest.flatten(element)):
            if isinstance(p, HostString):
                strings[p] = v
            else:
                feeds[p] = v if type(v) is np.ndarray else np.asarray(v)
        values, filled = self.program.run(strings)
        feeds.update(filled)
        return values, feeds

    def __call__(self, element, extra: dict | None = None):
        """The function's value for one element: the same structure as the trace's outputs."""
        if not self.on_host:
            if not self.outputs:
                return self.structure
            values = self.session().run(self.outputs, self.feeds(element, extra))
            return nest.pack_sequence_as(self.structure, [np.asarray(v) for v in values])
        strings, feeds = self._host_values(element, extra)
        computed = iter(self.session().run(self.outputs, feeds) if self.outputs else [])
        return nest.pack_sequence_as(self.structure, [strings[t] if isinstance(t, HostString)
                                                      else np.asarray(next(computed)) for t in self.flat_results])

    def vectorized(self) -> "ChunkFunction | None":
        """The function over chunks of elements (xlite/data/vectorize.py), or None where it has none."""
        if not hasattr(self, "_vectorized"):
            from xlite.data.vectorize import vectorize
            ok = (self.outputs and not self.on_host and not self.graph.captures
                  and len(self.outputs) == len(self.flat_results))
            made = vectorize(self.inputs, self.outputs) if ok else None
            self._vectorized = ChunkFunction(self, *made) if made is not None else None
        return self._vectorized

    def evaluate(self, tensors: list, element, extra: dict | None = None) -> list[np.ndarray]:
        """Values of trace tensors or HostStrings (a returned dataset's sources) for one element."""
        if not tensors:
            return []
        strings, feeds = self._host_values(element, extra) if self.on_host else ({}, self.feeds(element, extra))
        graph_tensors = [t for t in tensors if isinstance(t, Tensor)]
        computed = iter(self.session().run(graph_tensors, feeds) if graph_tensors else [])
        return [strings[t] if isinstance(t, HostString) else np.asarray(next(computed)) for t in tensors]


class _Bound:
    """A TracedFunction with its captured tensors' values for one pass."""

    def __init__(self, fn: TracedFunction, extra: dict):
        self.fn, self.extra = fn, extra

    def __call__(self, element):
        return self.fn(element, self.extra)

    def evaluate(self, tensors: list, element) -> list[np.ndarray]:
        return self.fn.evaluate(tensors, element, self.extra)


class ChunkFunction:
    """A traced function rebuilt over a leading batch dim: one run computes a chunk of elements."""

    def __init__(self, fn: TracedFunction, graph: Graph, inputs: list[Tensor], outputs: list[Tensor]):
        self.fn, self.graph, self.inputs, self.outputs = fn, graph, inputs, outputs
        self._local = threading.local()

    def __call__(self, stacked: list[np.ndarray]) -> list[np.ndarray]:
        """The outputs for a chunk: one array per input with the elements' rows (an array per output)."""
        sess = getattr(self._local, "session", None)
        if sess is None:
            sess = self._local.session = Session(graph=self.graph)
        return sess.run(self.outputs, dict(zip(self.inputs, stacked)))


def _autograph(fn):
    """The user's function with AutoGraph's conversion (Python `if`/`while` on tensors become tf.cond /
    tf.while_loop), as TF applies it to dataset functions; xlite's own functions stay as they are."""
    if (getattr(fn, "__module__", None) or "").split(".")[0] == "xlite":
        return fn
    from xlite.function.autograph import convert
    return convert(fn)


def _is_dataset(value) -> bool:
    from xlite.data.dataset import Dataset
    return isinstance(value, Dataset)


def _as_tensor(value, what: str) -> Tensor:
    if isinstance(value, Tensor):
        return value
    if value is None or _is_dataset(value):
        raise TypeError(f"The function passed to {what} returned {value!r}, which is not a tensor")
    try:
        return convert_to_tensor(value)
    except (TypeError, ValueError) as e:
        raise TypeError(f"The function passed to {what} returned a value that is not a tensor: {e}") from None


def check_predicate(fn: TracedFunction) -> None:
    """filter's function must return a scalar bool, as TF checks when it traces it."""
    spec = fn.output_spec
    if not isinstance(spec, structure.TensorSpec) or spec.dtype.name != "bool" or \
            (spec.shape.ndims is not None and spec.shape.ndims != 0):
        raise ValueError(f"Invalid `predicate`. `predicate` must return a `tf.bool` scalar tensor, "
                         f"but its return type is {spec}.")


__all__ = ["TracedFunction", "call_with_element", "check_predicate"]
