"""tf.cond and tf.while_loop: IR `conditional` and `while` ops whose branches are recorded sub-graphs.

tf.cond(pred, true_fn, false_fn) calls each function while the graph records
the ops it creates (xlite/frontend/subgraph.py), then makes one "If" op whose
inputs are pred and every tensor a branch reads from outside, with the
branches in its attrs. Lowering builds one computation per branch, its
parameter a tuple of the values that branch reads, and emits `conditional`,
so only the taken branch runs. Every op a branch records runs when the branch
is taken (as in TF2's functions): an assignment inside a branch takes effect
even if the branch does not return it, and the new values of the Variables a
branch assigns come back as extra elements of the result tuple. A branch that
returns an Operation yields a bool tensor, as in TF1; branches must return the
same structure and dtypes (shapes may differ statically, but must agree once a
run fixes them: xlite's shapes are static).

tf.while_loop records cond and body around "_Arg" ops that stand for the loop
variables, and makes one "While" op: inputs are the initial loop variables, the
captured tensors and `maximum_iterations`. Its IR state is (loop variables...,
iteration counter, captured values and Variables...); the condition ANDs in
counter < maximum_iterations. The counter has maximum_iterations' dtype (int32, or int64 for a
limit that needs it, as in TF), int32 without one. A compiled loop's variables keep their shapes
from one iteration to the next; shape_invariants may relax the static shapes the loop sees (as in
TF), and a top-level loop whose body then changes a shape (one the invariants relax, or one that
entered with unknown dims, as TF allows) raises LoopShapesVary at its first
lowering: Session.run then drives it from the host, one compiled run of the condition and of the
body per iteration (xlite/runtime/host_loops.py says why, and not a bounded buffer); so does a
top-level loop holding one. Such a loop in a tf.cond branch, and its gradient, raise
UnimplementedError naming it. Random ops in a body draw
new numbers each iteration. Host calls in a body or branch (tf.print, tf.Assert, check_numerics)
run each time it does, in program order: their results leave it as loop state or extra results.

Gradients (control_flow_grad.py) recompute rather than store: the gradient of
an "If" is another "If" over the same pred, and the gradient of a "While" re-runs
the loop keeping a history of its loop variables (every iteration's, or strided
checkpoints when the trip count is unknown or the rows too big), then runs the
body's gradient in reverse. That module builds on this
one, so this one does not import it: xlite/__init__ does, which registers them.
"""
from __future__ import annotations

import contextlib
import numbers
import weakref

from xlite import errors
from xlite.frontend import nest
from xlite.frontend.convert import constant, convert_to_tensor
from xlite.frontend.graph import Operation, Tensor, executing_eagerly, get_default_graph
from xlite.frontend.host_ops import keep_effect
from xlite.frontend.op_registry import lowering, make_op
from xlite.frontend.subgraph import SubgraphContext, TupleState, finish, recording, static_shape
from xlite.frontend.tensor_shape import TensorShape
from xlite.ir import dtypes
from xlite.ir.shape import Shape

__all__ = ["cond", "while_loop"]


# tf.cond ---------------------------------------------------------------------------------
def _branch_outputs(result, pred_value: bool, graph) -> list:
    """The flat outputs of one branch as Tensors (None stays None; an Operation becomes a bool)."""
    flat = []
    for leaf in nest.flatten(result):
        if leaf is None:
            flat.append(None)
        elif isinstance(leaf, Operation):
            with graph.control_dependencies([leaf]):
                flat.append(constant(pred_value, name="pivot"))
        else:
            flat.append(convert_to_tensor(leaf))
    return flat


