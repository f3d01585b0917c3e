"""Gradients of tf.cond and tf.while_loop, by recomputation rather than stored intermediates.

"If": the gradient is another "If" over the same pred. Its branch i adopts the
forward branch i's ops (they run again inside it) and applies tf.gradients to
them, w.r.t. the forward op's float captures; a capture a branch does not
reach gets zeros. Only the taken branch's gradient runs.

"While": one "WhileGrad" op, whatever decides the trip count. Its lowering
re-runs the forward loop keeping a history of the loop variables its gradient
body reads (only their values: a shape is known when it lowers), then runs a
reverse loop from the last iteration to the first that re-runs the body's ops
on iteration k's variables (adopted into a gradient sub-graph, as for "If")
and applies the body's vector-Jacobian product, summing the captures'
gradients. When a bound is known at compile time (a constant
maximum_iterations, or a counting cond like `i < 3`: while_trip_count.py) and
its rows fit HISTORY_BYTES, row k holds iteration k. Otherwise the history
keeps those loop variables and the ones their recomputation reads (the rest
replay from zeros) in a fixed number of rows R, and the forward loop's
own counter (or a counting pass, when the forward loop was not lowered in the
same computation) gives the count N: row r keeps iteration r*S (S =
ceil((N-1)/(R-1)); R about sqrt of a known bound, see history_plan), and the
reverse loop replays the up to S-1 iterations from that checkpoint to k
(drawing the forward's random numbers again). Shapes stay static; nothing is resized at run
time. Loops whose bodies assign Variables raise UnimplementedError. A loop whose variables change shape
runs on the host, and so does its WhileGrad (runtime/host_loops.py iterate_gradient). WhileGrad's own gradient (the
second derivative) is in while_grad_grad.py (xlite/__init__ imports both).
"""
from __future__ import annotations

from math import isqrt

from xlite import errors
from xlite.frontend import control_flow_ops as cf
from xlite.frontend.array_ops import zeros_like
from xlite.frontend.convert import convert_to_tensor
from xlite.frontend.gradients import gradients, grad_rule, no_gradient
from xlite.frontend.op_registry import lowering, make_op
from xlite.frontend.subgraph import SubgraphContext, TupleState, finish, recording, static_shape
from xlite.frontend.while_trip_count import static_trip_count

HISTORY_BYTES = 16 << 20     # history buffer size (a row is written in place): beyond this keep checkpoints
SHAPE_ONLY_INPUTS = {"SumToShapeOf": (1,), "BroadcastToShapeOf": (1,), "ZerosLike": (0,), "OnesLike": (0,),
                     "Shape": (0,), "Size": (0,), "Rank": (0,)}   # inputs these read only for their shape
MAX_STRIDED_ROWS = 1024      # rows of a strided history (the reverse loop replays up to count/rows iterations per step)
MIN_STRIDED_ROWS = 8         # ... and at least this many, for an unknown trip count, within HISTORY_MAX_BYTES
HISTORY_MAX_BYTES = 64 << 20

no_gradient("_Arg")


def _vjp(ys, grad_ys, xs) -> list:
    """d(ys . grad_ys)/dxs inside a sub-graph: zeros where unconnected; xs are treated as leaves."""
    pairs = [(y, g) for y, g in zip(ys, grad_ys) if g is not None and y.dtype.is_floating]
    grads = [None] * len(xs)
    if pairs and xs:
        grads = gradients([y for y, _ in pairs], xs, grad_ys=[g for _, g in pairs], stop_gradients=xs)
    return [convert_to_tensor(g) if g is not None else zeros_like(x)   # IndexedSlices: dense, made in here
            for g, x in zip(grads, xs)]


@grad_rule("If")
def _if_grad(op, *out_grads):
    captures = op.inputs[1:]
    wanted = [k for k, t in enumerate(captures) if t.dtype.is_floating]
    if not wanted:
        return [None] * len(op.inputs)
    xs = [captures[k] for k in wanted]
    branches = op.attrs["branches"]

    def branch_grad(sub):
        return lambda: _vjp(sub.outputs, out_grads, xs)

    with op.graph.name_scope("cond_grad") as scope:
        result, _ = cf.build_cond(op.inputs[0], [branch_grad(s) for s in branches], scope, strict=True,
                               adopt=branches)
    grads = [None] * len(op.inputs)
    for k, g in zip(wanted, result):
        grads[1 + k] = g
    return grads


