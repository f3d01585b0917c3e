"""Session runs of tf.while_loops whose loop variables change shape between iterations, as their
shape_invariants allow (`x = tf.concat([x, [i]], 0)` with TensorShape([None])) or, without invariants,
as their static shapes do when they enter with unknown dims (a placeholder of shape [None]), as in TF.

Why the host drives such a loop: a compiled `while` keeps its state's shapes, and a growing variable's
size after N iterations is known only once N iterations ran (a fed bound, a data-dependent
condition, a body that doubles it). A bounded buffer sized from `maximum_iterations` would need every
op of the body to work on padding with a run-time size that changes per iteration, and exists only
when a bound does. So the Session splits the run at the loop instead:

1. one run computes the loop's inputs (initial values, captured tensors, maximum_iterations) and the
   other values the rest of the run reads from the same ops (so each op runs once per Session.run);
2. the host iterates: one run of the condition's sub-graph and one of the body's per iteration, fed
   the loop variables (a loop body whose variables are all fed runs on its own: frontend/lower.py
   `needed_ops`). Each is an ordinary run signature, compiled once by the compile driver: on cpu and
   cuda the varying dims are symbols (runtime/symbolic_runs.py), so one executable serves every size;
   Variables the body assigns and its prints, checks and random draws take effect per iteration;
3. the run of the fetches is fed the loop's outputs (symbolic again) and the values of step 1.

The lowering finds such a loop (control_flow_ops.LoopShapesVary at the first run whose body changes a
shape); the Session then `adopt`s it, and every later run of the graph that needs it runs this way. A
top-level loop holding such a loop runs this way too (the inner one is then a top-level loop of the
body's runs). Its gradient, the loop's "WhileGrad" op, splits a run the same way (`iterate_gradient`): the
forward loop keeps each iteration's incoming loop variables on the host for the rest of the Session.run
(the stacks TF keeps), and the backward loop runs the body's vector-Jacobian product once per iteration in
reverse. Such a loop in a tf.cond branch raises UnimplementedError naming the loop. Each iteration costs
two Session.runs on their steady path (tens to hundreds of microseconds, mostly the per-size work of a
symbolic signature), so this suits loops of up to thousands of iterations.
"""
from __future__ import annotations

import threading
import weakref

import numpy as np

from xlite import errors
from xlite.frontend.graph import Graph, Operation, Tensor
from xlite.frontend.lower import needed_ops
from xlite.frontend.op_registry import is_stateful
from xlite.frontend.subgraph import assigns_variables
from xlite.ir import dtypes

NOT_HERE = object()         # what `run` gives for a run that needs no host-driven loop

_loops: "weakref.WeakKeyDictionary[Graph, set]" = weakref.WeakKeyDictionary()    # graph -> While ops
_plans: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()   # Session -> {run key: _Split | None}
_KEPT_OPS = ("VariableV2",)     # a Variable stays the Session's (read and assigned live), never a value fed


_run_state = threading.local()  # .histories: While op -> its iterations' loop variables, during one Session.run

adopted = False             # whether any loop was adopted (Session.run's one cheap test before has_loops)


def adopt(op: Operation) -> bool:
    """Makes the "While" op `op` run on the host from now on; False if it already did."""
    global adopted
    loops = _loops.setdefault(op.graph, set())
    if op in loops:
        return False
    loops.add(op)
    _plans.clear()
    adopted = True
    return True


def has_loops(graph: Graph) -> bool:
    return graph in _loops


class _Split:
    """A run of fetches split at its first host-driven loop: what step 1 fetches and what step 3 is fed."""

    def __init__(self, loop: Operation, inputs: list, boundary: list, record: bool = False):
        self.loop = loop                # a "While" op, or the "WhileGrad" op of one
        self.record = record            # whether the run differentiates the While too: keep its history
        self.inputs = inputs            # the loop's inputs step 1 computes (all but Variables)
        self.boundary = boundary        # other tensors step 1 computes that step 3 reads


def run(session, fetches, feed_dict, options=None, run_metadata=None):
    """Session.run of a run that needs a host-driven loop (the module docstring's three steps), or
    NOT_HERE when it needs none."""
    split = _split_of(session, fetches, feed_dict or {})
    if split is None:
        return NOT_HERE
    outermost = getattr(_run_state, "histories", None) is None
    if outermost:
        _run_state.histories = {}
    try:
        loop = split.loop
        computed = list({id(t): t for t in split.inputs + split.boundary}.values())
        values = dict(zip(computed, session.run(computed + list(loop.control_inputs), feed_dict)))
        if loop.type == "WhileGrad":
            outputs = iterate_gradient(session, loop, values)
        else:
            outputs = iterate(session, loop, values, _run_state.histories if split.record else None)
        feeds = {**(feed_dict or {}), **{t: values[t] for t in split.boundary}, **dict(zip(loop.outputs, outputs))}
        return session.run(fetches, feeds, options, run_metadata)
    finally:
        if outermost:
            _run_state.histories = None