def build_cond(pred: Tensor, fns, scope: str, strict: bool = False, adopt=()):
    """Records each branch function and makes the "If" op; returns (structure, its output tensors)."""
    graph = pred.graph
    traced = []
    for fn, label, value in zip(fns, ("true", "false"), (True, False)):
        what = f"the {label} branch of tf.cond '{scope}'"
        with recording(graph, what, adopt) as frame:
            result = fn()
            if not strict and isinstance(result, (list, tuple)) and len(result) == 1:
                result = result[0]
            flat = _branch_outputs(result, value, graph)
        traced.append((result, flat, finish(frame, what, [t for t in flat if t is not None])))
    (res_t, flat_t, sub_t), (res_f, flat_f, sub_f) = traced
    if not nest.same_structure(res_t, res_f) or [t is None for t in flat_t] != [t is None for t in flat_f]:
        raise ValueError(f"true_fn and false_fn of tf.cond '{scope}' must return the same structure; "
                         f"got {res_t!r} and {res_f!r}")
    shapes = []
    for a, b in zip(sub_t.outputs, sub_f.outputs):
        if a.dtype != b.dtype:
            raise ValueError(f"Outputs of 'true_fn' and 'false_fn' of tf.cond '{scope}' must have the same "
                             f"type(s). Received {a.dtype.name} from 'true_fn' and {b.dtype.name} from "
                             "'false_fn'.")
        shapes.append(a.shape.most_specific_compatible_shape(b.shape))
    captures = _union(sub_t.captures, sub_f.captures)
    attrs = {"branches": (sub_t, sub_f), "Tout": tuple(t.dtype for t in sub_t.outputs),
             "output_shapes": tuple(shapes)}
    op = make_op("If", [pred] + captures, attrs, name=scope, output_shapes=shapes,
                 control_inputs=_union(sub_t.control_inputs, sub_f.control_inputs))
    outputs = iter(op.outputs)
    return nest.pack_sequence_as(res_t, [None if t is None else next(outputs) for t in flat_t]), op


def cond(pred, true_fn=None, false_fn=None, strict=False, name=None, fn1=None, fn2=None):
    """Runs only the branch `pred` selects; outputs have the branches' common structure.

    As in TF1, `strict=False` returns a branch's singleton list or tuple as its element."""
    true_fn = true_fn if true_fn is not None else fn1
    false_fn = false_fn if false_fn is not None else fn2
    for label, fn in (("true_fn", true_fn), ("false_fn", false_fn)):
        if fn is None:
            raise TypeError(f"cond(): '{label}' argument required")
        if not callable(fn):
            raise TypeError(f"{label} must be callable.")
    pred = convert_to_tensor(pred)
    if pred.dtype != dtypes.bool_:
        raise TypeError(f"Input 'pred' of tf.cond has type {pred.dtype.name} that does not match expected "
                        "type of bool.")
    if executing_eagerly():             # as TF does eagerly: the predicate's value picks one branch to call
        if pred.shape.ndims != 0:
            raise ValueError(f"Shape must be rank 0 but is rank {pred.shape.ndims} for the predicate of tf.cond")
        result = true_fn() if bool(pred) else false_fn()
        if not strict and isinstance(result, (list, tuple)) and len(result) == 1:
            result = result[0]
        return result
    if pred.shape.ndims not in (None, 0):
        raise ValueError(f"Shape must be rank 0 but is rank {pred.shape.ndims} for the predicate of tf.cond "
                         f"(pred {pred.name} has shape {pred.shape})")
    from xlite.frontend import tensor_array_loops   # it builds on this module
    fns, arrays = tensor_array_loops.cond_branches((true_fn, false_fn))   # TensorArrays travel as buffers
    with pred.graph.name_scope(name or "cond") as scope:
        result, _ = build_cond(pred, fns, scope, strict)
    return arrays(result)


def _union(*lists) -> list:
    seen, out = set(), []
    for items in lists:
        for x in items:
            if id(x) not in seen:
                seen.add(id(x))
                out.append(x)
    return out


