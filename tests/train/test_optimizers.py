"""Each optimizer's first three steps equal TF's formulas computed here in NumPy."""
import numpy as np
import pytest

import xlite as tf

TARGET = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]], dtype=np.float32)
W0 = np.array([[1.0, 2.0, -1.0], [0.0, 0.5, 1.0]], dtype=np.float32)


def _grad(w):
    return w - TARGET          # of 0.5 * sum((w - target)^2)


def _numpy_steps(update, slots, steps=3):
    w = W0.astype(np.float64).copy()
    history = []
    for t in range(1, steps + 1):
        w = update(w, _grad(w), slots, t)
        history.append(w.copy())
    return history


def _xlite_steps(make_optimizer, steps=3, global_step=False, target=""):
    tf.reset_default_graph()
    w = tf.Variable(W0, name="w")
    loss = 0.5 * tf.reduce_sum(tf.square(w - TARGET))
    gs = tf.train.get_or_create_global_step() if global_step else None
    train = make_optimizer().minimize(loss, global_step=gs)
    history = []
    with tf.Session(target=target) as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(steps):
            sess.run(train)
            history.append(sess.run(w))
        step = sess.run(gs) if global_step else None
    return history, step


def _check(make_optimizer, update, slots, target=""):
    got, _ = _xlite_steps(make_optimizer, target=target)
    want = _numpy_steps(update, slots)
    for g, e in zip(got, want):
        np.testing.assert_allclose(g, e, rtol=1e-5, atol=1e-6)


def test_gradient_descent():
    _check(lambda: tf.train.GradientDescentOptimizer(0.1), lambda w, g, s, t: w - 0.1 * g, {})


@pytest.mark.parametrize("nesterov", [False, True])
def test_momentum(nesterov):
    def update(w, g, s, t):
        s["a"] = 0.9 * s.get("a", 0.0) + g
        return w - 0.1 * ((g + 0.9 * s["a"]) if nesterov else s["a"])
    _check(lambda: tf.train.MomentumOptimizer(0.1, 0.9, use_nesterov=nesterov), update, {})


def test_adam():
    def update(w, g, s, t):
        s["m"] = 0.9 * s.get("m", 0.0) + 0.1 * g
        s["v"] = 0.999 * s.get("v", 0.0) + 0.001 * g * g
        lr_t = 0.01 * np.sqrt(1 - 0.999 ** t) / (1 - 0.9 ** t)
        return w - lr_t * s["m"] / (np.sqrt(s["v"]) + 1e-8)
    _check(lambda: tf.train.AdamOptimizer(0.01), update, {})


def test_adagrad():
    def update(w, g, s, t):
        s["a"] = s.get("a", 0.1) + g * g
        return w - 0.1 * g / np.sqrt(s["a"])
    _check(lambda: tf.train.AdagradOptimizer(0.1), update, {})


@pytest.mark.parametrize("centered", [False, True])
def test_rmsprop(centered):
    def update(w, g, s, t):
        s["ms"] = 0.9 * s.get("ms", 1.0) + 0.1 * g * g
        denom = s["ms"]
        if centered:
            s["mg"] = 0.9 * s.get("mg", 0.0) + 0.1 * g
            denom = denom - s["mg"] ** 2
        s["mom"] = 0.5 * s.get("mom", 0.0) + 0.01 * g / np.sqrt(denom + 1e-10)
        return w - s["mom"]
    _check(lambda: tf.train.RMSPropOptimizer(0.01, momentum=0.5, centered=centered), update, {})


def test_global_step_counts_and_slots_are_initialized_variables():
    history, step = _xlite_steps(lambda: tf.train.AdamOptimizer(0.01), global_step=True)
    assert step == 3
    names = {v.op.name for v in tf.global_variables()}
    assert {"w", "w/Adam", "w/Adam_1", "beta1_power", "beta2_power", "global_step"} <= names
    assert [v.op.name for v in tf.trainable_variables()] == ["w"]


