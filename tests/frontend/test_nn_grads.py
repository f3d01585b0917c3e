"""Gradients of tf.nn ops against central finite differences in float64, and the hand-derived
backprop formulas of USERS.md's "deep learning from the bottom" (softmax-CE, affine, ReLU).

Small inputs are checked element by element; conv and pooling on larger inputs along random
directions (a central difference of f(x + h v), compared with <grad, v>).
"""
import numpy as np
import pytest

import xlite as tf
from tiers import slow_except
import gradcheck

RNG = np.random.default_rng(11)


def check_grad(fn, *arrays, **options):
    return gradcheck.check_grad(fn, *arrays, **{**dict(rng=RNG, atol=1e-7), **options})


def away_from_zero(*shape, low=0.1):
    return RNG.uniform(low, 2.0, shape) * RNG.choice([-1.0, 1.0], shape)


# activations -----------------------------------------------------------------------------
ACTIVATIONS = {
    "relu": tf.nn.relu, "relu6": lambda x: tf.nn.relu6(x * 4), "leaky_relu": lambda x: tf.nn.leaky_relu(x, 0.3),
    "elu": tf.nn.elu, "selu": tf.nn.selu, "softplus": tf.nn.softplus, "softsign": tf.nn.softsign,
    "swish": tf.nn.swish,
}


@pytest.mark.parametrize(*slow_except("name", sorted(ACTIVATIONS), every=2))
@pytest.mark.parametrize(*slow_except("static", [True, False], 1))
def test_activation_grads(name, static):
    check_grad(ACTIVATIONS[name], away_from_zero(3, 4), static=static)


def test_relu_gradient_at_zero_is_zero_like_tf():
    x = tf.constant([-1.0, 0.0, 2.0])
    (g,) = tf.gradients(tf.reduce_sum(tf.nn.relu(x)), x)
    with tf.Session() as s:
        assert s.run(g).tolist() == [0.0, 0.0, 1.0]


def test_softplus_gradient_saturates_without_nan():
    x = tf.constant([-800.0, 0.0, 800.0], tf.float64)
    (g,) = tf.gradients(tf.reduce_sum(tf.nn.softplus(x)), x)
    with tf.Session() as s:
        np.testing.assert_allclose(s.run(g), [0.0, 0.5, 1.0])


# softmax family -------------------------------------------------------------------------
@pytest.mark.parametrize(*slow_except("axis", [-1, 0], 0))
@pytest.mark.parametrize(*slow_except("static", [True, False], 1))
def test_softmax_and_log_softmax_grads(axis, static):
    x = RNG.normal(0, 2, (3, 4))
    check_grad(lambda t: tf.nn.softmax(t, axis=axis), x, static=static)
    check_grad(lambda t: tf.nn.log_softmax(t, axis=axis), x, static=static)


@pytest.mark.slow
def test_softmax_cross_entropy_v2_grads_reach_logits_and_labels():
    logits = RNG.normal(0, 2, (3, 5))
    labels = RNG.dirichlet(np.ones(5), 3)
    check_grad(lambda t, l: tf.nn.softmax_cross_entropy_with_logits_v2(labels=l, logits=t), logits, labels)


def test_softmax_cross_entropy_v1_stops_the_label_gradient():
    labels = tf.constant(np.eye(3))
    logits = tf.constant(RNG.normal(size=(3, 3)))
    loss = tf.reduce_sum(tf.nn.softmax_cross_entropy_with_logits(labels=labels, logits=logits))
    assert tf.gradients(loss, labels) == [None]
    assert tf.gradients(loss, logits)[0] is not None


@pytest.mark.slow
def test_sparse_and_sigmoid_cross_entropy_grads():
    labels = RNG.integers(0, 4, 5)
    check_grad(lambda t: tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=t),
               RNG.normal(0, 2, (5, 4)))
    z = RNG.uniform(0, 1, (3, 4))
    check_grad(lambda t, l: tf.nn.sigmoid_cross_entropy_with_logits(labels=l, logits=t), away_from_zero(3, 4), z)
    check_grad(lambda t, l: tf.nn.weighted_cross_entropy_with_logits(labels=l, logits=t, pos_weight=3.0),
               away_from_zero(3, 4), z)