def iterate(session, loop: Operation, outer: dict, histories: dict | None = None) -> list:
    """The loop variables after the loop, given `outer`: the values of the loop's inputs. With
    `histories`, histories[loop] gets each iteration's incoming loop variables (for its gradient)."""
    a = loop.attrs
    n, cond, body = a["n_vars"], a["cond"], a["body"]
    values = [_value(t, outer) for t in loop.inputs[:n]]
    limit = None if a["max_index"] is None else int(_value(loop.inputs[a["max_index"]], outer))
    drawn = _drawn(body) if histories is not None else []
    cond_run, body_run = _SubRun(cond, outer), _SubRun(body, outer, kept=drawn)
    count, history = 0, []
    if histories is not None:
        histories[loop] = history
    while limit is None or count < limit:
        if not cond_run(session, values)[0]:
            break
        new = body_run(session, values)
        new, draws = new[:n], new[n:]
        if histories is not None:   # the loop variables in, each growing buffer's rows before the cut, the draws
            history.append((values, {j: np.shape(new[j])[0] for j, _, _ in a.get("growing_arrays", ())},
                            dict(zip(drawn, draws))))
        values = _trimmed(new, a.get("growing_arrays", ()))
        count += 1
    return values


def iterate_gradient(session, grad_op: Operation, outer: dict) -> list:
    """The "WhileGrad" op's outputs, given `outer`, the values of its inputs: from the last iteration to
    the first, one run of the body's vector-Jacobian product fed that iteration's loop variables (kept by
    the forward loop in this Session.run, else by running it again here) and the incoming gradients;
    the captured tensors' gradients summed over the iterations."""
    a = grad_op.attrs
    forward, grad_body = a["forward"], a["grad_body"]
    m = len(forward.inputs)
    float_vars, float_caps = a["float_vars"], a["float_captures"]
    history = (getattr(_run_state, "histories", None) or {}).get(forward)
    if history is None:             # the forward loop did not run host-driven in this run: run it here
        history_of = {}
        iterate(session, forward, {t: outer[t] for t in forward.inputs if t in outer}, history_of)
        history = history_of[forward]
    grads = [np.asarray(outer[t]) for t in grad_op.inputs[m:m + len(float_vars)]]
    sums = None
    vjp = _SubRun(grad_body, outer, effects=False)
    args = list(forward.attrs["body"].args)
    for values, rows, draws in reversed(history):   # the body's ops run again, on the numbers they drew
        grads = [_padded(g, rows[j]) if j in rows else g for j, g in zip(float_vars, grads)]
        outs = vjp(session, grads, extra={**draws, **dict(zip(args, map(np.asarray, values)))})
        grads, captured = outs[:len(float_vars)], outs[len(float_vars):]
        sums = captured if sums is None else _accumulate(session, sums, captured)
    if sums is None:                # no iteration: the captured tensors' gradients are zeros
        sums = [np.zeros(np.shape(_value(forward.inputs[i], outer)), forward.inputs[i].dtype.as_numpy_dtype)
                for i in float_caps]
    return [np.asarray(g) for g in grads] + list(sums)


_accumulators: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()   # Session -> {dtypes and ranks: adder}


def _accumulate(session, sums: list, grads: list) -> list:
    """sums + grads, elementwise, by a compiled run on the session's target in a graph of its own (the
    user's graph is left alone; dims are None, so one compile per dtypes and ranks), never in NumPy."""
    if not grads:
        return []
    grads = [np.asarray(g) for g in grads]
    key = tuple((g.dtype.str, g.ndim) for g in grads)
    adders = _accumulators.setdefault(session, {})
    if key not in adders:
        from xlite.frontend.math_ops import add
        from xlite.frontend.variables import placeholder
        from xlite.runtime.session import Session      # it imports this module
        graph = Graph()
        with graph.as_default():
            pairs = [(placeholder(dtypes.as_dtype(g.dtype), [None] * g.ndim),
                      placeholder(dtypes.as_dtype(g.dtype), [None] * g.ndim)) for g in grads]
            adders[key] = (Session(target=session.target, graph=graph), pairs, [add(a, b) for a, b in pairs])
    adder, pairs, outs = adders[key]
    feeds = {}
    for (a, b), total, g in zip(pairs, sums, grads):
        feeds[a], feeds[b] = np.asarray(total), g
    return adder.run(outs, feeds)


def _drawn(body) -> list:
    """The outputs of the body's stateful ops (random draws): kept for the gradient's run of the body."""
    return [t for op in body.ops if op.outputs and is_stateful(op.type) and op.type not in _KEPT_OPS
            for t in op.outputs if t.dtype.is_floating or t.dtype.is_integer]


def _padded(grad, rows: int):
    """A growing buffer's gradient with zero rows for those the host cut after the body wrote them."""
    grad = np.asarray(grad)
    return np.concatenate([grad, np.zeros((rows - grad.shape[0],) + grad.shape[1:], grad.dtype)])