@lowering("If")
def _lower_if(ctx, op, pred, *captured):
    if ctx.static:
        return [ctx.unknown(Shape(d, () if s.ndims is None else tuple(s.dims)))
                for d, s in zip(op.attrs["Tout"], op.attrs["output_shapes"])]
    outer = dict(zip(op.inputs[1:], captured))
    contexts, results = [], []
    for label, sub in zip(("true", "false"), op.attrs["branches"]):
        bctx = SubgraphContext(ctx, TupleState(), f"{op.name}.{label}")
        bctx.subgraph = sub
        results.append(bctx.lower(sub, {}, {t: outer[t] for t in sub.captures}))
        contexts.append(bctx)
    for k, (a, b) in enumerate(zip(*results)):
        if a.shape.dims != b.shape.dims:
            raise ValueError(f"the branches of tf.cond give output {k} the shapes {list(a.shape.dims)} and "
                             f"{list(b.shape.dims)}; xlite compiles static shapes, so both must agree")
    assigned = _union(*(c.assigned for c in contexts))
    effects = [list(c.host_effects) for c in contexts]      # each branch's host calls; the other's zeros
    for k, (bctx, outs) in enumerate(zip(contexts, results)):
        carried = [e if j == k else _zeros(bctx.b, e.shape) for j, es in enumerate(effects) for e in es]
        bctx.finish(outs + [bctx.read_variable(v) for v in assigned] + carried)
    b = ctx.b
    result_shape = contexts[0].computation.root.shape
    if contexts[1].computation.root.shape != result_shape:   # a Variable assigned with another shape
        raise ValueError(f"the branches of tf.cond '{op.name}' leave their Variables with different "
                         f"shapes: {result_shape} and {contexts[1].computation.root.shape}")
    operands = [pred] + [c.state.operand(b, []) for c in contexts]
    inst = b.emit("conditional", operands, result_shape, called=tuple(c.computation for c in contexts))
    n = len(op.outputs)
    for j, var_op in enumerate(assigned):
        ctx.assign_variable(var_op, b.get_tuple_element(inst, n + j))
    for j in range(sum(map(len, effects))):
        keep_effect(ctx, b.get_tuple_element(inst, n + len(assigned) + j))
    return [b.get_tuple_element(inst, k) for k in range(n)]


def _zeros(b, shape: Shape):
    return b.broadcast_to(b.scalar(0, shape.dtype), tuple(shape.dims))


# tf.while_loop ------------------------------------------------------------------------------
@lowering("_Arg")
def _lower_arg(ctx, op):
    if ctx.static:
        shape = op.attrs["shape"]
        return ctx.unknown(Shape(op.attrs["dtype"], () if shape.ndims is None else tuple(shape.dims)))
    raise ValueError(f"'{op.name}' stands for a loop variable and has a value only inside its tf.while_loop")


def make_arg(like: Tensor, shape: TensorShape, name: str = "loop_var") -> Tensor:
    """A tensor standing for a value the caller binds when lowering a sub-graph (a loop variable)."""
    return make_op("_Arg", [], {"dtype": like.dtype, "shape": shape}, name=name,
                   output_shapes=[shape]).outputs[0]


def _invariant_shapes(flat: list, shape_invariants) -> list:
    """The loop variables' shapes as the loop sees them: the invariants where given, else their own.

    An invariant may relax a shape; a run whose loop variable then changes shape runs on the host
    (lower_loop raises LoopShapesVary)."""
    if shape_invariants is None:
        return [t.shape for t in flat]
    invariants = nest.flatten(shape_invariants) if nest.is_sequence(shape_invariants) else [shape_invariants]
    if len(invariants) != len(flat):
        raise ValueError(f"shape_invariants has {len(invariants)} shapes for {len(flat)} loop variables")
    shapes = []
    for t, inv in zip(flat, invariants):
        inv = TensorShape(inv)
        if not inv.is_compatible_with(t.shape):
            raise ValueError(f"The shape invariant specified for {t.name} is not compatible with the initial "
                             f"shape of the loop variable. It enters the loop with shape {t.shape}, but the "
                             f"specified shape invariant is {inv}.")
        relaxed = t.shape.ndims is not None and (inv.ndims is None or any(
            i is None and d is not None for i, d in zip(inv.dims, t.shape.dims)))
        shapes.append(inv if relaxed else t.shape.merge_with(inv))   # TF: the loop sees the invariant
    return shapes


def _possibly_varying(flat: list, shapes: list) -> tuple:
    """The loop variables whose shape may change between iterations, as in TF: those whose invariant
    relaxes their shape, and those whose static shape (their own or the invariant) has unknown dims."""
    return tuple(j for j, (t, s) in enumerate(zip(flat, shapes)) if s != t.shape or not s.is_fully_defined())


def _check_body_outputs(flat_in: list, flat_out: list, shapes: list) -> None:
    for t, out, shape in zip(flat_in, flat_out, shapes):
        if out.dtype != t.dtype:
            raise TypeError(f"Loop var {t.name} enters the loop with type {t.dtype!r} but has type "
                            f"{out.dtype!r} after 1 iteration. {t.name} type should remain constant.")
        if not shape.is_compatible_with(out.shape):
            raise ValueError(f"Input tensor '{t.name}' enters the loop with shape {shape}, but has shape "
                             f"{out.shape} after one iteration. xlite compiles loops with static shapes, so "
                             "a loop variable cannot change shape (shape_invariants cannot relax this).")