def test_sigmoid_cross_entropy_gradient_at_zero_logit_is_exact():
    x = tf.constant([0.0, 0.0], tf.float64)
    z = tf.constant([0.0, 1.0], tf.float64)
    (g,) = tf.gradients(tf.reduce_sum(tf.nn.sigmoid_cross_entropy_with_logits(labels=z, logits=x)), x)
    with tf.Session() as s:
        np.testing.assert_allclose(s.run(g), [0.5, -0.5])


# small ops ---------------------------------------------------------------------------------
@pytest.mark.slow
def test_bias_add_l2_loss_and_normalization_grads():
    check_grad(tf.nn.bias_add, RNG.normal(size=(2, 3, 4)), RNG.normal(size=4))
    check_grad(lambda x, b: tf.nn.bias_add(x, b, data_format="NCHW"), RNG.normal(size=(2, 3, 2, 2)),
               RNG.normal(size=3))
    check_grad(tf.nn.bias_add, RNG.normal(size=(2, 3)), RNG.normal(size=3), static=False)
    check_grad(tf.nn.l2_loss, RNG.normal(size=(3, 2)))
    check_grad(lambda x: tf.nn.l2_normalize(x, axis=1), RNG.normal(size=(3, 4)))
    check_grad(lambda x: tf.nn.moments(x, [0])[1], RNG.normal(size=(4, 3)))
    check_grad(lambda x, m, v, o, s: tf.nn.batch_normalization(x, m, v, o, s, 1e-3), RNG.normal(size=(4, 3)),
               RNG.normal(size=3), RNG.uniform(0.5, 2, 3), RNG.normal(size=3), RNG.normal(size=3))


def test_dropout_gradient_is_the_scaled_mask():
    x = tf.constant(np.ones((20, 10)))
    y = tf.nn.dropout(x, rate=0.25, seed=4)
    (g,) = tf.gradients(tf.reduce_sum(y), x)
    with tf.Session() as s:
        got_y, got_g = s.run([y, g])
    np.testing.assert_allclose(got_g, (got_y != 0) / 0.75)


# convolution ----------------------------------------------------------------------------------
CONV_CASES = [
    ((2, 5, 5, 3), (3, 3, 3, 2), [1, 1, 1, 1], "SAME", [1, 1, 1, 1]),
    ((2, 5, 5, 3), (3, 3, 3, 2), [1, 1, 1, 1], "VALID", [1, 1, 1, 1]),
    ((1, 7, 6, 2), (3, 2, 2, 3), [1, 2, 2, 1], "SAME", [1, 1, 1, 1]),
    ((1, 8, 7, 2), (3, 3, 2, 2), [1, 2, 3, 1], "VALID", [1, 1, 1, 1]),
    ((1, 4, 4, 1), (4, 4, 1, 2), [1, 3, 3, 1], "SAME", [1, 1, 1, 1]),
    ((1, 7, 7, 2), (3, 2, 2, 2), [1, 1, 1, 1], "SAME", [1, 2, 2, 1]),
    ((1, 6, 5, 2), (3, 3, 2, 2), [1, 2, 1, 1], [[0, 0], [1, 2], [0, 1], [0, 0]], [1, 1, 1, 1]),
]


@pytest.mark.parametrize(*slow_except("xs,ws,strides,padding,dilations", CONV_CASES, 0))
def test_conv2d_grads(xs, ws, strides, padding, dilations):
    check_grad(lambda x, w: tf.nn.conv2d(x, w, strides, padding, dilations=dilations),
               RNG.normal(size=xs), RNG.normal(size=ws), directions=3, rtol=1e-6)


@pytest.mark.slow
def test_conv2d_grads_elementwise_with_unknown_batch_and_nchw():
    check_grad(lambda x, w: tf.nn.conv2d(x, w, [1, 2, 2, 1], "SAME"), RNG.normal(size=(2, 5, 4, 2)),
               RNG.normal(size=(3, 3, 2, 2)), static=False)
    check_grad(lambda x, w: tf.nn.conv2d(x, w, [1, 1, 2, 1], "SAME", data_format="NCHW"),
               RNG.normal(size=(1, 2, 5, 4)), RNG.normal(size=(2, 3, 2, 3)), directions=3)


