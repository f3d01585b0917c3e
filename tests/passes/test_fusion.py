"""Fusion: kernel counts pinned per graph (as tinygrad's check_schedule does), and values kept."""
import numpy as np
import pytest

import xlite as tf
from xlite.frontend.lower import lower_run
from xlite.ir.opcodes import OPCODES, op_info
from xlite.ir.parser import parse_module
from xlite.ir.verifier import verify_module
from xlite.passes.fusion import Fusion, kernel_count
from xlite.passes.layout_assignment import LayoutAssignment
from xlite.passes.pipelines import cpu_pipeline, run_passes
from xlite.semantics.eval_rules import evaluate_module


def optimize(m):
    """The cpu pipeline on m, verified after every pass: (m, its buffer assignment)."""
    pipeline = cpu_pipeline()
    pipeline.verify = verify_module
    return m, run_passes(pipeline, m)


def lower(build, shapes: dict):
    """build(*placeholders) -> fetches (a tensor or a list), on placeholders of the given shapes."""
    g = tf.Graph()
    with g.as_default():
        phs = [tf.placeholder(tf.float32, shape) for shape in shapes]
        out = build(*phs)
        fetches = out if isinstance(out, (list, tuple)) else [out]
        tensors = [t for t in fetches if isinstance(t, tf.Tensor)]
        targets = [t for t in fetches if not isinstance(t, tf.Tensor)]
        init = tf.global_variables_initializer()
    return g, phs, tensors, targets, init


def module_of(build, *shapes):
    g, phs, tensors, targets, _ = lower(build, shapes)
    return lower_run(g, tensors, targets, {p: s for p, s in zip(phs, shapes)}).module


def check_values(build, *shapes, seed=0):
    """The interpreter gives the same values before and after the whole cpu pipeline."""
    m = module_of(build, *shapes)
    rng = np.random.default_rng(seed)
    args = [rng.standard_normal(p.shape.dims).astype(p.shape.dtype.np) if p.shape.dtype.is_floating
            else np.asarray(7, p.shape.dtype.np) for p in m.entry.parameters]
    before = evaluate_module(m, args)
    optimize(m)
    after = evaluate_module(m, args)
    for a, b in zip(after, before):
        np.testing.assert_allclose(a, b, rtol=2e-5, atol=2e-5)
    return m


def fusions(m):
    return [i for i in m.entry.instructions if i.opcode == "fusion"]


def arena_slices(ba):
    return {i: s for i, s in ba.slices.items() if s.kind == "arena"}


def w1(x):
    return tf.tanh(x * 0.5 + 0.1) * tf.sigmoid(x) + tf.nn.relu(x - 0.2)


def softmax(x):
    m = tf.reduce_max(x, 1, keepdims=True)
    e = tf.exp(x - m)
    return e / tf.reduce_sum(e, 1, keepdims=True)


def test_elementwise_chain_is_one_fusion_with_one_buffer():
    m, ba = optimize(module_of(w1, [2048, 2048]))
    (f,) = fusions(m)
    assert f.attrs["kind"] == "loop"
    assert [i.opcode for i in m.entry.instructions] == ["parameter", "fusion", "tuple"]
    assert ba.slices[f].kind == "output" and ba.slices[f].size == 2048 * 2048 * 4
    assert not arena_slices(ba) and ba.arena_bytes == 0 and ba.peak_bytes == 0
    ops = sorted(i.opcode for i in f.called[0].instructions)
    assert ops.count("tanh") == 1 and ops.count("logistic") == 1
    check_values(w1, [37, 53])


def test_row_softmax_is_one_row_kernel_with_no_temporaries():
    m, ba = optimize(module_of(softmax, [4096, 1024]))
    (f,) = fusions(m)
    assert kernel_count(m.entry) == 1 and f.attrs["kind"] == "row"
    assert ba.arena_bytes == 0
    ops = [i.opcode for i in f.called[0].instructions]
    assert ops.count("exp") == 1 and ops.count("reduce") == 2
    check_values(softmax, [33, 17])


