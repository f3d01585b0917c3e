"""The second derivative through tf.while_loop: the gradient of "WhileGrad", one "WhileGradGrad" op.

WhileGrad (control_flow_grad.py) runs the forward iterations x_{k+1} = f(x_k, c) for k < N, then the
reverse sweep g_k = J_x(x_k)^T g_{k+1} from the incoming gradient g_N, and returns g_0 and
G_c = sum_k J_c(x_k)^T g_{k+1}. Given cotangents u of g_0 and w of G_c, its gradient takes, after the
forward loop (which keeps every iteration's loop variables) and the first-order sweep again (keeping
each g_{k+1}), two more sweeps:
- forward: a_0 = u, and one vector-Jacobian product of the gradient body per iteration, of
  <a_k, g_k> + <w, dc_k>, gives a_{k+1} = J_x a_k + J_c w (w.r.t. g_{k+1}), b_k (w.r.t. x_k) and e_k
  (w.r.t. c);
- reverse: R_N = 0, R_k = b_k + J_x(x_k)^T R_{k+1} (the gradient body plus b_k), collecting
  J_c(x_k)^T R_{k+1} for c.
The results are R_0 for x_0, sum(e_k) + sum(J_c^T R_{k+1}) for c, and a_N for g_N. Every sweep reads
iteration k's rows, so this needs the trip count's compile-time bound (a constant maximum_iterations
or a counting condition: while_trip_count.py) and a history that fits HISTORY_BYTES; other loops raise
UnimplementedError naming the loop. A third derivative ("WhileGradGrad"'s gradient) is not there.
"""
from __future__ import annotations

from xlite import errors
from xlite.frontend import control_flow_ops as cf
from xlite.frontend.array_ops import zeros_like
from xlite.frontend.control_flow_grad import _row_bytes, _vjp, history_plan
from xlite.frontend.gradients import grad_rule
from xlite.frontend.op_registry import lowering, make_op
from xlite.frontend.subgraph import SubgraphContext, TupleState, finish, recording, static_shape
from xlite.frontend.while_trip_count import static_trip_count


@grad_rule("WhileGrad")
def _while_grad_grad(op, *out_grads):
    a = op.attrs
    forward, grad_body = a["forward"], a["grad_body"]
    float_vars, float_caps = list(a["float_vars"]), list(a["float_captures"])
    nv = len(float_vars)
    if all(g is None for g in out_grads):
        return [None] * len(op.inputs)
    n_forward = len(forward.inputs)
    extra = op.inputs[n_forward + nv:]
    if any(t.dtype.is_floating for t in extra):
        raise errors.unimplemented(f"the second derivative of tf.while_loop '{forward.name}': its gradient body "
                                   f"reads {extra[0].name} from outside the loop's inputs")
    u = [g if g is not None else zeros_like(t) for g, t in zip(out_grads[:nv], op.outputs[:nv])]
    w = [g if g is not None else zeros_like(t) for g, t in zip(out_grads[nv:], op.outputs[nv:])]
    body = forward.attrs["body"]
    what = f"the second-order body of tf.while_loop '{forward.name}'"
    with recording(op.graph, what, adopt={grad_body, body}) as frame:
        cotangents = [cf.make_arg(t, t.shape, name="cotangent") for t in op.outputs[:nv]]
        xs = [body.args[j] for j in float_vars] + list(grad_body.args) + [forward.inputs[i] for i in float_caps]
        outs = _vjp(grad_body.outputs, cotangents + w, xs)
    second = finish(frame, what, outs, cotangents)
    known = set(op.inputs) | set(u) | set(w)
    inputs = list(op.inputs) + u + w + [t for t in second.captures if t not in known]
    shapes = [forward.inputs[k].shape for k in float_vars + float_caps + float_vars]
    attrs = {"grad_op": op, "second": second}
    grad2 = make_op("WhileGradGrad", inputs, attrs, name=forward.name.split("/")[-1] + "_grad_grad",
                    output_shapes=shapes)
    grads = [None] * len(op.inputs)
    for k, g in zip(float_vars + float_caps, grad2.outputs):
        grads[k] = g
    for q, g in enumerate(grad2.outputs[nv + len(float_caps):]):
        grads[n_forward + q] = g        # the incoming gradient g_N: a_N
    return grads


