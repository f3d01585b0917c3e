"""Running a trace eagerly: one executable per input shapes, compiled through the compile driver.

The trace is lowered as a Session lowers a run (`lower_run`: the function's outputs are the fetches,
its Variable assignments the targets, its argument and captured placeholders the feeds) and compiled
with `xlite.runtime.driver.compile`, the full pass pipeline. A captured eager Variable is a Variable
parameter: the call passes the Variable's own array and stores the update back, which the cpu
executable has already written into that array (donation), so nothing is copied.
"""
from __future__ import annotations

import numpy as np

from xlite import errors
from xlite.frontend.lower import lower_run
from xlite.runtime import driver, host_fed
from xlite.runtime.memory import allocation_errors


class ArgumentVariable:
    """Stands for the Variable a call passes as its k-th Variable argument (the trace's VariableV2 for
    that argument is bound to whichever Variable each call gives, as TF keys Variables by spec)."""

    __slots__ = ("k",)

    def __init__(self, k: int):
        self.k = k


class Signature:
    """One compiled call: the executable and where each parameter comes from and result goes."""

    __slots__ = ("executable", "params", "fetches", "updates", "fresh", "shapes")

    def __init__(self, lowered, executable, feed_index: dict, variables: dict, shapes: tuple):
        self.executable = executable
        self.shapes = shapes             # the feeds' shapes it was compiled for
        self.params = []                 # ("feed", index) | ("variable", Variable or ArgumentVariable) | ("rng", None)
        for kind, item in lowered.params:
            if kind == "feed":
                self.params.append(("feed", feed_index[id(item)]))
            elif kind == "variable":
                self.params.append(("variable", variables[id(item)]))
            else:
                self.params.append(("rng", None))
        self.fetches = [j for j, (kind, _) in enumerate(lowered.results) if kind == "fetch"]
        self.updates = [(j, variables[id(item)]) for j, (kind, item) in enumerate(lowered.results)
                        if kind == "update"]
        self.fresh = getattr(executable, "fresh_outputs", False)


class GraphRunner:
    """Calls a FuncGraph on NumPy values of its argument placeholders (captured values it feeds itself)."""

    def __init__(self, func_graph, target: str, fetches: list | None = None, targets: list | None = None):
        self.graph = func_graph
        self.target = target
        self.fetches = list(func_graph.outputs) if fetches is None else list(fetches)
        self.targets = func_graph.stateful_ops() if targets is None else list(targets)
        captured = [(v, t) for v, t in func_graph.captures if t.op.type != "VariableV2"]
        self.feeds = list(func_graph.arg_inputs) + [t for _, t in captured]
        self.captured_values = [np.ascontiguousarray(_numpy(v)) for v, _ in captured]
        # ops whose values the host makes before each call (a dataset a loop reads: xlite/data/graph_loop.py)
        self.host_ops = func_graph.get_collection(host_fed.HOST_OPS)
        for op in self.host_ops:
            if getattr(op, "_host_provider", None) is None:     # a tf.string op (xlite/frontend/string_ops.py)
                raise errors.unimplemented(f"{op.type} '{op.name}' in a tf.function: xlite runs tf.string ops "
                                           "eagerly, in Session runs and in tf.data functions only")
        self.feeds += [t for op in self.host_ops for t in op.outputs]
        self.variables = {id(t.op): v for v, t in func_graph.captures if t.op.type == "VariableV2"}
        for k, t in enumerate(func_graph.variable_args):
            self.variables[id(t.op)] = ArgumentVariable(k)
        self.signatures: dict[tuple, Signature] = {}
        self.counter = 0

    def signature(self, arrays: list) -> Signature:
        key = tuple(a.shape for a in arrays)
        sig = self.signatures.get(key)
        if sig is None:
            shapes = {t: a.shape for t, a in zip(self.feeds, arrays)}
            lowered = lower_run(self.graph, self.fetches, self.targets, shapes, name=self.graph.name)
            executable = driver.compile(lowered.module, self.target)
            feed_index = {id(t): n for n, t in enumerate(self.feeds)}
            sig = self.signatures[key] = Signature(lowered, executable, feed_index, self.variables, key)
        return sig

    def __call__(self, arg_arrays: list, arg_variables: list = ()) -> list:
        """The flat outputs (NumPy arrays) for the argument arrays and Variable arguments; Variables
        updated."""
        arrays = list(arg_arrays) + self.captured_values
        for op in self.host_ops:
            arrays += op._host_provider.next_value(None)
        sig = self.signature(arrays)
        args = []
        for kind, item in sig.params:
            if kind == "feed":
                args.append(arrays[item])
            elif kind == "variable":
                args.append(read_variable(arg_variables[item.k] if type(item) is ArgumentVariable else item))
            else:
                self.counter += 1
                args.append(np.array(self.counter, np.int64))
        with allocation_errors():
            results = sig.executable.run(args)
        for j, variable in sig.updates:
            write_variable(arg_variables[variable.k] if type(variable) is ArgumentVariable else variable,
                           results[j])
        outputs = [results[j] for j in sig.fetches]
        return outputs if sig.fresh else [np.array(o, copy=True) for o in outputs]