def test_bias_add_and_relu_fuse_into_the_dot():
    def dense(x, w, b):
        return tf.nn.relu(tf.matmul(x, w) + b)
    m, ba = optimize(module_of(dense, [64, 32], [32, 16], [16]))
    (f,) = fusions(m)
    assert kernel_count(m.entry) == 1 and f.attrs["kind"] == "output"
    fused = f.called[0]
    assert fused.root.opcode == "max"
    add = next(o for o in fused.root.operands if o.opcode == "add")
    dot = next(o for o in add.operands if o.opcode == "dot")
    assert all(o.opcode == "parameter" for o in dot.operands)
    check_values(dense, [5, 3], [3, 4], [4])


def test_convolution_takes_its_bias_and_relu():
    def conv(x, w, b):
        return tf.nn.relu(tf.nn.conv2d(x, w, strides=[1, 1, 1, 1], padding="SAME") + b)
    m, ba = optimize(module_of(conv, [2, 6, 6, 3], [3, 3, 3, 4], [4]))
    (f,) = fusions(m)
    assert f.attrs["kind"] == "output" and kernel_count(m.entry) == 1
    check_values(conv, [2, 5, 6, 3], [3, 3, 3, 4], [4])


def test_zeros_plus_x_makes_no_large_constant():
    for build, shape in ((lambda x: tf.zeros([4096, 4096]) + x, [4096, 4096]),
                         (lambda x: tf.zeros([4096, 4096]) + x, [4096]),
                         (lambda x: tf.ones([4096, 4096]) * x + 1.0, [4096])):
        m, ba = optimize(module_of(build, shape))
        for comp in m.computations:
            for i in comp.instructions:
                assert i.opcode != "constant" or i.literal.size <= 1
        assert ba.arena_bytes == 0
        assert kernel_count(m.entry) <= 1


def test_dot_with_two_users_stays_unfused():
    def two_users(x, w):
        d = tf.matmul(x, w)
        return [tf.nn.relu(d), tf.reduce_sum(d, 1)]
    m, ba = optimize(module_of(two_users, [8, 4], [4, 5]))
    assert any(i.opcode == "dot" for i in m.entry.instructions)
    assert all(f.attrs["kind"] != "output" for f in fusions(m))
    check_values(two_users, [8, 4], [4, 5])


def test_expensive_producer_is_not_recomputed_per_broadcast_element():
    def bcast(x, v):
        return x + tf.exp(v)          # exp of [64] broadcast over [32, 64]
    m, ba = optimize(module_of(bcast, [32, 64], [64]))
    for f in fusions(m):
        assert "exp" not in {i.opcode for i in f.called[0].instructions if i.shape.dims == (32, 64)}
    assert kernel_count(m.entry) == 2
    check_values(bcast, [32, 64], [64])


def test_expensive_producer_with_many_users_is_materialized():
    def many(x):
        e = tf.exp(x)
        return [e + 1.0, e * 2.0, e - 3.0, tf.sqrt(e)]
    m, ba = optimize(module_of(many, [16, 16]))
    assert sum(1 for f in fusions(m) for i in f.called[0].instructions if i.opcode == "exp") <= 1
    check_values(many, [16, 16])


def test_cheap_producer_duplicates_into_each_consumer():
    def shared(x):
        t = tf.tanh(x)
        return [tf.reduce_sum(t, 1), tf.reduce_max(t, 0)]
    m, ba = optimize(module_of(shared, [16, 8]))
    assert kernel_count(m.entry) == 2
    assert all(f.attrs["kind"] == "input" for f in fusions(m))
    check_values(shared, [16, 8])


def test_rng_is_never_fused():
    def noisy(x):
        return x + tf.random_uniform([4, 8], seed=1)
    m, ba = optimize(module_of(noisy, [4, 8]))
    assert any(i.opcode == "rng" for i in m.entry.instructions)
    for f in fusions(m):
        assert all(i.opcode != "rng" for i in f.called[0].instructions)