@lowering("WhileGradGrad")
def _lower_while_grad_grad(ctx, op, *operands):
    grad_op, second = op.attrs["grad_op"], op.attrs["second"]
    ga = grad_op.attrs
    forward, grad_body = ga["forward"], ga["grad_body"]
    float_vars, float_caps = list(ga["float_vars"]), list(ga["float_captures"])
    nv, nc = len(float_vars), len(float_caps)
    if ctx.static:
        return [ctx.unknown(static_shape(forward.inputs[k])) for k in float_vars + float_caps + float_vars]
    b = ctx.b
    n, n_forward, n_grad = forward.attrs["n_vars"], len(forward.inputs), len(grad_op.inputs)
    init, outer = operands[:n], dict(zip(op.inputs, operands))
    bound = static_trip_count(forward, lambda t: ctx.constant_value(outer[t]))
    rows, strided = history_plan(bound, _row_bytes(init, range(n)))
    if bound is None or strided:
        raise errors.unimplemented(
            f"the second derivative of tf.while_loop '{forward.name}': xlite computes it for loops whose trip "
            "count has a compile-time bound (a constant maximum_iterations or a counting condition) and whose "
            "per-iteration history fits 16 MiB")
    loop, _, _ = cf.lower_loop(ctx, forward, init, outer, history_rows=rows, history_vars=range(n))
    count = b.get_tuple_element(loop, n)
    history = [b.get_tuple_element(loop, n + 1 + j) for j in range(n)]
    incoming = list(operands[n_forward:n_forward + nv])
    u, w = operands[n_grad:n_grad + nv], operands[n_grad + nv:n_grad + nv + nc]
    body = forward.attrs["body"]

    def iteration(sctx, k) -> dict:
        """Bindings of the forward body's loop variables to iteration k's values."""
        return {arg: _read_row(sctx, ("x", j), history[j], k, x.dtype)
                for j, (arg, x) in enumerate(zip(body.args, init))}

    def lower(sctx, sub, bindings) -> list:
        return sctx.lower(sub, bindings, {t: outer[t] for t in sub.captures})

    def first_order(sctx, k, carried):      # g_k from g_{k+1}, keeping g_{k+1}
        bindings = {**iteration(sctx, k), **dict(zip(grad_body.args, carried))}
        return lower(sctx, grad_body, bindings)[:nv], list(carried)
    g_rows = [b.broadcast_to(b.scalar(0, g.dtype), (rows,) + tuple(g.shape.dims)) for g in incoming]
    g_history = _sweep(ctx, f"{op.name}.first_order", count, incoming, g_rows, first_order, reverse=True)[nv:]

    def tangents(sctx, k, carried):         # a_{k+1}, sum of e_k, keeping b_k
        bindings = {**iteration(sctx, k), **dict(zip(second.args, carried[:nv]))}
        bindings.update((arg, _read_row(sctx, ("g", q), g_history[q], k, arg.dtype))
                        for q, arg in enumerate(grad_body.args))
        outs = lower(sctx, second, bindings)
        b_k, a_next, e_k = outs[:nv], outs[nv:2 * nv], outs[2 * nv:]
        sums = [sctx.b.emit("add", (s, e)) for s, e in zip(carried[nv:], e_k)]
        return a_next + sums, b_k
    b_rows = [b.broadcast_to(b.scalar(0, init[j].dtype), (rows,) + tuple(init[j].shape.dims)) for j in float_vars]
    swept = _sweep(ctx, f"{op.name}.tangents", count, list(u) + _zeros_like_each(b, w), b_rows, tangents,
                   reverse=False)
    a_n, e_sum, b_history = swept[:nv], swept[nv:nv + nc], swept[nv + nc:]

    def adjoints(sctx, k, carried):         # R_k = b_k + J_x^T R_{k+1}, summing J_c^T R_{k+1}
        bindings = {**iteration(sctx, k), **dict(zip(grad_body.args, carried[:nv]))}
        outs = lower(sctx, grad_body, bindings)
        sb = sctx.b
        r = [sb.emit("add", (g, _read_row(sctx, ("b", q), b_history[q], k, g.dtype))) for q, g in enumerate(outs[:nv])]
        return r + [sb.emit("add", (s, c)) for s, c in zip(carried[nv:], outs[nv:])], []
    zeros = [b.broadcast_to(b.scalar(0, init[j].dtype), init[j].shape.dims) for j in float_vars]
    result = _sweep(ctx, f"{op.name}.adjoints", count, zeros + e_sum, [], adjoints, reverse=True)
    return result[:nv + nc] + a_n


def _zeros_like_each(b, values) -> list:
    return [b.broadcast_to(b.scalar(0, x.dtype), x.shape.dims) for x in values]


def _read_row(sctx, key, buffer, k, dtype):
    """Row k of an outer history buffer inside sweep `sctx` (bools were kept as s32)."""
    sb = sctx.b
    rows = sctx.import_value(("history",) + key, buffer)
    return sb.convert(sb.emit("gather", (rows, k), axis=0), dtype)


def _sweep(ctx, name: str, count, carried: list, buffers: list, step, reverse: bool) -> list:
    """An IR while over k = count-1..0 (`reverse`) or 0..count-1: `step(sctx, k, carried values)` gives
    the new carried values and a row for each of `buffers` (written at row k). Returns the final carried
    values, then the buffers."""
    b = ctx.b
    start = count if reverse else b.scalar(0, count.dtype)
    fixed = [start] + list(carried) + list(buffers)
    state = TupleState([x.shape for x in fixed])
    cctx = SubgraphContext(ctx, state, f"{name}.cond")
    cb = cctx.b
    limit = cb.scalar(0, count.dtype) if reverse else cctx.import_value(("count",), count)
    cctx.finish(cb.compare(cctx.element(0), limit, "GT" if reverse else "LT"))
    sctx = SubgraphContext(ctx, state, f"{name}.body")
    sb = sctx.b
    one = sb.scalar(1, count.dtype)
    k = sb.emit("sub", (sctx.element(0), one)) if reverse else sctx.element(0)
    sctx.iteration = k      # random ops redraw the forward iteration's numbers
    new, rows = step(sctx, k, [sctx.element(1 + i) for i in range(len(carried))])
    root = [k if reverse else sb.emit("add", (k, one))] + list(new)
    for h, row in enumerate(rows):
        row = sb.reshape(row, (1,) + tuple(row.shape.dims))
        at = [k] + [sb.scalar(0, count.dtype)] * (row.shape.rank - 1)
        root.append(sb.emit("dynamic_update_slice", (sctx.element(1 + len(carried) + h), row, *at)))
    root += [sctx.element(i) for i in range(len(root), len(state.shapes))]
    sctx.finish(root)
    loop = b.emit("while", (state.operand(b, fixed),), called=(cctx.computation, sctx.computation))
    return [b.get_tuple_element(loop, 1 + i) for i in range(len(carried) + len(buffers))]