def test_learning_rate_placeholder_and_var_list():
    tf.reset_default_graph()
    a = tf.Variable(np.float32(1.0), name="a")
    b = tf.Variable(np.float32(1.0), name="b")
    lr = tf.placeholder(tf.float32, [])
    train = tf.train.GradientDescentOptimizer(lr).minimize(a * b, var_list=[a])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(train, feed_dict={lr: 0.25})
        assert sess.run(a) == pytest.approx(0.75) and sess.run(b) == 1.0


def test_no_gradients_is_an_error():
    tf.reset_default_graph()
    a = tf.Variable(np.float32(1.0))
    with pytest.raises(ValueError, match="No gradients"):
        tf.train.GradientDescentOptimizer(0.1).minimize(tf.constant(1.0) + 0 * tf.stop_gradient(a))


def test_train_op_names_follow_tf():
    tf.reset_default_graph()
    w = tf.Variable(np.float32(1.0), name="w")
    assert tf.train.GradientDescentOptimizer(0.1).minimize(w * w).name == "GradientDescent"
    assert tf.train.AdamOptimizer(0.1).minimize(w * w, name="train").name == "train"
    step = tf.train.get_or_create_global_step()
    assert tf.train.MomentumOptimizer(0.1, 0.9).minimize(w * w, global_step=step).name == "Momentum"


@pytest.mark.parametrize("target", ["interpreter", "cpu"])
def test_adadelta(target):
    def update(w, g, s, t):
        s["accum"] = 0.9 * s.get("accum", 0.0) + 0.1 * g * g
        step = np.sqrt(s.get("accum_update", 0.0) + 1e-6) / np.sqrt(s["accum"] + 1e-6) * g
        s["accum_update"] = 0.9 * s.get("accum_update", 0.0) + 0.1 * step * step
        return w - 0.5 * step
    _check(lambda: tf.train.AdadeltaOptimizer(0.5, rho=0.9, epsilon=1e-6), update, {}, target=target)


def test_adadelta_slots_follow_tf_names():
    tf.reset_default_graph()
    w = tf.Variable(W0, name="w")
    opt = tf.train.AdadeltaOptimizer()
    assert opt.minimize(tf.reduce_sum(w * w)).name == "Adadelta"
    assert opt.get_slot(w, "accum").op.name == "w/Adadelta"
    assert opt.get_slot(w, "accum_update").op.name == "w/Adadelta_1"
    assert opt.get_slot_names() == ["accum", "accum_update"]
    assert not opt.get_slot(w, "accum").trainable


@pytest.mark.parametrize("l1,l2", [(0.0, 0.0), (0.3, 0.0), (0.3, 0.5)])
def test_proximal_gradient_descent(l1, l2):
    def update(w, g, s, t):
        prox = w - 0.2 * g
        return np.sign(prox) * np.maximum(np.abs(prox) - 0.2 * l1, 0) / (1 + 0.2 * l2)
    _check(lambda: tf.train.ProximalGradientDescentOptimizer(0.2, l1, l2), update, {})


@pytest.mark.parametrize("make_lr", [
    lambda gs: tf.train.exponential_decay(0.1, gs, 2, 0.5),
    lambda gs: tf.Variable(np.float64(0.1), trainable=False),           # a Variable of another dtype
])
def test_tensor_learning_rate(make_lr):
    """A decayed rate reads the global step before minimize increments it, as in TF."""
    tf.reset_default_graph()
    w = tf.Variable(W0, name="w")
    gs = tf.train.get_or_create_global_step()
    lr = make_lr(gs)
    train = tf.train.GradientDescentOptimizer(lr).minimize(0.5 * tf.reduce_sum(tf.square(w - TARGET)),
                                                           global_step=gs)
    want = W0.astype(np.float64)
    decays = not isinstance(lr, tf.Variable)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for t in range(3):
            sess.run(train)
            want = want - 0.1 * (0.5 ** (t / 2) if decays else 1.0) * _grad(want)
            np.testing.assert_allclose(sess.run(w), want, rtol=1e-5, atol=1e-6)
        assert sess.run(gs) == 3


