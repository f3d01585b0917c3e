"""Running a trace eagerly: one executable per input shapes, compiled through the compile driver.

The trace is lowered as a Session lowers a run (`lower_run`: the function's outputs are the fetches,
its Variable assignments the targets, its argument and captured placeholders the feeds) and compiled
with `xlite.runtime.driver.compile`, the full pass pipeline. A captured eager Variable is a Variable
parameter: the call passes the Variable's own array and stores the update back, which the cpu
executable has already written into that array (donation), so nothing is copied.

Argument dims that the trace leaves None (an `input_signature` of `[None, 784]`) are symbolic, as a
Session's None dims are (xlite/runtime/symbolic_runs.py): on cpu one executable serves every size, the
same executable a Session compiles for the same graph; where the symbolic compile cannot, each size
compiles on its own. A call checks its arrays with `fits` and calls the executable's `call`, as a
RunPlan does; arrays that do not fit go through `run`, which converts them.
"""
from __future__ import annotations

import numpy as np

from xlite.arguments import fits
from xlite import errors
from xlite.frontend.lower import lower_run
from xlite.runtime import driver, host_fed
from xlite.runtime import fetches as fetch_values
from xlite.runtime.memory import allocation_errors
from xlite.runtime.symbolic_runs import bind_feeds, size_values, symbolic_pattern, symbolic_shapes

_SPECIALIZE = object()      # a symbolic pattern whose compile needs concrete sizes: each size compiles


class ArgumentVariable:
    """Stands for the Variable a call passes as its k-th Variable argument (the trace's VariableV2 for
    that argument is bound to whichever Variable each call gives, as TF keys Variables by spec)."""

    __slots__ = ("k",)

    def __init__(self, k: int):
        self.k = k


class Signature:
    """One call signature (the feeds' shapes): the executable and where each parameter comes from and
    result goes. A symbolic executable serves several signatures, each with its own size values."""

    __slots__ = ("executable", "params", "fetches", "updates", "fresh", "shapes", "specs")

    def __init__(self, lowered, executable, feed_index: dict, variables: dict, shapes: tuple, env: dict):
        self.executable = executable
        self.shapes = shapes             # the feeds' shapes of this signature
        self.specs = None                # the arguments' (dtype, shape) of a call that ran: what `fits` checks
        sizes = size_values(lowered.params, env) if env else {}
        # ("feed", index) | ("variable", Variable or ArgumentVariable) | ("size", array) | ("rng", None)
        self.params = []
        for n, (kind, item) in enumerate(lowered.params):
            if kind == "feed":
                self.params.append(("feed", feed_index[id(item)]))
            elif kind == "variable":
                self.params.append(("variable", variables[id(item)]))
            elif kind == "size":
                self.params.append(("size", sizes[n]))
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
        self.trims = _trimmed_fetches(self.fetches)
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
        self.symbolic: dict[tuple, tuple] = {}      # pattern -> (lowered, executable), or _SPECIALIZE
        self.counter = 0

    def signature(self, arrays: list) -> Signature:
        key = tuple(a.shape for a in arrays)
        sig = self.signatures.get(key)
        if sig is None:
            feeds = dict(zip(self.feeds, arrays))
            compiled, env = self._symbolic(feeds)
            if compiled is None:
                lowered = lower_run(self.graph, self.fetches, self.targets, {t: a.shape for t, a in feeds.items()},
                                    name=self.graph.name)
                compiled = (lowered, driver.compile(lowered.module, self.target))
            feed_index = {id(t): n for n, t in enumerate(self.feeds)}
            sig = self.signatures[key] = Signature(*compiled, feed_index, self.variables, key, env)
        return sig

    def _symbolic(self, feeds: dict) -> tuple:
        """((lowered, executable), symbol values) of the feeds' symbolic pattern, compiled once for every
        size, as Session._symbolic_plan does; (None, None) where the feeds have no None dim, the target
        is not cpu, or the pattern's compile needs concrete sizes."""
        if self.target != "cpu" or self.host_ops:
            return None, None
        pattern = symbolic_pattern(feeds)
        if pattern is None:
            return None, None
        shapes = symbolic_shapes(feeds, pattern)
        compiled = self.symbolic.get(pattern)
        if compiled is None:
            try:
                lowered = lower_run(self.graph, self.fetches, self.targets, shapes, name=self.graph.name)
                compiled = (lowered, driver.compile(lowered.module, self.target))
            except Exception:       # noqa: BLE001 - any gap specializes; real errors recur there
                compiled = _SPECIALIZE
            self.symbolic[pattern] = compiled
        if compiled is _SPECIALIZE:
            return None, None
        return compiled, bind_feeds(list(shapes.values()), list(feeds.values()))

    def arguments(self, sig: Signature, arrays: list, arg_variables=()) -> list:
        """The executable's parameters: the feeds `arrays`, the Variables' own arrays, the signature's
        sizes and a new run counter, in the order the lowering made them."""
        args = []
        for kind, item in sig.params:
            if kind == "feed":
                args.append(arrays[item])
            elif kind == "variable":
                args.append(read_variable(arg_variables[item.k] if type(item) is ArgumentVariable else item))
            elif kind == "size":
                args.append(item)
            else:
                self.counter += 1
                args.append(np.array(self.counter, np.int64))
        return args

    def __call__(self, arg_arrays: list, arg_variables: list = ()) -> list:
        """The flat outputs (NumPy arrays) for the argument arrays and Variable arguments; Variables
        updated."""
        arrays = list(arg_arrays) + self.captured_values
        for op in self.host_ops:
            arrays += op._host_provider.next_value(None)
        sig = self.signature(arrays)
        with allocation_errors():
            results = invoke(sig, self.arguments(sig, arrays, arg_variables))
        for j, variable in sig.updates:
            write_variable(arg_variables[variable.k] if type(variable) is ArgumentVariable else variable,
                           results[j])
        outputs = [results[j] for j in sig.fetches]
        if self.trims:
            outputs = _trim(outputs, self.trims)
        return outputs if sig.fresh else [np.array(o, copy=True) for o in outputs]