def _trimmed(values: list, growing: tuple) -> list:
    """The loop variables with each growing TensorArray's buffer cut to its size (a view): a write in the
    body appends a row whatever its index (frontend/tensor_array_loops.py)."""
    for buffer, size, _ in growing:
        values[buffer] = np.asarray(values[buffer])[:int(values[size])]
    return values


class _SubRun:
    """One run of a loop's condition or body: its outputs and its effects (assignments, prints, checks),
    fed the loop variables and the captured values (a captured constant stays one, a Variable stays live)."""

    def __init__(self, sub, outer: dict, effects: bool = True, kept: list = ()):
        self.args = list(sub.args)
        effect_ops = [op for op in sub.ops if _has_effects(op)] if effects else []
        self.fetches = list(sub.outputs) + list(kept) + effect_ops
        self.n = len(sub.outputs) + len(kept)       # what a call gives: the outputs, then the `kept` tensors
        self.captured = {t: np.asarray(outer[t]) for t in sub.captures if t in outer and t.op.type != "Const"}

    def __call__(self, session, values: list, extra: dict | None = None) -> list:
        feeds = dict(self.captured)
        feeds.update(zip(self.args, map(np.asarray, values)))  # arrays, as Session.run's steady state takes them
        if extra:
            feeds.update(extra)
        return session.run(self.fetches, feeds)[:self.n]


def _has_effects(op: Operation) -> bool:
    return not op.outputs or is_stateful(op.type) or assigns_variables(op)


def _value(t: Tensor, outer: dict):
    return outer[t] if t in outer else t.op.attrs["value"]


def _split_of(session, fetches, feed_dict: dict) -> _Split | None:
    """The run's split (worked out once per fetch structure and feed keys), or None without a host loop."""
    from xlite.runtime.host_fed import run_key
    fetch_key = run_key(fetches)
    key = None if fetch_key is None else (fetch_key, tuple(feed_dict))
    per_session = _plans.setdefault(session, {})
    if key is not None and key in per_session:
        return per_session[key]
    split = _make_split(session.graph, fetches, feed_dict)
    if key is not None:
        per_session[key] = split
    return split


def _make_split(graph: Graph, fetches, feed_dict: dict) -> _Split | None:
    from xlite.runtime.fetches import FetchMapper
    mapper = FetchMapper(graph, fetches)
    try:
        fed = {graph.as_graph_element(k, allow_tensor=True, allow_operation=False) for k in feed_dict}
    except (KeyError, TypeError, ValueError):
        return None                 # the run's own feed validation raises TF's error for the key
    fed = {t for t in fed if isinstance(t, Tensor)}
    wanted, targets = mapper.unique_tensors(), list(mapper.target_ops)
    loops = _loops.get(graph, ())
    needed = needed_ops(wanted, targets, fed)
    loop = next((op for op in needed if op in loops or _differentiates(op, loops)), None)
    if loop is None:
        return None
    record = any(_differentiates(op, {loop}) for op in needed)
    second = next((op for op in needed if op.type == "WhileGradGrad" and _differentiates(op.attrs["grad_op"], loops)),
                  None)
    if second is not None:
        raise errors.UnimplementedError(
            None, second, f"the second derivative of tf.while_loop '{second.attrs['grad_op'].attrs['forward'].name}', whose "
                          "loop variables change shape: xlite runs such a loop and its gradient on the host, and "
                          "does not differentiate that gradient")
    inputs = list({id(t): t for t in loop.inputs if t.op.type not in _KEPT_OPS}.values())
    before = {op._id for op in needed_ops(inputs, list(loop.control_inputs), fed)}
    after_fed = fed | set(loop.outputs)
    boundary = {}
    for t in list(wanted) + [t for op in needed_ops(wanted, targets, after_fed) if op._id not in before
                             for t in op.inputs]:
        if t.op._id in before and t not in after_fed and t.op.type not in _KEPT_OPS + ("Const",) \
                and t.dtype is not dtypes.string:
            boundary[id(t)] = t
    boundary = list(boundary.values())
    again = [op for op in needed_ops(wanted, targets, after_fed | set(boundary))
             if op._id in before and (is_stateful(op.type) or assigns_variables(op))]
    if again:
        raise errors.UnimplementedError(
            None, again[0], f"'{again[0].name}' ({again[0].type}) runs both before tf.while_loop "
                            f"'{loop.name}', whose loop variables change shape, and after it; xlite runs such "
                            "a loop on the host between two runs, and would run this op twice")
    return _Split(loop, inputs, boundary, record)


def _differentiates(op: Operation, loops) -> bool:
    """Whether `op` is the "WhileGrad" op of one of `loops`."""
    return op.type == "WhileGrad" and op.attrs["forward"] in loops


__all__ = ["NOT_HERE", "adopt", "has_loops", "run", "iterate", "iterate_gradient"]