def while_loop(cond, body, loop_vars, shape_invariants=None, parallel_iterations=10, back_prop=True,
               swap_memory=False, name=None, maximum_iterations=None, return_same_structure=False):
    """Repeats `body` while `cond` holds; loop_vars may nest lists, tuples, dicts and namedtuples.

    parallel_iterations and swap_memory are accepted and ignored (one compiled loop runs in order);
    back_prop=False stops gradients."""
    if not isinstance(parallel_iterations, numbers.Integral) or parallel_iterations < 1:
        raise TypeError("parallel_iterations must be a positive integer.")
    if not callable(cond):
        raise TypeError("cond must be callable.")
    if not callable(body):
        raise TypeError("body must be callable.")
    if isinstance(loop_vars, (list, tuple)) and not loop_vars:
        raise ValueError("No loop variables provided")
    top = loop_vars if isinstance(loop_vars, (list, tuple)) else [loop_vars]
    if any(v is None for v in nest.flatten(top)):
        raise ValueError("tf.while_loop: a loop variable is None")
    if executing_eagerly():
        return _eager_while_loop(cond, body, loop_vars, top, maximum_iterations, return_same_structure)
    from xlite.frontend import tensor_array_loops   # it builds on this module
    if tensor_array_loops.has_tensor_arrays(top):
        return tensor_array_loops.while_loop(
            while_loop, cond, body, loop_vars, top, make_arg, shape_invariants=shape_invariants,
            maximum_iterations=maximum_iterations, return_same_structure=return_same_structure,
            parallel_iterations=parallel_iterations, back_prop=back_prop, swap_memory=swap_memory, name=name)
    flat = [convert_to_tensor(v) for v in nest.flatten(top)]
    graph = flat[0].graph if flat else get_default_graph()
    shapes = _invariant_shapes(flat, shape_invariants)
    with graph.name_scope(name or "while") as scope:
        limit = _maximum_iterations(maximum_iterations)
        what = f"the condition of tf.while_loop '{scope[:-1]}'"
        with recording(graph, what) as frame:
            args = [make_arg(t, s) for t, s in zip(flat, shapes)]
            pred = convert_to_tensor(cond(*nest.pack_sequence_as(top, args)))
            if pred.dtype != dtypes.bool_:
                raise TypeError(f"the condition of tf.while_loop '{scope[:-1]}' must return a bool tensor, "
                                f"got {pred.dtype.name}")
            if pred.shape.ndims not in (None, 0):
                raise ValueError(f"Shape must be rank 0 but is rank {pred.shape.ndims} for the condition of "
                                 f"tf.while_loop '{scope[:-1]}'")
        cond_sub = finish(frame, what, [pred], args)
        what = f"the body of tf.while_loop '{scope[:-1]}'"
        with recording(graph, what) as frame:
            args = [make_arg(t, s) for t, s in zip(flat, shapes)]
            result = body(*nest.pack_sequence_as(top, args))
            if len(top) == 1 and not (isinstance(result, (list, tuple)) and len(result) == 1):
                result = [result]
            if not isinstance(result, (list, tuple)) or not nest.same_structure(list(top), list(result),
                                                                                check_types=False):
                raise ValueError(f"The body of tf.while_loop '{scope[:-1]}' must return the same nested "
                                 f"structure as loop_vars. loop_vars: {top!r}; body returned: {result!r}")
            out = [convert_to_tensor(v, preferred_dtype=t.dtype) for v, t in zip(nest.flatten(result), flat)]
            _check_body_outputs(flat, out, shapes)
        body_sub = finish(frame, what, out, args)
        captures = _union(cond_sub.captures, body_sub.captures)
        inputs = flat + captures
        max_index = None
        if limit is not None:
            max_index = next((i for i, t in enumerate(inputs) if t is limit and i >= len(flat)), None)
            if max_index is None:
                inputs.append(limit)
                max_index = len(inputs) - 1
        attrs = {"cond": cond_sub, "body": body_sub, "n_vars": len(flat), "max_index": max_index,
                 "back_prop": bool(back_prop), "output_shapes": tuple(shapes),
                 "relaxed": _possibly_varying(flat, shapes)}
        op = make_op("While", inputs, attrs, name=scope, output_shapes=shapes,
                     control_inputs=_union(cond_sub.control_inputs, body_sub.control_inputs))
    outputs = nest.pack_sequence_as(top, op.outputs[:len(flat)])
    if len(top) == 1 and (not return_same_structure or top is not loop_vars):
        return outputs[0]
    return outputs