@pytest.mark.slow
def test_conv2d_second_order_grads():
    """Gradients of the backprop ops themselves, by differentiating a gradient."""
    def input_grad(x, w):
        y = tf.nn.conv2d(x, w, [1, 2, 2, 1], "SAME")
        return tf.gradients(tf.reduce_sum(tf.square(y)), x)[0]

    def filter_grad(x, w):
        y = tf.nn.conv2d(x, w, [1, 2, 1, 1], "VALID")
        return tf.gradients(tf.reduce_sum(tf.square(y)), w)[0]

    x, w = RNG.normal(size=(1, 5, 5, 2)), RNG.normal(size=(3, 3, 2, 2))
    check_grad(input_grad, x, w, directions=2, rtol=1e-5)
    check_grad(filter_grad, x, w, directions=2, rtol=1e-5)


def test_conv2d_transpose_grads():
    check_grad(lambda y, w: tf.nn.conv2d_transpose(y, w, [1, 7, 6, 3], [1, 2, 2, 1], "SAME"),
               RNG.normal(size=(1, 4, 3, 2)), RNG.normal(size=(3, 3, 3, 2)), directions=3, rtol=1e-6)


# pooling ----------------------------------------------------------------------------------
POOL_CASES = [((1, 6, 6, 2), [1, 2, 2, 1], [1, 2, 2, 1], "VALID"), ((2, 5, 7, 1), [1, 3, 3, 1], [1, 2, 2, 1], "SAME"),
              ((1, 5, 4, 2), [1, 2, 3, 1], [1, 1, 1, 1], "SAME"), ((1, 7, 7, 1), [1, 3, 2, 1], [1, 2, 3, 1], "VALID")]


@pytest.mark.parametrize(*slow_except("xs,k,s,padding", POOL_CASES, 0))
@pytest.mark.slow
def test_pooling_grads(xs, k, s, padding):
    distinct = RNG.permutation(np.prod(xs)).reshape(xs) * 0.1     # no ties, so max pool is differentiable
    check_grad(lambda x: tf.nn.max_pool(x, k, s, padding), distinct, rtol=1e-6)
    check_grad(lambda x: tf.nn.avg_pool(x, k, s, padding), RNG.normal(size=xs), rtol=1e-6)
    check_grad(lambda x: tf.nn.avg_pool(x, k, s, padding), RNG.normal(size=xs), static=False, rtol=1e-6)


def test_max_pool_gradient_goes_to_the_first_maximum():
    x = tf.constant(np.array([1.0, 3.0, 3.0, 0.0]).reshape(1, 2, 2, 1))
    (g,) = tf.gradients(tf.reduce_sum(tf.nn.max_pool(x, 2, 2, "VALID")), x)
    with tf.Session() as s:
        assert s.run(g).reshape(-1).tolist() == [0.0, 1.0, 0.0, 0.0]


@pytest.mark.parametrize(*slow_except("xs,k,s,padding", POOL_CASES, 0))
def test_max_pool_second_and_third_order_are_transposes(xs, k, s, padding):
    """MaxPoolGrad is linear in its gradient g (dx = S g), so its gradient must be S's transpose,
    <S g, c> = <g, S^T c>, and the gradient of that S again; S itself is checked above."""
    x = tf.constant(RNG.permutation(np.prod(xs)).reshape(xs) * 0.1)
    y = tf.nn.max_pool(x, k, s, padding)
    g, c = tf.constant(RNG.normal(size=y.shape.as_list())), tf.constant(RNG.normal(size=xs))
    (dx,) = tf.gradients(tf.reduce_sum(y * g), x)
    (st_c,) = tf.gradients(tf.reduce_sum(dx * c), g)
    e = tf.constant(RNG.normal(size=y.shape.as_list()))
    (s_e,) = tf.gradients(tf.reduce_sum(st_c * e), c)
    with tf.Session() as sess:
        gv, cv, ev, dxv, st_cv, s_ev = sess.run([g, c, e, dx, st_c, s_e])
    np.testing.assert_allclose(np.sum(dxv * cv), np.sum(gv * st_cv), rtol=1e-10)
    np.testing.assert_allclose(np.sum(st_cv * ev), np.sum(cv * s_ev), rtol=1e-10)