@grad_rule("While")
def _while_grad(op, *out_grads):
    a = op.attrs
    n = a["n_vars"]
    if not a["back_prop"]:
        return [None] * len(op.inputs)
    body = a["body"]
    if body.assigns_variables():
        raise errors.unimplemented(f"Gradient of tf.while_loop '{op.name}' (op type While): its body assigns "
                                   "a Variable, which xlite cannot differentiate")
    float_vars = [j for j in range(n) if op.inputs[j].dtype.is_floating]
    read = set(body.captures)
    float_caps = [i for i in range(n, len(op.inputs)) if op.inputs[i].dtype.is_floating and op.inputs[i] in read]
    if not float_vars:
        return [None] * len(op.inputs)
    what = f"the gradient body of tf.while_loop '{op.name}'"
    with recording(op.graph, what, adopt={body}) as frame:
        grad_args = [cf.make_arg(op.outputs[j], op.outputs[j].shape, name="grad_var") for j in float_vars]
        xs = [body.args[j] for j in float_vars] + [op.inputs[i] for i in float_caps]
        outs = _vjp([body.outputs[j] for j in float_vars], grad_args, xs)
    grad_body = finish(frame, what, outs, grad_args)
    known = set(op.inputs)
    extra = [t for t in grad_body.captures if t not in known]
    incoming = [out_grads[j] if out_grads[j] is not None else zeros_like(op.outputs[j]) for j in float_vars]
    attrs = {"forward": op, "grad_body": grad_body, "float_vars": tuple(float_vars),
             "float_captures": tuple(float_caps),
             "grad_reads": _values_read(body.args, grad_body),
             "replay_reads": _replay_reads(body, _values_read(body.args, grad_body))}
    shapes = [op.inputs[j].shape for j in float_vars + float_caps]
    grad_op = make_op("WhileGrad", list(op.inputs) + incoming + extra, attrs,
                      name=op.name.split("/")[-1] + "_grad", output_shapes=shapes)
    grads = [None] * len(op.inputs)
    for k, g in zip(float_vars + float_caps, grad_op.outputs):
        grads[k] = g
    return grads


def _replay_reads(body, reads: tuple) -> tuple:
    """The loop variables a replay from a checkpoint must start from: those read, and every one their
    new values are computed from (the others may start from zeros)."""
    kept = set(reads)
    while True:
        more = set(_values_read(body.args, body, [body.outputs[j] for j in sorted(kept)])) | kept
        if more == kept:
            return tuple(sorted(kept))
        kept = more


def _values_read(args, sub, outputs=None) -> tuple:
    """Indices of the args whose values `sub`'s outputs (or those given) need: not only their static
    shapes (known when it lowers)."""
    outputs = sub.outputs if outputs is None else outputs
    ops = set(sub.ops)
    read, seen, todo = set(outputs), set(), [t.op for t in outputs]
    while todo:
        op = todo.pop()
        if op in seen or op not in ops:
            continue
        seen.add(op)
        shape_only = SHAPE_ONLY_INPUTS.get(op.type, ())
        values = [t for i, t in enumerate(op.inputs) if i not in shape_only]
        read.update(values)
        todo.extend(t.op for t in values)
        todo.extend(op.control_inputs)
    return tuple(j for j, arg in enumerate(args) if arg in read)