def _numpy(value) -> np.ndarray:
    numpy = getattr(value, "numpy", None)
    return np.asarray(numpy() if callable(numpy) else value)


def read_variable(variable) -> np.ndarray:
    """The eager Variable's own array, which the executable updates in place where it donates."""
    return variable._array()


def write_variable(variable, value: np.ndarray) -> None:
    variable._store(value)


def fast_call(runner: GraphRunner, sig: Signature, structured, n_args: int):
    """A call of one compiled signature with everything that does not change between calls worked out
    once: `call(args)` takes the function's positional eager tensors (exactly the dtypes and shapes the
    signature was compiled for: the caller's key says so) and gives its eager outputs, structured."""
    from xlite.frontend import nest
    from xlite.frontend.graph import Tensor
    from xlite.function.eager_bridge import EagerTensor
    run, captured, fetches = sig.executable.run, runner.captured_values, sig.fetches
    stateful = bool(sig.updates) or any(kind != "feed" for kind, _ in sig.params)
    direct = not stateful and [item for _, item in sig.params] == list(range(n_args + len(captured)))
    flat = nest.flatten(structured)
    slots = [isinstance(v, Tensor) for v in flat]
    fresh = sig.fresh

    def outputs(results):
        values = [results[j] for j in fetches]
        if not fresh:
            values = [np.array(v, copy=True) for v in values]
        it = iter(values)
        return nest.pack_sequence_as(structured, [EagerTensor(next(it)) if s else v for s, v in zip(slots, flat)])

    if direct and not captured and len(fetches) == 1 and not nest.is_sequence(structured) and slots == [True] \
            and fresh:
        j = fetches[0]
        if all(not d for d in sig.shapes) and hasattr(sig.executable, "call"):
            run = sig.executable.call       # 0-d arrays of the key's dtypes fit as they are (always contiguous)

        new, dtype = EagerTensor.__new__, structured.dtype

        def call_single(args):
            t = new(EagerTensor)              # (what EagerTensor(array) sets, its dtype known already)
            t._value, t.dtype, t._shape_cache = run([a._value for a in args])[j], dtype, None
            return t
        return call_single

    def call(args):
        arrays = [a._value for a in args] + captured
        if direct:
            return outputs(run(arrays))
        call_args = []
        for kind, item in sig.params:
            if kind == "feed":
                call_args.append(arrays[item])
            elif kind == "variable":
                call_args.append(read_variable(item))
            else:
                runner.counter += 1
                call_args.append(np.array(runner.counter, np.int64))
        results = run(call_args)
        for j, variable in sig.updates:
            write_variable(variable, results[j])
        return outputs(results)
    return call