def test_max_pool_second_order_reads_the_first_maximum():
    x = tf.constant(np.array([1.0, 3.0, 3.0, 0.0]).reshape(1, 2, 2, 1))
    g = tf.constant(np.ones((1, 1, 1, 1)))
    (dx,) = tf.gradients(tf.reduce_sum(tf.nn.max_pool(x, 2, 2, "VALID") * g), x)
    (dg,) = tf.gradients(tf.reduce_sum(dx * np.array([10.0, 20.0, 30.0, 40.0]).reshape(1, 2, 2, 1)), g)
    with tf.Session() as sess:
        assert sess.run(dg).reshape(-1).tolist() == [20.0]


@pytest.mark.slow
def test_avg_pool_second_order():
    def grad(x):
        return tf.gradients(tf.reduce_sum(tf.square(tf.nn.avg_pool(x, [1, 3, 3, 1], [1, 2, 2, 1], "SAME"))), x)[0]
    check_grad(grad, RNG.normal(size=(1, 5, 5, 1)))


# deep learning from the bottom ---------------------------------------------------------------
def test_softmax_cross_entropy_gradient_is_softmax_minus_labels_over_n():
    n, classes = 6, 3
    x_np = RNG.normal(0, 2, (n, classes)).astype(np.float32)
    t_np = np.eye(classes, dtype=np.float32)[RNG.integers(0, classes, n)]
    x = tf.constant(x_np)
    loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels=t_np, logits=x))
    (g,) = tf.gradients(loss, x)
    with tf.Session() as s:
        got, y = s.run([g, tf.nn.softmax(x)])
    np.testing.assert_allclose(got, (y - t_np) / n, rtol=1e-6, atol=1e-7)


def test_affine_relu_backward_matches_the_hand_derived_formulas():
    x_np = RNG.normal(size=(5, 3)).astype(np.float32)
    w_np = RNG.normal(size=(3, 4)).astype(np.float32)
    b_np = RNG.normal(size=4).astype(np.float32)
    dout_np = RNG.normal(size=(5, 4)).astype(np.float32)
    x, w, b = tf.constant(x_np), tf.constant(w_np), tf.constant(b_np)
    affine = tf.matmul(x, w) + b
    dx, dw, db = tf.gradients(affine, [x, w, b], grad_ys=dout_np)
    relu = tf.nn.relu(affine)
    (d_affine,) = tf.gradients(relu, affine, grad_ys=dout_np)
    with tf.Session() as s:
        got_dx, got_dw, got_db, got_d_affine, a = s.run([dx, dw, db, d_affine, affine])
    np.testing.assert_allclose(got_dx, dout_np @ w_np.T, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(got_dw, x_np.T @ dout_np, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(got_db, dout_np.sum(0), rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(got_d_affine, np.where(a > 0, dout_np, 0))


def test_three_layer_net_backprop_matches_manual_backprop():
    """The colour classifier's net (3 -> 50 -> 3 here), backpropagated by hand in NumPy."""
    n = 8
    x_np = RNG.uniform(0, 1, (n, 3))
    t_np = np.eye(3)[RNG.integers(0, 3, n)]
    w1, b1 = RNG.normal(0, 0.5, (3, 50)), RNG.normal(0, 0.1, 50)
    w2, b2 = RNG.normal(0, 0.5, (50, 3)), RNG.normal(0, 0.1, 3)
    params = [tf.constant(p) for p in (w1, b1, w2, b2)]
    h = tf.nn.relu(tf.matmul(tf.constant(x_np), params[0]) + params[1])
    logits = tf.matmul(h, params[2]) + params[3]
    loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels=t_np, logits=logits))
    with tf.Session() as s:
        got = s.run(tf.gradients(loss, params))
    a1 = x_np @ w1 + b1
    h_np = np.maximum(a1, 0)
    z = h_np @ w2 + b2
    y = np.exp(z - z.max(1, keepdims=True))
    y /= y.sum(1, keepdims=True)
    dz = (y - t_np) / n
    dh = dz @ w2.T
    da1 = dh * (a1 > 0)
    expected = [x_np.T @ da1, da1.sum(0), h_np.T @ dz, dz.sum(0)]
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, rtol=1e-10, atol=1e-12)
