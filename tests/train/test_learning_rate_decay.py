"""tf.train's learning-rate schedules against their formulas in NumPy, at step 0, inside and past
decay_steps and on staircase/cycle boundaries, on both targets; against TensorFlow where it imports."""
import numpy as np
import pytest

import xlite as tf

STEPS = [0, 1, 4, 5, 6, 9, 10, 11, 23]
LR, DECAY_STEPS, RATE = 0.1, 5, 0.5


def _exponential(s, staircase):
    p = np.floor(s / DECAY_STEPS) if staircase else s / DECAY_STEPS
    return LR * RATE ** p


def _inverse_time(s, staircase):
    p = np.floor(s / DECAY_STEPS) if staircase else s / DECAY_STEPS
    return LR / (1 + RATE * p)


def _natural_exp(s, staircase):
    p = np.floor(s / DECAY_STEPS) if staircase else s / DECAY_STEPS
    return LR * np.exp(-RATE * p)


def _polynomial(s, cycle, end=0.01, power=2.0):
    steps = DECAY_STEPS * max(1.0, np.ceil(s / DECAY_STEPS)) if cycle else DECAY_STEPS
    return (LR - end) * (1 - min(s, steps) / steps) ** power + end


def _cosine(s, alpha=0.2):
    fraction = min(s, DECAY_STEPS) / DECAY_STEPS
    return LR * ((1 - alpha) * 0.5 * (1 + np.cos(np.pi * fraction)) + alpha)


def _piecewise(s, boundaries=(3, 7), values=(1.0, 0.5, 0.1)):
    return values[int(np.searchsorted(boundaries, s, side="left"))]   # s == boundary keeps the lower piece


def _schedules(module, gs):
    """(xlite or TF schedule, NumPy formula of the step) pairs; `module` is xlite or tf.compat.v1."""
    t = module.train
    cases = []
    for flag in (False, True):
        cases += [
            (t.exponential_decay(LR, gs, DECAY_STEPS, RATE, staircase=flag), lambda s, f=flag: _exponential(s, f)),
            (t.inverse_time_decay(LR, gs, DECAY_STEPS, RATE, staircase=flag), lambda s, f=flag: _inverse_time(s, f)),
            (t.natural_exp_decay(LR, gs, DECAY_STEPS, RATE, staircase=flag), lambda s, f=flag: _natural_exp(s, f)),
            (t.polynomial_decay(LR, gs, DECAY_STEPS, end_learning_rate=0.01, power=2.0, cycle=flag),
             lambda s, f=flag: _polynomial(s, f)),
        ]
    cases += [
        (t.polynomial_decay(LR, gs, DECAY_STEPS), lambda s: _polynomial(s, False, end=0.0001, power=1.0)),
        (t.cosine_decay(LR, gs, DECAY_STEPS, alpha=0.2), _cosine),
        (t.cosine_decay(LR, gs, DECAY_STEPS), lambda s: _cosine(s, alpha=0.0)),
        (t.piecewise_constant(gs, [3, 7], [1.0, 0.5, 0.1]), _piecewise),
        (t.piecewise_constant_decay(gs, [4], [2.0, 1.0]), lambda s: _piecewise(s, (4,), (2.0, 1.0))),
    ]
    return cases


def _run_xlite(target, steps=STEPS):
    tf.reset_default_graph()
    gs = tf.train.get_or_create_global_step()
    cases = _schedules(tf, gs)
    with tf.Session(target=target) as sess:
        sess.run(tf.global_variables_initializer())
        got = []
        for s in steps:
            gs.load(s, sess)
            got.append(sess.run([lr for lr, _ in cases]))
    return cases, np.array(got)


@pytest.mark.parametrize("target", ["cpu", "interpreter"])
def test_schedules_follow_their_formulas(target):
    cases, got = _run_xlite(target)
    want = np.array([[formula(s) for _, formula in cases] for s in STEPS])
    assert all(lr.dtype == tf.float32 and lr.shape.as_list() == [] for lr, _ in cases)
    np.testing.assert_allclose(got, want, rtol=2e-6, atol=1e-9)