def _eager_while_loop(cond, body, loop_vars, top, maximum_iterations, return_same_structure):
    """tf.while_loop while executing eagerly, as TF runs it: a Python loop over the condition's value."""
    values = [v if hasattr(v, "_materialized") else convert_to_tensor(v) for v in nest.flatten(top)]
    limit = None if maximum_iterations is None else int(convert_to_tensor(maximum_iterations))
    count = 0
    while (limit is None or count < limit) and bool(cond(*nest.pack_sequence_as(top, values))):
        result = body(*nest.pack_sequence_as(top, values))
        if len(top) == 1 and not (isinstance(result, (list, tuple)) and len(result) == 1):
            result = [result]
        if not isinstance(result, (list, tuple)) or not nest.same_structure(list(top), list(result),
                                                                            check_types=False):
            raise ValueError(f"The body of tf.while_loop must return the same nested structure as loop_vars. "
                             f"loop_vars: {top!r}; body returned: {result!r}")
        values = [v if hasattr(v, "_materialized") else convert_to_tensor(v, preferred_dtype=t.dtype)
                  for v, t in zip(nest.flatten(result), values)]   # a TensorArray stays one
        count += 1
    outputs = nest.pack_sequence_as(top, values)
    if len(top) == 1 and (not return_same_structure or top is not loop_vars):
        return outputs[0]
    return outputs


def _maximum_iterations(maximum_iterations) -> Tensor | None:
    if maximum_iterations is None:
        return None
    limit = convert_to_tensor(maximum_iterations, preferred_dtype=dtypes.int32, name="maximum_iterations")
    if limit.dtype not in (dtypes.int32, dtypes.int64):
        raise TypeError(f"maximum_iterations must be an int32 or int64 scalar, got {limit.dtype.name}")
    if limit.shape.ndims not in (None, 0):
        raise ValueError(f"maximum_iterations must be a scalar, saw shape: {limit.shape}")
    return limit


_lowered_loops: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()   # context -> {While op: its while}


@lowering("While")
def _lower_while(ctx, op, *operands):
    if ctx.static:
        return [ctx.unknown(static_shape(t)) for t in op.inputs[:op.attrs["n_vars"]]]
    loop, state, _ = lower_loop(ctx, op, operands[:op.attrs["n_vars"]], dict(zip(op.inputs, operands)))
    _lowered_loops.setdefault(ctx, {})[op] = loop
    return [ctx.b.get_tuple_element(loop, j) for j in range(op.attrs["n_vars"])]


def lowered_trip_count(ctx, op: Operation):
    """How many iterations the "While" op ran, when it was already lowered in this context; else None."""
    loop = _lowered_loops.get(ctx, {}).get(op)
    return None if loop is None else ctx.b.get_tuple_element(loop, op.attrs["n_vars"])


def loop_counter_dtype(op: Operation):
    """TF's loop counter has maximum_iterations' dtype (int32 without one)."""
    index = op.attrs["max_index"]
    return dtypes.int32 if index is None else op.inputs[index].dtype


class LoopShapesVary(errors.UnimplementedError):
    """A top-level tf.while_loop whose loop variables change shape as their shape_invariants allow: the
    Session runs it on the host, one compiled run of the condition and of the body per iteration
    (xlite/runtime/host_loops.py); `op` is the "While" op."""