def test_fusion_on_ir_text_keeps_operands_in_parameter_order():
    m = parse_module("""
      ENTRY e {
        %x = f32[4,6] parameter(0)
        %w = f32[6,3] parameter(1)
        %b = f32[3] parameter(2)
        %d = f32[4,3] dot(%x, %w), lhs_batch_dims={}, rhs_batch_dims={}, lhs_contracting_dims={1}, rhs_contracting_dims={0}
        %bb = f32[4,3] broadcast_in_dim(%b), dimensions={1}
        %a = f32[4,3] add(%d, %bb)
        %e = f32[4,3] exp(%a)
        %s = f32[4] reduce(%e), dimensions={1}, kind=sum
        %sb = f32[4,3] broadcast_in_dim(%s), dimensions={0}
        %y = f32[4,3] div(%e, %sb)
        ROOT %out = (f32[4,3]) tuple(%y)
      }""")
    rng = np.random.default_rng(1)
    args = [rng.standard_normal(s).astype(np.float32) for s in ((4, 6), (6, 3), (3,))]
    before = evaluate_module(m, args)
    LayoutAssignment().run(m)
    assert Fusion().run(m)
    verify_module(m)
    np.testing.assert_allclose(evaluate_module(m, args)[0], before[0], rtol=1e-6)
    for f in fusions(m):
        params = f.called[0].parameters
        assert [p.shape for p in params] == [o.shape for o in f.operands]
        assert any(c is f.called[0] for c in m.computations)
    # the dot has two users inside the graph (exp feeds a reduction and a division), so it stays alone
    assert [i.opcode for i in m.entry.instructions].count("dot") == 1


def test_expensive_op_only_read_at_the_roots_index():
    """tanh feeds the root only elementwise, so one fusion; exp of a row vector broadcast is not fused."""
    for op in [o for o in OPCODES if op_info(o).expensive and op_info(o).arity == 1]:
        m = parse_module(f"""
          ENTRY e {{
            %x = f32[8,4] parameter(0)
            %v = f32[8] parameter(1)
            %e = f32[8] {op}(%v)
            %eb = f32[8,4] broadcast_in_dim(%e), dimensions={{0}}
            %t = f32[8,4] {op}(%x)
            %y = f32[8,4] add(%t, %eb)
            ROOT %out = (f32[8,4]) tuple(%y)
          }}""")
        LayoutAssignment().run(m)
        Fusion().run(m)
        verify_module(m)
        ops = [i.opcode for i in m.entry.instructions]
        assert ops == ["parameter", "parameter", op, "fusion", "tuple"], ops


def test_dynamic_slice_fuses_and_dynamic_update_slice_is_its_own_kernel():
    """A run-time window (x[i]) is read element by element inside its consumer's kernel, the exp
    before it evaluated once per element read; writing a window is a kernel of its own."""
    m = parse_module("""
      ENTRY e {
        %x = f32[6,5] parameter(0)
        %i = s32[] parameter(1)
        %u = f32[2,5] parameter(2)
        %z = s32[] constant(0)
        %one = s32[] constant(1)
        %e = f32[6,5] exp(%x)
        %j = s32[] add(%i, %one)
        %d = f32[2,5] dynamic_slice(%e, %j, %z), dynamic_slice_sizes={2,5}
        %y = f32[2,5] mul(%d, %u)
        %w = f32[6,5] dynamic_update_slice(%x, %y, %i, %z)
        %n = f32[6,5] neg(%w)
        ROOT %out = (f32[2,5], f32[6,5]) tuple(%y, %n)
      }""")
    rng = np.random.default_rng(4)
    args = [rng.standard_normal((6, 5)).astype(np.float32), np.int32(3), rng.standard_normal((2, 5)).astype(np.float32)]
    before = evaluate_module(m, args)
    LayoutAssignment().run(m)
    Fusion().run(m)
    verify_module(m)
    (loop,) = fusions(m)
    assert {"exp", "dynamic_slice", "mul"} <= {i.opcode for i in loop.called[0].instructions}
    assert [i.opcode for i in m.entry.instructions if i.opcode not in ("parameter", "constant")] == [
        "fusion", "dynamic_update_slice", "neg", "tuple"]
    for got, want in zip(evaluate_module(m, args), before):
        np.testing.assert_allclose(got, want, rtol=1e-6)