def history_plan(trip_bound: int | None, row_bytes: int) -> tuple[int, bool]:
    """(rows of the per-iteration history, whether rows are strided): every iteration's row when a known
    bound fits the budget (or nothing is kept), else as many rows as fit, each a checkpoint."""
    if row_bytes == 0:
        return 1, False
    if trip_bound is not None and trip_bound * row_bytes <= HISTORY_BYTES:
        return max(trip_bound, 1), False
    rows = min(MAX_STRIDED_ROWS, HISTORY_BYTES // row_bytes)
    # too few rows and the replays dominate: about sqrt(N) checkpoints balance them with the history's writes
    wanted = MIN_STRIDED_ROWS if trip_bound is None else isqrt(trip_bound) + 1
    rows = max(rows, min(wanted, HISTORY_MAX_BYTES // row_bytes))
    if trip_bound is not None:
        rows = min(rows, trip_bound)
    return max(rows, 2), True


def _history_stride(b, count, rows: int):
    """The fewest iterations per row that fit `count` iterations into `rows` rows (row ceil(k/stride))."""
    one = b.scalar(1, count.dtype)
    last = b.emit("max", (b.emit("sub", (count, one)), b.scalar(0, count.dtype)))
    per_row = b.emit("div", (b.emit("add", (last, b.scalar(rows - 2, count.dtype))), b.scalar(rows - 1, count.dtype)))
    return b.emit("max", (per_row, one))


def _row_bytes(init, kept) -> int:
    return sum(init[j].shape.num_elements * max(init[j].dtype.itemsize, 4) for j in kept)   # bools as s32


@lowering("WhileGrad")
def _lower_while_grad(ctx, op, *operands):
    a = op.attrs
    forward, grad_body = a["forward"], a["grad_body"]
    float_vars, float_caps = list(a["float_vars"]), list(a["float_captures"])
    if ctx.static:
        return [ctx.unknown(static_shape(forward.inputs[k])) for k in float_vars + float_caps]
    b = ctx.b
    n, m = forward.attrs["n_vars"], len(forward.inputs)
    init, outer = operands[:n], dict(zip(op.inputs, operands))
    bound = static_trip_count(forward, lambda t: ctx.constant_value(outer[t]))   # with this run's feeds
    kept = list(a["grad_reads"])      # every row read back: only what the gradient body reads
    rows, strided = history_plan(bound, _row_bytes(init, kept))
    if strided:                       # rows replayed from a checkpoint: those and what their replay reads
        kept = list(a["replay_reads"])
        rows, _ = history_plan(bound, _row_bytes(init, kept))
    stride = None
    if strided:   # the forward loop's count (or a counting pass's) says how many iterations a row keeps
        count = cf.lowered_trip_count(ctx, forward)
        if count is None:
            count = b.get_tuple_element(cf.lower_loop(ctx, forward, init, outer)[0], n)
        stride = _history_stride(b, count, rows)
    count = cf.lowered_trip_count(ctx, forward) if not kept else None
    if count is None:   # nothing to keep: the forward loop's count is all the reverse loop needs
        loop, _, _ = cf.lower_loop(ctx, forward, init, outer, history_rows=rows, history_stride=stride,
                                   history_vars=kept)
        count = b.get_tuple_element(loop, n)
    history = [b.get_tuple_element(loop, n + 1 + h) for h in range(len(kept))]
    incoming = list(operands[m:m + len(float_vars)])
    accumulators = [b.broadcast_to(b.scalar(0, operands[k].dtype), operands[k].shape.dims) for k in float_caps]

    fixed = [count] + incoming + accumulators + history + ([stride] if strided else [])
    state = TupleState([x.shape for x in fixed])
    rctx = SubgraphContext(ctx, state, f"{op.name}.reverse_body")
    rb = rctx.b
    k = rb.emit("sub", (rctx.element(0), rb.scalar(1, count.dtype)))
    rctx.iteration = k   # the forward iteration being differentiated: random ops redraw its numbers
    first_row = 1 + len(incoming) + len(accumulators)
    row = rb.emit("div", (k, rctx.element(len(fixed) - 1))) if strided else k
    body = forward.attrs["body"]
    rows_of = {j: rctx.element(first_row + h) for h, j in enumerate(kept)}
    values = [rb.convert(rb.emit("gather", (rows_of[j], row), axis=0), x.dtype) if j in rows_of
              else rb.broadcast_to(rb.scalar(0, x.dtype), x.shape.dims)      # the gradient never reads it
              for j, x in enumerate(init)]
    if strided:   # re-run the iterations from the row's checkpoint up to k
        rctx.captured.update({t: outer[t] for t in forward.inputs[n:]})
        start = rb.emit("mul", (row, rctx.element(len(fixed) - 1)))
        replay, _, _ = cf.lower_loop(rctx, forward, values, rctx.values, replay=(start, k))
        values = [rb.get_tuple_element(replay, j) for j in range(n)]
    bindings = dict(zip(body.args, values))
    for i, arg in enumerate(grad_body.args):
        bindings[arg] = rctx.element(1 + i)
    outs = rctx.lower(grad_body, bindings, {t: outer[t] for t in grad_body.captures})
    var_grads, cap_grads = outs[:len(float_vars)], outs[len(float_vars):]
    root = [k] + var_grads
    root += [rb.emit("add", (rctx.element(1 + len(incoming) + i), g)) for i, g in enumerate(cap_grads)]
    root += [rctx.element(i) for i in range(len(root), len(state.shapes))]
    rctx.finish(root)

    cctx = SubgraphContext(ctx, state, f"{op.name}.reverse_cond")
    cctx.finish(cctx.b.compare(cctx.element(0), cctx.b.scalar(0, count.dtype), "GT"))
    reverse = b.emit("while", (state.operand(b, fixed),), called=(cctx.computation, rctx.computation))
    return [b.get_tuple_element(reverse, 1 + i) for i in range(len(float_vars) + len(float_caps))]