@pytest.mark.parametrize("name,args", [("AdadeltaOptimizer", (0.5, 0.9, 1e-6)),
                                       ("ProximalGradientDescentOptimizer", (0.2, 0.3, 0.5))])
def test_new_optimizers_match_tensorflow(name, args):
    tfv1 = pytest.importorskip("tensorflow").compat.v1
    graph = tfv1.Graph()
    with graph.as_default():
        w = tfv1.Variable(W0, name="w")
        train = getattr(tfv1.train, name)(*args).minimize(0.5 * tfv1.reduce_sum(tfv1.square(w - TARGET)))
        with tfv1.Session(graph=graph) as sess:
            sess.run(tfv1.global_variables_initializer())
            want = [(sess.run(train), sess.run(w))[1] for _ in range(3)]
    got, _ = _xlite_steps(lambda: getattr(tf.train, name)(*args), target="interpreter")
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("make, slots", [
    (lambda: tf.train.MomentumOptimizer(0.1, 0.9), {"momentum": "w/Momentum"}),
    (lambda: tf.train.AdamOptimizer(), {"m": "w/Adam", "v": "w/Adam_1"}),
    (lambda: tf.train.AdagradOptimizer(0.1), {"accumulator": "w/Adagrad"}),
    (lambda: tf.train.RMSPropOptimizer(0.1, momentum=0.5), {"rms": "w/RMSProp", "momentum": "w/RMSProp_1"}),
    (lambda: tf.train.RMSPropOptimizer(0.1, centered=True),
     {"rms": "w/RMSProp", "mg": "w/RMSProp_1", "momentum": "w/RMSProp_2"}),
    (lambda: tf.train.AdamOptimizer(name="Fast"), {"m": "w/Fast", "v": "w/Fast_1"}),
])
def test_slot_keys_and_variable_names_are_tfs(make, slots):
    """get_slot's keys and the slot Variables' names as TF 1.x gives them (checked with TF 2.21's compat.v1)."""
    with tf.Graph().as_default():
        w = tf.Variable([1.0, 2.0], name="w")
        opt = make()
        opt.minimize(tf.reduce_sum(w * w))
        assert opt.get_slot_names() == sorted(slots)
        assert {k: opt.get_slot(w, k).op.name for k in slots} == slots


def test_large_slots_start_from_a_fill_not_a_constant_of_their_bytes():
    """TF's slot_creator: `<var>/<slot>/Initializer/zeros`, a Fill past 1000 elements, so a GraphDef (a
    FileWriter's add_graph) does not carry every slot's bytes; Adagrad's non-zero start value too."""
    tf.reset_default_graph()
    w = tf.Variable(np.ones([64, 64], np.float32), name="w")
    loss = tf.reduce_sum(tf.square(w))
    adam, adagrad = tf.train.AdamOptimizer(0.1), tf.train.AdagradOptimizer(0.1, initial_accumulator_value=0.25)
    train = tf.group(adam.minimize(loss), adagrad.minimize(loss))
    nodes = {n.name: n for n in tf.get_default_graph().as_graph_def().node}
    assert nodes["w/Adam/Initializer/zeros"].op == "Fill"
    assert nodes["w/Adagrad/Initializer/Const"].op == "Fill"
    assert max(n.ByteSize() for name, n in nodes.items() if name.startswith(("w/Adam", "w/Adagrad"))) < 1000
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        m, accum = sess.run([adam.get_slot(w, "m"), adagrad.get_slot(w, "accumulator")])
        sess.run(train)
    np.testing.assert_array_equal(m, np.zeros([64, 64], np.float32))
    np.testing.assert_array_equal(accum, np.full([64, 64], 0.25, np.float32))