# graphs from the test suite and the examples: the whole pipeline keeps their values --------------
def _session_graph_values(build_graph, feeds_fn, runs=2):
    """Runs `build_graph()` -> (fetches, targets) through lower_run; compares interpreter before/after."""
    g = tf.Graph()
    with g.as_default():
        fetches, targets, placeholders = build_graph()
        init = tf.global_variables_initializer()
    with tf.Session(graph=g, target="interpreter") as sess:
        sess.run(init)
        variables = {op: sess._variables[op] for op in sess._variables}
    feeds = feeds_fn(placeholders)
    lowered = lower_run(g, fetches, targets, {t: np.shape(v) for t, v in feeds.items()})
    m = lowered.module
    args = []
    for kind, item in lowered.params:
        args.append(feeds[item] if kind == "feed" else variables[item] if kind == "variable" else np.int64(3))
    before = evaluate_module(m, args)
    optimize(m)
    after = evaluate_module(m, args)
    for a, b in zip(after, before):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    return m


def test_mlp_training_step_keeps_values():
    def build():
        x = tf.placeholder(tf.float32, [None, 12])
        y = tf.placeholder(tf.float32, [None, 3])
        h = tf.layers.dense(x, 8, activation=tf.nn.relu)
        logits = tf.layers.dense(h, 3)
        loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=logits))
        train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
        return [loss], [train], (x, y)
    rng = np.random.default_rng(0)
    _session_graph_values(build, lambda p: {p[0]: rng.standard_normal((5, 12)).astype(np.float32),
                                            p[1]: np.eye(3, dtype=np.float32)[[0, 1, 2, 1, 0]]})


def test_cnn_training_step_keeps_values():
    def build():
        x = tf.placeholder(tf.float32, [None, 8, 8, 1])
        y = tf.placeholder(tf.float32, [None, 4])
        w = tf.Variable(tf.truncated_normal([3, 3, 1, 4], stddev=0.3, seed=1))
        b = tf.Variable(tf.constant(0.1, shape=[4]))
        h = tf.nn.relu(tf.nn.conv2d(x, w, strides=[1, 1, 1, 1], padding="SAME") + b)
        p = tf.nn.max_pool(h, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding="SAME")
        flat = tf.reshape(p, [-1, 4 * 4 * 4])
        logits = tf.layers.dense(flat, 4)
        loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=logits))
        train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
        return [loss, tf.argmax(logits, 1)], [train], (x, y)
    rng = np.random.default_rng(1)
    _session_graph_values(build, lambda p: {p[0]: rng.standard_normal((3, 8, 8, 1)).astype(np.float32),
                                            p[1]: np.eye(4, dtype=np.float32)[[0, 3, 2]]})


def test_control_flow_with_gradients_keeps_values():
    def build():
        v = tf.placeholder(tf.float32, [4])
        c = tf.cond(tf.reduce_sum(v) < 2.0, lambda: v * v * v, lambda: 10.0 * tf.exp(v))
        _, power = tf.while_loop(lambda k, p: k < 5, lambda k, p: (k + 1, p * tf.tanh(v)),
                                 [0, tf.ones([4])], maximum_iterations=5)
        out = tf.reduce_sum(c) + tf.reduce_sum(power)
        return [out, tf.gradients(out, v)[0]], [], (v,)
    for value in ([0.1, 0.2, -0.3, 0.4], [1.0, 2.0, 0.5, 0.25]):
        _session_graph_values(build, lambda p: {p[0]: np.array(value, np.float32)})


@pytest.mark.parametrize("op", ["gather", "slices", "pad_concat"])
def test_index_ops_keep_values(op):
    def build():
        x = tf.placeholder(tf.float32, [6, 5])
        if op == "gather":
            out = tf.gather(tf.exp(x), [4, 0, 0, 2]) * 2.0
        elif op == "slices":
            out = tf.exp(x)[1:5, ::2] + tf.reverse(tf.tanh(x), [0])[:4, 1:4]
        else:
            out = tf.concat([tf.pad(tf.exp(x), [[1, 0], [0, 2]]), tf.ones([7, 7])], 0) * 3.0
        return [out, tf.transpose(out) + 1.0], [], (x,)
    rng = np.random.default_rng(2)
    _session_graph_values(build, lambda p: {p[0]: rng.standard_normal((6, 5)).astype(np.float32)})