def _shapes_vary(ctx, op, j: int, x, y, differentiating: bool):
    """Raises for loop variable `j` entering as `x` and leaving the body as `y`, of another shape."""
    t = op.inputs[j]
    what = (f"tf.while_loop '{op.name}': loop variable {t.name} enters with shape {list(x.shape.dims)} and has "
            f"shape {list(y.shape.dims)} after one iteration, as its static shape in the loop, "
            f"{op.outputs[j].shape}, allows")
    if op.attrs.get("growing_arrays"):     # frontend/tensor_array_loops.py
        names = ", ".join(f"'{name}'" for _, _, name in op.attrs["growing_arrays"])
        what += f" (the buffer of TensorArray {names}, dynamic_size=True in a loop without maximum_iterations)"
    if differentiating and getattr(ctx, "outer", None) is not None:
        raise errors.unimplemented(f"the gradient of {what}, inside a tf.cond branch or another loop: xlite runs "
                                   "such a loop on the host, and differentiates it only at the top level of a run")
    if getattr(ctx, "outer", None) is not None:
        raise _NestedShapesVary(None, op, f"{what}, inside a tf.cond branch: xlite runs a loop with varying "
                                          "shapes only at the top level of a run or inside another loop")
    raise LoopShapesVary(None, op, f"{what}: xlite compiles loops whose variables keep their shapes; Session.run "
                                   "runs such a loop on the host (runtime/host_loops.py), tf.function, eager "
                                   "ops and AOT compiles do not")


class _NestedShapesVary(errors.UnimplementedError):
    """A loop with varying shapes inside another loop or a branch: the enclosing top-level loop runs on the
    host (so the inner one is a top-level loop of its body's runs); inside a branch, the gap."""


@contextlib.contextmanager
def _inner_shapes_vary(ctx, op, differentiating: bool):
    """Around lowering a loop's condition or body: a loop with varying shapes inside it makes this top-level
    loop run on the host."""
    try:
        yield
    except _NestedShapesVary as e:
        if getattr(ctx, "outer", None) is not None:
            if differentiating:
                raise errors.unimplemented(f"the gradient of tf.while_loop '{op.name}', which holds a loop whose "
                                           f"shapes change ({e.message})") from None
            raise
        raise LoopShapesVary(None, op, f"tf.while_loop '{op.name}' holds a loop whose shapes change, so it "
                                       f"runs on the host too ({e.message})") from None