def test_schedules_match_tensorflow():
    tfv1 = pytest.importorskip("tensorflow").compat.v1
    graph = tfv1.Graph()
    with graph.as_default():
        gs = tfv1.train.get_or_create_global_step()
        lrs = [lr for lr, _ in _schedules(tfv1, gs)]
        with tfv1.Session(graph=graph) as sess:
            sess.run(tfv1.global_variables_initializer())
            want = []
            for s in STEPS:
                sess.run(gs.assign(s))
                want.append(sess.run(lrs))
    _, got = _run_xlite("cpu")
    np.testing.assert_allclose(got, np.array(want), rtol=1e-6)


def test_names_dtype_and_step_types_follow_tf():
    tf.reset_default_graph()
    gs = tf.train.get_or_create_global_step()
    assert tf.train.exponential_decay(0.1, gs, 10, 0.5).name == "ExponentialDecay:0"
    assert tf.train.natural_exp_decay(0.1, gs, 10, 0.5).name == "ExponentialDecay_1:0"   # TF 2 builds it so
    assert tf.train.inverse_time_decay(0.1, gs, 10, 0.5).name == "InverseTimeDecay:0"
    assert tf.train.polynomial_decay(0.1, gs, 10, name="lr").name == "lr:0"
    assert tf.train.cosine_decay(0.1, gs, 10).op.name.startswith("CosineDecay/")
    assert tf.train.piecewise_constant(gs, [3], [1.0, 2.0]).op.name.startswith("PiecewiseConstant/")
    lr64 = tf.train.exponential_decay(tf.constant(0.1, tf.float64), gs, 10, 0.5)
    assert lr64.dtype == tf.float64
    step32 = tf.placeholder(tf.int32, [])
    ints = tf.train.piecewise_constant(step32, [3], [10, 20])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert sess.run(lr64, feed_dict={gs: 15}) == pytest.approx(0.1 * 0.5 ** 1.5, rel=1e-12)
        assert [sess.run(ints, feed_dict={step32: s}) for s in (3, 4)] == [10, 20]
        assert ints.dtype == tf.int32


def test_piecewise_constant_nan_step_gets_the_first_value_like_tf_case_default():
    tf.reset_default_graph()
    x = tf.placeholder(tf.float32, [])
    lr = tf.train.piecewise_constant(x, [1.0, 2.0], [5.0, 6.0, 7.0])
    with tf.Session() as sess:
        got = [sess.run(lr, feed_dict={x: v}) for v in (np.nan, 1.0, 1.5, 2.5)]
    assert got == [5.0, 5.0, 6.0, 7.0]


@pytest.mark.parametrize("build,error,match", [
    (lambda gs: tf.train.exponential_decay(0.1, None, 10, 0.5), ValueError, "global_step is required"),
    (lambda gs: tf.train.cosine_decay(0.1, None, 10), ValueError, "global_step is required for cosine_decay"),
    (lambda gs: tf.train.exponential_decay(1, gs, 10, 0.5), TypeError, "floating-point"),
    (lambda gs: tf.train.piecewise_constant(gs, [3.0], [1.0, 0.5]), ValueError, "Boundaries .float32."),
    (lambda gs: tf.train.piecewise_constant(gs, [3], [1.0, 2]), ValueError, "same dtype .float32 vs int32"),
    (lambda gs: tf.train.piecewise_constant(gs, [3, 4], [1.0, 2.0]), ValueError, "1 less than"),
    (lambda gs: tf.train.piecewise_constant(gs, [], [1.0]), ValueError, "at least one boundary"),
])
def test_bad_input_raises_tf_errors(build, error, match):
    tf.reset_default_graph()
    with pytest.raises(error, match=match):
        build(tf.train.get_or_create_global_step())


def test_compat_v1_exports_the_schedules():
    import xlite.compat.v1 as v1
    for name in ("exponential_decay", "inverse_time_decay", "natural_exp_decay", "polynomial_decay",
                 "piecewise_constant", "piecewise_constant_decay", "cosine_decay"):
        assert getattr(v1.train, name) is getattr(tf.train, name)