def _trimmed_fetches(fetches: list) -> list:
    """(position, op, position of its count) of each data-dependent output (xlite/frontend/bounded_ops.py):
    its bounded buffer stands in `fetches` and its run's count is fetched too, so a call cuts it to size."""
    trims = []
    for n, t in enumerate(list(fetches)):
        if t.op.type == "TrimToCount":
            fetches[n] = t.op.inputs[0]
            fetches.append(t.op.inputs[1])
            trims.append((n, t.op, len(fetches) - 1))
    return trims


def _trim(outputs: list, trims: list) -> list:
    """The outputs with each data-dependent one cut to its count, the counts dropped."""
    cut = fetch_values.input_rule("TrimToCount")
    outputs = list(outputs)
    for n, op, count in trims:
        outputs[n] = cut(op, outputs[n], outputs[count])
    return outputs[:len(outputs) - len(trims)]


def invoke(sig: Signature, args: list):
    """The executable's results: its `call` when the arguments fit those of a call of this signature
    that ran (what a RunPlan's `fits` checks), else `run`, which converts or refuses them."""
    specs = sig.specs
    if specs is not None and fits(args, specs):
        return sig.executable.call(args)
    results = sig.executable.run(args)
    arg_specs = getattr(sig.executable, "arg_specs", None)      # (cpu: the dtypes `call` reads)
    if arg_specs is not None and len(arg_specs) == len(args):
        sig.specs = [(dtype, np.shape(a)) for (dtype, _), a in zip(arg_specs, args)]
    return results


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

    arguments, updates = runner.arguments, sig.updates

    def call(args):
        arrays = [a._value for a in args] + captured
        if direct:
            return outputs(run(arrays))
        results = invoke(sig, arguments(sig, arrays))
        for j, variable in updates:
            write_variable(variable, results[j])
        return outputs(results)
    return call