def lower_loop(ctx, op, init, outer, history_rows: int | None = None, history_stride=None, history_vars=None,
               replay=None):
    """Emits the IR `while` of a "While" op; returns it, its TupleState and the body's context.

    `init` holds the loop variables' initial values and `outer` maps the op's other inputs to values
    of `ctx`. With `history_rows`, the state also holds, after the counter, one [history_rows, ...]
    buffer per loop variable listed in `history_vars` (all without; bools as s32): iteration k writes
    its incoming variables to row ceil(k / history_stride) (row k without a stride), so a row's last
    write is iteration row*stride's.
    With `replay=(start, stop)`, the loop re-runs iterations start..stop-1 of a loop known to have run
    them: the counter starts at `start` and the condition is counter < stop, not the user's."""
    a, b = op.attrs, ctx.b
    n = a["n_vars"]
    init = list(init)
    limit_t = op.inputs[a["max_index"]] if a["max_index"] is not None else None
    count_dtype = loop_counter_dtype(op)
    fixed = [x.shape for x in init] + [Shape(count_dtype, ())]
    history_init = []
    kept = list(range(n)) if history_vars is None else list(history_vars)
    if history_rows is not None:
        for x in (init[j] for j in kept):
            dtype = dtypes.int32 if x.dtype == dtypes.bool_ else x.dtype
            history_init.append(b.broadcast_to(b.scalar(0, dtype), (history_rows,) + tuple(x.shape.dims)))
        fixed += [h.shape for h in history_init]
    if replay is not None:
        fixed.append(Shape(count_dtype, ()))
    state = TupleState(fixed)
    cond_sub, body_sub = a["cond"], a["body"]

    cctx = SubgraphContext(ctx, state, f"{op.name}.cond", iteration_index=n)
    bctx = SubgraphContext(ctx, state, f"{op.name}.body", iteration_index=n)
    cctx.host_effects = None        # (host_ops: a host call without outputs cannot run in a condition)
    bctx.subgraph = body_sub
    if replay is not None:   # the replayed iterations draw the random numbers the original ones drew
        cctx.rng_parent = bctx.rng_parent = ctx.base_rng_counter
        pred = cctx.b.compare(cctx.iteration, cctx.element(len(fixed) - 1), "LT")
    else:
        with _inner_shapes_vary(ctx, op, history_rows is not None):
            (pred,) = cctx.lower(cond_sub, {t: cctx.element(j) for j, t in enumerate(cond_sub.args)},
                                 {t: outer[t] for t in cond_sub.captures})
        if limit_t is not None:
            limit = cctx.import_value(("tensor", limit_t), outer[limit_t], foldable=True)
            pred = cctx.b.emit("and", (pred, cctx.b.compare(cctx.iteration, limit, "LT")))
    if cctx.assigned:
        raise errors.unimplemented(f"the condition of tf.while_loop '{op.name}' assigns a Variable")
    cctx.finish(pred)

    with _inner_shapes_vary(ctx, op, history_rows is not None or replay is not None):
        new = bctx.lower(body_sub, {t: bctx.element(j) for j, t in enumerate(body_sub.args)},
                         {t: outer[t] for t in body_sub.captures})
    for j, (t, x, y) in enumerate(zip(op.inputs, init, new)):
        if x.shape.dims != y.shape.dims and j in a.get("relaxed", ()):
            _shapes_vary(ctx, op, j, x, y, history_rows is not None or replay is not None)
        if x.shape.dims != y.shape.dims:
            raise ValueError(f"Input tensor '{t.name}' enters the loop with shape {list(x.shape.dims)}, but "
                             f"has shape {list(y.shape.dims)} after one iteration; xlite compiles loops with "
                             "static shapes, so loop variables must keep their shapes")
    bb = bctx.b
    root = new + [bb.emit("add", (bctx.iteration, bb.scalar(1, count_dtype)))]
    row_index = bctx.iteration
    if history_stride is not None:
        stride = bctx.import_value(("history_stride",), history_stride)
        rounded_up = bb.emit("add", (row_index, bb.emit("sub", (stride, bb.scalar(1, count_dtype)))))
        row_index = bb.emit("div", (rounded_up, stride))
    for h, j in enumerate(kept[:len(history_init)]):
        row = bctx.element(j)
        if row.dtype == dtypes.bool_:
            row = bb.convert(row, dtypes.int32)
        row = bb.reshape(row, (1,) + tuple(row.shape.dims))
        zeros = [bb.scalar(0, count_dtype)] * (row.shape.rank - 1)
        root.append(bb.emit("dynamic_update_slice", (bctx.element(n + 1 + h), row, row_index, *zeros)))
    if replay is not None:
        root.append(bctx.element(len(fixed) - 1))
    for var_op in bctx.assigned:
        bctx.variable_element(var_op)
    # the body's host calls (prints, checks) run every iteration: their results are loop state; a loop
    # re-run for a gradient (history, replay) leaves them out, as they ran in the forward loop
    effects = list(bctx.host_effects) if history_rows is None and replay is None else []
    effect_slots = [state.index(("effect", k), _zeros(b, e.shape)) for k, e in enumerate(effects)]
    by_index = {i: key for key, i in state.keys.items()}
    for i in range(len(root), len(state.shapes)):
        key = by_index[i]
        if key[0] == "var" and key[1] in bctx.assigned:
            root.append(bctx.variable_values[key[1]])
        elif key[0] == "effect":
            root.append(effects[key[1]])
        else:
            root.append(bctx.element(i))
    for key, i in state.keys.items():
        if root[i].shape != state.shapes[i]:
            raise ValueError(f"the body of tf.while_loop '{op.name}' assigns Variable '{key[1].name}' a value "
                             f"of shape {list(root[i].shape.dims)}, but loop state keeps its shape "
                             f"{list(state.shapes[i].dims)}")
    bctx.finish(root)

    start = init + [b.scalar(0, count_dtype) if replay is None else replay[0]] + history_init
    if replay is not None:
        start.append(replay[1])
    loop = b.emit("while", (state.operand(b, start),), called=(cctx.computation, bctx.computation))
    for var_op in bctx.assigned:
        ctx.assign_variable(var_op, b.get_tuple_element(loop, state.keys[("var", var_op)]))
    for slot in effect_slots:
        keep_effect(ctx, b.get_tuple_element(loop, slot))
    return loop, state, bctx
